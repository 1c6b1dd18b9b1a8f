#include "kernels/checks.h"

#include <c10/util/Exception.h>

namespace gnnrec::ops {

void check_csr(const char* op, const char* prefix, const at::Tensor& rowptr,
               const at::Tensor& col, const std::optional<at::Tensor>& value,
               const at::Tensor& like) {
  TORCH_CHECK(rowptr.dim() == 1, op, ": ", prefix, "rowptr must be 1-D, got ", rowptr.dim(), "-D");
  TORCH_CHECK(rowptr.scalar_type() == at::kLong, op, ": ", prefix, "rowptr must be int64, got ",
              rowptr.scalar_type());
  TORCH_CHECK(rowptr.numel() >= 1, op, ": ", prefix, "rowptr must have at least one entry");
  TORCH_CHECK(col.dim() == 1, op, ": ", prefix, "col must be 1-D, got ", col.dim(), "-D");
  TORCH_CHECK(col.scalar_type() == at::kInt, op, ": ", prefix, "col must be int32, got ",
              col.scalar_type());
  TORCH_CHECK(rowptr.device() == like.device() && col.device() == like.device(), op, ": ",
              prefix, "rowptr and col must be on ", like.device(), ", got ", rowptr.device(),
              " and ", col.device());
  if (value.has_value() && value->defined()) {
    TORCH_CHECK(value->dim() == 1 && value->sym_numel() == col.sym_numel(), op, ": ", prefix,
                "value must be 1-D with one entry per stored element (", col.sym_numel(),
                "), got shape ", value->sym_sizes());
    TORCH_CHECK(value->scalar_type() == like.scalar_type(), op, ": ", prefix,
                "value must have the dtype of the dense operand (", like.scalar_type(), "), got ",
                value->scalar_type());
    TORCH_CHECK(value->device() == like.device(), op, ": ", prefix, "value must be on ",
                like.device(), ", got ", value->device());
  }
}

void check_dense(const char* op, const char* name, const at::Tensor& x, const at::Tensor& like) {
  TORCH_CHECK(x.dim() == 2, op, ": ", name, " must be 2-D, got ", x.dim(), "-D");
  TORCH_CHECK(x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble, op, ": ", name,
              " must be float32 or float64, got ", x.scalar_type());
  TORCH_CHECK(x.scalar_type() == like.scalar_type(), op, ": ", name, " must have dtype ",
              like.scalar_type(), ", got ", x.scalar_type());
  TORCH_CHECK(x.device() == like.device(), op, ": ", name, " must be on ", like.device(),
              ", got ", x.device());
}

void check_spmm_args(const at::Tensor& rowptr, const at::Tensor& col,
                     const std::optional<at::Tensor>& value, const at::Tensor& t_rowptr,
                     const at::Tensor& t_col, const at::Tensor& x) {
  check_dense("spmm", "x", x, x);
  check_csr("spmm", "", rowptr, col, value, x);
  check_csr("spmm", "t_", t_rowptr, t_col, std::nullopt, x);
  TORCH_CHECK(t_rowptr.sym_numel() - 1 == x.sym_size(0),
              "spmm: x must have one row per column of A (", t_rowptr.sym_numel() - 1, "), got ",
              x.sym_size(0));
  TORCH_CHECK(t_col.sym_numel() == col.sym_numel(), "spmm: t_col must have nnz (",
              col.sym_numel(), ") entries, got ", t_col.sym_numel());
}

void check_sddmm_args(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
                      const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& a,
                      const at::Tensor& b) {
  check_dense("sddmm", "a", a, a);
  check_dense("sddmm", "b", b, a);
  check_csr("sddmm", "", rowptr, col, std::nullopt, a);
  check_csr("sddmm", "t_", t_rowptr, t_col, std::nullopt, a);
  TORCH_CHECK(t_perm.dim() == 1 && t_perm.sym_numel() == col.sym_numel() &&
                  t_perm.scalar_type() == at::kLong,
              "sddmm: t_perm must be 1-D int64 with nnz (", col.sym_numel(), ") entries");
  TORCH_CHECK(a.sym_size(0) == rowptr.sym_numel() - 1, "sddmm: a must have one row per row of A (",
              rowptr.sym_numel() - 1, "), got ", a.sym_size(0));
  TORCH_CHECK(b.sym_size(0) == t_rowptr.sym_numel() - 1,
              "sddmm: b must have one row per column of A (", t_rowptr.sym_numel() - 1, "), got ",
              b.sym_size(0));
  TORCH_CHECK(a.sym_size(1) == b.sym_size(1), "sddmm: a and b must have the same width, got ",
              a.sym_size(1), " and ", b.sym_size(1));
}

}  // namespace gnnrec::ops
