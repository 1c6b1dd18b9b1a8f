// CPU (OpenMP, through ATen's parallel_for) implementation of spmm, and the
// tuned SpMM rows (spmm_rows, cpu_common.h) that spmm_reduce's sum and mean
// share.
#include <atomic>

#include <ATen/Dispatch.h>
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "kernels/checks.h"
#include "kernels/cpu/cpu_common.h"

namespace gnnrec::ops::cpu {
namespace {

// How far ahead (in neighbours) the x rows are prefetched: the gathers
// x[col[k]] are the cost of a recommender SpMM (random rows of a matrix much
// larger than L2), so their latency is hidden behind the current row's FMAs.
constexpr int64_t kPrefetch = 8;

// One CSR row with a compile-time width: the accumulator lives in registers
// and is stored once. Always inlined into the per-ISA clones below, so it is
// vectorised for each of them.
template <typename T, int D>
__attribute__((always_inline)) inline void spmm_row_fixed(const int64_t* rowptr,
                                                          const int32_t* col, const T* val,
                                                          const T* x, T* out, int64_t r,
                                                          int64_t cols, bool& bad) {
  T acc[D];
  for (int t = 0; t < D; ++t) acc[t] = T(0);
  const int64_t begin = rowptr[r], end = rowptr[r + 1];
  for (int64_t k = begin; k < end; ++k) {
    if (k + kPrefetch < end) __builtin_prefetch(x + static_cast<int64_t>(col[k + kPrefetch]) * D);
    const int64_t j = col[k];
    if (out_of_range(j, cols)) {
      bad = true;
      continue;
    }
    const T w = val ? val[k] : T(1);
    const T* __restrict xr = x + j * D;
#pragma omp simd
    for (int t = 0; t < D; ++t) acc[t] += w * xr[t];
  }
  T* __restrict o = out + r * D;
#pragma omp simd
  for (int t = 0; t < D; ++t) o[t] = acc[t];
}

// Any width: accumulate in the output row (which stays in L1).
template <typename T>
__attribute__((always_inline)) inline void spmm_row_any(const int64_t* rowptr, const int32_t* col,
                                                        const T* val, const T* x, T* out,
                                                        int64_t r, int64_t d, int64_t cols,
                                                        bool& bad) {
  T* __restrict o = out + r * d;
  for (int64_t t = 0; t < d; ++t) o[t] = T(0);
  const int64_t begin = rowptr[r], end = rowptr[r + 1];
  for (int64_t k = begin; k < end; ++k) {
    if (k + kPrefetch < end) __builtin_prefetch(x + static_cast<int64_t>(col[k + kPrefetch]) * d);
    const int64_t j = col[k];
    if (out_of_range(j, cols)) {
      bad = true;
      continue;
    }
    const T w = val ? val[k] : T(1);
    const T* __restrict xr = x + j * d;
#pragma omp simd
    for (int64_t t = 0; t < d; ++t) o[t] += w * xr[t];
  }
}

template <typename T>
__attribute__((always_inline)) inline bool spmm_rows_impl(const int64_t* rowptr,
                                                          const int32_t* col, const T* val,
                                                          const T* x, T* out, int64_t row_begin,
                                                          int64_t row_end, int64_t d,
                                                          int64_t cols) {
  bool bad = false;
  switch (d) {
#define GNNREC_SPMM_WIDTH(D)                                                        \
  case D:                                                                           \
    for (int64_t r = row_begin; r < row_end; ++r)                                   \
      spmm_row_fixed<T, D>(rowptr, col, val, x, out, r, cols, bad);                 \
    break;
    GNNREC_SPMM_WIDTH(16)
    GNNREC_SPMM_WIDTH(32)
    GNNREC_SPMM_WIDTH(64)
    GNNREC_SPMM_WIDTH(128)
    GNNREC_SPMM_WIDTH(256)
#undef GNNREC_SPMM_WIDTH
    default:
      for (int64_t r = row_begin; r < row_end; ++r)
        spmm_row_any<T>(rowptr, col, val, x, out, r, d, cols, bad);
  }
  return !bad;
}

}  // namespace

// Declared in cpu_common.h. One clone per instruction set, chosen once at
// load time by the CPU (glibc ifunc); "default" keeps the library runnable
// on any x86-64.
#define GNNREC_CPU_CLONES __attribute__((target_clones("avx2", "default")))
GNNREC_CPU_CLONES bool spmm_rows(const int64_t* rowptr, const int32_t* col, const float* val,
                                 const float* x, float* out, int64_t b, int64_t e, int64_t d,
                                 int64_t cols) {
  return spmm_rows_impl(rowptr, col, val, x, out, b, e, d, cols);
}
GNNREC_CPU_CLONES bool spmm_rows(const int64_t* rowptr, const int32_t* col, const double* val,
                                 const double* x, double* out, int64_t b, int64_t e, int64_t d,
                                 int64_t cols) {
  return spmm_rows_impl(rowptr, col, val, x, out, b, e, d, cols);
}

namespace {

at::Tensor spmm_cpu(const at::Tensor& rowptr_in, const at::Tensor& col_in,
                    const std::optional<at::Tensor>& value_in, const at::Tensor& t_rowptr,
                    const at::Tensor& t_col, const std::optional<at::Tensor>& /*t_perm*/,
                    const at::Tensor& x_in) {
  check_spmm_args(rowptr_in, col_in, value_in, t_rowptr, t_col, x_in);
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous(), x = x_in.contiguous();
  const at::Tensor value = value_in.has_value() && value_in->defined() ? value_in->contiguous() : at::Tensor();
  check_rowptr_values("spmm", rowptr, col.numel());

  const int64_t rows = rowptr.numel() - 1, d = x.size(1), cols = x.size(0);
  at::Tensor out = at::empty({rows, d}, x.options());
  if (rows == 0 || d == 0) return out;
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  std::atomic<bool> bad_col{false};
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "spmm_cpu", [&] {
    const scalar_t* val = value.defined() ? value.data_ptr<scalar_t>() : nullptr;
    const scalar_t* xp = x.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    const int32_t* cp = col.data_ptr<int32_t>();
    parallel_for_rows(rp, rows, [&](int64_t b, int64_t e) {
      if (!spmm_rows(rp, cp, val, xp, op, b, e, d, cols)) {
        bad_col.store(true, std::memory_order_relaxed);
      }
    });
  });
  TORCH_CHECK(!bad_col.load(), "spmm: col holds an index outside [0, ", cols, ")");
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CPU, m) { m.impl("spmm", &spmm_cpu); }

}  // namespace gnnrec::ops::cpu
