// KGCN (Wang et al., WWW 2019): an item's representation mixes its
// knowledge-graph neighbours, weighted by how much the user cares about each
// neighbour's relation.
//
// The KG is the data set's entity graph (graph/kg_loaders.h: items are the
// first entities), read undirected as in KGCN: an inverse relation shares
// its forward relation's embedding. Each entity gets a fixed sample of K
// neighbours (relation, tail) once, at construction (`--fanouts K`, default
// 8; without replacement, with replacement for an entity with fewer than K
// neighbours, as KGCN's code; an isolated entity is masked and aggregates
// nothing). For user u and item v, with H =
// `--layers` hops, the receptive tree of v (K^h entities at hop h) is
// aggregated from the outside in, H times:
//   π_u(r)  = mean(u ⊙ r)                              user–relation score
//   α       = softmax over an entity's K sampled neighbours of π_u(r_n)
//   e_N     = Σ_n α_n e_n
//   sum:      σ(W (e + e_N) + b)      concat: σ(W [e ; e_N] + b)
//   neighbor: σ(W e_N + b)            (`--aggregator`, default sum)
// with σ = ReLU in the first H−1 iterations and tanh in the last, one W
// per iteration; the score is u · v_u.
//
// v_u depends on the user, so the ranking factors are not embeddings: for
// full ranking, ranking() returns the score matrix S [U, I] and the identity
// [I, I] (S · Iᵀ = S exactly), computed a chunk of users at a time. The
// trainer's pair layout is used in represent(): items [n·(1+k)] for users
// [n] are the n positives then k negatives per user in user order.
#include <ATen/ATen.h>

#include <algorithm>
#include <stdexcept>

#include "kernels/ops.h"
#include "models/graph_model.h"
#include "models/model.h"

namespace gnnrec {
namespace {

class Kgcn : public Model {
 public:
  Kgcn(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : device_(device), hops_(o.layers), aggregator_(o.aggregator.value()) {
    const TypedGraph* kg = g.side();
    const int32_t entity = kg != nullptr ? kg->find_type("entity") : -1;
    if (entity < 0) {
      throw std::invalid_argument(
          "--model kgcn needs a knowledge graph: a data set folder with kg_final.txt (KGAT "
          "format), kg.txt and item_index2entity_id.txt (KGCN format) or NAME.kg and NAME.link "
          "beside NAME.inter (RecBole format)");
    }
    if (aggregator_ != "sum" && aggregator_ != "concat" && aggregator_ != "neighbor") {
      throw std::invalid_argument("--aggregator for kgcn must be sum, concat or neighbor, got '" +
                                  aggregator_ + "'");
    }
    if (o.fanouts.size() > 1) {
      throw std::invalid_argument("--fanouts for kgcn is one value (the neighbours sampled per "
                                  "entity), got " + std::to_string(o.fanouts.size()));
    }
    if (hops_ < 1) throw std::invalid_argument("--layers for kgcn must be at least 1 (hops)");
    fanout_ = o.fanouts.empty() ? 8 : o.fanouts[0];
    num_users_ = g.graph().num_users();
    num_items_ = g.graph().num_items();
    const int64_t num_entities = kg->num_nodes(entity);
    if (num_entities < num_items_) {
      throw std::invalid_argument("kgcn: the knowledge graph has fewer entities than items");
    }
    const int64_t num_relations = std::max<int64_t>(kg->num_forward(), 1);

    // Neighbour sample: merged CSR over all relations, one draw per entity.
    const MergedAdjacency m = kg->merged(entity);
    std::vector<int64_t> rel_of(m.relation.size());
    for (size_t k = 0; k < m.relation.size(); ++k) {
      const RelationStore& r = kg->relation(m.relation[k]);
      rel_of[k] = r.inverse_of >= 0 ? r.inverse_of : m.relation[k];
    }
    const at::Tensor rowptr = at::tensor(m.offsets, at::kLong);
    const at::Tensor col = at::tensor(m.neighbor, at::kInt);
    const at::Tensor seeds = at::arange(num_entities, at::kLong);
    auto [nbr, eid] = ops::sample_neighbors(rowptr, col, seeds, fanout_, false,
                                            static_cast<int64_t>(o.seed));
    const at::Tensor valid = eid.ge(0);
    const at::Tensor rel_table = at::tensor(rel_of, at::kLong);
    const at::Tensor safe_eid = eid.clamp_min(0);
    adj_entity_ = at::where(valid, nbr.to(at::kLong), at::zeros_like(nbr, at::kLong)).to(device);
    adj_relation_ = (rel_table.numel() > 0
                         ? at::where(valid, rel_table.index_select(0, safe_eid.view({-1})).view_as(eid),
                                     at::zeros_like(eid))
                         : at::zeros_like(eid))
                        .to(device);
    adj_mask_ = valid.to(device);

    // Xavier-uniform embeddings, U(±sqrt(6 / (rows + dim))), as the
    // authors' code (tf.contrib.layers.xavier_initializer); with N(0, 0.1²)
    // KGCN learns far more slowly (kgcn-music CTR AUC 0.638 against 0.744
    // after the paper's 10 epochs, with --reg-scope batch).
    auto xavier = [&](int64_t rows, uint64_t stream) {
      return xavier_parameter({rows, o.dim}, rows, o.dim, o.seed, stream, device);
    };
    users_ = xavier(num_users_, 1);
    entities_ = xavier(num_entities, 2);
    relations_ = xavier(num_relations, 3);
    params_ = {{"user_embedding", users_}, {"entity_embedding", entities_},
               {"relation_embedding", relations_}};
    const int64_t in = aggregator_ == "concat" ? 2 * o.dim : o.dim;
    for (int64_t h = 0; h < hops_; ++h) {
      layers::Linear lin = layers::make_linear(in, o.dim, true, o.seed, 10 + h, device);
      params_.push_back({"aggregator." + std::to_string(h) + ".weight", lin.weight});
      params_.push_back({"aggregator." + std::to_string(h) + ".bias", lin.bias});
      linears_.push_back(lin);
    }
  }

  std::string name() const override { return "kgcn"; }

  std::pair<at::Tensor, at::Tensor> forward() override { return ranking(); }

  std::pair<at::Tensor, at::Tensor> represent(const at::Tensor& users,
                                              const at::Tensor& items) override {
    const int64_t n = users.size(0), total = items.size(0);
    at::Tensor pair_users = users;
    if (total != n) {
      if (n == 0 || total % n != 0) {
        throw std::invalid_argument("kgcn: items must be the batch's positives then k negatives per user");
      }
      pair_users = at::cat({users, users.repeat_interleave(total / n - 1, 0)});
    }
    const at::Tensor u = users_.index_select(0, pair_users);
    const at::Tensor v = items_for(u, items.view({total, 1}), /*shared=*/false);
    return {users_.index_select(0, users), v.view({total, -1})};
  }

  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& users, const at::Tensor& items) override {
    return {users_.index_select(0, users), entities_.index_select(0, items)};
  }

  std::vector<NamedTensor> parameters() override { return params_; }

  // S [U, I] and the identity [I, I].
  std::pair<at::Tensor, at::Tensor> ranking() override {
    int64_t per_hop = 1;
    for (int64_t h = 0; h < hops_; ++h) per_hop *= fanout_;
    // About 32M floats (128 MB) in the largest intermediate of a chunk.
    const int64_t chunk = std::max<int64_t>(1, 32'000'000 / std::max<int64_t>(1, num_items_ * per_hop * users_.size(1)));
    const at::Tensor all_items = at::arange(num_items_, at::TensorOptions().dtype(at::kLong).device(device_)).view({1, -1});
    std::vector<at::Tensor> rows;
    for (int64_t s = 0; s < num_users_; s += chunk) {
      const at::Tensor u = users_.narrow(0, s, std::min(chunk, num_users_ - s));
      const at::Tensor v = items_for(u, all_items, /*shared=*/true);  // [c, I, d]
      rows.push_back((u.unsqueeze(1) * v).sum(-1));
    }
    return {at::cat(rows), at::eye(num_items_, users_.options().requires_grad(false))};
  }

 private:
  // Item representations for users u [B, d]. shared: items [1, N], the same N
  // items for every user (result [B, N, d]); otherwise items [B, 1], one item
  // per user (result [B, 1, d]).
  at::Tensor items_for(const at::Tensor& u, const at::Tensor& items, bool shared) const {
    const int64_t B = u.size(0), N = items.size(1), d = u.size(1);
    const int64_t Bi = shared ? 1 : B;
    // Receptive tree: entities, relations and masks per hop, [Bi, N, K^h].
    std::vector<at::Tensor> ent{items}, rel, mask;
    for (int64_t h = 0; h < hops_; ++h) {
      const at::Tensor flat = ent.back().reshape({-1});
      ent.push_back(adj_entity_.index_select(0, flat).view({Bi, N, -1}));
      rel.push_back(adj_relation_.index_select(0, flat).view({Bi, N, -1}));
      mask.push_back(adj_mask_.index_select(0, flat).view({Bi, N, -1}));
    }
    // π_u(r) for every relation: [B, R].
    const at::Tensor user_rel = at::matmul(u, relations_.t()) / static_cast<double>(d);
    std::vector<at::Tensor> vec;
    for (const auto& e : ent) vec.push_back(entities_.index_select(0, e.reshape({-1})).view({Bi, N, -1, d}));
    for (int64_t it = 0; it < hops_; ++it) {
      std::vector<at::Tensor> next;
      for (int64_t hop = 0; hop < hops_ - it; ++hop) {
        const at::Tensor& self = vec[static_cast<size_t>(hop)];  // [Bi or B, N, Kh, d]
        const int64_t kh = self.size(2);
        const at::Tensor nbr = vec[static_cast<size_t>(hop + 1)].reshape({-1, N, kh, fanout_, d});
        const at::Tensor r = rel[static_cast<size_t>(hop)];   // [Bi, N, Kh*K]
        at::Tensor score = shared ? user_rel.index_select(1, r.reshape({-1})).view({B, N, kh, fanout_})
                                  : user_rel.gather(1, r.view({B, -1})).view({B, N, kh, fanout_});
        const at::Tensor m = mask[static_cast<size_t>(hop)].view({Bi, N, kh, fanout_});
        score = score.masked_fill(m.logical_not(), -1e9);
        const at::Tensor w = at::softmax(score, -1) * m.to(score.scalar_type());  // [B, N, Kh, K]
        at::Tensor agg;
        if (nbr.size(0) == 1 && B > 1) {
          agg = at::einsum("bnjk,njkd->bnjd", {w, nbr.squeeze(0)});
        } else {
          agg = (w.unsqueeze(-1) * nbr).sum(-2);
        }
        at::Tensor x;
        if (aggregator_ == "sum") {
          x = self + agg;
        } else if (aggregator_ == "concat") {
          x = at::cat({self.expand({B, N, kh, d}), agg}, -1);
        } else {
          x = agg;
        }
        x = linears_[static_cast<size_t>(it)](x);
        next.push_back(it + 1 == hops_ ? at::tanh(x) : at::relu(x));
      }
      vec = std::move(next);
    }
    return vec[0].view({B, N, d});
  }

  at::Device device_;
  int64_t hops_;
  std::string aggregator_;
  int64_t fanout_ = 8;
  int64_t num_users_ = 0, num_items_ = 0;
  at::Tensor adj_entity_, adj_relation_, adj_mask_;  // [E, K]
  at::Tensor users_, entities_, relations_;
  std::vector<layers::Linear> linears_;
  std::vector<NamedTensor> params_;
};

const ModelRegistrar kRegister("kgcn", factory_of<Kgcn>(), ModelDefaults().aggregator("sum"));

}  // namespace
}  // namespace gnnrec
