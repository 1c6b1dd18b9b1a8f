// KGAT (Wang et al., KDD 2019), `--model kgat`.
//
// Over the collaborative knowledge graph (models/kgat.h), with e⁰ the
// layer-0 embeddings of users and entities ([N, dim]), e_r the relation
// embeddings ([R, dim]) and W_r the relation projections ([R, dim, dim]):
//   attention  A(h, t) = edge_softmax over h's triples of
//              π(h, r, t) = (W_r e_t)ᵀ tanh(W_r e_h + e_r)
//   layer l    e_N = A e^{l-1}   (gnnrec::spmm with the attention as values)
//              e^l = LeakyReLU_0.2(W1 (e + e_N) + b1) + LeakyReLU_0.2(W2 (e ⊙ e_N) + b2)
//              (bi-interaction), then message dropout
//   output     [e⁰ ; ê¹ ; … ; ê^L], ê^l = e^l / ‖e^l‖₂; score = dot product
// Layer widths: dim, then dim, dim/2, dim/4, … (at least 1): `--dim 64
// --layers 3` is the paper's 64 embedding and 64-32-16 layers. Message
// dropout `--message-dropout` (paper 0.1); LeakyReLU slope 0.2 (the
// authors' TensorFlow code).
//
// Training alternates the two objectives as the paper does, once per epoch:
// the trainer's batches fit the recommendation loss (BPR on the
// concatenated representations + `--reg` on the batch's layer-0
// embeddings), then extra_epoch_phase() fits the knowledge-graph loss over
// every CKG triple (interactions included, as the authors' code), in
// batches of `--batch-size` in a seeded random order, one corrupted tail t'
// drawn uniformly from all N nodes per triple:
//   L_KG = mean softplus(d(h, r, t) − d(h, r, t')) + 1e-5 · ½ ‖e_h, e_r, e_t, e_t'‖² / batch
// with d the TransR distance of models/kg_embedding.h (projections
// L2-normalised), computed one relation at a time. The attention is
// computed without gradient from the current parameters whenever
// set_training() is called: at the start of
// every epoch (so from the parameters after the previous epoch's KG phase,
// where the authors' code updates it) and before every evaluation. A
// resumed run recomputes it from the loaded parameters, so it reproduces an
// uninterrupted one.
#include "models/kgat.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>

#include "kernels/ops.h"
#include "models/graph_model.h"
#include "models/layers.h"
#include "models/model.h"

namespace gnnrec::kgat {

Ckg Ckg::to(at::Device device) const {
  Ckg c = *this;
  c.adj = adj.to(device, at::kFloat);
  c.head = head.to(device);
  c.relation = relation.to(device);
  c.tail = tail.to(device);
  for (auto& t : c.rel_heads) t = t.to(device);
  for (auto& t : c.rel_tails) t = t.to(device);
  c.by_relation = by_relation.to(device);
  c.from_relation = from_relation.to(device);
  return c;
}

Ckg build_ckg(const BipartiteGraph& g, const TypedGraph* kg) {
  const int32_t entity = kg != nullptr ? kg->find_type("entity") : -1;
  if (entity < 0) {
    throw std::invalid_argument(
        "--model kgat needs a knowledge graph: a data set folder with kg_final.txt (KGAT "
        "format), kg.txt and item_index2entity_id.txt (KGCN format) or NAME.kg and NAME.link "
        "beside NAME.inter (RecBole format)");
  }
  Ckg c;
  c.num_users = g.num_users();
  c.num_items = g.num_items();
  c.num_entities = kg->num_nodes(entity);
  if (c.num_entities < c.num_items) {
    throw std::invalid_argument("kgat: the knowledge graph has fewer entities than items");
  }
  const int64_t n = c.num_nodes(), U = c.num_users;
  if (n > std::numeric_limits<int32_t>::max()) {
    throw std::invalid_argument("kgat: " + std::to_string(n) + " nodes do not fit int32 ids");
  }
  c.num_relations = 2 + kg->num_relations();

  std::vector<std::array<int64_t, 3>> triples;  // (head, relation, tail)
  triples.reserve(static_cast<size_t>(2 * g.num_edges() + kg->num_edges()));
  for (int64_t u = 0; u < U; ++u) {
    for (int64_t k = g.user_offsets()[u]; k < g.user_offsets()[u + 1]; ++k) {
      const int64_t item = U + g.user_items()[k];
      triples.push_back({u, 0, item});
      triples.push_back({item, 1, u});
    }
  }
  for (int32_t r = 0; r < kg->num_relations(); ++r) {
    const RelationStore& rs = kg->relation(r);
    if (rs.src_type != entity || rs.dst_type != entity) continue;  // not a KG relation
    for (size_t s = 0; s + 1 < rs.offsets.size(); ++s) {
      for (int64_t k = rs.offsets[s]; k < rs.offsets[s + 1]; ++k) {
        triples.push_back({U + static_cast<int64_t>(s), 2 + r, U + rs.dst[static_cast<size_t>(k)]});
      }
    }
  }
  std::sort(triples.begin(), triples.end());

  const int64_t nnz = static_cast<int64_t>(triples.size());
  c.adj.num_rows = c.adj.num_cols = n;
  c.adj.rowptr = at::zeros({n + 1}, at::kLong);
  c.adj.col = at::empty({nnz}, at::kInt);
  c.head = at::empty({nnz}, at::kLong);
  c.relation = at::empty({nnz}, at::kLong);
  c.tail = at::empty({nnz}, at::kLong);
  int64_t* rp = c.adj.rowptr.data_ptr<int64_t>();
  int32_t* col = c.adj.col.data_ptr<int32_t>();
  int64_t *hp = c.head.data_ptr<int64_t>(), *relp = c.relation.data_ptr<int64_t>(),
          *tp = c.tail.data_ptr<int64_t>();
  std::vector<std::vector<int64_t>> groups(static_cast<size_t>(c.num_relations));
  for (int64_t k = 0; k < nnz; ++k) {
    const auto& [h, r, t] = triples[static_cast<size_t>(k)];
    rp[h + 1]++;
    col[k] = static_cast<int32_t>(t);
    hp[k] = h;
    relp[k] = r;
    tp[k] = t;
    groups[static_cast<size_t>(r)].push_back(k);
  }
  for (int64_t v = 0; v < n; ++v) rp[v + 1] += rp[v];
  fill_transpose(c.adj);

  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(nnz));
  for (const auto& gr : groups) {
    const at::Tensor pos = at::tensor(gr, at::kLong);
    c.rel_heads.push_back(c.head.index_select(0, pos));
    c.rel_tails.push_back(c.tail.index_select(0, pos));
    order.insert(order.end(), gr.begin(), gr.end());
  }
  c.by_relation = at::tensor(order, at::kLong);
  c.from_relation = at::empty({nnz}, at::kLong);
  c.from_relation.index_put_({c.by_relation}, at::arange(nnz, at::kLong));
  return c;
}

at::Tensor attention_logits(const Ckg& ckg, const at::Tensor& nodes, const at::Tensor& relations,
                            const at::Tensor& w) {
  TORCH_CHECK(nodes.dim() == 2 && nodes.size(0) == ckg.num_nodes(), "kgat: nodes must be [",
              ckg.num_nodes(), ", d], got ", nodes.sizes());
  TORCH_CHECK(relations.dim() == 2 && relations.size(0) == ckg.num_relations,
              "kgat: relations must be [", ckg.num_relations, ", k], got ", relations.sizes());
  TORCH_CHECK(w.dim() == 3 && w.size(0) == ckg.num_relations && w.size(1) == relations.size(1) &&
                  w.size(2) == nodes.size(1),
              "kgat: w must be [R, k, d] = [", ckg.num_relations, ", ", relations.size(1), ", ",
              nodes.size(1), "], got ", w.sizes());
  std::vector<at::Tensor> parts;
  for (int64_t r = 0; r < ckg.num_relations; ++r) {
    const at::Tensor& heads = ckg.rel_heads[static_cast<size_t>(r)];
    if (heads.numel() == 0) continue;
    const at::Tensor wr = w[r].t();  // [d, k]
    const at::Tensor ph = at::matmul(nodes.index_select(0, heads), wr);
    const at::Tensor pt = at::matmul(nodes.index_select(0, ckg.rel_tails[static_cast<size_t>(r)]), wr);
    parts.push_back((pt * at::tanh(ph + relations[r])).sum(-1));
  }
  if (parts.empty()) return at::zeros({0}, nodes.options());
  return at::cat(parts).index_select(0, ckg.from_relation);
}

at::Tensor attention(const Ckg& ckg, const at::Tensor& nodes, const at::Tensor& relations,
                     const at::Tensor& w) {
  return ops::edge_softmax(ckg.adj.rowptr, attention_logits(ckg, nodes, relations, w));
}

}  // namespace gnnrec::kgat

namespace gnnrec {
namespace {

constexpr double kLeakySlope = 0.2;
constexpr double kKgReg = 1e-5;

class Kgat : public Model {
 public:
  Kgat(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : device_(device),
        message_dropout_(checked_probability("--message-dropout", o.message_dropout.value())),
        ckg_(kgat::build_ckg(g.graph(), g.side()).to(device)) {
    const int64_t R = ckg_.num_relations, d = o.dim;
    embedding_ = normal_parameter(ckg_.num_nodes(), d, o.init_std, o.seed, 1, device);
    relations_ = normal_parameter(R, d, o.init_std, o.seed, 2, device);
    w_ = xavier_parameter({R, d, d}, d, d, o.seed, 3, device);
    params_ = {{"embedding", embedding_}, {"relation_embedding", relations_},
               {"relation_projection", w_}};
    int64_t in = d;
    for (int64_t l = 0; l < o.layers; ++l) {
      const int64_t out = std::max<int64_t>(1, d >> l);
      const std::string p = "layer" + std::to_string(l);
      layers::Linear w1 = layers::make_linear(in, out, true, o.seed, 10 + 2 * l, device);
      layers::Linear w2 = layers::make_linear(in, out, true, o.seed, 11 + 2 * l, device);
      params_.push_back({p + ".w1.weight", w1.weight});
      params_.push_back({p + ".w1.bias", w1.bias});
      params_.push_back({p + ".w2.weight", w2.weight});
      params_.push_back({p + ".w2.bias", w2.bias});
      layers_.push_back({w1, w2});
      in = out;
    }
    refresh_attention();
  }

  std::string name() const override { return "kgat"; }

  void set_training(bool on) override {
    Model::set_training(on);
    refresh_attention();
  }

  std::pair<at::Tensor, at::Tensor> forward() override {
    SparseAdjacency adj = ckg_.adj;
    adj.value = attention_;
    at::Tensor e = embedding_;
    std::vector<at::Tensor> outs{e};
    for (const auto& [w1, w2] : layers_) {
      const at::Tensor en = adj.matmul(e);
      e = at::leaky_relu(w1(e + en), kLeakySlope) + at::leaky_relu(w2(e * en), kLeakySlope);
      if (training() && message_dropout_ > 0) e = at::dropout(e, message_dropout_, true);
      outs.push_back(e / e.norm(2, {1}, true).clamp_min(1e-12));
    }
    const at::Tensor all = at::cat(outs, 1);
    return {all.narrow(0, 0, ckg_.num_users), all.narrow(0, ckg_.num_users, ckg_.num_items)};
  }

  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& users, const at::Tensor& items) override {
    return {embedding_.index_select(0, users),
            embedding_.index_select(0, items + ckg_.num_users)};
  }

  std::vector<NamedTensor> parameters() override { return params_; }

  void extra_epoch_phase(uint64_t seed, int64_t batch_size,
                         const std::function<void(const at::Tensor&)>& step) override {
    const int64_t n = ckg_.nnz();
    if (n == 0) return;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const auto long_opts = at::TensorOptions().dtype(at::kLong);
    const at::Tensor perm = at::randperm(n, gen, long_opts).to(device_);
    const at::Tensor neg = at::randint(ckg_.num_nodes(), {n}, gen, long_opts).to(device_);
    const int64_t bs = std::max<int64_t>(1, batch_size);
    for (int64_t s = 0; s < n; s += bs) {
      const int64_t len = std::min(bs, n - s);
      // The batch's triples grouped by relation (the loss is a mean, so
      // their order does not matter).
      const auto [rel, by_rel] = at::sort(ckg_.relation.index_select(0, perm.narrow(0, s, len)), /*stable=*/true, 0, false);
      const at::Tensor idx = perm.narrow(0, s, len).index_select(0, by_rel);
      const at::Tensor h = embedding_.index_select(0, ckg_.head.index_select(0, idx));
      const at::Tensor t = embedding_.index_select(0, ckg_.tail.index_select(0, idx));
      const at::Tensor t_neg = embedding_.index_select(0, neg.narrow(0, s, len).index_select(0, by_rel));
      const at::Tensor r = relations_.index_select(0, rel);
      const at::Tensor d = transr_distances(rel, h, r, t, t_neg);
      const at::Tensor l2 =
          (h.pow(2).sum() + r.pow(2).sum() + t.pow(2).sum() + t_neg.pow(2).sum()) *
          (0.5 / static_cast<double>(len));
      step(at::softplus(d[0] - d[1]).mean() + kKgReg * l2);
    }
  }

 private:
  void refresh_attention() {
    at::NoGradGuard no_grad;
    attention_ = kgat::attention(ckg_, embedding_, relations_, w_).detach();
  }

  // kg::transr_distance of (h, r, t) and of (h, r, t_neg), [2, n], for
  // triples sorted by relation: one projection matmul per relation rather
  // than a [n, k, d] gather of the projections (the group sizes are read
  // on the CPU: one synchronisation per KG batch on CUDA).
  at::Tensor transr_distances(const at::Tensor& rel, const at::Tensor& h, const at::Tensor& r,
                              const at::Tensor& t, const at::Tensor& t_neg) const {
    const auto groups = at::unique_consecutive(rel.cpu(), false, true);
    const at::Tensor& values = std::get<0>(groups);
    const at::Tensor& counts = std::get<2>(groups);
    const int64_t* v = values.data_ptr<int64_t>();
    const int64_t* c = counts.data_ptr<int64_t>();
    auto unit = [](const at::Tensor& x) { return x / x.norm(2, {-1}, true).clamp_min(1e-12); };
    std::vector<at::Tensor> pos, neg;
    for (int64_t g = 0, start = 0; g < values.numel(); start += c[g], ++g) {
      const at::Tensor wt = w_[v[g]].t();  // [d, k]
      const at::Tensor hp = unit(at::matmul(h.narrow(0, start, c[g]), wt)) + r.narrow(0, start, c[g]);
      pos.push_back((hp - unit(at::matmul(t.narrow(0, start, c[g]), wt))).pow(2).sum(-1));
      neg.push_back((hp - unit(at::matmul(t_neg.narrow(0, start, c[g]), wt))).pow(2).sum(-1));
    }
    return at::stack({at::cat(pos), at::cat(neg)});
  }

  at::Device device_;
  double message_dropout_;
  kgat::Ckg ckg_;
  at::Tensor embedding_, relations_, w_;
  at::Tensor attention_;  // [nnz], CSR order, no gradient
  std::vector<std::pair<layers::Linear, layers::Linear>> layers_;
  std::vector<NamedTensor> params_;
};

const ModelRegistrar kRegister("kgat", factory_of<Kgat>(), ModelDefaults().message_dropout(0.1));

}  // namespace
}  // namespace gnnrec
