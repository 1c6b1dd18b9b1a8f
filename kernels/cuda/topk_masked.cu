// topk_masked and _topk_masked_auc on CUDA, the kernels over one chunk of
// score rows ([rows, items], row r the scores of user users[r]):
// - mask_score_rows: one warp per row writes -inf at the row's masked items;
// - rank_keys: one thread per score, an int64 key whose order is the
//   operator's ranking order (kernels/ops.h), so that the binding can rank
//   with at::topk / at::sort on integers, where there are no ties to break;
// - masked_auc_rows: one block per row counts, for a tile of the user's test
//   items at a time, the row's scores below and equal to each, then takes
//   the excluded items back out (the same counts as the CPU's row_auc).
// Every count is an integer produced in a fixed order, so results are
// bitwise reproducible.
#include <cmath>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/launchers.h"

namespace gnnrec::ops::cuda {
namespace {

// Test items counted per pass over a row in masked_auc_rows (registers per
// thread: 2 counters and 1 score each).
constexpr int kAucTile = 8;

template <typename T>
__device__ __forceinline__ T negative_infinity() {
  return -static_cast<T>(INFINITY);
}

__device__ __forceinline__ double quiet_nan() { return __longlong_as_double(0x7ff8000000000000LL); }

template <typename T>
__global__ void __launch_bounds__(kBlock)
    mask_score_rows_kernel(T* __restrict__ scores, int64_t rows, int64_t items,
                           const int64_t* __restrict__ users, int64_t num_users,
                           const int64_t* __restrict__ rowptr, const int32_t* __restrict__ col,
                           int64_t nnz) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / kWarp);
  for (int64_t r = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
       r < rows; r += warps) {
    const int64_t u = users[r];
    if (!in_range(u, num_users)) continue;
    int64_t begin, end;
    row_bounds(rowptr, u, nnz, &begin, &end);
    T* row = scores + r * items;
    for (int64_t k = begin + lane; k < end; k += kWarp) {
      const int32_t j = load_ro(col + k);
      if (in_range(j, items)) row[j] = negative_infinity<T>();
    }
  }
}

// Keys whose signed int64 order is the ranking order, the best largest:
//   float:  the score's order-preserving 32 bits, then 0xffffffff - item in
//           the low 32 bits (the lower item wins a tie): all keys distinct;
//   double: the score's order-preserving 64 bits (ties are left to a stable
//           sort, which keeps item order).
// Order-preserving bits: a non-negative float's bits grow with its value; a
// negative one's magnitude bits are flipped, so that it stays below every
// non-negative one and more negative means smaller. Every NaN maps to the
// largest key, -0 to +0's.
__device__ __forceinline__ int32_t order_bits(float v) {
  if (v != v) return 0x7fffffff;
  if (v == 0.0f) v = 0.0f;
  const int32_t b = __float_as_int(v);
  return b >= 0 ? b : b ^ 0x7fffffff;
}

__device__ __forceinline__ int64_t order_bits(double v) {
  if (v != v) return 0x7fffffffffffffffLL;
  if (v == 0.0) v = 0.0;
  const int64_t b = __double_as_longlong(v);
  return b >= 0 ? b : b ^ 0x7fffffffffffffffLL;
}

template <typename T>
__global__ void __launch_bounds__(kBlock)
    rank_keys_kernel(const T* __restrict__ scores, int64_t* __restrict__ keys, int64_t total,
                     int64_t items) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += stride) {
    if constexpr (sizeof(T) == 4) {
      const uint32_t high = static_cast<uint32_t>(order_bits(load_ro(scores + e)));
      const uint32_t low = 0xffffffffu - static_cast<uint32_t>(e % items);
      keys[e] = static_cast<int64_t>((static_cast<uint64_t>(high) << 32) | low);
    } else {
      keys[e] = order_bits(load_ro(scores + e));
    }
  }
}

// value in the sorted, duplicate-free list[0, n).
__device__ __forceinline__ bool sorted_contains(const int32_t* __restrict__ list, int64_t n,
                                                int32_t value) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    const int32_t v = load_ro(list + mid);
    if (v == value) return true;
    if (v < value) lo = mid + 1; else hi = mid;
  }
  return false;
}

__device__ __forceinline__ int32_t warp_sum(int32_t v) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// One block per row (blockDim == kBlock). For each tile of kAucTile test
// items t (scores s_t read from the masked row):
//   below_t = #{j: s_j < s_t} − |M|·[-inf < s_t] − #{t' ∈ T∖M: s_t' < s_t}
//   equal_t = #{j: s_j = s_t} − |M|·[-inf = s_t] − #{t' ∈ T∖M: s_t' = s_t}
// (every masked item holds -inf), summed per thread and reduced over the
// block (warp shuffles, then one shared row per warp); thread 0 adds
// below_t + ½·equal_t in test order. |T ∩ M| comes from the first tile's
// membership tests (binary search in the sorted mask row).
template <typename T>
__global__ void __launch_bounds__(kBlock)
    masked_auc_rows_kernel(const T* __restrict__ scores, int64_t rows, int64_t items,
                           const int64_t* __restrict__ users, int64_t num_users,
                           const int64_t* __restrict__ mask_rowptr,
                           const int32_t* __restrict__ mask_col, int64_t mask_nnz,
                           const int64_t* __restrict__ test_rowptr,
                           const int32_t* __restrict__ test_col, int64_t test_nnz,
                           double* __restrict__ auc) {
  constexpr int kWarps = kBlock / kWarp;
  constexpr int kCounters = 2 * kAucTile + 1;  // below, equal per item; |T ∩ M|
  __shared__ int32_t partial[kWarps][kCounters];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const T neg_inf = negative_infinity<T>();
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t u = users[r];
    if (!in_range(u, num_users)) {
      if (threadIdx.x == 0) auc[r] = quiet_nan();
      continue;
    }
    int64_t mb, me, tb, te;
    row_bounds(mask_rowptr, u, mask_nnz, &mb, &me);
    row_bounds(test_rowptr, u, test_nnz, &tb, &te);
    const int64_t n_mask = me - mb, n_test = te - tb;
    const T* row = scores + r * items;
    double ordered = 0;
    int64_t both = 0;
    for (int64_t t0 = 0; t0 < n_test; t0 += kAucTile) {
      const int64_t block = n_test - t0 < kAucTile ? n_test - t0 : kAucTile;
      T s[kAucTile];
#pragma unroll
      for (int i = 0; i < kAucTile; ++i) {
        // A short last tile repeats its last item and ignores the copies.
        const int32_t j = load_ro(test_col + tb + t0 + (i < block ? i : block - 1));
        s[i] = in_range(j, items) ? row[j] : static_cast<T>(quiet_nan());
      }
      int32_t below[kAucTile] = {}, equal[kAucTile] = {}, in_mask = 0;
      for (int64_t j = threadIdx.x; j < items; j += blockDim.x) {
        const T v = row[j];
#pragma unroll
        for (int i = 0; i < kAucTile; ++i) {
          below[i] += v < s[i];
          equal[i] += v == s[i];
        }
      }
      for (int64_t q = threadIdx.x; q < n_test; q += blockDim.x) {
        const int32_t j = load_ro(test_col + tb + q);
        if (!in_range(j, items)) continue;
        if (sorted_contains(mask_col + mb, n_mask, j)) {
          in_mask += t0 == 0;
          continue;
        }
        const T v = row[j];
#pragma unroll
        for (int i = 0; i < kAucTile; ++i) {
          below[i] -= v < s[i];
          equal[i] -= v == s[i];
        }
      }
#pragma unroll
      for (int i = 0; i < kAucTile; ++i) {
        below[i] = warp_sum(below[i]);
        equal[i] = warp_sum(equal[i]);
      }
      in_mask = warp_sum(in_mask);
      if (lane == 0) {
#pragma unroll
        for (int i = 0; i < kAucTile; ++i) {
          partial[warp][2 * i] = below[i];
          partial[warp][2 * i + 1] = equal[i];
        }
        partial[warp][2 * kAucTile] = in_mask;
      }
      __syncthreads();
      if (threadIdx.x == 0) {
#pragma unroll
        for (int i = 0; i < kAucTile; ++i) {  // constant indices: s stays in registers
          if (i >= block) break;
          int64_t b = 0, e = 0;
          for (int w = 0; w < kWarps; ++w) b += partial[w][2 * i], e += partial[w][2 * i + 1];
          b -= n_mask * (neg_inf < s[i]);
          e -= n_mask * (neg_inf == s[i]);
          ordered += static_cast<double>(b) + 0.5 * static_cast<double>(e);
        }
        if (t0 == 0) {
          for (int w = 0; w < kWarps; ++w) both += partial[w][2 * kAucTile];
        }
      }
      __syncthreads();  // partial is reused by the next tile
    }
    if (threadIdx.x == 0) {
      const int64_t negatives = items - (n_mask + n_test - both);
      auc[r] = (n_test == 0 || negatives <= 0)
                   ? quiet_nan()
                   : ordered / (static_cast<double>(n_test) * static_cast<double>(negatives));
    }
  }
}

}  // namespace

template <typename T>
cudaError_t mask_score_rows(T* scores, int64_t rows, int64_t items, const int64_t* users,
                            int64_t num_users, const int64_t* mask_rowptr,
                            const int32_t* mask_col, int64_t mask_nnz, cudaStream_t stream) {
  if (rows <= 0 || items <= 0 || mask_nnz <= 0) return cudaSuccess;
  return launch(mask_score_rows_kernel<T>, grid_for(rows, kBlock / kWarp), kBlock, 0, stream,
                scores, rows, items, users, num_users, mask_rowptr, mask_col, mask_nnz);
}

template <typename T>
cudaError_t rank_keys(const T* scores, int64_t* keys, int64_t rows, int64_t items,
                      cudaStream_t stream) {
  const int64_t total = rows * items;
  if (total <= 0) return cudaSuccess;
  return launch(rank_keys_kernel<T>, grid_for(total, kBlock), kBlock, 0, stream, scores, keys,
                total, items);
}

template <typename T>
cudaError_t masked_auc_rows(const T* scores, int64_t rows, int64_t items, const int64_t* users,
                            int64_t num_users, const int64_t* mask_rowptr,
                            const int32_t* mask_col, int64_t mask_nnz,
                            const int64_t* test_rowptr, const int32_t* test_col,
                            int64_t test_nnz, double* auc, cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  return launch(masked_auc_rows_kernel<T>, grid_for(rows, 1), kBlock, 0, stream, scores, rows,
                items, users, num_users, mask_rowptr, mask_col, mask_nnz, test_rowptr, test_col,
                test_nnz, auc);
}

#define GNNREC_INSTANTIATE(T)                                                                   \
  template cudaError_t mask_score_rows<T>(T*, int64_t, int64_t, const int64_t*, int64_t,        \
                                          const int64_t*, const int32_t*, int64_t,              \
                                          cudaStream_t);                                        \
  template cudaError_t rank_keys<T>(const T*, int64_t*, int64_t, int64_t, cudaStream_t);        \
  template cudaError_t masked_auc_rows<T>(const T*, int64_t, int64_t, const int64_t*, int64_t,  \
                                          const int64_t*, const int32_t*, int64_t,              \
                                          const int64_t*, const int32_t*, int64_t, double*,     \
                                          cudaStream_t);
GNNREC_INSTANTIATE(float)
GNNREC_INSTANTIATE(double)
#undef GNNREC_INSTANTIATE

}  // namespace gnnrec::ops::cuda
