// A sparse matrix in the layout the gnnrec operators take (kernels/ops.h):
// CSR with its transpose precomputed, as Torch tensors. The transpose is
// stored explicitly so that every operator's backward works for any matrix
// (a left-normalised adjacency is not symmetric). models/propagation_graph.h
// derives and caches the unified user+item adjacencies in this layout.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace gnnrec {

// A CSR matrix with its transpose, ready for gnnrec::spmm / sddmm.
struct SparseAdjacency {
  int64_t num_rows = 0;
  int64_t num_cols = 0;
  at::Tensor rowptr;    // int64 [rows+1]
  at::Tensor col;       // int32 [nnz]
  at::Tensor value;     // [nnz], undefined for an unweighted 0/1 matrix
  at::Tensor t_rowptr;  // CSR of the transpose: int64 [cols+1]
  at::Tensor t_col;     // int32 [nnz]
  at::Tensor t_perm;    // int64 [nnz]: transposed entry k is entry t_perm[k] of A

  int64_t nnz() const { return col.numel(); }
  // A copy on `device` with values cast to `dtype`.
  SparseAdjacency to(at::Device device, at::ScalarType dtype) const;
  // y = A · x through gnnrec::spmm (differentiable in x and value).
  at::Tensor matmul(const at::Tensor& x) const;
  // The rows `rows` of A (int64, sorted ascending, unique) as a matrix of
  // their own, [R, num_cols], entries in A's order, with its transpose:
  // select_rows(r).matmul(x) is A·x's rows r, summed in the same order (so
  // bit for bit), and its backward scatters into x's rows through the
  // transpose, touching only the R rows' entries. One counting sort,
  // O(R + their nnz + num_cols). CPU only (a GPU computes the whole
  // product faster than it would build this).
  SparseAdjacency select_rows(const at::Tensor& rows) const;
};

// Builds the transpose fields (t_rowptr, t_col, t_perm) of a CSR matrix by a
// counting sort: within each transposed row, entries are ordered by their
// row in A, so the result is deterministic.
void fill_transpose(SparseAdjacency& a);

}  // namespace gnnrec
