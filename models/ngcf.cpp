// NGCF (Wang et al., SIGIR 2019). Per layer, with L = D^-1/2 A D^-1/2:
//   E' = LeakyReLU_0.2(W1 (E + L E) + b1 + W2 (L E ⊙ E) + b2),
// message dropout on E', and each layer's output L2-normalised; the final
// representation concatenates E and the normalised outputs of every layer;
// scores are dot products. Node dropout drops entries of L (scaling the
// rest by 1/(1-p)) at each training step, as the authors' code does.
// Paper defaults: node dropout 0.1, message dropout 0.1.
#include <ATen/ATen.h>

#include "models/graph_model.h"

namespace gnnrec {
namespace {

// L: symmetric normalisation, no self loops.
constexpr Sharding kSharding{Sharding::Kind::kGraph, Normalization::kSymmetric, false};

class Ngcf : public GraphModel {
 public:
  Ngcf(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : GraphModel(o, g, device),
        node_dropout_(checked_probability("--node-dropout", o.node_dropout.value())),
        message_dropout_(checked_probability("--message-dropout", o.message_dropout.value())),
        adj_(g.adjacency(kSharding.norm, kSharding.self_loops, at::kFloat, device)) {
    for (int64_t l = 0; l < o.layers; ++l) {
      const std::string p = "layer" + std::to_string(l);
      layers_.push_back({add_linear(p + ".w1", o.dim, o.dim, true),
                         add_linear(p + ".w2", o.dim, o.dim, true)});
    }
  }

  std::string name() const override { return "ngcf"; }

  std::pair<at::Tensor, at::Tensor> forward() override {
    return split(propagate({adj_, {}}, embedding_));
  }

  Sharding sharding() const override { return kSharding; }
  // A sharded rank draws the dropout masks of its own rows and entries
  // only, so with dropout it trains on other draws than a replicated run.
  at::Tensor propagate(const AdjacencyProduct& l, const at::Tensor& ego) override {
    AdjacencyProduct adj = l;
    if (training() && node_dropout_ > 0 && adj.matrix.nnz() > 0) {
      const at::Tensor keep = at::bernoulli(at::full_like(adj.matrix.value, 1.0 - node_dropout_));
      adj.matrix.value = adj.matrix.value * keep / (1.0 - node_dropout_);
    }
    at::Tensor e = ego;
    std::vector<at::Tensor> outs{e};
    for (const auto& layer : layers_) {
      e = dropout(layers::ngcf_conv(adj, e, layer), message_dropout_);
      outs.push_back(e / e.norm(2, {1}, true).clamp_min(1e-12));
    }
    return at::cat(outs, 1);
  }

 private:
  double node_dropout_, message_dropout_;
  const SparseAdjacency& adj_;
  std::vector<layers::NgcfLayer> layers_;
};

const ModelRegistrar kRegister("ngcf", factory_of<Ngcf>(),
                               ModelDefaults().node_dropout(0.1).message_dropout(0.1));

}  // namespace
}  // namespace gnnrec
