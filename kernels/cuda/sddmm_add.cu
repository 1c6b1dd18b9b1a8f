// sddmm_add on CUDA: a warp per run of 32 consecutive entries; lane i finds
// entry i's row and column, then the warp writes the run's 32·H outputs
// contiguously (coalesced), taking row/column by shuffle. Per-entry tensors
// are [nnz] or [nnz, H] row-major (an entry's H heads are contiguous).
#include <cooperative_groups.h>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/launchers.h"

namespace gnnrec::ops::cuda {
namespace {

namespace cg = cooperative_groups;

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

}  // namespace

template <typename T>
cudaError_t sddmm_add_csr(const int64_t* rowptr, const int32_t* col, const T* a_row, const T* a_col,
                          T* out, int64_t rows, int64_t cols, int64_t nnz, int64_t heads,
                          cudaStream_t stream) {
  if (nnz <= 0 || heads <= 0) return cudaSuccess;
  return launch(sddmm_add_kernel<T>, grid_for((nnz + kWarp - 1) / kWarp, kBlock / kWarp), kBlock, 0,
                stream, rowptr, col, a_row, a_col, out, rows, cols, nnz, heads);
}

#define GNNREC_INSTANTIATE(T)                                                                   \
  template cudaError_t sddmm_add_csr<T>(const int64_t*, const int32_t*, const T*, const T*, T*, \
                                        int64_t, int64_t, int64_t, int64_t, cudaStream_t);
GNNREC_INSTANTIATE(float)
GNNREC_INSTANTIATE(double)
#undef GNNREC_INSTANTIATE

}  // namespace gnnrec::ops::cuda
