// The neural recommenders of issue 24 against float64 references written
// out per pair here, each score from its paper's formula with per-pair
// matrix-vector products: NCF's GMF, MLP and NeuMF (models/ncf.h), DMF
// (models/dmf.cpp, its first layers from the dense interaction matrix), FM
// (the pairwise sum over fields, not the model's square-of-sums identity),
// FFM (the field-aware pairwise sum, not its user-item factors),
// Wide & Deep and DCN (models/deep_ctr.cpp), and Two-Tower's in-batch
// softmax with the log-Q correction: the scores of pairs and of whole rows
// (ranking_rows, also when split into blocks, or the factors of ranking()),
// the trainer's BCE loss with negatives (Two-Tower's own loss) and the
// gradient of every parameter, NeuMF's pre-training, and the one-line error
// of a feature model on data without features.
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include "base/random.h"
#include "graph/typed_graph.h"
#include "models/model.h"
#include "models/ncf.h"
#include "train/loss.h"

namespace gnnrec {
namespace {

std::shared_ptr<const BipartiteGraph> random_graph(int32_t users, int32_t items, uint64_t seed) {
  SplitMix64 rng(seed);
  Interactions x;
  for (int32_t u = 0; u < users; ++u) {
    for (int32_t i = 0; i + 1 < items; ++i) {  // the last item: no interactions
      if (rng.uniform() < 0.3 || u % (items - 1) == i) x.user.push_back(u), x.item.push_back(i);
    }
  }
  return std::make_shared<const BipartiteGraph>(BipartiteGraph::build(users, items, x));
}

// The model's parameters as float64 leaves that require grad, by name.
std::map<std::string, at::Tensor> double_leaves(Model& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : m.parameters()) {
    out[p.name] = p.tensor.detach().to(at::kDouble).clone().requires_grad_(true);
  }
  return out;
}

// relu(W x + b) per layer of the tower PREFIX.K.
at::Tensor tower_ref(const std::map<std::string, at::Tensor>& p, const std::string& prefix,
                     at::Tensor x, bool relu_last = true) {
  for (int k = 0; p.count(prefix + "." + std::to_string(k) + ".weight"); ++k) {
    const std::string l = prefix + "." + std::to_string(k);
    x = at::mv(p.at(l + ".weight"), x) + p.at(l + ".bias");
    if (relu_last || p.count(prefix + "." + std::to_string(k + 1) + ".weight")) x = at::relu(x);
  }
  return x;
}

// NCF's score of (u, i): hᵀ [p ⊙ q; tower([p'; q'])] + b, the parts present.
at::Tensor ncf_ref(const std::map<std::string, at::Tensor>& p, int64_t u, int64_t i) {
  std::vector<at::Tensor> h;
  if (p.count("gmf.user_embedding")) {
    h.push_back(p.at("gmf.user_embedding")[u] * p.at("gmf.item_embedding")[i]);
  }
  if (p.count("mlp.user_embedding")) {
    h.push_back(tower_ref(p, "mlp.tower",
                          at::cat({p.at("mlp.user_embedding")[u], p.at("mlp.item_embedding")[i]})));
  }
  return at::dot(p.at("output.weight")[0], at::cat(h)) + p.at("output.bias")[0];
}

ModelOptions ncf_options() {
  ModelOptions o;
  o.dim = 4;
  o.hidden = {6, 3};
  o.dropout = 0.0;
  return o;
}

// Larger parameters than the N(0, 0.01²) start, so that every term counts.
void spread(Model& m, uint64_t seed) {
  at::NoGradGuard no_grad;
  at::manual_seed(seed);
  for (auto& p : m.parameters()) p.tensor.normal_(0, 0.7);
}

TEST(Ncf, PairAndRowScoresAreTheFormula) {
  const auto g = random_graph(9, 7, 1);
  const PropagationGraph pg(g);
  for (const std::string name : {"gmf", "mlp", "neumf"}) {
    auto m = make_model(name, ncf_options(), pg, at::kCPU);
    spread(*m, 2);
    m->set_training(false);
    ASSERT_TRUE(m->ranks_rows());
    const auto p = double_leaves(*m);
    at::NoGradGuard no_grad;
    const at::Tensor rows = m->ranking_rows(at::arange(9, at::kLong));
    ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{9, 7}));
    for (int64_t u = 0; u < 9; ++u) {
      for (int64_t i = 0; i < 7; ++i) {
        const double want = ncf_ref(p, u, i).item<double>();
        EXPECT_NEAR(rows[u][i].item<double>(), want, 1e-5) << name << " " << u << " " << i;
        auto [eu, ei] = m->represent(at::tensor({u}, at::kLong), at::tensor({i}, at::kLong));
        EXPECT_NEAR(m->score(eu, ei).item<double>(), want, 1e-5) << name;
      }
    }
  }
}

TEST(Ncf, RowsSplitIntoBlocksAreThePairScores) {
  // 2000 items x 4096 first-layer units: two users per block of 2^24.
  const auto g = random_graph(5, 2000, 3);
  const PropagationGraph pg(g);
  ModelOptions o = ncf_options();
  o.hidden = {4096, 2};
  auto m = make_model("mlp", o, pg, at::kCPU);
  m->set_training(false);
  at::NoGradGuard no_grad;
  const at::Tensor rows = m->ranking_rows(at::arange(5, at::kLong));
  const at::Tensor users = at::arange(5, at::kLong).repeat_interleave(2000);
  const at::Tensor items = at::arange(2000, at::kLong).repeat({5});
  auto [eu, ei] = m->represent(users, items);
  EXPECT_TRUE(at::allclose(rows.reshape({-1}), m->score(eu, ei), 1e-5, 1e-6));
}

// The trainer's BCE with 2 negatives per pair, against the per-pair float64
// log loss, and the gradient of every parameter.
void expect_bce_and_gradients(
    Model& m,
    const std::function<at::Tensor(const std::map<std::string, at::Tensor>&, int64_t, int64_t)>&
        ref) {
  TrainConfig cfg;
  cfg.loss = Loss::kBce;
  cfg.negatives = 2;
  cfg.reg = 0;
  Batch b;
  b.users = at::tensor(std::vector<int64_t>{0, 3, 3, 5}, at::kLong);
  b.positives = at::tensor(std::vector<int64_t>{1, 0, 4, 2}, at::kLong);
  b.negatives = at::tensor(std::vector<int64_t>{4, 3, 2, 4, 1, 3, 0, 0}, at::kLong).reshape({4, 2});
  m.set_training(true);
  const std::vector<NamedTensor> params = m.parameters();
  for (const auto& p : params) p.tensor.mutable_grad() = at::Tensor();
  const at::Tensor loss = Objective(cfg, m)(m, params, b);
  loss.backward();
  const auto p = double_leaves(m);
  at::Tensor want = at::zeros({}, at::kDouble);
  for (int64_t k = 0; k < 4; ++k) {
    const int64_t u = b.users[k].item<int64_t>();
    want = want - at::log_sigmoid(ref(p, u, b.positives[k].item<int64_t>()));
    for (int64_t j = 0; j < 2; ++j) {
      want = want - at::log_sigmoid(-ref(p, u, b.negatives[k][j].item<int64_t>()));
    }
  }
  want = want / 12.0;
  want.backward();
  EXPECT_NEAR(loss.item<double>(), want.item<double>(), 1e-5) << m.name();
  for (const auto& q : params) {
    ASSERT_TRUE(q.tensor.grad().defined()) << m.name() << " " << q.name;
    EXPECT_TRUE(at::allclose(q.tensor.grad().to(at::kDouble), p.at(q.name).grad(), 1e-4, 1e-6))
        << m.name() << " " << q.name;
  }
}

TEST(Ncf, BceLossAndGradientsAreTheFloat64Reference) {
  const auto g = random_graph(9, 7, 4);
  const PropagationGraph pg(g);
  for (const std::string name : {"gmf", "mlp", "neumf"}) {
    auto m = make_model(name, ncf_options(), pg, at::kCPU);
    spread(*m, 5);
    expect_bce_and_gradients(*m, ncf_ref);
  }
}

TEST(Ncf, DropoutIsOnlyInTraining) {
  const auto g = random_graph(9, 7, 6);
  const PropagationGraph pg(g);
  ModelOptions o = ncf_options();
  o.dropout = 0.5;
  auto m = make_model("mlp", o, pg, at::kCPU);
  spread(*m, 7);
  auto [eu, ei] = m->represent(at::arange(9, at::kLong), at::full({9}, 2, at::kLong));
  m->set_training(false);
  const at::Tensor eval_a = m->score(eu, ei), eval_b = m->score(eu, ei);
  EXPECT_TRUE(at::equal(eval_a, eval_b));
  m->set_training(true);
  EXPECT_FALSE(at::allclose(m->score(eu, ei), eval_a));
}

TEST(Ncf, NeuMfLoadsItsPretrainedHalves) {
  const auto g = random_graph(9, 7, 8);
  const PropagationGraph pg(g);
  auto gmf = make_model("gmf", ncf_options(), pg, at::kCPU);
  auto mlp = make_model("mlp", ncf_options(), pg, at::kCPU);
  auto neumf = make_model("neumf", ncf_options(), pg, at::kCPU);
  spread(*gmf, 9);
  spread(*mlp, 10);
  ncf::load_pretrained(*neumf, gmf->parameters(), mlp->parameters());
  std::map<std::string, at::Tensor> n, a, b;
  for (const auto& p : neumf->parameters()) n[p.name] = p.tensor;
  for (const auto& p : gmf->parameters()) a[p.name] = p.tensor;
  for (const auto& p : mlp->parameters()) b[p.name] = p.tensor;
  EXPECT_TRUE(at::equal(n["gmf.user_embedding"], a["gmf.user_embedding"]));
  EXPECT_TRUE(at::equal(n["mlp.item_embedding"], b["mlp.item_embedding"]));
  EXPECT_TRUE(at::equal(n["mlp.tower.1.weight"], b["mlp.tower.1.weight"]));
  // h = [0.5 h_GMF; 0.5 h_MLP], b = 0.5 (b_GMF + b_MLP), element by element.
  for (int64_t k = 0; k < 4; ++k) {
    EXPECT_FLOAT_EQ(n["output.weight"][0][k].item<float>(),
                    0.5f * a["output.weight"][0][k].item<float>());
  }
  for (int64_t k = 0; k < 3; ++k) {
    EXPECT_FLOAT_EQ(n["output.weight"][0][4 + k].item<float>(),
                    0.5f * b["output.weight"][0][k].item<float>());
  }
  EXPECT_FLOAT_EQ(n["output.bias"][0].item<float>(),
                  0.5f * (a["output.bias"][0].item<float>() + b["output.bias"][0].item<float>()));
  // Halves of another width, or swapped runs: one error naming the tensor.
  ModelOptions wide = ncf_options();
  wide.dim = 5;
  auto other = make_model("gmf", wide, pg, at::kCPU);
  try {
    ncf::load_pretrained(*neumf, other->parameters(), mlp->parameters());
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("gmf.user_embedding is [9, 5]"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ncf::load_pretrained(*neumf, mlp->parameters(), gmf->parameters()),
               std::invalid_argument);
}

// DMF's score of (u, i) from the dense 0/1 matrix Y: logit(clamp(cos(p, q))).
at::Tensor dmf_ref(const std::map<std::string, at::Tensor>& p, const at::Tensor& y, int64_t u,
                   int64_t i) {
  const at::Tensor pu = tower_ref(p, "user_tower", at::mv(p.at("user_linear.weight"), y[u]));
  const at::Tensor qi = tower_ref(p, "item_tower", at::mv(p.at("item_linear.weight"), y.t()[i]));
  const at::Tensor c = (at::dot(pu, qi) / (pu.norm() * qi.norm())).clamp(1e-6, 1 - 1e-6);
  return at::log(c / (1 - c));
}

at::Tensor dense_matrix(const BipartiteGraph& g) {
  at::Tensor y = at::zeros({g.num_users(), g.num_items()}, at::kDouble);
  for (int64_t u = 0; u < g.num_users(); ++u) {
    for (int64_t e = g.user_offsets()[u]; e < g.user_offsets()[u + 1]; ++e) {
      y[u][g.user_items()[e]] = 1;
    }
  }
  return y;
}

TEST(Dmf, ScoresRankingAndBceAreTheFloat64Reference) {
  const auto g = random_graph(9, 7, 11);
  const PropagationGraph pg(g);
  ModelOptions o;
  o.dim = 5;
  o.hidden = {4, 3};
  auto m = make_model("dmf", o, pg, at::kCPU);
  EXPECT_FALSE(m->ranks_rows());
  {
    // Non-negative parameters: no tower output is the zero vector, whose
    // cosine is undefined.
    at::NoGradGuard no_grad;
    at::manual_seed(12);
    for (auto& q : m->parameters()) q.tensor.normal_(0, 0.7).abs_();
  }
  const at::Tensor y = dense_matrix(*g);
  const auto p = double_leaves(*m);
  {
    at::NoGradGuard no_grad;
    m->set_training(false);
    auto [P, Q] = m->ranking();
    const at::Tensor cos = at::matmul(P, Q.t());
    for (int64_t u = 0; u < 9; ++u) {
      for (int64_t i = 0; i < 7; ++i) {
        const double want = dmf_ref(p, y, u, i).item<double>();
        auto [eu, ei] = m->represent(at::tensor({u}, at::kLong), at::tensor({i}, at::kLong));
        EXPECT_NEAR(m->score(eu, ei).item<double>(), want, 1e-4) << u << " " << i;
        // Ranking by cosine: the logit's inverse where it is not clamped.
        const double c = 1 / (1 + std::exp(-want));
        if (c > 2e-6) {
          EXPECT_NEAR(cos[u][i].item<double>(), c, 1e-5) << u << " " << i;
        }
      }
    }
  }
  expect_bce_and_gradients(
      *m, [&](const auto& q, int64_t u, int64_t i) { return dmf_ref(q, y, u, i); });
}

// 6 users, 5 items, and side features: ages (one each; user 5 none) and
// genres (several per item; item 4 none).
struct WithFeatures {
  std::vector<std::vector<int64_t>> age{{0}, {1}, {1}, {2}, {0}, {}};
  std::vector<std::vector<int64_t>> genre{{0}, {0, 1}, {1, 2, 3}, {3}, {}};
  std::shared_ptr<const BipartiteGraph> g = random_graph(6, 5, 21);
  std::shared_ptr<const TypedGraph> side;

  WithFeatures() {
    TypedGraphBuilder b;
    const int32_t tu = b.add_node_type("user", 6), ti = b.add_node_type("item", 5);
    const int32_t tg = b.add_node_type("genre", 4), ta = b.add_node_type("age", 3);
    const int32_t rg = b.add_relation("item-has-genre", ti, tg);
    const int32_t ra = b.add_relation("user-has-age", tu, ta);
    for (int32_t i = 0; i < 5; ++i) {
      for (int64_t v : genre[i]) b.add_edge(rg, i, static_cast<int32_t>(v));
    }
    for (int32_t u = 0; u < 6; ++u) {
      for (int64_t v : age[u]) b.add_edge(ra, u, static_cast<int32_t>(v));
    }
    side = std::make_shared<const TypedGraph>(b.build(true));
  }
  // The pair's fields' (pooled) rows of the tables named PREFIX.FIELD.SUFFIX:
  // user_id, age, item_id, genre.
  std::vector<at::Tensor> fields(const std::map<std::string, at::Tensor>& p, int64_t u, int64_t i,
                                 const std::string& suffix) const {
    const auto mean = [&](const std::string& name, const std::vector<int64_t>& values) {
      const at::Tensor t = p.at(name + "." + suffix);
      at::Tensor sum = at::zeros({t.size(1)}, at::kDouble);
      for (int64_t v : values) sum = sum + t[v];
      return values.empty() ? sum : sum / static_cast<double>(values.size());
    };
    return {mean("user.user_id", {u}), mean("user.age", age[u]), mean("item.item_id", {i}),
            mean("item.genre", genre[i])};
  }
};

TEST(FeatureModels, FmIsThePairwiseSumOverFields) {
  const WithFeatures d;
  const PropagationGraph pg(d.g, d.side);
  ModelOptions o;
  o.dim = 3;
  auto m = make_model("fm", o, pg, at::kCPU);
  spread(*m, 22);
  const auto p = double_leaves(*m);
  const auto ref = [&](const std::map<std::string, at::Tensor>& q, int64_t u, int64_t i) {
    const std::vector<at::Tensor> v = d.fields(q, u, i, "embedding");
    const std::vector<at::Tensor> w = d.fields(q, u, i, "linear");
    at::Tensor y = q.at("bias")[0];
    for (size_t f = 0; f < v.size(); ++f) {
      y = y + w[f][0];
      for (size_t h = f + 1; h < v.size(); ++h) y = y + at::dot(v[f], v[h]);
    }
    return y;
  };
  {
    at::NoGradGuard no_grad;
    auto [P, Q] = m->ranking();
    const at::Tensor scores = at::matmul(P, Q.t());
    for (int64_t u = 0; u < 6; ++u) {
      for (int64_t i = 0; i < 5; ++i) {
        EXPECT_NEAR(scores[u][i].item<double>(), ref(p, u, i).item<double>(), 1e-5) << u << i;
      }
    }
  }
  expect_bce_and_gradients(*m, ref);
}

TEST(FeatureModels, FfmIsTheFieldAwarePairwiseSum) {
  const WithFeatures d;
  const PropagationGraph pg(d.g, d.side);
  ModelOptions o;
  o.dim = 3;
  auto m = make_model("ffm", o, pg, at::kCPU);
  spread(*m, 26);
  const auto p = double_leaves(*m);
  // Fields user_id, age, item_id, genre: v_{f,g} is columns 3g..3g+2 of f's row.
  const auto ref = [&](const std::map<std::string, at::Tensor>& q, int64_t u, int64_t i) {
    const std::vector<at::Tensor> v = d.fields(q, u, i, "embedding");
    const std::vector<at::Tensor> w = d.fields(q, u, i, "linear");
    at::Tensor y = q.at("bias")[0];
    for (int64_t f = 0; f < 4; ++f) {
      y = y + w[f][0];
      for (int64_t g = f + 1; g < 4; ++g) {
        y = y + at::dot(v[f].slice(0, 3 * g, 3 * g + 3), v[g].slice(0, 3 * f, 3 * f + 3));
      }
    }
    return y;
  };
  {
    at::NoGradGuard no_grad;
    auto [P, Q] = m->ranking();
    ASSERT_EQ(P.size(1), 2 * 2 * 3 + 2);
    const at::Tensor scores = at::matmul(P, Q.t());
    for (int64_t u = 0; u < 6; ++u) {
      for (int64_t i = 0; i < 5; ++i) {
        EXPECT_NEAR(scores[u][i].item<double>(), ref(p, u, i).item<double>(), 1e-5) << u << i;
      }
    }
  }
  expect_bce_and_gradients(*m, ref);
}

// relu(W x + b) layers of PREFIX, then the output layer's hᵀ x + b.
at::Tensor deep_ref(const std::map<std::string, at::Tensor>& p, const at::Tensor& x0,
                    const std::vector<at::Tensor>& before) {
  std::vector<at::Tensor> h = before;
  h.push_back(tower_ref(p, "deep", x0));
  return at::dot(p.at("output.weight")[0], at::cat(h)) + p.at("output.bias")[0];
}

TEST(FeatureModels, WideDeepAndDcnAreTheirFormulas) {
  const WithFeatures d;
  const PropagationGraph pg(d.g, d.side);
  ModelOptions o;
  o.dim = 3;
  o.layers = 2;
  o.hidden = {5, 4};
  o.dropout = 0.0;
  const auto widedeep = [&](const std::map<std::string, at::Tensor>& q, int64_t u, int64_t i) {
    at::Tensor y = deep_ref(q, at::cat(d.fields(q, u, i, "embedding")), {}) + q.at("bias")[0];
    for (const at::Tensor& w : d.fields(q, u, i, "linear")) y = y + w[0];
    return y;
  };
  const auto dcn = [&](const std::map<std::string, at::Tensor>& q, int64_t u, int64_t i) {
    const at::Tensor x0 = at::cat(d.fields(q, u, i, "embedding"));
    at::Tensor x = x0;
    for (int l = 0; l < 2; ++l) {
      const std::string c = "cross." + std::to_string(l);
      x = x0 * at::dot(x, q.at(c + ".weight")) + q.at(c + ".bias") + x;
    }
    return deep_ref(q, x0, {x});
  };
  for (const std::string name : {"widedeep", "dcn"}) {
    auto m = make_model(name, o, pg, at::kCPU);
    spread(*m, 23);
    ASSERT_TRUE(m->ranks_rows() && m->has_pair_scores());
    const auto p = double_leaves(*m);
    const auto& ref = name == "dcn" ? std::function(dcn) : std::function(widedeep);
    {
      at::NoGradGuard no_grad;
      m->set_training(false);
      const at::Tensor rows = m->ranking_rows(at::arange(6, at::kLong));
      for (int64_t u = 0; u < 6; ++u) {
        for (int64_t i = 0; i < 5; ++i) {
          EXPECT_NEAR(rows[u][i].item<double>(), ref(p, u, i).item<double>(), 1e-5) << name;
        }
      }
    }
    expect_bce_and_gradients(*m, ref);
  }
}

TEST(FeatureModels, TwoTowerLossIsTheCorrectedInBatchSoftmax) {
  const WithFeatures d;
  const PropagationGraph pg(d.g, d.side);
  ModelOptions o;
  o.dim = 3;
  o.hidden = {4, 3};
  o.dropout = 0.0;
  o.cl_temperature = 0.5;
  auto m = make_model("twotower", o, pg, at::kCPU);
  ASSERT_TRUE(m->has_own_loss() && !m->ranks_rows());
  spread(*m, 24);
  const auto p = double_leaves(*m);
  const auto unit_tower = [&](const std::string& name, const std::vector<at::Tensor>& x) {
    at::Tensor y = tower_ref(p, name, at::cat(x), /*relu_last=*/false);
    return y / y.norm();
  };
  const auto user = [&](int64_t u) {
    const auto f = d.fields(p, u, 0, "embedding");
    return unit_tower("user_tower", {f[0], f[1]});
  };
  const auto item = [&](int64_t i) {
    const auto f = d.fields(p, 0, i, "embedding");
    return unit_tower("item_tower", {f[2], f[3]});
  };
  const std::vector<int64_t> users{0, 2, 5, 3}, items{1, 1, 3, 0};
  at::Tensor want = at::zeros({}, at::kDouble);
  for (size_t k = 0; k < 4; ++k) {
    std::vector<at::Tensor> logits;
    for (size_t j = 0; j < 4; ++j) {
      const double q =
          static_cast<double>(d.g->item_degree(items[j])) / static_cast<double>(d.g->num_edges());
      logits.push_back(at::dot(user(users[k]), item(items[j])) / 0.5 - std::log(q));
    }
    want = want - (logits[k] - at::logsumexp(at::stack(logits), 0));
  }
  want = want / 4.0;
  want.backward();
  m->set_training(true);
  const at::Tensor loss = m->own_loss(at::tensor(users, at::kLong), at::tensor(items, at::kLong));
  loss.backward();
  EXPECT_NEAR(loss.item<double>(), want.item<double>(), 1e-5);
  for (const auto& q : m->parameters()) {
    ASSERT_TRUE(q.tensor.grad().defined()) << q.name;
    EXPECT_TRUE(at::allclose(q.tensor.grad().to(at::kDouble), p.at(q.name).grad(), 1e-4, 1e-6))
        << q.name;
  }
  // Its scores are the dot products of the towers' unit outputs.
  at::NoGradGuard no_grad;
  m->set_training(false);
  auto [P, Q] = m->ranking();
  EXPECT_NEAR(at::dot(P[2], Q[4]).item<double>(), at::dot(user(2), item(4)).item<double>(), 1e-5);
}

TEST(FeatureModels, WithoutFeaturesFeatureModelsStopAndTwoTowerUsesIds) {
  const PropagationGraph bare(random_graph(6, 5, 25));
  for (const std::string name : {"fm", "ffm", "widedeep", "dcn"}) {
    try {
      make_model(name, ModelOptions{}, bare, at::kCPU);
      FAIL() << name;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(
          std::string(e.what()).rfind("--model " + name + " reads user and item side features", 0),
          0u)
          << e.what();
    }
  }
  auto m = make_model("twotower", ModelOptions{}, bare, at::kCPU);
  std::vector<std::string> names;
  for (const auto& q : m->parameters()) names.push_back(q.name);
  EXPECT_EQ(names.front(), "user.user_id.embedding");
  EXPECT_EQ(names[1], "item.item_id.embedding");
}

}  // namespace
}  // namespace gnnrec
