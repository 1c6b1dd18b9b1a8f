// The row-reduction engine behind spmm, spmm_reduce (sum, mean, max), the
// max backward and _segment_sum_csr: every output row r is a fold of the
// dense rows gathered by CSR row r's entries, in ascending entry order.
//
// Launch shape (kernels/cuda/config.h chooses vec, group, per_lane):
// - rows_kernel: blocks of kBlock threads split into groups of G lanes
//   (cooperative-groups tiles, G in {4, 8, 16, 32}); one group per row,
//   grid-stride over rows. The group fetches the row's entries G at a time
//   (one coalesced load, one entry per lane) and broadcasts them with
//   shuffles; lane l then gathers vector slots l, l + G, ... (NV of them per
//   pass, 16-byte loads when vec > 1) of each entry's dense row, so a warp
//   reads whole 128-byte lines. Each output element is folded by one lane
//   in CSR order: deterministic, no atomics on values.
// - Rows with more than kHubDegree entries are not folded there: lane 0 of
//   the group appends the row to a device list (an integer atomicAdd; the
//   list's order does not affect any value) and hub_rows_kernel, launched
//   next on the same stream with a grid sized to the machine, gives each
//   listed row a whole block: rows of up to kBigHubDegree entries a block
//   of kBlock threads, longer ones (a second launch) a block of up to 1024
//   (hub_threads). Its Threads / G groups fold one contiguous segment each
//   (segment s = entries [b + deg*s/S, b + deg*(s+1)/S)), write their
//   partial states to shared memory, and after a barrier one thread per
//   output element combines the S partials in segment order. Fixed
//   segments, fixed order: still bitwise reproducible, and a hub no longer
//   serialises one group while the rest of the GPU idles.
//   Limit: one block per hub. A row of D entries still costs its block
//   about D / S memory latencies, after rows_kernel has finished, so rows
//   of tens of thousands of entries (the synthetic graph of
//   bench/spmm_cuda_bench.cpp has one of ~53,000) leave a tail; the next
//   step would be to split such rows into fixed chunks over several blocks,
//   with partials combined in chunk order.
//
// An Op describes one reduction (see sum_op.cuh / spmm_reduce.cu):
//   Payload, State         per-entry scalar, per-lane accumulator of V elements
//   rowptr, nnz, vectors   the CSR row offsets, entry count, d / V
//   entry(k)               {dense row to gather, payload} of entry k
//   valid(e)               the dense row is in range (uniform in a group)
//   init(s), fold(s, e, vi), combine(s, later), write(s, r, vi, deg)
#pragma once

#include <cstdint>
#include <type_traits>

#include <cooperative_groups.h>

#include "kernels/cuda/config.h"
#include "kernels/cuda/launch.cuh"

namespace gnnrec::ops::cuda {

namespace cg = cooperative_groups;

// An entry as the row kernels see it: the dense row it gathers and the op's
// per-entry scalar (a weight, a CSR position, ...).
template <typename P>
struct Entry {
  long long node;
  P p;
};

// The largest dynamic shared memory a kernel may use without opting in.
constexpr size_t kDefaultSharedBytes = 48 * 1024;

// Ops whose fold splits into a gather and the arithmetic: a Loaded type,
// load(node, vi, Loaded&) (node and vi always in range), apply(s, p,
// const Loaded&, bool use) and x_rows (the gathered rows; none: no
// batching). fold_entries<U = 4> uses them.
template <typename Op, typename = void>
struct IsBatched : std::false_type {};
template <typename Op>
struct IsBatched<Op, std::void_t<typename Op::Loaded>> : std::true_type {};

// Lanes of `tile` fold entries [kb, ke) of one row into st, k ascending.
// Lane l owns vector slots first + l + i*G (i < NV) that are < op.vectors.
// Every lane of the tile runs the same iterations (the trip counts depend
// only on kb, ke), so the shuffles are always converged.
// U = 1: one entry at a time (a gather, then its arithmetic). U = 4 (ops
// with IsBatched): the gathers of 4 entries are issued before any is
// applied, from clamped, always-valid addresses, and an entry that is out of
// range or a vector slot past the row is then not applied (a select, no
// branch), so each lane has 4 loads in flight and the entries are still
// applied in CSR order: the same result, bit for bit.
template <int G, int NV, int U, typename Op, typename Tile>
__device__ __forceinline__ void fold_entries(const Tile& tile, const Op& op, int64_t kb,
                                             int64_t ke, int64_t first,
                                             typename Op::State (&st)[NV]) {
  using P = typename Op::Payload;
  const int lane = static_cast<int>(tile.thread_rank());
  for (int64_t base = kb; base < ke; base += G) {
    Entry<P> mine{-1, P{}};
    if (base + lane < ke) mine = op.entry(base + lane);
    const int n = static_cast<int>(ke - base < G ? ke - base : G);
    int j = 0;
    if constexpr (U > 1 && IsBatched<Op>::value) {
      // x_rows > 0: there is a row 0 to clamp invalid entries to.
      for (; op.x_rows > 0 && j + U <= n; j += U) {
        long long node[U];
        P p[U];
        bool ok[U];
#pragma unroll
        for (int u = 0; u < U; ++u) {
          node[u] = tile.shfl(mine.node, j + u);
          p[u] = tile.shfl(mine.p, j + u);
          ok[u] = op.valid(Entry<P>{node[u], p[u]});
          node[u] = ok[u] ? node[u] : 0;
        }
        typename Op::Loaded v[U][NV];
#pragma unroll
        for (int u = 0; u < U; ++u) {
#pragma unroll
          for (int i = 0; i < NV; ++i) {
            const int64_t vi = first + lane + static_cast<int64_t>(i) * G;
            op.load(node[u], vi < op.vectors ? vi : 0, v[u][i]);
          }
        }
#pragma unroll
        for (int u = 0; u < U; ++u) {
#pragma unroll
          for (int i = 0; i < NV; ++i) {
            const int64_t vi = first + lane + static_cast<int64_t>(i) * G;
            op.apply(st[i], p[u], v[u][i], ok[u] && vi < op.vectors);
          }
        }
      }
    }
#pragma unroll 8
    for (; j < n; ++j) {
      const Entry<P> e{tile.shfl(mine.node, j), tile.shfl(mine.p, j)};
      if (!op.valid(e)) continue;  // same e on every lane: uniform branch
#pragma unroll
      for (int i = 0; i < NV; ++i) {
        const int64_t vi = first + lane + static_cast<int64_t>(i) * G;
        if (vi < op.vectors) op.fold(st[i], e, vi);
      }
    }
  }
}

// One group of G lanes per row; hub rows are listed in hubs[1..] (count in
// hubs[0]) for hub_rows_kernel when hub_capacity > 0.
template <int G, int NV, int U, typename Op>
__global__ void __launch_bounds__(kBlock)
    rows_kernel(const Op op, int64_t rows, int64_t* __restrict__ hubs, int64_t hub_capacity,
                int64_t hub_degree) {
  const auto tile = cg::tiled_partition<G>(cg::this_thread_block());
  constexpr int kGroups = kBlock / G;
  const int lane = static_cast<int>(tile.thread_rank());
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kGroups;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * kGroups + threadIdx.x / G; r < rows;
       r += stride) {
    int64_t b, e;
    row_bounds(op.rowptr, r, op.nnz, &b, &e);
    if (hub_capacity > 0 && e - b > hub_degree) {
      unsigned long long slot = 0;
      if (lane == 0) slot = atomicAdd(reinterpret_cast<unsigned long long*>(hubs), 1ull);
      slot = tile.shfl(slot, 0);
      if (slot < static_cast<unsigned long long>(hub_capacity)) {
        if (lane == 0) hubs[1 + slot] = r;
        continue;
      }
      // No room left (possible only with a malformed rowptr whose clamped
      // rows overlap): the group folds the row itself.
    }
    for (int64_t pass = 0; pass < op.vectors; pass += static_cast<int64_t>(G) * NV) {
      typename Op::State st[NV];
#pragma unroll
      for (int i = 0; i < NV; ++i) op.init(st[i]);
      fold_entries<G, NV, U>(tile, op, b, e, pass, st);
#pragma unroll
      for (int i = 0; i < NV; ++i) {
        const int64_t vi = pass + lane + static_cast<int64_t>(i) * G;
        if (vi < op.vectors) op.write(st[i], r, vi, e - b);
      }
    }
  }
}

// Threads of a big-hub block: the most (up to 1024) whose partial States
// fit the default shared memory, so a long row is cut into as many
// segments as possible (a row of D entries costs its block about
// D·G / threads memory latencies).
template <int NV, typename State>
constexpr int hub_threads() {
  return sizeof(State) * 1024 * NV <= kDefaultSharedBytes  ? 1024
         : sizeof(State) * 512 * NV <= kDefaultSharedBytes ? 512
                                                            : kBlock;
}

// One block of Threads per listed hub row whose degree is in (min_deg,
// max_deg] (grid-stride over the list; the others are left to the launch of
// the other tier). Dynamic shared memory: Threads * NV States (the partials
// of the Threads / G segments).
template <int G, int NV, int U, int Threads, typename Op>
__global__ void __launch_bounds__(Threads)
    hub_rows_kernel(const Op op, const int64_t* __restrict__ hubs, int64_t hub_capacity,
                    int64_t min_deg, int64_t max_deg) {
  using State = typename Op::State;
  static_assert(sizeof(State) * Threads * NV <= kDefaultSharedBytes,
                "hub partials exceed the default shared-memory limit");
  extern __shared__ __align__(16) unsigned char hub_smem[];
  State* part = reinterpret_cast<State*>(hub_smem);  // [segment][i][lane]
  constexpr int kSegments = Threads / G;
  const auto tile = cg::tiled_partition<G>(cg::this_thread_block());
  const int lane = static_cast<int>(tile.thread_rank());
  const int seg = static_cast<int>(threadIdx.x) / G;
  const int64_t listed = hubs[0];
  const int64_t count = listed < hub_capacity ? listed : hub_capacity;
  for (int64_t h = blockIdx.x; h < count; h += gridDim.x) {
    const int64_t r = hubs[1 + h];
    int64_t b, e;
    row_bounds(op.rowptr, r, op.nnz, &b, &e);
    const int64_t deg = e - b;
    if (deg <= min_deg || deg > max_deg) continue;  // uniform in the block
    const int64_t sb = b + deg * seg / kSegments, se = b + deg * (seg + 1) / kSegments;
    for (int64_t pass = 0; pass < op.vectors; pass += static_cast<int64_t>(G) * NV) {
      State st[NV];
#pragma unroll
      for (int i = 0; i < NV; ++i) op.init(st[i]);
      fold_entries<G, NV, U>(tile, op, sb, se, pass, st);
#pragma unroll
      for (int i = 0; i < NV; ++i) part[(seg * NV + i) * G + lane] = st[i];
      __syncthreads();
      for (int t = threadIdx.x; t < NV * G; t += Threads) {
        const int i = t / G, l = t % G;
        const int64_t vi = pass + l + static_cast<int64_t>(i) * G;
        if (vi < op.vectors) {
          State acc = part[i * G + l];  // segment 0
          for (int s = 1; s < kSegments; ++s) op.combine(acc, part[(s * NV + i) * G + l]);
          op.write(acc, r, vi, deg);
        }
      }
      __syncthreads();  // the partials are overwritten by the next pass
    }
  }
}

// Runs op over `rows` rows with a fixed (G, NV): resets the hub counter,
// launches rows_kernel, then hub_rows_kernel when any row may be a hub.
// hub_scratch: hub_scratch_len(op.nnz) int64 values, or null (then every
// row is folded by one group).
template <int G, int NV, int U, typename Op>
cudaError_t run_rows_tuned(const Op& op, int64_t rows, int64_t* hub_scratch,
                           const RowTuning& tune, cudaStream_t stream) {
  const int64_t capacity = hub_scratch ? hub_scratch_len(op.nnz) - 1 : 0;
  if (rows <= 0 || op.vectors <= 0) return cudaSuccess;
  if (capacity > 0) GNNREC_CUDA_TRY(cudaMemsetAsync(hub_scratch, 0, sizeof(int64_t), stream));
  GNNREC_CUDA_TRY(launch(rows_kernel<G, NV, U, Op>, grid_for(rows, kBlock / G), kBlock, 0, stream,
                         op, rows, hub_scratch, capacity, tune.hub));
  if (capacity > 0) {
    int sms = 0;
    GNNREC_CUDA_TRY(sm_count(&sms));
    const int64_t machine = static_cast<int64_t>(sms > 0 ? sms : 1);
    // Medium hubs: blocks of kBlock, 8 per multiprocessor.
    const unsigned small_blocks = static_cast<unsigned>(capacity < 8 * machine ? capacity : 8 * machine);
    const size_t small_smem = sizeof(typename Op::State) * kBlock * NV;
    GNNREC_CUDA_TRY(launch(hub_rows_kernel<G, NV, U, kBlock, Op>, small_blocks, kBlock, small_smem,
                           stream, op, static_cast<const int64_t*>(hub_scratch), capacity,
                           tune.hub, tune.big_hub));
    // Rows longer than big_hub (at most nnz / (big_hub + 1) of them): the
    // biggest blocks, 2 per multiprocessor.
    const int64_t big_rows = op.nnz / (tune.big_hub + 1);
    if (big_rows > 0) {
      constexpr int kThreads = hub_threads<NV, typename Op::State>();
      const int64_t big_grid = big_rows < 2 * machine ? big_rows : 2 * machine;
      const size_t smem = sizeof(typename Op::State) * kThreads * NV;
      GNNREC_CUDA_TRY(launch(hub_rows_kernel<G, NV, U, kThreads, Op>,
                             static_cast<unsigned>(big_grid), kThreads, smem, stream, op,
                             static_cast<const int64_t*>(hub_scratch), capacity, tune.big_hub,
                             INT64_MAX));
    }
  }
  return cudaSuccess;
}

template <int G, int NV, typename Op>
cudaError_t run_rows_fixed(const Op& op, int64_t rows, int64_t* hub_scratch,
                           cudaStream_t stream) {
  const RowTuning& tune = row_tuning();
  if constexpr (IsBatched<Op>::value) {
    if (tune.ilp > 1) return run_rows_tuned<G, NV, 4>(op, rows, hub_scratch, tune, stream);
  }
  return run_rows_tuned<G, NV, 1>(op, rows, hub_scratch, tune, stream);
}

// The (G, NV) instantiations that row_config can choose.
template <typename Op>
cudaError_t run_rows_op(const RowConfig& c, const Op& op, int64_t rows, int64_t* hub_scratch,
                        cudaStream_t stream) {
  switch (c.group) {
    case 4: return run_rows_fixed<4, 1>(op, rows, hub_scratch, stream);
    case 8: return run_rows_fixed<8, 1>(op, rows, hub_scratch, stream);
    case 16: return run_rows_fixed<16, 1>(op, rows, hub_scratch, stream);
    default:
      if (c.per_lane == 1) return run_rows_fixed<32, 1>(op, rows, hub_scratch, stream);
      if (c.per_lane == 2) return run_rows_fixed<32, 2>(op, rows, hub_scratch, stream);
      return run_rows_fixed<32, 4>(op, rows, hub_scratch, stream);
  }
}

// Chooses the vector width: make(std::integral_constant<int, V>{}) builds
// the Op for V elements per load (16 / sizeof(T), or 1).
template <typename T, typename Make>
cudaError_t run_rows(const RowConfig& c, int64_t rows, int64_t* hub_scratch, cudaStream_t stream,
                     const Make& make) {
  constexpr int kVec = static_cast<int>(16 / sizeof(T));
  if (c.vec == kVec) {
    return run_rows_op(c, make(std::integral_constant<int, kVec>{}), rows, hub_scratch, stream);
  }
  return run_rows_op(c, make(std::integral_constant<int, 1>{}), rows, hub_scratch, stream);
}

}  // namespace gnnrec::ops::cuda
