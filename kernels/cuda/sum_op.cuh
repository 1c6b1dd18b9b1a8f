// The sum-type row reduction of the row engine (row_reduce.cuh), shared by
// spmm (weighted or not), spmm_reduce's sum and mean, and _segment_sum_csr:
// each output element is summed in CSR order by one lane (or, for a hub
// row, per fixed segment and then segment by segment).
#pragma once

#include <cstdint>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/row_reduce.cuh"

namespace gnnrec::ops::cuda {

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
  __device__ __forceinline__ bool valid(const Entry<T>& e) const {
    return in_range(e.node, x_rows);
  }
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
    for (int c = 0; c < V; ++c)
      v[c] = (mean && deg > 0) ? s.acc[c] / static_cast<T>(deg) : s.acc[c];
    store_vec<T, V>(out + r * d + vi * V, v);
  }
};

}  // namespace gnnrec::ops::cuda
