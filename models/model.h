// Recommender models: the interface the trainer and evaluator use, and a
// registry that builds a model from its name.
//
// A model owns its parameters (leaf tensors with requires_grad) on one
// device. forward() returns the final user and item representations,
// differentiable in the parameters; the score of (u, i) is their dot product.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "graph/adjacency.h"

namespace gnnrec {

struct ModelOptions {
  int64_t dim = 64;     // embedding width
  int64_t layers = 3;   // propagation layers (graph models)
  double init_std = 0.1;
  uint64_t seed = 2020;
};

struct NamedTensor {
  std::string name;
  at::Tensor tensor;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string name() const = 0;
  // Final representations: users [U, d'] and items [I, d'].
  virtual std::pair<at::Tensor, at::Tensor> forward() = 0;
  // Layer-0 (ego) embeddings of the given users and items, for the L2 term
  // of BPR as in the LightGCN paper.
  virtual std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& users,
                                                const at::Tensor& items) = 0;
  virtual std::vector<NamedTensor> parameters() = 0;
};

using ModelFactory = std::function<std::unique_ptr<Model>(
    const ModelOptions&, const PropagationGraph&, at::Device)>;

// Builds the model registered under `name` ("mf", "lightgcn", ...). Throws
// std::invalid_argument listing the known names for an unknown one, or for
// invalid options (dim < 1, layers < 0).
std::unique_ptr<Model> make_model(const std::string& name, const ModelOptions& opts,
                                  const PropagationGraph& graph, at::Device device);
std::vector<std::string> model_names();
// Registration happens in each model's .cpp through a static Registrar.
struct ModelRegistrar {
  ModelRegistrar(const std::string& name, ModelFactory factory);
};

// A [rows, dim] leaf parameter drawn from N(0, std^2) with a generator
// seeded by (seed, stream), created on the CPU in float32 then moved.
at::Tensor normal_parameter(int64_t rows, int64_t dim, double std, uint64_t seed,
                            uint64_t stream, at::Device device);

}  // namespace gnnrec
