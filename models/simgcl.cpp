// SimGCL (Yu et al., SIGIR 2022, "Are Graph Augmentations Necessary?") and
// XSimGCL (Yu et al., TKDE 2023, "XSimGCL: Towards Extremely Simple Graph
// Contrastive Learning for Recommendation"): LightGCN's propagation over
// D^-1/2 A D^-1/2 with, in training, uniform noise added to every node after
// each layer (models/contrastive.h: e + ε · sign(e) ⊙ u/‖u‖), and an InfoNCE
// term between two views of the batch's users and of its positive items
// (each set without repeats), weighted by λ (--cl-weight), added to BPR:
//   xsimgcl: one noisy propagation per batch gives both the representations
//            that BPR scores (the mean of layers 1..L) and the second view,
//            the output of layer l* (--cl-layer); InfoNCE(final, layer l*);
//   simgcl:  BPR on a clean propagation; InfoNCE between two further noisy
//            propagations.
// Evaluation propagates without noise. As in the authors' code (SELFRec):
// the representation is the mean of layers 1..L (the ego layer excluded),
// the embeddings are Xavier-uniform initialised (users and items as two
// tables), the InfoNCE uses cosine similarity. Their defaults: xsimgcl
// ε 0.2, λ 0.2, τ 0.15, l* 1 with 2 layers; simgcl ε 0.1, λ 0.5, τ 0.2 with
// 2 layers (SELFRec conf/XSimGCL.yaml, conf/SimGCL.yaml; --layers stays the
// trainer's option, default 3: pass --layers 2). The noise draws from
// Torch's global generator, which the trainer seeds per epoch (train/
// epoch.cpp), so --resume reproduces an uninterrupted run.
#include <ATen/ATen.h>

#include <stdexcept>

#include "models/contrastive.h"
#include "models/graph_model.h"

namespace gnnrec {
namespace {

class SimGcl : public GraphModel {
 public:
  SimGcl(const ModelOptions& o, const PropagationGraph& g, at::Device device, bool cross_layer)
      : GraphModel(o, g, device), cross_layer_(cross_layer), layers_(o.layers),
        eps_(o.noise_eps.value()), lambda_(o.cl_weight.value()), tau_(o.cl_temperature.value()),
        cl_layer_(o.cl_layer.value()),
        adj_(g.adjacency(Normalization::kSymmetric, /*self_loops=*/false, at::kFloat, device)) {
    const std::string model = cross_layer ? "xsimgcl" : "simgcl";
    if (layers_ < 1) throw std::invalid_argument("--layers for " + model + " must be at least 1");
    if (cross_layer && cl_layer_ > layers_) {
      throw std::invalid_argument("--cl-layer (" + std::to_string(cl_layer_) +
                                  ") must not exceed --layers (" + std::to_string(layers_) + ")");
    }
    // Xavier-uniform users and items, as two tables (SELFRec's initialiser).
    at::NoGradGuard no_grad;
    const int64_t U = num_users_, I = num_nodes_ - num_users_, d = o.dim;
    embedding_.narrow(0, 0, U).copy_(xavier_parameter({U, d}, d, U, o.seed, 11, device));
    embedding_.narrow(0, U, I).copy_(xavier_parameter({I, d}, d, I, o.seed, 12, device));
  }

  std::string name() const override { return cross_layer_ ? "xsimgcl" : "simgcl"; }

  std::pair<at::Tensor, at::Tensor> forward() override {
    if (training() && cross_layer_) {
      auto [final, contrast] = propagate(true);
      views_ = {final, contrast};
      return split(final);
    }
    return split(propagate(false).first);
  }

  at::Tensor batch_loss_term(const at::Tensor& users, const at::Tensor& positives) override {
    std::pair<at::Tensor, at::Tensor> views;
    if (cross_layer_) {
      if (!views_.first.defined()) {
        throw std::logic_error("xsimgcl: batch_loss_term before a training forward()");
      }
      views = std::move(views_);
      views_ = {};
    } else {
      views = {propagate(true).first, propagate(true).first};
    }
    const at::Tensor u = std::get<0>(at::_unique(users));
    const at::Tensor i = std::get<0>(at::_unique(positives)) + num_users_;
    const auto nce = [&](const at::Tensor& rows) {
      return info_nce(views.first.index_select(0, rows), views.second.index_select(0, rows), tau_);
    };
    return (nce(u) + nce(i)) * lambda_;
  }

 private:
  // The mean of layers 1..L and the output of layer l* (noisy: each layer's
  // output perturbed before the next layer takes it).
  std::pair<at::Tensor, at::Tensor> propagate(bool noisy) const {
    at::Tensor e = embedding_, sum, contrast;
    for (int64_t k = 1; k <= layers_; ++k) {
      e = adj_.matmul(e);
      if (noisy) e = add_uniform_noise(e, eps_);
      sum = k == 1 ? e : sum + e;
      if (k == cl_layer_) contrast = e;
    }
    return {sum / static_cast<double>(layers_), contrast};
  }

  bool cross_layer_;
  int64_t layers_;
  double eps_, lambda_, tau_;
  int64_t cl_layer_;
  const SparseAdjacency& adj_;
  std::pair<at::Tensor, at::Tensor> views_;  // xsimgcl: the last training forward's
};

ModelFactory factory(bool cross_layer) {
  return [cross_layer](const ModelOptions& o, const PropagationGraph& g,
                       at::Device d) -> std::unique_ptr<Model> {
    return std::make_unique<SimGcl>(o, g, d, cross_layer);
  };
}

const ModelRegistrar kXSimGcl(
    "xsimgcl", factory(true),
    ModelDefaults().noise_eps(0.2).cl_weight(0.2).cl_temperature(0.15).cl_layer(1));
const ModelRegistrar kSimGcl(
    "simgcl", factory(false),
    ModelDefaults().noise_eps(0.1).cl_weight(0.5).cl_temperature(0.2).cl_layer(1));

}  // namespace
}  // namespace gnnrec
