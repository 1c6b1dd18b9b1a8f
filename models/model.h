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
  std::optional<int64_t> svd_rank;          // GF-CF, BSPM: singular vectors of the ideal filter
  std::optional<double> ideal_weight;       // GF-CF α, BSPM β: weight of the ideal filter
  std::optional<double> sharpen_time;       // BSPM: T_s, end time of the sharpening ODE
  std::optional<int64_t> sharpen_steps;     // BSPM: K_s, its solver's steps
  std::optional<std::string> sharpen_solver;  // BSPM: euler | rk4
  std::optional<double> noise_eps;            // SimGCL, XSimGCL: ε, the noise's norm
  std::optional<double> cl_weight;            // SimGCL, XSimGCL: λ of the InfoNCE term
  std::optional<double> cl_temperature;       // SimGCL, XSimGCL: τ
  std::optional<int64_t> cl_layer;            // XSimGCL: l*, the layer contrasted with the final
  std::optional<int64_t> negative_ratio;      // UltraGCN: negatives per pair
  std::optional<int64_t> negative_share;      // UltraGCN: pairs sharing one draw of them
  std::optional<double> negative_weight;      // UltraGCN: the negatives' weight
  std::optional<int64_t> ii_neighbors;        // UltraGCN: item–item neighbours per item
  std::optional<double> ii_weight;            // UltraGCN: λ of the item–item loss
  std::vector<int64_t> hidden;  // NCF's MLP, NeuMF, DMF: tower widths; empty = model's default
  std::optional<int64_t> knn_neighbors;  // ItemKNN, UserKNN: neighbours kept per item / user
  std::optional<double> shrink;          // ItemKNN, UserKNN: the cosine's shrinkage term
  std::optional<int64_t> vae_hidden;     // Mult-VAE, Mult-DAE: hidden layer width
  std::optional<int64_t> vae_latent;     // Mult-VAE, Mult-DAE: latent width
  std::optional<double> anneal_cap;      // Mult-VAE: β_max of the KL annealing
  std::optional<int64_t> anneal_steps;   // Mult-VAE: updates over which β reaches β_max
  // Training settings whose paper value a model registers (GRU4Rec's
  // session-parallel batch); the trainer reads them through
  // registered_defaults() (train/config.h: TrainConfig::resolved()), the
  // model never does.
  std::optional<int64_t> batch_size;
  std::optional<double> lr;
  std::optional<double> reg;
};

struct NamedTensor {
  std::string name;
  at::Tensor tensor;
};

// How --shard-embeddings (train/sharded.h) cuts a model's tables row-wise
// across the ranks of a distributed run.
struct Sharding {
  enum class Kind {
    kNone,    // it does not
    kTables,  // MF's "user_embedding" and "item_embedding", rows looked up
    kGraph,   // a graph model's "embedding" over the unified node set, cut
              // by node ranges with the adjacency's rows, propagated by
              // Model::propagate over the adjacency below
  };
  Kind kind = Kind::kNone;
  Normalization norm = Normalization::kSymmetric;  // kGraph: its adjacency's
  bool self_loops = false;
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
  // Models whose scores are not a dot product of factors of modest width
  // rank rows instead: GF-CF's and BSPM's item–item filter r_u·F, F [I, I],
  // has no factors narrower than the number of users, and F itself would
  // not fit in memory on Gowalla (41k x 41k). For them ranks_rows() is
  // true, and the evaluator and `recommend` rank ranking_rows(users), the
  // scores [n, I] of users (int64 [n], on the CPU; a chunk of ~1000 at a
  // time) as score() ranks them, through the operator _topk_masked_scores;
  // ranking() and forward() may throw. Default: false, and rows from
  // ranking()'s factors (P[users] · Qᵀ).
  virtual bool ranks_rows() const { return false; }
  virtual at::Tensor ranking_rows(const at::Tensor& users);
  // Training-free models (GF-CF, BSPM): closed_form() is true, and fit()
  // computes what scoring needs, once, from the training graph, into the
  // tensors parameters() lists (none of them requires grad), and returns a
  // line saying what it computed; the trainer calls fit() in place of the
  // epochs of gradient training and then evaluates and checkpoints once,
  // and a loaded run copies those tensors back, so evaluation does not fit
  // again. Default: false, a no-op.
  virtual bool closed_form() const { return false; }
  virtual std::string fit() { return {}; }
  // A second training phase, run by the trainer after each epoch's batches
  // (in training mode), for models that alternate two objectives as KGAT
  // alternates its knowledge-graph loss with the recommendation loss. The
  // model draws its batches (about batch_size each) from `seed`, the
  // epoch's (a resumed run draws the same), and hands each batch's scalar
  // loss to step(), which backpropagates it and takes one step of the
  // trainer's optimiser over every parameter. Default: no phase.
  virtual void extra_epoch_phase(uint64_t /*seed*/, int64_t /*batch_size*/,
                                 const std::function<void(const at::Tensor&)>& /*step*/) {}
  // A term the model adds to the trainer's loss of a training batch (after
  // represent() of that batch): SimGCL's and XSimGCL's λ · InfoNCE over the
  // batch's users and positives. Default: none (an undefined tensor).
  virtual at::Tensor batch_loss_term(const at::Tensor& /*users*/, const at::Tensor& /*positives*/) {
    return {};
  }
  // Models trained by a loss of their own (UltraGCN) in place of --loss:
  // has_own_loss() is true, and own_loss(users, positives) is the batch's
  // data loss, the model drawing whatever negatives it needs (from Torch's
  // global generator, which the trainer seeds per epoch); the trainer adds
  // --reg · ½ Σ‖p‖² over every parameter whole and draws no negatives.
  // Default: false.
  virtual bool has_own_loss() const { return false; }
  virtual at::Tensor own_loss(const at::Tensor& /*users*/, const at::Tensor& /*positives*/) {
    return {};
  }
  // Whether score(represent(u, i)) scores single pairs, as --loss mse and
  // --protocol ctr need. Default: models that rank by factors do; of those
  // that rank rows, only the ones that say so (NCF's: gfcf's and bspm's
  // filters have no pair scores).
  virtual bool has_pair_scores() const { return !ranks_rows(); }
  // Models that make an epoch's batches themselves in place of the
  // trainer's (user, positive) pairs: GRU4Rec's session-parallel
  // mini-batches over each user's time-ordered items. own_batches() is
  // true, and the trainer calls own_epoch() for each epoch: it draws from
  // `seed` (the epoch's; a resumed run draws the same), forms batches of at
  // most batch_size, and hands each batch's data loss (BPR against the
  // batch's other targets, or softmax cross-entropy when cross_entropy) to
  // step(), which adds --reg · ½ ‖p‖² of every parameter whole,
  // backpropagates, takes one optimiser step and returns the loss's value.
  // Returns the mean of those values. Default: false.
  virtual bool own_batches() const { return false; }
  virtual double own_epoch(uint64_t /*seed*/, int64_t /*batch_size*/, bool /*cross_entropy*/,
                           const std::function<double(const at::Tensor&)>& /*step*/) {
    return 0;
  }
  // How --shard-embeddings cuts the model's tables. Default: it cannot.
  virtual Sharding sharding() const { return {}; }
  // Sharding::Kind::kGraph: the final representations of the nodes that
  // `adjacency` covers (its rows), from their layer-0 rows `ego`,
  // differentiable in ego and in the model's other parameters: the one
  // propagation forward() runs over the whole adjacency and a sharded rank
  // over its rows (AdjacencyProduct). Per-row operations stay per row.
  // Default: throws std::logic_error.
  virtual at::Tensor propagate(const AdjacencyProduct& adjacency, const at::Tensor& ego);

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
  ModelDefaults& svd_rank(int64_t v) { return set(options.svd_rank, v); }
  ModelDefaults& ideal_weight(double v) { return set(options.ideal_weight, v); }
  ModelDefaults& sharpen_time(double v) { return set(options.sharpen_time, v); }
  ModelDefaults& sharpen_steps(int64_t v) { return set(options.sharpen_steps, v); }
  ModelDefaults& sharpen_solver(const std::string& v) { return set(options.sharpen_solver, v); }
  ModelDefaults& noise_eps(double v) { return set(options.noise_eps, v); }
  ModelDefaults& cl_weight(double v) { return set(options.cl_weight, v); }
  ModelDefaults& cl_temperature(double v) { return set(options.cl_temperature, v); }
  ModelDefaults& cl_layer(int64_t v) { return set(options.cl_layer, v); }
  ModelDefaults& negative_ratio(int64_t v) { return set(options.negative_ratio, v); }
  ModelDefaults& negative_share(int64_t v) { return set(options.negative_share, v); }
  ModelDefaults& negative_weight(double v) { return set(options.negative_weight, v); }
  ModelDefaults& ii_neighbors(int64_t v) { return set(options.ii_neighbors, v); }
  ModelDefaults& ii_weight(double v) { return set(options.ii_weight, v); }
  ModelDefaults& knn_neighbors(int64_t v) { return set(options.knn_neighbors, v); }
  ModelDefaults& shrink(double v) { return set(options.shrink, v); }
  ModelDefaults& vae_hidden(int64_t v) { return set(options.vae_hidden, v); }
  ModelDefaults& vae_latent(int64_t v) { return set(options.vae_latent, v); }
  ModelDefaults& anneal_cap(double v) { return set(options.anneal_cap, v); }
  ModelDefaults& anneal_steps(int64_t v) { return set(options.anneal_steps, v); }
  ModelDefaults& batch_size(int64_t v) { return set(options.batch_size, v); }
  ModelDefaults& lr(double v) { return set(options.lr, v); }
  ModelDefaults& reg(double v) { return set(options.reg, v); }
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
// The defaults registered for model `name` (every optional unset for a
// name that is not registered).
ModelOptions registered_defaults(const std::string& name);

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
