// LightGCN (He et al., SIGIR 2020): E^(k+1) = D^-1/2 A D^-1/2 E^(k) over the
// unified user+item graph without self loops; the final representation is
// the layer mean Σ_k E^(k) / (K+1); scores are dot products. The only
// parameters are the layer-0 embeddings.
#include <ATen/ATen.h>

#include "models/graph_model.h"
#include "models/lightgcn_rows.h"

namespace gnnrec {
namespace {

// Symmetric normalisation, no self loops.
constexpr Sharding kSharding{Sharding::Kind::kGraph, Normalization::kSymmetric, false};

class LightGCN : public GraphModel {
 public:
  LightGCN(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : GraphModel(o, g, device), layers_(o.layers),
        adj_(g.adjacency(kSharding.norm, kSharding.self_loops, at::kFloat, device)) {}

  std::string name() const override { return "lightgcn"; }

  std::pair<at::Tensor, at::Tensor> forward() override {
    return split(propagate({adj_, {}}, embedding_));
  }

  Sharding sharding() const override { return kSharding; }
  at::Tensor propagate(const AdjacencyProduct& adj, const at::Tensor& ego) override {
    at::Tensor e = ego;
    at::Tensor sum = ego;
    for (int64_t k = 0; k < layers_; ++k) {
      e = adj(e);
      sum = sum + e;
    }
    return sum / static_cast<double>(layers_ + 1);
  }

  // The batch's layer-0 rows (the L2 term's) with a sparse gradient on the
  // CPU: the table's gradient is then the propagation's [N, d] plus these
  // rows, where two dense index_select gradients cost two zero-filled
  // [N, d] tensors and two whole-table additions every batch.
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& users, const at::Tensor& items) override {
    if (!embedding_.is_cpu()) return GraphModel::ego(users, items);
    return {at::embedding(embedding_, users, -1, false, /*sparse=*/true),
            at::embedding(embedding_, items + num_users_, -1, false, /*sparse=*/true)};
  }

  // A batch reads the final representations of its own rows only
  // (models/lightgcn_rows.h): the last layer for those rows alone, in one
  // autograd function; the same sums in the same order as forward()'s
  // rows, so the same bits. On the CPU: a GPU does the whole last layer
  // faster than it would build the rows' matrix.
  std::pair<at::Tensor, at::Tensor> represent(const at::Tensor& users,
                                              const at::Tensor& items) override {
    if (layers_ == 0 || !adj_.rowptr.is_cpu()) return Model::represent(users, items);
    const at::Tensor nodes = at::cat({users, items + num_users_});
    const auto [rows, where] = at::_unique(nodes, /*sorted=*/true, /*return_inverse=*/true);
    if (!t_value_.defined() && adj_.value.defined()) {
      t_value_ = adj_.value.index_select(0, adj_.t_perm);
    }
    const at::Tensor out =
        lightgcn_rows(embedding_, adj_, t_value_, layers_, rows).index_select(0, where);
    return {out.narrow(0, 0, users.numel()), out.narrow(0, users.numel(), items.numel())};
  }

 private:
  int64_t layers_;
  const SparseAdjacency& adj_;
  at::Tensor t_value_;  // adj_'s values in transposed order, for lightgcn_rows
};

const ModelRegistrar kRegister("lightgcn", factory_of<LightGCN>());

}  // namespace
}  // namespace gnnrec
