// The neighbourhoods of the memory-based recommenders ItemKNN and UserKNN
// (models/knn.cpp): cosine similarity with shrinkage between the rows of a
// binary matrix, the top K of each row kept.
//
// For rows a ≠ b of a binary matrix A (A = Rᵀ for items, R for users; R
// the user-item training matrix) with supports N(a), N(b):
//   sim(a, b) = |N(a) ∩ N(b)| / (√|N(a)| · √|N(b)| + shrink + 1e-6)
// and sim(a, a) = 0: RecBole 1.2.1's ComputeSimilarity (the 1e-6 included,
// which keeps the denominator non-zero). Only co-occurring pairs have a
// non-zero similarity, so the rows are computed sparsely, one row at a
// time from the two CSR views, at a cost of Σ_c |column c|² over A's
// columns (Gowalla's items: the users' degrees squared), never forming the
// dense N x N matrix.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace gnnrec {

// The k' = min(k, n) neighbours of each of the n rows of A: (int64 [n, k'],
// float32 [n, k']) on the CPU, row a listing the largest sim(a, ·) > 0,
// largest first, ties to the lower id, padded with a itself at weight 0
// when fewer than k' rows co-occur with a. A is given by its CSR (offsets
// [n+1], columns) and the CSR of its transpose (offsets [m+1], rows). Runs
// over rows in parallel (at::parallel_for); deterministic. Throws
// std::invalid_argument for k < 1 or shrink < 0.
std::pair<at::Tensor, at::Tensor> cosine_neighbors(const std::vector<int64_t>& offsets,
                                                   const std::vector<int32_t>& columns,
                                                   const std::vector<int64_t>& t_offsets,
                                                   const std::vector<int32_t>& t_rows, int64_t k,
                                                   double shrink);

}  // namespace gnnrec
