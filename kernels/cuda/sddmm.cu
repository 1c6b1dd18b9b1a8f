// sddmm on CUDA: a group of G lanes (4..32, by width) per run of kRun
// consecutive entries; one binary search of rowptr per run, then the row
// pointer is advanced. Each entry's dot product: every lane sums its slots
// of the width in order, then a fixed xor-shuffle tree adds the lanes.
#include <cooperative_groups.h>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/launchers.h"

namespace gnnrec::ops::cuda {
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
      return launch(sddmm_kernel<T, V, 16>, grid_for(runs, kBlock / 16), kBlock, 0, stream, rowptr,
                    col, a, b, out, rows, cols, nnz, d);
    default:
      return launch(sddmm_kernel<T, V, 32>, grid_for(runs, kBlock / 32), kBlock, 0, stream, rowptr,
                    col, a, b, out, rows, cols, nnz, d);
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

#define GNNREC_INSTANTIATE(T)                                                               \
  template cudaError_t sddmm_csr<T>(const int64_t*, const int32_t*, const T*, const T*, T*, \
                                    int64_t, int64_t, int64_t, int64_t, cudaStream_t);
GNNREC_INSTANTIATE(float)
GNNREC_INSTANTIATE(double)
#undef GNNREC_INSTANTIATE

}  // namespace gnnrec::ops::cuda
