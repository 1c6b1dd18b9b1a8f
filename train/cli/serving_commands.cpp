#include "train/cli/serving_commands.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "base/file_io.h"
#include "serve/http_server.h"
#include "serve/service.h"
#include "train/config_fields.h"
#include "train/evaluation.h"
#include "train/evaluator.h"
#include "train/export.h"
#include "train/fold_in.h"
#include "train/id_files.h"
#include "train/recommend.h"
#include "train/run_index.h"
#include "train/serving_run.h"

namespace gnnrec {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void note(const std::string& line) { std::fprintf(stderr, "gnnrec: note: %s\n", line.c_str()); }

// The table of `recommend --user` and `fold-in --user-items/--item-users`.
void print_table(const char* column, const Ranked& r, const IdMap& ids) {
  std::printf("rank\t%s\tscore\n", column);
  for (size_t j = 0; j < r.ids.size(); ++j) {
    std::printf("%zu\t%s\t%.5f\n", j + 1, ids.raw(r.ids[j]).c_str(), r.scores[j]);
  }
}

IdSpace id_space(const ServingRun& s, bool users) {
  return {users ? s.user_ids() : s.item_ids(), users ? "user" : "item", s.run.config.dataset,
          s.run.data.dataset.format};
}

// Lines to `out` (atomically) or to stdout when no --out is given.
void emit(const std::string& out, const std::string& text) {
  if (out.empty()) std::fputs(text.c_str(), stdout);
  else write_file_atomic(out, text);
}

std::unique_ptr<AnnIndex> open_index(const ServingRun& s, const std::string& kind, int64_t ef) {
  if (kind.empty()) return nullptr;
  AnnParams params;
  params.ef_search = ef;
  return open_run_index(s, params, note);
}

at::Device model_device(const ServingRun& s) {
  return s.run.model->parameters().front().tensor.device();
}

int32_t user_of(const LoadedRun& r, const std::string& raw) {
  const IdMap& ids = r.data.dataset.users;
  const int32_t u = find_raw_id(ids, raw, r.data.dataset.format);
  if (u < 0) {
    throw std::invalid_argument(
        "--user " + unknown_id_message(ids, raw, "user", r.config.dataset, r.data.dataset.format));
  }
  return u;
}

// The items user u may be recommended under the options: the candidates
// (or all items) less its training items when they are excluded.
int64_t available_items(const ServingRun& s, int32_t u, const RecommendOptions& o) {
  const BipartiteGraph& train = s.train();
  const int64_t all =
      o.candidates.empty() ? train.num_items() : static_cast<int64_t>(o.candidates.size());
  if (!o.exclude_train) return all;
  if (o.candidates.empty()) return all - train.user_degree(u);
  int64_t seen = 0;
  for (int64_t e = train.user_offsets()[u]; e < train.user_offsets()[u + 1]; ++e) {
    seen += std::binary_search(o.candidates.begin(), o.candidates.end(), train.user_items()[e]);
  }
  return all - seen;
}

// `recommend --user`: the table, and a note when the user has no training
// interactions or fewer than k items are left.
int recommend_one(const ServingRun& s, const Recommender& rec, const RecommendOptions& o,
                  const std::string& raw, int64_t k) {
  const int32_t u = user_of(s.run, raw);
  if (s.train().user_degree(u) == 0) {
    note("user '" + raw +
         "' has no training interactions; the ranking is the model's prior, not learned from "
         "the user");
  }
  const int64_t left = available_items(s, u, o);
  if (left < k) {
    const std::string n = std::to_string(left);
    const std::string what =
        o.exclude_train && o.candidates.empty()
            ? (left == 1 ? " item" : " items") + std::string(" not seen in training")
            : (left == 1 ? " candidate item" : " candidate items") + std::string(" left");
    note("user '" + raw + "' has only " + n + what + "; listing " + n + ", not --k " +
         std::to_string(k));
  }
  print_table("item", rec.top_k({u}, k)[0], s.item_ids());
  return 0;
}

// `recommend` for a model that ranks by score rows (gfcf, bspm): the
// evaluator's masked top-k of its rows, training items always excluded.
// `users_arg` is "" (one user, `raw`), "all" or a file of raw ids.
int recommend_rows(LoadedRun r, const std::string& raw, const std::string& users_arg, int64_t k,
                   const std::string& out) {
  const IdMap& user_ids = r.data.dataset.users;
  const IdMap& item_ids = r.data.dataset.items;
  const BipartiteGraph& train = *r.data.train;
  std::vector<int64_t> users;
  if (!raw.empty()) {
    users.push_back(user_of(r, raw));
  } else if (users_arg == "all") {
    for (int32_t u = 0; u < user_ids.size(); ++u) users.push_back(u);
  } else {
    for (int32_t u :
         read_id_list(users_arg, {user_ids, "user", r.config.dataset, r.data.dataset.format})) {
      users.push_back(u);
    }
  }
  const Evaluator ev(train, *r.data.test, r.config.topk);
  const int64_t kk = std::min<int64_t>(k, train.num_items());
  std::string text;
  at::Tensor items, scores;                         // of the chunk of users holding user j
  constexpr size_t kChunk = Evaluator::kRowsChunk;  // [chunk, items] score rows at a time
  for (size_t j = 0; j < users.size(); ++j) {
    if (j % kChunk == 0) {
      const std::vector<int64_t> chunk(users.begin() + j,
                                       users.begin() + std::min(users.size(), j + kChunk));
      std::tie(items, scores) = top_items_of(*r.model, ev, chunk, kk);
      items = items.contiguous(), scores = scores.contiguous();
    }
    const int64_t row = static_cast<int64_t>(j % kChunk);
    const int64_t* ip = items.data_ptr<int64_t>() + row * items.size(1);
    const float* sp = scores.data_ptr<float>() + row * scores.size(1);
    Ranked ranked;
    for (int64_t c = 0; c < items.size(1); ++c) {
      if (std::isinf(sp[c]) && sp[c] < 0) break;  // a training item: none left
      ranked.ids.push_back(static_cast<int32_t>(ip[c]));
      ranked.scores.push_back(sp[c]);
    }
    if (!raw.empty()) {
      if (static_cast<int64_t>(ranked.ids.size()) < k) {
        note("user '" + raw + "' has only " + std::to_string(ranked.ids.size()) +
             " items not seen in training; listing " + std::to_string(ranked.ids.size()) +
             ", not --k " + std::to_string(k));
      }
      print_table("item", ranked, item_ids);
      return 0;
    }
    text += list_line(user_ids.raw(static_cast<int32_t>(users[j])), ranked, item_ids);
  }
  emit(out, text);
  return 0;
}

}  // namespace

ServingCommands::ServingCommands(CLI::App& app) {
  export_ = app.add_subcommand(
      "export", "write a run's factors (users.npy, items.npy), raw-id maps and card.json");
  recommend_ = app.add_subcommand(
      "recommend", "top-K items for one user (--user) or for many (--users all|FILE)");
  fold_in_ = app.add_subcommand("fold-in",
                                "recommend for a user (or item) that was not in training, from its "
                                "interactions, without retraining");
  serve_ = app.add_subcommand(
      "serve",
      "answer over HTTP/JSON: GET /recommend, POST /recommend (fold-in), GET /similar, "
      "GET /health");
  for (CLI::App* cmd : {export_, recommend_, fold_in_, serve_}) add_common(cmd);
  export_
      ->add_option("--out", out_,
                   "directory for users.npy, items.npy, user_ids.txt, item_ids.txt, card.json")
      ->required();

  CLI::Option* one = recommend_->add_option(
      "--user", user_, "one user's raw id, as written in the data set: prints rank/item/score");
  CLI::Option* many =
      recommend_->add_option("--users", users_,
                             "'all', or a file of raw user ids (one per line): one line per user, "
                             "USER<TAB>ITEM,ITEM,... best first");
  one->excludes(many);
  add_k(recommend_, "items per user (fewer when fewer are left after the exclusions)");
  recommend_->add_option("--out", out_, "with --users: write the lines to this file (atomically)");
  recommend_
      ->add_option("--exclude", exclude_,
                   "leave out each user's training items (train) or rank every item (none)")
      ->capture_default_str()
      ->check(CLI::IsMember({"train", "none"}));
  recommend_->add_option("--items", items_file_,
                         "rank only the items in this file (raw ids, one per line)");
  recommend_->add_option("--threads", threads_, "CPU threads for scoring (0: the run's --threads)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  add_index(recommend_);

  CLI::Option* a = fold_in_->add_option(
      "--user-items", user_items_,
      "a new user's items, raw ids separated by commas: prints its top-K items");
  CLI::Option* b = fold_in_->add_option(
      "--item-users", item_users_,
      "a new item's users, raw ids separated by commas: prints the K users who score it highest");
  CLI::Option* c = fold_in_->add_option(
      "--new-users", new_users_,
      "a file of new users, NAME<TAB>ITEM,ITEM,... per line: one line per user, "
      "NAME<TAB>ITEM,... best first");
  a->excludes(b)->excludes(c);
  b->excludes(c);
  add_k(fold_in_, "how many items (users for --item-users)");
  const FieldInfo l2_row{"l2", "", Bounds::at_least(0)};
  fold_in_
      ->add_option_function<std::string>(
          "--l2",
          [this, l2_row](const std::string& text) {
            l2_ = parse_number_text(l2_row, "--l2", text);
          },
          "mf, transe, transr: the ridge weight of the least-squares fold-in; " +
              bounds_text(l2_row.bounds))
      ->type_name("FLOAT")
      ->default_str("|items| x the mean squared norm of the item vectors");
  fold_in_->add_option("--out", out_, "with --new-users: write the lines to this file");
  add_index(fold_in_);

  serve_->add_option("--port", port_, "TCP port (0: any free port; the one bound is printed)")
      ->required()
      ->check(CLI::Range(0, 65535));
  serve_->add_option("--host", host_, "address to listen on (the default: this machine only)")
      ->capture_default_str();
  serve_->add_option("--threads", workers_, "worker threads answering requests")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  serve_->add_option("--max-k", max_k_, "largest k a request may ask for")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  add_index(serve_);
}

void ServingCommands::add_common(CLI::App* cmd) {
  cmd->add_option("--run", run_dir_, "run directory written by 'gnnrec train'")->required();
  cmd->add_option("--checkpoint", which_, "best or last")
      ->capture_default_str()
      ->check(CLI::IsMember({"best", "last"}));
}

void ServingCommands::add_k(CLI::App* cmd, const std::string& help) {
  // Parsed like the table's integers: out of range is an error, not wrapped.
  const FieldInfo k_row{"k", "", Bounds::integers(1, kMaxId)};
  cmd->add_option_function<std::string>(
         "--k",
         [this, k_row](const std::string& text) { k_ = parse_integer_text(k_row, "--k", text); },
         help + "; " + bounds_text(k_row.bounds))
      ->type_name("INT")
      ->default_str(std::to_string(k_));
}

void ServingCommands::add_index(CLI::App* cmd) {
  cmd->add_option("--index", index_,
                  "approximate top-K through the run's HNSW index (built on first use into "
                  "RUN/index/)")
      ->check(CLI::IsMember({"hnsw"}));
  cmd->add_option("--ef", ef_, "HNSW candidate list per query: larger is more exact and slower")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
}

std::optional<int> ServingCommands::run() const {
  if (*export_) return run_export();
  if (*recommend_) return run_recommend();
  if (*fold_in_) return run_fold_in();
  if (*serve_) return run_serve();
  return std::nullopt;
}

int ServingCommands::run_export() const {
  const ServingRun s = load_serving_run(run_dir_, which_);
  export_run(s, out_);
  std::printf(
      "wrote %s: users.npy [%lld, %lld], items.npy [%lld, %lld], user_ids.txt, "
      "item_ids.txt, card.json (%s, %s checkpoint, epoch %lld)\n",
      out_.c_str(), static_cast<long long>(s.users.size(0)),
      static_cast<long long>(s.users.size(1)), static_cast<long long>(s.items.size(0)),
      static_cast<long long>(s.items.size(1)), s.run.config.model.c_str(), s.which.c_str(),
      static_cast<long long>(s.run.epoch));
  return 0;
}

int ServingCommands::run_recommend() const {
  if (user_.empty() && users_.empty()) {
    throw std::invalid_argument("recommend needs --user ID or --users all|FILE");
  }
  if (!out_.empty() && users_.empty()) {
    throw std::invalid_argument("--out writes the lines of --users; --user prints a table");
  }
  if (!index_.empty() && !items_file_.empty()) {
    throw std::invalid_argument(
        "--index hnsw cannot be combined with --items: the index ranks every item");
  }
  LoadedRun r = load_run(run_dir_, which_);
  if (threads_ > 0) at::set_num_threads(threads_);
  if (r.model->ranks_rows()) {
    if (!index_.empty() || !items_file_.empty() || exclude_ != "train") {
      throw std::invalid_argument("--model " + r.config.model +
                                  " ranks rows of an item-item filter: recommend takes no "
                                  "--index, --items or --exclude none for it");
    }
    return recommend_rows(std::move(r), user_, users_, k_, out_);
  }
  const ServingRun s = serving_of(run_dir_, which_, std::move(r));
  RecommendOptions o;
  o.exclude_train = exclude_ == "train";
  o.device = model_device(s);
  if (!items_file_.empty()) {
    o.candidates = read_id_list(items_file_, id_space(s, false));
    std::sort(o.candidates.begin(), o.candidates.end());
    o.candidates.erase(std::unique(o.candidates.begin(), o.candidates.end()), o.candidates.end());
  }
  const std::unique_ptr<AnnIndex> index = open_index(s, index_, ef_);
  const Recommender rec(s, o, index.get());
  if (!user_.empty()) return recommend_one(s, rec, o, user_, k_);

  std::vector<int32_t> users;
  if (users_ == "all") {
    for (int32_t u = 0; u < s.user_ids().size(); ++u) users.push_back(u);
  } else {
    users = read_id_list(users_, id_space(s, true));
  }
  const double t0 = now_s();
  const std::vector<Ranked> ranked = rec.top_k(users, k_);
  std::string text;
  for (size_t j = 0; j < users.size(); ++j) {
    text += list_line(s.user_ids().raw(users[j]), ranked[j], s.item_ids());
  }
  emit(out_, text);
  if (!out_.empty()) {
    std::printf("wrote %s: %zu users, top %lld items each (%s; %s) in %.2f s\n", out_.c_str(),
                users.size(), static_cast<long long>(k_), index ? "hnsw index" : "exact",
                o.exclude_train ? "training items excluded" : "nothing excluded", now_s() - t0);
  }
  return 0;
}

int ServingCommands::run_fold_in() const {
  if (user_items_.empty() && item_users_.empty() && new_users_.empty()) {
    throw std::invalid_argument(
        "fold-in needs --user-items ID,ID,..., --item-users ID,ID,... or --new-users FILE");
  }
  if (!out_.empty() && new_users_.empty()) {
    throw std::invalid_argument("--out writes the lines of --new-users; the others print a table");
  }
  const ServingRun s = load_serving_run(run_dir_, which_);
  const std::unique_ptr<FoldIn> fold = make_fold_in(s, l2_);
  const std::unique_ptr<AnnIndex> index = open_index(s, index_, ef_);
  const Recommender rec(s, RecommendOptions{}, index.get());
  if (!user_items_.empty()) {
    const std::vector<int32_t> items =
        parse_id_list(user_items_, id_space(s, false), "--user-items");
    print_table("item", rec.top_k_for(fold->new_user(items), k_, items, index != nullptr),
                s.item_ids());
  } else if (!item_users_.empty()) {
    const std::vector<int32_t> users =
        parse_id_list(item_users_, id_space(s, true), "--item-users");
    print_table("user", top_k_rows(s.users, fold->new_item(users), k_, users), s.user_ids());
  } else {
    std::string text;
    for (const auto& [name, items] : read_lists(new_users_, id_space(s, false))) {
      const Ranked r = rec.top_k_for(fold->new_user(items), k_, items, index != nullptr);
      text += list_line(name, r, s.item_ids());
    }
    emit(out_, text);
  }
  return 0;
}

int ServingCommands::run_serve() const {
  // Before anything starts a thread (serve/http_server.h).
  block_stop_signals();
  const ServingRun s = load_serving_run(run_dir_, which_);
  const std::unique_ptr<AnnIndex> index = open_index(s, index_, ef_);
  const Recommender rec(s, RecommendOptions{}, index.get());
  std::unique_ptr<FoldIn> fold;
  std::string no_fold_in;
  try {
    fold = make_fold_in(s);
  } catch (const std::invalid_argument& e) {
    no_fold_in = e.what();
  }
  const Service service(s, rec, fold.get(), no_fold_in, max_k_);
  // One thread per request: the workers are the parallelism.
  at::set_num_threads(1);
  const int sig = run_http_server(service, HttpOptions{host_, port_, workers_});
  std::printf("stopped (%s)\n", sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "done");
  return 0;
}

}  // namespace gnnrec
