// CUDA bindings of topk_masked, _topk_masked_auc and _topk_masked_scores (see
// kernels/cuda/binding.h for what every binding does). Per chunk of users:
// the scores by at::matmul (cuBLAS; _topk_masked_scores takes them as given,
// one chunk), the masked items set to -inf by a kernel, the ranking by at::topk
// over int64 keys that order (score, then lower item id) with no ties
// (float32), or by a stable descending sort of the score keys (float64), and
// for the AUC one kernel over the masked rows. Only [chunk, items] scores
// (and their keys) exist at once.
#include <optional>

#include <ATen/Dispatch.h>
#include <ATen/core/LegacyTypeDispatch.h>
#include <ATen/ops/aminmax.h>
#include <ATen/ops/clone.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/gather.h>
#include <ATen/ops/index_select.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/sort.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/topk.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "base/nvtx.h"
#include "kernels/checks.h"
#include "kernels/cuda/binding.h"
#include "kernels/cuda/launchers.h"

namespace gnnrec::ops::cuda {
namespace {

// Ranks one chunk of score rows in place (masked items set to -inf): row r
// of `scores` (contiguous [rows, items]) belongs to user chunk_users[r]; its
// top k go to row r of values/indices (views of the output's rows) and,
// with a test CSR, its AUC to auc[r].
template <typename scalar_t>
void rank_chunk(const at::Tensor& scores, const at::Tensor& chunk_users, int64_t num_users,
                const at::Tensor& mask_rowptr, const at::Tensor& mask_col,
                const at::Tensor& test_rowptr, const at::Tensor& test_col, int64_t k,
                const at::Tensor& values, const at::Tensor& indices, double* auc) {
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  const int64_t rows = scores.size(0), items = scores.size(1);
  const int64_t* up = chunk_users.data_ptr<int64_t>();
  scalar_t* sp = scores.data_ptr<scalar_t>();
  C10_CUDA_CHECK(mask_score_rows<scalar_t>(sp, rows, items, up, num_users,
                                           mask_rowptr.data_ptr<int64_t>(),
                                           mask_col.data_ptr<int32_t>(), mask_col.numel(), stream));
  if (k > 0) {
    at::Tensor keys = at::empty({rows, items}, chunk_users.options());
    C10_CUDA_CHECK(rank_keys<scalar_t>(sp, keys.data_ptr<int64_t>(), rows, items, stream));
    // float32 keys are distinct: the top k and their order are unique.
    // float64 keys tie on equal scores: the stable sort keeps item order.
    const at::Tensor top =
        sizeof(scalar_t) == 4
            ? std::get<1>(at::topk(keys, k, /*dim=*/1, /*largest=*/true, /*sorted=*/true))
            : std::get<1>(at::sort(keys, /*stable=*/true, /*dim=*/1, /*descending=*/true))
                  .narrow(1, 0, k);
    indices.copy_(top);
    values.copy_(scores.gather(1, top));
  }
  if (auc != nullptr) {
    C10_CUDA_CHECK(masked_auc_rows<scalar_t>(
        sp, rows, items, up, num_users, mask_rowptr.data_ptr<int64_t>(),
        mask_col.data_ptr<int32_t>(), mask_col.numel(), test_rowptr.data_ptr<int64_t>(),
        test_col.data_ptr<int32_t>(), test_col.numel(), auc, stream));
  }
}

// index_select traps on the device for an id out of range (and the
// context is lost), so the ids are checked first: one synchronisation.
void check_user_range(const char* op, const at::Tensor& users, int64_t num_users) {
  if (users.numel() == 0) return;
  const auto [lo, hi] = at::aminmax(users);
  const at::Tensor range = at::stack({lo, hi}).cpu();
  const int64_t low = range.data_ptr<int64_t>()[0], high = range.data_ptr<int64_t>()[1];
  TORCH_CHECK(low >= 0 && high < num_users, op, ": users holds user ", low < 0 ? low : high,
              " outside [0, ", num_users, ")");
}

// topk_masked and _topk_masked_auc: test_rowptr/test_col undefined for
// topk_masked (no AUC).
std::tuple<at::Tensor, at::Tensor, at::Tensor> rank_users_cuda(
    const char* op, const at::Tensor& user_emb, const at::Tensor& item_emb,
    const at::Tensor& users_in, const at::Tensor& mask_rowptr_in, const at::Tensor& mask_col_in,
    const at::Tensor& test_rowptr_in, const at::Tensor& test_col_in, int64_t k, int64_t chunk) {
  c10::cuda::CUDAGuard device_guard(user_emb.device());
  // The scores are a temporary of this operator: they never join an
  // autograd graph (it is not differentiable).
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  const bool with_auc = test_rowptr_in.defined();
  const at::Tensor users = users_in.contiguous();
  const at::Tensor mask_rowptr = mask_rowptr_in.contiguous(), mask_col = mask_col_in.contiguous();
  const at::Tensor test_rowptr = with_auc ? test_rowptr_in.contiguous() : at::Tensor();
  const at::Tensor test_col = with_auc ? test_col_in.contiguous() : at::Tensor();
  const int64_t num_users = user_emb.size(0), n = users.numel();
  at::Tensor values = at::empty({n, k}, user_emb.options());
  at::Tensor indices = at::empty({n, k}, users.options());
  at::Tensor auc = with_auc ? at::empty({n}, user_emb.options().dtype(at::kDouble)) : at::Tensor();
  if (n == 0) return {values, indices, auc};
  check_user_range(op, users, num_users);
  AT_DISPATCH_FLOATING_TYPES(user_emb.scalar_type(), "topk_masked_cuda", [&] {
    for (int64_t begin = 0; begin < n; begin += chunk) {
      const int64_t rows = std::min(n, begin + chunk) - begin;
      const at::Tensor chunk_users = users.narrow(0, begin, rows);
      const at::Tensor scores =
          at::matmul(user_emb.index_select(0, chunk_users), item_emb.t()).contiguous();
      rank_chunk<scalar_t>(scores, chunk_users, num_users, mask_rowptr, mask_col, test_rowptr,
                           test_col, k, values.narrow(0, begin, rows),
                           indices.narrow(0, begin, rows),
                           with_auc ? auc.data_ptr<double>() + begin : nullptr);
    }
  });
  return {values, indices, auc};
}

std::tuple<at::Tensor, at::Tensor> topk_masked_cuda(const at::Tensor& user_emb,
                                                    const at::Tensor& item_emb,
                                                    const at::Tensor& users,
                                                    const at::Tensor& mask_rowptr,
                                                    const at::Tensor& mask_col, int64_t k,
                                                    int64_t chunk) {
  NvtxRange nvtx("gnnrec::topk_masked");
  check_topk_masked_args(user_emb, item_emb, users, mask_rowptr, mask_col, k, chunk);
  auto [values, indices, auc] = rank_users_cuda("topk_masked", user_emb, item_emb, users,
                                                mask_rowptr, mask_col, at::Tensor(),
                                                at::Tensor(), k, chunk);
  return {values, indices};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> topk_masked_auc_cuda(
    const at::Tensor& user_emb, const at::Tensor& item_emb, const at::Tensor& users,
    const at::Tensor& mask_rowptr, const at::Tensor& mask_col, const at::Tensor& test_rowptr,
    const at::Tensor& test_col, int64_t k, int64_t chunk) {
  NvtxRange nvtx("gnnrec::_topk_masked_auc");
  check_topk_masked_auc_args(user_emb, item_emb, users, mask_rowptr, mask_col, test_rowptr,
                             test_col, k, chunk);
  return rank_users_cuda("_topk_masked_auc", user_emb, item_emb, users, mask_rowptr, mask_col,
                         test_rowptr, test_col, k, chunk);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> topk_masked_scores_cuda(
    const at::Tensor& scores_in, const at::Tensor& users_in, const at::Tensor& mask_rowptr_in,
    const at::Tensor& mask_col_in, const std::optional<at::Tensor>& test_rowptr_in,
    const std::optional<at::Tensor>& test_col_in, int64_t k) {
  NvtxRange nvtx("gnnrec::_topk_masked_scores");
  const char* op = "_topk_masked_scores";
  check_topk_masked_scores_args(scores_in, users_in, mask_rowptr_in, mask_col_in, test_rowptr_in,
                                test_col_in, k);
  c10::cuda::CUDAGuard device_guard(scores_in.device());
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  const bool with_auc = test_rowptr_in.has_value();
  const at::Tensor users = users_in.contiguous();
  const at::Tensor mask_rowptr = mask_rowptr_in.contiguous(), mask_col = mask_col_in.contiguous();
  const at::Tensor test_rowptr = with_auc ? test_rowptr_in->contiguous() : at::Tensor();
  const at::Tensor test_col = with_auc ? test_col_in->contiguous() : at::Tensor();
  const int64_t n = scores_in.size(0), num_users = mask_rowptr.numel() - 1;
  at::Tensor values = at::empty({n, k}, scores_in.options());
  at::Tensor indices = at::empty({n, k}, users.options());
  at::Tensor auc = at::empty({with_auc ? n : 0}, scores_in.options().dtype(at::kDouble));
  if (n == 0) return {values, indices, auc};
  check_user_range(op, users, num_users);
  // A copy: masking writes -inf into the rows; the caller's scores stay.
  const at::Tensor scores = scores_in.clone(at::MemoryFormat::Contiguous);
  AT_DISPATCH_FLOATING_TYPES(scores.scalar_type(), "topk_masked_scores_cuda", [&] {
    rank_chunk<scalar_t>(scores, users, num_users, mask_rowptr, mask_col, test_rowptr, test_col, k,
                         values, indices, with_auc ? auc.data_ptr<double>() : nullptr);
  });
  return {values, indices, auc};
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CUDA, m) {
  m.impl("topk_masked", &topk_masked_cuda);
  m.impl("_topk_masked_auc", &topk_masked_auc_cuda);
  m.impl("_topk_masked_scores", &topk_masked_scores_cuda);
}

}  // namespace gnnrec::ops::cuda
