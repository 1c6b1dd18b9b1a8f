// CPU implementations of spmm_reduce and of its max backward
// (_spmm_reduce_max_backward). Both write only the rows of their own chunk,
// so they need no atomics and do not depend on the thread count.
#include <atomic>
#include <cmath>

#include <ATen/Dispatch.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
#include <torch/library.h>

#include "kernels/checks.h"
#include "kernels/cpu/cpu_common.h"

namespace gnnrec::ops::cpu {
namespace {

// v beats the current best: strictly greater keeps the first of equal values;
// a NaN beats any number (and nothing beats it), as in torch.max.
template <typename T>
inline bool beats(T v, T best) {
  return v > best || (std::isnan(v) && !std::isnan(best));
}

// Rows [b, e) of the elementwise max over each row's neighbours, with the
// CSR position of the winner. A row starts from its first entry (not from
// -inf), so rows of -inf are handled like any other value. False when col
// holds an index outside [0, cols).
template <typename T>
bool max_rows(const int64_t* rowptr, const int32_t* col, const T* x, T* out, int64_t* arg,
              int64_t b, int64_t e, int64_t d, int64_t cols) {
  bool ok = true;
  for (int64_t r = b; r < e; ++r) {
    T* __restrict o = out + r * d;
    int64_t* __restrict a = arg + r * d;
    const int64_t begin = rowptr[r], end = rowptr[r + 1];
    if (begin == end) {
      for (int64_t t = 0; t < d; ++t) o[t] = T(0), a[t] = -1;
      continue;
    }
    if (out_of_range(col[begin], cols)) {  // the caller throws: the row is left as is
      ok = false;
      continue;
    }
    const T* first = x + static_cast<int64_t>(col[begin]) * d;
    for (int64_t t = 0; t < d; ++t) o[t] = first[t], a[t] = begin;
    for (int64_t k = begin + 1; k < end; ++k) {
      const int64_t j = col[k];
      if (out_of_range(j, cols)) {
        ok = false;
        continue;
      }
      const T* __restrict xr = x + j * d;
      for (int64_t t = 0; t < d; ++t) {
        if (beats(xr[t], o[t])) o[t] = xr[t], a[t] = k;
      }
    }
  }
  return ok;
}

template <typename T>
void divide_by_degree(const int64_t* rowptr, T* out, int64_t b, int64_t e, int64_t d) {
  for (int64_t r = b; r < e; ++r) {
    const int64_t deg = rowptr[r + 1] - rowptr[r];
    if (deg == 0) continue;  // an empty row's sum is already 0
    const T n = static_cast<T>(deg);
    for (int64_t t = 0; t < d; ++t) out[r * d + t] /= n;
  }
}

std::tuple<at::Tensor, at::Tensor> spmm_reduce_cpu(const at::Tensor& rowptr_in,
                                                   const at::Tensor& col_in,
                                                   const at::Tensor& t_rowptr,
                                                   const at::Tensor& t_col,
                                                   const at::Tensor& t_perm,
                                                   const at::Tensor& x_in,
                                                   c10::string_view reduce_name) {
  const Reduce reduce =
      check_spmm_reduce_args(rowptr_in, col_in, t_rowptr, t_col, t_perm, x_in, reduce_name);
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous();
  const at::Tensor x = x_in.contiguous();
  check_rowptr_values("spmm_reduce", rowptr, col.numel());

  const int64_t rows = rowptr.numel() - 1, d = x.size(1), cols = x.size(0);
  at::Tensor out = at::empty({rows, d}, x.options());
  const auto long_options = x.options().dtype(at::kLong);
  at::Tensor arg = reduce == Reduce::kMax ? at::empty({rows, d}, long_options)
                                          : at::empty({0}, long_options);
  if (rows == 0 || d == 0) return {out, arg};
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int32_t* cp = col.data_ptr<int32_t>();
  std::atomic<bool> bad_col{false};
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "spmm_reduce_cpu", [&] {
    const scalar_t* xp = x.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    parallel_for_rows(rp, rows, [&](int64_t b, int64_t e) {
      bool ok;
      if (reduce == Reduce::kMax) {
        ok = max_rows(rp, cp, xp, op, arg.data_ptr<int64_t>(), b, e, d, cols);
      } else {
        // sum and mean share the tuned SpMM rows (unit values).
        ok = spmm_rows(rp, cp, static_cast<const scalar_t*>(nullptr), xp, op, b, e, d, cols);
        if (reduce == Reduce::kMean) divide_by_degree(rp, op, b, e, d);
      }
      if (!ok) bad_col.store(true, std::memory_order_relaxed);
    });
  });
  TORCH_CHECK(!bad_col.load(), "spmm_reduce: col holds an index outside [0, ", cols, ")");
  return {out, arg};
}

at::Tensor spmm_reduce_max_backward_cpu(const at::Tensor& t_rowptr_in, const at::Tensor& t_col_in,
                                        const at::Tensor& t_perm_in, const at::Tensor& arg_in,
                                        const at::Tensor& grad_in) {
  check_spmm_reduce_max_backward_args(t_rowptr_in, t_col_in, t_perm_in, arg_in, grad_in);
  const at::Tensor t_rowptr = t_rowptr_in.contiguous(), t_col = t_col_in.contiguous();
  const at::Tensor t_perm = t_perm_in.contiguous(), arg = arg_in.contiguous();
  const at::Tensor grad = grad_in.contiguous();
  check_rowptr_values("_spmm_reduce_max_backward", t_rowptr, t_col.numel());

  const int64_t cols = t_rowptr.numel() - 1, rows = grad.size(0), d = grad.size(1);
  at::Tensor out = at::zeros({cols, d}, grad.options());
  if (cols == 0 || d == 0) return out;
  const int64_t* trp = t_rowptr.data_ptr<int64_t>();
  const int32_t* tcp = t_col.data_ptr<int32_t>();
  const int64_t* perm = t_perm.data_ptr<int64_t>();
  const int64_t* ap = arg.data_ptr<int64_t>();
  std::atomic<bool> bad_row{false};
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "spmm_reduce_max_backward_cpu", [&] {
    const scalar_t* gp = grad.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    // x row c gathers, in transposed-CSR order, the gradient of every output
    // (r, t) whose winner was its entry: a gather instead of a scatter.
    parallel_for_rows(trp, cols, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        scalar_t* __restrict o = op + c * d;
        for (int64_t k = trp[c]; k < trp[c + 1]; ++k) {
          const int64_t r = tcp[k];
          if (out_of_range(r, rows)) {
            bad_row.store(true, std::memory_order_relaxed);
            continue;
          }
          const int64_t entry = perm[k];
          const int64_t* __restrict a = ap + r * d;
          const scalar_t* __restrict g = gp + r * d;
          for (int64_t t = 0; t < d; ++t) o[t] += a[t] == entry ? g[t] : scalar_t(0);
        }
      }
    });
  });
  TORCH_CHECK(!bad_row.load(), "_spmm_reduce_max_backward: t_col holds an index outside [0, ",
              rows, ")");
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CPU, m) {
  m.impl("spmm_reduce", &spmm_reduce_cpu);
  m.impl("_spmm_reduce_max_backward", &spmm_reduce_max_backward_cpu);
}

}  // namespace gnnrec::ops::cpu
