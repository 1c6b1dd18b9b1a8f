// Argument checks shared by every implementation (CPU, CUDA, Meta) of the
// sparse operators, so that bad input fails the same way on each device.
// Messages start with the operator's name and name the argument.
//
// The check_*_args functions run every check that does not read tensor data
// (types, devices, shapes, with symbolic sizes so they also run under
// FakeTensor). Value checks (rowptr monotone, indices in range) are left to
// the kernels.
#pragma once

#include <optional>
#include <string_view>

#include <ATen/core/Tensor.h>

namespace gnnrec::ops {

// rowptr: 1-D int64 with at least one entry, on like's device.
void check_rowptr(const char* op, const char* prefix, const at::Tensor& rowptr,
                  const at::Tensor& like);
// rowptr as above; col: 1-D int32; value, when present: 1-D, nnz long, of
// like's dtype; all on the same device as `like`.
void check_csr(const char* op, const char* prefix, const at::Tensor& rowptr,
               const at::Tensor& col, const std::optional<at::Tensor>& value,
               const at::Tensor& like);
// The transpose of the CSR matrix whose col is `col`: t_rowptr/t_col as in
// check_csr, t_col with nnz entries.
void check_transpose(const char* op, const at::Tensor& col, const at::Tensor& t_rowptr,
                     const at::Tensor& t_col, const at::Tensor& like);
// A position map (t_perm): 1-D int64 with one entry per stored element of
// col, on like's device.
void check_perm(const char* op, const char* name, const at::Tensor& perm, const at::Tensor& col,
                const at::Tensor& like);
// A float32/float64 tensor of like's dtype and device (any number of dims).
void check_float(const char* op, const char* name, const at::Tensor& x, const at::Tensor& like);
// A dense 2-D float32/float64 operand.
void check_dense(const char* op, const char* name, const at::Tensor& x, const at::Tensor& like);

void check_spmm_args(const at::Tensor& rowptr, const at::Tensor& col,
                     const std::optional<at::Tensor>& value, const at::Tensor& t_rowptr,
                     const at::Tensor& t_col, const at::Tensor& x);
void check_sddmm_args(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
                      const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& a,
                      const at::Tensor& b);

// spmm_reduce's reductions.
enum class Reduce { kSum, kMean, kMax };
// Checks spmm_reduce's arguments and returns the parsed `reduce`.
Reduce check_spmm_reduce_args(const at::Tensor& rowptr, const at::Tensor& col,
                              const at::Tensor& t_rowptr, const at::Tensor& t_col,
                              const at::Tensor& t_perm, const at::Tensor& x,
                              std::string_view reduce);
void check_spmm_reduce_max_backward_args(const at::Tensor& t_rowptr, const at::Tensor& t_col,
                                         const at::Tensor& t_perm, const at::Tensor& arg,
                                         const at::Tensor& grad);
void check_sddmm_add_args(const at::Tensor& rowptr, const at::Tensor& col,
                          const at::Tensor& t_rowptr, const at::Tensor& t_col,
                          const at::Tensor& t_perm, const at::Tensor& a_row,
                          const at::Tensor& a_col);
void check_segment_sum_args(const at::Tensor& rowptr, const at::Tensor& src,
                            const std::optional<at::Tensor>& perm);
void check_edge_softmax_args(const at::Tensor& rowptr, const at::Tensor& score);
void check_edge_softmax_backward_args(const at::Tensor& rowptr, const at::Tensor& y,
                                      const at::Tensor& grad);
void check_sample_neighbors_args(const at::Tensor& rowptr, const at::Tensor& col,
                                 const at::Tensor& seeds, int64_t fanout);
// users 1-D int64, rowptr/col a CSR on users' device, 1 <= num_items <= 2^31
// (items are int32 ids), k > 0.
void check_sample_negatives_args(const at::Tensor& rowptr, const at::Tensor& col,
                                 const at::Tensor& users, int64_t num_items, int64_t k);

// topk_masked: user_emb [U, d] and item_emb [I, d] float32/float64 of one
// dtype and device, users 1-D int64, mask_rowptr/mask_col a CSR over the U
// users on that device, 0 <= k <= I, chunk > 0.
void check_topk_masked_args(const at::Tensor& user_emb, const at::Tensor& item_emb,
                            const at::Tensor& users, const at::Tensor& mask_rowptr,
                            const at::Tensor& mask_col, int64_t k, int64_t chunk);
// _topk_masked_auc: the same, and test_rowptr/test_col another CSR over the
// U users.
void check_topk_masked_auc_args(const at::Tensor& user_emb, const at::Tensor& item_emb,
                                const at::Tensor& users, const at::Tensor& mask_rowptr,
                                const at::Tensor& mask_col, const at::Tensor& test_rowptr,
                                const at::Tensor& test_col, int64_t k, int64_t chunk);
// _topk_masked_scores: scores [n, I] float32/float64, users 1-D int64 with n
// entries, mask_rowptr/mask_col a CSR over the users (U = mask_rowptr's
// length - 1) and test_rowptr/test_col, when given (both or neither),
// another, all on scores' device; 0 <= k <= I.
void check_topk_masked_scores_args(const at::Tensor& scores, const at::Tensor& users,
                                   const at::Tensor& mask_rowptr, const at::Tensor& mask_col,
                                   const std::optional<at::Tensor>& test_rowptr,
                                   const std::optional<at::Tensor>& test_col, int64_t k);

}  // namespace gnnrec::ops
