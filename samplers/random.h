// Small, portable, counter-based randomness. std:: distributions differ
// between standard libraries; these do not, so a seed gives the same
// samples everywhere, and stream n's draws do not depend on which thread
// produces them.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace gnnrec {

// SplitMix64 (Steele, Lea, Flood 2014): a fast generator with 64-bit state.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  // An independent stream for (seed, stream): seeds hashed apart.
  SplitMix64(uint64_t seed, uint64_t stream) : state_(mix(seed ^ mix(stream + 0x632be59bd9b4e019ULL))) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    return mix(z);
  }
  // Uniform in [0, n) for 0 < n < 2^32 (multiply-shift; bias < n / 2^32).
  uint32_t below(uint32_t n) {
    return static_cast<uint32_t>(((next() >> 32) * static_cast<uint64_t>(n)) >> 32);
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// Fisher–Yates shuffle driven by SplitMix64.
template <typename T>
void shuffle(std::vector<T>& v, SplitMix64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    const size_t j = rng.below(static_cast<uint32_t>(i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace gnnrec
