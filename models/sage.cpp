// GraphSAGE recommender (Hamilton et al., NeurIPS 2017) over the unified
// graph: the ID embeddings pass through K SAGE layers (aggregator mean, max,
// pool or lstm), ReLU and dropout between layers, and the outputs are
// L2-normalised; scores are dot products (cosines).
//
// Training is mini-batch: represent() samples fanouts[k] neighbours at hop
// k around the batch's users and items (blocks, samplers/neighbor_blocks.h)
// and computes only those nodes; every call draws a new sample, seeded from
// Torch's global generator. Evaluation
// (forward) uses every neighbour, except for lstm, which reads a sample of
// the last hop's fanout with a fixed seed (its sequences need equal lengths).
// The LSTM reads the neighbours in a random order while training, as the
// paper prescribes, and in sampled order for evaluation (deterministic).
// Paper defaults: aggregator mean, fanouts 25, 10 (then 10 per extra hop),
// no dropout.
#include <limits>
#include <stdexcept>

#include <ATen/ATen.h>

#include "models/graph_model.h"
#include "samplers/neighbor_blocks.h"

namespace gnnrec {
namespace {

std::vector<int64_t> resolve_fanouts(const ModelOptions& o) {
  std::vector<int64_t> f = o.fanouts;
  if (f.empty()) {
    for (int64_t k = 0; k < o.layers; ++k) f.push_back(k == 0 ? 25 : 10);
  }
  if (static_cast<int64_t>(f.size()) != o.layers) {
    throw std::invalid_argument("--fanouts has " + std::to_string(f.size()) +
                                " values but --layers is " + std::to_string(o.layers) +
                                " (one fanout per layer)");
  }
  for (int64_t x : f) {
    if (x <= 0) throw std::invalid_argument("--fanouts must all be > 0, got " + std::to_string(x));
  }
  return f;
}

class Sage : public GraphModel {
 public:
  Sage(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : GraphModel(o, g, device), dropout_(checked_probability("--dropout", o.dropout.value())),
        fanouts_(resolve_fanouts(o)),
        adj_(g.adjacency(Normalization::kNone, /*self_loops=*/false, at::kFloat, device)) {
    const std::string aggregator = o.aggregator.value();
    layers::check_sage_aggregator(aggregator);
    const int64_t d = o.dim;
    for (int64_t l = 0; l < o.layers; ++l) {
      const std::string p = "layer" + std::to_string(l);
      layers::SageLayer layer;
      layer.aggregator = aggregator;
      layer.lin_l = add_linear(p + ".lin_l", d, d, true);
      layer.lin_r = add_linear(p + ".lin_r", d, d, false);
      if (aggregator == "pool") layer.proj = add_linear(p + ".proj", d, d, true);
      if (aggregator == "lstm") {
        layer.lstm = {add_glorot(p + ".lstm.w_ih", 4 * d, d), add_glorot(p + ".lstm.w_hh", 4 * d, d),
                      add_zeros(p + ".lstm.b_ih", {4 * d}), add_zeros(p + ".lstm.b_hh", {4 * d})};
      }
      layers_.push_back(layer);
    }
  }

  std::string name() const override { return "sage"; }

  std::pair<at::Tensor, at::Tensor> represent(const at::Tensor& users,
                                              const at::Tensor& items) override {
    const at::Tensor targets = at::cat({users, items + num_users_});
    auto [unique_targets, where, unused] =
        at::_unique2(targets, /*sorted=*/true, /*return_inverse=*/true);
    (void)unused;
    // The sample's seed comes from Torch's global generator, which the
    // trainer seeds per epoch: a resumed run draws the same samples.
    const auto sample_seed = static_cast<uint64_t>(
        at::randint(std::numeric_limits<int64_t>::max(), {1}, at::TensorOptions(at::kLong))
            .item<int64_t>());
    const SampledSubgraph sg = sample_blocks(adj_, unique_targets, fanouts_, sample_seed);
    const size_t L = layers_.size();
    at::Tensor h = embedding_.index_select(0, sg.nodes[L]);
    for (size_t l = 0; l < L; ++l) {
      const SampledBlock& b = sg.blocks[L - 1 - l];
      h = dropout(h, dropout_);
      h = apply(l, b.adj, h, h.index_select(0, b.dst_pos));
    }
    const at::Tensor out = normalize(h).index_select(0, where);
    return {out.narrow(0, 0, users.numel()), out.narrow(0, users.numel(), items.numel())};
  }

  std::pair<at::Tensor, at::Tensor> forward() override {
    at::Tensor h = embedding_;
    for (size_t l = 0; l < layers_.size(); ++l) {
      h = dropout(h, dropout_);
      if (layers_[l].aggregator == "lstm") {
        // Every node, a fixed sample of the layer's hop fanout.
        const at::Tensor nodes = at::arange(num_nodes_, at::TensorOptions(device_).dtype(at::kLong));
        const SampledSubgraph sg =
            sample_blocks(adj_, nodes, {fanouts_[layers_.size() - 1 - l]}, seed_ + l);
        const SampledBlock& b = sg.blocks[0];
        h = apply(l, b.adj, h.index_select(0, sg.nodes[1]), h);
      } else {
        h = apply(l, adj_, h, h);
      }
    }
    return split(normalize(h));
  }

 private:
  at::Tensor apply(size_t l, const SparseAdjacency& adj, const at::Tensor& x_src,
                   const at::Tensor& x_dst) {
    // x_dst rows are rows of x_src (same dropout mask), as in PyG's bipartite SAGEConv.
    at::Tensor h = layers::sage_conv(adj, x_src, x_dst, layers_[l], /*shuffle=*/training());
    return l + 1 < layers_.size() ? at::relu(h) : h;
  }
  static at::Tensor normalize(const at::Tensor& h) {
    return h / h.norm(2, {1}, true).clamp_min(1e-12);
  }

  double dropout_;
  std::vector<int64_t> fanouts_;
  const SparseAdjacency& adj_;
  std::vector<layers::SageLayer> layers_;
};

const ModelRegistrar kRegister("sage", factory_of<Sage>(),
                               ModelDefaults().dropout(0.0).aggregator("mean"));

}  // namespace
}  // namespace gnnrec
