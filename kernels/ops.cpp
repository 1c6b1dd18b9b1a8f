#include "kernels/ops.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace gnnrec::ops {
namespace {

// The operator's handle, typed by the entry point's own signature (checked
// against the schema once, on first use).
template <typename Signature>
c10::TypedOperatorHandle<Signature> find_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

}  // namespace

at::Tensor spmm(const at::Tensor& rowptr, const at::Tensor& col,
                const std::optional<at::Tensor>& value, const at::Tensor& t_rowptr,
                const at::Tensor& t_col, const std::optional<at::Tensor>& t_perm,
                const at::Tensor& x) {
  static const auto op = find_op<decltype(spmm)>("gnnrec::spmm");
  return op.call(rowptr, col, value, t_rowptr, t_col, t_perm, x);
}

at::Tensor sddmm(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
                 const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& a,
                 const at::Tensor& b) {
  static const auto op = find_op<decltype(sddmm)>("gnnrec::sddmm");
  return op.call(rowptr, col, t_rowptr, t_col, t_perm, a, b);
}

std::tuple<at::Tensor, at::Tensor> spmm_reduce(const at::Tensor& rowptr, const at::Tensor& col,
                                               const at::Tensor& t_rowptr,
                                               const at::Tensor& t_col, const at::Tensor& t_perm,
                                               const at::Tensor& x, std::string_view reduce) {
  static const auto op = find_op<decltype(spmm_reduce)>("gnnrec::spmm_reduce");
  return op.call(rowptr, col, t_rowptr, t_col, t_perm, x, reduce);
}

at::Tensor sddmm_add(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
                     const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& a_row,
                     const at::Tensor& a_col) {
  static const auto op = find_op<decltype(sddmm_add)>("gnnrec::sddmm_add");
  return op.call(rowptr, col, t_rowptr, t_col, t_perm, a_row, a_col);
}

at::Tensor edge_softmax(const at::Tensor& rowptr, const at::Tensor& score) {
  static const auto op = find_op<decltype(edge_softmax)>("gnnrec::edge_softmax");
  return op.call(rowptr, score);
}

std::tuple<at::Tensor, at::Tensor> sample_neighbors(const at::Tensor& rowptr,
                                                    const at::Tensor& col, const at::Tensor& seeds,
                                                    int64_t fanout, bool replace, int64_t seed) {
  static const auto op = find_op<decltype(sample_neighbors)>("gnnrec::sample_neighbors");
  return op.call(rowptr, col, seeds, fanout, replace, seed);
}

at::Tensor sample_negatives(const at::Tensor& rowptr, const at::Tensor& col,
                            const at::Tensor& users, int64_t num_items, int64_t k, int64_t seed) {
  static const auto op = find_op<decltype(sample_negatives)>("gnnrec::sample_negatives");
  return op.call(rowptr, col, users, num_items, k, seed);
}

std::tuple<at::Tensor, at::Tensor> topk_masked(const at::Tensor& user_emb,
                                               const at::Tensor& item_emb,
                                               const at::Tensor& users,
                                               const at::Tensor& mask_rowptr,
                                               const at::Tensor& mask_col, int64_t k,
                                               int64_t chunk) {
  static const auto op = find_op<decltype(topk_masked)>("gnnrec::topk_masked");
  return op.call(user_emb, item_emb, users, mask_rowptr, mask_col, k, chunk);
}

at::Tensor spmm_reduce_max_backward(const at::Tensor& t_rowptr, const at::Tensor& t_col,
                                    const at::Tensor& t_perm, const at::Tensor& arg,
                                    const at::Tensor& grad) {
  static const auto op =
      find_op<decltype(spmm_reduce_max_backward)>("gnnrec::_spmm_reduce_max_backward");
  return op.call(t_rowptr, t_col, t_perm, arg, grad);
}

at::Tensor segment_sum_csr(const at::Tensor& rowptr, const at::Tensor& src,
                           const std::optional<at::Tensor>& perm) {
  static const auto op = find_op<decltype(segment_sum_csr)>("gnnrec::_segment_sum_csr");
  return op.call(rowptr, src, perm);
}

at::Tensor edge_softmax_backward(const at::Tensor& rowptr, const at::Tensor& y,
                                 const at::Tensor& grad) {
  static const auto op =
      find_op<decltype(edge_softmax_backward)>("gnnrec::_edge_softmax_backward");
  return op.call(rowptr, y, grad);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> topk_masked_auc(
    const at::Tensor& user_emb, const at::Tensor& item_emb, const at::Tensor& users,
    const at::Tensor& mask_rowptr, const at::Tensor& mask_col, const at::Tensor& test_rowptr,
    const at::Tensor& test_col, int64_t k, int64_t chunk) {
  static const auto op = find_op<decltype(topk_masked_auc)>("gnnrec::_topk_masked_auc");
  return op.call(user_emb, item_emb, users, mask_rowptr, mask_col, test_rowptr, test_col, k,
                 chunk);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> topk_masked_scores(
    const at::Tensor& scores, const at::Tensor& users, const at::Tensor& mask_rowptr,
    const at::Tensor& mask_col, const std::optional<at::Tensor>& test_rowptr,
    const std::optional<at::Tensor>& test_col, int64_t k) {
  static const auto op = find_op<decltype(topk_masked_scores)>("gnnrec::_topk_masked_scores");
  return op.call(scores, users, mask_rowptr, mask_col, test_rowptr, test_col, k);
}

}  // namespace gnnrec::ops
