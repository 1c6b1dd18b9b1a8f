// CPU implementation of edge_softmax and its backward
// (_edge_softmax_backward). Per-edge tensors are [nnz] or [nnz, H], stored
// row-major, so an entry's H heads are contiguous; every row of the CSR is
// handled by one thread, in CSR order.
#include <cmath>
#include <limits>
#include <vector>

#include <ATen/Dispatch.h>
#include <ATen/ops/empty_like.h>
#include <torch/library.h>

#include "kernels/checks.h"
#include "kernels/cpu/cpu_common.h"
#include "kernels/heads.h"

namespace gnnrec::ops::cpu {
namespace {

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
  m.impl("edge_softmax", &edge_softmax_cpu);
  m.impl("_edge_softmax_backward", &edge_softmax_backward_cpu);
}

}  // namespace gnnrec::ops::cpu
