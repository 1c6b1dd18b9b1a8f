// The per-row sampling code of sample_neighbors and sample_negatives, as
// plain functions that compile for the host and (under nvcc) for the
// device: the CUDA kernels run them one thread per seed (per row of users),
// the CPU operators (kernels/cpu/sampling_cpu.cpp) run the same functions
// for sample_negatives, and host tests check them against the CPU
// operators, so the two devices give equal output.
//
// The random stream is SplitMix64 exactly as samplers/random.h defines it
// (those few lines are repeated here because that class is host-only; the
// host test compares the two draw for draw).
//
// sample_neighbors: the draws and Floyd's algorithm are those of
// sampling_cpu.cpp, except that repeats among the picks are always found by
// scanning the picks so far (the CPU switches to a hash set above 64
// picks); both find the same repeats, so the output is the same, at
// O(fanout²) per seed here.
//
// sample_negatives: rejection sampling against the user's sorted row with
// SplitMix64::below, the algorithm samplers/negative_sampler.cpp has always
// used (its draws are unchanged), shared by both devices.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define GNNREC_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define GNNREC_HOST_DEVICE inline
#endif

namespace gnnrec::sampling {

// SplitMix64's finaliser (samplers/random.h: SplitMix64::mix).
GNNREC_HOST_DEVICE uint64_t splitmix_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The state of SplitMix64(seed, stream).
GNNREC_HOST_DEVICE uint64_t splitmix_stream(uint64_t seed, uint64_t stream) {
  return splitmix_mix(seed ^ splitmix_mix(stream + 0x632be59bd9b4e019ULL));
}

// SplitMix64::next.
GNNREC_HOST_DEVICE uint64_t splitmix_next(uint64_t& state) {
  state += 0x9e3779b97f4a7c15ULL;
  return splitmix_mix(state);
}

// The high 64 bits of a·b.
GNNREC_HOST_DEVICE uint64_t mul_high(uint64_t a, uint64_t b) {
#if defined(__CUDA_ARCH__)
  return __umul64hi(a, b);
#else
  return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) >> 64);
#endif
}

// Uniform in [0, n) for n >= 1 (sampling_cpu.cpp: draw_below).
GNNREC_HOST_DEVICE int64_t draw_below(uint64_t& state, int64_t n) {
  return static_cast<int64_t>(mul_high(splitmix_next(state), static_cast<uint64_t>(n)));
}

// Fills eid[0, fanout) with CSR positions in [begin, begin + deg), deg > 0
// (sampling_cpu.cpp: sample_row): independent draws with replacement or
// when deg < fanout, else Floyd's algorithm for a uniform fanout-subset.
GNNREC_HOST_DEVICE void sample_row(int64_t begin, int64_t deg, int64_t fanout, bool replace,
                                   uint64_t& state, int64_t* eid) {
  if (replace || deg < fanout) {
    for (int64_t i = 0; i < fanout; ++i) eid[i] = begin + draw_below(state, deg);
    return;
  }
  int64_t n = 0;
  for (int64_t i = deg - fanout; i < deg; ++i) {
    int64_t t = draw_below(state, i + 1);
    bool dup = false;
    for (int64_t p = 0; p < n && !dup; ++p) dup = eid[p] == begin + t;
    if (dup) t = i;  // i cannot have been taken: earlier draws were below i
    eid[n++] = begin + t;
  }
}

// Seed j's whole output row: nbr/eid[0, fanout) for node `node` of a CSR
// with `rows` rows (-1 everywhere for an isolated node, or for a node
// outside [0, rows), which the CPU operator rejects before sampling).
GNNREC_HOST_DEVICE void sample_seed(const int64_t* rowptr, const int32_t* col, int64_t rows,
                                    int64_t nnz, int64_t node, int64_t fanout, bool replace,
                                    uint64_t seed, int64_t* nbr, int64_t* eid) {
  int64_t begin = 0, deg = 0;
  if (static_cast<uint64_t>(node) < static_cast<uint64_t>(rows)) {
    begin = rowptr[node];
    const int64_t end = rowptr[node + 1];
    // A malformed rowptr gives no neighbours rather than reads outside col.
    if (begin >= 0 && end <= nnz && end > begin) deg = end - begin;
  }
  if (deg == 0) {
    for (int64_t i = 0; i < fanout; ++i) nbr[i] = -1, eid[i] = -1;
    return;
  }
  uint64_t state = splitmix_stream(seed, static_cast<uint64_t>(node));
  sample_row(begin, deg, fanout, replace, state, eid);
  for (int64_t i = 0; i < fanout; ++i) nbr[i] = col[eid[i]];
}

// SplitMix64::below(n) (samplers/random.h): uniform in [0, n) for
// 0 < n < 2^32 from the high 32 bits of one draw (multiply-shift).
GNNREC_HOST_DEVICE uint32_t below32(uint64_t& state, uint32_t n) {
  return static_cast<uint32_t>(((splitmix_next(state) >> 32) * static_cast<uint64_t>(n)) >> 32);
}

// item occurs in row[0, deg), sorted ascending (binary search; the answer
// std::binary_search gives).
GNNREC_HOST_DEVICE bool sorted_row_contains(const int32_t* row, int64_t deg, int32_t item) {
  int64_t lo = 0, hi = deg;  // the first position whose entry is >= item is in [lo, hi]
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (row[mid] < item) lo = mid + 1; else hi = mid;
  }
  return lo < deg && row[lo] == item;
}

// Row j of sample_negatives: out[0, k) are k independent uniform draws from
// the items in [0, num_items) that are not in the user's row (row[0, deg),
// sorted ascending), each drawn by rejection, from SplitMix64(seed, j).
// Expects 1 <= num_items <= 2^31 and deg < num_items: then some item in
// [0, num_items) is missing from the row, and every draw of a missing item
// is accepted (even if the row were not sorted), so the loop ends with
// probability 1; the expected number of draws per sample is
// num_items / (num_items - distinct items of the row).
GNNREC_HOST_DEVICE void sample_negative_row(const int32_t* row, int64_t deg, int64_t num_items,
                                            int64_t k, uint64_t seed, uint64_t j, int64_t* out) {
  uint64_t state = splitmix_stream(seed, j);
  const uint32_t n = static_cast<uint32_t>(num_items);
  for (int64_t s = 0; s < k; ++s) {
    int32_t cand;
    do {
      cand = static_cast<int32_t>(below32(state, n));
    } while (sorted_row_contains(row, deg, cand));
    out[s] = cand;
  }
}

}  // namespace gnnrec::sampling

#undef GNNREC_HOST_DEVICE
