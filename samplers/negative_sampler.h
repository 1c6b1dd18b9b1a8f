// Uniform negative sampling for implicit-feedback training (BPR, BCE), over
// the gnnrec::sample_negatives operator (kernels/ops.h), which runs on the
// CPU or on CUDA with equal output.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "graph/bipartite_graph.h"

namespace gnnrec {

// For each of the n users in `users` (int32 or int64, CPU), draws k items
// uniformly from the items that user has NOT interacted with in g, by
// rejection against the user's sorted CSR row. Returns int64 [n, k] on the
// CPU. Row j depends only on (seed, j), so the result is identical for any
// number of threads (and on any device: NegativeSampler below). Throws
// std::invalid_argument naming the user if a user has interacted with every
// item, or is outside [0, num_users), or if k <= 0.
at::Tensor sample_negatives(const BipartiteGraph& g, const at::Tensor& users, int64_t k,
                            uint64_t seed);

// g's user -> item CSR as operator inputs on `device`: on the CPU a view of
// g's arrays (g must outlive the sampler), elsewhere a copy made once, so
// that each draw runs where the users are without moving the graph.
// Thread-compatible (const calls may run concurrently).
class NegativeSampler {
 public:
  NegativeSampler(const BipartiteGraph& g, at::Device device);

  // sample_negatives(g, users, k, seed), for int64 users on the sampler's
  // device, returning int64 [n, k] on that device: equal values on every
  // device. Bad input raises c10::Error from the operator, naming the user.
  at::Tensor operator()(const at::Tensor& users, int64_t k, uint64_t seed) const;

  const at::Tensor& rowptr() const { return rowptr_; }
  const at::Tensor& col() const { return col_; }

 private:
  at::Tensor rowptr_;  // int64 [U+1]
  at::Tensor col_;     // int32 [E], each row sorted
  int64_t num_items_;
};

}  // namespace gnnrec
