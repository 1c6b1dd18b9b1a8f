// HeteroGAT, `--model heterogat`: graph attention over a heterogeneous graph
// of users, items and (when the data set has side information) side
// entities, with one attention per relation. Exposed for the model
// (models/heterogat.cpp) and its tests.
//
// The graph: node types user and item, then the side graph's other node
// types (MovieLens 100K: genre, age, gender, occupation; graph/kg_loaders.h);
// relations "interacts" (user -> item, one edge per training pair), the side
// graph's relations between those types, and the inverse of each
// ("rev_" + name). Each relation is held as a SparseAdjacency whose row r is
// a destination node and whose columns are its sources, so that messages
// flow source -> destination.
//
// One layer, with H heads of C channels (H·C = d, the width of every type's
// features x_t [n_t, d]), for every relation r (s -> t) and head k:
//   z        = W_r x                                  ([n, H, C] per type)
//   e_ij     = LeakyReLU_0.2(a_dst^{r,k} · z_i^k + a_src^{r,k} · z_j^k)
//              for each edge j -> i of r     (gnnrec::sddmm_add)
//   α_ij     = softmax of e over i's incoming edges of r   (gnnrec::edge_softmax)
//   m_r[i]   = ∥_k Σ_j α_ij^k z_j^k                   (gnnrec::spmm per head)
// and for every node type t, over the relations R_t into t:
//   y_t      = W_self,t x_t + b_t + AGG_{r ∈ R_t} m_r,  AGG = sum or mean
//              (mean divides by |R_t|; a node without edges of r gets m_r = 0)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "graph/bipartite_graph.h"
#include "graph/typed_graph.h"
#include "kernels/sparse_adjacency.h"
#include "models/layers.h"

namespace gnnrec::heterogat {

struct Relation {
  std::string name;
  int32_t src = 0;      // node type of the sources (columns)
  int32_t dst = 0;      // node type of the destinations (rows)
  SparseAdjacency adj;  // [n_dst, n_src], no values, transpose filled
};

struct Graph {
  std::vector<std::string> type_names;  // "user", "item", then side types
  std::vector<int64_t> num_nodes;       // per type
  std::vector<Relation> relations;      // forward relations, then their inverses

  int64_t num_types() const { return static_cast<int64_t>(type_names.size()); }
  // A copy with every tensor on `device`.
  Graph to(at::Device device) const;
};

// The graph of the training interactions g and the side information `side`
// (nullptr or a graph without relations: only interacts and its inverse).
// Throws std::invalid_argument when side has an "entity" node type (a
// knowledge graph: kgat and kgcn read those), lacks the "user" or "item"
// type, or has a user or item count different from g's.
Graph build_graph(const BipartiteGraph& g, const TypedGraph* side);

// One relation's parameters in one layer.
struct RelationParams {
  at::Tensor weight;   // W_r [H*C, d]
  at::Tensor att_src;  // [H, C]
  at::Tensor att_dst;  // [H, C]
};

struct Layer {
  int64_t heads = 1;
  std::string aggregator = "mean";        // sum | mean
  std::vector<RelationParams> relations;  // one per graph relation
  std::vector<layers::Linear> self;       // one per node type, [d, d] with bias
  double negative_slope = 0.2;
};

// The attention coefficients α of relation `rel` ([nnz, H], in the CSR order
// of rel.adj), from the source and destination types' features. Each
// destination with at least one edge has, per head, coefficients summing
// to 1. Differentiable in x_src, x_dst and the parameters; float32 or
// float64.
at::Tensor attention(const Relation& rel, const at::Tensor& x_src, const at::Tensor& x_dst,
                     const RelationParams& p, int64_t heads, double negative_slope);

// One layer: y_t for every node type t (before any activation). x holds
// one [n_t, d] tensor per type. Attention dropout (probability
// attention_dropout) applies to α while training. A type whose self
// weight is undefined is not computed (its y is undefined), nor are the
// relations into it; a relation whose weight is undefined is skipped (the
// model's last layer computes users and items only).
std::vector<at::Tensor> layer(const Graph& g, const std::vector<at::Tensor>& x, const Layer& l,
                              double attention_dropout = 0, bool training = false);

}  // namespace gnnrec::heterogat
