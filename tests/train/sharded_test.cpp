// Sharded embeddings (train/sharded.h): which rows a rank asks of whom
// (plan_rows) and LightGCN's halo plan (plan_halo) against hand-worked
// examples; a rank's local propagation with its halo against dense Â·E and
// gradcheck, and its NGCF and GCN layers against the dense layers, in
// float64; one step of the sharded tables (MF's, LightGCN's, NGCF's with
// its weights whole) in one process against the same step on the whole
// tables (float64).
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "models/layers.h"
#include "models/propagation_graph.h"
#include "tests/testing/gradcheck.h"
#include "train/adam.h"
#include "train/config.h"
#include "train/loss.h"
#include "train/sharded.h"
#include "train/train_state.h"

namespace gnnrec {
namespace {

std::vector<int64_t> values(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

TEST(PlanRows, HandWorkedThreeRanks) {
  // 10 rows over 3 ranks: [0, 3), [3, 6), [6, 10).
  const at::Tensor ids = at::tensor({7, 2, 7, 9, 3, 0}, at::kLong).view({3, 2});
  const RowRequests r = plan_rows(ids, 10, 3);
  EXPECT_EQ(values(r.rows), (std::vector<int64_t>{0, 2, 3, 7, 9}));
  EXPECT_EQ(values(r.inverse), (std::vector<int64_t>{3, 1, 3, 4, 2, 0}));
  EXPECT_EQ(r.counts, (std::vector<int64_t>{2, 1, 2}));
}

TEST(PlanRows, EmptySharesOwnNothing) {
  // 2 rows over 4 ranks: [0, 0), [0, 1), [1, 1), [1, 2).
  const RowRequests r = plan_rows(at::tensor({1, 0, 1}, at::kLong), 2, 4);
  EXPECT_EQ(values(r.rows), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(values(r.inverse), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(r.counts, (std::vector<int64_t>{0, 1, 0, 1}));
}

TEST(PlanRows, NoIdsAskNothing) {
  const RowRequests r = plan_rows(at::empty({0}, at::kLong), 5, 2);
  EXPECT_EQ(r.rows.numel(), 0);
  EXPECT_EQ(r.counts, (std::vector<int64_t>{0, 0}));
}

// 3 users, 3 items; nodes u0 u1 u2 i0 i1 i2 = 0..5. Edges u0-i0, u0-i1,
// u1-i2, u2-i0, u2-i2: adjacency rows 0: {3, 4}, 1: {5}, 2: {3, 5},
// 3: {0, 2}, 4: {0}, 5: {1, 2}.
BipartiteGraph six_nodes() {
  Interactions x;
  x.user = {0, 0, 1, 2, 2};
  x.item = {0, 1, 2, 0, 2};
  return BipartiteGraph::build(3, 3, x);
}

// Â = D^-1/2 A D^-1/2 of six_nodes(), dense, from the edge list (A + I
// with self loops).
at::Tensor dense_normalised(bool self_loops = false) {
  at::Tensor a = self_loops ? at::eye(6, at::kDouble) : at::zeros({6, 6}, at::kDouble);
  for (auto [u, i] : std::vector<std::pair<int, int>>{{0, 0}, {0, 1}, {1, 2}, {2, 0}, {2, 2}}) {
    a[u][3 + i] = 1;
    a[3 + i][u] = 1;
  }
  const at::Tensor s = a.sum(1).pow(-0.5);
  return s.unsqueeze(1) * a * s.unsqueeze(0);
}

HaloPlan plan_of(int rank, int world, bool self_loops = false) {
  const auto [lo, hi] = Distributed::share_of(6, rank, world);
  return plan_halo(unified_adjacency_rows(six_nodes(), Normalization::kSymmetric, self_loops,
                                          at::kDouble, lo, hi),
                   lo, 6, world);
}

// A rank's product by its adjacency rows (AdjacencyProduct, as a sharded
// run multiplies), its halo rows taken from the whole `e` here.
AdjacencyProduct local_product(const HaloPlan& p, const at::Tensor& e) {
  return {p.local, [&p, e](const at::Tensor& own) {
            return at::cat({own, e.index_select(0, p.halo.rows)});
          }};
}

layers::Linear linear64(int64_t in, int64_t out) {
  return {at::randn({out, in}, at::kDouble), at::randn({out}, at::kDouble)};
}

// sharded_models() (the CLI's check) lists exactly the models that say
// how they shard (Model::sharding), the trainer's question.
TEST(ShardedModels, AreTheModelsThatSayHowTheyShard) {
  const PropagationGraph g(std::make_shared<const BipartiteGraph>(six_nodes()));
  const auto& listed = sharded_models();
  int built = 0;
  for (const std::string& name : model_names()) {
    std::unique_ptr<Model> model;
    try {
      model = make_model(name, ModelOptions{}, g, at::kCPU);
    } catch (const std::exception&) {
      continue;  // needs what six_nodes() lacks (a knowledge graph, features)
    }
    ++built;
    const bool shards = model->sharding().kind != Sharding::Kind::kNone;
    EXPECT_EQ(std::find(listed.begin(), listed.end(), name) != listed.end(), shards) << name;
  }
  EXPECT_GT(built, static_cast<int>(listed.size()));
}

TEST(PlanHalo, HandWorkedThreeRanks) {
  // Ranks own nodes [0, 2), [2, 4), [4, 6).
  struct Expected {
    std::vector<int64_t> halo, counts, col, send, send_counts;
  };
  const Expected expected[] = {
      // Rank 0: rows 0 {3, 4}, 1 {5}: all three columns remote (3 of rank
      // 1, 4 and 5 of rank 2); rank 1 reads node 0, rank 2 nodes 0 and 1.
      {{3, 4, 5}, {0, 1, 2}, {2, 3, 4}, {0, 0, 1}, {0, 1, 2}},
      // Rank 1: rows 2 {3, 5}, 3 {0, 2}: node 3 and 2 its own (local 1,
      // 0), 0 of rank 0, 5 of rank 2; rank 0 reads node 3, rank 2 node 2.
      {{0, 5}, {1, 0, 1}, {1, 3, 2, 0}, {1, 0}, {1, 0, 1}},
      // Rank 2: rows 4 {0}, 5 {1, 2}: 0 and 1 of rank 0, 2 of rank 1;
      // rank 0 reads nodes 4 and 5, rank 1 node 5.
      {{0, 1, 2}, {2, 1, 0}, {2, 3, 4}, {0, 1, 1}, {2, 1, 0}},
  };
  for (int r = 0; r < 3; ++r) {
    SCOPED_TRACE(r);
    const HaloPlan p = plan_of(r, 3);
    EXPECT_EQ(values(p.halo.rows), expected[r].halo);
    EXPECT_EQ(p.halo.counts, expected[r].counts);
    EXPECT_EQ(values(p.local.col.to(at::kLong)), expected[r].col);
    EXPECT_EQ(p.local.num_cols, 2 + static_cast<int64_t>(expected[r].halo.size()));
    EXPECT_EQ(values(p.send), expected[r].send);
    EXPECT_EQ(p.send_counts, expected[r].send_counts);
  }
}

TEST(PlanHalo, WhatARankSendsIsWhatItsPeerAsks) {
  for (int world : {1, 2, 3, 4}) {
    std::vector<HaloPlan> plans;
    for (int r = 0; r < world; ++r) plans.push_back(plan_of(r, world));
    for (int r = 0; r < world; ++r) {
      for (int q = 0; q < world; ++q) {
        // Rows of r's send list for q, as node ids; q's halo rows from r.
        int64_t at_send = 0, at_halo = 0;
        for (int k = 0; k < q; ++k) at_send += plans[r].send_counts[k];
        for (int k = 0; k < r; ++k) at_halo += plans[q].halo.counts[k];
        const int64_t n = plans[r].send_counts[q];
        ASSERT_EQ(n, plans[q].halo.counts[r]) << r << " -> " << q;
        EXPECT_TRUE(at::equal(plans[r].send.narrow(0, at_send, n) + plans[r].lo,
                              plans[q].halo.rows.narrow(0, at_halo, n)));
      }
    }
  }
}

TEST(PlanHalo, LocalRowsWithTheirHaloAreTheDenseProduct) {
  const at::Tensor a = dense_normalised();
  const at::Tensor e = at::randn({6, 4}, at::kDouble);
  const at::Tensor expected = a.mm(e);
  for (int world : {1, 2, 3}) {
    for (int r = 0; r < world; ++r) {
      const HaloPlan p = plan_of(r, world);
      const at::Tensor x =
          at::cat({e.narrow(0, p.lo, p.hi - p.lo), e.index_select(0, p.halo.rows)});
      EXPECT_TRUE(at::allclose(p.local.matmul(x), expected.narrow(0, p.lo, p.hi - p.lo), 0, 1e-15))
          << "rank " << r << " of " << world;
    }
  }
}

// A sharded NGCF layer: a rank's rows of LeakyReLU(W1 (E + L E) + b1 +
// W2 (L E ⊙ E) + b2), from its rows and its halo, against the layer of
// every node by dense ATen in float64.
TEST(PlanHalo, NgcfLayerOfARanksRowsIsTheDenseLayer) {
  at::manual_seed(5);
  const at::Tensor l = dense_normalised(), e = at::randn({6, 4}, at::kDouble);
  const layers::NgcfLayer layer{linear64(4, 4), linear64(4, 4)};
  const at::Tensor side = l.mm(e);
  const at::Tensor expected = at::leaky_relu((e + side).mm(layer.w1.weight.t()) + layer.w1.bias +
                                                 (side * e).mm(layer.w2.weight.t()) + layer.w2.bias,
                                             0.2);
  for (int world : {1, 2, 3}) {
    for (int r = 0; r < world; ++r) {
      const HaloPlan p = plan_of(r, world);
      const at::Tensor own = e.narrow(0, p.lo, p.hi - p.lo);
      EXPECT_TRUE(at::allclose(layers::ngcf_conv(local_product(p, e), own, layer),
                               expected.narrow(0, p.lo, p.hi - p.lo), 0, 1e-14))
          << "rank " << r << " of " << world;
    }
  }
}

// A sharded GCN layer: a rank's rows of Â X Wᵀ + b, Â with self loops.
TEST(PlanHalo, GcnLayerOfARanksRowsIsTheDenseLayer) {
  at::manual_seed(6);
  const at::Tensor a = dense_normalised(true), x = at::randn({6, 4}, at::kDouble);
  const layers::Linear lin = linear64(4, 3);
  const at::Tensor expected = a.mm(x.mm(lin.weight.t())) + lin.bias;
  for (int world : {1, 2, 3}) {
    for (int r = 0; r < world; ++r) {
      const HaloPlan p = plan_of(r, world, true);
      // The halo is exchanged after the transform, at the output width.
      const at::Tensor own = x.narrow(0, p.lo, p.hi - p.lo);
      EXPECT_TRUE(at::allclose(layers::gcn_conv(local_product(p, x.mm(lin.weight.t())), own, lin),
                               expected.narrow(0, p.lo, p.hi - p.lo), 0, 1e-14))
          << "rank " << r << " of " << world;
    }
  }
}

TEST(PlanHalo, GradcheckOfTheLocalRowsInOwnAndHaloRows) {
  // The backward's halo part is what goes back to the owners.
  const HaloPlan p = plan_of(1, 3);
  testing::gradcheck(
      [&](const std::vector<at::Tensor>& in) {
        return p.local.matmul(at::cat({in[0], in[1]}));
      },
      {at::randn({2, 3}, at::kDouble), at::randn({2, 3}, at::kDouble)});
}

// A BPR batch: pairs (users[k], positives[k]), each with one negative.
Batch bpr_batch(const std::vector<int64_t>& users, const std::vector<int64_t>& positives,
                const std::vector<int64_t>& negatives) {
  Batch batch;
  batch.users = at::tensor(users, at::kLong);
  batch.positives = at::tensor(positives, at::kLong);
  batch.negatives = at::tensor(negatives, at::kLong).view({-1, 1});
  return batch;
}

// MF over two given tables (the whole-table reference).
class TablesModel : public Model {
 public:
  TablesModel(at::Tensor u, at::Tensor i) : u_(std::move(u)), i_(std::move(i)) {}
  std::string name() const override { return "mf"; }
  Sharding sharding() const override { return {Sharding::Kind::kTables}; }
  std::pair<at::Tensor, at::Tensor> forward() override { return {u_, i_}; }
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return {u_.index_select(0, u), i_.index_select(0, i)};
  }
  std::vector<NamedTensor> parameters() override {
    return {{"user_embedding", u_}, {"item_embedding", i_}};
  }

 private:
  at::Tensor u_, i_;
};

TEST(ShardedEmbeddings, OneShardStepEqualsTheWholeTablesStep) {
  at::manual_seed(7);
  const at::Tensor users0 = at::randn({5, 3}, at::kDouble), items0 = at::randn({6, 3}, at::kDouble);
  TrainConfig cfg;
  cfg.reg = 0.1;
  const Batch batch = bpr_batch({0, 3, 3, 1}, {2, 5, 2, 0}, {1, 4, 2, 3});

  // Reference: BPR + batch L2 on the whole tables, one Adam step.
  TablesModel whole(users0.clone().requires_grad_(true), items0.clone().requires_grad_(true));
  auto whole_params = whole.parameters();
  const Objective objective(cfg, whole);
  Adam whole_adam({whole_params[0].tensor, whole_params[1].tensor}, 0.01);
  const at::Tensor expected_loss = objective(whole, whole_params, batch);
  expected_loss.backward();
  whole_adam.step();

  // Sharded, one shard: rows fetched, their gradients given back.
  TablesModel model(users0.clone().requires_grad_(true), items0.clone().requires_grad_(true));
  auto params = model.parameters();
  Adam adam({params[0].tensor, params[1].tensor}, 0.01);
  ShardedEmbeddings sharded(model, params, adam, 0.01, nullptr);
  sharded.release();
  EXPECT_EQ(params[0].tensor.numel(), 0);
  const at::Tensor loss = sharded.local_loss(objective, batch, 0, 4, "test");
  loss.backward();
  EXPECT_DOUBLE_EQ(sharded.return_gradients(loss, "test").item<double>(),
                   expected_loss.item<double>());
  sharded.step();
  sharded.gather();
  EXPECT_TRUE(at::allclose(params[0].tensor, whole_params[0].tensor, 0, 1e-15));
  EXPECT_TRUE(at::allclose(params[1].tensor, whole_params[1].tensor, 0, 1e-15));
  EXPECT_TRUE(at::allclose(adam.exp_avg()[0], whole_adam.exp_avg()[0], 0, 1e-15));
  EXPECT_TRUE(at::allclose(adam.exp_avg_sq()[1], whole_adam.exp_avg_sq()[1], 0, 1e-15));
  EXPECT_EQ(adam.steps(), 1);
  // 11 rows x 3 float64 values, with two moments each.
  EXPECT_EQ(sharded.bytes_per_rank(), 3 * 11 * 3 * 8);
  EXPECT_EQ(sharded.bytes_replicated(), sharded.bytes_per_rank());
}

// LightGCN over one given table (the whole-table reference): the dense
// float64 layer mean of six_nodes() over 2 layers; its sharded propagation
// the same mean over the product it is given.
class DenseLightGcn : public Model {
 public:
  explicit DenseLightGcn(at::Tensor e) : e_(std::move(e)) {}
  std::string name() const override { return "lightgcn"; }
  Sharding sharding() const override { return {Sharding::Kind::kGraph}; }
  at::Tensor propagate(const AdjacencyProduct& adj, const at::Tensor& ego) override {
    const at::Tensor e1 = adj(ego), e2 = adj(e1);
    return (ego + e1 + e2) / 3.0;
  }
  std::pair<at::Tensor, at::Tensor> forward() override {
    const at::Tensor a = dense_normalised();
    const at::Tensor e1 = a.mm(e_), e2 = a.mm(e1);
    const at::Tensor mean = (e_ + e1 + e2) / 3.0;
    return {mean.narrow(0, 0, 3), mean.narrow(0, 3, 3)};
  }
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return {e_.index_select(0, u), e_.index_select(0, i + 3)};
  }
  std::vector<NamedTensor> parameters() override { return {{"embedding", e_}}; }

 private:
  at::Tensor e_;
};

// One batch of `model` through ShardedEmbeddings in one process (no
// torchrun; six_nodes()' graph) against the same batch of `whole`, an equal
// model trained whole (BPR, L2 0.1, Adam at lr 0.01): the loss, then every
// parameter and both Adam moments after the step, to 1e-14. `check` sees
// the sharded embeddings after their step and gather.
void expect_one_shard_step_equals_the_dense_step(
    Model& whole, Model& model, const Batch& batch,
    const std::function<void(const ShardedEmbeddings&)>& check) {
  TrainConfig cfg;
  cfg.reg = 0.1;
  auto whole_params = whole.parameters();
  const Objective objective(cfg, whole);
  Adam whole_adam(trainable_tensors(whole_params), 0.01);
  const at::Tensor expected_loss = objective(whole, whole_params, batch);
  expected_loss.backward();
  whole_adam.step();

  auto params = model.parameters();
  Adam adam(trainable_tensors(params), 0.01);
  const BipartiteGraph g = six_nodes();
  ShardedEmbeddings sharded(model, params, adam, 0.01, nullptr, &g);
  sharded.release();
  const at::Tensor loss = sharded.local_loss(objective, batch, 0, batch.size(), "test");
  loss.backward();
  EXPECT_NEAR(sharded.return_gradients(loss, "test").item<double>(), expected_loss.item<double>(),
              1e-14);
  sharded.step();
  sharded.gather();
  for (size_t j = 0; j < params.size(); ++j) {
    EXPECT_TRUE(at::allclose(params[j].tensor, whole_params[j].tensor, 0, 1e-14)) << j;
    EXPECT_TRUE(at::allclose(adam.exp_avg()[j], whole_adam.exp_avg()[j], 0, 1e-14)) << j;
    EXPECT_TRUE(at::allclose(adam.exp_avg_sq()[j], whole_adam.exp_avg_sq()[j], 0, 1e-14)) << j;
  }
  EXPECT_EQ(adam.steps(), 1);
  check(sharded);
}

TEST(ShardedEmbeddings, OneShardLightGcnStepEqualsTheDenseStep) {
  at::manual_seed(11);
  const at::Tensor e0 = at::randn({6, 4}, at::kDouble);
  DenseLightGcn whole(e0.clone().requires_grad_(true));
  DenseLightGcn model(e0.clone().requires_grad_(true));
  expect_one_shard_step_equals_the_dense_step(
      whole, model, bpr_batch({0, 2, 2, 1}, {1, 0, 2, 2}, {2, 1, 1, 0}),
      [](const ShardedEmbeddings& sharded) {
        EXPECT_EQ(sharded.halo_rows(), (std::vector<int64_t>{0}));
        EXPECT_EQ(sharded.bytes_per_rank(), 3 * 6 * 4 * 8);
      });
}

// NGCF with one layer over one given table and given float64 weights (the
// whole-table reference): the dense layer of six_nodes(), E beside its
// L2-normalised output; its sharded propagation the model's layer
// (layers::ngcf_conv) over the product it is given.
class DenseNgcf : public Model {
 public:
  DenseNgcf(at::Tensor e, layers::NgcfLayer layer) : e_(std::move(e)), layer_(std::move(layer)) {}
  std::string name() const override { return "ngcf"; }
  Sharding sharding() const override { return {Sharding::Kind::kGraph}; }
  at::Tensor propagate(const AdjacencyProduct& adj, const at::Tensor& ego) override {
    const at::Tensor e1 = layers::ngcf_conv(adj, ego, layer_);
    return at::cat({ego, e1 / e1.norm(2, {1}, true)}, 1);
  }
  std::pair<at::Tensor, at::Tensor> forward() override {
    const at::Tensor side = dense_normalised().mm(e_);
    const at::Tensor e1 = at::leaky_relu((e_ + side).mm(layer_.w1.weight.t()) + layer_.w1.bias +
                                             (side * e_).mm(layer_.w2.weight.t()) + layer_.w2.bias,
                                         0.2);
    const at::Tensor out = at::cat({e_, e1 / e1.norm(2, {1}, true)}, 1);
    return {out.narrow(0, 0, 3), out.narrow(0, 3, 3)};
  }
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return {e_.index_select(0, u), e_.index_select(0, i + 3)};
  }
  std::vector<NamedTensor> parameters() override {
    return {{"embedding", e_},
            {"w1.weight", layer_.w1.weight},
            {"w1.bias", layer_.w1.bias},
            {"w2.weight", layer_.w2.weight},
            {"w2.bias", layer_.w2.bias}};
  }

 private:
  at::Tensor e_;
  layers::NgcfLayer layer_;
};

std::vector<at::Tensor> leaves(const std::vector<at::Tensor>& ts) {
  std::vector<at::Tensor> out;
  for (const at::Tensor& t : ts) out.push_back(t.clone().requires_grad_(true));
  return out;
}

// One shard of NGCF: its table sharded, its weights whole and stepped by
// the trainer's Adam from the gradients of the sharded propagation.
TEST(ShardedEmbeddings, OneShardNgcfStepEqualsTheDenseStep) {
  at::manual_seed(13);
  const std::vector<at::Tensor> init = {
      at::randn({6, 4}, at::kDouble), at::randn({4, 4}, at::kDouble), at::randn({4}, at::kDouble),
      at::randn({4, 4}, at::kDouble), at::randn({4}, at::kDouble)};
  const auto make = [&] {
    const std::vector<at::Tensor> t = leaves(init);
    return DenseNgcf(t[0], {{t[1], t[2]}, {t[3], t[4]}});
  };
  DenseNgcf whole = make();
  DenseNgcf model = make();
  expect_one_shard_step_equals_the_dense_step(whole, model,
                                              bpr_batch({0, 2, 2, 1}, {1, 0, 2, 2}, {2, 1, 1, 0}),
                                              [](const ShardedEmbeddings& sharded) {
                                                // Only the table is sharded: 6 rows x 4 float64
                                                // values, two moments.
                                                EXPECT_EQ(sharded.bytes_per_rank(), 3 * 6 * 4 * 8);
                                              });
  // The weights moved (they had gradients).
  EXPECT_FALSE(at::equal(model.parameters()[1].tensor, init[1]));
}

}  // namespace
}  // namespace gnnrec
