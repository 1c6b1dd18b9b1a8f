// The model zoo: every registered model builds, scores consistently with its
// ranking factors, sends gradients to every parameter, and handles isolated
// nodes; NGCF against a dense float64 evaluation of the paper's formula;
// GraphSAGE's sampled path against its full-neighbourhood path; sampled
// blocks against the graph; and the errors for bad hyper-parameters.
#include <cmath>
#include <memory>
#include <set>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include "models/layers.h"
#include "models/model.h"
#include "samplers/neighbor_blocks.h"

namespace gnnrec {
namespace {

// 7 users x 6 items; user 6 and item 5 are isolated.
std::shared_ptr<const BipartiteGraph> small_graph() {
  Interactions x;
  const int pairs[][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 1}, {1, 3}, {2, 0}, {2, 4}, {3, 2},
                          {3, 3}, {3, 4}, {4, 0}, {4, 1}, {5, 3}, {5, 4}, {1, 4}};
  for (const auto& p : pairs) {
    x.user.push_back(p[0]);
    x.item.push_back(p[1]);
  }
  return std::make_shared<const BipartiteGraph>(BipartiteGraph::build(7, 6, x));
}

// n users x n items, user u linked to items u, u+1, .., u+k-1 (mod n): every
// node has degree k.
std::shared_ptr<const BipartiteGraph> regular_graph(int n, int k) {
  Interactions x;
  for (int u = 0; u < n; ++u) {
    for (int j = 0; j < k; ++j) {
      x.user.push_back(u);
      x.item.push_back((u + j) % n);
    }
  }
  return std::make_shared<const BipartiteGraph>(BipartiteGraph::build(n, n, x));
}

struct Variant {
  std::string model;
  ModelOptions opts;
};

std::vector<Variant> variants() {
  std::vector<Variant> v;
  ModelOptions base;
  base.dim = 8;
  base.layers = 2;
  for (const char* m : {"mf", "lightgcn", "gcn", "ngcf", "gat"}) v.push_back({m, base});
  for (const char* a : {"mean", "max", "pool", "lstm"}) {
    ModelOptions o = base;
    o.aggregator = a;
    o.fanouts = {3, 2};
    v.push_back({"sage", o});
  }
  ModelOptions gat1 = base;
  gat1.heads = 2;
  v.push_back({"gat", gat1});
  return v;
}

std::string label(const Variant& v) {
  return v.model + (v.opts.aggregator ? "/" + *v.opts.aggregator : "") +
         (v.opts.heads ? "/heads" + std::to_string(*v.opts.heads) : "");
}

TEST(Models, EveryNameIsRegistered) {
  const auto names = model_names();
  for (const char* m : {"mf", "lightgcn", "gcn", "ngcf", "sage", "gat"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), m), names.end()) << m;
  }
}

TEST(Models, RankingAgreesWithScoreAndOutputsAreFinite) {
  PropagationGraph g(small_graph());
  for (const auto& v : variants()) {
    SCOPED_TRACE(label(v));
    auto model = make_model(v.model, v.opts, g, at::kCPU);
    model->set_training(false);
    at::NoGradGuard no_grad;
    auto [U, I] = model->forward();
    ASSERT_EQ(U.size(0), 7);
    ASSERT_EQ(I.size(0), 6);
    EXPECT_TRUE(at::isfinite(U).all().item<bool>());
    EXPECT_TRUE(at::isfinite(I).all().item<bool>());
    auto [P, Q] = model->ranking();
    // For every user, score(u, i) - P[u]·Q[i] must not depend on i.
    for (int64_t u = 0; u < 7; ++u) {
      const at::Tensor s = model->score(U[u].expand_as(I), I).to(at::kDouble);
      const at::Tensor r = at::mv(Q, P[u]).to(at::kDouble);
      const at::Tensor diff = s - r;
      EXPECT_LT((diff - diff[0]).abs().max().item<double>(), 1e-5) << "user " << u;
    }
    // Evaluation mode is deterministic.
    auto [U2, I2] = model->forward();
    EXPECT_TRUE(at::equal(U, U2));
  }
}

TEST(Models, EveryParameterGetsAGradientInTraining) {
  PropagationGraph g(small_graph());
  const at::Tensor users = at::tensor(std::vector<int64_t>{0, 1, 2, 3, 4, 5});
  const at::Tensor items = at::tensor(std::vector<int64_t>{0, 1, 2, 3, 4, 0});
  for (const auto& v : variants()) {
    SCOPED_TRACE(label(v));
    auto model = make_model(v.model, v.opts, g, at::kCPU);
    model->set_training(true);
    auto [u, i] = model->represent(users, items);
    ASSERT_EQ(u.size(0), 6);
    ASSERT_EQ(i.size(0), 6);
    (model->score(u, i).pow(2).sum() + model->score(u, i.roll(1, 0)).sum()).backward();
    for (const auto& p : model->parameters()) {
      ASSERT_TRUE(p.tensor.grad().defined()) << p.name;
      EXPECT_GT(p.tensor.grad().abs().sum().item<double>(), 0) << p.name;
      EXPECT_TRUE(at::isfinite(p.tensor.grad()).all().item<bool>()) << p.name;
    }
  }
}

TEST(Models, DropoutActsOnlyInTraining) {
  PropagationGraph g(small_graph());
  for (const char* m : {"gcn", "ngcf", "gat"}) {
    SCOPED_TRACE(m);
    ModelOptions o;
    o.dim = 8;
    o.layers = 2;
    o.heads = 2;
    o.dropout = 0.5;
    auto model = make_model(m, o, g, at::kCPU);
    at::NoGradGuard no_grad;
    model->set_training(true);
    const at::Tensor a = model->forward().first, b = model->forward().first;
    EXPECT_FALSE(at::equal(a, b));
    model->set_training(false);
    EXPECT_TRUE(at::equal(model->forward().first, model->forward().first));
  }
}

// NGCF's forward against the formula evaluated densely in float64 from the
// model's own parameters: L = D^-1/2 A D^-1/2 built here from the edge list.
TEST(Models, NgcfMatchesDenseFormula) {
  const auto graph = small_graph();
  PropagationGraph g(graph);
  ModelOptions o;
  o.dim = 8;
  o.layers = 3;
  auto model = make_model("ngcf", o, g, at::kCPU);
  model->set_training(false);
  std::map<std::string, at::Tensor> p;
  for (const auto& t : model->parameters()) p[t.name] = t.tensor.detach().to(at::kDouble);

  const int64_t U = 7, N = 13;
  at::Tensor A = at::zeros({N, N}, at::kDouble);
  for (int64_t u = 0; u < U; ++u) {
    for (int64_t e = graph->user_offsets()[u]; e < graph->user_offsets()[u + 1]; ++e) {
      const int64_t i = U + graph->user_items()[e];
      A[u][i] = 1.0;
      A[i][u] = 1.0;
    }
  }
  const at::Tensor deg = A.sum(1);
  const at::Tensor dinv = at::where(deg > 0, deg.pow(-0.5), at::zeros_like(deg));
  const at::Tensor L = dinv.view({-1, 1}) * A * dinv.view({1, -1});
  at::Tensor e = p.at("embedding");
  std::vector<at::Tensor> outs{e};
  for (int l = 0; l < 3; ++l) {
    const std::string n = "layer" + std::to_string(l);
    const at::Tensor side = at::mm(L, e);
    const at::Tensor pre = at::mm(e + side, p.at(n + ".w1.weight").t()) + p.at(n + ".w1.bias") +
                           at::mm(side * e, p.at(n + ".w2.weight").t()) + p.at(n + ".w2.bias");
    e = at::where(pre > 0, pre, pre * 0.2);
    outs.push_back(e / e.norm(2, {1}, true).clamp_min(1e-12));
  }
  const at::Tensor expected = at::cat(outs, 1);
  at::NoGradGuard no_grad;
  auto [Uo, Io] = model->forward();
  const at::Tensor got = at::cat({Uo, Io}).to(at::kDouble);
  ASSERT_EQ(got.size(1), 8 * 4);
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5);
}

// On a graph where every node has exactly `fanout` neighbours, sampling
// without replacement takes every neighbour, so the mini-batch path must
// reproduce the full-neighbourhood path.
TEST(Models, SageSampledPathEqualsFullPathWhenFanoutCoversEveryNeighbour) {
  PropagationGraph g(regular_graph(9, 3));
  for (const char* a : {"mean", "max", "pool"}) {
    SCOPED_TRACE(a);
    ModelOptions o;
    o.dim = 8;
    o.layers = 2;
    o.aggregator = a;
    o.fanouts = {3, 3};
    auto model = make_model("sage", o, g, at::kCPU);
    model->set_training(false);
    at::NoGradGuard no_grad;
    auto [U, I] = model->forward();
    const at::Tensor users = at::tensor(std::vector<int64_t>{4, 0, 4, 8});
    const at::Tensor items = at::tensor(std::vector<int64_t>{1, 7, 2});
    auto [u, i] = model->represent(users, items);
    EXPECT_LT((u - U.index_select(0, users)).abs().max().item<double>(), 1e-5);
    EXPECT_LT((i - I.index_select(0, items)).abs().max().item<double>(), 1e-5);
    // Outputs are L2-normalised.
    EXPECT_LT((u.norm(2, {1}) - 1).abs().max().item<double>(), 1e-5);
  }
}

// LightGCN's batch path computes the last layer for the batch's rows only
// (SparseAdjacency::select_rows): the same rows as forward(), bit for bit,
// and the same gradient of the embedding table as the full path's (up to
// the order autograd adds a parameter's contributions), for every layer
// count and for rows that repeat.
TEST(Models, LightGcnBatchRowsEqualTheFullForwardAndItsGradient) {
  PropagationGraph g(small_graph());
  const at::Tensor users = at::tensor(std::vector<int64_t>{3, 0, 3, 6, 5});
  const at::Tensor items = at::tensor(std::vector<int64_t>{1, 5, 1, 2, 0, 4});
  for (int64_t layers : {0, 1, 2, 3}) {
    SCOPED_TRACE(layers);
    ModelOptions o;
    o.dim = 8;
    o.layers = layers;
    auto model = make_model("lightgcn", o, g, at::kCPU);
    const at::Tensor table = model->parameters().front().tensor;
    auto [U, I] = model->forward();
    auto [u, i] = model->represent(users, items);
    EXPECT_TRUE(at::equal(u, U.index_select(0, users)));
    EXPECT_TRUE(at::equal(i, I.index_select(0, items)));
    // d/dtable of a weighted sum of the batch rows, both ways.
    const at::Tensor wu = at::linspace(-1, 2, u.numel()).view_as(u);
    const at::Tensor wi = at::linspace(3, -1, i.numel()).view_as(i);
    const at::Tensor full_grad = torch::autograd::grad(
        {(U.index_select(0, users) * wu).sum() + (I.index_select(0, items) * wi).sum()},
        {table})[0];
    const at::Tensor batch_grad =
        torch::autograd::grad({(u * wu).sum() + (i * wi).sum()}, {table})[0];
    EXPECT_TRUE(at::allclose(batch_grad, full_grad, 1e-6, 1e-7));
  }
}

// With shuffle, the LSTM reads each row's neighbours in a random order: for
// a fanout of 2 the aggregate is the unshuffled one of either order, and both
// orders occur.
TEST(Layers, SageLstmShuffleReadsARandomPermutation) {
  const int64_t d = 3;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  layers::SageLayer layer;
  layer.aggregator = "lstm";
  layer.lin_l = {at::eye(d), at::Tensor()};
  layer.lin_r = {at::zeros({d, d}), at::Tensor()};
  layer.lstm = {at::randn({4 * d, d}, gen), at::randn({4 * d, d}, gen), at::randn({4 * d}, gen),
                at::randn({4 * d}, gen)};
  const at::Tensor x = at::randn({2, d}, gen);
  auto block = [&](const std::vector<int32_t>& cols) {
    SparseAdjacency a;
    a.num_rows = 1;
    a.num_cols = 2;
    a.rowptr = at::tensor(std::vector<int64_t>{0, 2});
    a.col = at::tensor(cols);
    fill_transpose(a);
    return a;
  };
  const SparseAdjacency ab = block({0, 1}), ba = block({1, 0});
  const at::Tensor x_dst = x.narrow(0, 0, 1);
  const at::Tensor in_order = layers::sage_conv(ab, x, x_dst, layer);
  const at::Tensor reversed = layers::sage_conv(ba, x, x_dst, layer);
  ASSERT_FALSE(at::allclose(in_order, reversed));
  int same = 0, swapped = 0;
  at::manual_seed(11);
  for (int t = 0; t < 40; ++t) {
    const at::Tensor y = layers::sage_conv(ab, x, x_dst, layer, /*shuffle=*/true);
    same += at::allclose(y, in_order);
    swapped += at::allclose(y, reversed);
  }
  EXPECT_EQ(same + swapped, 40);
  EXPECT_GT(same, 5);
  EXPECT_GT(swapped, 5);
}

TEST(SampleBlocks, BlocksAreSubgraphsOfTheGraph) {
  const auto graph = small_graph();
  PropagationGraph g(graph);
  const SparseAdjacency& adj = g.adjacency(Normalization::kNone, false, at::kFloat, at::kCPU);
  const at::Tensor targets = at::tensor(std::vector<int64_t>{0, 9, 3, 12});  // 12: isolated item
  const SampledSubgraph sg = sample_blocks(adj, targets, {2, 3}, 42);
  ASSERT_EQ(sg.nodes.size(), 3u);
  ASSERT_EQ(sg.blocks.size(), 2u);
  EXPECT_TRUE(at::equal(sg.nodes[0], targets));
  for (size_t k = 0; k < 2; ++k) {
    const SampledBlock& b = sg.blocks[k];
    const at::Tensor dst = sg.nodes[k], src = sg.nodes[k + 1];
    EXPECT_EQ(b.adj.num_rows, dst.numel());
    EXPECT_EQ(b.adj.num_cols, src.numel());
    // Each destination appears among the sources at dst_pos.
    EXPECT_TRUE(at::equal(src.index_select(0, b.dst_pos), dst));
    const auto* rp = b.adj.rowptr.data_ptr<int64_t>();
    const auto* cp = b.adj.col.data_ptr<int32_t>();
    for (int64_t r = 0; r < b.adj.num_rows; ++r) {
      const int64_t node = dst[r].item<int64_t>();
      const int64_t deg = adj.rowptr[node + 1].item<int64_t>() - adj.rowptr[node].item<int64_t>();
      const int64_t fanout = k == 0 ? 2 : 3;
      EXPECT_EQ(rp[r + 1] - rp[r], deg == 0 ? 0 : fanout) << "node " << node;
      std::set<int64_t> nbrs;
      for (int64_t e = adj.rowptr[node].item<int64_t>(); e < adj.rowptr[node + 1].item<int64_t>(); ++e) {
        nbrs.insert(adj.col[e].item<int>());
      }
      for (int64_t e = rp[r]; e < rp[r + 1]; ++e) {
        EXPECT_TRUE(nbrs.count(src[cp[e]].item<int64_t>())) << "node " << node;
      }
    }
  }
  // Same seed, same sample; another seed, another sample somewhere.
  const SampledSubgraph again = sample_blocks(adj, targets, {2, 3}, 42);
  EXPECT_TRUE(at::equal(again.blocks[1].adj.col, sg.blocks[1].adj.col));
  bool differs = false;
  for (uint64_t s = 1; s < 20 && !differs; ++s) {
    const SampledSubgraph other = sample_blocks(adj, targets, {2, 3}, s);
    differs = !at::equal(other.nodes[2], sg.nodes[2]) ||
              !at::equal(other.blocks[1].adj.col, sg.blocks[1].adj.col);
  }
  EXPECT_TRUE(differs);
}

TEST(Models, BadHyperParametersNameTheOption) {
  PropagationGraph g(small_graph());
  auto message = [&](const std::string& m, const ModelOptions& o) -> std::string {
    try {
      make_model(m, o, g, at::kCPU);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no error";
  };
  ModelOptions o;
  o.dim = 10;
  o.heads = 4;
  EXPECT_NE(message("gat", o).find("--heads (4) must divide --dim (10)"), std::string::npos);
  o = ModelOptions();
  o.heads = 0;
  EXPECT_NE(message("gat", o).find("--heads must be at least 1"), std::string::npos);
  o = ModelOptions();
  o.aggregator = "median";
  EXPECT_NE(message("sage", o).find("--aggregator must be one of mean, max, pool, lstm"),
            std::string::npos);
  o = ModelOptions();
  o.fanouts = {10};
  EXPECT_NE(message("sage", o).find("--fanouts has 1 values but --layers is 3"),
            std::string::npos);
  o.layers = 1;
  o.fanouts = {0};
  EXPECT_NE(message("sage", o).find("--fanouts must all be > 0"), std::string::npos);
  o = ModelOptions();
  o.dropout = 1.0;
  EXPECT_NE(message("gcn", o).find("--dropout must be in [0, 1)"), std::string::npos);
  o = ModelOptions();
  o.node_dropout = -0.1;
  EXPECT_NE(message("ngcf", o).find("--node-dropout must be in [0, 1)"), std::string::npos);
}

}  // namespace
}  // namespace gnnrec
