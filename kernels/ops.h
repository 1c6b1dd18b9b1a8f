// C++ entry points of the gnnrec operators. Each call goes through the Torch
// dispatcher, so the device (CPU/CUDA/Meta) and autograd are chosen there,
// never by the caller.
//
// Sparse matrices are CSR: rowptr int64 [rows+1], col int32 [nnz], optional
// value [nnz] of x's dtype. Operators that need the transpose for their
// backward take it precomputed: t_rowptr/t_col is the CSR of Aᵀ and
// t_perm int64 [nnz] maps each transposed entry to its position in A's CSR
// (see graph/adjacency.h, which builds and caches all of these once).
#pragma once

#include <optional>

#include <ATen/core/Tensor.h>

namespace gnnrec::ops {

// out = A · x, out[r] = Σ_k value[k] · x[col[k]] (value 1 when absent).
// x: [cols, d] float32 or float64. Differentiable in x and in value
// (t_perm is required for the value gradient). Deterministic: every output
// row is summed by one thread in CSR order, whatever the thread count.
at::Tensor spmm(const at::Tensor& rowptr, const at::Tensor& col,
                const std::optional<at::Tensor>& value, const at::Tensor& t_rowptr,
                const at::Tensor& t_col, const std::optional<at::Tensor>& t_perm,
                const at::Tensor& x);

// out[k] = dot(a[row(k)], b[col[k]]) for every stored entry k of A.
// a: [rows, d], b: [cols, d]. Differentiable in a and b.
at::Tensor sddmm(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
                 const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& a,
                 const at::Tensor& b);

}  // namespace gnnrec::ops
