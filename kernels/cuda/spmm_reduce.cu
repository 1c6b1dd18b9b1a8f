// spmm_reduce "max" and its backward (_spmm_reduce_max_backward) on CUDA,
// through the row engine of row_reduce.cuh. The max is exact and its
// tie rule (first winner in CSR order, NaN beats numbers) survives the hub
// split: each segment keeps its first winner and the segments are combined
// in order with the same strict rule, so the result equals a sequential
// scan of the row, i.e. the CPU's, bit for bit.
#include "kernels/cuda/launchers.h"
#include "kernels/cuda/row_reduce.cuh"

namespace gnnrec::ops::cuda {
namespace {

// v beats the current best: strictly greater keeps the first of equal
// values; a NaN beats any number (and nothing beats it), as in torch.max.
template <typename T>
__device__ __forceinline__ bool beats(T v, T best) {
  return v > best || (isnan(v) && !isnan(best));
}

// out[r, t] = max over row r's entries of x[col[k], t]; arg[r, t] = the
// winning k. State arg < 0: nothing folded yet (an empty row writes 0, -1).
template <typename T, int V>
struct MaxOp {
  using Payload = long long;  // the entry's CSR position k
  struct State {
    T best[V];
    long long arg[V];
  };
  const int64_t* __restrict__ rowptr;
  int64_t nnz;
  const int32_t* __restrict__ col;
  const T* __restrict__ x;
  T* __restrict__ out;
  int64_t* __restrict__ arg;
  int64_t x_rows;
  int64_t d;
  int64_t vectors;

  __device__ __forceinline__ Entry<long long> entry(int64_t k) const {
    return {static_cast<long long>(load_ro(col + k)), static_cast<long long>(k)};
  }
  __device__ __forceinline__ bool valid(const Entry<long long>& e) const {
    return in_range(e.node, x_rows);
  }
  __device__ __forceinline__ void init(State& s) const {
#pragma unroll
    for (int c = 0; c < V; ++c) s.best[c] = T(0), s.arg[c] = -1;
  }
  __device__ __forceinline__ void fold(State& s, const Entry<long long>& e, int64_t vi) const {
    T v[V];
    load_vec<T, V>(x + e.node * d + vi * V, v);
#pragma unroll
    for (int c = 0; c < V; ++c) {
      if (s.arg[c] < 0 || beats(v[c], s.best[c])) s.best[c] = v[c], s.arg[c] = e.p;
    }
  }
  __device__ __forceinline__ void combine(State& s, const State& later) const {
#pragma unroll
    for (int c = 0; c < V; ++c) {
      if (later.arg[c] >= 0 && (s.arg[c] < 0 || beats(later.best[c], s.best[c]))) {
        s.best[c] = later.best[c], s.arg[c] = later.arg[c];
      }
    }
  }
  __device__ __forceinline__ void write(const State& s, int64_t r, int64_t vi, int64_t) const {
    store_vec<T, V>(out + r * d + vi * V, s.best);
    int64_t* a = arg + r * d + vi * V;
#pragma unroll
    for (int c = 0; c < V; ++c) a[c] = s.arg[c];
  }
};

// Over the transpose: out[c, t] = Σ_{k in t-row c} (arg[r, t] == t_perm[k]
// ? grad[r, t] : 0), r = t_col[k]: each x row gathers the gradients its
// entries won.
template <typename T, int V>
struct MaxBackwardOp {
  using Payload = long long;  // t_perm[k]: the entry's position in A's CSR
  struct State {
    T acc[V];
  };
  const int64_t* __restrict__ rowptr;  // t_rowptr
  int64_t nnz;
  const int32_t* __restrict__ col;  // t_col
  const int64_t* __restrict__ perm;
  const int64_t* __restrict__ arg;
  const T* __restrict__ grad;
  T* __restrict__ out;
  int64_t grad_rows;
  int64_t d;
  int64_t vectors;

  __device__ __forceinline__ Entry<long long> entry(int64_t k) const {
    return {static_cast<long long>(load_ro(col + k)), static_cast<long long>(load_ro(perm + k))};
  }
  __device__ __forceinline__ bool valid(const Entry<long long>& e) const {
    return in_range(e.node, grad_rows);
  }
  __device__ __forceinline__ void init(State& s) const {
#pragma unroll
    for (int c = 0; c < V; ++c) s.acc[c] = T(0);
  }
  __device__ __forceinline__ void fold(State& s, const Entry<long long>& e, int64_t vi) const {
    T g[V];
    load_vec<T, V>(grad + e.node * d + vi * V, g);
    const int64_t* a = arg + e.node * d + vi * V;
#pragma unroll
    for (int c = 0; c < V; ++c) s.acc[c] += load_ro(a + c) == e.p ? g[c] : T(0);
  }
  __device__ __forceinline__ void combine(State& s, const State& later) const {
#pragma unroll
    for (int c = 0; c < V; ++c) s.acc[c] += later.acc[c];
  }
  __device__ __forceinline__ void write(const State& s, int64_t r, int64_t vi, int64_t) const {
    store_vec<T, V>(out + r * d + vi * V, s.acc);
  }
};

}  // namespace

template <typename T>
cudaError_t spmm_max_csr(const int64_t* rowptr, const int32_t* col, const T* x, T* out,
                         int64_t* arg, int64_t rows, int64_t cols, int64_t nnz, int64_t d,
                         int64_t* hub_scratch, cudaStream_t stream) {
  if (rows <= 0 || d <= 0) return cudaSuccess;
  const RowConfig c = row_config(d, 16 / sizeof(T), aligned16(x) && aligned16(out));
  return run_rows<T>(c, rows, hub_scratch, stream, [&](auto v) {
    constexpr int V = decltype(v)::value;
    return MaxOp<T, V>{rowptr, nnz, col, x, out, arg, cols, d, d / V};
  });
}

template <typename T>
cudaError_t spmm_max_backward_csr(const int64_t* t_rowptr, const int32_t* t_col,
                                  const int64_t* t_perm, const int64_t* arg, const T* grad,
                                  T* out, int64_t cols, int64_t rows, int64_t nnz, int64_t d,
                                  int64_t* hub_scratch, cudaStream_t stream) {
  if (cols <= 0 || d <= 0) return cudaSuccess;
  const RowConfig c = row_config(d, 16 / sizeof(T), aligned16(grad) && aligned16(out));
  return run_rows<T>(c, cols, hub_scratch, stream, [&](auto v) {
    constexpr int V = decltype(v)::value;
    return MaxBackwardOp<T, V>{t_rowptr, nnz, t_col, t_perm, arg, grad, out, rows, d, d / V};
  });
}

#define GNNREC_INSTANTIATE(T)                                                                  \
  template cudaError_t spmm_max_csr<T>(const int64_t*, const int32_t*, const T*, T*, int64_t*, \
                                       int64_t, int64_t, int64_t, int64_t, int64_t*,           \
                                       cudaStream_t);                                         \
  template cudaError_t spmm_max_backward_csr<T>(const int64_t*, const int32_t*, const int64_t*, \
                                                const int64_t*, const T*, T*, int64_t, int64_t, \
                                                int64_t, int64_t, int64_t*, cudaStream_t);
GNNREC_INSTANTIATE(float)
GNNREC_INSTANTIATE(double)
#undef GNNREC_INSTANTIATE

}  // namespace gnnrec::ops::cuda
