// Fold-in (train/fold_in.h): LightGCN's propagation for a new node against a
// dense float64 propagation over the graph with the node added, and against
// the LightGCN model itself on that graph; least squares against the normal
// equations and a hand-worked case.
#include <cmath>
#include <memory>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include "models/model.h"
#include "models/propagation_graph.h"
#include "train/fold_in.h"

namespace gnnrec {
namespace {

// 7 users x 6 items; user 6 and item 5 have no interactions.
const std::vector<std::pair<int, int>> kPairs{{0, 0}, {0, 1}, {0, 2}, {1, 1}, {1, 3},
                                              {2, 0}, {2, 4}, {3, 2}, {3, 3}, {3, 4},
                                              {4, 0}, {4, 1}, {5, 3}, {5, 4}, {1, 4}};

BipartiteGraph graph_of(int64_t users, int64_t items,
                        const std::vector<std::pair<int, int>>& pairs) {
  Interactions x;
  for (const auto& [u, i] : pairs) {
    x.user.push_back(u);
    x.item.push_back(i);
  }
  return BipartiteGraph::build(users, items, x);
}

// LightGCN by definition, densely: Â = D^-1/2 A D^-1/2 of the unified graph
// (a node without edges keeps a zero row), K products, the layer mean.
at::Tensor dense_lightgcn(const BipartiteGraph& g, const at::Tensor& e0, int64_t layers) {
  const int64_t U = g.num_users(), N = U + g.num_items();
  at::Tensor A = at::zeros({N, N}, at::kDouble);
  for (int64_t u = 0; u < U; ++u) {
    for (int64_t e = g.user_offsets()[u]; e < g.user_offsets()[u + 1]; ++e) {
      const int64_t i = U + g.user_items()[e];
      A[u][i] = 1.0;
      A[i][u] = 1.0;
    }
  }
  const at::Tensor deg = A.sum(1);
  const at::Tensor inv = at::where(deg > 0, deg.rsqrt(), at::zeros_like(deg));
  const at::Tensor norm = inv.unsqueeze(1) * A * inv.unsqueeze(0);
  at::Tensor e = e0, sum = e0;
  for (int64_t k = 0; k < layers; ++k) {
    e = at::mm(norm, e);
    sum = sum + e;
  }
  return sum / static_cast<double>(layers + 1);
}

at::Tensor random_ego(int64_t rows, int64_t d, uint64_t seed) {
  at::manual_seed(seed);
  return at::randn({rows, d}, at::kDouble);
}

TEST(LightGcnFoldIn, NewUserEqualsTheFullPropagationWithTheUserAdded) {
  const int64_t U = 7, I = 6, d = 5;
  const BipartiteGraph g = graph_of(U, I, kPairs);
  const at::Tensor ego = random_ego(U + I, d, 1);
  // Items 0 (degree 3), 2 and 5 (no users before): the new user is user 7.
  const std::vector<int32_t> items{0, 2, 5};
  std::vector<std::pair<int, int>> pairs = kPairs;
  for (const int32_t i : items) pairs.emplace_back(7, i);
  const BipartiteGraph joined = graph_of(U + 1, I, pairs);
  // Its layer-0 row is zero; the items follow it.
  const at::Tensor e0 =
      at::cat({ego.narrow(0, 0, U), at::zeros({1, d}, at::kDouble), ego.narrow(0, U, I)});
  for (const int64_t layers : {1, 2, 3, 4}) {
    const at::Tensor want = dense_lightgcn(joined, e0, layers)[U];
    const at::Tensor got = lightgcn_fold_in(g, ego, layers, /*new_user=*/true, items);
    EXPECT_TRUE(at::allclose(got, want, 1e-12, 1e-12)) << layers << " layers\n"
                                                       << got << "\n"
                                                       << want;
  }
}

TEST(LightGcnFoldIn, NewItemEqualsTheFullPropagationWithTheItemAdded) {
  const int64_t U = 7, I = 6, d = 4;
  const BipartiteGraph g = graph_of(U, I, kPairs);
  const at::Tensor ego = random_ego(U + I, d, 2);
  const std::vector<int32_t> users{1, 3, 6};  // user 6 had no items
  std::vector<std::pair<int, int>> pairs = kPairs;
  for (const int32_t u : users) pairs.emplace_back(u, 6);
  const BipartiteGraph joined = graph_of(U, I + 1, pairs);
  const at::Tensor e0 = at::cat({ego, at::zeros({1, d}, at::kDouble)});
  for (const int64_t layers : {1, 3}) {
    const at::Tensor want = dense_lightgcn(joined, e0, layers)[U + I];
    const at::Tensor got = lightgcn_fold_in(g, ego, layers, /*new_user=*/false, users);
    EXPECT_TRUE(at::allclose(got, want, 1e-12, 1e-12)) << layers << " layers";
  }
}

TEST(LightGcnFoldIn, MatchesTheLightGcnModelOnTheGraphWithTheUser) {
  // The model trained on the joined graph, with the new user's ego row set
  // to zero: its ranking representation of that user is the fold-in's.
  const int64_t U = 7, I = 6;
  const std::vector<int32_t> items{1, 3, 4};
  std::vector<std::pair<int, int>> pairs = kPairs;
  for (const int32_t i : items) pairs.emplace_back(7, i);
  const PropagationGraph joined(std::make_shared<const BipartiteGraph>(graph_of(U + 1, I, pairs)));
  ModelOptions o;
  o.dim = 8;
  o.layers = 3;
  const auto model = make_model("lightgcn", o, joined, at::kCPU);
  at::Tensor ego = model->parameters().at(0).tensor;
  ASSERT_EQ(model->parameters().at(0).name, "embedding");
  {
    at::NoGradGuard no_grad;
    ego[U].zero_();
  }
  at::NoGradGuard no_grad;
  const at::Tensor want = model->ranking().first[U].to(at::kDouble);
  const at::Tensor without = at::cat({ego.narrow(0, 0, U), ego.narrow(0, U + 1, I)});
  const at::Tensor got = lightgcn_fold_in(graph_of(U, I, kPairs), without, 3, true, items);
  EXPECT_TRUE(at::allclose(got, want, 1e-5, 1e-6)) << got << "\n" << want;
}

TEST(LeastSquaresFoldIn, HandWorkedCase) {
  // Rows (1, 0) and (0, 2), λ = 1: (diag(1, 4) + I) p = (1, 2), p = (1/2, 2/5).
  const at::Tensor F = at::tensor({9.0, 9.0, 1.0, 0.0, 0.0, 2.0}, at::kDouble).view({3, 2});
  const at::Tensor p = least_squares_fold_in(F, {1, 2}, 1.0);
  EXPECT_NEAR(p[0].item<double>(), 0.5, 1e-12);
  EXPECT_NEAR(p[1].item<double>(), 0.4, 1e-12);
}

TEST(LeastSquaresFoldIn, SolvesTheNormalEquationsAndTakesTheMinimumNormWithoutL2) {
  at::manual_seed(3);
  const at::Tensor F = at::randn({10, 4}, at::kDouble);
  const std::vector<int32_t> rows{1, 4, 7, 8, 9};
  const at::Tensor S = F.index_select(0, at::tensor({1, 4, 7, 8, 9}, at::kLong));
  for (const double lambda : {0.3, 5.0}) {
    const at::Tensor want = at::linalg_solve(at::mm(S.t(), S) + lambda * at::eye(4, at::kDouble),
                                             at::mv(S.t(), at::ones({5}, at::kDouble)));
    EXPECT_TRUE(at::allclose(least_squares_fold_in(F, rows, lambda), want, 1e-10, 1e-10));
  }
  // Two rows in four dimensions, no penalty: p = Sᵀ (S Sᵀ)⁻¹ 1.
  const at::Tensor two = F.narrow(0, 0, 2);
  const at::Tensor want =
      at::mv(two.t(), at::linalg_solve(at::mm(two, two.t()), at::ones({2}, at::kDouble)));
  EXPECT_TRUE(at::allclose(least_squares_fold_in(F, {0, 1}, 0.0), want, 1e-10, 1e-10));
  EXPECT_THROW(least_squares_fold_in(F, {}, 1.0), std::invalid_argument);
  EXPECT_THROW(least_squares_fold_in(F, {10}, 1.0), std::invalid_argument);
}

TEST(LeastSquaresFoldIn, DefaultL2IsTheRowsTimesTheMeanSquaredNorm) {
  const at::Tensor F = at::tensor({3.0, 4.0, 0.0, 1.0}, at::kDouble).view({2, 2});  // 25, 1
  EXPECT_DOUBLE_EQ(default_fold_in_l2(F, 4), 4 * 13.0);
}

}  // namespace
}  // namespace gnnrec
