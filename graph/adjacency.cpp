#include "graph/adjacency.h"

#include <cmath>
#include <vector>

#include <ATen/ATen.h>

#include "kernels/ops.h"

namespace gnnrec {

SparseAdjacency SparseAdjacency::to(at::Device device, at::ScalarType dtype) const {
  SparseAdjacency out = *this;
  out.rowptr = rowptr.to(device);
  out.col = col.to(device);
  if (value.defined()) out.value = value.to(device, dtype);
  out.t_rowptr = t_rowptr.to(device);
  out.t_col = t_col.to(device);
  out.t_perm = t_perm.to(device);
  return out;
}

at::Tensor SparseAdjacency::matmul(const at::Tensor& x) const {
  std::optional<at::Tensor> v;
  if (value.defined()) v = value;
  return ops::spmm(rowptr, col, v, t_rowptr, t_col, t_perm, x);
}

void fill_transpose(SparseAdjacency& a) {
  const at::Tensor rowptr = a.rowptr.cpu().contiguous();
  const at::Tensor col = a.col.cpu().contiguous();
  const int64_t rows = a.num_rows, cols = a.num_cols, nnz = col.numel();
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int32_t* cp = col.data_ptr<int32_t>();
  at::Tensor t_rowptr = at::zeros({cols + 1}, at::kLong);
  at::Tensor t_col = at::empty({nnz}, at::kInt);
  at::Tensor t_perm = at::empty({nnz}, at::kLong);
  int64_t* trp = t_rowptr.data_ptr<int64_t>();
  for (int64_t k = 0; k < nnz; ++k) trp[cp[k] + 1]++;
  for (int64_t c = 0; c < cols; ++c) trp[c + 1] += trp[c];
  std::vector<int64_t> fill(trp, trp + cols);
  int32_t* tcp = t_col.data_ptr<int32_t>();
  int64_t* tpp = t_perm.data_ptr<int64_t>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = rp[r]; k < rp[r + 1]; ++k) {
      const int64_t pos = fill[cp[k]]++;
      tcp[pos] = static_cast<int32_t>(r);
      tpp[pos] = k;
    }
  }
  const auto device = a.rowptr.device();
  a.t_rowptr = t_rowptr.to(device);
  a.t_col = t_col.to(device);
  a.t_perm = t_perm.to(device);
}

SparseAdjacency unified_adjacency(const BipartiteGraph& g, Normalization norm, bool self_loops,
                                  at::ScalarType dtype) {
  TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble,
              "unified_adjacency: dtype must be float32 or float64, got ", dtype);
  const int64_t U = g.num_users(), I = g.num_items(), N = U + I;
  const int64_t nnz = 2 * g.num_edges() + (self_loops ? N : 0);
  TORCH_CHECK(N <= std::numeric_limits<int32_t>::max(),
              "unified_adjacency: ", N, " nodes do not fit 32-bit column indices");

  at::Tensor rowptr = at::empty({N + 1}, at::kLong);
  at::Tensor col = at::empty({nnz}, at::kInt);
  int64_t* rp = rowptr.data_ptr<int64_t>();
  int32_t* cp = col.data_ptr<int32_t>();
  const auto& uo = g.user_offsets();
  const auto& ui = g.user_items();
  const auto& io = g.item_offsets();
  const auto& iu = g.item_users();
  // Columns ascending in every row: a user's self loop (< U) comes first, an
  // item's (>= U+i > every user) comes last.
  int64_t k = 0;
  rp[0] = 0;
  for (int64_t u = 0; u < U; ++u) {
    if (self_loops) cp[k++] = static_cast<int32_t>(u);
    for (int64_t e = uo[u]; e < uo[u + 1]; ++e) cp[k++] = static_cast<int32_t>(U + ui[e]);
    rp[u + 1] = k;
  }
  for (int64_t i = 0; i < I; ++i) {
    for (int64_t e = io[i]; e < io[i + 1]; ++e) cp[k++] = iu[e];
    if (self_loops) cp[k++] = static_cast<int32_t>(U + i);
    rp[U + i + 1] = k;
  }

  SparseAdjacency a;
  a.num_rows = N;
  a.num_cols = N;
  a.rowptr = rowptr;
  a.col = col;
  if (norm != Normalization::kNone) {
    // Degrees are row lengths (self loop included when present).
    std::vector<double> inv(N);
    for (int64_t r = 0; r < N; ++r) {
      const double deg = static_cast<double>(rp[r + 1] - rp[r]);
      inv[r] = deg > 0 ? (norm == Normalization::kSymmetric ? 1.0 / std::sqrt(deg) : 1.0 / deg)
                       : 0.0;
    }
    at::Tensor value = at::empty({nnz}, at::kDouble);
    double* vp = value.data_ptr<double>();
    for (int64_t r = 0; r < N; ++r) {
      for (int64_t e = rp[r]; e < rp[r + 1]; ++e) {
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
