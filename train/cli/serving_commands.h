// The serving subcommands of the gnnrec command line (docs/serving.md):
//   export     a run's factors as .npy files, its id maps and a model card
//   recommend  top-K items for one user (a table) or many (NAME<TAB>IDS lines)
//   fold-in    recommendations for a user or item that was not in training
//   serve      an HTTP/JSON service (serve/)
// Errors are thrown as for every other command: main() prints one line
// "gnnrec: error: ..." and exits 1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace gnnrec {

class ServingCommands {
 public:
  // Adds the four subcommands to `app`; their options parse into this object,
  // which must outlive the parse.
  explicit ServingCommands(CLI::App& app);
  // The exit status of the subcommand that was parsed, if it is one of these.
  std::optional<int> run() const;

 private:
  void add_common(CLI::App* cmd);
  void add_k(CLI::App* cmd, const std::string& help);
  void add_index(CLI::App* cmd);
  int run_export() const;
  int run_recommend() const;
  int run_fold_in() const;
  int run_serve() const;

  CLI::App *export_ = nullptr, *recommend_ = nullptr, *fold_in_ = nullptr, *serve_ = nullptr;
  std::string run_dir_, which_ = "best", out_;
  int64_t k_ = 10;
  int threads_ = 0;
  // recommend
  std::string user_, users_, exclude_ = "train", items_file_;
  // --index hnsw and its search list
  std::string index_;
  int64_t ef_ = 100;
  // fold-in
  std::string user_items_, item_users_, new_users_;
  std::optional<double> l2_;
  // serve
  std::string host_ = "127.0.0.1";
  int port_ = 8080;
  int workers_ = 4;
  int64_t max_k_ = 1000;
};

}  // namespace gnnrec
