// HeteroGAT, `--model heterogat` (models/heterogat.h for the graph and the
// layer).
//
// Inputs: every node type t has its own ID embedding E_t [n_t, dim] (users
// and items; side entity types such as genre, occupation, age bucket and
// gender) and its own linear transform into the shared hidden width:
//   h⁰_t = E_t W_in,tᵀ + b_in,t
// then `--layers` HeteroGAT layers (ELU between them, feature dropout
// `--dropout` on each layer's input, attention dropout
// `--attention-dropout`), `--heads` heads of dim/heads channels
// concatenated, `--aggregator` sum or mean across the relations into a type.
// The user and item representations are the mean of h⁰ .. h^L (as LightGCN
// combines its layers), scored by dot product; the L2 term of the loss is on
// the batch's user and item ID embeddings.
// Defaults: 4 heads, mean aggregation, no dropout.
//
// Without side information (the synthetic data, `--no-side-info`) the graph
// has the user and item types and the relations interacts / rev_interacts.
#include "models/heterogat.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "kernels/ops.h"
#include "models/graph_model.h"
#include "models/model.h"

namespace gnnrec::heterogat {

Graph Graph::to(at::Device device) const {
  Graph out = *this;
  for (auto& r : out.relations) r.adj = r.adj.to(device, at::kFloat);
  return out;
}

namespace {

// Relation r's adjacency with destinations as rows: its CSC.
SparseAdjacency relation_adjacency(const RelationStore& r, int64_t num_src, int64_t num_dst) {
  SparseAdjacency a;
  a.num_rows = num_dst;
  a.num_cols = num_src;
  a.rowptr = at::tensor(r.t_offsets, at::kLong);
  a.col = at::tensor(r.src, at::kInt);
  fill_transpose(a);
  return a;
}

}  // namespace

Graph build_graph(const BipartiteGraph& g, const TypedGraph* side) {
  TypedGraphBuilder b;
  const int32_t user = b.add_node_type("user", g.num_users());
  const int32_t item = b.add_node_type("item", g.num_items());
  const int32_t interacts = b.add_relation("interacts", user, item);
  for (int64_t u = 0; u < g.num_users(); ++u) {
    for (int64_t k = g.user_offsets()[u]; k < g.user_offsets()[u + 1]; ++k) {
      b.add_edge(interacts, static_cast<int32_t>(u), g.user_items()[static_cast<size_t>(k)]);
    }
  }
  if (side != nullptr) {
    if (side->find_type("entity") >= 0) {
      throw std::invalid_argument(
          "--model heterogat reads side information with user and item node types (MovieLens "
          "100K's u.user and u.item, RecBole's NAME.user and NAME.item); this data set's side "
          "graph is a knowledge graph: use kgat or kgcn, or pass --no-side-info");
    }
    const int32_t su = side->find_type("user"), si = side->find_type("item");
    if (su < 0 || si < 0) {
      throw std::invalid_argument("heterogat: the side graph has no 'user' or no 'item' node type");
    }
    if (side->num_nodes(su) != g.num_users() || side->num_nodes(si) != g.num_items()) {
      throw std::invalid_argument(
          "heterogat: the side graph has " + std::to_string(side->num_nodes(su)) + " users and " +
          std::to_string(side->num_nodes(si)) + " items, the interactions " +
          std::to_string(g.num_users()) + " and " + std::to_string(g.num_items()));
    }
    // Side types keep their order after user and item.
    std::vector<int32_t> type_of(static_cast<size_t>(side->num_node_types()));
    for (int32_t t = 0; t < side->num_node_types(); ++t) {
      type_of[static_cast<size_t>(t)] = t == su ? user
                                        : t == si
                                            ? item
                                            : b.add_node_type(side->type_name(t), side->ids(t));
    }
    // Forward relations only: build() adds every inverse.
    for (int32_t r = 0; r < side->num_forward(); ++r) {
      const RelationStore& rs = side->relation(r);
      const int32_t id = b.add_relation(rs.name, type_of[static_cast<size_t>(rs.src_type)],
                                        type_of[static_cast<size_t>(rs.dst_type)]);
      for (size_t s = 0; s + 1 < rs.offsets.size(); ++s) {
        for (int64_t k = rs.offsets[s]; k < rs.offsets[s + 1]; ++k) {
          b.add_edge(id, static_cast<int32_t>(s), rs.dst[static_cast<size_t>(k)]);
        }
      }
    }
  }
  const TypedGraph tg = b.build(/*add_inverse=*/true);
  Graph out;
  for (int32_t t = 0; t < tg.num_node_types(); ++t) {
    out.type_names.push_back(tg.type_name(t));
    out.num_nodes.push_back(tg.num_nodes(t));
  }
  for (int32_t r = 0; r < tg.num_relations(); ++r) {
    const RelationStore& rs = tg.relation(r);
    out.relations.push_back(
        {rs.name, rs.src_type, rs.dst_type,
         relation_adjacency(rs, tg.num_nodes(rs.src_type), tg.num_nodes(rs.dst_type))});
  }
  return out;
}

namespace {

// α from the transformed features z_src [n_src, H, C] and z_dst [n_dst, H, C].
at::Tensor attention_of(const Relation& rel, const at::Tensor& z_src, const at::Tensor& z_dst,
                        const RelationParams& p, double negative_slope) {
  const SparseAdjacency& a = rel.adj;
  const at::Tensor a_src = (z_src * p.att_src).sum(-1);  // [n_src, H]
  const at::Tensor a_dst = (z_dst * p.att_dst).sum(-1);  // [n_dst, H]
  // Row = destination i, column = source j: logit a_dst[i] + a_src[j].
  at::Tensor e = ops::sddmm_add(a.rowptr, a.col, a.t_rowptr, a.t_col, a.t_perm, a_dst, a_src);
  return ops::edge_softmax(a.rowptr, at::leaky_relu(e, negative_slope));
}

at::Tensor transform(const at::Tensor& x, const RelationParams& p, int64_t heads) {
  return at::linear(x, p.weight).view({x.size(0), heads, -1});
}

void check_shapes(const Relation& rel, const at::Tensor& x_src, const at::Tensor& x_dst,
                  const RelationParams& p, int64_t heads) {
  if (heads < 1 || p.att_src.dim() != 2 || p.att_src.size(0) != heads ||
      !p.att_dst.sizes().equals(p.att_src.sizes()) ||
      p.weight.size(0) != heads * p.att_src.size(1)) {
    throw std::invalid_argument(
        "heterogat: relation " + rel.name +
        ": attention vectors must be [heads, C] and the weight [heads*C, d]");
  }
  if (x_src.size(0) != rel.adj.num_cols || x_dst.size(0) != rel.adj.num_rows) {
    throw std::invalid_argument("heterogat: relation " + rel.name + " joins " +
                                std::to_string(rel.adj.num_cols) + " sources to " +
                                std::to_string(rel.adj.num_rows) + " destinations, got features " +
                                c10::str(x_src.sizes()) + " and " + c10::str(x_dst.sizes()));
  }
}

}  // namespace

at::Tensor attention(const Relation& rel, const at::Tensor& x_src, const at::Tensor& x_dst,
                     const RelationParams& p, int64_t heads, double negative_slope) {
  check_shapes(rel, x_src, x_dst, p, heads);
  return attention_of(rel, transform(x_src, p, heads), transform(x_dst, p, heads), p,
                      negative_slope);
}

std::vector<at::Tensor> layer(const Graph& g, const std::vector<at::Tensor>& x, const Layer& l,
                              double attention_dropout, bool training) {
  if (static_cast<int64_t>(x.size()) != g.num_types() ||
      static_cast<int64_t>(l.self.size()) != g.num_types() ||
      l.relations.size() != g.relations.size()) {
    throw std::invalid_argument("heterogat: layer parameters do not match the graph (" +
                                std::to_string(g.num_types()) + " node types, " +
                                std::to_string(g.relations.size()) + " relations)");
  }
  if (l.aggregator != "sum" && l.aggregator != "mean") {
    throw std::invalid_argument("--aggregator for heterogat must be sum or mean, got '" +
                                l.aggregator + "'");
  }
  std::vector<at::Tensor> agg(x.size());
  std::vector<int64_t> count(x.size(), 0);
  for (size_t r = 0; r < g.relations.size(); ++r) {
    const Relation& rel = g.relations[r];
    const RelationParams& p = l.relations[r];
    if (!p.weight.defined() || !l.self[static_cast<size_t>(rel.dst)].weight.defined()) continue;
    const at::Tensor& xs = x[static_cast<size_t>(rel.src)];
    const at::Tensor& xd = x[static_cast<size_t>(rel.dst)];
    check_shapes(rel, xs, xd, p, l.heads);
    const at::Tensor zs = transform(xs, p, l.heads), zd = transform(xd, p, l.heads);
    at::Tensor alpha = attention_of(rel, zs, zd, p, l.negative_slope);  // [nnz, H]
    if (training && attention_dropout > 0) alpha = at::dropout(alpha, attention_dropout, true);
    // One spmm per head over head-major copies (as layers::gat_conv).
    const std::vector<at::Tensor> alpha_h = alpha.t().contiguous().unbind(0);
    const std::vector<at::Tensor> z_h = zs.permute({1, 0, 2}).contiguous().unbind(0);
    std::vector<at::Tensor> per_head;
    per_head.reserve(static_cast<size_t>(l.heads));
    const SparseAdjacency& a = rel.adj;
    for (int64_t k = 0; k < l.heads; ++k) {
      per_head.push_back(ops::spmm(a.rowptr, a.col, alpha_h[static_cast<size_t>(k)], a.t_rowptr,
                                   a.t_col, a.t_perm, z_h[static_cast<size_t>(k)]));
    }
    const at::Tensor m = at::cat(per_head, 1);  // [n_dst, H*C]
    at::Tensor& acc = agg[static_cast<size_t>(rel.dst)];
    acc = acc.defined() ? acc + m : m;
    ++count[static_cast<size_t>(rel.dst)];
  }
  std::vector<at::Tensor> y;
  y.reserve(x.size());
  for (size_t t = 0; t < x.size(); ++t) {
    if (!l.self[t].weight.defined()) {
      y.emplace_back();
      continue;
    }
    at::Tensor out = l.self[t](x[t]);
    if (agg[t].defined()) {
      out = out + (l.aggregator == "mean" ? agg[t] / static_cast<double>(count[t]) : agg[t]);
    }
    y.push_back(out);
  }
  return y;
}

namespace {

class HeteroGat : public Model {
 public:
  HeteroGat(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : seed_(o.seed), device_(device),
        dropout_(checked_probability("--dropout", o.dropout.value())),
        attention_dropout_(
            checked_probability("--attention-dropout", o.attention_dropout.value())) {
    const int64_t heads = o.heads.value();
    if (heads < 1)
      throw std::invalid_argument("--heads must be at least 1, got " + std::to_string(heads));
    if (o.dim % heads != 0) {
      throw std::invalid_argument("--heads (" + std::to_string(heads) + ") must divide --dim (" +
                                  std::to_string(o.dim) + ") for heterogat");
    }
    const std::string aggregator = o.aggregator.value();
    if (aggregator != "sum" && aggregator != "mean") {
      throw std::invalid_argument("--aggregator for heterogat must be sum or mean, got '" +
                                  aggregator + "'");
    }
    graph_ = build_graph(g.graph(), g.side()).to(device);
    const int64_t types = graph_.num_types(), d = o.dim, channels = d / heads;
    for (int64_t t = 0; t < types; ++t) {
      const std::string& name = graph_.type_names[static_cast<size_t>(t)];
      embeddings_.push_back(normal_parameter(graph_.num_nodes[static_cast<size_t>(t)], d,
                                             o.init_std, o.seed, 10 + static_cast<uint64_t>(t),
                                             device));
      params_.push_back({"embedding." + name, embeddings_.back()});
      inputs_.push_back(add_linear("input." + name, d, d, true));
    }
    for (int64_t l = 0; l < o.layers; ++l) {
      const std::string p = "layer" + std::to_string(l) + ".";
      Layer layer;
      layer.heads = heads;
      layer.aggregator = aggregator;
      // The last layer computes users and items only: the other types'
      // outputs would not reach the representations.
      const bool last = l + 1 == o.layers;
      auto needed = [&](int32_t type) { return !last || type < 2; };
      for (const Relation& r : graph_.relations) {
        RelationParams rp;
        if (!needed(r.dst)) {
          layer.relations.push_back(rp);
          continue;
        }
        rp.weight = add_linear(p + r.name, d, d, false).weight;
        rp.att_src = add_glorot(p + r.name + ".att_src", heads, channels);
        rp.att_dst = add_glorot(p + r.name + ".att_dst", heads, channels);
        layer.relations.push_back(rp);
      }
      for (int32_t t = 0; t < types; ++t) {
        if (!needed(t)) {
          layer.self.emplace_back();
          continue;
        }
        layer.self.push_back(
            add_linear(p + "self." + graph_.type_names[static_cast<size_t>(t)], d, d, true));
      }
      layers_.push_back(std::move(layer));
    }
  }

  std::string name() const override { return "heterogat"; }

  std::pair<at::Tensor, at::Tensor> forward() override {
    std::vector<at::Tensor> h;
    for (size_t t = 0; t < embeddings_.size(); ++t) h.push_back(inputs_[t](embeddings_[t]));
    at::Tensor user = h[0], item = h[1];
    for (size_t l = 0; l < layers_.size(); ++l) {
      std::vector<at::Tensor> in;
      for (const auto& x : h) in.push_back(dropout(x));
      h = layer(graph_, in, layers_[l], attention_dropout_, training());
      if (l + 1 < layers_.size()) {
        for (auto& x : h) x = at::elu(x);
      }
      user = user + h[0];
      item = item + h[1];
    }
    const double n = static_cast<double>(layers_.size() + 1);
    return {user / n, item / n};
  }

  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& users, const at::Tensor& items) override {
    return {embeddings_[0].index_select(0, users), embeddings_[1].index_select(0, items)};
  }

  std::vector<NamedTensor> parameters() override { return params_; }

 private:
  layers::Linear add_linear(const std::string& name, int64_t in, int64_t out, bool bias) {
    layers::Linear l = layers::make_linear(in, out, bias, seed_, 100 + params_.size(), device_);
    params_.push_back({name + ".weight", l.weight});
    if (bias) params_.push_back({name + ".bias", l.bias});
    return l;
  }
  at::Tensor add_glorot(const std::string& name, int64_t rows, int64_t cols) {
    at::Tensor t =
        layers::make_linear(cols, rows, false, seed_, 100 + params_.size(), device_).weight;
    params_.push_back({name, t});
    return t;
  }
  at::Tensor dropout(const at::Tensor& x) const {
    return training() && dropout_ > 0 ? at::dropout(x, dropout_, true) : x;
  }

  uint64_t seed_;
  at::Device device_;
  double dropout_, attention_dropout_;
  Graph graph_;
  std::vector<at::Tensor> embeddings_;  // per node type
  std::vector<layers::Linear> inputs_;  // per node type
  std::vector<Layer> layers_;
  std::vector<NamedTensor> params_;
};

const ModelRegistrar kRegister(
    "heterogat", factory_of<HeteroGat>(),
    ModelDefaults().dropout(0.0).attention_dropout(0.0).heads(4).aggregator("mean"));

}  // namespace
}  // namespace gnnrec::heterogat
