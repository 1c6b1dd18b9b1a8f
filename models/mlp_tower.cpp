#include "models/mlp_tower.h"

#include <ATen/ATen.h>

namespace gnnrec {

at::Tensor MlpTower::operator()(const at::Tensor& x, bool training) const {
  at::Tensor y = x;
  for (size_t k = 0; k < layers.size(); ++k) {
    if (dropout > 0) y = at::dropout(y, dropout, training);
    y = layers[k](y);
    if (relu_last || k + 1 < layers.size()) y = at::relu(y);
  }
  return y;
}

int64_t MlpTower::out_width(int64_t in) const {
  return layers.empty() ? in : layers.back().weight.size(0);
}

void MlpTower::add_parameters(const std::string& prefix, std::vector<NamedTensor>* out) const {
  for (size_t k = 0; k < layers.size(); ++k) {
    out->push_back({prefix + "." + std::to_string(k) + ".weight", layers[k].weight});
    out->push_back({prefix + "." + std::to_string(k) + ".bias", layers[k].bias});
  }
}

MlpTower make_mlp_tower(int64_t in, const std::vector<int64_t>& widths, double dropout,
                        uint64_t seed, uint64_t stream, at::Device device) {
  MlpTower t;
  t.dropout = dropout;
  for (size_t k = 0; k < widths.size(); ++k) {
    t.layers.push_back(layers::make_linear(k == 0 ? in : widths[k - 1], widths[k], true, seed,
                                           stream + k, device));
  }
  return t;
}

}  // namespace gnnrec
