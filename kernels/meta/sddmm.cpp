// Meta (fake) implementation of sddmm: shapes and dtypes only, with symbolic
// sizes, so the operator works under FakeTensor, torch.compile and opcheck.
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "kernels/checks.h"

namespace gnnrec::ops::meta {
namespace {

at::Tensor sddmm_meta(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
                      const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& a,
                      const at::Tensor& b) {
  check_sddmm_args(rowptr, col, t_rowptr, t_col, t_perm, a, b);
  return at::empty_symint({col.sym_size(0)}, a.options());
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Meta, m) { m.impl("sddmm", &sddmm_meta); }

}  // namespace gnnrec::ops::meta
