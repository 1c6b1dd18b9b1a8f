// C++ entry points of the gnnrec operators. Each call goes through the Torch
// dispatcher, so the device (CPU/CUDA/Meta) and autograd are chosen there,
// never by the caller.
//
// Sparse matrices are CSR: rowptr int64 [rows+1], col int32 [nnz], optional
// value [nnz] of x's dtype. Operators that need the transpose for their
// backward take it precomputed: t_rowptr/t_col is the CSR of Aᵀ and
// t_perm int64 [nnz] maps each transposed entry to its position in A's CSR
// (see kernels/sparse_adjacency.h, the struct that holds all of these, and
// models/propagation_graph.h, which builds and caches them once per graph).
//
// Every operator has a CPU and a CUDA implementation (kernels/cpu/,
// kernels/cuda/) with the same contract. On CUDA: results are bitwise
// reproducible run to run (no floating-point atomics) and equal the CPU's
// up to floating-point rounding (the max of spmm_reduce, sddmm_add and
// sample_neighbors equal it exactly); a row with more than
// cuda::kHubDegree entries (kernels/cuda/config.h) is summed by a whole
// block in fixed segments. The value checks the CPU raises on (rowptr not
// monotone or not ending at nnz, indices or seeds out of range) would need a
// device synchronisation and are not made on CUDA: such input gives
// unspecified values (seeds out of range give -1), never accesses outside
// the buffers. The exception is sample_negatives, whose users are checked
// on every device (see there).
#pragma once

#include <optional>
#include <string_view>
#include <tuple>

#include <ATen/core/Tensor.h>

namespace gnnrec::ops {

// out = A · x, out[r] = Σ_k value[k] · x[col[k]] (value 1 when absent).
// x: [cols, d] float32 or float64. Differentiable in x and in value
// (t_perm is required for the value gradient). Deterministic: on the CPU
// every output row is summed by one thread in CSR order, whatever the
// thread count; on CUDA by one group of lanes in CSR order (a hub row: by
// fixed segments, added in segment order).
at::Tensor spmm(const at::Tensor& rowptr, const at::Tensor& col,
                const std::optional<at::Tensor>& value, const at::Tensor& t_rowptr,
                const at::Tensor& t_col, const std::optional<at::Tensor>& t_perm,
                const at::Tensor& x);

// out[k] = dot(a[row(k)], b[col[k]]) for every stored entry k of A.
// a: [rows, d], b: [cols, d]. Differentiable in a and b.
at::Tensor sddmm(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
                 const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& a,
                 const at::Tensor& b);

// Neighbourhood reduction over each CSR row (row r aggregates x[col[k]] over
// its entries k). reduce is "sum", "mean" or "max"; x: [cols, d] float32 or
// float64. Returns (out [rows, d], arg):
//   sum:  out[r] = Σ_k x[col[k]];            arg is an empty int64 tensor.
//   mean: out[r] = Σ_k x[col[k]] / deg(r);   arg is an empty int64 tensor.
//   max:  out[r, t] = max_k x[col[k], t];    arg int64 [rows, d] holds the CSR
//         position k (an index into col, not a node id) of the entry that won
//         column t, the first one on ties; a NaN wins over any number (the
//         first NaN), as in torch.max.
// An empty row gives out 0 (and arg -1 for max). Differentiable in x, without
// atomics: sum and mean go back through the transpose (mean scales the
// gradient by 1/deg first); max sends g[r, t] to x[col[arg[r, t]], t] only,
// gathered per x row by _spmm_reduce_max_backward.
std::tuple<at::Tensor, at::Tensor> spmm_reduce(const at::Tensor& rowptr, const at::Tensor& col,
                                               const at::Tensor& t_rowptr,
                                               const at::Tensor& t_col, const at::Tensor& t_perm,
                                               const at::Tensor& x, std::string_view reduce);

// out[k, h] = a_row[row(k), h] + a_col[col[k], h] for every stored entry k
// (GAT attention logits). a_row: [rows, H], a_col: [cols, H] → out [nnz, H];
// or a_row [rows], a_col [cols] → out [nnz]. Differentiable in both:
// dL/da_row is the per-row sum of g, dL/da_col the per-column sum (over the
// transpose, in t_perm order), both without atomics.
at::Tensor sddmm_add(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
                     const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& a_row,
                     const at::Tensor& a_col);

// Softmax over the entries of each CSR row, per head: score [nnz] or
// [nnz, H] float32/float64, same shape out. Numerically stable (the row's max
// is subtracted first), so huge finite scores and -inf entries are fine. A
// row (head) whose entries are all -inf has no mass to share: it gives 0
// everywhere (torch.softmax would give NaN), and a zero gradient. +inf or NaN
// scores give NaN, as in torch.softmax. Differentiable:
// dL/dscore = y ⊙ (g − Σ_row(g ⊙ y)), by _edge_softmax_backward.
at::Tensor edge_softmax(const at::Tensor& rowptr, const at::Tensor& score);

// Samples up to `fanout` neighbours of each seed node: for seeds int64 [n],
// returns (nbr, eid), both int64 [n, fanout]: nbr[j, i] = col[eid[j, i]] and
// eid[j, i] a CSR position in row seeds[j].
//   replace = true:  fanout independent uniform draws from the row.
//   replace = false: a uniform random subset of fanout distinct entries when
//     deg >= fanout (Floyd's algorithm; the order within a row is not
//     random); when deg < fanout it falls back to drawing with replacement,
//     as the original GraphSAGE code does, so every slot is still filled.
// A seed without neighbours gets -1 in every slot of both outputs.
// The output shape is fixed to [n, fanout] (rather than ragged) so that the
// Meta implementation is static and a GPU version writes its result in one
// pass, without a prefix sum over per-seed counts.
// Deterministic: row j depends only on (seed, seeds[j]) through its own
// SplitMix64 stream, so results do not depend on the thread count (and a
// node listed twice gets the same sample twice). Not differentiable.
// Errors on fanout <= 0 and on seeds outside [0, rows).
std::tuple<at::Tensor, at::Tensor> sample_neighbors(const at::Tensor& rowptr,
                                                    const at::Tensor& col, const at::Tensor& seeds,
                                                    int64_t fanout, bool replace, int64_t seed);

// Uniform negative sampling for implicit feedback: for users int64 [n] and
// the user -> item CSR (rowptr int64 [U+1], col int32 [E], each row sorted
// ascending and free of duplicates, item ids in [0, num_items)), returns
// int64 [n, k] on users' device: row j holds k independent uniform draws
// from the items in [0, num_items) that user users[j] has no entry for
// (rejection against the sorted row; draws may repeat within a row).
// Deterministic: row j depends only on (seed, j) through its own SplitMix64
// stream (row j, not the user: a user listed twice gets two different
// samples), so results do not depend on the thread count, and CPU and CUDA
// give equal output (kernels/sampling_row.h holds the per-row code both
// run). samplers/negative_sampler.h wraps it for a BipartiteGraph.
// Errors (on every device, before any sampling) on k <= 0, num_items
// outside [1, 2^31], a user outside [0, U), and a user whose row has
// num_items or more entries (no negative exists: rejection would never
// end). On CUDA those value checks cost one device synchronisation per
// call; rowptr's and col's values are checked on the CPU only (a malformed
// CSR on CUDA gives unspecified draws, never reads outside the buffers or an
// endless loop). Not differentiable.
at::Tensor sample_negatives(const at::Tensor& rowptr, const at::Tensor& col,
                            const at::Tensor& users, int64_t num_items, int64_t k, int64_t seed);

// Full-ranking top-k with masked items. For each j, with u = users[j] (an
// int64 row of user_emb [U, d]): scores s[i] = user_emb[u] · item_emb[i]
// over all I items (item_emb [I, d], same float32/float64 dtype and device),
// the items of CSR row u of the mask (mask_rowptr int64 [U+1] over all users,
// mask_col int32 item ids; any order, repeats allowed) set to -inf, and
// returns (values [n, k] of the dtype, indices int64 [n, k]): the k best
// items, best first. The order is total, so the result is unique and equal
// on CPU and CUDA for equal scores: the larger score first, NaN above every
// number, and among equal scores (including -0 and +0, the -inf of masked
// items, and NaNs) the lower item id first. Rows with fewer than k unmasked
// items end with masked ones (value -inf, lowest ids first).
// Scores are computed `chunk` users at a time ([chunk, I] scores exist at
// once, never [n, I]) by at::matmul (BLAS / cuBLAS): values are that
// product's entries, so CPU and CUDA agree up to its rounding (and rank
// alike wherever the scores are equal). On CUDA the ranking of float32
// scores is at::topk over distinct 64-bit keys (order-preserving score bits,
// then the inverted item id), of float64 scores a stable descending sort;
// on either device results are reproducible run to run.
// Not differentiable: the outputs never require grad (its Autograd entry is
// a fallthrough and the scores are computed below autograd).
// Errors, on every device, on: bad dtypes, devices or shapes (naming the
// argument), k outside [0, I], chunk <= 0, and an id in users outside
// [0, U) (on CUDA: one device synchronisation per call). The CPU also
// checks mask_rowptr (from 0 to nnz, non-decreasing) and mask_col ids;
// CUDA does not (such entries are skipped, never read or written outside
// the buffers).
std::tuple<at::Tensor, at::Tensor> topk_masked(const at::Tensor& user_emb,
                                               const at::Tensor& item_emb,
                                               const at::Tensor& users,
                                               const at::Tensor& mask_rowptr,
                                               const at::Tensor& mask_col, int64_t k,
                                               int64_t chunk);

// Internal operators (leading underscore): the backward passes above, as
// operators so that they dispatch by device. Exposed for tests.

// grad_x [cols, d] of spmm_reduce's max: grad_x[c, t] = Σ g[r, t] over the
// transposed row c's entries (r = t_col[k]) with arg[r, t] == t_perm[k].
at::Tensor spmm_reduce_max_backward(const at::Tensor& t_rowptr, const at::Tensor& t_col,
                                    const at::Tensor& t_perm, const at::Tensor& arg,
                                    const at::Tensor& grad);
// out[r] = Σ_{k in row r} src[perm[k]] (src[k] without perm): src [m] or
// [m, H] → out [rows] or [rows, H]. Each row is summed in CSR order.
at::Tensor segment_sum_csr(const at::Tensor& rowptr, const at::Tensor& src,
                           const std::optional<at::Tensor>& perm);
// Backward of edge_softmax: y ⊙ (grad − Σ_row(grad ⊙ y)), per head.
at::Tensor edge_softmax_backward(const at::Tensor& rowptr, const at::Tensor& y,
                                 const at::Tensor& grad);
// topk_masked and, from the same masked score rows, the AUC of each user
// (float64 [n]): with T the items of test row u (test_rowptr int64 [U+1],
// test_col int32) and N the items neither masked nor in T,
//   auc = Σ_{t∈T} Σ_{j∈N} ([s_t > s_j] + ½·[s_t = s_j]) ÷ (|T|·|N|),
// s_t read after masking (-inf for a test item that is also masked); NaN
// when T or N is empty. This is train/metrics.h's user_auc with the mask as
// the training items, and equal to it bit for bit on the same scores (the
// counts are exact). Each row of the mask and of the test CSR must be
// sorted ascending without duplicates (the CPU checks it and the test ids;
// CUDA does not). The evaluator's one pass over the scores.
std::tuple<at::Tensor, at::Tensor, at::Tensor> topk_masked_auc(
    const at::Tensor& user_emb, const at::Tensor& item_emb, const at::Tensor& users,
    const at::Tensor& mask_rowptr, const at::Tensor& mask_col, const at::Tensor& test_rowptr,
    const at::Tensor& test_col, int64_t k, int64_t chunk);

// _topk_masked_auc's ranking of score rows the caller computed, for models
// whose scores are not a dot product of modest-width factors (GF-CF's
// item–item filter, models/model.h: ranking_rows): row j of scores
// ([n, I] float32/float64, any strides; not modified) belongs to user
// users[j] (int64 [n]), whose mask row (mask_rowptr int64 [U+1], mask_col
// int32) is set to -inf before its top k are taken, in topk_masked's total
// order. With test_rowptr/test_col (both or neither) also each row's AUC
// (float64 [n]) as _topk_masked_auc computes it; without, an empty float64
// tensor. Returns (values [n, k], indices int64 [n, k], auc). Equal to
// _topk_masked_auc bit for bit on the same score rows; the errors are
// theirs (U is mask_rowptr's length - 1).
std::tuple<at::Tensor, at::Tensor, at::Tensor> topk_masked_scores(
    const at::Tensor& scores, const at::Tensor& users, const at::Tensor& mask_rowptr,
    const at::Tensor& mask_col, const std::optional<at::Tensor>& test_rowptr,
    const std::optional<at::Tensor>& test_col, int64_t k);

}  // namespace gnnrec::ops
