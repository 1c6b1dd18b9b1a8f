#include "models/model.h"

#include <cmath>
#include <map>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace gnnrec {
namespace {

struct Registered {
  ModelFactory factory;
  ModelOptions defaults;
};

std::map<std::string, Registered>& registry() {
  static std::map<std::string, Registered> r;
  return r;
}

template <typename T>
void fill(std::optional<T>& value, const std::optional<T>& fallback) {
  if (!value) value = fallback;
}

std::string text(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}
std::string text(int64_t v) { return std::to_string(v); }
std::string text(const std::string& v) { return v; }

// The optional of ModelOptions named `key`, as text; nullopt when unset or
// not an optional of that name.
std::optional<std::string> optional_text(const ModelOptions& o, const std::string& key) {
  const auto as_text = [](const auto& v) -> std::optional<std::string> {
    if (!v) return std::nullopt;
    return text(*v);
  };
  if (key == "dropout") return as_text(o.dropout);
  if (key == "node_dropout") return as_text(o.node_dropout);
  if (key == "message_dropout") return as_text(o.message_dropout);
  if (key == "attention_dropout") return as_text(o.attention_dropout);
  if (key == "heads") return as_text(o.heads);
  if (key == "aggregator") return as_text(o.aggregator);
  if (key == "svd_rank") return as_text(o.svd_rank);
  if (key == "ideal_weight") return as_text(o.ideal_weight);
  if (key == "sharpen_time") return as_text(o.sharpen_time);
  if (key == "sharpen_steps") return as_text(o.sharpen_steps);
  if (key == "sharpen_solver") return as_text(o.sharpen_solver);
  if (key == "noise_eps") return as_text(o.noise_eps);
  if (key == "cl_weight") return as_text(o.cl_weight);
  if (key == "cl_temperature") return as_text(o.cl_temperature);
  if (key == "cl_layer") return as_text(o.cl_layer);
  if (key == "negative_ratio") return as_text(o.negative_ratio);
  if (key == "negative_share") return as_text(o.negative_share);
  if (key == "negative_weight") return as_text(o.negative_weight);
  if (key == "ii_neighbors") return as_text(o.ii_neighbors);
  if (key == "ii_weight") return as_text(o.ii_weight);
  if (key == "knn_neighbors") return as_text(o.knn_neighbors);
  if (key == "shrink") return as_text(o.shrink);
  if (key == "vae_hidden") return as_text(o.vae_hidden);
  if (key == "vae_latent") return as_text(o.vae_latent);
  if (key == "anneal_cap") return as_text(o.anneal_cap);
  if (key == "anneal_steps") return as_text(o.anneal_steps);
  if (key == "batch_size") return as_text(o.batch_size);
  if (key == "lr") return as_text(o.lr);
  if (key == "reg") return as_text(o.reg);
  return std::nullopt;
}

}  // namespace

ModelRegistrar::ModelRegistrar(const std::string& name, ModelFactory factory,
                               ModelOptions defaults) {
  registry()[name] = Registered{std::move(factory), std::move(defaults)};
}

std::string model_defaults_help(const std::string& key) {
  std::string out;
  for (const auto& [name, r] : registry()) {
    if (const auto v = optional_text(r.defaults, key)) {
      out += (out.empty() ? "" : ", ") + name + " " + *v;
    }
  }
  return out;
}

ModelOptions registered_defaults(const std::string& name) {
  const auto it = registry().find(name);
  return it == registry().end() ? ModelOptions{} : it->second.defaults;
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry()) names.push_back(name);
  return names;
}

std::unique_ptr<Model> make_model(const std::string& name, const ModelOptions& opts,
                                  const PropagationGraph& graph, at::Device device) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string known;
    for (const auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown model '" + name + "' (known: " + known + ")");
  }
  if (opts.dim < 1) {
    throw std::invalid_argument("--dim must be at least 1, got " + std::to_string(opts.dim));
  }
  if (opts.layers < 0) {
    throw std::invalid_argument("--layers must be non-negative, got " +
                                std::to_string(opts.layers));
  }
  ModelOptions o = opts;
  const ModelOptions& d = it->second.defaults;
  fill(o.dropout, d.dropout);
  fill(o.node_dropout, d.node_dropout);
  fill(o.message_dropout, d.message_dropout);
  fill(o.attention_dropout, d.attention_dropout);
  fill(o.heads, d.heads);
  fill(o.aggregator, d.aggregator);
  fill(o.svd_rank, d.svd_rank);
  fill(o.ideal_weight, d.ideal_weight);
  fill(o.sharpen_time, d.sharpen_time);
  fill(o.sharpen_steps, d.sharpen_steps);
  fill(o.sharpen_solver, d.sharpen_solver);
  fill(o.noise_eps, d.noise_eps);
  fill(o.cl_weight, d.cl_weight);
  fill(o.cl_temperature, d.cl_temperature);
  fill(o.cl_layer, d.cl_layer);
  fill(o.negative_ratio, d.negative_ratio);
  fill(o.negative_share, d.negative_share);
  fill(o.negative_weight, d.negative_weight);
  fill(o.ii_neighbors, d.ii_neighbors);
  fill(o.ii_weight, d.ii_weight);
  fill(o.knn_neighbors, d.knn_neighbors);
  fill(o.shrink, d.shrink);
  fill(o.vae_hidden, d.vae_hidden);
  fill(o.vae_latent, d.vae_latent);
  fill(o.anneal_cap, d.anneal_cap);
  fill(o.anneal_steps, d.anneal_steps);
  return it->second.factory(o, graph, device);
}

std::pair<at::Tensor, at::Tensor> Model::represent(const at::Tensor& users,
                                                  const at::Tensor& items) {
  auto [u, i] = forward();
  return {u.index_select(0, users), i.index_select(0, items)};
}

at::Tensor Model::score(const at::Tensor& u, const at::Tensor& i) { return (u * i).sum(-1); }

at::Tensor Model::propagate(const AdjacencyProduct& /*adjacency*/, const at::Tensor& /*ego*/) {
  throw std::logic_error(name() + " does not propagate over a partitioned graph");
}

std::pair<at::Tensor, at::Tensor> Model::ranking() { return forward(); }

at::Tensor Model::ranking_rows(const at::Tensor& users) {
  auto [P, Q] = ranking();
  return at::matmul(P.index_select(0, users.to(P.device())), Q.t());
}

at::Tensor normal_parameter(int64_t rows, int64_t dim, double std, uint64_t seed,
                            uint64_t stream, at::Device device) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed * 1000003ULL + stream);
  at::Tensor t = at::empty({rows, dim}, at::kFloat);
  t.normal_(0.0, std, gen);
  return t.to(device).requires_grad_(true);
}

at::Tensor xavier_parameter(at::IntArrayRef shape, int64_t fan_in, int64_t fan_out, uint64_t seed,
                            uint64_t stream, at::Device device) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed * 1000003ULL + stream);
  const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  at::Tensor t = at::empty(shape, at::kFloat);
  t.uniform_(-bound, bound, gen);
  return t.to(device).requires_grad_(true);
}

}  // namespace gnnrec
