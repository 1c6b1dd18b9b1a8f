// Argument checks shared by every implementation (CPU, CUDA, Meta) of the
// sparse operators, so that bad input fails the same way on each device.
// Messages start with the operator's name and name the argument.
#pragma once

#include <optional>

#include <ATen/core/Tensor.h>

namespace gnnrec::ops {

// rowptr: 1-D int64 with at least one entry; col: 1-D int32; value, when
// present: 1-D, nnz long, of `dtype`; all on the same device as `like`.
void check_csr(const char* op, const char* prefix, const at::Tensor& rowptr,
               const at::Tensor& col, const std::optional<at::Tensor>& value,
               const at::Tensor& like);
// A dense 2-D float32/float64 operand.
void check_dense(const char* op, const char* name, const at::Tensor& x, const at::Tensor& like);

// Every argument check of spmm / sddmm that does not read tensor data (types,
// devices, shapes, with symbolic sizes so they also run under FakeTensor).
// Value checks (rowptr monotone, col in range) are left to the kernels.
void check_spmm_args(const at::Tensor& rowptr, const at::Tensor& col,
                     const std::optional<at::Tensor>& value, const at::Tensor& t_rowptr,
                     const at::Tensor& t_col, const at::Tensor& x);
void check_sddmm_args(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
                      const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& a,
                      const at::Tensor& b);

}  // namespace gnnrec::ops
