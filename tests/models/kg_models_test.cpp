// Knowledge-graph objectives and models: TransE / TransR distances against a
// direct float64 computation, their gradients against finite differences,
// the margin loss and corruption; KGCN's ranking scores against its
// training path, its attention against a hand computation, gradients to every
// parameter, and the errors; KGAT's collaborative knowledge graph, its
// attention (π against float64, normalisation, gradcheck), one layer against
// a hand computation, its KG phase and errors; the TransE / TransR models
// (CKE's structural half): item vectors, the KG phase's reach, a small KG
// learnt to the known answer, errors.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include "kernels/ops.h"
#include "models/kg_embedding.h"
#include "models/kgat.h"
#include "models/model.h"
#include "models/propagation_graph.h"
#include "tests/testing/gradcheck.h"

namespace gnnrec {
namespace {

at::Tensor randn64(at::IntArrayRef shape, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn(shape, gen, at::TensorOptions().dtype(at::kDouble));
}

// ‖x‖₂ of each row, one element at a time.
std::vector<double> unit(const at::Tensor& x, int64_t row) {
  const int64_t d = x.size(1);
  double n = 0;
  for (int64_t j = 0; j < d; ++j) n += x[row][j].item<double>() * x[row][j].item<double>();
  n = std::sqrt(n);
  std::vector<double> out(static_cast<size_t>(d));
  for (int64_t j = 0; j < d; ++j) out[static_cast<size_t>(j)] = x[row][j].item<double>() / n;
  return out;
}

TEST(KgEmbedding, TransEMatchesDirectComputation) {
  const at::Tensor h = randn64({5, 4}, 1), r = randn64({5, 4}, 2), t = randn64({5, 4}, 3);
  for (int64_t p : {1, 2}) {
    const at::Tensor d = kg::transe_distance(h, r, t, p);
    ASSERT_EQ(d.scalar_type(), at::kDouble);
    for (int64_t i = 0; i < 5; ++i) {
      const auto hu = unit(h, i), tu = unit(t, i);
      double s = 0;
      for (int64_t j = 0; j < 4; ++j) {
        const double x = hu[static_cast<size_t>(j)] + r[i][j].item<double>() - tu[static_cast<size_t>(j)];
        s += p == 1 ? std::abs(x) : x * x;
      }
      EXPECT_NEAR(d[i].item<double>(), p == 1 ? s : std::sqrt(s), 1e-10) << "p " << p << " row " << i;
    }
  }
  EXPECT_THROW(kg::transe_distance(h, r, t, 3), std::invalid_argument);
}

TEST(KgEmbedding, TransRMatchesDirectComputation) {
  const int64_t n = 4, de = 5, dr = 3;
  const at::Tensor h = randn64({n, de}, 4), t = randn64({n, de}, 5), r = randn64({n, dr}, 6);
  const at::Tensor m = randn64({n, dr, de}, 7);
  const at::Tensor d = kg::transr_distance(h, r, t, m);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> hr(dr), tr(dr);
    double nh = 0, nt = 0;
    for (int64_t a = 0; a < dr; ++a) {
      for (int64_t b = 0; b < de; ++b) {
        hr[a] += m[i][a][b].item<double>() * h[i][b].item<double>();
        tr[a] += m[i][a][b].item<double>() * t[i][b].item<double>();
      }
      nh += hr[a] * hr[a];
      nt += tr[a] * tr[a];
    }
    double s = 0;
    for (int64_t a = 0; a < dr; ++a) {
      const double x = hr[a] / std::sqrt(nh) + r[i][a].item<double>() - tr[a] / std::sqrt(nt);
      s += x * x;
    }
    EXPECT_NEAR(d[i].item<double>(), s, 1e-10) << "row " << i;
  }
}

TEST(KgEmbedding, GradientsMatchFiniteDifferences) {
  testing::gradcheck([](const std::vector<at::Tensor>& x) { return kg::transe_distance(x[0], x[1], x[2], 2); },
                     {randn64({3, 4}, 8), randn64({3, 4}, 9), randn64({3, 4}, 10)});
  testing::gradcheck([](const std::vector<at::Tensor>& x) { return kg::transe_distance(x[0], x[1], x[2], 1); },
                     {randn64({3, 4}, 11), randn64({3, 4}, 12), randn64({3, 4}, 13)});
  testing::gradcheck(
      [](const std::vector<at::Tensor>& x) { return kg::transr_distance(x[0], x[1], x[2], x[3]); },
      {randn64({3, 4}, 14), randn64({3, 2}, 15), randn64({3, 4}, 16), randn64({3, 2, 4}, 17)});
  testing::gradcheck(
      [](const std::vector<at::Tensor>& x) {
        return kg::margin_ranking_loss(kg::transe_distance(x[0], x[1], x[2], 2),
                                       kg::transe_distance(x[3], x[1], x[2], 2), 1.0);
      },
      {randn64({3, 4}, 18), randn64({3, 4}, 19), randn64({3, 4}, 20), randn64({3, 4}, 21)});
}

TEST(KgEmbedding, MarginLossAndCorruption) {
  const at::Tensor pos = at::tensor({0.5, 2.0, 0.0}, at::kDouble);
  const at::Tensor neg = at::tensor({1.0, 1.0, 3.0}, at::kDouble);
  // max(0, 1 + 0.5 - 1) = 0.5, max(0, 1 + 2 - 1) = 2, max(0, 1 - 3) = 0.
  EXPECT_NEAR(kg::margin_ranking_loss(pos, neg, 1.0).item<double>(), 2.5 / 3, 1e-12);
  const at::Tensor h = at::arange(1000, at::kLong), t = at::arange(1000, at::kLong) + 5000;
  auto [h2, t2] = kg::corrupt(h, t, 100, 7);
  const at::Tensor head_changed = h2.ne(h), tail_changed = t2.ne(t);
  // Exactly one side replaced (a head drawn equal to itself counts as kept).
  EXPECT_FALSE((head_changed & tail_changed).any().item<bool>());
  EXPECT_TRUE(tail_changed.all().item<bool>() == false);
  const int64_t tails = tail_changed.sum().item<int64_t>();
  EXPECT_GT(tails, 400);
  EXPECT_LT(tails, 600);
  EXPECT_TRUE(t2.masked_select(tail_changed).lt(100).all().item<bool>());
  auto [h3, t3] = kg::corrupt(h, t, 100, 7);
  EXPECT_TRUE(h3.equal(h2) && t3.equal(t2));  // seeded
}

// --- KGCN ---------------------------------------------------------------------

// 4 users x 3 items; entities: items 0..2, then 3, 4, 5; relations a, b.
struct SmallKg {
  std::shared_ptr<const BipartiteGraph> g;
  std::shared_ptr<const TypedGraph> kg;
};

SmallKg small_kg() {
  Interactions x;
  const int pairs[][2] = {{0, 0}, {0, 1}, {1, 1}, {2, 2}, {3, 0}, {3, 2}};
  for (const auto& p : pairs) {
    x.user.push_back(p[0]);
    x.item.push_back(p[1]);
  }
  TypedGraphBuilder b;
  const int32_t e = b.add_node_type("entity", 6);
  const int32_t a = b.add_relation("a", e, e);
  const int32_t c = b.add_relation("b", e, e);
  b.add_edge(a, 0, 3);
  b.add_edge(c, 0, 4);
  b.add_edge(a, 1, 3);
  b.add_edge(c, 4, 5);  // item 2 has no KG neighbour
  return {std::make_shared<const BipartiteGraph>(BipartiteGraph::build(4, 3, x)),
          std::make_shared<const TypedGraph>(b.build(true))};
}

TEST(Kgcn, RankingScoresEqualTrainingScores) {
  const SmallKg s = small_kg();
  PropagationGraph pg(s.g, s.kg);
  for (const char* agg : {"sum", "concat", "neighbor"}) {
    for (int64_t hops : {1, 2}) {
      SCOPED_TRACE(std::string(agg) + " hops " + std::to_string(hops));
      ModelOptions o;
      o.dim = 6;
      o.layers = hops;
      o.aggregator = agg;
      o.fanouts = {2};
      auto model = make_model("kgcn", o, pg, at::kCPU);
      at::NoGradGuard no_grad;
      auto [S, eye] = model->ranking();
      ASSERT_EQ(S.size(0), 4);
      ASSERT_EQ(S.size(1), 3);
      const at::Tensor full = at::matmul(S, eye.t());
      EXPECT_TRUE(at::isfinite(S).all().item<bool>());
      // Every (user, item) pair through represent + score, in the trainer's
      // layout: positives then one negative per user.
      const at::Tensor users = at::tensor({0, 1, 2, 3}, at::kLong);
      const at::Tensor items = at::tensor({0, 1, 2, 0, 2, 0, 1, 2}, at::kLong);
      auto [u, v] = model->represent(users, items);
      const at::Tensor pos = model->score(u, v.narrow(0, 0, 4));
      const at::Tensor neg = model->score(u, v.narrow(0, 4, 4));
      for (int64_t k = 0; k < 4; ++k) {
        EXPECT_NEAR(pos[k].item<float>(), full[k][items[k].item<int64_t>()].item<float>(), 1e-5);
        EXPECT_NEAR(neg[k].item<float>(), full[k][items[4 + k].item<int64_t>()].item<float>(), 1e-5);
      }
    }
  }
}

TEST(Kgcn, OneHopSumMatchesHandComputation) {
  const SmallKg s = small_kg();
  PropagationGraph pg(s.g, s.kg);
  ModelOptions o;
  o.dim = 4;
  o.layers = 1;
  o.fanouts = {2};  // item 0 has exactly 2 neighbours: both are sampled
  auto model = make_model("kgcn", o, pg, at::kCPU);
  std::map<std::string, at::Tensor> p;
  for (const auto& t : model->parameters()) p[t.name] = t.tensor.detach();
  at::NoGradGuard no_grad;
  auto [S, eye] = model->ranking();
  const at::Tensor U = p["user_embedding"], E = p["entity_embedding"], R = p["relation_embedding"];
  const at::Tensor W = p["aggregator.0.weight"], b = p["aggregator.0.bias"];
  for (int64_t user = 0; user < 4; ++user) {
    // Item 0: neighbours 3 (relation a = 0) and 4 (relation b = 1); the
    // attention weights sum to 1 over them.
    const at::Tensor u = U[user];
    const at::Tensor sc = at::stack({(u * R[0]).mean(), (u * R[1]).mean()});
    const at::Tensor w = at::softmax(sc, 0);
    EXPECT_NEAR(w.sum().item<float>(), 1.0f, 1e-6);
    const at::Tensor agg = w[0] * E[3] + w[1] * E[4];
    const at::Tensor v = at::tanh(at::matmul(W, E[0] + agg) + b);
    EXPECT_NEAR(S[user][0].item<float>(), (u * v).sum().item<float>(), 1e-5);
    // Item 2 has no neighbour: its aggregate is zero.
    const at::Tensor v2 = at::tanh(at::matmul(W, E[2]) + b);
    EXPECT_NEAR(S[user][2].item<float>(), (u * v2).sum().item<float>(), 1e-5);
  }
}

TEST(Kgcn, GradientsReachEveryParameter) {
  const SmallKg s = small_kg();
  PropagationGraph pg(s.g, s.kg);
  ModelOptions o;
  o.dim = 4;
  o.layers = 2;
  o.fanouts = {2};
  auto model = make_model("kgcn", o, pg, at::kCPU);
  model->set_training(true);
  auto [u, v] = model->represent(at::tensor({0, 1, 2, 3}, at::kLong), at::tensor({0, 1, 2, 0}, at::kLong));
  model->score(u, v).sum().backward();
  for (const auto& t : model->parameters()) {
    ASSERT_TRUE(t.tensor.grad().defined()) << t.name;
    EXPECT_GT(t.tensor.grad().abs().sum().item<float>(), 0.0f) << t.name;
  }
}

TEST(Kgcn, Errors) {
  const SmallKg s = small_kg();
  PropagationGraph no_kg(s.g);
  ModelOptions o;
  try {
    make_model("kgcn", o, no_kg, at::kCPU);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("needs a knowledge graph"), std::string::npos) << e.what();
  }
  PropagationGraph pg(s.g, s.kg);
  o.aggregator = "mean";
  EXPECT_THROW(make_model("kgcn", o, pg, at::kCPU), std::invalid_argument);
  o.aggregator = std::nullopt;
  o.fanouts = {4, 4};
  EXPECT_THROW(make_model("kgcn", o, pg, at::kCPU), std::invalid_argument);
}

// --- KGAT ---------------------------------------------------------------------

TEST(Kgat, CollaborativeKnowledgeGraph) {
  const SmallKg s = small_kg();
  const kgat::Ckg c = kgat::build_ckg(*s.g, s.kg.get());
  EXPECT_EQ(c.num_users, 4);
  EXPECT_EQ(c.num_items, 3);
  EXPECT_EQ(c.num_entities, 6);
  EXPECT_EQ(c.num_nodes(), 10);
  EXPECT_EQ(c.num_relations, 6);  // interact, rev_interact, a, b, rev_a, rev_b
  // 6 interactions and 4 KG triples, each with its inverse.
  ASSERT_EQ(c.nnz(), 20);
  std::set<std::tuple<int64_t, int64_t, int64_t>> want;
  const int pairs[][2] = {{0, 0}, {0, 1}, {1, 1}, {2, 2}, {3, 0}, {3, 2}};
  for (const auto& p : pairs) {
    want.insert({p[0], 0, 4 + p[1]});
    want.insert({4 + p[1], 1, p[0]});
  }
  const int kgt[][3] = {{0, 0, 3}, {0, 1, 4}, {1, 0, 3}, {4, 1, 5}};
  for (const auto& t : kgt) {
    want.insert({4 + t[0], 2 + t[1], 4 + t[2]});
    want.insert({4 + t[2], 4 + t[1], 4 + t[0]});
  }
  std::set<std::tuple<int64_t, int64_t, int64_t>> got;
  const at::Tensor rp = c.adj.rowptr;
  for (int64_t k = 0; k < c.nnz(); ++k) {
    const int64_t h = c.head[k].item<int64_t>();
    EXPECT_GE(k, rp[h].item<int64_t>());
    EXPECT_LT(k, rp[h + 1].item<int64_t>());
    EXPECT_EQ(c.adj.col[k].item<int32_t>(), c.tail[k].item<int64_t>());
    got.insert({h, c.relation[k].item<int64_t>(), c.tail[k].item<int64_t>()});
  }
  EXPECT_EQ(got, want);
  // The relation grouping is a permutation of the CSR entries.
  EXPECT_TRUE(c.by_relation.index_select(0, c.from_relation).equal(at::arange(20, at::kLong)));
  EXPECT_TRUE(c.relation.index_select(0, c.by_relation).diff().ge(0).all().item<bool>());
}

TEST(Kgat, AttentionMatchesDirectFloat64AndSumsToOne) {
  const SmallKg s = small_kg();
  const kgat::Ckg c = kgat::build_ckg(*s.g, s.kg.get());
  const int64_t d = 3, k = 2;
  const at::Tensor e = randn64({10, d}, 30), r = randn64({6, k}, 31), w = randn64({6, k, d}, 32);
  const at::Tensor pi = kgat::attention_logits(c, e, r, w);
  ASSERT_EQ(pi.scalar_type(), at::kDouble);
  std::vector<double> direct(20);
  for (int64_t j = 0; j < 20; ++j) {
    const int64_t h = c.head[j].item<int64_t>(), rel = c.relation[j].item<int64_t>(),
                  t = c.tail[j].item<int64_t>();
    double sum = 0;
    for (int64_t a = 0; a < k; ++a) {
      double wh = 0, wt = 0;
      for (int64_t b = 0; b < d; ++b) {
        wh += w[rel][a][b].item<double>() * e[h][b].item<double>();
        wt += w[rel][a][b].item<double>() * e[t][b].item<double>();
      }
      sum += wt * std::tanh(wh + r[rel][a].item<double>());
    }
    direct[static_cast<size_t>(j)] = sum;
    EXPECT_NEAR(pi[j].item<double>(), sum, 1e-12) << "triple " << j;
  }
  // Normalised over each head's triples: a softmax of the direct scores.
  const at::Tensor att = kgat::attention(c, e, r, w);
  for (int64_t h = 0; h < 10; ++h) {
    const int64_t b = c.adj.rowptr[h].item<int64_t>(), end = c.adj.rowptr[h + 1].item<int64_t>();
    ASSERT_LT(b, end) << "node " << h << " has a triple";
    double z = 0, total = 0;
    for (int64_t j = b; j < end; ++j) z += std::exp(direct[static_cast<size_t>(j)]);
    for (int64_t j = b; j < end; ++j) {
      EXPECT_NEAR(att[j].item<double>(), std::exp(direct[static_cast<size_t>(j)]) / z, 1e-12);
      total += att[j].item<double>();
    }
    EXPECT_NEAR(total, 1.0, 1e-12) << "head " << h;
  }
}

TEST(Kgat, AttentionPathGradientsMatchFiniteDifferences) {
  const SmallKg s = small_kg();
  const kgat::Ckg c = kgat::build_ckg(*s.g, s.kg.get());
  // The attention alone, then the attentive propagation A e it weights.
  testing::gradcheck([&](const std::vector<at::Tensor>& x) { return kgat::attention(c, x[0], x[1], x[2]); },
                     {randn64({10, 3}, 33), randn64({6, 2}, 34), randn64({6, 2, 3}, 35)});
  testing::gradcheck(
      [&](const std::vector<at::Tensor>& x) {
        SparseAdjacency a = c.adj;
        a.value = kgat::attention(c, x[0], x[1], x[2]);
        return a.matmul(x[0]);
      },
      {randn64({10, 3}, 36), randn64({6, 2}, 37), randn64({6, 2, 3}, 38)});
}

TEST(Kgat, OneLayerMatchesHandComputation) {
  const SmallKg s = small_kg();
  PropagationGraph pg(s.g, s.kg);
  ModelOptions o;
  o.dim = 4;
  o.layers = 1;
  auto model = make_model("kgat", o, pg, at::kCPU);
  model->set_training(false);
  std::map<std::string, at::Tensor> p;
  for (const auto& t : model->parameters()) p[t.name] = t.tensor.detach().to(at::kDouble);
  at::NoGradGuard no_grad;
  auto [U, I] = model->forward();
  ASSERT_EQ(U.size(0), 4);
  ASSERT_EQ(I.size(0), 3);
  ASSERT_EQ(U.size(1), 8);  // e0 (4) ; e1 (4)
  const kgat::Ckg c = kgat::build_ckg(*s.g, s.kg.get());
  const at::Tensor E = p["embedding"];
  const at::Tensor att = kgat::attention(c, E, p["relation_embedding"], p["relation_projection"]);
  auto leaky = [](const at::Tensor& x) { return at::where(x > 0, x, 0.2 * x); };
  for (int64_t node : {0, 3, 4, 6}) {  // users 0, 3; items 0, 2
    at::Tensor en = at::zeros({4}, at::kDouble);
    for (int64_t j = c.adj.rowptr[node].item<int64_t>(); j < c.adj.rowptr[node + 1].item<int64_t>(); ++j) {
      en = en + att[j] * E[c.tail[j].item<int64_t>()];
    }
    const at::Tensor e = E[node];
    const at::Tensor e1 =
        leaky(at::matmul(p["layer0.w1.weight"], e + en) + p["layer0.w1.bias"]) +
        leaky(at::matmul(p["layer0.w2.weight"], e * en) + p["layer0.w2.bias"]);
    const at::Tensor want = at::cat({e, e1 / e1.norm()});
    const at::Tensor got = node < 4 ? U[node] : I[node - 4];
    EXPECT_TRUE(at::allclose(got.to(at::kDouble), want, 1e-4, 1e-5)) << "node " << node;
  }
}

TEST(Kgat, LayerWidthsRankingAndGradients) {
  const SmallKg s = small_kg();
  PropagationGraph pg(s.g, s.kg);
  ModelOptions o;
  o.dim = 8;
  o.layers = 3;
  auto model = make_model("kgat", o, pg, at::kCPU);
  {
    at::NoGradGuard no_grad;
    model->set_training(false);
    auto [U, I] = model->forward();
    EXPECT_EQ(U.size(1), 8 + 8 + 4 + 2);  // 64-d embedding, 64-32-16 layers, scaled
    auto [P, Q] = model->ranking();
    EXPECT_TRUE(P.equal(U) && Q.equal(I));
    EXPECT_TRUE(at::isfinite(U).all().item<bool>());
  }
  model->set_training(true);
  auto [u, v] = model->represent(at::tensor({0, 1, 2, 3}, at::kLong), at::tensor({0, 1, 2, 0}, at::kLong));
  model->score(u, v).sum().backward();
  std::map<std::string, at::Tensor> params;
  for (const auto& t : model->parameters()) {
    params[t.name] = t.tensor;
    // The recommendation loss reaches everything but the attention's
    // parameters (the attention is a constant within an epoch).
    const bool attention_only = t.name == "relation_embedding" || t.name == "relation_projection";
    EXPECT_EQ(t.tensor.grad().defined(), !attention_only) << t.name;
    if (t.tensor.grad().defined()) {
      EXPECT_GT(t.tensor.grad().abs().sum().item<float>(), 0.0f) << t.name;
      t.tensor.mutable_grad() = at::Tensor();
    }
  }
  // The KG phase: one batch of at most 7 of the 20 triples per step, seeded,
  // reaching the embeddings and both relation tables.
  std::vector<double> losses;
  model->extra_epoch_phase(5, 7, [&](const at::Tensor& loss) {
    EXPECT_EQ(loss.dim(), 0);
    losses.push_back(loss.item<double>());
    loss.backward();
  });
  ASSERT_EQ(losses.size(), 3u);
  for (const char* name : {"embedding", "relation_embedding", "relation_projection"}) {
    ASSERT_TRUE(params[name].grad().defined()) << name;
    EXPECT_GT(params[name].grad().abs().sum().item<float>(), 0.0f) << name;
  }
  // One batch of every triple: the loss against kg::transr_distance, with
  // the phase's draws (a permutation, then one uniform node per triple).
  {
    const kgat::Ckg c = kgat::build_ckg(*s.g, s.kg.get());
    std::vector<double> one;
    model->extra_epoch_phase(9, 100, [&](const at::Tensor& loss) { one.push_back(loss.item<double>()); });
    ASSERT_EQ(one.size(), 1u);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(9);
    const at::Tensor perm = at::randperm(20, gen, at::TensorOptions().dtype(at::kLong));
    const at::Tensor neg = at::randint(10, {20}, gen, at::TensorOptions().dtype(at::kLong));
    at::NoGradGuard no_grad;
    const at::Tensor E = params["embedding"].to(at::kDouble), R = params["relation_embedding"].to(at::kDouble);
    const at::Tensor W = params["relation_projection"].to(at::kDouble);
    const at::Tensor rel = c.relation.index_select(0, perm);
    const at::Tensor h = E.index_select(0, c.head.index_select(0, perm));
    const at::Tensor t = E.index_select(0, c.tail.index_select(0, perm));
    const at::Tensor tn = E.index_select(0, neg), r = R.index_select(0, rel), m = W.index_select(0, rel);
    const at::Tensor want =
        at::softplus(kg::transr_distance(h, r, t, m) - kg::transr_distance(h, r, tn, m)).mean() +
        1e-5 * 0.5 / 20 * (h.pow(2).sum() + r.pow(2).sum() + t.pow(2).sum() + tn.pow(2).sum());
    EXPECT_NEAR(one[0], want.item<double>(), 1e-5);
  }
  std::vector<double> again;
  model->extra_epoch_phase(5, 7, [&](const at::Tensor& loss) { again.push_back(loss.item<double>()); });
  EXPECT_EQ(again, losses);
  // The attention follows the parameters at set_training(), not before.
  at::NoGradGuard no_grad;
  model->set_training(false);
  const at::Tensor before = model->forward().first.clone();
  params["relation_embedding"].add_(1.0);
  EXPECT_TRUE(model->forward().first.equal(before));
  model->set_training(false);
  EXPECT_FALSE(model->forward().first.equal(before));
}

TEST(Kgat, Errors) {
  const SmallKg s = small_kg();
  PropagationGraph no_kg(s.g);
  ModelOptions o;
  try {
    make_model("kgat", o, no_kg, at::kCPU);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--model kgat needs a knowledge graph"), std::string::npos)
        << e.what();
  }
  PropagationGraph pg(s.g, s.kg);
  o.message_dropout = 1.0;
  EXPECT_THROW(make_model("kgat", o, pg, at::kCPU), std::invalid_argument);
  // A KG with fewer entities than items.
  TypedGraphBuilder b;
  b.add_node_type("entity", 2);
  const TypedGraph small = b.build(true);
  EXPECT_THROW(kgat::build_ckg(*s.g, &small), std::invalid_argument);
  const kgat::Ckg c = kgat::build_ckg(*s.g, s.kg.get());
  EXPECT_THROW(kgat::attention_logits(c, randn64({9, 3}, 1), randn64({6, 2}, 2), randn64({6, 2, 3}, 3)),
               c10::Error);
}

// --- TransE / TransR models (models/cke.cpp) -------------------------------------

std::map<std::string, at::Tensor> named(Model& m) {
  std::map<std::string, at::Tensor> out;
  for (auto& p : m.parameters()) out[p.name] = p.tensor;
  return out;
}

TEST(Cke, ItemVectorIsItemPlusEntityEmbedding) {
  const SmallKg s = small_kg();
  PropagationGraph pg(s.g, s.kg);
  for (const char* name : {"transe", "transr"}) {
    SCOPED_TRACE(name);
    ModelOptions o;
    o.dim = 5;
    auto model = make_model(name, o, pg, at::kCPU);
    auto p = named(*model);
    ASSERT_EQ(p.count("relation_projection"), std::string(name) == "transr" ? 1u : 0u);
    ASSERT_EQ(p["entity_embedding"].size(0), 6);
    ASSERT_EQ(p["relation_embedding"].size(0), 2);  // a, b; inverses unused
    at::NoGradGuard no_grad;
    auto [U, V] = model->ranking();
    EXPECT_TRUE(U.equal(p["user_embedding"]));
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t j = 0; j < 5; ++j) {
        EXPECT_FLOAT_EQ(V[i][j].item<float>(), p["item_embedding"][i][j].item<float>() +
                                                   p["entity_embedding"][i][j].item<float>());
      }
    }
    const at::Tensor users = at::tensor({3, 0}, at::kLong), items = at::tensor({2, 1}, at::kLong);
    auto [u, v] = model->represent(users, items);
    EXPECT_TRUE(at::allclose(u, U.index_select(0, users)));
    EXPECT_TRUE(at::allclose(v, V.index_select(0, items)));
    // The L2 term sees both halves of an item's vector.
    auto [eu, ei] = model->ego(users, items);
    EXPECT_EQ(ei.size(1), 10);
  }
}

TEST(Cke, KgPhaseTrainsOnlyKgParametersAndLearnsTheKnownTails) {
  const SmallKg s = small_kg();
  PropagationGraph pg(s.g, s.kg);
  for (const char* name : {"transe", "transr"}) {
    SCOPED_TRACE(name);
    ModelOptions o;
    o.dim = 8;
    auto model = make_model(name, o, pg, at::kCPU);
    auto p = named(*model);
    const at::Tensor users0 = p["user_embedding"].detach().clone();
    const at::Tensor items0 = p["item_embedding"].detach().clone();
    int64_t steps = 0;
    double first = -1, last = -1;
    for (uint64_t epoch = 0; epoch < 400; ++epoch) {
      model->extra_epoch_phase(epoch, 2, [&](const at::Tensor& loss) {
        ASSERT_EQ(loss.dim(), 0);
        for (auto& [n, t] : p) t.mutable_grad() = at::Tensor();
        loss.backward();
        at::NoGradGuard no_grad;
        EXPECT_FALSE(p["user_embedding"].grad().defined());
        EXPECT_FALSE(p["item_embedding"].grad().defined());
        for (auto& [n, t] : p) {
          if (t.grad().defined()) t.sub_(t.grad() * 0.2);
        }
        if (first < 0) first = loss.item<double>();
        last = loss.item<double>();
        ++steps;
      });
    }
    EXPECT_EQ(steps, 400 * 2);  // 4 forward triples in batches of 2
    EXPECT_TRUE(p["user_embedding"].equal(users0));
    EXPECT_TRUE(p["item_embedding"].equal(items0));
    EXPECT_GT(first, 0.0);
    // Tail prediction, computed here in float64 from the learnt tables: for
    // each true triple, the true tail is the nearest of the 6 entities.
    const at::Tensor e = p["entity_embedding"].detach().to(at::kDouble);
    const at::Tensor r = p["relation_embedding"].detach().to(at::kDouble);
    const bool transr = std::string(name) == "transr";
    const int triples[][3] = {{0, 0, 3}, {1, 0, 3}, {0, 1, 4}, {4, 1, 5}};
    int first_place = 0;
    for (const auto& tr : triples) {
      const int64_t d = e.size(1);
      auto project = [&](int64_t ent) {
        std::vector<double> x(static_cast<size_t>(d));
        for (int64_t j = 0; j < d; ++j) {
          double v = 0;
          if (transr) {
            const at::Tensor m = p["relation_projection"].detach().to(at::kDouble)[tr[1]];
            for (int64_t k = 0; k < d; ++k) v += m[j][k].item<double>() * e[ent][k].item<double>();
          } else {
            v = e[ent][j].item<double>();
          }
          x[static_cast<size_t>(j)] = v;
        }
        double n = 0;
        for (double v : x) n += v * v;
        for (double& v : x) v /= std::sqrt(n);
        return x;
      };
      const std::vector<double> h = project(tr[0]);
      std::vector<std::pair<double, int64_t>> by_distance;
      for (int64_t t = 0; t < 6; ++t) {
        if (t == tr[0]) continue;
        const std::vector<double> tt = project(t);
        double dist = 0;
        for (int64_t j = 0; j < d; ++j) {
          const double v =
              h[static_cast<size_t>(j)] + r[tr[1]][j].item<double>() - tt[static_cast<size_t>(j)];
          dist += v * v;
        }
        by_distance.emplace_back(dist, t);
      }
      std::sort(by_distance.begin(), by_distance.end());
      const int64_t rank = std::find_if(by_distance.begin(), by_distance.end(),
                                        [&](const auto& x) { return x.second == tr[2]; }) -
                           by_distance.begin() + 1;
      EXPECT_LE(rank, 2) << "triple " << tr[0] << " " << tr[1] << " " << tr[2];
      if (rank == 1) ++first_place;
    }
    // The chain 0 -b-> 4 -b-> 5 asks for x0 + b = x4 and x4 + b = x5 with
    // unit x: three collinear points on a sphere, which cannot be. TransE
    // gets every tail first; TransR's projection may leave (0, b, 4) second
    // behind 5.
    EXPECT_GE(first_place, transr ? 3 : 4);
    EXPECT_LT(last, first);
  }
}

TEST(Cke, Errors) {
  const SmallKg s = small_kg();
  PropagationGraph no_kg(s.g);
  ModelOptions o;
  try {
    make_model("transr", o, no_kg, at::kCPU);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--model transr needs a knowledge graph"),
              std::string::npos)
        << e.what();
  }
  TypedGraphBuilder b;
  b.add_node_type("entity", 2);
  PropagationGraph few(s.g, std::make_shared<const TypedGraph>(b.build(true)));
  EXPECT_THROW(make_model("transe", o, few, at::kCPU), std::invalid_argument);
}

}  // namespace
}  // namespace gnnrec
