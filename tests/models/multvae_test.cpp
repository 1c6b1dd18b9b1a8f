// Mult-VAE and Mult-DAE (models/multvae.h, models/multvae.cpp) against
// float64 references written out here: the multinomial log-likelihood and
// the Gaussian KL as sums over the entries (and their gradients by finite
// differences), the annealing schedule by hand, and the models' batch loss
// (the reparameterisation's ε drawn from the seeded global generator) and
// score rows against the network evaluated densely in float64 from the
// models' parameters; the update counter lives in parameters().
#include <cmath>
#include <memory>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "base/random.h"
#include "models/model.h"
#include "models/multvae.h"
#include "tests/testing/gradcheck.h"

namespace gnnrec {
namespace {

TEST(MultVae, LossPiecesAreTheirSumsAndGradcheck) {
  const at::Tensor logits = at::randn({3, 5}, at::kDouble);
  const at::Tensor x = (at::rand({3, 5}, at::kDouble) < 0.5).to(at::kDouble);
  const at::Tensor mu = at::randn({3, 4}, at::kDouble), logvar = at::randn({3, 4}, at::kDouble);
  const at::Tensor nll = multinomial_nll(logits, x), kl = gaussian_kl(mu, logvar);
  for (int64_t b = 0; b < 3; ++b) {
    double norm = 0;
    for (int64_t i = 0; i < 5; ++i) norm += std::exp(logits[b][i].item<double>());
    double expected = 0;
    for (int64_t i = 0; i < 5; ++i) {
      expected -= x[b][i].item<double>() * (logits[b][i].item<double>() - std::log(norm));
    }
    EXPECT_NEAR(nll[b].item<double>(), expected, 1e-12);
    // KL(N(m, s²) ‖ N(0, 1)) = log(1/s) + (s² + m²)/2 − 1/2 per coordinate.
    double kl_expected = 0;
    for (int64_t l = 0; l < 4; ++l) {
      const double m = mu[b][l].item<double>(), s2 = std::exp(logvar[b][l].item<double>());
      kl_expected += -0.5 * std::log(s2) + (s2 + m * m) / 2 - 0.5;
    }
    EXPECT_NEAR(kl[b].item<double>(), kl_expected, 1e-12);
  }
  testing::gradcheck([&](const std::vector<at::Tensor>& v) { return multinomial_nll(v[0], x); },
                     {logits});
  testing::gradcheck([](const std::vector<at::Tensor>& v) { return gaussian_kl(v[0], v[1]); },
                     {mu, logvar});
  EXPECT_DOUBLE_EQ(kl_anneal(0, 200000, 0.2), 0.0);
  EXPECT_DOUBLE_EQ(kl_anneal(20000, 200000, 0.2), 0.1);
  EXPECT_DOUBLE_EQ(kl_anneal(50000, 200000, 0.2), 0.2);
  EXPECT_DOUBLE_EQ(kl_anneal(3, 0, 0.2), 0.2);
}

std::shared_ptr<const BipartiteGraph> random_graph(uint64_t seed) {
  SplitMix64 rng(seed);
  Interactions x;
  for (int32_t u = 0; u < 7; ++u) {
    for (int32_t i = 0; i < 9; ++i) {
      if (rng.uniform() < 0.3 || u == i) x.user.push_back(u), x.item.push_back(i);
    }
  }
  return std::make_shared<const BipartiteGraph>(BipartiteGraph::build(7, 9, x));
}

at::Tensor dense_rows(const BipartiteGraph& g, const std::vector<int64_t>& users) {
  at::Tensor r = at::zeros({static_cast<int64_t>(users.size()), g.num_items()}, at::kDouble);
  for (size_t j = 0; j < users.size(); ++j) {
    for (int64_t e = g.user_offsets()[users[j]]; e < g.user_offsets()[users[j] + 1]; ++e) {
      r[static_cast<int64_t>(j)][g.user_items()[e]] = 1.0;
    }
  }
  return r;
}

// The network in float64 from the parameters p (w1 b1 w2 b2 d1 c1 d2 c2):
// (logits, kl per row) of rows x, with ε (VAE, training) or z = mu.
std::pair<at::Tensor, at::Tensor> reference(const std::vector<at::Tensor>& p, const at::Tensor& x,
                                            bool variational, int64_t latent,
                                            const at::Tensor& eps) {
  const at::Tensor h = at::tanh(at::matmul(x / x.norm(2, {1}, true), p[0]) + p[1]);
  const at::Tensor out = at::matmul(h, p[2]) + p[3];
  at::Tensor z = at::tanh(out), kl = at::zeros({x.size(0)}, at::kDouble);
  if (variational) {
    const at::Tensor mu = out.narrow(1, 0, latent), logvar = out.narrow(1, latent, latent);
    z = eps.defined() ? mu + eps * (logvar / 2).exp() : mu;
    kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum(1);
  }
  return {at::matmul(at::tanh(at::matmul(z, p[4]) + p[5]), p[6]) + p[7], kl};
}

TEST(MultVae, BatchLossAndScoresMatchTheDenseNetwork) {
  const auto g = random_graph(3);
  const PropagationGraph pg(g);
  for (const bool variational : {true, false}) {
    ModelOptions o;
    o.dropout = 0.0;  // the reference has no dropout mask to replay
    o.vae_hidden = 5;
    o.vae_latent = 3;
    o.anneal_cap = 0.6;
    o.anneal_steps = 4;
    auto m = make_model(variational ? "multvae" : "multdae", o, pg, at::kCPU);
    ASSERT_TRUE(m->has_own_loss() && m->ranks_rows());
    std::vector<at::Tensor> p;
    {
      at::NoGradGuard no_grad;
      for (auto& t : m->parameters()) {
        if (!t.tensor.requires_grad()) continue;
        t.tensor.normal_(0, 0.7);  // biases too, so that every term counts
        p.push_back(t.tensor.detach().to(at::kDouble));
      }
    }
    ASSERT_EQ(p.size(), 8u);
    // Pairs of users 4, 1, 4, 6: the distinct users 1, 4, 6 with whole rows.
    const at::Tensor users = at::tensor(std::vector<int64_t>{4, 1, 4, 6}, at::kLong);
    const at::Tensor pos = at::tensor(std::vector<int64_t>{0, 1, 2, 6}, at::kLong);
    const at::Tensor x = dense_rows(*g, {1, 4, 6});
    m->set_training(true);
    for (int step = 1; step <= 3; ++step) {
      at::manual_seed(11 + step);
      const double loss = m->own_loss(users, pos).item<double>();
      at::manual_seed(11 + step);
      const at::Tensor eps =
          variational ? at::randn({3, 3}, at::kFloat).to(at::kDouble) : at::Tensor();
      const auto [logits, kl] = reference(p, x, variational, 3, eps);
      const double beta = variational ? std::min(0.6, step / 4.0) : 0.0;
      const double expected =
          (-(at::log_softmax(logits, 1) * x).sum(1) + kl * beta).mean().item<double>();
      EXPECT_NEAR(loss, expected, 1e-5 * std::abs(expected)) << variational << " " << step;
    }
    if (variational) {
      EXPECT_EQ(m->parameters().back().tensor.item<int64_t>(), 3);
    }
    m->set_training(false);
    const std::vector<int64_t> ranked{6, 0, 3};
    const at::Tensor rows = m->ranking_rows(at::tensor(ranked, at::kLong));
    const at::Tensor expected = reference(p, dense_rows(*g, ranked), variational, 3, {}).first;
    EXPECT_LT((rows.to(at::kDouble) - expected).abs().max().item<double>(), 1e-5);
  }
}

}  // namespace
}  // namespace gnnrec
