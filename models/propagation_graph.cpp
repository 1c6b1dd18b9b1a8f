#include "models/propagation_graph.h"

#include <cmath>
#include <limits>
#include <vector>

#include <ATen/ATen.h>

namespace gnnrec {

SparseAdjacency unified_adjacency(const BipartiteGraph& g, Normalization norm, bool self_loops,
                                  at::ScalarType dtype) {
  return unified_adjacency_rows(g, norm, self_loops, dtype, 0, g.num_users() + g.num_items());
}

SparseAdjacency unified_adjacency_rows(const BipartiteGraph& g, Normalization norm, bool self_loops,
                                       at::ScalarType dtype, int64_t lo, int64_t hi) {
  TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble,
              "unified_adjacency: dtype must be float32 or float64, got ", dtype);
  const int64_t U = g.num_users(), I = g.num_items(), N = U + I;
  TORCH_CHECK(0 <= lo && lo <= hi && hi <= N, "unified_adjacency: rows [", lo, ", ", hi,
              ") outside [0, ", N, ")");
  TORCH_CHECK(N <= std::numeric_limits<int32_t>::max(), "unified_adjacency: ", N,
              " nodes do not fit 32-bit column indices");
  const auto& uo = g.user_offsets();
  const auto& ui = g.user_items();
  const auto& io = g.item_offsets();
  const auto& iu = g.item_users();
  // Degrees are row lengths (self loop included when present), of every
  // node: the columns' too.
  std::vector<int64_t> deg(N);
  for (int64_t u = 0; u < U; ++u) deg[u] = uo[u + 1] - uo[u] + (self_loops ? 1 : 0);
  for (int64_t i = 0; i < I; ++i) deg[U + i] = io[i + 1] - io[i] + (self_loops ? 1 : 0);
  int64_t nnz = 0;
  for (int64_t r = lo; r < hi; ++r) nnz += deg[r];

  at::Tensor rowptr = at::empty({hi - lo + 1}, at::kLong);
  at::Tensor col = at::empty({nnz}, at::kInt);
  int64_t* rp = rowptr.data_ptr<int64_t>();
  int32_t* cp = col.data_ptr<int32_t>();
  // Columns ascending in every row: a user's self loop (< U) comes first, an
  // item's (>= U+i > every user) comes last.
  int64_t k = 0;
  rp[0] = 0;
  for (int64_t r = lo; r < hi; ++r) {
    if (r < U) {
      if (self_loops) cp[k++] = static_cast<int32_t>(r);
      for (int64_t e = uo[r]; e < uo[r + 1]; ++e) cp[k++] = static_cast<int32_t>(U + ui[e]);
    } else {
      for (int64_t e = io[r - U]; e < io[r - U + 1]; ++e) cp[k++] = iu[e];
      if (self_loops) cp[k++] = static_cast<int32_t>(r);
    }
    rp[r - lo + 1] = k;
  }

  SparseAdjacency a;
  a.num_rows = hi - lo;
  a.num_cols = N;
  a.rowptr = rowptr;
  a.col = col;
  if (norm != Normalization::kNone) {
    std::vector<double> inv(N);
    for (int64_t r = 0; r < N; ++r) {
      const double d = static_cast<double>(deg[r]);
      inv[r] = d > 0 ? (norm == Normalization::kSymmetric ? 1.0 / std::sqrt(d) : 1.0 / d) : 0.0;
    }
    at::Tensor value = at::empty({nnz}, at::kDouble);
    double* vp = value.data_ptr<double>();
    for (int64_t r = lo; r < hi; ++r) {
      for (int64_t e = rp[r - lo]; e < rp[r - lo + 1]; ++e) {
        vp[e] = norm == Normalization::kSymmetric ? inv[r] * inv[cp[e]] : inv[r];
      }
    }
    a.value = value.to(dtype);
  }
  fill_transpose(a);
  return a;
}

const SparseAdjacency& PropagationGraph::adjacency(Normalization norm, bool self_loops,
                                                   at::ScalarType dtype,
                                                   at::Device device) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto key = std::make_tuple(static_cast<int>(norm), self_loops, static_cast<int>(dtype),
                             device.str());
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  SparseAdjacency a = unified_adjacency(*graph_, norm, self_loops, dtype);
  if (!device.is_cpu()) a = a.to(device, dtype);
  return cache_.emplace(key, std::move(a)).first->second;
}

}  // namespace gnnrec
