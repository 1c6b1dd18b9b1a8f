// Launch-shape decisions of the gnnrec CUDA kernels, as plain C++ (no CUDA
// or Torch headers) so that host-only tests can check them on any machine.
#pragma once

#include <cstdint>
#include <cstdlib>

namespace gnnrec::ops::cuda {

// Rows with more entries than this are not summed by one group of lanes:
// they go to a whole block, each group of the block taking a contiguous
// segment of the row, and the block adding the segments' partial results in
// segment order (a fixed order, so still deterministic).
// A group folds its row's entries in CSR order, 4 gathers in flight per
// lane (row_reduce.cuh: fold_entries), so a row of D entries costs it about
// D / 4 memory latencies and the kernel lasts at least as long as its
// longest group row. Measured on the H100 (bench/spmm_cuda_bench.cpp,
// Gowalla d 64, forward; cuSPARSE 0.113 ms): 256 -> 0.114 ms, 128 -> 0.109,
// 64 -> 0.129, 32 -> 0.183 (more, shorter rows in the hub launches, which
// run after the row kernel).
constexpr int64_t kHubDegree = 128;
// Hub rows of up to this many entries get a block of kBlock threads
// (kBlock / G segments, at most 64 entries each at G = 16); longer ones a
// block of up to 1024 threads (row_reduce.cuh: hub_threads), launched
// separately so that the many medium rows run as small blocks, more of
// them per multiprocessor.
constexpr int64_t kBigHubDegree = 1024;

// The row engine's tuning: the two hub thresholds above, and how many
// entries a lane gathers before applying any (ilp: 4 for the sum
// reductions, 1 = one at a time, which was 16% slower on Gowalla at d 64
// and 0.84x at d 32). Defaults as above; the environment variables
// GNNREC_HUB_DEGREE, GNNREC_BIG_HUB_DEGREE and GNNREC_SPMM_ILP override
// them (read once per process), so bench/spmm_cuda_bench.cpp can compare
// settings in one build.
struct RowTuning {
  int64_t hub = kHubDegree;
  int64_t big_hub = kBigHubDegree;
  int ilp = 4;
};

inline const RowTuning& row_tuning() {
  static const RowTuning t = [] {
    RowTuning r;
    auto read = [](const char* name, int64_t fallback, int64_t lo) {
      const char* v = std::getenv(name);
      if (v == nullptr || *v == '\0') return fallback;
      const long long x = std::atoll(v);
      return x >= lo ? static_cast<int64_t>(x) : fallback;
    };
    r.hub = read("GNNREC_HUB_DEGREE", kHubDegree, 8);
    r.big_hub = read("GNNREC_BIG_HUB_DEGREE", kBigHubDegree, r.hub);
    r.ilp = read("GNNREC_SPMM_ILP", 4, 1) >= 4 ? 4 : 1;
    return r;
  }();
  return t;
}

// Length of the int64 device scratch buffer that the row kernels need for
// an nnz-entry matrix: one counter plus room for every hub row (at most
// nnz / (hub + 1) rows can have more than hub entries, hub =
// row_tuning().hub). 0 means no row can be a hub and no buffer is needed.
inline int64_t hub_scratch_len(int64_t nnz) {
  const int64_t capacity = nnz / (row_tuning().hub + 1);
  return capacity > 0 ? capacity + 1 : 0;
}

// How a row kernel covers a width-d row:
//   vec:      elements per load (4 floats or 2 doubles in one 16-byte load
//             when the width and the pointers allow it, else 1);
//   group:    lanes per row (4, 8, 16 or 32; a power of two dividing the warp);
//   per_lane: vectors each lane holds per pass (1, 2 or 4).
// One pass covers group * per_lane * vec columns; wider rows take
// ceil(d / (that)) passes over the row's entries.
struct RowConfig {
  int vec;
  int group;
  int per_lane;
};

// vec_width: 4 for float, 2 for double; aligned: the dense operands' base
// pointers are 16-byte aligned.
inline RowConfig row_config(int64_t d, int vec_width, bool aligned) {
  const int vec = (aligned && d % vec_width == 0) ? vec_width : 1;
  const int64_t vectors = d / vec;
  const int group = vectors <= 4 ? 4 : vectors <= 8 ? 8 : vectors <= 16 ? 16 : 32;
  const int per_lane = vectors <= 32 ? 1 : vectors <= 64 ? 2 : 4;
  return {vec, group, per_lane};
}

}  // namespace gnnrec::ops::cuda
