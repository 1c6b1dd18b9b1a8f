// Meta (fake) implementations of topk_masked and _topk_masked_auc: shapes and
// dtypes only, with symbolic sizes, so the operators work under FakeTensor,
// torch.compile and opcheck.
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

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Meta, m) {
  m.impl("topk_masked", &topk_masked_meta);
  m.impl("_topk_masked_auc", &topk_masked_auc_meta);
}

}  // namespace gnnrec::ops::meta
