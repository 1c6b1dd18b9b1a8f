// Autograd for edge_softmax:
//   dL/dscore = _edge_softmax_backward(y, g) = y ⊙ (g − Σ_row(g ⊙ y))
// The backward pass is itself made of gnnrec operators on the precomputed
// transpose, so it runs on any device, without atomics, and stays
// deterministic. Double backward is not supported: the backward ops are
// called below the autograd key (under AutoDispatchBelowADInplaceOrView the
// ops:: entry points dispatch straight to the device kernels).
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include "kernels/ops.h"

namespace gnnrec::ops::autograd {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class EdgeSoftmaxFunction : public torch::autograd::Function<EdgeSoftmaxFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& rowptr,
                            const at::Tensor& score) {
    at::AutoDispatchBelowADInplaceOrView guard;
    at::Tensor y = ops::edge_softmax(rowptr, score);
    ctx->save_for_backward({rowptr, y});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    at::AutoDispatchBelowADInplaceOrView guard;
    return {at::Tensor(), ops::edge_softmax_backward(saved[0], saved[1], grads[0].contiguous())};
  }
};

at::Tensor edge_softmax_autograd(const at::Tensor& rowptr, const at::Tensor& score) {
  return EdgeSoftmaxFunction::apply(rowptr, score);
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Autograd, m) { m.impl("edge_softmax", &edge_softmax_autograd); }

}  // namespace gnnrec::ops::autograd
