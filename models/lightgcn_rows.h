// LightGCN's propagation for the rows a training batch reads, as one
// autograd function (models/lightgcn.cpp's represent() on the CPU).
//
//   out = ( E_0[rows] + E_1[rows] + ... + E_{K-1}[rows] + (A E_{K-1})[rows] ) / (K + 1),
//   E_{k+1} = A E_k,
//
// the rows of LightGCN's layer mean, summed in the same order as its full
// forward (so the same bits). The forward runs K - 1 whole SpMMs and one
// over the rows alone; the backward, with g = dL/dout / (K + 1),
//
//   dE_{K-1} = A[rows]ᵀ g + g at rows,   dE_k = Aᵀ dE_{k+1} + g at rows,
//
// runs one SpMM that reads only the rows' entries and K - 1 whole ones,
// adding g in place at the rows: no [N, d] temporaries besides the layers
// themselves (the autograd graph of the unfused composition made one for
// every index_select and sum, and a transposed copy of the values for every
// SpMM it differentiated). Compose-before-fuse: the unfused composition,
// forward() then index_select, is the reference the tests compare with.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "kernels/sparse_adjacency.h"

namespace gnnrec {

// The rows `rows` (int64, sorted, unique) of LightGCN's final
// representations over adjacency `a` (on the CPU), differentiable in e0
// [N, d]. `t_value`: a's values in transposed order (a.value[a.t_perm]),
// computed once by the caller; undefined for an unweighted a.
at::Tensor lightgcn_rows(const at::Tensor& e0, const SparseAdjacency& a, const at::Tensor& t_value,
                         int64_t layers, const at::Tensor& rows);

}  // namespace gnnrec
