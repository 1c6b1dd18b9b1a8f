// Autograd for sddmm_add:
//   dL/da_row = per-row sums of g, dL/da_col = per-column sums
//   (_segment_sum_csr over the transpose, g in t_perm order)
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

class SddmmAddFunction : public torch::autograd::Function<SddmmAddFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& rowptr, const at::Tensor& col,
                            const at::Tensor& t_rowptr, const at::Tensor& t_col,
                            const at::Tensor& t_perm, const at::Tensor& a_row,
                            const at::Tensor& a_col) {
    at::AutoDispatchBelowADInplaceOrView guard;
    ctx->save_for_backward({rowptr, t_rowptr, t_perm});
    return ops::sddmm_add(rowptr, col, t_rowptr, t_col, t_perm, a_row, a_col);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &rowptr = saved[0], &t_rowptr = saved[1], &t_perm = saved[2];
    const at::Tensor g = grads[0].contiguous();
    at::AutoDispatchBelowADInplaceOrView guard;
    at::Tensor grad_row, grad_col;
    if (ctx->needs_input_grad(5)) grad_row = ops::segment_sum_csr(rowptr, g, std::nullopt);
    if (ctx->needs_input_grad(6)) grad_col = ops::segment_sum_csr(t_rowptr, g, t_perm);
    return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(),
            at::Tensor(), grad_row,     grad_col};
  }
};

at::Tensor sddmm_add_autograd(const at::Tensor& rowptr, const at::Tensor& col,
                              const at::Tensor& t_rowptr, const at::Tensor& t_col,
                              const at::Tensor& t_perm, const at::Tensor& a_row,
                              const at::Tensor& a_col) {
  return SddmmAddFunction::apply(rowptr, col, t_rowptr, t_col, t_perm, a_row, a_col);
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Autograd, m) { m.impl("sddmm_add", &sddmm_add_autograd); }

}  // namespace gnnrec::ops::autograd
