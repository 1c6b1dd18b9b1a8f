// Autograd for the differentiable gnnrec operators. Backward passes are
// themselves gnnrec operators on the precomputed transpose, so they run on
// any device, without atomics, and stay deterministic:
//   spmm:        dL/dx     = Aᵀ · g            (spmm over t_rowptr/t_col, values value[t_perm])
//                dL/dvalue = sddmm(g, x)       (per-edge dot products)
//   sddmm:       dL/da     = G · b             (spmm with values g)
//                dL/db     = Gᵀ · a            (spmm over the transpose, values g[t_perm])
//   spmm_reduce: sum, mean: dL/dx = Aᵀ · g     (mean: g scaled by 1/deg first)
//                max:       dL/dx = _spmm_reduce_max_backward (each x row gathers
//                           the gradients its entries won, over the transpose)
//   sddmm_add:   dL/da_row = per-row sums of g, dL/da_col = per-column sums
//                (_segment_sum_csr over the transpose, g in t_perm order)
//   edge_softmax: dL/dscore = _edge_softmax_backward(y, g) = y ⊙ (g − Σ_row(g ⊙ y))
// Double backward is not supported: the backward ops are called below the
// autograd key (under AutoDispatchBelowADInplaceOrView the ops:: entry
// points dispatch straight to the device kernels).
// sample_neighbors, sample_negatives, topk_masked and _topk_masked_auc have
// no gradient; their Autograd entries are fallthroughs (topk_masked computes
// its scores below autograd, so its outputs never require grad).
#include <string>

#include <ATen/ops/clamp_min.h>
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
    return {at::Tensor(), at::Tensor(), grad_value, at::Tensor(), at::Tensor(), at::Tensor(),
            grad_x};
  }
};

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
    return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), grad_x,
            at::Tensor()};
  }
};

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
    return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), grad_row,
            grad_col};
  }
};

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

at::Tensor spmm_autograd(const at::Tensor& rowptr, const at::Tensor& col,
                         const std::optional<at::Tensor>& value, const at::Tensor& t_rowptr,
                         const at::Tensor& t_col, const std::optional<at::Tensor>& t_perm,
                         const at::Tensor& x) {
  return SpmmFunction::apply(rowptr, col, value, t_rowptr, t_col, t_perm, x);
}

at::Tensor sddmm_autograd(const at::Tensor& rowptr, const at::Tensor& col,
                          const at::Tensor& t_rowptr, const at::Tensor& t_col,
                          const at::Tensor& t_perm, const at::Tensor& a, const at::Tensor& b) {
  return SddmmFunction::apply(rowptr, col, t_rowptr, t_col, t_perm, a, b);
}

std::tuple<at::Tensor, at::Tensor> spmm_reduce_autograd(const at::Tensor& rowptr,
                                                        const at::Tensor& col,
                                                        const at::Tensor& t_rowptr,
                                                        const at::Tensor& t_col,
                                                        const at::Tensor& t_perm,
                                                        const at::Tensor& x,
                                                        c10::string_view reduce) {
  const auto out = SpmmReduceFunction::apply(rowptr, col, t_rowptr, t_col, t_perm, x, reduce);
  return {out[0], out[1]};
}

at::Tensor sddmm_add_autograd(const at::Tensor& rowptr, const at::Tensor& col,
                              const at::Tensor& t_rowptr, const at::Tensor& t_col,
                              const at::Tensor& t_perm, const at::Tensor& a_row,
                              const at::Tensor& a_col) {
  return SddmmAddFunction::apply(rowptr, col, t_rowptr, t_col, t_perm, a_row, a_col);
}

at::Tensor edge_softmax_autograd(const at::Tensor& rowptr, const at::Tensor& score) {
  return EdgeSoftmaxFunction::apply(rowptr, score);
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Autograd, m) {
  m.impl("spmm", &spmm_autograd);
  m.impl("sddmm", &sddmm_autograd);
  m.impl("spmm_reduce", &spmm_reduce_autograd);
  m.impl("sddmm_add", &sddmm_add_autograd);
  m.impl("edge_softmax", &edge_softmax_autograd);
  m.impl("sample_neighbors", torch::CppFunction::makeFallthrough());
  m.impl("topk_masked", torch::CppFunction::makeFallthrough());
  m.impl("_topk_masked_auc", torch::CppFunction::makeFallthrough());
  m.impl("sample_negatives", torch::CppFunction::makeFallthrough());
}

}  // namespace gnnrec::ops::autograd
