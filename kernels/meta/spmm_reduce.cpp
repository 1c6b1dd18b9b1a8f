// Meta (fake) implementations of spmm_reduce and _spmm_reduce_max_backward:
// shapes and dtypes only, with symbolic sizes, so the operators work under
// FakeTensor, torch.compile and opcheck.
#include <tuple>

#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "kernels/checks.h"

namespace gnnrec::ops::meta {
namespace {

std::tuple<at::Tensor, at::Tensor> spmm_reduce_meta(const at::Tensor& rowptr, const at::Tensor& col,
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

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Meta, m) {
  m.impl("spmm_reduce", &spmm_reduce_meta);
  m.impl("_spmm_reduce_max_backward", &spmm_reduce_max_backward_meta);
}

}  // namespace gnnrec::ops::meta
