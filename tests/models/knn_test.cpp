// ItemKNN and UserKNN (models/knn.h, models/knn.cpp) against float64
// references built densely here: the cosine similarity with shrinkage of
// the columns (rows) of the binary interaction matrix, its top-k per item
// (user) by a full sort, and the score rows R W (W R) of the kept
// neighbours; a hand-worked similarity; the checkpointed tensors.
#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "base/random.h"
#include "models/knn.h"
#include "models/model.h"

namespace gnnrec {
namespace {

// 30 users x 22 items, each pair with probability 0.2; user 29 and item 21
// have no interactions.
std::shared_ptr<const BipartiteGraph> random_graph(uint64_t seed) {
  SplitMix64 rng(seed);
  Interactions x;
  for (int32_t u = 0; u < 29; ++u) {
    for (int32_t i = 0; i < 21; ++i) {
      if (rng.uniform() < 0.2 || u % 21 == i) x.user.push_back(u), x.item.push_back(i);
    }
  }
  return std::make_shared<const BipartiteGraph>(BipartiteGraph::build(30, 22, x));
}

at::Tensor dense_r(const BipartiteGraph& g) {
  at::Tensor r = at::zeros({g.num_users(), g.num_items()}, at::kDouble);
  for (int64_t u = 0; u < g.num_users(); ++u) {
    for (int64_t e = g.user_offsets()[u]; e < g.user_offsets()[u + 1]; ++e) {
      r[u][g.user_items()[e]] = 1.0;
    }
  }
  return r;
}

// sim(a, b) over the rows of a: a aᵀ / (‖a‖ ‖b‖ + shrink + 1e-6), zero diagonal.
at::Tensor dense_similarity(const at::Tensor& a, double shrink) {
  const at::Tensor norm = a.pow(2).sum(1).sqrt();
  at::Tensor s = at::matmul(a, a.t()) / (at::outer(norm, norm) + shrink + 1e-6);
  s.fill_diagonal_(0);
  return s;
}

// W with W[a][b] = s[a][b] for b among a's k largest (> 0; ties to the
// lower id), by a full sort of each row.
at::Tensor dense_top_k(const at::Tensor& s, int64_t k) {
  at::Tensor w = at::zeros_like(s);
  for (int64_t a = 0; a < s.size(0); ++a) {
    std::vector<std::pair<double, int64_t>> row;
    for (int64_t b = 0; b < s.size(1); ++b) {
      if (s[a][b].item<double>() > 0) row.emplace_back(-s[a][b].item<double>(), b);
    }
    std::sort(row.begin(), row.end());
    for (size_t t = 0; t < std::min<size_t>(row.size(), static_cast<size_t>(k)); ++t) {
      w[a][row[t].second] = -row[t].first;
    }
  }
  return w;
}

// The neighbour lists as the dense matrix they stand for.
at::Tensor as_dense(const at::Tensor& index, const at::Tensor& weight) {
  at::Tensor w = at::zeros({index.size(0), index.size(0)}, at::kDouble);
  for (int64_t a = 0; a < index.size(0); ++a) {
    for (int64_t t = 0; t < index.size(1); ++t) {
      w[a][index[a][t].item<int64_t>()] += weight[a][t].item<double>();
    }
  }
  return w;
}

TEST(Knn, HandWorkedSimilarity) {
  // Items 0 and 1 share users 0 and 1; item 0 also has user 2, item 1 user 3:
  // sim = 2 / (√3 · √3 + shrink + 1e-6).
  Interactions x;
  for (const auto& [u, i] : std::vector<std::pair<int32_t, int32_t>>{
           {0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 0}, {3, 1}, {3, 2}}) {
    x.user.push_back(u), x.item.push_back(i);
  }
  const BipartiteGraph g = BipartiteGraph::build(4, 3, x);
  const auto [index, weight] =
      cosine_neighbors(g.item_offsets(), g.item_users(), g.user_offsets(), g.user_items(), 5, 1.0);
  ASSERT_EQ(index.size(1), 3);  // k capped at the number of items
  EXPECT_EQ(index[0][0].item<int64_t>(), 1);
  EXPECT_NEAR(weight[0][0].item<double>(), 2.0 / (3.0 + 1.0 + 1e-6), 1e-7);
  // Item 2 (user 3 only) shares user 3 with item 1: 1 / (1 · √3 + 1 + 1e-6).
  EXPECT_EQ(index[2][0].item<int64_t>(), 1);
  EXPECT_NEAR(weight[2][0].item<double>(), 1.0 / (std::sqrt(3.0) + 1.0 + 1e-6), 1e-7);
  // Item 0 co-occurs with item 1 only: padded with itself at weight 0.
  EXPECT_EQ(index[0][1].item<int64_t>(), 0);
  EXPECT_EQ(weight[0][1].item<float>(), 0.0f);
  EXPECT_THROW(
      cosine_neighbors(g.item_offsets(), g.item_users(), g.user_offsets(), g.user_items(), 0, 0.0),
      std::invalid_argument);
}

TEST(Knn, NeighborsAndScoresMatchTheDenseReference) {
  const auto g = random_graph(5);
  const PropagationGraph pg(g);
  const at::Tensor r = dense_r(*g);
  for (const bool by_item : {true, false}) {
    for (const auto& [k, shrink] : std::vector<std::pair<int64_t, double>>{{4, 0.0}, {7, 2.5}}) {
      ModelOptions o;
      o.knn_neighbors = k;
      o.shrink = shrink;
      auto m = make_model(by_item ? "itemknn" : "userknn", o, pg, at::kCPU);
      ASSERT_TRUE(m->closed_form() && m->ranks_rows());
      m->fit();
      const auto params = m->parameters();
      ASSERT_EQ(params.size(), 2u);
      const at::Tensor w_ref = dense_top_k(dense_similarity(by_item ? r.t() : r, shrink), k);
      const at::Tensor w = as_dense(params[0].tensor, params[1].tensor);
      EXPECT_LT((w - w_ref).abs().max().item<double>(), 1e-6) << by_item << " " << k;
      // itemknn: s_u = r_u W' with W'[j][i] = W[i][j]; userknn: S = W R.
      const at::Tensor scores_ref = by_item ? at::matmul(r, w_ref.t()) : at::matmul(w_ref, r);
      const at::Tensor users = at::tensor(std::vector<int64_t>{3, 29, 0, 17, 3}, at::kLong);
      const at::Tensor rows = m->ranking_rows(users);
      ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{5, g->num_items()}));
      EXPECT_LT(
          (rows.to(at::kDouble) - scores_ref.index_select(0, users)).abs().max().item<double>(),
          1e-5);
      // A run loaded from its checkpoint (parameters copied into a fresh
      // model) scores the same rows without fitting.
      auto loaded = make_model(by_item ? "itemknn" : "userknn", o, pg, at::kCPU);
      for (size_t p = 0; p < params.size(); ++p) {
        loaded->parameters()[p].tensor.copy_(params[p].tensor);
      }
      EXPECT_TRUE(at::equal(loaded->ranking_rows(users), rows));
    }
  }
  ModelOptions bad;
  bad.knn_neighbors = 0;
  EXPECT_THROW(make_model("itemknn", bad, pg, at::kCPU), std::invalid_argument);
}

}  // namespace
}  // namespace gnnrec
