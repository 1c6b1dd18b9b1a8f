// Raw-pointer launchers of the gnnrec operators on CUDA (no Torch types):
// kernels/cuda/OP.cu defines them, kernels/cuda/OP.cpp binds them to tensors.
// Pointers are device pointers to contiguous row-major data; every launcher
// enqueues on `stream`, launches nothing when there is no work, and returns
// the first CUDA error (cudaSuccess otherwise). The contracts are those of
// kernels/ops.h; the launchers only add:
// - T is float or double (explicitly instantiated for both);
// - `hub_scratch` is a device buffer of hub_scratch_len(nnz) int64 values
//   (kernels/cuda/config.h; null when that is 0), overwritten by the call;
// - malformed CSR input (rowptr not monotone or not ending at nnz, indices
//   out of range) is not reported, only kept from touching memory outside
//   the buffers: the CPU implementations report it.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/cuda/config.h"

namespace gnnrec::ops::cuda {

// --- cuda/spmm.cu (also spmm_reduce's sum and mean)
// out[r] = Σ_k val[k] · x[col[k]] over CSR row r, k ascending (val null: 1);
// x [cols, d], out [rows, d]. mean: each non-empty row is divided by its
// degree afterwards (spmm_reduce "mean"; empty rows stay 0).
template <typename T>
cudaError_t spmm_csr(const int64_t* rowptr, const int32_t* col, const T* val, const T* x, T* out,
                     int64_t rows, int64_t cols, int64_t nnz, int64_t d, bool mean,
                     int64_t* hub_scratch, cudaStream_t stream);

// --- cuda/segment_sum_csr.cu
// out[r] = Σ_{k in row r} src[perm[k]] (src[k] when perm is null), src
// [m, heads], out [rows, heads]; k ascending.
template <typename T>
cudaError_t segment_sum_csr(const int64_t* rowptr, const int64_t* perm, const T* src, T* out,
                            int64_t rows, int64_t m, int64_t heads, int64_t* hub_scratch,
                            cudaStream_t stream);

// --- cuda/spmm_reduce.cu
// spmm_reduce "max": out[r, t] = max_k x[col[k], t], arg[r, t] the CSR
// position of the first winner (NaN wins); empty rows give 0 and -1.
template <typename T>
cudaError_t spmm_max_csr(const int64_t* rowptr, const int32_t* col, const T* x, T* out,
                         int64_t* arg, int64_t rows, int64_t cols, int64_t nnz, int64_t d,
                         int64_t* hub_scratch, cudaStream_t stream);

// _spmm_reduce_max_backward: out[c, t] = Σ_{k in t-row c} (arg[r, t] ==
// t_perm[k] ? grad[r, t] : 0) with r = t_col[k]; grad/arg [rows, d], out
// [cols, d].
template <typename T>
cudaError_t spmm_max_backward_csr(const int64_t* t_rowptr, const int32_t* t_col,
                                  const int64_t* t_perm, const int64_t* arg, const T* grad,
                                  T* out, int64_t cols, int64_t rows, int64_t nnz, int64_t d,
                                  int64_t* hub_scratch, cudaStream_t stream);

// --- cuda/sddmm.cu
// out[k] = dot(a[row(k)], b[col[k]]) for every stored entry (0 for an entry
// whose column is out of range); a [rows, d], b [cols, d].
template <typename T>
cudaError_t sddmm_csr(const int64_t* rowptr, const int32_t* col, const T* a, const T* b, T* out,
                      int64_t rows, int64_t cols, int64_t nnz, int64_t d, cudaStream_t stream);

// --- cuda/sddmm_add.cu
// out[k, h] = a_row[row(k), h] + a_col[col[k], h]; a_row [rows, heads],
// a_col [cols, heads], out [nnz, heads].
template <typename T>
cudaError_t sddmm_add_csr(const int64_t* rowptr, const int32_t* col, const T* a_row,
                          const T* a_col, T* out, int64_t rows, int64_t cols, int64_t nnz,
                          int64_t heads, cudaStream_t stream);

// --- cuda/edge_softmax.cu
// Softmax of each row's entries per head (score, out [nnz, heads]).
template <typename T>
cudaError_t edge_softmax_csr(const int64_t* rowptr, const T* score, T* out, int64_t rows,
                             int64_t nnz, int64_t heads, cudaStream_t stream);

// out = y ⊙ (grad − Σ_row(grad ⊙ y)) per head (all [nnz, heads]).
template <typename T>
cudaError_t edge_softmax_backward_csr(const int64_t* rowptr, const T* y, const T* grad, T* out,
                                      int64_t rows, int64_t nnz, int64_t heads,
                                      cudaStream_t stream);

// --- cuda/sample_neighbors.cu
// sample_neighbors: nbr/eid [n, fanout], one thread per seed, the same
// SplitMix64 streams and algorithm as the CPU (kernels/sampling_row.h), so
// the output equals the CPU's exactly. A seed outside [0, rows) gets -1
// everywhere (the CPU raises instead).
cudaError_t sample_neighbors_csr(const int64_t* rowptr, const int32_t* col, const int64_t* seeds,
                                 int64_t* nbr, int64_t* eid, int64_t rows, int64_t nnz, int64_t n,
                                 int64_t fanout, bool replace, uint64_t seed, cudaStream_t stream);

// --- cuda/sample_negatives.cu
// sample_negatives, the check before sampling: lowers *first_bad (a device
// int64 that holds n on entry) to the smallest j in [0, n) whose user is
// outside [0, rows) or has num_items or more entries in its row, if any.
cudaError_t sample_negatives_first_bad(const int64_t* rowptr, const int64_t* users, int64_t rows,
                                       int64_t nnz, int64_t n, int64_t num_items,
                                       int64_t* first_bad, cudaStream_t stream);

// sample_negatives: out [n, k], one thread per row j, the same SplitMix64
// stream (seed, j) and rejection loop as the CPU (kernels/sampling_row.h),
// so the output equals the CPU's exactly. A row that the check above
// rejects gets -1 everywhere (the binding raises before launching).
cudaError_t sample_negatives_csr(const int64_t* rowptr, const int32_t* col, const int64_t* users,
                                 int64_t* out, int64_t rows, int64_t nnz, int64_t n,
                                 int64_t num_items, int64_t k, uint64_t seed,
                                 cudaStream_t stream);

// --- cuda/topk_masked.cu
// topk_masked / _topk_masked_auc on one chunk of score rows: scores
// [rows, items], row r the scores of user users[r] (users outside
// [0, num_users) are skipped: their rows are left as they are, their AUC is
// NaN). mask_rowptr/test_rowptr have num_users + 1 entries.
//
// Sets scores[r, j] = -inf for every item j of mask row users[r] (ids
// outside [0, items) skipped); one warp per row.
template <typename T>
cudaError_t mask_score_rows(T* scores, int64_t rows, int64_t items, const int64_t* users,
                            int64_t num_users, const int64_t* mask_rowptr,
                            const int32_t* mask_col, int64_t mask_nnz, cudaStream_t stream);

// keys [rows, items]: int64 keys in the ranking order of topk_masked (the
// best largest). float: score then item, all distinct (at::topk needs no
// tie-break); double: score only, equal for equal scores (rank with a
// stable descending sort).
template <typename T>
cudaError_t rank_keys(const T* scores, int64_t* keys, int64_t rows, int64_t items,
                      cudaStream_t stream);

// auc[r] of _topk_masked_auc from the masked rows (mask and test rows sorted
// ascending without duplicates); one block per row.
template <typename T>
cudaError_t masked_auc_rows(const T* scores, int64_t rows, int64_t items, const int64_t* users,
                            int64_t num_users, const int64_t* mask_rowptr,
                            const int32_t* mask_col, int64_t mask_nnz,
                            const int64_t* test_rowptr, const int32_t* test_col,
                            int64_t test_nnz, double* auc, cudaStream_t stream);

}  // namespace gnnrec::ops::cuda
