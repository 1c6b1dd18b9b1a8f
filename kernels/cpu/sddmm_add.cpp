// CPU implementation of sddmm_add (GAT attention logits). Per-edge tensors
// are [nnz] or [nnz, H], stored row-major, so an entry's H heads are
// contiguous; every row of the CSR is handled by one thread, in CSR order.
#include <atomic>

#include <ATen/Dispatch.h>
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "kernels/checks.h"
#include "kernels/cpu/cpu_common.h"
#include "kernels/heads.h"

namespace gnnrec::ops::cpu {
namespace {

at::Tensor sddmm_add_cpu(const at::Tensor& rowptr_in, const at::Tensor& col_in,
                         const at::Tensor& t_rowptr, const at::Tensor& t_col,
                         const at::Tensor& t_perm, const at::Tensor& a_row_in,
                         const at::Tensor& a_col_in) {
  check_sddmm_add_args(rowptr_in, col_in, t_rowptr, t_col, t_perm, a_row_in, a_col_in);
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous();
  const at::Tensor a_row = a_row_in.contiguous(), a_col = a_col_in.contiguous();
  const int64_t nnz = col.numel(), rows = rowptr.numel() - 1, cols = a_col.size(0);
  const int64_t heads = heads_of(a_row);
  check_rowptr_values("sddmm_add", rowptr, nnz);
  at::Tensor out = a_row.dim() == 2 ? at::empty({nnz, heads}, a_row.options())
                                    : at::empty({nnz}, a_row.options());
  if (nnz == 0 || heads == 0) return out;
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int32_t* cp = col.data_ptr<int32_t>();
  std::atomic<bool> bad_col{false};
  AT_DISPATCH_FLOATING_TYPES(a_row.scalar_type(), "sddmm_add_cpu", [&] {
    const scalar_t* ar = a_row.data_ptr<scalar_t>();
    const scalar_t* ac = a_col.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    parallel_for_rows(rp, rows, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const scalar_t* __restrict src = ar + r * heads;
        for (int64_t k = rp[r]; k < rp[r + 1]; ++k) {
          const int64_t j = cp[k];
          if (out_of_range(j, cols)) {
            bad_col.store(true, std::memory_order_relaxed);
            continue;
          }
          const scalar_t* __restrict dst = ac + j * heads;
          scalar_t* __restrict o = op + k * heads;
          for (int64_t h = 0; h < heads; ++h) o[h] = src[h] + dst[h];
        }
      }
    });
  });
  TORCH_CHECK(!bad_col.load(), "sddmm_add: col holds an index outside [0, ", cols, ")");
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CPU, m) { m.impl("sddmm_add", &sddmm_add_cpu); }

}  // namespace gnnrec::ops::cpu
