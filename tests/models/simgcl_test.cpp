// SimGCL and XSimGCL (models/simgcl.cpp, models/contrastive.h) against
// float64 references written out here: InfoNCE as its sum over pairs, the
// noise's norm, orthant and draws, their gradients by finite differences,
// and one training batch of each model (noisy propagation over a dense
// D^-1/2 A D^-1/2, InfoNCE over the batch's distinct users and items)
// against the same computation in float64 with the same draws, values and
// gradients; evaluation propagates without noise.
#include <cmath>
#include <memory>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "models/contrastive.h"
#include "models/model.h"
#include "tests/testing/gradcheck.h"

namespace gnnrec {
namespace {

double max_abs(const at::Tensor& a) { return a.abs().max().item<double>(); }

// −(1/n) Σ_j [ c_jj/τ − log Σ_k exp(c_jk/τ) ], c the cosine, by loops.
double info_nce_reference(const at::Tensor& a, const at::Tensor& b, double tau) {
  const int64_t n = a.size(0);
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    std::vector<double> c(n);
    double denom = 0;
    for (int64_t k = 0; k < n; ++k) {
      c[k] = (a[j] * b[k]).sum().item<double>() /
             (a[j].norm().item<double>() * b[k].norm().item<double>()) / tau;
      denom += std::exp(c[k]);
    }
    sum += c[j] - std::log(denom);
  }
  return -sum / static_cast<double>(n);
}

TEST(Contrastive, InfoNceIsItsSumOverPairs) {
  const at::Tensor a = at::randn({7, 4}, at::kDouble), b = at::randn({7, 4}, at::kDouble);
  for (const double tau : {0.15, 0.2, 1.0}) {
    EXPECT_NEAR(info_nce(a, b, tau).item<double>(), info_nce_reference(a, b, tau), 1e-12) << tau;
  }
  // Identical views with a low temperature: each row picks itself.
  EXPECT_LT(info_nce(at::eye(5, at::kDouble), at::eye(5, at::kDouble), 0.05).item<double>(), 1e-6);
  testing::gradcheck([](const std::vector<at::Tensor>& x) { return info_nce(x[0], x[1], 0.15); },
                     {at::randn({5, 3}, at::kDouble), at::randn({5, 3}, at::kDouble)});
}

TEST(Contrastive, NoiseHasNormEpsInTheEmbeddingsOrthant) {
  at::Tensor e = at::randn({50, 8}, at::kDouble);
  e[3] = 0;  // sign(0) = 0: no noise
  const at::Tensor u = at::rand({50, 8}, at::kDouble);
  const at::Tensor noise = perturb(e, u, 0.2) - e;
  const at::Tensor norms = noise.norm(2, {1});
  EXPECT_LT(max_abs(norms.narrow(0, 4, 46) - 0.2), 1e-12);
  EXPECT_EQ(norms[3].item<double>(), 0.0);
  EXPECT_TRUE((noise * e >= 0).all().item<bool>());
  // The direction is u's, row by row (u >= 0, so |noise| ∝ u).
  EXPECT_LT(max_abs(noise.abs()[0] / noise.abs()[0].sum() - u[0] / u[0].sum()), 1e-12);
  // Drawn from the global generator: reseeding repeats the draws.
  const at::Tensor e32 = e.to(at::kFloat);
  at::manual_seed(9);
  const at::Tensor first = add_uniform_noise(e32, 0.2);
  at::manual_seed(9);
  EXPECT_TRUE(at::equal(first, add_uniform_noise(e32, 0.2)));
  at::manual_seed(9);
  EXPECT_TRUE(at::allclose(first, perturb(e32, at::rand({50, 8}, at::kFloat), 0.2)));
  const at::Tensor u3 = at::rand({4, 3}, at::kDouble);
  testing::gradcheck([&](const std::vector<at::Tensor>& x) { return perturb(x[0], u3, 0.3); },
                     {at::randn({4, 3}, at::kDouble)});
}

// 9 users x 7 items with every node connected.
std::shared_ptr<const BipartiteGraph> small_graph() {
  Interactions x;
  const int pairs[][2] = {{0, 0}, {0, 1}, {1, 1}, {1, 2}, {2, 2}, {2, 3}, {3, 3},
                          {3, 4}, {4, 4}, {4, 5}, {5, 5}, {5, 6}, {6, 6}, {6, 0},
                          {7, 1}, {7, 3}, {8, 5}, {8, 0}, {0, 4}, {2, 6}};
  for (const auto& p : pairs) x.user.push_back(p[0]), x.item.push_back(p[1]);
  return std::make_shared<const BipartiteGraph>(BipartiteGraph::build(9, 7, x));
}

// D^-1/2 A D^-1/2 of the unified graph, dense float64.
at::Tensor dense_adjacency(const BipartiteGraph& g) {
  const int64_t U = g.num_users(), N = U + g.num_items();
  at::Tensor a = at::zeros({N, N}, at::kDouble);
  for (int64_t u = 0; u < U; ++u) {
    for (int64_t e = g.user_offsets()[u]; e < g.user_offsets()[u + 1]; ++e) {
      a[u][U + g.user_items()[e]] = 1.0;
      a[U + g.user_items()[e]][u] = 1.0;
    }
  }
  const at::Tensor d = a.sum(1).rsqrt();
  return d.unsqueeze(1) * a * d.unsqueeze(0);
}

// The mean of layers 1..L and layer l's output, in float64, drawing the
// noise as the model does (float32 uniforms from the global generator).
std::pair<at::Tensor, at::Tensor> reference_views(const at::Tensor& adj, const at::Tensor& e0,
                                                  int64_t layers, int64_t l, double eps,
                                                  bool noisy) {
  at::Tensor e = e0, sum = at::zeros_like(e0), at_l;
  for (int64_t k = 1; k <= layers; ++k) {
    e = at::matmul(adj, e);
    if (noisy) {
      const at::Tensor u = at::rand(e.sizes(), at::kFloat).to(at::kDouble);
      e = e + at::sign(e) * u / u.norm(2, {1}, true) * eps;
    }
    sum = sum + e;
    if (k == l) at_l = e;
  }
  return {sum / static_cast<double>(layers), at_l};
}

at::Tensor reference_nce(const std::pair<at::Tensor, at::Tensor>& v, const at::Tensor& rows,
                         double tau) {
  const auto cos_rows = [&](const at::Tensor& x) {
    const at::Tensor r = x.index_select(0, rows);
    return r / r.norm(2, {1}, true);
  };
  const at::Tensor logits = at::matmul(cos_rows(v.first), cos_rows(v.second).t()) / tau;
  return -(logits.diagonal() - logits.logsumexp(1)).mean();
}

// One training batch of `model` (xsimgcl or simgcl): BPR on the batch plus
// the model's InfoNCE term, against the reference; values and the
// embedding's gradient.
void check_batch(const std::string& model) {
  const auto g = small_graph();
  const PropagationGraph pg(g);
  ModelOptions o;
  o.dim = 6;
  o.layers = 2;
  auto m = make_model(model, o, pg, at::kCPU);
  const bool cross = model == "xsimgcl";
  const double eps = cross ? 0.2 : 0.1, lambda = cross ? 0.2 : 0.5, tau = cross ? 0.15 : 0.2;
  const at::Tensor users = at::tensor(std::vector<int64_t>{0, 3, 3, 8, 5}, at::kLong);
  const at::Tensor pos = at::tensor(std::vector<int64_t>{1, 4, 3, 5, 5}, at::kLong);
  const at::Tensor neg = at::tensor(std::vector<int64_t>{6, 0, 1, 2, 3}, at::kLong);
  m->set_training(true);
  at::manual_seed(77);
  auto [u, i] = m->represent(users, at::cat({pos, neg}));
  const at::Tensor bpr =
      at::softplus((u * i.narrow(0, 5, 5)).sum(1) - (u * i.narrow(0, 0, 5)).sum(1)).mean();
  const at::Tensor loss = bpr + m->batch_loss_term(users, pos);
  const at::Tensor e = m->parameters()[0].tensor;
  loss.backward();

  const at::Tensor adj = dense_adjacency(*g);
  const at::Tensor e0 = e.detach().to(at::kDouble).requires_grad_(true);
  at::manual_seed(77);
  const auto main = reference_views(adj, e0, 2, 1, eps, cross);
  const auto view1 = cross ? main : reference_views(adj, e0, 2, 1, eps, true);
  const auto view2 = cross ? main : reference_views(adj, e0, 2, 1, eps, true);
  const std::pair<at::Tensor, at::Tensor> views{view1.first, cross ? main.second : view2.first};
  const at::Tensor ru = main.first.index_select(0, users);
  const at::Tensor rp = main.first.index_select(0, pos + 9),
                   rn = main.first.index_select(0, neg + 9);
  const at::Tensor ref_bpr = at::softplus((ru * rn).sum(1) - (ru * rp).sum(1)).mean();
  const at::Tensor uniq_u = at::tensor(std::vector<int64_t>{0, 3, 5, 8}, at::kLong);
  const at::Tensor uniq_i = at::tensor(std::vector<int64_t>{1, 3, 4, 5}, at::kLong) + 9;
  const at::Tensor ref =
      ref_bpr + lambda * (reference_nce(views, uniq_u, tau) + reference_nce(views, uniq_i, tau));
  ref.backward();
  EXPECT_NEAR(loss.item<double>(), ref.item<double>(), 1e-5 * std::abs(ref.item<double>()))
      << model;
  EXPECT_LT(max_abs(e.grad().to(at::kDouble) - e0.grad()), 1e-4 * max_abs(e0.grad())) << model;

  // Evaluation: no noise, the mean of layers 1..L.
  m->set_training(false);
  auto [eu, ei] = m->forward();
  const at::Tensor clean = reference_views(adj, e0.detach(), 2, 1, eps, false).first;
  EXPECT_LT(max_abs(at::cat({eu, ei}).to(at::kDouble) - clean), 1e-6) << model;
}

TEST(SimGcl, XSimGclBatchMatchesTheReference) { check_batch("xsimgcl"); }
TEST(SimGcl, SimGclBatchMatchesTheReference) { check_batch("simgcl"); }

TEST(SimGcl, EmbeddingsAreXavierUniformAndBadOptionsFail) {
  const auto g = small_graph();
  const PropagationGraph pg(g);
  ModelOptions o;
  o.dim = 6;
  o.layers = 2;
  auto m = make_model("xsimgcl", o, pg, at::kCPU);
  const at::Tensor e = m->parameters()[0].tensor;
  EXPECT_LE(max_abs(e.narrow(0, 0, 9)), std::sqrt(6.0 / (6 + 9)));
  EXPECT_LE(max_abs(e.narrow(0, 9, 7)), std::sqrt(6.0 / (6 + 7)));
  o.cl_layer = 3;
  EXPECT_THROW(make_model("xsimgcl", o, pg, at::kCPU), std::invalid_argument);
  o.cl_layer = 1;
  o.layers = 0;
  EXPECT_THROW(make_model("simgcl", o, pg, at::kCPU), std::invalid_argument);
}

}  // namespace
}  // namespace gnnrec
