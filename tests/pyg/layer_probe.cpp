// Runs one gnnrec layer on inputs written by tests/pyg/test_layers_vs_pyg.py
// and writes its output and gradients back, so that the Python test can
// compare them with the PyG layer given the same weights.
//
//   gnnrec_layer_probe DIR
// DIR/spec.json: {"layer": "gcn"|"sage"|"gat", "users": U, "items": I,
//                 "params": {"NAME": [shape...], ...}, "aggregator": "mean",
//                 "heads": H, "concat": true}
// DIR/pairs.bin (int64 [m, 2] user-item pairs), x.bin (float64 [U+I, in]),
// NAME.bin (float64, one per parameter), gout.bin (float64, like the output).
// Writes out.bin, grad_x.bin and grad_NAME.bin (float64, row-major).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "models/layers.h"
#include "models/propagation_graph.h"

namespace {

using gnnrec::Normalization;
using nlohmann::json;

at::Tensor read_tensor(const std::string& path, const std::vector<int64_t>& shape,
                       at::ScalarType dtype) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  at::Tensor t = at::empty(shape, dtype);
  in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  if (in.gcount() != static_cast<std::streamsize>(t.nbytes())) {
    throw std::runtime_error(path + ": expected " + std::to_string(t.nbytes()) + " bytes");
  }
  return t;
}

void write_tensor(const std::string& path, const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kDouble).contiguous();
  std::ofstream(path, std::ios::binary)
      .write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.nbytes()));
}

int run(const std::string& dir) {
  const json spec = json::parse(std::ifstream(dir + "/spec.json"));
  const int64_t users = spec.at("users"), items = spec.at("items");
  const std::string layer = spec.at("layer");

  const auto pair_bytes = std::filesystem::file_size(dir + "/pairs.bin");
  const at::Tensor pairs_file = read_tensor(
      dir + "/pairs.bin", {static_cast<int64_t>(pair_bytes / sizeof(int64_t))}, at::kLong);
  gnnrec::Interactions x;
  const int64_t m = pairs_file.numel() / 2;
  for (int64_t e = 0; e < m; ++e) {
    x.user.push_back(static_cast<int32_t>(pairs_file[2 * e].item<int64_t>()));
    x.item.push_back(static_cast<int32_t>(pairs_file[2 * e + 1].item<int64_t>()));
  }
  gnnrec::PropagationGraph graph(std::make_shared<const gnnrec::BipartiteGraph>(
      gnnrec::BipartiteGraph::build(users, items, x)));

  std::map<std::string, at::Tensor> p;
  for (const auto& [name, shape] : spec.at("params").items()) {
    p[name] = read_tensor(dir + "/" + name + ".bin", shape.get<std::vector<int64_t>>(), at::kDouble)
                  .requires_grad_(true);
  }
  const int64_t in_width = spec.at("in");
  const at::Tensor feats =
      read_tensor(dir + "/x.bin", {users + items, in_width}, at::kDouble).requires_grad_(true);
  auto param = [&](const std::string& n) { return p.count(n) ? p.at(n) : at::Tensor(); };

  at::Tensor out;
  if (layer == "gcn") {
    const auto& adj = graph.adjacency(Normalization::kSymmetric, true, at::kDouble, at::kCPU);
    out = gnnrec::layers::gcn_conv(gnnrec::AdjacencyProduct{adj, {}}, feats,
                                   {param("lin.weight"), param("bias")});
  } else if (layer == "sage") {
    const auto& adj = graph.adjacency(Normalization::kNone, false, at::kDouble, at::kCPU);
    gnnrec::layers::SageLayer s;
    s.aggregator = spec.at("aggregator");
    s.lin_l = {param("lin_l.weight"), param("lin_l.bias")};
    s.lin_r = {param("lin_r.weight"), at::Tensor()};
    s.proj = {param("lin.weight"), param("lin.bias")};
    s.lstm = {param("aggr_module.lstm.weight_ih_l0"), param("aggr_module.lstm.weight_hh_l0"), param("aggr_module.lstm.bias_ih_l0"),
              param("aggr_module.lstm.bias_hh_l0")};
    out = gnnrec::layers::sage_conv(adj, feats, feats, s);
  } else if (layer == "gat") {
    const auto& adj = graph.adjacency(Normalization::kNone, true, at::kDouble, at::kCPU);
    gnnrec::layers::GatLayer g;
    g.heads = spec.at("heads");
    g.concat = spec.at("concat");
    g.lin = {param("lin.weight"), at::Tensor()};
    g.att_src = param("att_src").view({g.heads, -1});
    g.att_dst = param("att_dst").view({g.heads, -1});
    g.bias = param("bias");
    out = gnnrec::layers::gat_conv(adj, feats, g, 0.0, false);
  } else {
    throw std::runtime_error("unknown layer " + layer);
  }
  const at::Tensor gout = read_tensor(dir + "/gout.bin", out.sizes().vec(), at::kDouble);
  (out * gout).sum().backward();
  write_tensor(dir + "/out.bin", out);
  write_tensor(dir + "/grad_x.bin", feats.grad());
  for (const auto& [name, t] : p) {
    write_tensor(dir + "/grad_" + name + ".bin",
                 t.grad().defined() ? t.grad() : at::zeros_like(t));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: gnnrec_layer_probe DIR\n";
    return 2;
  }
  try {
    return run(argv[1]);
  } catch (const std::exception& e) {
    std::cerr << "gnnrec_layer_probe: " << e.what() << "\n";
    return 1;
  }
}
