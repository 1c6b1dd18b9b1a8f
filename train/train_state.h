// What a run carries from epoch to epoch besides the model's parameters and
// the optimiser: the epoch count, the best epoch and early stopping, the
// per-epoch times. A checkpoint holds all of it (train/checkpoint.h is the
// file format), so that --resume continues exactly where the run stopped.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/model.h"
#include "train/adam.h"
#include "train/checkpoint.h"

namespace gnnrec {

// The best epoch and early stopping on one metric, in that metric's
// direction (lower_is_better in train/metrics.h).
struct EarlyStopping {
  std::string metric;
  int64_t patience = 0;    // evaluations without improvement before stopping; 0: never
  int64_t best_epoch = 0;  // 0: nothing recorded yet
  double best_value = 0;
  int64_t bad_evals = 0;  // evaluations since the best one

  // Records one evaluation's value of `metric`; true when it is a new best
  // (strictly better, or the first; never NaN).
  bool update(int64_t epoch, double value);
  bool should_stop() const { return patience > 0 && bad_evals >= patience; }
};

struct TrainingState {
  int64_t epoch = 0;  // epochs done
  EarlyStopping stop;
  nlohmann::json best_metrics = nlohmann::json::object();  // metrics at the best epoch
  // --protocol ctr: the eval records' metrics at the best epoch.
  nlohmann::json best_valid = nlohmann::json::object();
  std::vector<double> epoch_times;  // training seconds of each epoch done
};

// The parameters Adam updates: those that require grad, in order (a
// training-free model's fitted tensors do not).
std::vector<at::Tensor> trainable_tensors(const std::vector<NamedTensor>& params);

// A checkpoint of the run: the state and the model's name as meta, and per
// parameter NAME its tensor and, when it requires grad, Adam's moments
// NAME.exp_avg, NAME.exp_avg_sq (adam was built on trainable_tensors).
Checkpoint make_checkpoint(const TrainingState& state, const std::string& model,
                           const std::vector<NamedTensor>& params, Adam& adam);

// Restores what make_checkpoint saved (read from `path`, named in errors)
// into state, params and adam. Throws std::runtime_error "--resume: PATH does
// not match this model (NAME)" for a missing or differently shaped tensor.
void restore_checkpoint(const Checkpoint& c, const std::string& path, TrainingState& state,
                        const std::vector<NamedTensor>& params, Adam& adam);

// Copies each tensor of `c` named like one of `targets` into it (shapes must
// agree), without gradients. A missing or differently shaped one throws
// std::runtime_error(mismatch(name)).
void copy_named_tensors(const Checkpoint& c, const std::vector<NamedTensor>& targets,
                        const std::function<std::string(const std::string&)>& mismatch);

}  // namespace gnnrec
