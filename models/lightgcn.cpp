// LightGCN (He et al., SIGIR 2020): E^(k+1) = D^-1/2 A D^-1/2 E^(k) over the
// unified user+item graph without self loops; the final representation is
// the layer mean Σ_k E^(k) / (K+1); scores are dot products. The only
// parameters are the layer-0 embeddings.
#include <ATen/ATen.h>

#include "models/model.h"

namespace gnnrec {
namespace {

class LightGCN : public Model {
 public:
  LightGCN(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : num_users_(g.graph().num_users()),
        layers_(o.layers),
        adj_(g.adjacency(Normalization::kSymmetric, /*self_loops=*/false, at::kFloat, device)),
        embedding_(normal_parameter(g.graph().num_users() + g.graph().num_items(), o.dim,
                                    o.init_std, o.seed, 3, device)) {}

  std::string name() const override { return "lightgcn"; }

  std::pair<at::Tensor, at::Tensor> forward() override {
    at::Tensor e = embedding_;
    at::Tensor sum = embedding_;
    for (int64_t k = 0; k < layers_; ++k) {
      e = adj_.matmul(e);
      sum = sum + e;
    }
    at::Tensor out = sum / static_cast<double>(layers_ + 1);
    return {out.narrow(0, 0, num_users_), out.narrow(0, num_users_, out.size(0) - num_users_)};
  }

  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return {embedding_.index_select(0, u), embedding_.index_select(0, i + num_users_)};
  }

  std::vector<NamedTensor> parameters() override { return {{"embedding", embedding_}}; }

 private:
  int64_t num_users_;
  int64_t layers_;
  const SparseAdjacency& adj_;
  at::Tensor embedding_;
};

const ModelRegistrar kRegister("lightgcn", [](const ModelOptions& o, const PropagationGraph& g,
                                              at::Device d) {
  return std::make_unique<LightGCN>(o, g, d);
});

}  // namespace
}  // namespace gnnrec
