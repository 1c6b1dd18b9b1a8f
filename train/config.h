// The fully resolved training configuration: what the CLI flags, a config
// file and the defaults resolve to, written as RUN_DIR/config.json.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gnnrec {

struct TrainConfig {
  // What to train on what.
  std::string model = "lightgcn";
  std::string dataset = "synthetic";  // a directory, or "synthetic"
  std::string out;                    // run directory
  // Evaluation protocol: "ranking" (full ranking of a train/test split of
  // the interactions) or "ctr" (KGCN's CTR protocol, graph/ctr_split.h:
  // labelled records with sampled negatives split 6:2:2 into train, eval and
  // test; trained with --loss bce on the records, evaluated by AUC,
  // accuracy, F1 and log loss; the eval records pick the best epoch).
  std::string protocol = "ranking";
  // Data preparation (applied in this order: min_rating, kcore, split).
  std::string split = "per-user";  // used when the data set ships no split (ranking)
  double train_ratio = 0.8;
  double min_rating = 0;              // 0: keep every interaction
  int kcore = 0;
  // Load the data set's knowledge graph or side information (graph/
  // kg_loaders.h: load_side_graph) for the models that use one; false
  // trains them on the interactions alone (heterogat: user-item relations).
  bool side_info = true;
  // Synthetic data set (dataset == "synthetic").
  int64_t synthetic_users = 3000;
  int64_t synthetic_items = 2000;
  // Model.
  int64_t dim = 64;
  int64_t layers = 3;
  // Model hyper-parameters that only some models use; unset (null in
  // config.json) means the model's paper default (models/model.h).
  std::optional<double> dropout;            // GCN, GAT, SAGE feature dropout
  std::optional<double> node_dropout;       // NGCF
  std::optional<double> message_dropout;    // NGCF
  std::optional<double> attention_dropout;  // GAT
  std::optional<int64_t> heads;             // GAT
  std::optional<std::string> aggregator;    // SAGE: mean | max | pool | lstm
  std::vector<int64_t> fanouts;             // SAGE, one per layer; empty: default
  // Optimisation.
  std::string loss = "bpr";           // bpr, bce (implicit feedback) or mse (rating mode)
  int64_t negatives = 4;              // bce: uniformly sampled negatives per positive
  int64_t epochs = 100;
  int64_t batch_size = 2048;
  double lr = 1e-3;
  double reg = 1e-4;  // L2 weight (see reg_scope)
  // What --reg weighs: "batch", ½‖·‖² of the batch's layer-0 (ego) rows
  // divided by the batch size (LightGCN's and NGCF's code); "full", ½‖p‖²
  // of every parameter tensor whole, once per batch (KGCN's code:
  // l2_weight · tf.nn.l2_loss of the embedding matrices and weights).
  std::string reg_scope = "batch";
  uint64_t seed = 2020;
  // Evaluation and stopping.
  int64_t eval_every = 5;
  std::vector<int> topk{10, 20};
  // Also report the ranking metrics over the cold users, the given fraction
  // of test users with the fewest training interactions (Evaluator::
  // set_cold_users), keyed "cold/recall@20", ...; 0: not reported.
  double cold_fraction = 0;
  std::string early_stop_metric;      // empty: rmse with --loss mse, auc with --protocol ctr,
                                      // recall@20 otherwise
  int64_t patience = 10;              // evaluations without improvement; 0: never stop early
  // Execution.
  std::string device = "cpu";
  int threads = 0;                    // 0: all cores
  // ATen's deterministic algorithms (CUDA; the CPU path always is):
  // at::globalContext().setDeterministicAlgorithms(true, false).
  bool deterministic = false;

  // Rating mode: explicit ratings are the training targets (--loss mse).
  bool rating_mode() const { return loss == "mse"; }
  bool ctr() const { return protocol == "ctr"; }
  // A copy with the defaults that depend on other options filled in
  // (early_stop_metric), as config.json records them.
  TrainConfig resolved() const;
  // Throws std::invalid_argument naming the option ("--lr must be > 0, got -1").
  void validate() const;
};

void to_json(nlohmann::json& j, const TrainConfig& c);
void from_json(const nlohmann::json& j, TrainConfig& c);

// A run directory's config.json (written by the trainer). A file that is
// not JSON, or whose values have the wrong types, throws
// std::invalid_argument naming the file ("RUN/config.json: not valid JSON:
// ... at line 2, column 1: ..."), not the parser's bare message.
TrainConfig read_run_config(const std::string& path);

// The configuration of the run whose config.json is `path`, to resume it:
// its own options, with out and (when "epochs" is among `given`) epochs
// from `asked`. `given` lists the configuration keys ("lr", ...) the caller
// set; one that disagrees with the run's (defaults resolved on both sides)
// throws std::invalid_argument, "<prefix>: <name(key)> is 0.5 here but
// 0.001 in PATH (... only <name("epochs")> may change)", rather than being
// ignored. Shared by `gnnrec train --resume` (names as flags) and
// gnnrec.train(resume=True) (names as keys).
TrainConfig resumed_config(const std::string& path, const TrainConfig& asked,
                           const std::vector<std::string>& given, const std::string& prefix,
                           const std::function<std::string(const std::string&)>& name);

}  // namespace gnnrec
