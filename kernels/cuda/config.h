// Launch-shape decisions of the gnnrec CUDA kernels, as plain C++ (no CUDA
// or Torch headers) so that host-only tests can check them on any machine.
#pragma once

#include <cstdint>

namespace gnnrec::cuda {

// Rows with more entries than this are not summed by one group of lanes:
// they go to a whole block (kBlock threads), each group of the block taking
// a contiguous segment of the row, and the block adding the segments'
// partial results in segment order (a fixed order, so still deterministic).
// A group folds its row's entries one after another (a few gathers in
// flight per lane), so a row of D entries costs it about D/8 memory
// latencies; 256 keeps that tail well under the time of a whole SpMM on a
// recommender graph (Gowalla: 243 of 70,839 rows, 6% of the entries, are
// above it; its largest row has 1,415 entries). Tune it with
// bench/spmm_cuda_bench.cpp on the GPU.
constexpr int64_t kHubDegree = 256;

// Length of the int64 device scratch buffer that the row kernels need for
// an nnz-entry matrix: one counter plus room for every hub row (at most
// nnz / (kHubDegree + 1) rows can have more than kHubDegree entries).
// 0 means no row can be a hub and no buffer is needed.
inline int64_t hub_scratch_len(int64_t nnz) {
  const int64_t capacity = nnz / (kHubDegree + 1);
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

}  // namespace gnnrec::cuda
