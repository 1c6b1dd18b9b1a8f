// edge_softmax and its backward on CUDA: a warp per CSR row, heads one
// after the other; lanes stride over the row's entries, and the max, the
// sum of exponentials and the dot product are combined by a fixed
// xor-shuffle tree and broadcast from lane 0. Deterministic; rounding may
// differ from the CPU's sequential sums. Per-entry tensors are [nnz] or
// [nnz, H] row-major (an entry's H heads are contiguous).
#include <cooperative_groups.h>

#include <cmath>
#include <type_traits>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/launchers.h"

namespace gnnrec::ops::cuda {
namespace {

namespace cg = cooperative_groups;

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
  return launch(edge_softmax_backward_kernel<T>, grid_for(rows, kBlock / kWarp), kBlock, 0, stream,
                rowptr, y, grad, out, rows, nnz, heads);
}

#define GNNREC_INSTANTIATE(T)                                                               \
  template cudaError_t edge_softmax_csr<T>(const int64_t*, const T*, T*, int64_t, int64_t,  \
                                           int64_t, cudaStream_t);                          \
  template cudaError_t edge_softmax_backward_csr<T>(const int64_t*, const T*, const T*, T*, \
                                                    int64_t, int64_t, int64_t, cudaStream_t);
GNNREC_INSTANTIATE(float)
GNNREC_INSTANTIATE(double)
#undef GNNREC_INSTANTIATE

}  // namespace gnnrec::ops::cuda
