// Fold-in: the representation of a user (or item) that was not in the
// training data, from the items it interacted with (or the users who
// interacted with it), without retraining (docs/serving.md derives both).
//
//   mf, transe, transr (least squares): the user vector is a free parameter
//     scored by dot product against the item vectors Q, so the new user's is
//     the ridge solution  p = argmin Σ_{i∈S} (1 − p·q_i)² + λ‖p‖²
//                           = (Q_Sᵀ Q_S + λ I)⁻¹ Q_Sᵀ 1;
//     a new item's likewise against the user vectors. The target 1 only sets
//     the scale of p, which no ranking depends on. λ defaults to
//     |S| · mean_i ‖q_i‖² (the penalty weighs as much as the data term at
//     the vectors' typical size); the training L2 (--reg, 1e-4) is far too
//     small for it: with a few dozen items in 64 dimensions p then
//     interpolates them exactly, and on MovieLens 100K such users rank no
//     better than popularity (docs/serving.md has the figures). As λ grows,
//     p turns to the mean of the items' vectors.
//   lightgcn (propagation): the new node x joins the graph with edges to S;
//     its representation in that graph is exactly what LightGCN would give
//     it, computed on x's K-hop computation tree only:
//       e'^(k+1)_v = Σ_{w ∈ N'(v)} e'^(k)_w / sqrt(d'_v d'_w),
//       final_x = (1 / (K+1)) Σ_{k=0..K} e'^(k)_x,
//     with N', d' the neighbours and degrees in the graph with x added
//     (d'_i = d_i + 1 for i ∈ S, d'_x = |S|), layer 0 the trained ego
//     embeddings and e'^(0)_x = 0 (x has no trained ego embedding). Layer k
//     is needed on the nodes within K − k hops of x only. The catalogue it
//     is then scored against is the trained one: adding x would also move
//     the nodes near it slightly, and fold-in changes nothing but x.
//     (--layers 0 is plain MF: least squares.)
// Other models: no fold-in (std::invalid_argument saying why): GCN, NGCF,
// GAT, GraphSAGE, HeteroGAT and KGAT compute a node's representation with
// learned non-linear layers over its neighbourhood (and, for GraphSAGE,
// sampling), which would have to be run for the new node; KGCN's ranking is
// a per-user score matrix, not vectors.
//
// Thread-safety: a FoldIn is immutable; its const methods may run on any
// number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "graph/bipartite_graph.h"
#include "train/serving_run.h"

namespace gnnrec {

class FoldIn {
 public:
  virtual ~FoldIn() = default;
  // "least-squares" or "propagation".
  virtual std::string method() const = 0;
  // The ranking representation (float32 [d], CPU) of a new user who
  // interacted with `items` (dense ids, distinct, at least one), to be
  // scored against the run's item factors.
  virtual at::Tensor new_user(const std::vector<int32_t>& items) const = 0;
  // The same for a new item from the users who interacted with it, scored
  // against the user factors.
  virtual at::Tensor new_item(const std::vector<int32_t>& users) const = 0;
};

// The fold-in of the run's model; `s` must outlive it. `l2`: least squares'
// λ (>= 0), unset for the default above. std::invalid_argument naming the
// model and the reason for the models above that have none.
std::unique_ptr<FoldIn> make_fold_in(const ServingRun& s, std::optional<double> l2 = std::nullopt);

// The computations themselves, in float64, for the tests and the above.
// Ridge least squares: argmin_p Σ_{r ∈ rows} (1 − p·F[r])² + λ‖p‖², F [n, d];
// the minimum-norm solution when λ = 0 leaves it under-determined.
at::Tensor least_squares_fold_in(const at::Tensor& factors, const std::vector<int32_t>& rows,
                                 double lambda);
// The default λ for `rows` of `factors`: rows.size() times the mean squared
// norm of all the rows of `factors`.
double default_fold_in_l2(const at::Tensor& factors, size_t rows);
// LightGCN's final representation of a new node joined to `neighbours`
// (dense ids of the other side: items for a new user, users for a new item)
// in the graph g, with ego [U+I, d] (users, then items) and `layers`
// propagation layers; float64 [d].
at::Tensor lightgcn_fold_in(const BipartiteGraph& g, const at::Tensor& ego, int64_t layers,
                            bool new_user, const std::vector<int32_t>& neighbours);

}  // namespace gnnrec
