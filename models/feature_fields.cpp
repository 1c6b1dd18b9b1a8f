#include "models/feature_fields.h"

#include <stdexcept>

#include <ATen/ATen.h>

namespace gnnrec {
namespace {

// The id field of n entities: entity e has the single value e.
FeatureField id_field(const std::string& name, int64_t n, at::Device device) {
  return {name, n, at::arange(n + 1, at::kLong).to(device), at::arange(n, at::kLong).to(device)};
}

FeatureField relation_field(const TypedGraph& side, const RelationStore& r, at::Device device) {
  FeatureField f;
  f.name = side.type_name(r.dst_type);
  f.vocabulary = side.num_nodes(r.dst_type);
  f.offsets = at::tensor(r.offsets, at::kLong).to(device);
  f.values = at::tensor(std::vector<int64_t>(r.dst.begin(), r.dst.end()), at::kLong).to(device);
  return f;
}

}  // namespace

FeatureFields feature_fields(const PropagationGraph& g, const std::string& model, bool require_side,
                             at::Device device) {
  const int64_t U = g.graph().num_users(), I = g.graph().num_items();
  FeatureFields out;
  out.user.push_back(id_field("user_id", U, device));
  out.item.push_back(id_field("item_id", I, device));
  const TypedGraph* side = g.side();
  const int32_t tu = side ? side->find_type("user") : -1, ti = side ? side->find_type("item") : -1;
  if (tu >= 0 && ti >= 0 && side->num_nodes(tu) == U && side->num_nodes(ti) == I) {
    for (int32_t r = 0; r < side->num_forward(); ++r) {
      const RelationStore& rel = side->relation(r);
      if (rel.dst_type == tu || rel.dst_type == ti) continue;
      if (rel.src_type == tu) out.user.push_back(relation_field(*side, rel, device));
      if (rel.src_type == ti) out.item.push_back(relation_field(*side, rel, device));
    }
  }
  if (require_side && out.num_side() == 0) {
    throw std::invalid_argument(
        "--model " + model +
        " reads user and item side features (MovieLens 100K's u.user and u.item, a RecBole data "
        "set's .user and .item), and this data set has none (a knowledge graph is not features)");
  }
  return out;
}

at::Tensor field_embedding(const FeatureField& f, const at::Tensor& table) {
  // mode 1: mean; include_last_offset: offsets has n + 1 entries.
  return std::get<0>(at::embedding_bag(table, f.values, f.offsets, false, 1, false, {}, true));
}

std::vector<NamedTensor> field_parameters(const FeatureFields& fields,
                                          const std::vector<at::Tensor>& embedding,
                                          const std::vector<at::Tensor>& linear) {
  std::vector<NamedTensor> p;
  size_t k = 0;
  for (const auto* side : {&fields.user, &fields.item}) {
    for (const FeatureField& f : *side) {
      const std::string prefix = std::string(side == &fields.user ? "user." : "item.") + f.name;
      p.push_back({prefix + ".embedding", embedding[k]});
      if (!linear.empty()) p.push_back({prefix + ".linear", linear[k]});
      ++k;
    }
  }
  return p;
}

}  // namespace gnnrec
