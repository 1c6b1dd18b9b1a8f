// A multi-layer perceptron tower as the neural recommenders use it (NCF's
// MLP, DMF's user and item towers): per layer, dropout (while training),
// then y = x Wᵀ + b, then ReLU, as RecBole's MLPLayers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "models/layers.h"
#include "models/model.h"

namespace gnnrec {

struct MlpTower {
  std::vector<layers::Linear> layers;  // layer k: [widths[k], widths[k-1] or in]
  double dropout = 0;
  bool relu_last = true;  // false: the last layer is linear (no ReLU)

  // x [n, in] -> [n, widths.back()] (x itself when there are no layers).
  at::Tensor operator()(const at::Tensor& x, bool training) const;
  int64_t out_width(int64_t in) const;
  // "PREFIX.K.weight", "PREFIX.K.bias" per layer, appended to `out`.
  void add_parameters(const std::string& prefix, std::vector<NamedTensor>* out) const;
};

// Glorot-uniform weights and zero biases (layers::make_linear), layer k
// drawn from the generator (seed, stream + k).
MlpTower make_mlp_tower(int64_t in, const std::vector<int64_t>& widths, double dropout,
                        uint64_t seed, uint64_t stream, at::Device device);

}  // namespace gnnrec
