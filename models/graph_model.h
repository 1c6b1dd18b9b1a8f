// The common base of the graph models: one embedding table over the
// unified node set (users 0..U-1, then items), used as the input features
// of the first layer, plus a list of named parameters.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "models/layers.h"
#include "models/model.h"

namespace gnnrec {

class GraphModel : public Model {
 public:
  GraphModel(const ModelOptions& o, const PropagationGraph& g, at::Device device);

  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& users,
                                        const at::Tensor& items) override;
  std::vector<NamedTensor> parameters() override { return params_; }

 protected:
  // Rows 0..U-1 and U.. of a [U+I, d] tensor.
  std::pair<at::Tensor, at::Tensor> split(const at::Tensor& nodes) const;
  // A new Linear registered as NAME.weight / NAME.bias.
  layers::Linear add_linear(const std::string& name, int64_t in, int64_t out, bool bias);
  // A new [rows, cols] Glorot-initialised parameter registered as NAME.
  at::Tensor add_glorot(const std::string& name, int64_t rows, int64_t cols);
  // A new zero parameter of the given shape registered as NAME.
  at::Tensor add_zeros(const std::string& name, at::IntArrayRef shape);
  // Dropout that is active only in training mode.
  at::Tensor dropout(const at::Tensor& x, double p) const;

  int64_t num_users_;
  int64_t num_nodes_;
  at::Device device_;
  uint64_t seed_;
  at::Tensor embedding_;  // [U+I, dim]

 private:
  std::vector<NamedTensor> params_;
};

// p when it lies in [0, 1), else std::invalid_argument naming the option.
double checked_probability(const char* option, double p);

}  // namespace gnnrec
