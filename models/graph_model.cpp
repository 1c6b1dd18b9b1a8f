#include "models/graph_model.h"

#include <stdexcept>

#include <ATen/ATen.h>

namespace gnnrec {

GraphModel::GraphModel(const ModelOptions& o, const PropagationGraph& g, at::Device device)
    : num_users_(g.graph().num_users()),
      num_nodes_(g.graph().num_users() + g.graph().num_items()),
      device_(device),
      seed_(o.seed),
      // Stream 3, as LightGCN has always used: its checkpoints stay loadable.
      embedding_(normal_parameter(num_nodes_, o.dim, o.init_std, o.seed, 3, device)) {
  params_.push_back({"embedding", embedding_});
}

std::pair<at::Tensor, at::Tensor> GraphModel::ego(const at::Tensor& users,
                                                  const at::Tensor& items) {
  return {embedding_.index_select(0, users), embedding_.index_select(0, items + num_users_)};
}

std::pair<at::Tensor, at::Tensor> GraphModel::split(const at::Tensor& nodes) const {
  return {nodes.narrow(0, 0, num_users_), nodes.narrow(0, num_users_, num_nodes_ - num_users_)};
}

layers::Linear GraphModel::add_linear(const std::string& name, int64_t in, int64_t out,
                                      bool bias) {
  layers::Linear l = layers::make_linear(in, out, bias, seed_, 100 + params_.size(), device_);
  params_.push_back({name + ".weight", l.weight});
  if (bias) params_.push_back({name + ".bias", l.bias});
  return l;
}

at::Tensor GraphModel::add_glorot(const std::string& name, int64_t rows, int64_t cols) {
  at::Tensor t = layers::make_linear(cols, rows, false, seed_, 100 + params_.size(), device_)
                     .weight;
  params_.push_back({name, t});
  return t;
}

at::Tensor GraphModel::add_zeros(const std::string& name, at::IntArrayRef shape) {
  at::Tensor t = at::zeros(shape, at::TensorOptions(device_).dtype(at::kFloat)).requires_grad_();
  params_.push_back({name, t});
  return t;
}

at::Tensor GraphModel::dropout(const at::Tensor& x, double p) const {
  return training() && p > 0 ? at::dropout(x, p, true) : x;
}

double checked_probability(const char* option, double p) {
  if (!(p >= 0 && p < 1)) {
    throw std::invalid_argument(std::string(option) + " must be in [0, 1), got " +
                                std::to_string(p));
  }
  return p;
}

}  // namespace gnnrec
