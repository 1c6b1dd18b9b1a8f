// LightGCN (He et al., SIGIR 2020): E^(k+1) = D^-1/2 A D^-1/2 E^(k) over the
// unified user+item graph without self loops; the final representation is
// the layer mean Σ_k E^(k) / (K+1); scores are dot products. The only
// parameters are the layer-0 embeddings.
#include <ATen/ATen.h>

#include "models/graph_model.h"

namespace gnnrec {
namespace {

class LightGCN : public GraphModel {
 public:
  LightGCN(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : GraphModel(o, g, device),
        layers_(o.layers),
        adj_(g.adjacency(Normalization::kSymmetric, /*self_loops=*/false, at::kFloat, device)) {}

  std::string name() const override { return "lightgcn"; }

  std::pair<at::Tensor, at::Tensor> forward() override {
    at::Tensor e = embedding_;
    at::Tensor sum = embedding_;
    for (int64_t k = 0; k < layers_; ++k) {
      e = adj_.matmul(e);
      sum = sum + e;
    }
    return split(sum / static_cast<double>(layers_ + 1));
  }

 private:
  int64_t layers_;
  const SparseAdjacency& adj_;
};

const ModelRegistrar kRegister("lightgcn", factory_of<LightGCN>());

}  // namespace
}  // namespace gnnrec
