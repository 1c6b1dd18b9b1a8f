#include "kernels/ops.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace gnnrec::ops {

at::Tensor spmm(const at::Tensor& rowptr, const at::Tensor& col,
                const std::optional<at::Tensor>& value, const at::Tensor& t_rowptr,
                const at::Tensor& t_col, const std::optional<at::Tensor>& t_perm,
                const at::Tensor& x) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("gnnrec::spmm", "")
                       .typed<decltype(spmm)>();
  return op.call(rowptr, col, value, t_rowptr, t_col, t_perm, x);
}

at::Tensor sddmm(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
                 const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& a,
                 const at::Tensor& b) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("gnnrec::sddmm", "")
                       .typed<decltype(sddmm)>();
  return op.call(rowptr, col, t_rowptr, t_col, t_perm, a, b);
}

}  // namespace gnnrec::ops
