// The graph a model propagates over: the unified (users + items as one node
// set) adjacency of a BipartiteGraph, its normalisations, and its transpose,
// as the operators' SparseAdjacency (kernels/sparse_adjacency.h), derived
// and cached on first use.
//
// Node ids: users are 0..U-1, item i is node U+i. The matrix is symmetric in
// structure; with symmetric normalisation it is symmetric in value too, but
// the transpose is stored explicitly so that every operator's backward works
// for any normalisation (left normalisation is not symmetric).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include <ATen/core/Tensor.h>

#include "graph/bipartite_graph.h"
#include "graph/typed_graph.h"
#include "kernels/sparse_adjacency.h"

namespace gnnrec {

enum class Normalization {
  kNone,       // A
  kSymmetric,  // D^-1/2 A D^-1/2
  kLeft,       // D^-1 A (row-stochastic: the mean over neighbours)
};

// The (U+I) x (U+I) adjacency of g with the given normalisation, optional
// self loops, float32 or float64 values, on the CPU. A node without
// neighbours gets an empty row (or only its self loop).
SparseAdjacency unified_adjacency(const BipartiteGraph& g, Normalization norm, bool self_loops,
                                  at::ScalarType dtype);
// Rows [lo, hi) of that matrix alone, a [hi - lo, U+I] matrix with the
// same entries in the same order (a rank's rows of a partitioned graph,
// train/sharded.h), built without the other rows.
SparseAdjacency unified_adjacency_rows(const BipartiteGraph& g, Normalization norm, bool self_loops,
                                       at::ScalarType dtype, int64_t lo, int64_t hi);

// Multiplication by a graph model's normalised adjacency Â, the one
// interface its layers are written against (Model::propagate): by the whole
// matrix (a replicated run: `columns` empty, x holds every node's row), or
// by the rows [lo, hi) one rank of a partitioned graph owns
// (--shard-embeddings, train/sharded.h), whose columns are [its own rows;
// the halo rows they read], `columns` appending to x (the own rows) the halo
// rows fetched from their owners, differentiably.
struct AdjacencyProduct {
  SparseAdjacency matrix;
  std::function<at::Tensor(const at::Tensor&)> columns;
  // Â x, for x [rows of matrix, d]: [rows of matrix, d].
  at::Tensor operator()(const at::Tensor& x) const {
    return matrix.matmul(columns ? columns(x) : x);
  }
};

// Owns a graph and derives each adjacency once, on first use, per
// (normalisation, self loops, dtype, device). Thread-safe.
class PropagationGraph {
 public:
  explicit PropagationGraph(std::shared_ptr<const BipartiteGraph> g,
                            std::shared_ptr<const TypedGraph> side = nullptr)
      : graph_(std::move(g)), side_(std::move(side)) {}
  const BipartiteGraph& graph() const { return *graph_; }
  // The data set's knowledge graph or side information (graph/kg_loaders.h:
  // load_side_graph), for the models that use one; nullptr when it has none.
  const TypedGraph* side() const { return side_.get(); }
  const SparseAdjacency& adjacency(Normalization norm, bool self_loops, at::ScalarType dtype,
                                   at::Device device) const;

 private:
  std::shared_ptr<const BipartiteGraph> graph_;
  std::shared_ptr<const TypedGraph> side_;
  mutable std::mutex mutex_;
  mutable std::map<std::tuple<int, bool, int, std::string>, SparseAdjacency> cache_;
};

}  // namespace gnnrec
