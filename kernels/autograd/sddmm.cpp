// Autograd for sddmm:
//   dL/da     = G · b             (spmm with values g)
//   dL/db     = Gᵀ · a            (spmm over the transpose, values g[t_perm])
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

class SddmmFunction : public torch::autograd::Function<SddmmFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& rowptr, const at::Tensor& col,
                            const at::Tensor& t_rowptr, const at::Tensor& t_col,
                            const at::Tensor& t_perm, const at::Tensor& a, const at::Tensor& b) {
    at::AutoDispatchBelowADInplaceOrView guard;
    ctx->save_for_backward({rowptr, col, t_rowptr, t_col, t_perm, a, b});
    return ops::sddmm(rowptr, col, t_rowptr, t_col, t_perm, a, b);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &rowptr = saved[0], &col = saved[1], &t_rowptr = saved[2];
    const at::Tensor &t_col = saved[3], &t_perm = saved[4], &a = saved[5], &b = saved[6];
    const at::Tensor g = grads[0].contiguous();
    at::AutoDispatchBelowADInplaceOrView guard;
    at::Tensor grad_a, grad_b;
    if (ctx->needs_input_grad(5)) {
      grad_a = ops::spmm(rowptr, col, g, t_rowptr, t_col, t_perm, b);
    }
    if (ctx->needs_input_grad(6)) {
      grad_b = ops::spmm(t_rowptr, t_col, g.index_select(0, t_perm), rowptr, col, std::nullopt, a);
    }
    return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), grad_a, grad_b};
  }
};

at::Tensor sddmm_autograd(const at::Tensor& rowptr, const at::Tensor& col,
                          const at::Tensor& t_rowptr, const at::Tensor& t_col,
                          const at::Tensor& t_perm, const at::Tensor& a, const at::Tensor& b) {
  return SddmmFunction::apply(rowptr, col, t_rowptr, t_col, t_perm, a, b);
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Autograd, m) { m.impl("sddmm", &sddmm_autograd); }

}  // namespace gnnrec::ops::autograd
