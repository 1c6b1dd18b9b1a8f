// The unified (users + items as one node set) adjacency used for
// propagation, its normalisations, and its transpose, as Torch tensors.
//
// Node ids: users are 0..U-1, item i is node U+i. The matrix is symmetric in
// structure; with symmetric normalisation it is symmetric in value too, but
// the transpose is stored explicitly so that every operator's backward works
// for any normalisation (left normalisation is not symmetric).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include <ATen/core/Tensor.h>

#include "graph/bipartite_graph.h"
#include "graph/typed_graph.h"

namespace gnnrec {

enum class Normalization {
  kNone,       // A
  kSymmetric,  // D^-1/2 A D^-1/2
  kLeft,       // D^-1 A (row-stochastic: the mean over neighbours)
};

// A CSR matrix with its transpose, ready for gnnrec::spmm / sddmm.
struct SparseAdjacency {
  int64_t num_rows = 0;
  int64_t num_cols = 0;
  at::Tensor rowptr;    // int64 [rows+1]
  at::Tensor col;       // int32 [nnz]
  at::Tensor value;     // [nnz], undefined for an unweighted 0/1 matrix
  at::Tensor t_rowptr;  // CSR of the transpose: int64 [cols+1]
  at::Tensor t_col;     // int32 [nnz]
  at::Tensor t_perm;    // int64 [nnz]: transposed entry k is entry t_perm[k] of A

  int64_t nnz() const { return col.numel(); }
  // A copy on `device` with values cast to `dtype`.
  SparseAdjacency to(at::Device device, at::ScalarType dtype) const;
  // y = A · x through gnnrec::spmm (differentiable in x and value).
  at::Tensor matmul(const at::Tensor& x) const;
};

// Builds the transpose fields (t_rowptr, t_col, t_perm) of a CSR matrix by a
// counting sort: within each transposed row, entries are ordered by their
// row in A, so the result is deterministic.
void fill_transpose(SparseAdjacency& a);

// The (U+I) x (U+I) adjacency of g with the given normalisation, optional
// self loops, float32 or float64 values, on the CPU. A node without
// neighbours gets an empty row (or only its self loop).
SparseAdjacency unified_adjacency(const BipartiteGraph& g, Normalization norm, bool self_loops,
                                  at::ScalarType dtype);

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
