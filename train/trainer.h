// The training loop and the run directory it writes:
//   RUN_DIR/config.json     the fully resolved configuration
//   RUN_DIR/metrics.jsonl   one JSON object per evaluation
//   RUN_DIR/summary.json    best epoch and its metrics, timings, versions
//   RUN_DIR/checkpoints/    last.ckpt (every epoch) and best.ckpt, atomic
// Nothing in RUN_DIR is touched before the configuration, the data and the
// model have been checked, so bad input leaves an existing run intact.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "graph/ctr_split.h"
#include "graph/interactions.h"
#include "models/model.h"
#include "models/propagation_graph.h"
#include "train/config.h"
#include "train/evaluator.h"

namespace gnnrec {

// The data set after filtering and splitting, with its graphs.
struct PreparedData {
  Dataset dataset;
  std::shared_ptr<const BipartiteGraph> train;
  std::shared_ptr<const BipartiteGraph> test;
  // The knowledge graph or side information beside the interactions
  // (graph/kg_loaders.h: load_side_graph), aligned with the final ids; nullptr
  // when the data set has none or the configuration turns it off (side_info).
  std::shared_ptr<const TypedGraph> side;
  // --protocol ctr: the labelled records (graph/ctr_split.h); `train` and
  // `test` are then the label-1 records of their parts. Unset otherwise.
  std::optional<CtrSplit> ctr;
};

// Loads cfg.dataset (a directory, through the binary cache, or the built-in
// synthetic data), drops duplicate pairs, applies min_rating, kcore and the
// split (unless the data set ships one; under --protocol ctr, the CTR
// records and their 6:2:2 split instead, which a data set that ships a
// split cannot have), and builds the graphs. Throws DataError (file and line
// for bad files) or std::invalid_argument.
PreparedData prepare_data(const TrainConfig& cfg);

struct TrainOptions {
  bool resume = false;     // continue from RUN_DIR/checkpoints/last.ckpt
  bool overwrite = false;  // replace an existing run in RUN_DIR
  bool quiet = false;      // no progress output
};

// The best epoch and early stopping on one metric, in that metric's
// direction (lower_is_better in train/metrics.h).
struct EarlyStopping {
  std::string metric;
  int64_t patience = 0;    // evaluations without improvement before stopping; 0: never
  int64_t best_epoch = 0;  // 0: nothing recorded yet
  double best_value = 0;
  int64_t bad_evals = 0;   // evaluations since the best one

  // Records one evaluation's value of `metric`; true when it is a new best
  // (strictly better, or the first; never NaN).
  bool update(int64_t epoch, double value);
  bool should_stop() const { return patience > 0 && bad_evals >= patience; }
};

// The model hyper-parameters of a configuration: what train() and
// load_run() build the model with.
ModelOptions model_options(const TrainConfig& cfg);

// Trains cfg.model and returns the summary (also written to summary.json).
// The loss (cfg.loss), per batch of training pairs (u, i), with s = score():
//   --protocol ctr: mean binary cross-entropy with logits of the batch's
//        labelled training records (their own negatives, none sampled);
//   bpr: mean softplus(s(u, j) − s(u, i)), one uniform negative j per pair
//   bce: mean binary cross-entropy with logits over the pairs (label 1) and
//        cfg.negatives uniform negatives per pair (label 0)
//   mse: mean (s(u, i) − rating)² over the pairs (rating mode, no negatives)
// plus cfg.reg · ½ ‖ego embeddings of the batch's users and items‖² / batch.
nlohmann::json train(const TrainConfig& cfg, const TrainOptions& opts);

// With cfg.cold_fraction > 0, adds the group "cold" of
// evaluator.coldest_test_users(cfg.cold_fraction) to the evaluator (its
// metrics are keyed "cold/recall@20", ...) and returns those users; else
// returns nothing and adds nothing.
std::vector<int64_t> add_cold_users(Evaluator& evaluator, const TrainConfig& cfg);

// Evaluates in evaluation mode (set_training(false), no gradients): the
// ranking metrics of model.ranking(), and in rating mode also rmse and mae of
// score() on the test pairs.
EvalResult evaluate_model(Model& model, const Evaluator& evaluator, bool rating_mode);

// --protocol ctr: the CTR metrics (train/metrics.h ctr_metrics: auc, acc,
// f1, logloss) of score() on `records`, in evaluation mode, at most
// pairs_per_call records per represent() call.
EvalResult evaluate_ctr(Model& model, const CtrRecords& records, int64_t pairs_per_call = 65536);

// The baseline reported beside the model: the popularity ranking, or in
// rating mode the global mean training rating ("global_mean", rmse and mae).
struct Baseline {
  std::string name;
  EvalResult result;
};
Baseline evaluate_baseline(const Evaluator& evaluator, bool rating_mode);

// {"recall@20": value, ...}, as metrics.jsonl and summary.json write them.
nlohmann::json metrics_json(const EvalResult& r);

// A finished (or interrupted) run loaded back for evaluation/recommendation.
struct LoadedRun {
  TrainConfig config;
  PreparedData data;
  std::unique_ptr<PropagationGraph> graph;
  std::unique_ptr<Model> model;
  int64_t epoch = 0;
};
// which: "best" or "last". Throws std::runtime_error naming the missing or
// corrupt file.
LoadedRun load_run(const std::string& run_dir, const std::string& which);

}  // namespace gnnrec
