// HeteroGAT (models/heterogat.h): the typed graph it builds, its
// per-relation attention (normalisation and values) and one layer (outputs
// and gradients) against a dense float64 computation written here from the
// edge lists, a finite-difference check of the attention path, the model
// through the registry, its errors, and the MovieLens 100K side graph
// (skipped when ../shared/data is absent).
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "graph/kg_loaders.h"
#include "graph/loaders.h"
#include "models/heterogat.h"
#include "models/model.h"
#include "tests/testing/gradcheck.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;
using Edges = std::vector<std::pair<int, int>>;  // (source, destination)

at::Tensor randn64(at::IntArrayRef shape, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn(shape, gen, at::TensorOptions().dtype(at::kDouble));
}

// 3 users, 4 items, 3 genres, 2 age groups. Item 3 has no genre and genre 2
// no item (empty rows in both directions); item 0 has two users.
struct Small {
  Edges interacts{{0, 0}, {0, 1}, {1, 1}, {1, 2}, {2, 3}, {2, 0}};  // user -> item
  Edges genre{{0, 0}, {1, 0}, {1, 1}, {2, 1}};                      // item -> genre
  Edges age{{0, 0}, {1, 1}, {2, 1}};                                // user -> age
  std::shared_ptr<const BipartiteGraph> g;
  std::shared_ptr<const TypedGraph> side;

  Small() {
    Interactions x;
    for (auto [u, i] : interacts) {
      x.user.push_back(u);
      x.item.push_back(i);
    }
    g = std::make_shared<const BipartiteGraph>(BipartiteGraph::build(3, 4, x));
    TypedGraphBuilder b;
    const int32_t tu = b.add_node_type("user", 3);
    const int32_t ti = b.add_node_type("item", 4);
    const int32_t tg = b.add_node_type("genre", 3);
    const int32_t ta = b.add_node_type("age", 2);
    const int32_t rg = b.add_relation("item-has-genre", ti, tg);
    const int32_t ra = b.add_relation("user-has-age", tu, ta);
    for (auto [s, d] : genre) b.add_edge(rg, s, d);
    for (auto [s, d] : age) b.add_edge(ra, s, d);
    side = std::make_shared<const TypedGraph>(b.build(true));
  }

  // The dense [n_dst, n_src] 0/1 matrix of a relation, from the edge lists.
  at::Tensor dense(const heterogat::Graph& hg, const heterogat::Relation& r) const {
    const bool rev = r.name.rfind("rev_", 0) == 0;
    const std::string base = rev ? r.name.substr(4) : r.name;
    const Edges& e = base == "interacts" ? interacts : base == "item-has-genre" ? genre : age;
    at::Tensor m = at::zeros(
        {hg.num_nodes[static_cast<size_t>(r.dst)], hg.num_nodes[static_cast<size_t>(r.src)]},
        at::kDouble);
    for (auto [s, d] : e) {
      if (rev) std::swap(s, d);
      m[d][s] = 1.0;
    }
    return m;
  }
};

heterogat::RelationParams random_params(int64_t heads, int64_t channels, int64_t dim,
                                        uint64_t seed) {
  return {randn64({heads * channels, dim}, seed) * 0.5, randn64({heads, channels}, seed + 1),
          randn64({heads, channels}, seed + 2)};
}

heterogat::Layer random_layer(const heterogat::Graph& hg, int64_t heads, int64_t channels,
                              const std::string& aggregator, uint64_t seed) {
  heterogat::Layer l;
  l.heads = heads;
  l.aggregator = aggregator;
  const int64_t d = heads * channels;
  for (size_t r = 0; r < hg.relations.size(); ++r) {
    l.relations.push_back(random_params(heads, channels, d, seed + 10 * r));
  }
  for (int64_t t = 0; t < hg.num_types(); ++t) {
    l.self.push_back({randn64({d, d}, seed + 500 + static_cast<uint64_t>(t)) * 0.5,
                      randn64({d}, seed + 600 + static_cast<uint64_t>(t))});
  }
  return l;
}

std::vector<at::Tensor> random_features(const heterogat::Graph& hg, int64_t d, uint64_t seed) {
  std::vector<at::Tensor> x;
  for (int64_t t = 0; t < hg.num_types(); ++t) {
    x.push_back(
        randn64({hg.num_nodes[static_cast<size_t>(t)], d}, seed + static_cast<uint64_t>(t)));
  }
  return x;
}

// Dense attention [n_dst, n_src, H]: masked softmax over each destination's
// sources, 0 for a destination without any.
at::Tensor dense_attention(const at::Tensor& mask, const at::Tensor& x_src, const at::Tensor& x_dst,
                           const heterogat::RelationParams& p, int64_t heads, double slope) {
  const at::Tensor zs = at::matmul(x_src, p.weight.t()).view({x_src.size(0), heads, -1});
  const at::Tensor zd = at::matmul(x_dst, p.weight.t()).view({x_dst.size(0), heads, -1});
  const at::Tensor as = (zs * p.att_src).sum(-1), ad = (zd * p.att_dst).sum(-1);  // [n, H]
  at::Tensor e = ad.unsqueeze(1) + as.unsqueeze(0);                               // [nd, ns, H]
  e = at::where(e > 0, e, e * slope);
  const at::Tensor m = mask.unsqueeze(-1).expand_as(e);
  e = e.masked_fill(m.eq(0), -1e300);
  const at::Tensor w = at::exp(e - std::get<0>(e.max(1, true))) * m;
  const at::Tensor denom = w.sum(1, true);
  return w / at::where(denom > 0, denom, at::ones_like(denom));
}

std::vector<at::Tensor> dense_layer(const Small& s, const heterogat::Graph& hg,
                                    const std::vector<at::Tensor>& x, const heterogat::Layer& l) {
  std::vector<at::Tensor> sum(x.size());
  std::vector<int> count(x.size(), 0);
  for (size_t r = 0; r < hg.relations.size(); ++r) {
    const auto& rel = hg.relations[r];
    const at::Tensor& xs = x[static_cast<size_t>(rel.src)];
    const at::Tensor& xd = x[static_cast<size_t>(rel.dst)];
    const at::Tensor a =
        dense_attention(s.dense(hg, rel), xs, xd, l.relations[r], l.heads, l.negative_slope);
    const at::Tensor zs = at::matmul(xs, l.relations[r].weight.t()).view({xs.size(0), l.heads, -1});
    const at::Tensor m = at::einsum("ijk,jkc->ikc", {a, zs}).reshape({xd.size(0), -1});
    auto& acc = sum[static_cast<size_t>(rel.dst)];
    acc = acc.defined() ? acc + m : m;
    ++count[static_cast<size_t>(rel.dst)];
  }
  std::vector<at::Tensor> y;
  for (size_t t = 0; t < x.size(); ++t) {
    at::Tensor out = at::matmul(x[t], l.self[t].weight.t()) + l.self[t].bias;
    if (sum[t].defined()) out = out + (l.aggregator == "mean" ? sum[t] / count[t] : sum[t]);
    y.push_back(out);
  }
  return y;
}

int64_t max_in_degree(const heterogat::Relation& r) {
  const at::Tensor& rp = r.adj.rowptr;
  return (rp.narrow(0, 1, r.adj.num_rows) - rp.narrow(0, 0, r.adj.num_rows)).max().item<int64_t>();
}

TEST(HeteroGat, GraphHoldsEveryRelationBothWays) {
  const Small s;
  const heterogat::Graph hg = heterogat::build_graph(*s.g, s.side.get());
  EXPECT_EQ(hg.type_names, (std::vector<std::string>{"user", "item", "genre", "age"}));
  EXPECT_EQ(hg.num_nodes, (std::vector<int64_t>{3, 4, 3, 2}));
  std::vector<std::string> names;
  for (const auto& r : hg.relations) names.push_back(r.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"interacts", "item-has-genre", "user-has-age",
                                      "rev_interacts", "rev_item-has-genre", "rev_user-has-age"}));
  for (const auto& r : hg.relations) {
    // The CSR rows (destinations) and columns (sources) as a dense matrix.
    at::Tensor m = at::zeros({r.adj.num_rows, r.adj.num_cols}, at::kDouble);
    for (int64_t i = 0; i < r.adj.num_rows; ++i) {
      for (int64_t k = r.adj.rowptr[i].item<int64_t>(); k < r.adj.rowptr[i + 1].item<int64_t>();
           ++k) {
        m[i][r.adj.col[k].item<int>()] += 1.0;
      }
    }
    EXPECT_TRUE(m.equal(s.dense(hg, r))) << r.name;
  }
  // Without side information: users and items only.
  const heterogat::Graph plain = heterogat::build_graph(*s.g, nullptr);
  EXPECT_EQ(plain.num_types(), 2);
  ASSERT_EQ(plain.relations.size(), 2u);
  EXPECT_EQ(plain.relations[1].name, "rev_interacts");
}

TEST(HeteroGat, AttentionSumsToOneAndMatchesDense) {
  const Small s;
  const heterogat::Graph hg = heterogat::build_graph(*s.g, s.side.get());
  const int64_t heads = 2, channels = 3, d = heads * channels;
  const auto x = random_features(hg, d, 40);
  for (size_t r = 0; r < hg.relations.size(); ++r) {
    const auto& rel = hg.relations[r];
    const auto p = random_params(heads, channels, d, 70 + 10 * r);
    const at::Tensor& xs = x[static_cast<size_t>(rel.src)];
    const at::Tensor& xd = x[static_cast<size_t>(rel.dst)];
    const at::Tensor alpha = heterogat::attention(rel, xs, xd, p, heads, 0.2);
    ASSERT_EQ(alpha.sizes(), (std::vector<int64_t>{rel.adj.nnz(), heads}));
    const at::Tensor ref = dense_attention(s.dense(hg, rel), xs, xd, p, heads, 0.2);
    for (int64_t i = 0; i < rel.adj.num_rows; ++i) {
      const int64_t b = rel.adj.rowptr[i].item<int64_t>(),
                    e = rel.adj.rowptr[i + 1].item<int64_t>();
      for (int64_t k = 0; k < heads; ++k) {
        double row_sum = 0;
        for (int64_t q = b; q < e; ++q) {
          row_sum += alpha[q][k].item<double>();
          EXPECT_NEAR(alpha[q][k].item<double>(),
                      ref[i][rel.adj.col[q].item<int>()][k].item<double>(), 1e-12)
              << rel.name << " dst " << i << " head " << k;
        }
        if (e > b) {
          EXPECT_NEAR(row_sum, 1.0, 1e-12) << rel.name << " dst " << i << " head " << k;
        }
        EXPECT_NEAR(ref[i].select(1, k).sum().item<double>(), e > b ? 1.0 : 0.0, 1e-12);
      }
    }
  }
}

TEST(HeteroGat, LayerMatchesDenseFloat64) {
  const Small s;
  const heterogat::Graph hg = heterogat::build_graph(*s.g, s.side.get());
  const int64_t heads = 2, channels = 2, d = heads * channels;
  for (const std::string aggregator : {"sum", "mean"}) {
    const heterogat::Layer l = random_layer(hg, heads, channels, aggregator, 100);
    const auto x = random_features(hg, d, 200);
    const auto y = heterogat::layer(hg, x, l);
    const auto ref = dense_layer(s, hg, x, l);
    ASSERT_EQ(y.size(), ref.size());
    for (size_t t = 0; t < y.size(); ++t) {
      ASSERT_EQ(y[t].scalar_type(), at::kDouble);
      EXPECT_TRUE(at::allclose(y[t], ref[t], 1e-12, 1e-12))
          << aggregator << " type " << hg.type_names[t] << ": max |diff| "
          << (y[t] - ref[t]).abs().max().item<double>();
    }
  }
}

TEST(HeteroGat, LayerGradientsMatchDense) {
  const Small s;
  const heterogat::Graph hg = heterogat::build_graph(*s.g, s.side.get());
  const int64_t heads = 2, channels = 2, d = heads * channels;
  // Two copies of every input: one through the layer, one through the dense
  // reference; the gradients of <y, w> must agree.
  auto leaves = [&](uint64_t seed) {
    heterogat::Layer l = random_layer(hg, heads, channels, "mean", seed);
    for (auto& p : l.relations) {
      for (at::Tensor* t : {&p.weight, &p.att_src, &p.att_dst}) t->requires_grad_(true);
    }
    for (auto& lin : l.self) {
      lin.weight.requires_grad_(true);
      lin.bias.requires_grad_(true);
    }
    auto x = random_features(hg, d, seed + 1000);
    for (auto& t : x) t.requires_grad_(true);
    return std::make_pair(l, x);
  };
  auto [l1, x1] = leaves(300);
  auto [l2, x2] = leaves(300);
  const auto y1 = heterogat::layer(hg, x1, l1);
  const auto y2 = dense_layer(s, hg, x2, l2);
  at::Tensor loss1 = at::zeros({}, at::kDouble), loss2 = at::zeros({}, at::kDouble);
  for (size_t t = 0; t < y1.size(); ++t) {
    const at::Tensor w = randn64(y1[t].sizes(), 900 + t);
    loss1 = loss1 + (y1[t] * w).sum();
    loss2 = loss2 + (y2[t] * w).sum();
  }
  loss1.backward();
  loss2.backward();
  auto same = [](const at::Tensor& a, const at::Tensor& b, const std::string& what, bool zero) {
    ASSERT_TRUE(a.grad().defined()) << what;
    ASSERT_TRUE(b.grad().defined()) << what;
    EXPECT_TRUE(at::allclose(a.grad(), b.grad(), 1e-10, 1e-12))
        << what << ": max |diff| " << (a.grad() - b.grad()).abs().max().item<double>();
    if (zero) {
      EXPECT_EQ(a.grad().abs().max().item<double>(), 0) << what;
    } else {
      EXPECT_GT(a.grad().abs().sum().item<double>(), 0) << what;
    }
  };
  for (size_t t = 0; t < x1.size(); ++t) same(x1[t], x2[t], "x." + hg.type_names[t], false);
  for (size_t r = 0; r < l1.relations.size(); ++r) {
    const std::string n = hg.relations[r].name;
    // Every user has one age: α = 1 on rev_user-has-age whatever its
    // attention vectors, whose gradient is therefore exactly 0.
    const bool constant = max_in_degree(hg.relations[r]) <= 1;
    EXPECT_EQ(constant, n == "rev_user-has-age") << n;
    same(l1.relations[r].weight, l2.relations[r].weight, n + ".weight", false);
    same(l1.relations[r].att_src, l2.relations[r].att_src, n + ".att_src", constant);
    same(l1.relations[r].att_dst, l2.relations[r].att_dst, n + ".att_dst", constant);
  }
  for (size_t t = 0; t < l1.self.size(); ++t) {
    same(l1.self[t].weight, l2.self[t].weight, "self." + hg.type_names[t], false);
    same(l1.self[t].bias, l2.self[t].bias, "self.bias." + hg.type_names[t], false);
  }
}

TEST(HeteroGat, AttentionGradcheck) {
  const Small s;
  const heterogat::Graph hg = heterogat::build_graph(*s.g, s.side.get());
  const int64_t heads = 2, channels = 2, d = heads * channels;
  for (const char* name : {"interacts", "rev_item-has-genre"}) {
    const heterogat::Relation* rel = nullptr;
    for (const auto& r : hg.relations) {
      if (r.name == name) rel = &r;
    }
    ASSERT_NE(rel, nullptr);
    testing::gradcheck(
        [&](const std::vector<at::Tensor>& in) {
          return heterogat::attention(*rel, in[0], in[1], {in[2], in[3], in[4]}, heads, 0.2);
        },
        {randn64({hg.num_nodes[static_cast<size_t>(rel->src)], d}, 11),
         randn64({hg.num_nodes[static_cast<size_t>(rel->dst)], d}, 12), randn64({d, d}, 13),
         randn64({heads, channels}, 14), randn64({heads, channels}, 15)});
  }
}

ModelOptions small_options() {
  ModelOptions o;
  o.dim = 8;
  o.layers = 2;
  o.heads = 2;
  return o;
}

TEST(HeteroGat, ModelTrainsEveryParameter) {
  const Small s;
  for (bool with_side : {true, false}) {
    PropagationGraph pg(s.g, with_side ? s.side : nullptr);
    auto m = make_model("heterogat", small_options(), pg, at::kCPU);
    EXPECT_EQ(m->name(), "heterogat");
    auto [u, i] = m->forward();
    EXPECT_EQ(u.sizes(), (std::vector<int64_t>{3, 8}));
    EXPECT_EQ(i.sizes(), (std::vector<int64_t>{4, 8}));
    (u.sum() * 0.3 + (u.matmul(i.t())).pow(2).sum()).backward();
    std::set<std::string> names;
    for (const auto& p : m->parameters()) {
      names.insert(p.name);
      ASSERT_TRUE(p.tensor.grad().defined()) << p.name;
      // α = 1 on rev_user-has-age (one age per user): no gradient to its
      // attention vectors (LayerGradientsMatchDense checks that it is 0).
      if (p.name.find("rev_user-has-age.att_") != std::string::npos) continue;
      EXPECT_GT(p.tensor.grad().abs().sum().item<double>(), 0) << p.name;
    }
    // The last layer computes users and items only.
    EXPECT_EQ(names.count("layer1.self.genre.weight"), 0u);
    EXPECT_EQ(names.count("layer0.self.genre.weight"), with_side ? 1u : 0u);
    EXPECT_EQ(names.count("embedding.genre"), with_side ? 1u : 0u);
    EXPECT_EQ(names.count("layer1.rev_user-has-age.att_src"), with_side ? 1u : 0u);
    EXPECT_EQ(names.count("layer0.rev_interacts.att_dst"), 1u);
    // Ego embeddings are the user and item ID embeddings.
    auto [eu, ei] = m->ego(at::tensor({2}, at::kLong), at::tensor({1, 3}, at::kLong));
    EXPECT_EQ(eu.sizes(), (std::vector<int64_t>{1, 8}));
    EXPECT_EQ(ei.sizes(), (std::vector<int64_t>{2, 8}));
  }
}

TEST(HeteroGat, BadOptionsAndGraphsAreClearErrors) {
  const Small s;
  PropagationGraph pg(s.g, s.side);
  ModelOptions o = small_options();
  o.heads = 3;
  try {
    make_model("heterogat", o, pg, at::kCPU);
    FAIL() << "heads not dividing dim";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--heads (3) must divide --dim (8)"), std::string::npos);
  }
  o = small_options();
  o.aggregator = "max";
  EXPECT_THROW(make_model("heterogat", o, pg, at::kCPU), std::invalid_argument);
  o = small_options();
  o.attention_dropout = 1.0;
  EXPECT_THROW(make_model("heterogat", o, pg, at::kCPU), std::invalid_argument);
  // A knowledge graph (entity nodes) is not side information with user and item types.
  TypedGraphBuilder b;
  const int32_t e = b.add_node_type("entity", 5);
  b.add_edge(b.add_relation("a", e, e), 0, 4);
  PropagationGraph kg(s.g, std::make_shared<const TypedGraph>(b.build(true)));
  try {
    make_model("heterogat", small_options(), kg, at::kCPU);
    FAIL() << "knowledge graph";
  } catch (const std::invalid_argument& err) {
    EXPECT_NE(std::string(err.what()).find("knowledge graph"), std::string::npos);
  }
  // Side information for another set of users.
  TypedGraphBuilder b2;
  b2.add_node_type("user", 5);
  b2.add_node_type("item", 4);
  PropagationGraph other(s.g, std::make_shared<const TypedGraph>(b2.build(true)));
  EXPECT_THROW(make_model("heterogat", small_options(), other, at::kCPU), std::invalid_argument);
}

TEST(HeteroGatShared, MovieLens100kSideGraph) {
  const std::string dir = (fs::path(GNNREC_SHARED_DATA) / "ml-100k").string();
  if (!fs::exists(dir + "/u.user")) GTEST_SKIP() << dir << " not present";
  const Dataset ds = load_dataset(dir);
  const BipartiteGraph g = BipartiteGraph::build(ds.num_users(), ds.num_items(), ds.train);
  const auto side = load_side_graph(dir, ds);
  ASSERT_NE(side, nullptr);
  const heterogat::Graph hg = heterogat::build_graph(g, side.get());
  EXPECT_EQ(hg.type_names,
            (std::vector<std::string>{"user", "item", "genre", "age", "gender", "occupation"}));
  EXPECT_EQ(hg.num_nodes, (std::vector<int64_t>{943, 1682, 19, 7, 2, 21}));
  ASSERT_EQ(hg.relations.size(), 10u);
  std::map<std::string, const heterogat::Relation*> by_name;
  for (const auto& r : hg.relations) by_name[r.name] = &r;
  EXPECT_EQ(by_name.at("interacts")->adj.nnz(), 100000);
  // Every user has exactly one age, gender and occupation: one incoming edge.
  for (const char* r : {"rev_user-has-age", "rev_user-has-gender", "rev_user-has-occupation"}) {
    const at::Tensor& rp = by_name.at(r)->adj.rowptr;
    EXPECT_TRUE((rp.narrow(0, 1, 943) - rp.narrow(0, 0, 943)).eq(1).all().item<bool>()) << r;
  }
  ModelOptions o;
  o.dim = 16;
  o.layers = 1;
  PropagationGraph pg(std::make_shared<const BipartiteGraph>(g), side);
  auto m = make_model("heterogat", o, pg, at::kCPU);
  auto [u, i] = m->forward();
  EXPECT_EQ(u.sizes(), (std::vector<int64_t>{943, 16}));
  EXPECT_TRUE(at::isfinite(i).all().item<bool>());
}

}  // namespace
}  // namespace gnnrec
