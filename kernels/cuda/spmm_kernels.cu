// Sum-type row reductions on CUDA: spmm (weighted or not), spmm_reduce's
// sum and mean, and _segment_sum_csr. All go through the row engine of
// row_reduce.cuh (a group of lanes per row, 16-byte loads when possible, a
// block per hub row), so each output element is summed in CSR order by one
// lane (or, for a hub row, per fixed segment and then segment by segment).
#include "kernels/cuda/launchers.h"
#include "kernels/cuda/row_reduce.cuh"

namespace gnnrec::cuda {
namespace {

// out[r] = Σ_k w_k · x[node_k] over row r's entries k, where node_k is
// col[k] (col[k] = k when col is null: _segment_sum_csr without perm) and
// w_k is val[k] (1 when val is null). Index is int32_t (a CSR's col) or
// int64_t (a permutation).
template <typename T, int V, typename Index>
struct SumOp {
  using Payload = T;
  struct State {
    T acc[V];
  };
  const int64_t* __restrict__ rowptr;
  int64_t nnz;
  const Index* __restrict__ col;
  const T* __restrict__ val;
  const T* __restrict__ x;
  T* __restrict__ out;
  int64_t x_rows;
  int64_t d;
  int64_t vectors;  // d / V
  bool mean;

  __device__ __forceinline__ Entry<T> entry(int64_t k) const {
    return {col ? static_cast<long long>(load_ro(col + k)) : static_cast<long long>(k),
            val ? load_ro(val + k) : T(1)};
  }
  __device__ __forceinline__ bool valid(const Entry<T>& e) const { return in_range(e.node, x_rows); }
  __device__ __forceinline__ void init(State& s) const {
#pragma unroll
    for (int c = 0; c < V; ++c) s.acc[c] = T(0);
  }
  __device__ __forceinline__ void fold(State& s, const Entry<T>& e, int64_t vi) const {
    T v[V];
    load_vec<T, V>(x + e.node * d + vi * V, v);
#pragma unroll
    for (int c = 0; c < V; ++c) s.acc[c] += e.p * v[c];
  }
  // The batched gathers of fold_entries<U = 4>: fold = load + apply.
  struct Loaded {
    T v[V];
  };
  __device__ __forceinline__ void load(long long node, int64_t vi, Loaded& l) const {
    load_vec<T, V>(x + node * d + vi * V, l.v);
  }
  __device__ __forceinline__ void apply(State& s, T p, const Loaded& l, bool use) const {
#pragma unroll
    for (int c = 0; c < V; ++c) {
      const T next = s.acc[c] + p * l.v[c];
      s.acc[c] = use ? next : s.acc[c];
    }
  }
  __device__ __forceinline__ void combine(State& s, const State& later) const {
#pragma unroll
    for (int c = 0; c < V; ++c) s.acc[c] += later.acc[c];
  }
  __device__ __forceinline__ void write(const State& s, int64_t r, int64_t vi, int64_t deg) const {
    T v[V];
#pragma unroll
    for (int c = 0; c < V; ++c) v[c] = (mean && deg > 0) ? s.acc[c] / static_cast<T>(deg) : s.acc[c];
    store_vec<T, V>(out + r * d + vi * V, v);
  }
};

}  // namespace

template <typename T>
cudaError_t spmm_csr(const int64_t* rowptr, const int32_t* col, const T* val, const T* x, T* out,
                     int64_t rows, int64_t cols, int64_t nnz, int64_t d, bool mean,
                     int64_t* hub_scratch, cudaStream_t stream) {
  if (rows <= 0 || d <= 0) return cudaSuccess;
  const RowConfig c = row_config(d, 16 / sizeof(T), aligned16(x) && aligned16(out));
  return run_rows<T>(c, rows, hub_scratch, stream, [&](auto v) {
    constexpr int V = decltype(v)::value;
    return SumOp<T, V, int32_t>{rowptr, nnz, col, val, x, out, cols, d, d / V, mean};
  });
}

template <typename T>
cudaError_t segment_sum_csr(const int64_t* rowptr, const int64_t* perm, const T* src, T* out,
                            int64_t rows, int64_t m, int64_t heads, int64_t* hub_scratch,
                            cudaStream_t stream) {
  if (rows <= 0 || heads <= 0) return cudaSuccess;
  const RowConfig c = row_config(heads, 16 / sizeof(T), aligned16(src) && aligned16(out));
  // A row's entries are positions into src: there are m of them (nnz = m).
  return run_rows<T>(c, rows, hub_scratch, stream, [&](auto v) {
    constexpr int V = decltype(v)::value;
    return SumOp<T, V, int64_t>{rowptr, m, perm, nullptr, src, out, m, heads, heads / V, false};
  });
}

#define GNNREC_INSTANTIATE(T)                                                                   \
  template cudaError_t spmm_csr<T>(const int64_t*, const int32_t*, const T*, const T*, T*,      \
                                   int64_t, int64_t, int64_t, int64_t, bool, int64_t*,          \
                                   cudaStream_t);                                              \
  template cudaError_t segment_sum_csr<T>(const int64_t*, const int64_t*, const T*, T*, int64_t, \
                                          int64_t, int64_t, int64_t*, cudaStream_t);
GNNREC_INSTANTIATE(float)
GNNREC_INSTANTIATE(double)
#undef GNNREC_INSTANTIATE

}  // namespace gnnrec::cuda
