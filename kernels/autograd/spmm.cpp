// Autograd for spmm:
//   dL/dx     = Aᵀ · g            (spmm over t_rowptr/t_col, values value[t_perm])
//   dL/dvalue = sddmm(g, x)       (per-edge dot products)
// The backward pass is itself made of gnnrec operators on the precomputed
// transpose, so it runs on any device, without atomics, and stays
// deterministic. Double backward is not supported: the backward ops are
// called below the autograd key (under AutoDispatchBelowADInplaceOrView the
// ops:: entry points dispatch straight to the device kernels).
#include <optional>

#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include "kernels/ops.h"

namespace gnnrec::ops::autograd {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class SpmmFunction : public torch::autograd::Function<SpmmFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& rowptr, const at::Tensor& col,
                            const std::optional<at::Tensor>& value, const at::Tensor& t_rowptr,
                            const at::Tensor& t_col, const std::optional<at::Tensor>& t_perm,
                            const at::Tensor& x) {
    // needs_input_grad() counts only defined tensor inputs, so record the
    // two that can need a gradient explicitly.
    ctx->saved_data["value_grad"] = value.has_value() && value->requires_grad();
    ctx->saved_data["x_grad"] = x.requires_grad();
    ctx->save_for_backward({rowptr, col, value.value_or(at::Tensor()), t_rowptr, t_col,
                            t_perm.value_or(at::Tensor()), x});
    at::AutoDispatchBelowADInplaceOrView guard;
    return ops::spmm(rowptr, col, value, t_rowptr, t_col, t_perm, x);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &rowptr = saved[0], &col = saved[1], &value = saved[2];
    const at::Tensor &t_rowptr = saved[3], &t_col = saved[4], &t_perm = saved[5], &x = saved[6];
    const at::Tensor g = grads[0].contiguous();
    at::AutoDispatchBelowADInplaceOrView guard;
    at::Tensor grad_value, grad_x;
    if (value.defined() && ctx->saved_data["value_grad"].toBool()) {
      TORCH_CHECK(t_perm.defined(), "spmm: the gradient for value needs t_perm");
      grad_value = ops::sddmm(rowptr, col, t_rowptr, t_col, t_perm, g, x);
    }
    if (ctx->saved_data["x_grad"].toBool()) {
      std::optional<at::Tensor> t_value;
      if (value.defined()) {
        TORCH_CHECK(t_perm.defined(), "spmm: the gradient for x with edge values needs t_perm");
        t_value = value.index_select(0, t_perm);
      }
      grad_x = ops::spmm(t_rowptr, t_col, t_value, rowptr, col, std::nullopt, g);
    }
    return {at::Tensor(), at::Tensor(), grad_value, at::Tensor(),
            at::Tensor(), at::Tensor(), grad_x};
  }
};

at::Tensor spmm_autograd(const at::Tensor& rowptr, const at::Tensor& col,
                         const std::optional<at::Tensor>& value, const at::Tensor& t_rowptr,
                         const at::Tensor& t_col, const std::optional<at::Tensor>& t_perm,
                         const at::Tensor& x) {
  return SpmmFunction::apply(rowptr, col, value, t_rowptr, t_col, t_perm, x);
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Autograd, m) { m.impl("spmm", &spmm_autograd); }

}  // namespace gnnrec::ops::autograd
