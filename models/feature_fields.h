// The side features of users and items as the categorical fields of the
// feature-based recommenders (FM, Wide & Deep, DCN, Two-Tower): the data
// set's side information (graph/kg_loaders.h: load_side_graph; MovieLens
// 100K: user age, gender, occupation; item genres), one field per forward
// relation from the "user" or the "item" node type to a feature type, plus
// the user id and the item id as fields of their own.
//
// A field's value for a user (item) is the mean of the embeddings of its
// feature values (a genre field averages an item's genres, RecBole's
// token_seq pooling); one without a value gets the zero vector.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "models/model.h"
#include "models/propagation_graph.h"

namespace gnnrec {

struct FeatureField {
  std::string name;        // "user_id", "item_id", or the relation's target type: "age"
  int64_t vocabulary = 0;  // distinct values
  at::Tensor offsets;      // int64 [n + 1]: entity e's values are values[offsets[e]..)
  at::Tensor values;       // int64 [nnz], each < vocabulary
};

struct FeatureFields {
  std::vector<FeatureField> user, item;  // user_id first, item_id first
  // Fields of side features (neither id), over both.
  int64_t num_side() const { return static_cast<int64_t>(user.size() + item.size()) - 2; }
};

// The fields of g's users and items on `device`. Throws
// std::invalid_argument, one line naming `model`, when g has no side
// features (no side information, a knowledge graph, --no-side-info) and
// `require_side` is set; otherwise a data set without features gives the
// id fields alone.
FeatureFields feature_fields(const PropagationGraph& g, const std::string& model, bool require_side,
                             at::Device device);

// Each entity's mean embedding of field f from `table` [vocabulary, d]:
// [n, d], differentiable in table (at::embedding_bag, mode mean).
at::Tensor field_embedding(const FeatureField& f, const at::Tensor& table);

// The fields' tables as a model's parameters, user fields then item fields,
// each field k's "user.NAME.embedding" (embedding[k]) and, when `linear` is
// not empty, "user.NAME.linear" (linear[k]); "item." for item fields.
std::vector<NamedTensor> field_parameters(const FeatureFields& fields,
                                          const std::vector<at::Tensor>& embedding,
                                          const std::vector<at::Tensor>& linear);

}  // namespace gnnrec
