// CPU (OpenMP, through ATen's parallel_for) implementation of sddmm: every
// CSR row by one thread, each entry's dot product summed in order.
#include <atomic>

#include <ATen/Dispatch.h>
#include <ATen/ops/zeros.h>
#include <torch/library.h>

#include "kernels/checks.h"
#include "kernels/cpu/cpu_common.h"

namespace gnnrec::ops::cpu {
namespace {

template <typename T>
void sddmm_rows(const int64_t* rowptr, const int32_t* col, const T* a, const T* b, T* out,
                int64_t row_begin, int64_t row_end, int64_t d, int64_t cols,
                std::atomic<bool>& bad_col) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const T* __restrict ar = a + r * d;
    for (int64_t k = rowptr[r]; k < rowptr[r + 1]; ++k) {
      const int64_t j = col[k];
      if (out_of_range(j, cols)) {
        bad_col.store(true, std::memory_order_relaxed);
        continue;
      }
      const T* __restrict br = b + j * d;
      T s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t t = 0; t < d; ++t) s += ar[t] * br[t];
      out[k] = s;
    }
  }
}

at::Tensor sddmm_cpu(const at::Tensor& rowptr_in, const at::Tensor& col_in,
                     const at::Tensor& t_rowptr, const at::Tensor& t_col, const at::Tensor& t_perm,
                     const at::Tensor& a_in, const at::Tensor& b_in) {
  check_sddmm_args(rowptr_in, col_in, t_rowptr, t_col, t_perm, a_in, b_in);
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous();
  const at::Tensor a = a_in.contiguous(), b = b_in.contiguous();
  check_rowptr_values("sddmm", rowptr, col.numel());
  const int64_t rows = rowptr.numel() - 1, d = a.size(1), cols = b.size(0);
  at::Tensor out = at::zeros({col.numel()}, a.options());
  if (col.numel() == 0 || d == 0) return out;
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int32_t* cp = col.data_ptr<int32_t>();
  std::atomic<bool> bad_col{false};
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "sddmm_cpu", [&] {
    const scalar_t* ap = a.data_ptr<scalar_t>();
    const scalar_t* bp = b.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    parallel_for_rows(rp, rows, [&](int64_t rb, int64_t re) {
      sddmm_rows(rp, cp, ap, bp, op, rb, re, d, cols, bad_col);
    });
  });
  TORCH_CHECK(!bad_col.load(), "sddmm: col holds an index outside [0, ", cols, ")");
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CPU, m) { m.impl("sddmm", &sddmm_cpu); }

}  // namespace gnnrec::ops::cpu
