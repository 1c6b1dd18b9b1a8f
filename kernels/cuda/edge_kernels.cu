// Per-entry operators on CUDA: sddmm, sddmm_add, edge_softmax and its
// backward. Per-entry tensors are [nnz] or [nnz, H] row-major (an entry's
// H heads are contiguous).
//
// Launch shapes:
// - sddmm: a group of G lanes (4..32, by width) per run of kRun consecutive
//   entries; one binary search of rowptr per run, then the row pointer is
//   advanced. Each entry's dot product: every lane sums its slots of the
//   width in order, then a fixed xor-shuffle tree adds the lanes.
// - sddmm_add: a warp per run of 32 consecutive entries; lane i finds entry
//   i's row and column, then the warp writes the run's 32·H outputs
//   contiguously (coalesced), taking row/column by shuffle.
// - edge_softmax and its backward: a warp per CSR row, heads one after the
//   other; lanes stride over the row's entries, and the max, the sum of
//   exponentials and the dot product are combined by a fixed xor-shuffle
//   tree and broadcast from lane 0. Deterministic; rounding may differ from
//   the CPU's sequential sums.
#include <cooperative_groups.h>

#include <cmath>
#include <type_traits>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/launchers.h"

namespace gnnrec::cuda {
namespace {

namespace cg = cooperative_groups;

constexpr int64_t kRun = 8;  // sddmm: consecutive entries per group

template <typename T, int V, int G>
__global__ void __launch_bounds__(kBlock)
    sddmm_kernel(const int64_t* __restrict__ rowptr, const int32_t* __restrict__ col,
                 const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out,
                 int64_t rows, int64_t cols, int64_t nnz, int64_t d) {
  const auto tile = cg::tiled_partition<G>(cg::this_thread_block());
  constexpr int kGroups = kBlock / G;
  const int lane = static_cast<int>(tile.thread_rank());
  const int64_t vectors = d / V;
  const int64_t runs = (nnz + kRun - 1) / kRun;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kGroups;
  for (int64_t run = static_cast<int64_t>(blockIdx.x) * kGroups + threadIdx.x / G; run < runs;
       run += stride) {
    const int64_t k0 = run * kRun, k1 = k0 + kRun < nnz ? k0 + kRun : nnz;
    int64_t r = row_of_entry(rowptr, rows, k0);
    for (int64_t k = k0; k < k1; ++k) {
      if (r >= 0) {
        while (r + 1 < rows && rowptr[r + 1] <= k) ++r;
      }
      const int64_t c = col[k];
      // Uniform in the group: every lane reads the same r, k, c.
      const bool ok = r >= 0 && rowptr[r] <= k && k < rowptr[r + 1] && in_range(c, cols);
      T s = T(0);
      if (ok) {
        const T* ar = a + r * d;
        const T* br = b + c * d;
        for (int64_t vi = lane; vi < vectors; vi += G) {
          T av[V], bv[V];
          load_vec<T, V>(ar + vi * V, av);
          load_vec<T, V>(br + vi * V, bv);
#pragma unroll
          for (int i = 0; i < V; ++i) s += av[i] * bv[i];
        }
      }
#pragma unroll
      for (int off = G / 2; off > 0; off /= 2) s += tile.shfl_xor(s, off);
      if (lane == 0) out[k] = s;
    }
  }
}

template <typename T, int V>
cudaError_t sddmm_group(const int64_t* rowptr, const int32_t* col, const T* a, const T* b, T* out,
                        int64_t rows, int64_t cols, int64_t nnz, int64_t d, int group,
                        cudaStream_t stream) {
  const int64_t runs = (nnz + kRun - 1) / kRun;
  switch (group) {
    case 4:
      return launch(sddmm_kernel<T, V, 4>, grid_for(runs, kBlock / 4), kBlock, 0, stream, rowptr,
                    col, a, b, out, rows, cols, nnz, d);
    case 8:
      return launch(sddmm_kernel<T, V, 8>, grid_for(runs, kBlock / 8), kBlock, 0, stream, rowptr,
                    col, a, b, out, rows, cols, nnz, d);
    case 16:
      return launch(sddmm_kernel<T, V, 16>, grid_for(runs, kBlock / 16), kBlock, 0, stream,
                    rowptr, col, a, b, out, rows, cols, nnz, d);
    default:
      return launch(sddmm_kernel<T, V, 32>, grid_for(runs, kBlock / 32), kBlock, 0, stream,
                    rowptr, col, a, b, out, rows, cols, nnz, d);
  }
}

template <typename T>
__global__ void __launch_bounds__(kBlock)
    sddmm_add_kernel(const int64_t* __restrict__ rowptr, const int32_t* __restrict__ col,
                     const T* __restrict__ a_row, const T* __restrict__ a_col, T* __restrict__ out,
                     int64_t rows, int64_t cols, int64_t nnz, int64_t heads) {
  const auto warp = cg::tiled_partition<kWarp>(cg::this_thread_block());
  const int lane = static_cast<int>(warp.thread_rank());
  const int64_t runs = (nnz + kWarp - 1) / kWarp;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * (kBlock / kWarp);
  for (int64_t run = static_cast<int64_t>(blockIdx.x) * (kBlock / kWarp) + threadIdx.x / kWarp;
       run < runs; run += stride) {
    const int64_t k0 = run * kWarp;
    // Lane i: the row and column of entry k0 + i (-1 when unusable).
    long long my_r = -1, my_c = -1;
    if (k0 + lane < nnz) {
      const int64_t k = k0 + lane, r = row_of_entry(rowptr, rows, k), c = col[k];
      if (r >= 0 && k < rowptr[r + 1] && in_range(c, cols)) my_r = r, my_c = c;
    }
    // The run's outputs [k0·H, (k0+32)·H) in coalesced order; every lane
    // makes exactly `heads` iterations, so the shuffles are converged.
    for (int64_t f = lane; f < kWarp * heads; f += kWarp) {
      const int j = static_cast<int>(f / heads);
      const int64_t h = f % heads;
      const long long r = warp.shfl(my_r, j), c = warp.shfl(my_c, j);
      const int64_t k = k0 + j;
      if (k < nnz) out[k * heads + h] = r >= 0 ? a_row[r * heads + h] + a_col[c * heads + h] : T(0);
    }
  }
}

template <typename T>
__device__ __forceinline__ T exp_of(T v) {
  if constexpr (std::is_same_v<T, float>) {
    return expf(v);
  } else {
    return ::exp(v);
  }
}

// The CPU's running max (NaN sticks) made associative: NaN wins, else max.
template <typename T>
__device__ __forceinline__ T max_nan(T a, T b) {
  if (isnan(a)) return a;
  if (isnan(b)) return b;
  return b > a ? b : a;
}

template <typename T, typename Warp>
__device__ __forceinline__ T warp_sum(const Warp& warp, T s) {
#pragma unroll
  for (int off = kWarp / 2; off > 0; off /= 2) s += warp.shfl_xor(s, off);
  return warp.shfl(s, 0);
}

template <typename T>
__global__ void __launch_bounds__(kBlock)
    edge_softmax_kernel(const int64_t* __restrict__ rowptr, const T* __restrict__ score,
                        T* __restrict__ out, int64_t rows, int64_t nnz, int64_t heads) {
  const T kNegInf = -static_cast<T>(INFINITY);
  const auto warp = cg::tiled_partition<kWarp>(cg::this_thread_block());
  const int lane = static_cast<int>(warp.thread_rank());
  const int64_t stride = static_cast<int64_t>(gridDim.x) * (kBlock / kWarp);
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * (kBlock / kWarp) + threadIdx.x / kWarp;
       r < rows; r += stride) {
    int64_t b, e;
    row_bounds(rowptr, r, nnz, &b, &e);
    for (int64_t h = 0; h < heads; ++h) {
      T m = kNegInf;
      for (int64_t k = b + lane; k < e; k += kWarp) {
        const T v = score[k * heads + h];
        if (v > m || isnan(v)) m = v;
      }
#pragma unroll
      for (int off = kWarp / 2; off > 0; off /= 2) m = max_nan(m, warp.shfl_xor(m, off));
      m = warp.shfl(m, 0);
      // All -inf (no mass): zeros, as on the CPU.
      const bool none = m == kNegInf;
      T sum = T(0);
      for (int64_t k = b + lane; k < e; k += kWarp) {
        sum += none ? T(0) : exp_of(score[k * heads + h] - m);
      }
      sum = warp_sum(warp, sum);
      for (int64_t k = b + lane; k < e; k += kWarp) {
        out[k * heads + h] = none ? T(0) : exp_of(score[k * heads + h] - m) / sum;
      }
    }
  }
}

template <typename T>
__global__ void __launch_bounds__(kBlock)
    edge_softmax_backward_kernel(const int64_t* __restrict__ rowptr, const T* __restrict__ y,
                                 const T* __restrict__ grad, T* __restrict__ out, int64_t rows,
                                 int64_t nnz, int64_t heads) {
  const auto warp = cg::tiled_partition<kWarp>(cg::this_thread_block());
  const int lane = static_cast<int>(warp.thread_rank());
  const int64_t stride = static_cast<int64_t>(gridDim.x) * (kBlock / kWarp);
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * (kBlock / kWarp) + threadIdx.x / kWarp;
       r < rows; r += stride) {
    int64_t b, e;
    row_bounds(rowptr, r, nnz, &b, &e);
    for (int64_t h = 0; h < heads; ++h) {
      T dot = T(0);
      for (int64_t k = b + lane; k < e; k += kWarp) dot += grad[k * heads + h] * y[k * heads + h];
      dot = warp_sum(warp, dot);
      for (int64_t k = b + lane; k < e; k += kWarp) {
        out[k * heads + h] = y[k * heads + h] * (grad[k * heads + h] - dot);
      }
    }
  }
}

}  // namespace

template <typename T>
cudaError_t sddmm_csr(const int64_t* rowptr, const int32_t* col, const T* a, const T* b, T* out,
                      int64_t rows, int64_t cols, int64_t nnz, int64_t d, cudaStream_t stream) {
  if (nnz <= 0) return cudaSuccess;
  constexpr int kVec = static_cast<int>(16 / sizeof(T));
  const RowConfig c = row_config(d, kVec, aligned16(a) && aligned16(b));
  if (c.vec == kVec) {
    return sddmm_group<T, kVec>(rowptr, col, a, b, out, rows, cols, nnz, d, c.group, stream);
  }
  return sddmm_group<T, 1>(rowptr, col, a, b, out, rows, cols, nnz, d, c.group, stream);
}

template <typename T>
cudaError_t sddmm_add_csr(const int64_t* rowptr, const int32_t* col, const T* a_row,
                          const T* a_col, T* out, int64_t rows, int64_t cols, int64_t nnz,
                          int64_t heads, cudaStream_t stream) {
  if (nnz <= 0 || heads <= 0) return cudaSuccess;
  return launch(sddmm_add_kernel<T>, grid_for((nnz + kWarp - 1) / kWarp, kBlock / kWarp), kBlock,
                0, stream, rowptr, col, a_row, a_col, out, rows, cols, nnz, heads);
}

template <typename T>
cudaError_t edge_softmax_csr(const int64_t* rowptr, const T* score, T* out, int64_t rows,
                             int64_t nnz, int64_t heads, cudaStream_t stream) {
  if (nnz <= 0 || heads <= 0) return cudaSuccess;
  return launch(edge_softmax_kernel<T>, grid_for(rows, kBlock / kWarp), kBlock, 0, stream, rowptr,
                score, out, rows, nnz, heads);
}

template <typename T>
cudaError_t edge_softmax_backward_csr(const int64_t* rowptr, const T* y, const T* grad, T* out,
                                      int64_t rows, int64_t nnz, int64_t heads,
                                      cudaStream_t stream) {
  if (nnz <= 0 || heads <= 0) return cudaSuccess;
  return launch(edge_softmax_backward_kernel<T>, grid_for(rows, kBlock / kWarp), kBlock, 0,
                stream, rowptr, y, grad, out, rows, nnz, heads);
}

#define GNNREC_INSTANTIATE(T)                                                                   \
  template cudaError_t sddmm_csr<T>(const int64_t*, const int32_t*, const T*, const T*, T*,     \
                                    int64_t, int64_t, int64_t, int64_t, cudaStream_t);          \
  template cudaError_t sddmm_add_csr<T>(const int64_t*, const int32_t*, const T*, const T*, T*, \
                                        int64_t, int64_t, int64_t, int64_t, cudaStream_t);      \
  template cudaError_t edge_softmax_csr<T>(const int64_t*, const T*, T*, int64_t, int64_t,      \
                                           int64_t, cudaStream_t);                             \
  template cudaError_t edge_softmax_backward_csr<T>(const int64_t*, const T*, const T*, T*,     \
                                                    int64_t, int64_t, int64_t, cudaStream_t);
GNNREC_INSTANTIATE(float)
GNNREC_INSTANTIATE(double)
#undef GNNREC_INSTANTIATE

}  // namespace gnnrec::cuda
