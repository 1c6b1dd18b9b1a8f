// Ranking metrics against values worked out by hand from the definitions.
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

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

TEST(UserAuc, HandWorkedTiesAndExcludedItems) {
  // Items 0..5; training {4}; test {0, 2}; negatives {1, 3, 5} with scores
  // 0.1, 0.5, 0.3. Test item 2 (0.5): beats 1 and 5, ties 3 -> 2.5 of 3;
  // test item 0 (0.9): beats all 3. The test items are not compared with
  // each other. AUC = (2.5 + 3) / (2 · 3).
  const int32_t test[] = {0, 2}, train[] = {4};
  const float inf = std::numeric_limits<float>::infinity();
  // The training item's score does not matter, masked or not.
  for (float train_score : {-inf, 7.0f, 0.5f}) {
    const float scores[] = {0.9f, 0.1f, 0.5f, 0.5f, train_score, 0.3f};
    EXPECT_DOUBLE_EQ(user_auc(scores, 6, test, 2, train, 1), 5.5 / 6.0) << train_score;
  }
}

TEST(UserAuc, MoreTestItemsThanOneBlockAndOverlap) {
  // Item j scores j + 1. Test {0, 3, 5, 7, 9} (five: more than one block of
  // four), training {2, 3} (3 is in both: excluded once). Negatives
  // {1, 4, 6, 8}, scores 2, 5, 7, 9. Negatives below each test score:
  // s=1: 0, s=4: 1, s=6: 2, s=8: 3, s=10: 4 -> 10 of 5 · 4 pairs.
  float scores[10];
  for (int j = 0; j < 10; ++j) scores[j] = static_cast<float>(j + 1);
  const int32_t test[] = {0, 3, 5, 7, 9}, train[] = {2, 3};
  EXPECT_DOUBLE_EQ(user_auc(scores, 10, test, 5, train, 2), 0.5);
  // A constant scorer ties every pair: 1/2.
  const float flat[10] = {};
  EXPECT_DOUBLE_EQ(user_auc(flat, 10, test, 5, train, 2), 0.5);
  // A perfect scorer: every test item above every negative.
  const float perfect[10] = {9, 0, 0, 8, 0, 7, 0, 6, 0, 5};
  EXPECT_DOUBLE_EQ(user_auc(perfect, 10, test, 5, train, 2), 1.0);
}

TEST(UserAuc, NoNegativesIsNaN) {
  const float scores[] = {1, 2, 3};
  const int32_t test[] = {0}, train[] = {1, 2};
  EXPECT_TRUE(std::isnan(user_auc(scores, 3, test, 1, train, 2)));
}

TEST(CoverageMetrics, HandWorkedLists) {
  // 5 items; top-1 lists {0}, {0}, {3}: items {0, 3} -> 2/5; top-2 lists
  // {0, 1}, {0, 2}, {3, 0}: items {0, 1, 2, 3} -> 4/5.
  CoverageMetrics c({1, 2}, 5);
  const int64_t a[] = {0, 1}, b[] = {0, 2}, d[] = {3, 0};
  c.add_list(a, 2);
  c.add_list(b, 2);
  c.add_list(d, 2);
  const auto v = c.values();
  EXPECT_DOUBLE_EQ(v.at("coverage@1"), 0.4);
  EXPECT_DOUBLE_EQ(v.at("coverage@2"), 0.8);
}

TEST(RatingMetrics, HandWorked) {
  // Errors -1, 0, -2: RMSE sqrt(5/3), MAE 1.
  RatingMetrics m;
  m.add(3, 4);
  m.add(5, 5);
  m.add(1, 3);
  EXPECT_EQ(m.count(), 3);
  EXPECT_DOUBLE_EQ(m.values().at("rmse"), std::sqrt(5.0 / 3.0));
  EXPECT_DOUBLE_EQ(m.values().at("mae"), 1.0);
  EXPECT_TRUE(std::isnan(RatingMetrics().values().at("rmse")));
}

TEST(CtrMetrics, HandWorked) {
  // Positives 2, 0.5, 0 against negatives -1, 0.5, -3: of the 9 pairs the
  // positive wins 3 + 2 + 2 and ties 1 (0.5 = 0.5), so AUC = 7.5 / 9.
  // Predicted positive at z >= 0 (σ >= ½): 1 0 1 1 0 1 against 1 0 1 0 0 1:
  // 5 of 6 right; TP 3, FP 1, FN 0, F1 = 6 / 7.
  const std::vector<double> z{2.0, -1.0, 0.5, 0.5, -3.0, 0.0};
  const std::vector<uint8_t> y{1, 0, 1, 0, 0, 1};
  const auto m = ctr_metrics(z, y);
  EXPECT_DOUBLE_EQ(m.at("auc"), 7.5 / 9.0);
  EXPECT_DOUBLE_EQ(m.at("acc"), 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(m.at("f1"), 6.0 / 7.0);
  const double logloss =
      (std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-1.0)) + std::log1p(std::exp(-0.5)) +
       std::log1p(std::exp(0.5)) + std::log1p(std::exp(-3.0)) + std::log(2.0)) /
      6.0;
  EXPECT_NEAR(m.at("logloss"), logloss, 1e-12);
}

TEST(CtrMetrics, AucMatchesPairCounting) {
  // The rank formula against counting every (positive, negative) pair, on
  // scores with many ties.
  std::vector<double> z;
  std::vector<uint8_t> y;
  uint64_t state = 12345;
  for (int k = 0; k < 301; ++k) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    z.push_back(static_cast<double>((state >> 33) % 17) - 8.0);
    y.push_back(static_cast<uint8_t>((state >> 20) % 3 == 0));
  }
  double wins = 0, pairs = 0;
  for (size_t a = 0; a < z.size(); ++a) {
    for (size_t b = 0; b < z.size(); ++b) {
      if (y[a] != 1 || y[b] != 0) continue;
      wins += z[a] > z[b] ? 1.0 : z[a] == z[b] ? 0.5 : 0.0;
      pairs += 1;
    }
  }
  ASSERT_GT(pairs, 0);
  EXPECT_NEAR(ctr_metrics(z, y).at("auc"), wins / pairs, 1e-12);
}

TEST(CtrMetrics, EdgeCases) {
  // One label only: AUC undefined; nothing predicted positive and no
  // positive: F1 0.
  const auto m = ctr_metrics({-1.0, -2.0}, {0, 0});
  EXPECT_TRUE(std::isnan(m.at("auc")));
  EXPECT_DOUBLE_EQ(m.at("acc"), 1.0);
  EXPECT_DOUBLE_EQ(m.at("f1"), 0.0);
  EXPECT_THROW(ctr_metrics({1.0}, {1, 0}), std::invalid_argument);
  EXPECT_THROW(ctr_metrics({}, {}), std::invalid_argument);
}

TEST(Metrics, Direction) {
  EXPECT_TRUE(lower_is_better("rmse"));
  EXPECT_TRUE(lower_is_better("mae"));
  EXPECT_TRUE(lower_is_better("logloss"));
  EXPECT_FALSE(lower_is_better("acc"));
  EXPECT_FALSE(lower_is_better("auc"));
  EXPECT_FALSE(lower_is_better("recall@20"));
}

}  // namespace
}  // namespace gnnrec
