#include "train/train_state.h"

#include <cmath>
#include <map>
#include <stdexcept>

#include <ATen/ATen.h>

#include "train/metrics.h"

namespace gnnrec {
using nlohmann::json;

bool EarlyStopping::update(int64_t epoch, double value) {
  // A NaN (a metric undefined on this split) never becomes the best value:
  // it could not be compared with later ones, nor stored in a checkpoint.
  const bool better =
      !std::isnan(value) &&
      (best_epoch == 0 || (lower_is_better(metric) ? value < best_value : value > best_value));
  if (better) {
    best_epoch = epoch;
    best_value = value;
    bad_evals = 0;
  } else {
    ++bad_evals;
  }
  return better;
}

namespace {

// Each parameter, then its two Adam moments, as the checkpoint names them;
// a tensor that does not require grad (what a training-free model fits)
// has no moments: Adam holds only the others, in the same order
// (trainable_tensors).
std::vector<NamedTensor> with_moments(const std::vector<NamedTensor>& params, Adam& adam) {
  std::vector<NamedTensor> out;
  size_t m = 0;
  for (const auto& p : params) {
    out.push_back({p.name, p.tensor});
    if (!p.tensor.requires_grad()) continue;
    out.push_back({p.name + ".exp_avg", adam.exp_avg()[m]});
    out.push_back({p.name + ".exp_avg_sq", adam.exp_avg_sq()[m]});
    ++m;
  }
  return out;
}

}  // namespace

std::vector<at::Tensor> trainable_tensors(const std::vector<NamedTensor>& params) {
  std::vector<at::Tensor> out;
  for (const auto& p : params) {
    if (p.tensor.requires_grad()) out.push_back(p.tensor);
  }
  return out;
}

Checkpoint make_checkpoint(const TrainingState& state, const std::string& model,
                           const std::vector<NamedTensor>& params, Adam& adam) {
  Checkpoint c;
  c.meta = {{"epoch", state.epoch},
            {"adam_steps", adam.steps()},
            {"best_epoch", state.stop.best_epoch},
            {"best_value", state.stop.best_value},
            {"best_metrics", state.best_metrics},
            {"bad_evals", state.stop.bad_evals},
            {"epoch_times", state.epoch_times},
            {"model", model},
            {"best_valid", state.best_valid}};
  c.tensors = with_moments(params, adam);
  return c;
}

void restore_checkpoint(const Checkpoint& c, const std::string& path, TrainingState& state,
                        const std::vector<NamedTensor>& params, Adam& adam) {
  copy_named_tensors(c, with_moments(params, adam), [&](const std::string& name) {
    return "--resume: " + path + " does not match this model (" + name + ")";
  });
  state.epoch = c.meta.at("epoch");
  adam.set_steps(c.meta.at("adam_steps"));
  state.stop.best_epoch = c.meta.at("best_epoch");
  state.stop.best_value = c.meta.at("best_value");
  state.best_metrics = c.meta.at("best_metrics");
  state.best_valid = c.meta.value("best_valid", json::object());
  state.stop.bad_evals = c.meta.at("bad_evals");
  state.epoch_times = c.meta.at("epoch_times").get<std::vector<double>>();
}

void copy_named_tensors(const Checkpoint& c, const std::vector<NamedTensor>& targets,
                        const std::function<std::string(const std::string&)>& mismatch) {
  std::map<std::string, at::Tensor> by_name;
  for (const auto& t : c.tensors) by_name[t.name] = t.tensor;
  at::NoGradGuard no_grad;
  for (const auto& dst : targets) {
    auto it = by_name.find(dst.name);
    if (it == by_name.end() || !it->second.sizes().equals(dst.tensor.sizes())) {
      throw std::runtime_error(mismatch(dst.name));
    }
    at::Tensor t = dst.tensor;
    t.copy_(it->second);
  }
}

}  // namespace gnnrec
