// The C++ half of bench/layers_vs_pyg.py: times our GAT layer (forward +
// backward) on the unified graph of a data set, and one GraphSAGE
// mini-batch step (neighbour sampling, blocks, two mean layers, forward +
// backward) from a batch of seed nodes. Prints one JSON object.
//
//   build/gnnrec_bench_layers --dataset DIR [--threads N] [--repeats N]
//       [--dim D] [--heads H] [--batch B] [--fanouts 10,10]
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <nlohmann/json.hpp>

#include "bench/bench_util.h"
#include "graph/cache.h"
#include "models/layers.h"
#include "models/propagation_graph.h"
#include "samplers/neighbor_blocks.h"

using nlohmann::json;
using namespace gnnrec;

int main(int argc, char** argv) {
  std::string dataset;
  int threads = 2, repeats = 10;
  int64_t dim = 64, heads = 4, batch = 2048;
  std::vector<int64_t> fanouts{10, 10};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dataset") dataset = v;
    else if (k == "--threads") threads = std::stoi(v);
    else if (k == "--repeats") repeats = std::stoi(v);
    else if (k == "--dim") dim = std::stoll(v);
    else if (k == "--heads") heads = std::stoll(v);
    else if (k == "--batch") batch = std::stoll(v);
    else if (k == "--fanouts") {
      fanouts.clear();
      std::stringstream ss(v);
      for (std::string f; std::getline(ss, f, ',');) fanouts.push_back(std::stoll(f));
    }
  }
  if (dataset.empty() || !std::filesystem::exists(dataset)) {
    std::fprintf(stderr, "layers bench: data set '%s' not found\n", dataset.c_str());
    return 2;
  }
  at::set_num_threads(threads);
  const Dataset ds = load_dataset_cached(dataset);
  const BipartiteGraph g = BipartiteGraph::build(ds.num_users(), ds.num_items(), ds.train);
  const int64_t n = g.num_users() + g.num_items();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const auto f32 = at::TensorOptions().dtype(at::kFloat);

  // GAT: one layer, `heads` heads of dim/heads channels, concatenated.
  SparseAdjacency gat_adj = unified_adjacency(g, Normalization::kNone, true, at::kFloat);
  layers::GatLayer gat;
  gat.heads = heads;
  gat.lin = layers::make_linear(dim, dim, false, 1, 1, at::kCPU);
  gat.att_src = (at::randn({heads, dim / heads}, gen, f32) * 0.1).requires_grad_();
  gat.att_dst = (at::randn({heads, dim / heads}, gen, f32) * 0.1).requires_grad_();
  gat.bias = at::zeros({dim}, f32).requires_grad_();
  const at::Tensor x = at::randn({n, dim}, gen, f32).requires_grad_();
  const at::Tensor gout = at::randn({n, dim}, gen, f32);
  const double gat_fwd = bench::median_ms([&] {
    at::NoGradGuard no_grad;
    layers::gat_conv(gat_adj, x, gat, 0.0, false);
  }, repeats);
  const double gat_step = bench::median_ms([&] {
    layers::gat_conv(gat_adj, x, gat, 0.0, true).backward(gout);
  }, repeats);

  // SAGE: a mini-batch of random seed nodes, two mean layers.
  const SparseAdjacency sage_adj = unified_adjacency(g, Normalization::kNone, false, at::kFloat);
  std::vector<layers::SageLayer> sage;
  for (uint64_t l = 0; l < fanouts.size(); ++l) {
    sage.push_back({"mean", layers::make_linear(dim, dim, true, 2, 2 * l, at::kCPU),
                    layers::make_linear(dim, dim, false, 2, 2 * l + 1, at::kCPU), {}, {}});
  }
  uint64_t step = 0;
  const double sage_step = bench::median_ms([&] {
    const at::Tensor seeds = std::get<0>(at::_unique2(at::randint(n, {batch}, gen, at::kLong)));
    const SampledSubgraph sg = sample_blocks(sage_adj, seeds, fanouts, ++step);
    const size_t L = sage.size();
    at::Tensor h = x.index_select(0, sg.nodes[L]);
    for (size_t l = 0; l < L; ++l) {
      const SampledBlock& b = sg.blocks[L - 1 - l];
      h = layers::sage_conv(b.adj, h, h.index_select(0, b.dst_pos), sage[l]);
      if (l + 1 < L) h = at::relu(h);
    }
    h.sum().backward();
  }, repeats);

  json out{{"nodes", n},
           {"edges", gat_adj.nnz()},
           {"threads", threads},
           {"dim", dim},
           {"heads", heads},
           {"batch", batch},
           {"fanouts", fanouts},
           {"cpu", bench::cpu_model()},
           {"gat_forward_ms", gat_fwd},
           {"gat_forward_backward_ms", gat_step},
           {"sage_step_ms", sage_step}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
