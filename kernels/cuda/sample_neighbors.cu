// sample_neighbors on CUDA: one thread per seed, running the same
// host/device code as the CPU's algorithm (kernels/sampling_row.h), so the
// output equals the CPU's exactly. Each thread writes its own output row and
// scans its own picks for repeats, so there is nothing to share.
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/launchers.h"
#include "kernels/sampling_row.h"

namespace gnnrec::ops::cuda {
namespace {

__global__ void __launch_bounds__(kBlock)
    sample_neighbors_kernel(const int64_t* __restrict__ rowptr, const int32_t* __restrict__ col,
                            const int64_t* __restrict__ seeds, int64_t* __restrict__ nbr,
                            int64_t* __restrict__ eid, int64_t rows, int64_t nnz, int64_t n,
                            int64_t fanout, bool replace, uint64_t seed) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < n;
       j += stride) {
    sampling::sample_seed(rowptr, col, rows, nnz, seeds[j], fanout, replace, seed, nbr + j * fanout,
                          eid + j * fanout);
  }
}

}  // namespace

cudaError_t sample_neighbors_csr(const int64_t* rowptr, const int32_t* col, const int64_t* seeds,
                                 int64_t* nbr, int64_t* eid, int64_t rows, int64_t nnz, int64_t n,
                                 int64_t fanout, bool replace, uint64_t seed, cudaStream_t stream) {
  if (n <= 0 || fanout <= 0) return cudaSuccess;
  return launch(sample_neighbors_kernel, grid_for(n, kBlock), kBlock, 0, stream, rowptr, col, seeds,
                nbr, eid, rows, nnz, n, fanout, replace, seed);
}

}  // namespace gnnrec::ops::cuda
