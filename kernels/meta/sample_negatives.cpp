// Meta (fake) implementation of sample_negatives: shapes and dtypes only, with
// symbolic sizes, so the operator works under FakeTensor, torch.compile and
// opcheck.
#include <vector>

#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "kernels/checks.h"

namespace gnnrec::ops::meta {
namespace {

at::Tensor sample_negatives_meta(const at::Tensor& rowptr, const at::Tensor& col,
                                 const at::Tensor& users, int64_t num_items, int64_t k,
                                 int64_t /*seed*/) {
  check_sample_negatives_args(rowptr, col, users, num_items, k);
  const auto shape = std::vector<c10::SymInt>{users.sym_size(0), c10::SymInt(k)};
  return at::empty_symint(shape, users.options());
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Meta, m) { m.impl("sample_negatives", &sample_negatives_meta); }

}  // namespace gnnrec::ops::meta
