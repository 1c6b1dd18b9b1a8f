// Meta (fake) implementation of spmm: shapes and dtypes only, with symbolic
// sizes, so the operator works under FakeTensor, torch.compile and opcheck.
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

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Meta, m) { m.impl("spmm", &spmm_meta); }

}  // namespace gnnrec::ops::meta
