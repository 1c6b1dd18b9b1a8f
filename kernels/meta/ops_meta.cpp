// Meta (fake) implementations: shapes and dtypes only, with symbolic sizes,
// so the operators work under FakeTensor, torch.compile and opcheck.
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "kernels/checks.h"

namespace gnnrec::ops::meta {
namespace {

at::Tensor spmm_meta(const at::Tensor& rowptr, const at::Tensor& col,
                     const std::optional<at::Tensor>& value, const at::Tensor& t_rowptr,
                     const at::Tensor& t_col, const std::optional<at::Tensor>& /*t_perm*/,
                     const at::Tensor& x) {
  check_dense("spmm", "x", x, x);
  check_csr("spmm", "", rowptr, col, value, x);
  check_csr("spmm", "t_", t_rowptr, t_col, std::nullopt, x);
  return at::empty_symint({rowptr.sym_size(0) - 1, x.sym_size(1)}, x.options());
}

at::Tensor sddmm_meta(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
                      const at::Tensor& t_col, const at::Tensor& /*t_perm*/, const at::Tensor& a,
                      const at::Tensor& b) {
  check_dense("sddmm", "a", a, a);
  check_dense("sddmm", "b", b, a);
  check_csr("sddmm", "", rowptr, col, std::nullopt, a);
  check_csr("sddmm", "t_", t_rowptr, t_col, std::nullopt, a);
  return at::empty_symint({col.sym_size(0)}, a.options());
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Meta, m) {
  m.impl("spmm", &spmm_meta);
  m.impl("sddmm", &sddmm_meta);
}

}  // namespace gnnrec::ops::meta
