// Launch helpers shared by every gnnrec CUDA kernel (*.cu only; no Torch
// headers here). Launchers take raw pointers, sizes and a stream and return
// the first failing cudaError_t (a launch error from cudaGetLastError, or a
// failed runtime call); the Torch bindings turn it into an exception with
// C10_CUDA_CHECK.
//
// Conventions every kernel follows:
// - grid-stride loops over its work items, so any grid (clamped to
//   kMaxGrid) covers all of them;
// - an empty grid is skipped (a zero-sized launch is an error in CUDA);
// - CSR row bounds are clamped to [0, nnz] (row_bounds) and gathered indices
//   are range-checked before use, so malformed input never makes a kernel
//   read or write outside its buffers (it gives unspecified values instead:
//   the value checks that the CPU kernels raise on need a device sync, and
//   are not done on the GPU);
// - no floating-point atomics: each output element is produced by one
//   thread, or by one group of lanes or one block in a fixed order, so
//   results are bitwise reproducible.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace gnnrec::ops::cuda {

constexpr int kWarp = 32;
constexpr int kBlock = 256;
// gridDim.x limit on every architecture gnnrec builds for (sm_90).
constexpr int64_t kMaxGrid = 0x7fffffff;

// Blocks needed to give `items` work items `per_block` each, clamped to
// kMaxGrid (kernels are grid-stride loops); 0 for no work.
inline unsigned grid_for(int64_t items, int64_t per_block) {
  if (items <= 0) return 0;
  const int64_t blocks = (items + per_block - 1) / per_block;
  return static_cast<unsigned>(blocks < kMaxGrid ? blocks : kMaxGrid);
}

// Launches `kernel` with `smem` bytes of dynamic shared memory unless the
// grid is empty, then returns the launch status.
template <typename Kernel, typename... Args>
cudaError_t launch(Kernel kernel, unsigned grid, unsigned block, size_t smem,
                   cudaStream_t stream, Args... args) {
  if (grid == 0 || block == 0) return cudaSuccess;
  kernel<<<grid, block, smem, stream>>>(args...);
  return cudaGetLastError();
}

// Returns from the enclosing launcher on the first CUDA error.
#define GNNREC_CUDA_TRY(expr)                    \
  do {                                           \
    const cudaError_t gnnrec_err_ = (expr);      \
    if (gnnrec_err_ != cudaSuccess) return gnnrec_err_; \
  } while (0)

// Streaming multiprocessors of the current device (for grids that are
// sized to the machine rather than to the work).
inline cudaError_t sm_count(int* out) {
  int device = 0;
  GNNREC_CUDA_TRY(cudaGetDevice(&device));
  return cudaDeviceGetAttribute(out, cudaDevAttrMultiProcessorCount, device);
}

// p is aligned for 16-byte vector loads (float4 / double2).
inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// CSR row r's entries [*begin, *end), clamped to [0, nnz] and to
// begin <= end, so a malformed rowptr cannot send a kernel outside col.
__device__ __forceinline__ void row_bounds(const int64_t* __restrict__ rowptr, int64_t r,
                                           int64_t nnz, int64_t* begin, int64_t* end) {
  int64_t b = rowptr[r], e = rowptr[r + 1];
  b = b < 0 ? 0 : (b > nnz ? nnz : b);
  e = e < b ? b : (e > nnz ? nnz : e);
  *begin = b;
  *end = e;
}

// i in [0, n) (negative i excluded).
__device__ __forceinline__ bool in_range(int64_t i, int64_t n) {
  return static_cast<uint64_t>(i) < static_cast<uint64_t>(n);
}

// The row of CSR entry k: the last r in [0, rows) with rowptr[r] <= k
// (for a valid CSR the row whose range holds k, skipping empty rows);
// -1 when k is before rowptr[0] or at/after rowptr[rows].
__device__ __forceinline__ int64_t row_of_entry(const int64_t* __restrict__ rowptr, int64_t rows,
                                                int64_t k) {
  if (rows <= 0 || k < rowptr[0] || k >= rowptr[rows]) return -1;
  int64_t lo = 0, hi = rows - 1;  // invariant: rowptr[lo] <= k
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (rowptr[mid] <= k) lo = mid; else hi = mid - 1;
  }
  return lo;
}

// Loads of read-only operands (never written while the kernel runs) go
// through the non-coherent read-only path (ld.global.nc).
template <typename T>
__device__ __forceinline__ T load_ro(const T* p) {
  return __ldg(p);
}

// Vector loads (read-only operands) and stores of V consecutive elements:
// float4 / double2 when V * sizeof(T) == 16 (the caller guarantees 16-byte
// alignment), scalars otherwise.
template <typename T, int V>
__device__ __forceinline__ void load_vec(const T* __restrict__ p, T (&v)[V]) {
  if constexpr (V * sizeof(T) == 16 && sizeof(T) == 4) {
    const float4 q = __ldg(reinterpret_cast<const float4*>(p));
    v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
  } else if constexpr (V * sizeof(T) == 16 && sizeof(T) == 8) {
    const double2 q = __ldg(reinterpret_cast<const double2*>(p));
    v[0] = q.x, v[1] = q.y;
  } else {
#pragma unroll
    for (int i = 0; i < V; ++i) v[i] = __ldg(p + i);
  }
}

template <typename T, int V>
__device__ __forceinline__ void store_vec(T* __restrict__ p, const T (&v)[V]) {
  if constexpr (V * sizeof(T) == 16 && sizeof(T) == 4) {
    *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
  } else if constexpr (V * sizeof(T) == 16 && sizeof(T) == 8) {
    *reinterpret_cast<double2*>(p) = make_double2(v[0], v[1]);
  } else {
#pragma unroll
    for (int i = 0; i < V; ++i) p[i] = v[i];
  }
}

}  // namespace gnnrec::ops::cuda
