// KGAT (Wang et al., KDD 2019): the collaborative knowledge graph and its
// attention, exposed for the model (models/kgat.cpp, `--model kgat`) and
// its tests.
//
// The collaborative knowledge graph (CKG) joins the training interactions
// and the data set's knowledge graph (graph/kg_loaders.h: one node type
// "entity" whose first entities are the items). Nodes: user u is node u,
// entity e is node U + e (so item i is node U + i, as in the unified
// adjacency of models/propagation_graph.h). Relations:
//   0        interact      user -> item, one triple per training pair
//   1        rev_interact  item -> user
//   2 + r    relation r of the TypedGraph (forward relations, then their
//            inverses rev_NAME: relation 2 + F + r inverts 2 + r)
// Every triple (h, r, t) is an entry of one CSR whose row is the head h and
// column the tail t, rows ordered by (relation, tail); a (h, t) pair linked
// by two relations is two entries.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "graph/bipartite_graph.h"
#include "graph/typed_graph.h"
#include "kernels/sparse_adjacency.h"

namespace gnnrec::kgat {

struct Ckg {
  int64_t num_users = 0;
  int64_t num_items = 0;
  int64_t num_entities = 0;   // items included
  int64_t num_relations = 0;  // 2 + the TypedGraph's relations
  SparseAdjacency adj;        // [N, N] heads x tails, no values, transpose filled
  at::Tensor head, relation, tail;  // int64 [nnz], CSR order
  // Per relation: the heads and tails of its triples (int64, in CSR order)
  // and their CSR positions; empty tensors for a relation without triples.
  std::vector<at::Tensor> rel_heads, rel_tails;
  // The triples grouped by relation (relation 0's, then 1's, ...): entry j
  // of that order is CSR entry by_relation[j]; from_relation inverts it.
  at::Tensor by_relation, from_relation;  // int64 [nnz]

  int64_t num_nodes() const { return num_users + num_entities; }
  int64_t nnz() const { return head.numel(); }
  // A copy with every tensor on `device`.
  Ckg to(at::Device device) const;
};

// Builds the CKG of the training graph g and the knowledge graph kg (on the
// CPU). Throws std::invalid_argument when kg is null or has no "entity"
// type ("--model kgat needs a knowledge graph ..."), or has fewer entities
// than g has items, or the node count does not fit int32.
Ckg build_ckg(const BipartiteGraph& g, const TypedGraph* kg);

// The unnormalised attention of every CKG triple, in CSR order:
//   π(h, r, t) = (W_r e_t)ᵀ tanh(W_r e_h + e_r)
// nodes [N, d] (the layer-0 embeddings), relations [R, k], w [R, k, d]
// (W_r maps a d-dimensional entity into the k-dimensional relation space,
// as M_r in models/kg_embedding.h). Computed relation by relation (one
// matmul per relation over its triples), then put back in CSR order.
// Differentiable in all three; float32 or float64.
at::Tensor attention_logits(const Ckg& ckg, const at::Tensor& nodes, const at::Tensor& relations,
                            const at::Tensor& w);

// The attention weights: gnnrec's edge_softmax of attention_logits over
// each head's triples (each non-empty CSR row sums to 1). Differentiable.
at::Tensor attention(const Ckg& ckg, const at::Tensor& nodes, const at::Tensor& relations,
                     const at::Tensor& w);

}  // namespace gnnrec::kgat
