// Plain CUDA kernels for spmm and sddmm: one warp per CSR row. Every output
// element is summed by one lane in CSR order, so results are deterministic.
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/sparse_kernels.h"

namespace gnnrec::cuda {
namespace {

template <typename T>
__global__ void spmm_warp_per_row(const int64_t* __restrict__ rowptr,
                                  const int32_t* __restrict__ col, const T* __restrict__ val,
                                  const T* __restrict__ x, T* __restrict__ out, int64_t rows,
                                  int64_t d) {
  const int64_t warp = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (warp >= rows) return;
  const int64_t begin = rowptr[warp], end = rowptr[warp + 1];
  for (int64_t t = lane; t < d; t += kWarp) {
    T acc = T(0);
    for (int64_t k = begin; k < end; ++k) {
      const T w = val ? val[k] : T(1);
      acc += w * x[static_cast<int64_t>(col[k]) * d + t];
    }
    out[warp * d + t] = acc;
  }
}

template <typename T>
__global__ void sddmm_warp_per_row(const int64_t* __restrict__ rowptr,
                                   const int32_t* __restrict__ col, const T* __restrict__ a,
                                   const T* __restrict__ b, T* __restrict__ out, int64_t rows,
                                   int64_t d) {
  const int64_t warp = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (warp >= rows) return;
  for (int64_t k = rowptr[warp]; k < rowptr[warp + 1]; ++k) {
    const T* br = b + static_cast<int64_t>(col[k]) * d;
    const T* ar = a + warp * d;
    T s = T(0);
    for (int64_t t = lane; t < d; t += kWarp) s += ar[t] * br[t];
    for (int off = kWarp / 2; off > 0; off /= 2) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) out[k] = s;
  }
}

}  // namespace

template <typename T>
cudaError_t spmm_csr(const int64_t* rowptr, const int32_t* col, const T* val, const T* x, T* out,
                     int64_t rows, int64_t d, cudaStream_t stream) {
  if (d == 0) return cudaSuccess;
  return launch(spmm_warp_per_row<T>, grid_for(rows, kBlock / kWarp), kBlock, stream, rowptr, col,
                val, x, out, rows, d);
}

template <typename T>
cudaError_t sddmm_csr(const int64_t* rowptr, const int32_t* col, const T* a, const T* b, T* out,
                      int64_t rows, int64_t d, cudaStream_t stream) {
  return launch(sddmm_warp_per_row<T>, grid_for(rows, kBlock / kWarp), kBlock, stream, rowptr,
                col, a, b, out, rows, d);
}

template cudaError_t spmm_csr<float>(const int64_t*, const int32_t*, const float*, const float*,
                                     float*, int64_t, int64_t, cudaStream_t);
template cudaError_t spmm_csr<double>(const int64_t*, const int32_t*, const double*,
                                      const double*, double*, int64_t, int64_t, cudaStream_t);
template cudaError_t sddmm_csr<float>(const int64_t*, const int32_t*, const float*, const float*,
                                      float*, int64_t, int64_t, cudaStream_t);
template cudaError_t sddmm_csr<double>(const int64_t*, const int32_t*, const double*,
                                       const double*, double*, int64_t, int64_t, cudaStream_t);

}  // namespace gnnrec::cuda
