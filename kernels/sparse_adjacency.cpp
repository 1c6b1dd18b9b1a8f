#include "kernels/sparse_adjacency.h"

#include <algorithm>
#include <optional>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>

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

SparseAdjacency SparseAdjacency::select_rows(const at::Tensor& rows_in) const {
  TORCH_CHECK(rowptr.is_cpu(), "select_rows: the matrix must be on the CPU");
  const at::Tensor rows = rows_in.to(at::kLong).contiguous();
  const int64_t n = rows.numel();
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int64_t* sel = rows.data_ptr<int64_t>();
  SparseAdjacency out;
  out.num_rows = n;
  out.num_cols = num_cols;
  out.rowptr = at::empty({n + 1}, at::kLong);
  int64_t* orp = out.rowptr.data_ptr<int64_t>();
  orp[0] = 0;
  for (int64_t i = 0; i < n; ++i) {
    TORCH_CHECK(sel[i] >= 0 && sel[i] < num_rows && (i == 0 || sel[i] > sel[i - 1]),
                "select_rows: rows must be sorted, unique and in [0, ", num_rows, ")");
    orp[i + 1] = orp[i] + rp[sel[i] + 1] - rp[sel[i]];
  }
  const int64_t nnz = orp[n];
  out.col = at::empty({nnz}, at::kInt);
  const int32_t* cp = col.data_ptr<int32_t>();
  int32_t* ocp = out.col.data_ptr<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    std::copy(cp + rp[sel[i]], cp + rp[sel[i] + 1], ocp + orp[i]);
  }
  if (value.defined()) {
    out.value = at::empty({nnz}, value.options());
    AT_DISPATCH_FLOATING_TYPES(value.scalar_type(), "select_rows", [&] {
      const scalar_t* vp = value.data_ptr<scalar_t>();
      scalar_t* ovp = out.value.data_ptr<scalar_t>();
      for (int64_t i = 0; i < n; ++i) {
        std::copy(vp + rp[sel[i]], vp + rp[sel[i] + 1], ovp + orp[i]);
      }
    });
  }
  fill_transpose(out);
  return out;
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

}  // namespace gnnrec
