// GCN recommender: the ID embeddings pass through K graph convolutions
// (Kipf & Welling, ICLR 2017) over the symmetric-normalised unified graph
// with self loops, with dropout before each layer and ReLU between layers.
// A pair is scored by an output layer on the element-wise product of the
// user and item representations, s(u, i) = wᵀ(h_u ⊙ h_i) + b.
// Paper default: dropout 0.5.
#include <ATen/ATen.h>

#include "models/graph_model.h"

namespace gnnrec {
namespace {

// Symmetric normalisation with self loops.
constexpr Sharding kSharding{Sharding::Kind::kGraph, Normalization::kSymmetric, true};

class Gcn : public GraphModel {
 public:
  Gcn(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : GraphModel(o, g, device), dropout_(checked_probability("--dropout", o.dropout.value())),
        adj_(g.adjacency(kSharding.norm, kSharding.self_loops, at::kFloat, device)) {
    for (int64_t l = 0; l < o.layers; ++l) {
      convs_.push_back(add_linear("conv" + std::to_string(l), o.dim, o.dim, true));
    }
    out_ = add_linear("out", o.dim, 1, true);
  }

  std::string name() const override { return "gcn"; }

  std::pair<at::Tensor, at::Tensor> forward() override {
    return split(propagate({adj_, {}}, embedding_));
  }

  Sharding sharding() const override { return kSharding; }
  // A sharded rank draws the dropout masks of its own rows only, so with
  // dropout it trains on other draws than a replicated run.
  at::Tensor propagate(const AdjacencyProduct& adj, const at::Tensor& ego) override {
    at::Tensor h = ego;
    for (size_t l = 0; l < convs_.size(); ++l) {
      h = layers::gcn_conv(adj, dropout(h, dropout_), convs_[l]);
      if (l + 1 < convs_.size()) h = at::relu(h);
    }
    return h;
  }

  at::Tensor score(const at::Tensor& u, const at::Tensor& i) override {
    return out_(u * i).squeeze(-1);
  }

  // wᵀ(u ⊙ i) + b = u · (i ⊙ w) + b, and b does not change a ranking.
  std::pair<at::Tensor, at::Tensor> ranking() override {
    auto [u, i] = forward();
    return {u, i * out_.weight.view({1, -1})};
  }

 private:
  double dropout_;
  const SparseAdjacency& adj_;
  std::vector<layers::Linear> convs_;
  layers::Linear out_;
};

const ModelRegistrar kRegister("gcn", factory_of<Gcn>(), ModelDefaults().dropout(0.5));

}  // namespace
}  // namespace gnnrec
