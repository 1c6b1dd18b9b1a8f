#include "kernels/sparse_adjacency.h"

#include <optional>
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

}  // namespace gnnrec
