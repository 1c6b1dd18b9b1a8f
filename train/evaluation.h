// Evaluating a model during and after training, under the run's protocol:
// full ranking of the test split (train/evaluator.h), with rating errors in
// rating mode, or --protocol ctr's metrics of the labelled records; the
// baseline reported beside the model; the metrics as the run directory
// writes them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/ctr_split.h"
#include "models/model.h"
#include "train/config.h"
#include "train/data.h"
#include "train/evaluator.h"
#include "train/sampled_evaluation.h"

namespace gnnrec {

// With cfg.cold_fraction > 0, adds the group "cold" of
// evaluator.coldest_test_users(cfg.cold_fraction) to the evaluator (its
// metrics are keyed "cold/recall@20", ...) and returns those users; else
// returns nothing and adds nothing.
std::vector<int64_t> add_cold_users(Evaluator& evaluator, const TrainConfig& cfg);
// --group-by ATTR: adds one group per value v of the users' side attribute
// ATTR (the relation "user-has-ATTR" of data.side, MovieLens 100K's u.user),
// keyed "ATTR=v/recall@20", ...; returns their names. Throws DataError when
// the data set has no such attribute, naming the ones it has.
std::vector<std::string> add_attribute_groups(Evaluator& evaluator, const std::string& attribute,
                                              const PreparedData& data);
// For each ranking metric m of the groups "ATTR=v/m" in `metrics`, adds
// "ATTR_gap/m": the largest value minus the smallest over the groups.
void add_group_gaps(std::map<std::string, double>& metrics, const std::string& attribute);

// Evaluates in evaluation mode (set_training(false), no gradients): the
// ranking metrics of model.ranking(), and in rating mode also rmse and mae of
// score() on the test pairs.
// A model that ranks rows (Model::ranks_rows) is ranked from ranking_rows();
// it has no rating mode.
EvalResult evaluate_model(Model& model, const Evaluator& evaluator, bool rating_mode);
// --eval sampled: the sampled metrics (train/sampled_evaluation.h) of the
// model's ranking_rows() or of its ranking() factors, in evaluation mode.
std::map<std::string, double> evaluate_sampled(Model& model, const SampledEvaluator& sampled);
// The top k items of `users` (Evaluator::top_items: masked, best first,
// with their scores) in evaluation mode, from the model's ranking() or its
// ranking_rows(): what `recommend` lists.
std::pair<at::Tensor, at::Tensor> top_items_of(Model& model, const Evaluator& evaluator,
                                               const std::vector<int64_t>& users, int64_t k);

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
// --protocol ctr's baseline, "popularity": test records scored by their
// item's number of positive training records (its AUC only; accuracy and F1
// need a calibrated threshold, which a count does not have).
Baseline evaluate_ctr_baseline(const CtrSplit& ctr, int64_t num_items);

// {"recall@20": value, ...}, as metrics.jsonl and summary.json write them.
nlohmann::json metrics_json(const EvalResult& r);

// The progress line of one evaluation: the rating errors (rating mode),
// recall and NDCG at each K in `ks`, and AUC, those of them in `m`.
std::string format_metrics(const std::map<std::string, double>& m, const std::vector<int>& ks);

// One evaluation during training. Under --protocol ctr, `valid` holds the
// eval records' metrics (they pick the best epoch) and `test` the test
// records'; otherwise `test` is the test split's and `valid` is unset.
struct EpochEvaluation {
  EvalResult test;
  std::optional<EvalResult> valid;
  // The value of `metric` that picks the best epoch: valid's when set.
  double value(const std::string& metric) const;
};

// The run's evaluation, set up once from its configuration and data (which
// must outlive it): the ranking evaluator with its cold users (and under
// --eval sampled the sampled-negatives protocol, whose metrics join the
// test metrics), or the CTR records.
class RunEvaluation {
 public:
  // Throws DataError when no user has a test interaction (ranking).
  RunEvaluation(const TrainConfig& cfg, const PreparedData& data);
  EpochEvaluation evaluate(Model& model) const;
  Baseline baseline() const;
  int64_t test_users() const;  // 0 under --protocol ctr
  // Data-parallel runs: the full ranking split by users (Evaluator::
  // split_users); rating errors, sampled and CTR metrics stay whole on
  // every process. Nothing under --protocol ctr.
  void split_users(std::pair<int64_t, int64_t> range, Evaluator::SumAcross sum);
  const std::vector<int64_t>& cold_users() const { return cold_users_; }

 private:
  const TrainConfig& cfg_;
  const PreparedData& data_;
  std::optional<Evaluator> evaluator_;  // unset under --protocol ctr
  std::optional<SampledEvaluator> sampled_;  // --eval sampled
  std::vector<std::string> groups_;          // --group-by
  std::vector<int64_t> cold_users_;
};

}  // namespace gnnrec
