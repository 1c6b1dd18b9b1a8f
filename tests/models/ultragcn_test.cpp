// UltraGCN (models/ultragcn.h) against float64 references written out here:
// the constraint loss and the item–item loss as sums over pairs and
// negatives (and the constraint loss as the authors' main.py computes it,
// per pair), their gradients by finite differences, the item–item
// neighbours from the dense co-occurrence matrix, and the model's batch
// loss (with the negatives drawn from the seeded global generator) against
// the same sums; the trainer's objective adds --reg on every parameter.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "base/random.h"
#include "models/model.h"
#include "models/ultragcn.h"
#include "tests/testing/gradcheck.h"
#include "train/loss.h"

namespace gnnrec {
namespace {

double softplus(double x) { return std::log1p(std::exp(x)); }

// L_O by loops (w1 = w3 = 1e-6, w2 = w4 = 1), pair b's negatives those of
// group b / share: neg [G, R, d], bn [G, R].
double constraint_reference(const at::Tensor& u, const at::Tensor& pos, const at::Tensor& neg,
                            const at::Tensor& bu, const at::Tensor& bp, const at::Tensor& bn,
                            double weight, int64_t share) {
  double total = 0;
  for (int64_t b = 0; b < u.size(0); ++b) {
    const double s = (u[b] * pos[b]).sum().item<double>();
    total += (1e-6 + bu[b].item<double>() * bp[b].item<double>()) * softplus(-s);
    double negs = 0;
    const int64_t g = b / share;
    for (int64_t r = 0; r < neg.size(1); ++r) {
      const double t = (u[b] * neg[g][r]).sum().item<double>();
      negs += (1e-6 + bu[b].item<double>() * bn[g][r].item<double>()) * softplus(t);
    }
    total += weight * negs / static_cast<double>(neg.size(1));
  }
  return total;
}

// The authors' cal_loss_L (main.py) transcribed: every pair its own row of
// negatives, binary_cross_entropy_with_logits weighted by ω, the negatives'
// mean times W, summed over the batch. neg_rows [B, R, d], bn_rows [B, R].
double authors_loss_l(const at::Tensor& u, const at::Tensor& pos, const at::Tensor& neg_rows,
                      const at::Tensor& bu, const at::Tensor& bp, const at::Tensor& bn_rows,
                      double weight) {
  const at::Tensor pos_scores = (u * pos).sum(-1);
  const at::Tensor neg_scores = (u.unsqueeze(1) * neg_rows).sum(-1);
  const at::Tensor neg_loss = at::binary_cross_entropy_with_logits(
                                  neg_scores, at::zeros_like(neg_scores),
                                  1e-6 + bu.unsqueeze(1) * bn_rows, {}, at::Reduction::None)
                                  .mean(-1);
  const at::Tensor pos_loss = at::binary_cross_entropy_with_logits(
      pos_scores, at::ones_like(pos_scores), 1e-6 + bu * bp, {}, at::Reduction::None);
  return (pos_loss + neg_loss * weight).sum().item<double>();
}

TEST(UltraGcn, LossesAreTheirSumsAndGradcheck) {
  const at::Tensor u = at::randn({5, 3}, at::kDouble), pos = at::randn({5, 3}, at::kDouble);
  const at::Tensor bu = at::rand({5}, at::kDouble), bp = at::rand({5}, at::kDouble);
  // 1 group (one GEMM), 3 groups of 2, 2 and 1 pairs, and 5 (the paper's).
  for (const int64_t groups : {1, 3, 5}) {
    const at::Tensor neg = at::randn({groups, 6, 3}, at::kDouble);
    const at::Tensor bn = at::rand({groups, 6}, at::kDouble);
    const int64_t share = (5 + groups - 1) / groups;
    const double loss = ultragcn_constraint_loss(u, pos, neg, bu, bp, bn, 300).item<double>();
    EXPECT_NEAR(loss, constraint_reference(u, pos, neg, bu, bp, bn, 300, share), 1e-9) << groups;
    // The authors' per-pair code, given each pair its group's negatives.
    const at::Tensor rows = at::arange(5, at::kLong).div(share, "floor");
    EXPECT_NEAR(
        loss,
        authors_loss_l(u, pos, neg.index_select(0, rows), bu, bp, bn.index_select(0, rows), 300),
        1e-9)
        << groups;
    testing::gradcheck(
        [&](const std::vector<at::Tensor>& x) {
          return ultragcn_constraint_loss(x[0], x[1], x[2], bu, bp, bn, 300);
        },
        {u, pos, neg});
  }
  // 4 groups of ⌈5/4⌉ = 2 pairs would leave the last one empty.
  EXPECT_THROW(ultragcn_constraint_loss(u, pos, at::randn({4, 6, 3}, at::kDouble), bu, bp,
                                        at::rand({4, 6}, at::kDouble), 300),
               std::invalid_argument);
  const at::Tensor nbr = at::randn({5, 5, 3}, at::kDouble), w = at::rand({5, 5}, at::kDouble);
  double item = 0;
  for (int64_t b = 0; b < 5; ++b) {
    for (int64_t k = 0; k < 5; ++k) {
      const double s = (u[b] * nbr[b][k]).sum().item<double>();
      item -= w[b][k].item<double>() * std::log(1 / (1 + std::exp(-s)));
    }
  }
  EXPECT_NEAR(ultragcn_item_loss(u, nbr, w).item<double>(), item, 1e-12);
  testing::gradcheck(
      [&](const std::vector<at::Tensor>& x) { return ultragcn_item_loss(x[0], x[1], w); },
      {u, nbr});
}

std::shared_ptr<const BipartiteGraph> random_graph(uint64_t seed) {
  SplitMix64 rng(seed);
  Interactions x;
  for (int32_t u = 0; u < 25; ++u) {
    for (int32_t i = 0; i < 18; ++i) {
      if (i == 17) continue;  // item 17: no interactions
      if (rng.uniform() < 0.25 || (u % 17 == i)) x.user.push_back(u), x.item.push_back(i);
    }
  }
  return std::make_shared<const BipartiteGraph>(BipartiteGraph::build(25, 18, x));
}

// ω = √(g_i+1)/g_i · (g_j+1)^-1/2 · G_ij from the dense G = RᵀR.
at::Tensor dense_omega(const BipartiteGraph& g) {
  at::Tensor r = at::zeros({g.num_users(), g.num_items()}, at::kDouble);
  for (int64_t u = 0; u < g.num_users(); ++u) {
    for (int64_t e = g.user_offsets()[u]; e < g.user_offsets()[u + 1]; ++e) {
      r[u][g.user_items()[e]] = 1;
    }
  }
  const at::Tensor gram = at::matmul(r.t(), r), deg = gram.sum(1);
  const at::Tensor left = at::where(deg > 0, (deg + 1).sqrt() / deg, at::zeros_like(deg));
  return left.unsqueeze(1) * gram * (deg + 1).rsqrt().unsqueeze(0);
}

TEST(UltraGcn, ItemNeighborsAreTheLargestWeights) {
  const auto g = random_graph(3);
  const at::Tensor omega = dense_omega(*g);
  const int64_t k = 4;
  const auto [nbr, w] = ultragcn_item_neighbors(*g, k);
  for (int64_t i = 0; i < g->num_items(); ++i) {
    // Reference: the row sorted by (weight desc, id asc) among nonzeros.
    std::vector<std::pair<double, int64_t>> row;
    for (int64_t j = 0; j < g->num_items(); ++j) {
      const double v = omega[i][j].item<double>();
      if (v > 0) row.emplace_back(-v, j);
    }
    std::sort(row.begin(), row.end());
    for (int64_t s = 0; s < k; ++s) {
      const bool real = s < static_cast<int64_t>(row.size());
      EXPECT_EQ(nbr[i][s].item<int64_t>(), real ? row[s].second : i) << i << " " << s;
      EXPECT_NEAR(w[i][s].item<double>(), real ? -row[s].first : 0.0, 1e-6) << i << " " << s;
    }
  }
  EXPECT_THROW(ultragcn_item_neighbors(*g, 0), std::invalid_argument);
}

TEST(UltraGcn, BatchLossIsTheReferenceWithTheSeededNegatives) {
  const auto g = random_graph(4);
  const PropagationGraph pg(g);
  ModelOptions o;
  o.dim = 5;
  o.negative_ratio = 7;
  o.negative_share = 2;  // 5 pairs: groups of 2, 2 and 1
  o.ii_neighbors = 3;
  auto m = make_model("ultragcn", o, pg, at::kCPU);
  ASSERT_TRUE(m->has_own_loss());
  const at::Tensor users = at::tensor(std::vector<int64_t>{0, 4, 4, 9, 24}, at::kLong);
  const at::Tensor pos = at::tensor(std::vector<int64_t>{4, 0, 2, 9, 7}, at::kLong);
  // Larger embeddings than the N(0, 1e-4) start, so that every term counts.
  {
    at::NoGradGuard no_grad;
    for (auto& p : m->parameters()) p.tensor.normal_(0, 0.5);
  }
  at::manual_seed(5);
  const at::Tensor loss = m->own_loss(users, pos);
  at::manual_seed(5);
  const at::Tensor negs = at::randint(18, {3, 7}, at::kLong);
  const at::Tensor ue = m->parameters()[0].tensor.detach().to(at::kDouble);
  const at::Tensor ie = m->parameters()[1].tensor.detach().to(at::kDouble);
  const auto beta_u = [&](int64_t u) {
    const double d = static_cast<double>(g->user_degree(u));
    return std::sqrt(d + 1) / d;
  };
  const auto beta_i = [&](int64_t i) {
    return 1 / std::sqrt(static_cast<double>(g->item_degree(i)) + 1);
  };
  at::Tensor bu = at::empty({5}, at::kDouble), bp = at::empty({5}, at::kDouble);
  at::Tensor bn = at::empty({3, 7}, at::kDouble);
  for (int64_t b = 0; b < 5; ++b) {
    bu[b] = beta_u(users[b].item<int64_t>());
    bp[b] = beta_i(pos[b].item<int64_t>());
  }
  for (int64_t q = 0; q < 3; ++q) {
    for (int64_t r = 0; r < 7; ++r) bn[q][r] = beta_i(negs[q][r].item<int64_t>());
  }
  double expected = constraint_reference(ue.index_select(0, users), ie.index_select(0, pos),
                                         ie.index_select(0, negs.reshape({-1})).view({3, 7, 5}), bu,
                                         bp, bn, 300, 2);
  const auto [nbr, w] = ultragcn_item_neighbors(*g, 3);
  for (int64_t b = 0; b < 5; ++b) {
    for (int64_t s = 0; s < 3; ++s) {
      const int64_t j = nbr[pos[b].item<int64_t>()][s].item<int64_t>();
      const double score = (ue[users[b].item<int64_t>()] * ie[j]).sum().item<double>();
      expected -=
          5e-4 * w[pos[b].item<int64_t>()][s].item<double>() * std::log(1 / (1 + std::exp(-score)));
    }
  }
  EXPECT_NEAR(loss.item<double>(), expected, 1e-5 * std::abs(expected));

  // The trainer's objective: the model's loss plus --reg · ½ Σ ‖p‖², and
  // no negatives of its own.
  TrainConfig cfg;
  cfg.reg = 0.01;
  const Objective objective(cfg, *m);
  EXPECT_EQ(objective.negatives(), 0);
  Batch batch;
  batch.users = users, batch.positives = pos;
  at::manual_seed(5);
  const double total = objective(*m, m->parameters(), batch).item<double>();
  const double l2 = 0.5 * (ue.pow(2).sum() + ie.pow(2).sum()).item<double>();
  EXPECT_NEAR(total, expected + 0.01 * l2, 1e-5 * std::abs(total));
  cfg.loss = Loss::kMse;
  EXPECT_THROW(Objective(cfg, *m), std::invalid_argument);
}

// The authors' Gowalla configuration (gowalla_config.ini) as the defaults,
// and their initial_weight: both tables N(0, 1e-4²).
TEST(UltraGcn, DefaultsAreTheAuthorsGowallaConfig) {
  const auto g = random_graph(6);
  const PropagationGraph pg(g);
  ModelOptions o;
  o.dim = 64;
  const auto m = make_model("ultragcn", o, pg, at::kCPU);
  for (const auto& p : m->parameters()) {
    EXPECT_NEAR(p.tensor.mean().item<double>(), 0.0, 1e-5) << p.name;
    EXPECT_NEAR(p.tensor.std().item<double>(), 1e-4, 1e-5) << p.name;
  }
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"negative_ratio", "ultragcn 1500"},
                                                        {"negative_weight", "ultragcn 300"},
                                                        {"ii_neighbors", "ultragcn 10"},
                                                        {"ii_weight", "ultragcn 0.0005"}}) {
    EXPECT_NE(model_defaults_help(key).find(value), std::string::npos) << key;
  }
}

}  // namespace
}  // namespace gnnrec
