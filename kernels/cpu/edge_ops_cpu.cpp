// CPU implementations of the per-edge operators used by attention layers:
// sddmm_add, edge_softmax, and their backward passes (_segment_sum_csr,
// _edge_softmax_backward). Per-edge tensors are [nnz] or [nnz, H], stored
// row-major, so an entry's H heads are contiguous; every row of the CSR is
// handled by one thread, in CSR order.
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include <ATen/Dispatch.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/zeros.h>
#include <torch/library.h>

#include "kernels/checks.h"
#include "kernels/cpu/cpu_common.h"

namespace gnnrec::ops::cpu {
namespace {

// Heads of a per-edge or per-node tensor ([n] counts as one head).
int64_t heads_of(const at::Tensor& t) { return t.dim() == 2 ? t.size(1) : 1; }

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

at::Tensor segment_sum_csr_cpu(const at::Tensor& rowptr_in, const at::Tensor& src_in,
                               const std::optional<at::Tensor>& perm_in) {
  check_segment_sum_args(rowptr_in, src_in, perm_in);
  const at::Tensor rowptr = rowptr_in.contiguous(), src = src_in.contiguous();
  const at::Tensor perm =
      perm_in.has_value() && perm_in->defined() ? perm_in->contiguous() : at::Tensor();
  const int64_t rows = rowptr.numel() - 1, n = src.size(0), heads = heads_of(src);
  check_rowptr_values("_segment_sum_csr", rowptr, n);
  at::Tensor out = src.dim() == 2 ? at::zeros({rows, heads}, src.options())
                                  : at::zeros({rows}, src.options());
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

// Softmax of one CSR row's entries [begin, end), per head. The row's max is
// subtracted first, so exp never overflows and the largest entry gives
// exp(0) = 1: the denominator is >= 1 unless the head's entries are all -inf,
// which gets 0 everywhere rather than 0/0. A NaN score makes the max NaN, so
// the whole head is NaN, as in torch.softmax.
struct SoftmaxRow {
  template <typename T>
  static void run(const T* s, const T* /*unused*/, T* y, int64_t begin, int64_t end,
                  int64_t heads, T* scratch) {
    constexpr T kNegInf = -std::numeric_limits<T>::infinity();
    T* max = scratch;
    T* sum = scratch + heads;
    for (int64_t h = 0; h < heads; ++h) max[h] = kNegInf, sum[h] = T(0);
    for (int64_t k = begin; k < end; ++k) {
      for (int64_t h = 0; h < heads; ++h) {
        const T v = s[k * heads + h];
        if (v > max[h] || std::isnan(v)) max[h] = v;
      }
    }
    for (int64_t k = begin; k < end; ++k) {
      for (int64_t h = 0; h < heads; ++h) {
        const T v = max[h] == kNegInf ? T(0) : std::exp(s[k * heads + h] - max[h]);
        y[k * heads + h] = v;
        sum[h] += v;
      }
    }
    for (int64_t k = begin; k < end; ++k) {
      for (int64_t h = 0; h < heads; ++h) {
        if (max[h] != kNegInf) y[k * heads + h] /= sum[h];
      }
    }
  }
};

// One row of the edge_softmax backward: y ⊙ (g − Σ_row(g ⊙ y)), per head.
struct SoftmaxBackwardRow {
  template <typename T>
  static void run(const T* y, const T* g, T* out, int64_t begin, int64_t end, int64_t heads,
                  T* scratch) {
    T* dot = scratch;
    for (int64_t h = 0; h < heads; ++h) dot[h] = T(0);
    for (int64_t k = begin; k < end; ++k) {
      for (int64_t h = 0; h < heads; ++h) dot[h] += g[k * heads + h] * y[k * heads + h];
    }
    for (int64_t k = begin; k < end; ++k) {
      for (int64_t h = 0; h < heads; ++h) {
        out[k * heads + h] = y[k * heads + h] * (g[k * heads + h] - dot[h]);
      }
    }
  }
};

// The loop both softmax kernels share: out has the shape of `first` (per-edge
// [nnz] or [nnz, H]), each CSR row is done by Row::run on one thread, with
// 2·H scratch values for the row in progress. `second` may be undefined.
template <typename Row>
at::Tensor per_row_heads(const char* op, const at::Tensor& rowptr_in, const at::Tensor& first_in,
                         const at::Tensor& second_in) {
  const at::Tensor rowptr = rowptr_in.contiguous(), first = first_in.contiguous();
  const at::Tensor second = second_in.defined() ? second_in.contiguous() : at::Tensor();
  const int64_t rows = rowptr.numel() - 1, heads = heads_of(first);
  check_rowptr_values(op, rowptr, first.size(0));
  at::Tensor out = at::empty_like(first);
  if (first.numel() == 0) return out;
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES(first.scalar_type(), "edge_softmax_cpu", [&] {
    const scalar_t* a = first.data_ptr<scalar_t>();
    const scalar_t* b = second.defined() ? second.data_ptr<scalar_t>() : nullptr;
    scalar_t* o = out.data_ptr<scalar_t>();
    parallel_for_rows(rp, rows, [&](int64_t rb, int64_t re) {
      std::vector<scalar_t> scratch(2 * heads);
      for (int64_t r = rb; r < re; ++r) Row::run(a, b, o, rp[r], rp[r + 1], heads, scratch.data());
    });
  });
  return out;
}

at::Tensor edge_softmax_cpu(const at::Tensor& rowptr, const at::Tensor& score) {
  check_edge_softmax_args(rowptr, score);
  return per_row_heads<SoftmaxRow>("edge_softmax", rowptr, score, at::Tensor());
}

at::Tensor edge_softmax_backward_cpu(const at::Tensor& rowptr, const at::Tensor& y,
                                     const at::Tensor& grad) {
  check_edge_softmax_backward_args(rowptr, y, grad);
  return per_row_heads<SoftmaxBackwardRow>("_edge_softmax_backward", rowptr, y, grad);
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CPU, m) {
  m.impl("sddmm_add", &sddmm_add_cpu);
  m.impl("_segment_sum_csr", &segment_sum_csr_cpu);
  m.impl("edge_softmax", &edge_softmax_cpu);
  m.impl("_edge_softmax_backward", &edge_softmax_backward_cpu);
}

}  // namespace gnnrec::ops::cpu
