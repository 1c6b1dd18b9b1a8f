// NCF's sampled-negatives protocol (train/sampled_evaluation.h): the
// metrics of a hand-worked example (ties, padding, a user with two test
// items), and the evaluator's candidates (distinct, never interacted with,
// seeded) and metrics against ranks counted by loops over a dense score
// matrix.
#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "base/random.h"
#include "train/sampled_evaluation.h"

namespace gnnrec {
namespace {

TEST(SampledMetrics, HandWorkedExample) {
  const double inf = std::numeric_limits<double>::infinity();
  // User 0, test item 5: item 1 scores higher, item 2 ties and has the lower
  // id, item 7 lower: rank 2. Test item 3: item 6 ties with a higher id:
  // rank 0. User 1, test item 0: item 9 higher, two padding columns: rank 1.
  const at::Tensor scores = at::tensor(std::vector<double>{0.5, 0.9, 0.5, 0.1,  //
                                                           0.8, 0.2, 0.8, 0.3,  //
                                                           0.1, 0.2, -inf, -inf},
                                       at::kDouble)
                                .view({3, 4});
  const at::Tensor cand =
      at::tensor(std::vector<int64_t>{5, 1, 2, 7, 3, 4, 6, 8, 0, 9, -1, -1}, at::kLong)
          .view({3, 4});
  const auto m = sampled_metrics(scores, cand, {0, 0, 1}, {1, 3});
  // User 0: hit@1 (0 + 1)/2, ndcg@3 (1/log2(4) + 1)/2; user 1: hit@1 0, ndcg@3 1/log2(3).
  EXPECT_DOUBLE_EQ(m.at("sampled/hit@1"), 0.25);
  EXPECT_DOUBLE_EQ(m.at("sampled/ndcg@1"), 0.25);
  EXPECT_DOUBLE_EQ(m.at("sampled/hit@3"), 1.0);
  EXPECT_NEAR(m.at("sampled/ndcg@3"), (0.75 + 1 / std::log2(3.0)) / 2, 1e-15);
}

BipartiteGraph graph_of(const std::vector<std::pair<int32_t, int32_t>>& pairs, int64_t U,
                        int64_t I) {
  Interactions x;
  for (const auto& [u, i] : pairs) x.user.push_back(u), x.item.push_back(i);
  return BipartiteGraph::build(U, I, x);
}

TEST(SampledEvaluator, CandidatesAndMetricsMatchCountedRanks) {
  SplitMix64 rng(9);
  std::vector<std::pair<int32_t, int32_t>> train, test;
  const int64_t U = 12, I = 40;
  for (int32_t u = 0; u < U; ++u) {
    for (int32_t i = 0; i < I; ++i) {
      const double r = rng.uniform();
      if (r < 0.2 || (u == 11 && i != 0)) train.emplace_back(u, i);  // user 11: one item left
      else if (r < 0.25 || (u == 11 && i == 0)) test.emplace_back(u, i);
    }
  }
  const BipartiteGraph tr = graph_of(train, U, I), te = graph_of(test, U, I);
  const int64_t n = 6;
  const SampledEvaluator ev(tr, te, {1, 5}, n, 2020);
  const at::Tensor& cand = ev.candidates();
  ASSERT_EQ(cand.size(0), te.num_edges());
  ASSERT_EQ(cand.size(1), 1 + n);
  EXPECT_TRUE(at::equal(cand, SampledEvaluator(tr, te, {1, 5}, n, 2020).candidates()));
  EXPECT_FALSE(at::equal(cand, SampledEvaluator(tr, te, {1, 5}, n, 2021).candidates()));
  const at::Tensor scores = at::randn({U, I}, at::kDouble);
  int64_t p = 0;
  double hit5 = 0, ndcg5 = 0;
  int64_t users = 0;
  for (int64_t u = 0; u < U; ++u) {
    const int64_t first = te.user_offsets()[u], last = te.user_offsets()[u + 1];
    if (first == last) continue;
    std::set<int64_t> seen;
    for (int64_t e = tr.user_offsets()[u]; e < tr.user_offsets()[u + 1]; ++e)
      seen.insert(tr.user_items()[e]);
    for (int64_t e = first; e < last; ++e) seen.insert(te.user_items()[e]);
    double h = 0, g = 0;
    for (int64_t e = first; e < last; ++e, ++p) {
      const int64_t t = te.user_items()[e];
      ASSERT_EQ(cand[p][0].item<int64_t>(), t);
      std::set<int64_t> negs;
      int64_t rank = 0;
      for (int64_t j = 1; j <= n; ++j) {
        const int64_t c = cand[p][j].item<int64_t>();
        if (c < 0) continue;
        EXPECT_EQ(seen.count(c), 0u) << u << " " << c;
        EXPECT_TRUE(negs.insert(c).second) << "repeated negative";
        const double sc = scores[u][c].item<double>(), st = scores[u][t].item<double>();
        if (sc > st || (sc == st && c < t)) ++rank;
      }
      // Every user but 11 has at least n items left; 11 has none.
      EXPECT_EQ(static_cast<int64_t>(negs.size()),
                std::min<int64_t>(n, I - static_cast<int64_t>(seen.size())));
      if (rank < 5) h += 1, g += 1 / std::log2(rank + 2.0);
    }
    hit5 += h / static_cast<double>(last - first);
    ndcg5 += g / static_cast<double>(last - first);
    ++users;
  }
  const auto m = ev.evaluate([&](const at::Tensor& u) { return scores.index_select(0, u); }, 5);
  EXPECT_NEAR(m.at("sampled/hit@5"), hit5 / static_cast<double>(users), 1e-12);
  EXPECT_NEAR(m.at("sampled/ndcg@5"), ndcg5 / static_cast<double>(users), 1e-12);
  EXPECT_THROW(SampledEvaluator(tr, te, {5}, 0, 1), std::invalid_argument);
}

}  // namespace
}  // namespace gnnrec
