// The fully resolved training configuration: what the CLI flags, a config
// file and the defaults resolve to, written as RUN_DIR/config.json.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gnnrec {

struct TrainConfig {
  // What to train on what.
  std::string model = "lightgcn";
  std::string dataset = "synthetic";  // a directory, or "synthetic"
  std::string out;                    // run directory
  // Data preparation (applied in this order: min_rating, kcore, split).
  std::string split = "per-user";     // used when the data set ships no split
  double train_ratio = 0.8;
  double min_rating = 0;              // 0: keep every interaction
  int kcore = 0;
  // Synthetic data set (dataset == "synthetic").
  int64_t synthetic_users = 3000;
  int64_t synthetic_items = 2000;
  // Model.
  int64_t dim = 64;
  int64_t layers = 3;
  // Optimisation.
  std::string loss = "bpr";
  int64_t epochs = 100;
  int64_t batch_size = 2048;
  double lr = 1e-3;
  double reg = 1e-4;                  // L2 on the batch's ego embeddings
  uint64_t seed = 2020;
  // Evaluation and stopping.
  int64_t eval_every = 5;
  std::vector<int> topk{10, 20};
  std::string early_stop_metric = "recall@20";
  int64_t patience = 10;              // evaluations without improvement; 0: never stop early
  // Execution.
  std::string device = "cpu";
  int threads = 0;                    // 0: all cores

  // Throws std::invalid_argument naming the option ("--lr must be > 0, got -1").
  void validate() const;
};

void to_json(nlohmann::json& j, const TrainConfig& c);
void from_json(const nlohmann::json& j, TrainConfig& c);

}  // namespace gnnrec
