// Meta (fake) implementation of _segment_sum_csr: shapes and dtypes only, with
// symbolic sizes, so the operator works under FakeTensor, torch.compile and
// opcheck.
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "kernels/checks.h"
#include "kernels/heads.h"

namespace gnnrec::ops::meta {
namespace {

at::Tensor segment_sum_csr_meta(const at::Tensor& rowptr, const at::Tensor& src,
                                const std::optional<at::Tensor>& perm) {
  check_segment_sum_args(rowptr, src, perm);
  return like_heads(rowptr.sym_size(0) - 1, src);
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Meta, m) { m.impl("_segment_sum_csr", &segment_sum_csr_meta); }

}  // namespace gnnrec::ops::meta
