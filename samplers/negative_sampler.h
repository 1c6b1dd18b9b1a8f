// Uniform negative sampling for implicit-feedback training (BPR, BCE).
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "graph/bipartite_graph.h"

namespace gnnrec {

// For each of the n users in `users` (int32 or int64, CPU), draws k items
// uniformly from the items that user has NOT interacted with in g, by
// rejection against the user's sorted CSR row. Returns int64 [n, k] on the
// CPU. Row j depends only on (seed, j), so the result is identical for any
// number of threads. Throws std::invalid_argument naming the user if a user
// has interacted with every item, or if k <= 0.
at::Tensor sample_negatives(const BipartiteGraph& g, const at::Tensor& users, int64_t k,
                            uint64_t seed);

}  // namespace gnnrec
