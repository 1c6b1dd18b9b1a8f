// The epoch's training pairs (samplers/pair_sampler.h): per-interaction is
// a permutation of every pair; per-user draws users uniformly among those
// with training items and a positive uniformly within the user (chi-square
// against the uniform expectations, fixed seeds); both depend only on the
// generator's seed.
#include "samplers/pair_sampler.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

namespace gnnrec {
namespace {

// Users 0..4 with 1, 2, 4, 8 and 0 items (user 4 has none): 15 pairs.
BipartiteGraph graph() {
  Interactions x;
  const int degree[] = {1, 2, 4, 8, 0};
  for (int u = 0; u < 5; ++u) {
    for (int k = 0; k < degree[u]; ++k) {
      x.user.push_back(u);
      x.item.push_back((u + 3 * k) % 10);
    }
  }
  return BipartiteGraph::build(5, 10, x);
}

double chi_square(const std::vector<int64_t>& counts, double expected) {
  double chi2 = 0;
  for (int64_t c : counts) chi2 += (static_cast<double>(c) - expected) * (c - expected) / expected;
  return chi2;
}

TEST(PairSampler, PerInteractionIsAPermutationOfEveryPair) {
  const BipartiteGraph g = graph();
  SplitMix64 rng(7, 1);
  std::vector<int64_t> order = draw_epoch_pairs(g, PairSampling::kPerInteraction, rng);
  ASSERT_EQ(order.size(), 15u);
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> all(15);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(sorted, all);
  EXPECT_NE(order, all);  // shuffled
}

TEST(PairSampler, PerUserIsUniformOverUsersThenOverTheirItems) {
  const BipartiteGraph g = graph();
  std::vector<int64_t> per_user(5, 0), per_pair(15, 0);
  SplitMix64 rng(2020, 3);
  const int epochs = 20000;
  for (int e = 0; e < epochs; ++e) {
    const std::vector<int64_t> pairs = draw_epoch_pairs(g, PairSampling::kPerUser, rng);
    ASSERT_EQ(pairs.size(), 15u);  // as many draws as interactions
    for (int64_t k : pairs) {
      ASSERT_GE(k, 0);
      ASSERT_LT(k, 15);
      ++per_pair[static_cast<size_t>(k)];
    }
  }
  // The user of pair k: the CSR row holding it.
  for (int64_t k = 0; k < 15; ++k) {
    const auto& off = g.user_offsets();
    const int64_t u = std::upper_bound(off.begin(), off.end(), k) - off.begin() - 1;
    per_user[static_cast<size_t>(u)] += per_pair[static_cast<size_t>(k)];
  }
  EXPECT_EQ(per_user[4], 0);  // a user without items is never drawn
  // Users 0..3 equally likely, whatever their degree: chi-square with 3
  // degrees of freedom, 0.999 quantile 16.27.
  const double n = 15.0 * epochs;
  EXPECT_LT(chi_square({per_user.begin(), per_user.begin() + 4}, n / 4), 16.27);
  // Within user 3 (8 items), each item equally likely: 7 degrees of
  // freedom, 0.999 quantile 24.32. User 3's pairs are CSR positions 7..14.
  EXPECT_LT(
      chi_square({per_pair.begin() + 7, per_pair.end()}, static_cast<double>(per_user[3]) / 8),
      24.32);
  // Within user 2 (4 items, positions 3..6): 3 degrees of freedom.
  EXPECT_LT(chi_square({per_pair.begin() + 3, per_pair.begin() + 7},
                       static_cast<double>(per_user[2]) / 4),
            16.27);
  // The single item of user 0 carries a quarter of the draws, not 1/15.
  EXPECT_NEAR(static_cast<double>(per_pair[0]) / n, 0.25, 0.005);
}

TEST(PairSampler, TheSeedAloneDecides) {
  const BipartiteGraph g = graph();
  for (const PairSampling mode : {PairSampling::kPerInteraction, PairSampling::kPerUser}) {
    SplitMix64 a(11, 5), b(11, 5), c(12, 5);
    const auto first = draw_epoch_pairs(g, mode, a);
    EXPECT_EQ(first, draw_epoch_pairs(g, mode, b));
    EXPECT_NE(first, draw_epoch_pairs(g, mode, c));
  }
}

TEST(PairSampler, PerUserNeedsAUserWithItems) {
  const BipartiteGraph empty = BipartiteGraph::build(3, 4, Interactions{});
  SplitMix64 rng(1);
  EXPECT_THROW(draw_epoch_pairs(empty, PairSampling::kPerUser, rng), std::invalid_argument);
}

}  // namespace
}  // namespace gnnrec
