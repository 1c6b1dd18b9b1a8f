// Matrix factorisation regularised by a knowledge-graph embedding objective,
// the structural half of CKE (Zhang et al., KDD 2016): `--model transe` and
// `--model transr`.
//
// Parameters: user vectors p_u [U, d], item offsets η_i [I, d], entity
// embeddings v_e [E, d] (the knowledge graph's "entity" nodes, items first),
// relation embeddings r [R, d] and, for TransR, relation projections
// M_r [R, d, d]. An item's representation is η_i + v_i, so what the KG
// objective teaches the entity of an item reaches its score
//   s(u, i) = p_u · (η_i + v_i).
//
// Training alternates the two objectives once per epoch, as KGAT does: the
// trainer's batches fit the recommendation loss (BPR/BCE on s + `--reg` on
// the batch's p_u, η_i and v_i), then extra_epoch_phase() visits every
// forward KG triple (inverse relations are not used: a translation model
// gives r⁻¹ = −r for free) once in a seeded random order, in batches of
// `--batch-size`, corrupts the head or the tail of each (kg::corrupt) and
// takes one optimiser step on the margin ranking loss
//   L_KG = mean max(0, 1 + d(h, r, t) − d(h', r, t'))
// with d = kg::transe_distance (L2, entities L2-normalised) or
// kg::transr_distance (models/kg_embedding.h). Margin 1 as in both papers.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "graph/typed_graph.h"
#include "models/kg_embedding.h"
#include "models/model.h"

namespace gnnrec {
namespace {

constexpr double kMargin = 1.0;

class Cke : public Model {
 public:
  Cke(std::string name, bool transr, const ModelOptions& o, const PropagationGraph& g,
      at::Device device)
      : name_(std::move(name)), transr_(transr), device_(device) {
    const TypedGraph* kg = g.side();
    const int32_t entity = kg != nullptr ? kg->find_type("entity") : -1;
    if (entity < 0) {
      throw std::invalid_argument(
          "--model " + name_ +
          " needs a knowledge graph: a data set folder with kg_final.txt (KGAT format), "
          "kg.txt and item_index2entity_id.txt (KGCN format) or NAME.kg and NAME.link beside "
          "NAME.inter (RecBole format)");
    }
    num_users_ = g.graph().num_users();
    num_items_ = g.graph().num_items();
    num_entities_ = kg->num_nodes(entity);
    if (num_entities_ < num_items_) {
      throw std::invalid_argument(name_ + ": the knowledge graph has fewer entities than items");
    }
    // Forward entity-entity relations, renumbered 0..R-1.
    std::vector<int64_t> heads, rels, tails;
    int64_t num_rel = 0;
    for (int32_t r = 0; r < kg->num_forward(); ++r) {
      const RelationStore& rs = kg->relation(r);
      if (rs.src_type != entity || rs.dst_type != entity) continue;
      for (size_t s = 0; s + 1 < rs.offsets.size(); ++s) {
        for (int64_t k = rs.offsets[s]; k < rs.offsets[s + 1]; ++k) {
          heads.push_back(static_cast<int64_t>(s));
          rels.push_back(num_rel);
          tails.push_back(rs.dst[static_cast<size_t>(k)]);
        }
      }
      ++num_rel;
    }
    heads_ = at::tensor(heads, at::kLong).to(device);
    rels_ = at::tensor(rels, at::kLong).to(device);
    tails_ = at::tensor(tails, at::kLong).to(device);

    const int64_t d = o.dim;
    users_ = normal_parameter(num_users_, d, o.init_std, o.seed, 1, device);
    items_ = normal_parameter(num_items_, d, o.init_std, o.seed, 2, device);
    entities_ = normal_parameter(num_entities_, d, o.init_std, o.seed, 3, device);
    relations_ = normal_parameter(std::max<int64_t>(num_rel, 1), d, o.init_std, o.seed, 4, device);
    params_ = {{"user_embedding", users_},
               {"item_embedding", items_},
               {"entity_embedding", entities_},
               {"relation_embedding", relations_}};
    if (transr_) {
      projections_ = xavier_parameter({relations_.size(0), d, d}, d, d, o.seed, 5, device);
      params_.push_back({"relation_projection", projections_});
    }
  }

  std::string name() const override { return name_; }

  std::pair<at::Tensor, at::Tensor> forward() override {
    return {users_, items_ + entities_.narrow(0, 0, num_items_)};
  }

  std::pair<at::Tensor, at::Tensor> represent(const at::Tensor& users,
                                              const at::Tensor& items) override {
    return {users_.index_select(0, users),
            items_.index_select(0, items) + entities_.index_select(0, items)};
  }

  // The L2 term covers both halves of an item's vector: ‖[η_i ; v_i]‖².
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& users, const at::Tensor& items) override {
    return {users_.index_select(0, users),
            at::cat({items_.index_select(0, items), entities_.index_select(0, items)}, 1)};
  }

  std::vector<NamedTensor> parameters() override { return params_; }

  void extra_epoch_phase(uint64_t seed, int64_t batch_size,
                         const std::function<void(const at::Tensor&)>& step) override {
    const int64_t n = heads_.numel();
    if (n == 0) return;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const at::Tensor perm = at::randperm(n, gen, at::TensorOptions().dtype(at::kLong)).to(device_);
    const int64_t bs = std::max<int64_t>(1, batch_size);
    for (int64_t s = 0, b = 0; s < n; s += bs, ++b) {
      const at::Tensor idx = perm.narrow(0, s, std::min(bs, n - s));
      const at::Tensor h = heads_.index_select(0, idx), t = tails_.index_select(0, idx);
      const at::Tensor r = rels_.index_select(0, idx);
      const auto [h_neg, t_neg] = kg::corrupt(h, t, num_entities_, seed * 7919ULL + b);
      const at::Tensor re = relations_.index_select(0, r);
      at::Tensor d_pos, d_neg;
      if (transr_) {
        const at::Tensor m = projections_.index_select(0, r);
        d_pos =
            kg::transr_distance(entities_.index_select(0, h), re, entities_.index_select(0, t), m);
        d_neg = kg::transr_distance(entities_.index_select(0, h_neg), re,
                                    entities_.index_select(0, t_neg), m);
      } else {
        d_pos =
            kg::transe_distance(entities_.index_select(0, h), re, entities_.index_select(0, t), 2);
        d_neg = kg::transe_distance(entities_.index_select(0, h_neg), re,
                                    entities_.index_select(0, t_neg), 2);
      }
      step(kg::margin_ranking_loss(d_pos, d_neg, kMargin));
    }
  }

 private:
  std::string name_;
  bool transr_;
  at::Device device_;
  int64_t num_users_ = 0, num_items_ = 0, num_entities_ = 0;
  at::Tensor heads_, rels_, tails_;  // forward KG triples, int64
  at::Tensor users_, items_, entities_, relations_, projections_;
  std::vector<NamedTensor> params_;
};

// TransE and TransR are one class; the factories say which.
const ModelRegistrar kTransE("transe",
                             [](const ModelOptions& o, const PropagationGraph& g, at::Device d) {
                               return std::make_unique<Cke>("transe", false, o, g, d);
                             });
const ModelRegistrar kTransR("transr",
                             [](const ModelOptions& o, const PropagationGraph& g, at::Device d) {
                               return std::make_unique<Cke>("transr", true, o, g, d);
                             });

}  // namespace
}  // namespace gnnrec
