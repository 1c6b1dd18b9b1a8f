// GAT recommender (Veličković et al., ICLR 2018) over the unified graph with
// self loops: hidden layers have `heads` attention heads of dim/heads
// channels, concatenated; the last layer has `heads` heads of dim channels,
// averaged. ELU between layers, dropout on each layer's input and on the
// attention coefficients; scores are dot products.
// Paper defaults: 8 heads, dropout 0.6, attention dropout 0.6.
#include <stdexcept>

#include <ATen/ATen.h>

#include "models/graph_model.h"

namespace gnnrec {
namespace {

class Gat : public GraphModel {
 public:
  Gat(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : GraphModel(o, g, device), dropout_(checked_probability("--dropout", o.dropout.value())),
        attention_dropout_(checked_probability("--attention-dropout", o.attention_dropout.value())),
        adj_(g.adjacency(Normalization::kNone, /*self_loops=*/true, at::kFloat, device)) {
    const int64_t heads = o.heads.value();
    if (heads < 1) throw std::invalid_argument("--heads must be at least 1, got " + std::to_string(heads));
    if (o.layers > 1 && o.dim % heads != 0) {
      throw std::invalid_argument("--heads (" + std::to_string(heads) + ") must divide --dim (" +
                                  std::to_string(o.dim) + ")");
    }
    for (int64_t l = 0; l < o.layers; ++l) {
      const bool last = l + 1 == o.layers;
      const int64_t channels = last ? o.dim : o.dim / heads;
      const std::string p = "layer" + std::to_string(l);
      layers::GatLayer layer;
      layer.heads = heads;
      layer.concat = !last;
      layer.lin = add_linear(p + ".lin", o.dim, heads * channels, false);
      layer.att_src = add_glorot(p + ".att_src", heads, channels);
      layer.att_dst = add_glorot(p + ".att_dst", heads, channels);
      layer.bias = add_zeros(p + ".bias", {last ? channels : heads * channels});
      layers_.push_back(layer);
    }
  }

  std::string name() const override { return "gat"; }

  std::pair<at::Tensor, at::Tensor> forward() override {
    at::Tensor h = embedding_;
    for (size_t l = 0; l < layers_.size(); ++l) {
      h = layers::gat_conv(adj_, dropout(h, dropout_), layers_[l], attention_dropout_, training());
      if (l + 1 < layers_.size()) h = at::elu(h);
    }
    return split(h);
  }

 private:
  double dropout_, attention_dropout_;
  const SparseAdjacency& adj_;
  std::vector<layers::GatLayer> layers_;
};

const ModelRegistrar kRegister("gat", factory_of<Gat>(),
                               ModelDefaults().dropout(0.6).attention_dropout(0.6).heads(8));

}  // namespace
}  // namespace gnnrec
