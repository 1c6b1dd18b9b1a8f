// Ranking metrics against values worked out by hand from the definitions.
#include <cmath>

#include <gtest/gtest.h>

#include "train/metrics.h"

namespace gnnrec {
namespace {

TEST(RankingMetrics, HandWorkedUser) {
  // Ranked [5, 3, 9, 1, 7], test {1, 3, 4}: hits at ranks 2 and 4.
  RankingMetrics m({2, 5});
  const int64_t ranked[] = {5, 3, 9, 1, 7};
  const int32_t test[] = {1, 3, 4};
  m.add_user(ranked, 5, test, 3);
  const auto r = m.means();
  const double l3 = std::log2(3.0), l5 = std::log2(5.0);
  // @5: precision 2/5, recall 2/3, DCG 1/log2(3) + 1/log2(5), IDCG 1 + 1/log2(3) + 1/2,
  // MRR 1/2, MAP (P@2 + P@4) / min(3, 5) = (1/2 + 1/2) / 3.
  EXPECT_DOUBLE_EQ(r.at("precision@5"), 0.4);
  EXPECT_DOUBLE_EQ(r.at("recall@5"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.at("hit@5"), 1.0);
  EXPECT_NEAR(r.at("ndcg@5"), (1 / l3 + 1 / l5) / (1 + 1 / l3 + 0.5), 1e-15);
  EXPECT_NEAR(r.at("ndcg@5"), 0.4981893, 1e-6);  // 1.0616064 / 2.1309298
  EXPECT_DOUBLE_EQ(r.at("mrr@5"), 0.5);
  EXPECT_NEAR(r.at("map@5"), 1.0 / 3.0, 1e-15);
  // @2: one hit at rank 2.
  EXPECT_DOUBLE_EQ(r.at("precision@2"), 0.5);
  EXPECT_DOUBLE_EQ(r.at("recall@2"), 1.0 / 3.0);
  EXPECT_NEAR(r.at("ndcg@2"), (1 / l3) / (1 + 1 / l3), 1e-15);
  EXPECT_DOUBLE_EQ(r.at("mrr@2"), 0.5);
  EXPECT_DOUBLE_EQ(r.at("map@2"), 0.25);
}

TEST(RankingMetrics, AveragesOverUsersAndHandlesMisses) {
  RankingMetrics m({3});
  const int64_t a[] = {0, 1, 2};
  const int32_t ta[] = {0};
  const int64_t b[] = {4, 5, 6};
  const int32_t tb[] = {1, 2};
  m.add_user(a, 3, ta, 1);  // perfect: every metric 1 except precision 1/3
  m.add_user(b, 3, tb, 2);  // no hit
  const auto r = m.means();
  EXPECT_EQ(m.users(), 2);
  EXPECT_DOUBLE_EQ(r.at("recall@3"), 0.5);
  EXPECT_DOUBLE_EQ(r.at("ndcg@3"), 0.5);
  EXPECT_DOUBLE_EQ(r.at("precision@3"), 1.0 / 6.0);
  EXPECT_DOUBLE_EQ(r.at("hit@3"), 0.5);
  EXPECT_DOUBLE_EQ(r.at("mrr@3"), 0.5);
  EXPECT_DOUBLE_EQ(r.at("map@3"), 0.5);
}

TEST(RankingMetrics, RejectsBadK) {
  EXPECT_THROW(RankingMetrics({}), std::invalid_argument);
  EXPECT_THROW(RankingMetrics({0}), std::invalid_argument);
}

}  // namespace
}  // namespace gnnrec
