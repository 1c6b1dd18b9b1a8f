#include "samplers/negative_sampler.h"

#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "kernels/ops.h"

namespace gnnrec {

NegativeSampler::NegativeSampler(const BipartiteGraph& g, at::Device device)
    : num_items_(g.num_items()) {
  // The operator only reads its inputs: a view of g's vectors is safe.
  rowptr_ = at::from_blob(const_cast<int64_t*>(g.user_offsets().data()),
                          {static_cast<int64_t>(g.user_offsets().size())}, at::kLong);
  col_ = at::from_blob(const_cast<int32_t*>(g.user_items().data()), {g.num_edges()}, at::kInt);
  if (!device.is_cpu()) {
    rowptr_ = rowptr_.to(device);
    col_ = col_.to(device);
  }
}

at::Tensor NegativeSampler::operator()(const at::Tensor& users, int64_t k, uint64_t seed) const {
  // The seed's 64 bits pass through the operator's int64 unchanged.
  return ops::sample_negatives(rowptr_, col_, users, num_items_, k, static_cast<int64_t>(seed));
}

at::Tensor sample_negatives(const BipartiteGraph& g, const at::Tensor& users_in, int64_t k,
                            uint64_t seed) {
  if (k <= 0) throw std::invalid_argument("sample_negatives: k must be positive, got " + std::to_string(k));
  const at::Tensor users = users_in.to(at::kLong).contiguous().cpu();
  const int64_t n = users.numel();
  const int64_t* up = users.data_ptr<int64_t>();
  const int64_t I = g.num_items();
  // The operator checks these too, raising c10::Error; this entry point has
  // always thrown std::invalid_argument.
  for (int64_t j = 0; j < n; ++j) {
    if (up[j] < 0 || up[j] >= g.num_users()) {
      throw std::invalid_argument("sample_negatives: user " + std::to_string(up[j]) +
                                  " is outside [0, " + std::to_string(g.num_users()) + ")");
    }
    if (g.user_degree(up[j]) >= I) {
      throw std::invalid_argument("sample_negatives: user " + std::to_string(up[j]) +
                                  " has interacted with every item; no negative exists");
    }
  }
  if (n == 0) return at::empty({0, k}, at::kLong);  // even for a graph without items
  return NegativeSampler(g, at::kCPU)(users, k, seed);
}

}  // namespace gnnrec
