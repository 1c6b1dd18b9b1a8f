// CPU implementation of _segment_sum_csr (the backward of sddmm_add): every
// row of the CSR summed by one thread, in CSR order. src is [m] or [m, H],
// stored row-major.
#include <atomic>

#include <ATen/Dispatch.h>
#include <ATen/ops/zeros.h>
#include <torch/library.h>

#include "kernels/checks.h"
#include "kernels/cpu/cpu_common.h"
#include "kernels/heads.h"

namespace gnnrec::ops::cpu {
namespace {

at::Tensor segment_sum_csr_cpu(const at::Tensor& rowptr_in, const at::Tensor& src_in,
                               const std::optional<at::Tensor>& perm_in) {
  check_segment_sum_args(rowptr_in, src_in, perm_in);
  const at::Tensor rowptr = rowptr_in.contiguous(), src = src_in.contiguous();
  const at::Tensor perm =
      perm_in.has_value() && perm_in->defined() ? perm_in->contiguous() : at::Tensor();
  const int64_t rows = rowptr.numel() - 1, n = src.size(0), heads = heads_of(src);
  check_rowptr_values("_segment_sum_csr", rowptr, n);
  at::Tensor out =
      src.dim() == 2 ? at::zeros({rows, heads}, src.options()) : at::zeros({rows}, src.options());
  if (rows == 0 || heads == 0) return out;
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int64_t* pp = perm.defined() ? perm.data_ptr<int64_t>() : nullptr;
  std::atomic<bool> bad_perm{false};
  AT_DISPATCH_FLOATING_TYPES(src.scalar_type(), "segment_sum_csr_cpu", [&] {
    const scalar_t* sp = src.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    parallel_for_rows(rp, rows, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        scalar_t* __restrict o = op + r * heads;
        for (int64_t k = rp[r]; k < rp[r + 1]; ++k) {
          const int64_t i = pp ? pp[k] : k;
          if (out_of_range(i, n)) {
            bad_perm.store(true, std::memory_order_relaxed);
            continue;
          }
          const scalar_t* __restrict s = sp + i * heads;
          for (int64_t h = 0; h < heads; ++h) o[h] += s[h];
        }
      }
    });
  });
  TORCH_CHECK(!bad_perm.load(), "_segment_sum_csr: perm holds an index outside [0, ", n, ")");
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CPU, m) { m.impl("_segment_sum_csr", &segment_sum_csr_cpu); }

}  // namespace gnnrec::ops::cpu
