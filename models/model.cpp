#include "models/model.h"

#include <cmath>
#include <map>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace gnnrec {
namespace {

std::map<std::string, ModelFactory>& registry() {
  static std::map<std::string, ModelFactory> r;
  return r;
}

}  // namespace

ModelRegistrar::ModelRegistrar(const std::string& name, ModelFactory factory) {
  registry()[name] = std::move(factory);
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
  return it->second(opts, graph, device);
}

std::pair<at::Tensor, at::Tensor> Model::represent(const at::Tensor& users,
                                                  const at::Tensor& items) {
  auto [u, i] = forward();
  return {u.index_select(0, users), i.index_select(0, items)};
}

at::Tensor Model::score(const at::Tensor& u, const at::Tensor& i) { return (u * i).sum(-1); }

std::pair<at::Tensor, at::Tensor> Model::ranking() { return forward(); }

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
