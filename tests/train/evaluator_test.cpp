// Full-ranking evaluation on a case small enough to rank by hand.
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "train/evaluator.h"

namespace gnnrec {
namespace {

struct Fixture {
  BipartiteGraph train, test;
  Fixture() {
    Interactions tr, te;
    tr.user = {0, 1};
    tr.item = {0, 3};
    te.user = {0, 1, 1};
    te.item = {2, 0, 1};
    train = BipartiteGraph::build(3, 4, tr);  // user 2 has no test items: not averaged
    test = BipartiteGraph::build(3, 4, te);
  }
};

TEST(Evaluator, HandRankedExample) {
  Fixture f;
  // Scores u·i with 1-d embeddings: user 0 -> [4,3,2,1], user 1 -> [-4,-3,-2,-1].
  const at::Tensor users = at::tensor(std::vector<float>{1, -1, 0}).view({3, 1});
  const at::Tensor items = at::tensor(std::vector<float>{4, 3, 2, 1}).view({4, 1});
  for (int64_t chunk : {1, 2, 1024}) {
    Evaluator ev(f.train, f.test, {1, 2}, chunk);
    const EvalResult r = ev.evaluate(users, items);
    EXPECT_EQ(r.users, 2);
    // User 0: item 0 masked, ranking [1, 2, 3], test {2} at rank 2.
    // User 1: item 3 masked, ranking [2, 1, 0], test {0, 1}: item 1 at rank 2.
    const double l3 = std::log2(3.0);
    EXPECT_DOUBLE_EQ(r.metrics.at("recall@1"), 0.0);
    EXPECT_DOUBLE_EQ(r.metrics.at("recall@2"), (1.0 + 0.5) / 2);
    EXPECT_NEAR(r.metrics.at("ndcg@2"), ((1 / l3) + (1 / l3) / (1 + 1 / l3)) / 2, 1e-6);
    EXPECT_DOUBLE_EQ(r.metrics.at("precision@2"), 0.5);
    EXPECT_DOUBLE_EQ(r.metrics.at("hit@2"), 1.0);
    // AUC. User 0: negatives {1, 3} (scores 3, 1), test item 2 (score 2)
    // beats one of two -> 1/2. User 1: negative {2} (-2), test items 0 (-4)
    // and 1 (-3) both lose -> 0. Mean 1/4.
    EXPECT_DOUBLE_EQ(r.metrics.at("auc"), 0.25);
    // Coverage of 4 items: top-1 lists [1], [2] -> 2/4; top-2 [1, 2],
    // [2, 1] -> still {1, 2}.
    EXPECT_DOUBLE_EQ(r.metrics.at("coverage@1"), 0.5);
    EXPECT_DOUBLE_EQ(r.metrics.at("coverage@2"), 0.5);
  }
}

TEST(Evaluator, RatingErrorsAndGlobalMean) {
  Interactions tr, te;
  tr.user = {0, 1};
  tr.item = {0, 3};
  tr.rating = {4, 2};  // mean 3
  te.user = {0, 1, 1};
  te.item = {2, 0, 1};
  te.rating = {5, 1, 3};
  const BipartiteGraph train = BipartiteGraph::build(3, 4, tr), test = BipartiteGraph::build(3, 4, te);
  const std::vector<double> user_factor{1, -1, 0}, item_factor{4, 3, 2, 1};
  // Predictions u·i: (0,2) 2, (1,0) -4, (1,1) -3; errors -3, -5, -6.
  const PairPredictor predict = [&](const at::Tensor& users, const at::Tensor& items) {
    at::Tensor out = at::empty({users.numel()}, at::kDouble);
    for (int64_t j = 0; j < users.numel(); ++j) {
      out[j] = user_factor[users[j].item<int64_t>()] * item_factor[items[j].item<int64_t>()];
    }
    return out;
  };
  Evaluator ev(train, test, {1});
  for (int64_t per_call : {1, 2, 100}) {
    const auto m = ev.evaluate_ratings(predict, per_call);
    EXPECT_DOUBLE_EQ(m.at("rmse"), std::sqrt((9.0 + 25.0 + 36.0) / 3.0)) << per_call;
    EXPECT_DOUBLE_EQ(m.at("mae"), 14.0 / 3.0) << per_call;
  }
  // Global mean 3: errors 2, -2, 0.
  EXPECT_DOUBLE_EQ(ev.mean_training_rating(), 3.0);
  const EvalResult mean = ev.evaluate_global_mean();
  EXPECT_DOUBLE_EQ(mean.metrics.at("rmse"), std::sqrt(8.0 / 3.0));
  EXPECT_DOUBLE_EQ(mean.metrics.at("mae"), 4.0 / 3.0);
  // Without ratings: an error, not a silent zero.
  Fixture f;
  EXPECT_THROW(Evaluator(f.train, f.test, {1}).evaluate_global_mean(), std::invalid_argument);
}

TEST(Evaluator, PopularityAndTopItems) {
  Fixture f;
  Evaluator ev(f.train, f.test, {1});
  // Train degrees: items 0 and 3 have 1, items 1, 2 have 0. User 0 (item 0
  // masked) gets item 3 first; user 1 (item 3 masked) gets item 0: a hit.
  const EvalResult pop = ev.evaluate_popularity();
  EXPECT_DOUBLE_EQ(pop.metrics.at("recall@1"), (0.0 + 0.5) / 2);
  const at::Tensor users = at::tensor(std::vector<float>{1, -1, 0}).view({3, 1});
  const at::Tensor items = at::tensor(std::vector<float>{4, 3, 2, 1}).view({4, 1});
  auto [top, scores] = ev.top_items(users, items, {0}, 2);
  EXPECT_EQ(top[0][0].item<int64_t>(), 1);
  EXPECT_EQ(top[0][1].item<int64_t>(), 2);
  EXPECT_FLOAT_EQ(scores[0][0].item<float>(), 3.0f);
}

TEST(Evaluator, NonFiniteEmbeddingsAreAnError) {
  // A NaN score would rank arbitrarily and give an AUC of 0 without a word.
  Fixture f;
  Evaluator ev(f.train, f.test, {1});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const at::Tensor users = at::tensor(std::vector<float>{1, -1, 0}).view({3, 1});
  const at::Tensor items = at::tensor(std::vector<float>{4, 3, 2, 1}).view({4, 1});
  const at::Tensor bad_users = at::tensor(std::vector<float>{1, nan, 0}).view({3, 1});
  const at::Tensor bad_items = at::tensor(std::vector<float>{4, 3, -inf, 1}).view({4, 1});
  auto message = [](auto fn) -> std::string {
    try {
      fn();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(message([&] { ev.evaluate(bad_users, items); }),
            "evaluator: the user embeddings hold NaN or Inf values");
  EXPECT_EQ(message([&] { ev.evaluate(users, bad_items); }),
            "evaluator: the item embeddings hold NaN or Inf values");
  EXPECT_EQ(message([&] { ev.top_items(bad_users, items, {0}, 1); }),
            "evaluator: the user embeddings hold NaN or Inf values");
}

// Score rows (a model that ranks rows, models/model.h): the same metrics
// and top items as the factors whose products they are, chunk by chunk; a
// user group too; rows of the wrong shape or not finite are errors.
TEST(Evaluator, ScoreRowsRankAsTheirFactors) {
  Interactions tr, te;
  for (int32_t u = 0; u < 40; ++u) {
    for (int32_t i = 0; i < 30; ++i) {
      if ((u * 7 + i * 3) % 11 == 0) tr.user.push_back(u), tr.item.push_back(i);
      if ((u * 5 + i) % 13 == 1) te.user.push_back(u), te.item.push_back(i);
    }
  }
  const BipartiteGraph train = BipartiteGraph::build(40, 30, tr);
  const BipartiteGraph test = BipartiteGraph::build(40, 30, te);
  const at::Tensor p = at::randn({40, 4}, at::kDouble), q = at::randn({30, 4}, at::kDouble);
  int64_t calls = 0;
  const ScoreRows rows = [&](const at::Tensor& users) {
    ++calls;
    return at::matmul(p.index_select(0, users), q.t());
  };
  Evaluator ev(train, test, {5, 10}, /*users_per_chunk=*/7);
  ev.add_user_group("odd", {1, 3, 5, 7, 9, 11});
  const EvalResult a = ev.evaluate(p, q), b = ev.evaluate(rows);
  EXPECT_EQ(calls, static_cast<int64_t>((ev.test_users().size() + 6) / 7));
  EXPECT_EQ(a.users, b.users);
  ASSERT_EQ(a.metrics.size(), b.metrics.size());
  for (const auto& [name, value] : a.metrics) EXPECT_EQ(b.metrics.at(name), value) << name;
  const auto [top_a, s_a] = ev.top_items(p, q, {0, 17, 39}, 6);
  const auto [top_b, s_b] = ev.top_items(rows, {0, 17, 39}, 6);
  EXPECT_TRUE(at::equal(top_a, top_b));
  EXPECT_TRUE(at::equal(s_a, s_b));
  EXPECT_THROW(ev.evaluate([](const at::Tensor& u) {
    return at::zeros({u.numel(), 29});
  }),
               std::invalid_argument);
  EXPECT_THROW(ev.evaluate([](const at::Tensor& u) {
    return at::full({u.numel(), 30}, std::nan(""));
  }),
               std::invalid_argument);
}

TEST(Evaluator, TiesGoToTheLowerItemId) {
  Fixture f;
  Evaluator ev(f.train, f.test, {1, 2});
  // Popularity-like scores: items 0 and 3 score 1, items 1 and 2 score 0.
  const at::Tensor users = at::ones({3, 1}, at::kFloat);
  const at::Tensor items = at::tensor(std::vector<float>{1, 0, 0, 1}).view({4, 1});
  auto [top, scores] = ev.top_items(users, items, {0, 1, 2}, 4);
  // User 0 (item 0 masked): 3, then the tied 1 and 2, then the masked 0.
  EXPECT_TRUE(at::equal(top[0], at::tensor(std::vector<int64_t>{3, 1, 2, 0})));
  EXPECT_EQ(scores[0][3].item<float>(), -std::numeric_limits<float>::infinity());
  // User 1 (item 3 masked): 0, then 1 and 2, then 3.
  EXPECT_TRUE(at::equal(top[1], at::tensor(std::vector<int64_t>{0, 1, 2, 3})));
  // User 2 (nothing masked): the tied 0 and 3, then the tied 1 and 2.
  EXPECT_TRUE(at::equal(top[2], at::tensor(std::vector<int64_t>{0, 3, 1, 2})));
  // The metrics follow that order: user 0's test item 2 is third; user 1's
  // test items 0 and 1 are first and second.
  const EvalResult r = ev.evaluate(users, items);
  EXPECT_DOUBLE_EQ(r.metrics.at("recall@1"), (0.0 + 0.5) / 2);
  EXPECT_DOUBLE_EQ(r.metrics.at("recall@2"), (0.0 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(r.metrics.at("coverage@2"), 0.75);  // {3, 1} and {0, 1}
  // Embeddings of the wrong shape are an error, not a silent misreading.
  EXPECT_THROW(ev.evaluate(at::ones({2, 1}), items), std::invalid_argument);
  EXPECT_THROW(ev.evaluate(users, items.narrow(0, 0, 3)), std::invalid_argument);
}

TEST(Evaluator, UserGroupMetricsByHand) {
  // User 0 trains on {0}, user 1 on {2, 3}; tests {2} and {0, 1}.
  Interactions tr, te;
  tr.user = {0, 1, 1};
  tr.item = {0, 2, 3};
  te.user = {0, 1, 1};
  te.item = {2, 0, 1};
  const BipartiteGraph train = BipartiteGraph::build(3, 4, tr),
                       test = BipartiteGraph::build(3, 4, te);
  Evaluator ev(train, test, {1, 2});
  // The coldest half of the two test users is user 0 (1 training item).
  EXPECT_EQ(ev.coldest_test_users(0.5), (std::vector<int64_t>{0}));
  ev.add_user_group("cold", ev.coldest_test_users(0.5));
  ev.add_user_group("warm", {1, 2});  // user 2 has no test item: ignored
  ev.add_user_group("none", {});
  const at::Tensor users = at::tensor(std::vector<float>{1, -1, 0}).view({3, 1});
  const at::Tensor items = at::tensor(std::vector<float>{4, 3, 2, 1}).view({4, 1});
  const EvalResult r = ev.evaluate(users, items);
  // User 0: ranking [1, 2, 3] (0 masked), test {2} at rank 2.
  const double l3 = std::log2(3.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("cold/recall@1"), 0.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("cold/recall@2"), 1.0);
  EXPECT_NEAR(r.metrics.at("cold/ndcg@2"), 1 / l3, 1e-12);
  EXPECT_DOUBLE_EQ(r.metrics.at("cold/precision@2"), 0.5);
  // User 1: scores [-4, -3, -2, -1] with 2 and 3 masked: ranking [1, 0],
  // test {0, 1}: both found; at K = 1, one of two.
  EXPECT_DOUBLE_EQ(r.metrics.at("warm/recall@1"), 0.5);
  EXPECT_DOUBLE_EQ(r.metrics.at("warm/recall@2"), 1.0);
  EXPECT_NEAR(r.metrics.at("warm/ndcg@2"), 1.0, 1e-12);
  EXPECT_NEAR(r.metrics.at("warm/ndcg@1"), 1.0, 1e-12);
  // The overall means are those of the two users.
  EXPECT_DOUBLE_EQ(r.metrics.at("recall@2"), 1.0);
  EXPECT_NEAR(r.metrics.at("ndcg@2"), (1 / l3 + 1.0) / 2, 1e-12);
  // No per-group auc or coverage; an empty group reports nothing.
  EXPECT_EQ(r.metrics.count("cold/auc"), 0u);
  EXPECT_EQ(r.metrics.count("cold/coverage@2"), 0u);
  EXPECT_EQ(r.metrics.count("none/recall@2"), 0u);
  EXPECT_THROW(ev.add_user_group("cold", {0}), std::invalid_argument);
  EXPECT_THROW(ev.add_user_group("bad", {3}), std::invalid_argument);
}

TEST(Evaluator, ColdestTestUsersBreakTiesByUserId) {
  // Training degrees 2, 1, 1, 3; every user has a test item.
  Interactions tr, te;
  tr.user = {0, 0, 1, 2, 3, 3, 3};
  tr.item = {0, 1, 0, 1, 0, 1, 2};
  te.user = {0, 1, 2, 3};
  te.item = {4, 4, 4, 4};
  const BipartiteGraph train = BipartiteGraph::build(4, 5, tr),
                       test = BipartiteGraph::build(4, 5, te);
  const Evaluator ev(train, test, {1});
  EXPECT_TRUE(ev.coldest_test_users(0).empty());
  EXPECT_EQ(ev.coldest_test_users(0.5), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(ev.coldest_test_users(0.6), (std::vector<int64_t>{1, 2, 0}));  // ceil(2.4)
  EXPECT_EQ(ev.coldest_test_users(1), (std::vector<int64_t>{1, 2, 0, 3}));
  EXPECT_THROW(ev.coldest_test_users(1.5), std::invalid_argument);
  EXPECT_THROW(ev.coldest_test_users(-0.1), std::invalid_argument);
}

// Data-parallel evaluation: processes rank their share of the test users
// and add each other's rows (split_users). Simulated in one process: the
// later share is evaluated first and its rows recorded; the earlier share's
// sum then adds them. Metrics must equal ranking every user in one pass,
// for factors and score rows, groups included, and a process may have no
// users at all.
TEST(Evaluator, SplitUsersSumToTheWholeRanking) {
  Interactions tr, te;
  for (int32_t u = 0; u < 45; ++u) {
    for (int32_t i = 0; i < 30; ++i) {
      if ((u * 7 + i * 3) % 11 == 0) tr.user.push_back(u), tr.item.push_back(i);
      if ((u * 5 + i) % 13 == 1) te.user.push_back(u), te.item.push_back(i);
    }
  }
  const BipartiteGraph train = BipartiteGraph::build(45, 30, tr);
  const BipartiteGraph test = BipartiteGraph::build(45, 30, te);
  const at::Tensor p = at::randn({45, 4}, at::kDouble), q = at::randn({30, 4}, at::kDouble);
  const ScoreRows rows = [&](const at::Tensor& users) {
    return at::matmul(p.index_select(0, users), q.t());
  };
  Evaluator whole(train, test, {5, 10}, /*users_per_chunk=*/7);
  whole.add_user_group("odd", {1, 3, 5, 7, 9, 11, 13});
  const int64_t n = static_cast<int64_t>(whole.test_users().size());
  ASSERT_GT(n, 10);
  const EvalResult expected = whole.evaluate(p, q);
  for (const int64_t m : {int64_t{0}, int64_t{4}, n / 2, n}) {
    for (const bool by_rows : {false, true}) {
      std::vector<at::Tensor> recorded;
      Evaluator later(train, test, {5, 10}, 7), earlier(train, test, {5, 10}, 7);
      later.split_users({m, n}, [&](std::vector<at::Tensor>& t) {
        for (const auto& x : t) recorded.push_back(x.clone());
      });
      earlier.split_users({0, m}, [&](std::vector<at::Tensor>& t) {
        ASSERT_EQ(t.size(), recorded.size());
        for (size_t j = 0; j < t.size(); ++j) t[j].add_(recorded[j]);
      });
      earlier.add_user_group("odd", {1, 3, 5, 7, 9, 11, 13});
      later.add_user_group("odd", {1, 3, 5, 7, 9, 11, 13});
      const EvalResult first = by_rows ? later.evaluate(rows) : later.evaluate(p, q);
      (void)first;  // the later share alone: its rows are what `recorded` holds
      const EvalResult r = by_rows ? earlier.evaluate(rows) : earlier.evaluate(p, q);
      EXPECT_EQ(r.users, expected.users);
      ASSERT_EQ(r.metrics.size(), expected.metrics.size());
      for (const auto& [name, value] : expected.metrics) {
        EXPECT_EQ(r.metrics.at(name), value) << name << " split at " << m;
      }
    }
  }
  Evaluator ev(train, test, {5}, 7);
  const auto keep = [](std::vector<at::Tensor>&) {};
  EXPECT_THROW(ev.split_users({3, 2}, keep), std::invalid_argument);
  EXPECT_THROW(ev.split_users({0, n + 1}, keep), std::invalid_argument);
  EXPECT_THROW(ev.split_users({0, n}, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace gnnrec
