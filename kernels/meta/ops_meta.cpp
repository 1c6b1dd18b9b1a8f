// Meta (fake) implementations: shapes and dtypes only, with symbolic sizes,
// so the operators work under FakeTensor, torch.compile and opcheck.
#include <tuple>
#include <vector>

#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "kernels/checks.h"

namespace gnnrec::ops::meta {
namespace {

at::Tensor spmm_meta(const at::Tensor& rowptr, const at::Tensor& col,
                     const std::optional<at::Tensor>& value, const at::Tensor& t_rowptr,
                     const at::Tensor& t_col, const std::optional<at::Tensor>& /*t_perm*/,
                     const at::Tensor& x) {
  check_spmm_args(rowptr, col, value, t_rowptr, t_col, x);
  return at::empty_symint({rowptr.sym_size(0) - 1, x.sym_size(1)}, x.options());
}

at::Tensor sddmm_meta(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
                      const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& a,
                      const at::Tensor& b) {
  check_sddmm_args(rowptr, col, t_rowptr, t_col, t_perm, a, b);
  return at::empty_symint({col.sym_size(0)}, a.options());
}

// Per-edge or per-node values: [n] or [n, heads] like `like`.
at::Tensor like_heads(const c10::SymInt& n, const at::Tensor& like) {
  return like.dim() == 2 ? at::empty_symint({n, like.sym_size(1)}, like.options())
                         : at::empty_symint({n}, like.options());
}

std::tuple<at::Tensor, at::Tensor> spmm_reduce_meta(const at::Tensor& rowptr,
                                                    const at::Tensor& col,
                                                    const at::Tensor& t_rowptr,
                                                    const at::Tensor& t_col,
                                                    const at::Tensor& t_perm, const at::Tensor& x,
                                                    c10::string_view reduce) {
  const Reduce r = check_spmm_reduce_args(rowptr, col, t_rowptr, t_col, t_perm, x, reduce);
  const c10::SymInt rows = rowptr.sym_size(0) - 1;
  at::Tensor out = at::empty_symint({rows, x.sym_size(1)}, x.options());
  const auto long_options = x.options().dtype(at::kLong);
  at::Tensor arg = r == Reduce::kMax ? at::empty_symint({rows, x.sym_size(1)}, long_options)
                                     : at::empty({0}, long_options);
  return {out, arg};
}

at::Tensor spmm_reduce_max_backward_meta(const at::Tensor& t_rowptr, const at::Tensor& t_col,
                                         const at::Tensor& t_perm, const at::Tensor& arg,
                                         const at::Tensor& grad) {
  check_spmm_reduce_max_backward_args(t_rowptr, t_col, t_perm, arg, grad);
  return at::empty_symint({t_rowptr.sym_size(0) - 1, grad.sym_size(1)}, grad.options());
}

at::Tensor sddmm_add_meta(const at::Tensor& rowptr, const at::Tensor& col,
                          const at::Tensor& t_rowptr, const at::Tensor& t_col,
                          const at::Tensor& t_perm, const at::Tensor& a_row,
                          const at::Tensor& a_col) {
  check_sddmm_add_args(rowptr, col, t_rowptr, t_col, t_perm, a_row, a_col);
  return like_heads(col.sym_size(0), a_row);
}

at::Tensor segment_sum_csr_meta(const at::Tensor& rowptr, const at::Tensor& src,
                                const std::optional<at::Tensor>& perm) {
  check_segment_sum_args(rowptr, src, perm);
  return like_heads(rowptr.sym_size(0) - 1, src);
}

at::Tensor edge_softmax_meta(const at::Tensor& rowptr, const at::Tensor& score) {
  check_edge_softmax_args(rowptr, score);
  return at::empty_symint(score.sym_sizes(), score.options());
}

at::Tensor edge_softmax_backward_meta(const at::Tensor& rowptr, const at::Tensor& y,
                                      const at::Tensor& grad) {
  check_edge_softmax_backward_args(rowptr, y, grad);
  return at::empty_symint(y.sym_sizes(), y.options());
}

std::tuple<at::Tensor, at::Tensor> sample_neighbors_meta(const at::Tensor& rowptr,
                                                         const at::Tensor& col,
                                                         const at::Tensor& seeds, int64_t fanout,
                                                         bool /*replace*/, int64_t /*seed*/) {
  check_sample_neighbors_args(rowptr, col, seeds, fanout);
  // The static [n, fanout] shape is why sample_neighbors pads with -1.
  const auto shape = std::vector<c10::SymInt>{seeds.sym_size(0), c10::SymInt(fanout)};
  return {at::empty_symint(shape, seeds.options()), at::empty_symint(shape, seeds.options())};
}

at::Tensor sample_negatives_meta(const at::Tensor& rowptr, const at::Tensor& col,
                                 const at::Tensor& users, int64_t num_items, int64_t k,
                                 int64_t /*seed*/) {
  check_sample_negatives_args(rowptr, col, users, num_items, k);
  const auto shape = std::vector<c10::SymInt>{users.sym_size(0), c10::SymInt(k)};
  return at::empty_symint(shape, users.options());
}

std::tuple<at::Tensor, at::Tensor> topk_masked_meta(const at::Tensor& user_emb,
                                                    const at::Tensor& item_emb,
                                                    const at::Tensor& users,
                                                    const at::Tensor& mask_rowptr,
                                                    const at::Tensor& mask_col, int64_t k,
                                                    int64_t chunk) {
  check_topk_masked_args(user_emb, item_emb, users, mask_rowptr, mask_col, k, chunk);
  const auto shape = std::vector<c10::SymInt>{users.sym_size(0), c10::SymInt(k)};
  return {at::empty_symint(shape, user_emb.options()), at::empty_symint(shape, users.options())};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> topk_masked_auc_meta(
    const at::Tensor& user_emb, const at::Tensor& item_emb, const at::Tensor& users,
    const at::Tensor& mask_rowptr, const at::Tensor& mask_col, const at::Tensor& test_rowptr,
    const at::Tensor& test_col, int64_t k, int64_t chunk) {
  check_topk_masked_auc_args(user_emb, item_emb, users, mask_rowptr, mask_col, test_rowptr,
                             test_col, k, chunk);
  const auto shape = std::vector<c10::SymInt>{users.sym_size(0), c10::SymInt(k)};
  return {at::empty_symint(shape, user_emb.options()), at::empty_symint(shape, users.options()),
          at::empty_symint({users.sym_size(0)}, user_emb.options().dtype(at::kDouble))};
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Meta, m) {
  m.impl("spmm", &spmm_meta);
  m.impl("sddmm", &sddmm_meta);
  m.impl("spmm_reduce", &spmm_reduce_meta);
  m.impl("sddmm_add", &sddmm_add_meta);
  m.impl("edge_softmax", &edge_softmax_meta);
  m.impl("sample_neighbors", &sample_neighbors_meta);
  m.impl("sample_negatives", &sample_negatives_meta);
  m.impl("_spmm_reduce_max_backward", &spmm_reduce_max_backward_meta);
  m.impl("_segment_sum_csr", &segment_sum_csr_meta);
  m.impl("_edge_softmax_backward", &edge_softmax_backward_meta);
  m.impl("topk_masked", &topk_masked_meta);
  m.impl("_topk_masked_auc", &topk_masked_auc_meta);
}

}  // namespace gnnrec::ops::meta
