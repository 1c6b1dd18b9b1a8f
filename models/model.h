// Recommender models: the interface the trainer and evaluator use, and a
// registry that builds a model from its name.
//
// A model owns its parameters (leaf tensors with requires_grad) on one
// device. forward() returns the final user and item representations,
// differentiable in the parameters; the score of (u, i) is their dot product.
#pragma once

#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "models/propagation_graph.h"

namespace gnnrec {

// Hyper-parameters of every model. An unset optional means "the model's
// paper default": the defaults a model registers with (ModelRegistrar) fill
// it in make_model, so a model reads the optionals it registered defaults
// for as set; a model ignores the fields it has no use for.
struct ModelOptions {
  int64_t dim = 64;     // embedding width (and hidden width of each layer)
  int64_t layers = 3;   // propagation / convolution layers (graph models)
  double init_std = 0.1;
  uint64_t seed = 2020;
  std::optional<double> dropout;            // feature dropout (GCN, GAT, SAGE)
  std::optional<double> node_dropout;       // NGCF: fraction of adjacency entries dropped
  std::optional<double> message_dropout;    // NGCF, KGAT: dropout on each layer's messages
  std::optional<double> attention_dropout;  // GAT: dropout on attention coefficients
  std::optional<int64_t> heads;             // GAT: attention heads
  std::optional<std::string> aggregator;    // SAGE: mean | max | pool | lstm
  std::vector<int64_t> fanouts;             // SAGE: neighbours per layer; empty = default
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

  // Training mode switches dropout (and sampling models' training paths) on;
  // the trainer sets it before each epoch and clears it for evaluation.
  virtual void set_training(bool on) { training_ = on; }
  bool training() const { return training_; }

  // Representations of the given users and items (int64 index tensors on
  // the model's device) for one training batch, differentiable. The default
  // runs forward() and gathers; mini-batch models (GraphSAGE) override it to
  // compute only what the batch needs.
  virtual std::pair<at::Tensor, at::Tensor> represent(const at::Tensor& users,
                                                      const at::Tensor& items);
  // Scores of aligned pairs: row k of u (user representations) with row k of
  // i (item representations); a logit for BCE, a rating for MSE. Default:
  // the dot product.
  virtual at::Tensor score(const at::Tensor& u, const at::Tensor& i);
  // Factors (P [U, d'], Q [I, d']) whose dot products P[u]·Q[i] rank items
  // for each user exactly as score() does (full-ranking evaluation and
  // `recommend`). Default: forward().
  virtual std::pair<at::Tensor, at::Tensor> ranking();
  // A second training phase, run by the trainer after each epoch's batches
  // (in training mode), for models that alternate two objectives as KGAT
  // alternates its knowledge-graph loss with the recommendation loss. The
  // model draws its batches (about batch_size each) from `seed`, the
  // epoch's (a resumed run draws the same), and hands each batch's scalar
  // loss to step(), which backpropagates it and takes one step of the
  // trainer's optimiser over every parameter. Default: no phase.
  virtual void extra_epoch_phase(uint64_t /*seed*/, int64_t /*batch_size*/,
                                 const std::function<void(const at::Tensor&)>& /*step*/) {}

 protected:
  bool training_ = false;
};

using ModelFactory = std::function<std::unique_ptr<Model>(
    const ModelOptions&, const PropagationGraph&, at::Device)>;

// Builds the model registered under `name` ("mf", "lightgcn", ...), with the
// unset optionals of opts taken from its registered defaults. Throws
// std::invalid_argument listing the known names for an unknown one, or for
// invalid options (dim < 1, layers < 0).
std::unique_ptr<Model> make_model(const std::string& name, const ModelOptions& opts,
                                  const PropagationGraph& graph, at::Device device);
std::vector<std::string> model_names();
// Registration happens in each model's .cpp through a static Registrar.
// `defaults`: the model's paper defaults of ModelOptions' optionals (the
// one place they are written; the CLI's --help lists them).
struct ModelRegistrar {
  ModelRegistrar(const std::string& name, ModelFactory factory, ModelOptions defaults = {});
};
// The factory of a Model class M constructed as M(options, graph, device).
template <typename M>
ModelFactory factory_of() {
  return [](const ModelOptions& o, const PropagationGraph& g,
            at::Device d) -> std::unique_ptr<Model> { return std::make_unique<M>(o, g, d); };
}
// A model's paper defaults as one expression for its registrar:
// ModelDefaults().dropout(0.6).heads(8).
struct ModelDefaults {
  ModelOptions options;
  ModelDefaults& dropout(double v) { return set(options.dropout, v); }
  ModelDefaults& node_dropout(double v) { return set(options.node_dropout, v); }
  ModelDefaults& message_dropout(double v) { return set(options.message_dropout, v); }
  ModelDefaults& attention_dropout(double v) { return set(options.attention_dropout, v); }
  ModelDefaults& heads(int64_t v) { return set(options.heads, v); }
  ModelDefaults& aggregator(const std::string& v) { return set(options.aggregator, v); }
  operator ModelOptions() const { return options; }  // NOLINT(google-explicit-constructor)

 private:
  template <typename T, typename V>
  ModelDefaults& set(std::optional<T>& field, const V& v) {
    field = v;
    return *this;
  }
};
// The registered models' defaults of the ModelOptions optional named `key`
// (its configuration key: "dropout", "heads", "aggregator", ...), as
// "gat 0.6, gcn 0.5"; empty when no model registers one.
std::string model_defaults_help(const std::string& key);

// A [rows, dim] leaf parameter drawn from N(0, std^2) with a generator
// seeded by (seed, stream), created on the CPU in float32 then moved.
at::Tensor normal_parameter(int64_t rows, int64_t dim, double std, uint64_t seed,
                            uint64_t stream, at::Device device);

// A leaf parameter of `shape` drawn from the Glorot/Xavier uniform
// U(±sqrt(6 / (fan_in + fan_out))), with a generator seeded by
// (seed, stream), created on the CPU in float32 then moved.
at::Tensor xavier_parameter(at::IntArrayRef shape, int64_t fan_in, int64_t fan_out, uint64_t seed,
                            uint64_t stream, at::Device device);

}  // namespace gnnrec
