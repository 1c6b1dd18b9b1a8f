// sample_negatives on CUDA: one thread per row of users, running the same
// host/device code as the CPU (kernels/sampling_row.h), so the output equals
// the CPU's exactly. Each thread writes its own output row and searches its
// own user's row, so there is nothing to share.
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/launchers.h"
#include "kernels/sampling_row.h"

namespace gnnrec::ops::cuda {
namespace {

// *first_bad = min(*first_bad, j) for every j whose user is outside
// [0, rows) or has num_items or more entries (clamped row bounds, as the
// sampling kernel reads them). atomicMin on an index: the result is the
// same whatever the order.
__global__ void __launch_bounds__(kBlock)
    negatives_first_bad_kernel(const int64_t* __restrict__ rowptr,
                               const int64_t* __restrict__ users, int64_t rows, int64_t nnz,
                               int64_t n, int64_t num_items,
                               unsigned long long* __restrict__ first_bad) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < n;
       j += stride) {
    const int64_t u = users[j];
    bool bad = !in_range(u, rows);
    if (!bad) {
      int64_t begin, end;
      row_bounds(rowptr, u, nnz, &begin, &end);
      bad = end - begin >= num_items;
    }
    if (bad) atomicMin(first_bad, static_cast<unsigned long long>(j));
  }
}

__global__ void __launch_bounds__(kBlock)
    sample_negatives_kernel(const int64_t* __restrict__ rowptr, const int32_t* __restrict__ col,
                            const int64_t* __restrict__ users, int64_t* __restrict__ out,
                            int64_t rows, int64_t nnz, int64_t n, int64_t num_items, int64_t k,
                            uint64_t seed) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < n;
       j += stride) {
    const int64_t u = users[j];
    int64_t begin = 0, end = 0;
    if (in_range(u, rows)) row_bounds(rowptr, u, nnz, &begin, &end);
    // A user the binding's check rejects (out of range, or no item left to
    // draw) gets -1: the rejection loop must never start without a negative.
    if (!in_range(u, rows) || end - begin >= num_items) {
      for (int64_t s = 0; s < k; ++s) out[j * k + s] = -1;
      continue;
    }
    sampling::sample_negative_row(col + begin, end - begin, num_items, k, seed,
                                  static_cast<uint64_t>(j), out + j * k);
  }
}

}  // namespace

cudaError_t sample_negatives_first_bad(const int64_t* rowptr, const int64_t* users, int64_t rows,
                                       int64_t nnz, int64_t n, int64_t num_items,
                                       int64_t* first_bad, cudaStream_t stream) {
  static_assert(sizeof(unsigned long long) == sizeof(int64_t), "64-bit atomicMin");
  return launch(negatives_first_bad_kernel, grid_for(n, kBlock), kBlock, 0, stream, rowptr, users,
                rows, nnz, n, num_items, reinterpret_cast<unsigned long long*>(first_bad));
}

cudaError_t sample_negatives_csr(const int64_t* rowptr, const int32_t* col, const int64_t* users,
                                 int64_t* out, int64_t rows, int64_t nnz, int64_t n,
                                 int64_t num_items, int64_t k, uint64_t seed,
                                 cudaStream_t stream) {
  if (n <= 0 || k <= 0) return cudaSuccess;
  return launch(sample_negatives_kernel, grid_for(n, kBlock), kBlock, 0, stream, rowptr, col,
                users, out, rows, nnz, n, num_items, k, seed);
}

}  // namespace gnnrec::ops::cuda
