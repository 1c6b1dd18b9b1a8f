#include "train/summary.h"

#include <ATen/Parallel.h>
#include <torch/version.h>

namespace gnnrec {
using nlohmann::json;

#ifndef GNNREC_VERSION
#error "GNNREC_VERSION is defined by CMake (project(gnnrec VERSION ...))"
#endif

std::string protocol_description(const TrainConfig& cfg) {
  if (cfg.ctr()) {
    return "ctr (KGCN, WWW 2019): every interaction a positive record, as many negatives per "
           "user drawn from the items it never interacted with, records split 6:2:2 into "
           "train/eval/test at random; trained with the log loss; auc over all test records, "
           "acc and f1 at sigmoid >= 0.5; the best epoch by the eval records' " +
           cfg.early_stop_metric;
  }
  return std::string(
             "full ranking over all items with each user's training items masked; "
             "metrics averaged over users with at least one test item") +
         (cfg.rating_mode() ? "; rmse and mae over every test rating" : "");
}

json make_summary(const TrainConfig& cfg, const PreparedData& data, const RunEvaluation& evaluation,
                  const Baseline& baseline, const TrainingState& state, bool stopped_early,
                  const RunTimes& times, at::Device device) {
  double mean_epoch = 0;
  for (double t : state.epoch_times) mean_epoch += t;
  if (!state.epoch_times.empty()) mean_epoch /= static_cast<double>(state.epoch_times.size());
  json summary{
      {"model", cfg.model},
      {"dataset", cfg.dataset},
      {"best_epoch", state.stop.best_epoch},
      {"best", state.best_metrics},
      {"early_stop_metric", cfg.early_stop_metric},
      {"loss", name_of(cfg.loss)},
      {"baseline", baseline.name},
      {baseline.name, metrics_json(baseline.result)},
      {"epochs_run", state.epoch},
      {"stopped_early", stopped_early},
      {"epoch_seconds", mean_epoch},
      {"eval_seconds", times.evaluations > 0 ? times.eval_seconds_total / times.evaluations : 0.0},
      {"load_seconds", times.load_seconds},
      {"device", device.str()},
      {"threads", at::get_num_threads()},
      {"torch_version", TORCH_VERSION},
      {"gnnrec_version", GNNREC_VERSION},
      {"users", data.train->num_users()},
      {"items", data.train->num_items()},
      {"train_interactions", data.train->num_edges()},
      {"test_interactions", data.test->num_edges()},
      {"test_users", evaluation.test_users()},
      {"protocol", protocol_description(cfg)}};
  if (cfg.ctr()) {
    summary["best_valid"] = state.best_valid;
    summary["ctr_records"] = {{"train", data.ctr->train.size()},
                              {"eval", data.ctr->eval.size()},
                              {"test", data.ctr->test.size()}};
  }
  if (cfg.cold_fraction > 0) {
    const std::vector<int64_t>& cold = evaluation.cold_users();
    summary["cold_users"] = static_cast<int64_t>(cold.size());
    summary["cold_max_train_degree"] =
        cold.empty() ? int64_t{0} : data.train->user_degree(cold.back());
  }
  return summary;
}

}  // namespace gnnrec
