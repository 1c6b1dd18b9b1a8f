// One seed's row of sample_neighbors, as plain functions that compile for
// the host and (under nvcc) for the device: the CUDA kernel runs them one
// thread per seed, and a host test checks them against the CPU operator
// (kernels/cpu/sampling_cpu.cpp), so the two devices give equal output.
//
// The random stream is SplitMix64 exactly as samplers/random.h defines it
// (those few lines are repeated here because that class is host-only; the
// host test compares the two draw for draw). The draws and Floyd's
// algorithm are those of sampling_cpu.cpp, except that repeats among the
// picks are always found by scanning the picks so far (the CPU switches to a
// hash set above 64 picks); both find the same repeats, so the output is
// the same, at O(fanout²) per seed here.
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

}  // namespace gnnrec::sampling

#undef GNNREC_HOST_DEVICE
