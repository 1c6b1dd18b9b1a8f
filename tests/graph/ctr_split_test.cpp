// KGCN's CTR records and 6:2:2 split (graph/ctr_split.h): the proportions,
// the negatives, determinism and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "graph/ctr_split.h"

namespace gnnrec {
namespace {

// User u interacted with items u .. u + 3u (1, 4, 7, 10, 13 items), 40 items.
Interactions hand_positives(int users) {
  Interactions x;
  for (int u = 0; u < users; ++u) {
    for (int i = u; i <= 4 * u; ++i) {
      x.user.push_back(u);
      x.item.push_back(i);
    }
  }
  return x;
}

TEST(CtrSplit, ProportionsNegativesAndLabels) {
  const Interactions pos = hand_positives(5);  // 35 positives
  const CtrSplit s = make_ctr_split(pos, 5, 40, 7);
  // 70 records: floor(14) eval, floor(14) test, 42 train.
  EXPECT_EQ(s.eval.size(), 14u);
  EXPECT_EQ(s.test.size(), 14u);
  EXPECT_EQ(s.train.size(), 42u);
  std::set<std::pair<int32_t, int32_t>> positive;
  for (size_t k = 0; k < pos.size(); ++k) positive.insert({pos.user[k], pos.item[k]});
  std::map<int32_t, int> n_pos, n_neg;
  std::set<std::tuple<int32_t, int32_t, uint8_t>> seen;
  for (const CtrRecords* part : {&s.train, &s.eval, &s.test}) {
    for (size_t k = 0; k < part->size(); ++k) {
      const int32_t u = part->user[k], i = part->item[k];
      const uint8_t y = part->label[k];
      // Every record once; a positive is an interaction, a negative never is.
      EXPECT_TRUE(seen.insert({u, i, y}).second) << u << " " << i;
      EXPECT_EQ(positive.count({u, i}) == 1, y == 1) << u << " " << i;
      (y ? n_pos : n_neg)[u]++;
    }
  }
  for (int u = 0; u < 5; ++u) {
    EXPECT_EQ(n_pos[u], 3 * u + 1);
    EXPECT_EQ(n_neg[u], 3 * u + 1) << "user " << u;
  }
  // The interaction graph of the training part: its label-1 records.
  EXPECT_EQ(static_cast<int64_t>(ctr_positives(s.train).size()), s.train.positives());
}

TEST(CtrSplit, FewerNegativesWhenTheCatalogueRunsOut) {
  // User 0 interacted with 4 of 5 items: only 1 negative exists.
  Interactions x;
  for (int i = 0; i < 4; ++i) {
    x.user.push_back(0);
    x.item.push_back(i);
  }
  const CtrSplit s = make_ctr_split(x, 1, 5, 1, 0.0, 0.0);
  ASSERT_EQ(s.train.size(), 5u);
  EXPECT_EQ(s.train.positives(), 4);
  for (size_t k = 0; k < s.train.size(); ++k) {
    if (s.train.label[k] == 0) {
      EXPECT_EQ(s.train.item[k], 4);
    }
  }
}

TEST(CtrSplit, DeterministicInTheSeed) {
  const Interactions pos = hand_positives(5);
  const CtrSplit a = make_ctr_split(pos, 5, 40, 3), b = make_ctr_split(pos, 5, 40, 3);
  const CtrSplit c = make_ctr_split(pos, 5, 40, 4);
  EXPECT_EQ(a.test.item, b.test.item);
  EXPECT_EQ(a.train.user, b.train.user);
  EXPECT_NE(a.test.item, c.test.item);
}

TEST(CtrSplit, Errors) {
  EXPECT_THROW(make_ctr_split(Interactions{}, 1, 1, 0), DataError);
  Interactions bad;
  bad.user = {0};
  bad.item = {9};
  EXPECT_THROW(make_ctr_split(bad, 1, 5, 0), DataError);
  EXPECT_THROW(make_ctr_split(hand_positives(2), 2, 10, 0, 0.5, 0.5), DataError);
}

}  // namespace
}  // namespace gnnrec
