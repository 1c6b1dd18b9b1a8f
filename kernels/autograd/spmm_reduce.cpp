// Autograd for spmm_reduce:
//   sum, mean: dL/dx = Aᵀ · g     (mean: g scaled by 1/deg first)
//   max:       dL/dx = _spmm_reduce_max_backward (each x row gathers the
//              gradients its entries won, over the transpose)
// The backward pass is itself made of gnnrec operators on the precomputed
// transpose, so it runs on any device, without atomics, and stays
// deterministic. Double backward is not supported: the backward ops are
// called below the autograd key (under AutoDispatchBelowADInplaceOrView the
// ops:: entry points dispatch straight to the device kernels).
#include <string>
#include <tuple>

#include <ATen/ops/clamp_min.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include "kernels/ops.h"

namespace gnnrec::ops::autograd {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class SpmmReduceFunction : public torch::autograd::Function<SpmmReduceFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& rowptr,
                               const at::Tensor& col, const at::Tensor& t_rowptr,
                               const at::Tensor& t_col, const at::Tensor& t_perm,
                               const at::Tensor& x, std::string_view reduce) {
    at::AutoDispatchBelowADInplaceOrView guard;
    auto [out, arg] = ops::spmm_reduce(rowptr, col, t_rowptr, t_col, t_perm, x, reduce);
    ctx->mark_non_differentiable({arg});
    ctx->saved_data["reduce"] = std::string(reduce);
    ctx->save_for_backward({rowptr, col, t_rowptr, t_col, t_perm, arg});
    return {out, arg};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &rowptr = saved[0], &col = saved[1], &t_rowptr = saved[2];
    const at::Tensor &t_col = saved[3], &t_perm = saved[4], &arg = saved[5];
    const std::string reduce = ctx->saved_data["reduce"].toStringRef();
    at::Tensor g = grads[0].contiguous();
    at::AutoDispatchBelowADInplaceOrView guard;
    at::Tensor grad_x;
    if (reduce == "max") {
      grad_x = ops::spmm_reduce_max_backward(t_rowptr, t_col, t_perm, arg, g);
    } else {
      if (reduce == "mean") {
        // Slices, not numel(): rowptr's size is symbolic under torch.compile.
        const at::Tensor deg = rowptr.slice(0, 1) - rowptr.slice(0, 0, -1);
        g = g / at::clamp_min(deg, 1).to(g.scalar_type()).unsqueeze(1);
      }
      grad_x = ops::spmm(t_rowptr, t_col, std::nullopt, rowptr, col, std::nullopt, g);
    }
    return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(),
            at::Tensor(), grad_x,       at::Tensor()};
  }
};

std::tuple<at::Tensor, at::Tensor> spmm_reduce_autograd(
    const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
    const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& x,
    c10::string_view reduce) {
  const auto out = SpmmReduceFunction::apply(rowptr, col, t_rowptr, t_col, t_perm, x, reduce);
  return {out[0], out[1]};
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Autograd, m) { m.impl("spmm_reduce", &spmm_reduce_autograd); }

}  // namespace gnnrec::ops::autograd
