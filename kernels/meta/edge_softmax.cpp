// Meta (fake) implementations of edge_softmax and _edge_softmax_backward:
// shapes and dtypes only, with symbolic sizes, so the operators work under
// FakeTensor, torch.compile and opcheck.
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "kernels/checks.h"

namespace gnnrec::ops::meta {
namespace {

at::Tensor edge_softmax_meta(const at::Tensor& rowptr, const at::Tensor& score) {
  check_edge_softmax_args(rowptr, score);
  return at::empty_symint(score.sym_sizes(), score.options());
}

at::Tensor edge_softmax_backward_meta(const at::Tensor& rowptr, const at::Tensor& y,
                                      const at::Tensor& grad) {
  check_edge_softmax_backward_args(rowptr, y, grad);
  return at::empty_symint(y.sym_sizes(), y.options());
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Meta, m) {
  m.impl("edge_softmax", &edge_softmax_meta);
  m.impl("_edge_softmax_backward", &edge_softmax_backward_meta);
}

}  // namespace gnnrec::ops::meta
