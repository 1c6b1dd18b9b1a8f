// base/random.h against values that do not come from it: the published
// SplitMix64 reference outputs (Vigna's splitmix64.c, as listed on Rosetta
// Code "Pseudo-random numbers/Splitmix64"), hand-worked arithmetic, and
// values computed independently (the same definitions written in Python
// with arbitrary-precision integers).
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"

namespace gnnrec {
namespace {

TEST(SplitMix64, PublishedReferenceOutputs) {
  SplitMix64 a(1234567);
  for (const uint64_t expected :
       {6457827717110365317ULL, 3203168211198807973ULL, 9817491932198370423ULL,
        4593380528125082431ULL, 16408922859458223821ULL}) {
    EXPECT_EQ(a.next(), expected);
  }
  SplitMix64 zero(0);
  EXPECT_EQ(zero.next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(zero.next(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(zero.next(), 0x06c45d188009454fULL);
}

TEST(SplitMix64, MixIsTheFinaliser) {
  EXPECT_EQ(SplitMix64::mix(0), 0u);  // every step maps 0 to 0
  for (const uint64_t s : {uint64_t{0}, uint64_t{99}, ~uint64_t{0}}) {
    EXPECT_EQ(SplitMix64(s).next(), SplitMix64::mix(s + 0x9e3779b97f4a7c15ULL));
  }
}

TEST(SplitMix64, StreamsAreSeedsHashedApart) {
  // State of (seed, stream): mix(seed ^ mix(stream + 0x632be59bd9b4e019)).
  for (const uint64_t seed : {uint64_t{0}, uint64_t{42}, ~uint64_t{0}}) {
    for (const uint64_t stream : {uint64_t{0}, uint64_t{7}, uint64_t{1} << 40}) {
      SplitMix64 a(seed, stream);
      SplitMix64 b(SplitMix64::mix(seed ^ SplitMix64::mix(stream + 0x632be59bd9b4e019ULL)));
      for (int i = 0; i < 10; ++i) ASSERT_EQ(a.next(), b.next());
    }
  }
  SplitMix64 s(42, 7);
  EXPECT_EQ(s.next(), 0xb1d031fb3d144310ULL);
  EXPECT_EQ(s.next(), 0x74d5bf8096abbf87ULL);
  EXPECT_EQ(s.next(), 0xccac3bc322b69d15ULL);
  SplitMix64 origin(0, 0);
  EXPECT_EQ(origin.next(), 0x83318a9282400131ULL);
  EXPECT_EQ(origin.next(), 0xd247d3921df91bd3ULL);
  EXPECT_NE(SplitMix64(42, 7).next(), SplitMix64(42, 8).next());
  EXPECT_NE(SplitMix64(42, 7).next(), SplitMix64(43, 7).next());
}

TEST(SplitMix64, BelowUniformAndBelow64) {
  // The draws of SplitMix64(1234567) above: 6457827717110365317 / 2^64 =
  // 0.35007954..., so below(10) is 3, and so on.
  SplitMix64 a(1234567), b(1234567), c(1234567);
  const std::vector<uint32_t> below10{3, 1, 5, 2, 8};
  const std::vector<double> uniform{0.3500795420214081, 0.17364409667091263, 0.5322073040624192,
                                    0.24900765738229136, 0.889529490618583};
  const std::vector<uint64_t> below64{384916527100ULL, 190923703384ULL, 585168119205ULL,
                                      273786814697ULL, 978048018187ULL};
  for (size_t i = 0; i < below10.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(a.below(10), below10[i]);
    const double u = b.uniform();
    EXPECT_EQ(u, uniform[i]);
    EXPECT_EQ(static_cast<uint32_t>(u * 10), below10[i]);
    EXPECT_EQ(c.below64((uint64_t{1} << 40) + 3), below64[i]);  // a range past 2^32
  }
  SplitMix64 one(5);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(one.below(1), 0u);
  SplitMix64 many(6);
  for (int i = 0; i < 1000; ++i) {
    const double u = many.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(SplitMix64, MulHigh64HandWorked) {
  EXPECT_EQ(mul_high64(uint64_t{1} << 63, 4), 2u);
  EXPECT_EQ(mul_high64(~uint64_t{0}, ~uint64_t{0}), ~uint64_t{0} - 1);  // (2^64-1)^2 >> 64
  EXPECT_EQ(mul_high64(uint64_t{1} << 32, uint64_t{1} << 32), 1u);
  EXPECT_EQ(mul_high64(12345, 67890), 0u);
}

TEST(Shuffle, IsAFixedPermutationForASeed) {
  std::vector<int> v(10);
  std::iota(v.begin(), v.end(), 0);
  SplitMix64 rng(5);
  shuffle(v, rng);
  EXPECT_EQ(v, (std::vector<int>{2, 8, 4, 9, 5, 7, 0, 1, 6, 3}));
  std::vector<int> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sorted[i], i);
}

}  // namespace
}  // namespace gnnrec
