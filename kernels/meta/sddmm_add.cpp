// Meta (fake) implementation of sddmm_add: shapes and dtypes only, with
// symbolic sizes, so the operator works under FakeTensor, torch.compile and
// opcheck.
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "kernels/checks.h"
#include "kernels/heads.h"

namespace gnnrec::ops::meta {
namespace {

at::Tensor sddmm_add_meta(const at::Tensor& rowptr, const at::Tensor& col,
                          const at::Tensor& t_rowptr, const at::Tensor& t_col,
                          const at::Tensor& t_perm, const at::Tensor& a_row,
                          const at::Tensor& a_col) {
  check_sddmm_add_args(rowptr, col, t_rowptr, t_col, t_perm, a_row, a_col);
  return like_heads(col.sym_size(0), a_row);
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Meta, m) { m.impl("sddmm_add", &sddmm_add_meta); }

}  // namespace gnnrec::ops::meta
