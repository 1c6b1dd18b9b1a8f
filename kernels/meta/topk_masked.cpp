// Meta (fake) implementations of topk_masked, _topk_masked_auc and
// _topk_masked_scores: shapes and dtypes only, with symbolic sizes, so the
// operators work under FakeTensor, torch.compile and opcheck.
#include <optional>
#include <tuple>
#include <vector>

#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "kernels/checks.h"

namespace gnnrec::ops::meta {
namespace {

std::tuple<at::Tensor, at::Tensor> topk_masked_meta(
    const at::Tensor& user_emb, const at::Tensor& item_emb, const at::Tensor& users,
    const at::Tensor& mask_rowptr, const at::Tensor& mask_col, int64_t k, int64_t chunk) {
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

std::tuple<at::Tensor, at::Tensor, at::Tensor> topk_masked_scores_meta(
    const at::Tensor& scores, const at::Tensor& users, const at::Tensor& mask_rowptr,
    const at::Tensor& mask_col, const std::optional<at::Tensor>& test_rowptr,
    const std::optional<at::Tensor>& test_col, int64_t k) {
  check_topk_masked_scores_args(scores, users, mask_rowptr, mask_col, test_rowptr, test_col, k);
  const auto shape = std::vector<c10::SymInt>{scores.sym_size(0), c10::SymInt(k)};
  const c10::SymInt auc_rows = test_rowptr ? scores.sym_size(0) : c10::SymInt(0);
  return {at::empty_symint(shape, scores.options()), at::empty_symint(shape, users.options()),
          at::empty_symint({auc_rows}, scores.options().dtype(at::kDouble))};
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Meta, m) {
  m.impl("topk_masked", &topk_masked_meta);
  m.impl("_topk_masked_auc", &topk_masked_auc_meta);
  m.impl("_topk_masked_scores", &topk_masked_scores_meta);
}

}  // namespace gnnrec::ops::meta
