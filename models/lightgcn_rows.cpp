#include "models/lightgcn_rows.h"

#include <optional>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include "kernels/ops.h"

namespace gnnrec {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::optional<at::Tensor> maybe(const at::Tensor& t) {
  return t.defined() ? std::optional<at::Tensor>(t) : std::nullopt;
}

// y = M x for the CSR (rowptr, col, value) whose transpose's structure is
// (t_rowptr, t_col): the device kernel, below autograd.
at::Tensor product(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& value,
                   const at::Tensor& t_rowptr, const at::Tensor& t_col, const at::Tensor& x) {
  at::AutoDispatchBelowADInplaceOrView guard;
  return ops::spmm(rowptr, col, maybe(value), t_rowptr, t_col, std::nullopt, x);
}

class LightGcnRows : public torch::autograd::Function<LightGcnRows> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& e0, const at::Tensor& rows,
                            const SparseAdjacency& a, const at::Tensor& t_value, int64_t layers) {
    const SparseAdjacency sub = a.select_rows(rows);
    at::Tensor e = e0;
    at::Tensor sum = e0.index_select(0, rows);
    for (int64_t k = 0; k + 1 < layers; ++k) {
      e = product(a.rowptr, a.col, a.value, a.t_rowptr, a.t_col, e);
      sum = sum + e.index_select(0, rows);
    }
    sum = sum + product(sub.rowptr, sub.col, sub.value, sub.t_rowptr, sub.t_col, e);
    // What the backward needs: the transposes (the rows' own, and A's).
    const at::Tensor sub_t_value =
        sub.value.defined() ? sub.value.index_select(0, sub.t_perm) : at::Tensor();
    ctx->save_for_backward({rows, sub.rowptr, sub.col, sub.t_rowptr, sub.t_col, sub_t_value,
                            a.rowptr, a.col, a.t_rowptr, a.t_col, t_value});
    ctx->saved_data["layers"] = layers;
    return sum / static_cast<double>(layers + 1);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &rows = saved[0], &sub_rowptr = saved[1], &sub_col = saved[2];
    const at::Tensor &sub_t_rowptr = saved[3], &sub_t_col = saved[4], &sub_t_value = saved[5];
    const at::Tensor &rowptr = saved[6], &col = saved[7], &t_rowptr = saved[8], &t_col = saved[9];
    const at::Tensor& t_value = saved[10];
    const int64_t layers = ctx->saved_data["layers"].toInt();
    const at::Tensor g = grads[0].contiguous() / static_cast<double>(layers + 1);
    // Each dE_k is a two-term sum (the SpMM's, then g at rows): added in
    // place it is the unfused graph's a + b, bit for bit.
    at::Tensor d = product(sub_t_rowptr, sub_t_col, sub_t_value, sub_rowptr, sub_col, g);
    d.index_add_(0, rows, g);
    for (int64_t k = 0; k + 1 < layers; ++k) {
      d = product(t_rowptr, t_col, t_value, rowptr, col, d);
      d.index_add_(0, rows, g);
    }
    return {d, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor lightgcn_rows(const at::Tensor& e0, const SparseAdjacency& a, const at::Tensor& t_value,
                         int64_t layers, const at::Tensor& rows) {
  TORCH_CHECK(layers >= 1, "lightgcn_rows: layers must be at least 1, got ", layers);
  return LightGcnRows::apply(e0, rows, a, t_value, layers);
}

}  // namespace gnnrec
