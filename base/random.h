// Small, portable, counter-based randomness. std:: distributions differ
// between standard libraries; these do not, so a seed gives the same
// samples everywhere, and stream n's draws do not depend on which thread
// produces them. SplitMix64 compiles for the host and, under nvcc, for the
// device (base/host_device.h): the CPU code and the CUDA kernels draw from
// this one definition, so the two devices give equal samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "base/host_device.h"

namespace gnnrec {

// The high 64 bits of a·b.
GNNREC_HOST_DEVICE uint64_t mul_high64(uint64_t a, uint64_t b) {
#if defined(__CUDA_ARCH__)
  return __umul64hi(a, b);
#else
  return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) >> 64);
#endif
}

// SplitMix64 (Steele, Lea, Flood 2014): a fast generator with 64-bit state.
class SplitMix64 {
 public:
  GNNREC_HOST_DEVICE explicit SplitMix64(uint64_t seed) : state_(seed) {}
  // An independent stream for (seed, stream): seeds hashed apart.
  GNNREC_HOST_DEVICE SplitMix64(uint64_t seed, uint64_t stream)
      : state_(mix(seed ^ mix(stream + 0x632be59bd9b4e019ULL))) {}
  GNNREC_HOST_DEVICE uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    return mix(z);
  }
  // Uniform in [0, n) for 0 < n < 2^32 (multiply-shift; bias < n / 2^32).
  GNNREC_HOST_DEVICE uint32_t below(uint32_t n) {
    return static_cast<uint32_t>(((next() >> 32) * static_cast<uint64_t>(n)) >> 32);
  }
  // Uniform in [0, n) for any n >= 1: 64-bit multiply-shift (bias < n / 2^64),
  // for ranges past below's 2^32 limit.
  GNNREC_HOST_DEVICE uint64_t below64(uint64_t n) { return mul_high64(next(), n); }
  // Uniform in [0, 1).
  GNNREC_HOST_DEVICE double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  GNNREC_HOST_DEVICE static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// Fisher–Yates shuffle driven by SplitMix64 (host only).
template <typename T>
void shuffle(std::vector<T>& v, SplitMix64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    const size_t j = rng.below(static_cast<uint32_t>(i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace gnnrec
