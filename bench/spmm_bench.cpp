// gnnrec::spmm against torch.sparse (CSR at::mm) on the symmetric-normalised
// unified Gowalla adjacency, forward and backward (gradient w.r.t. the dense
// input, through autograd on both sides), side by side in one process. Writes bench/results/spmm_cpu.json.
//
//   build/gnnrec_bench_spmm [--dataset DIR] [--threads N] [--repeats N] [--out FILE]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/version.h>

#include "base/file_io.h"
#include "bench/bench_util.h"
#include "graph/cache.h"
#include "models/propagation_graph.h"

using nlohmann::json;

using gnnrec::bench::cpu_model;
using gnnrec::bench::median_ms;

int main(int argc, char** argv) {
  std::string dataset = std::string(GNNREC_SHARED_DATA) + "/gowalla";
  std::string out = std::string(GNNREC_BENCH_RESULTS) + "/spmm_cpu.json";
  int threads = 2, repeats = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dataset")) dataset = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeats")) repeats = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
  }
  if (!std::filesystem::exists(dataset)) {
    std::printf("spmm bench: %s not found; skipped\n", dataset.c_str());
    return 0;
  }
  at::set_num_threads(threads);
  gnnrec::Dataset ds = gnnrec::load_dataset_cached(dataset);
  const gnnrec::BipartiteGraph g =
      gnnrec::BipartiteGraph::build(ds.num_users(), ds.num_items(), ds.train);
  const gnnrec::SparseAdjacency a =
      gnnrec::unified_adjacency(g, gnnrec::Normalization::kSymmetric, false, at::kFloat);
  // torch.sparse baseline: the same matrix as a CSR tensor (int64 indices).
  const at::Tensor csr = at::sparse_csr_tensor(a.rowptr, a.col.to(at::kLong), a.value,
                                               {a.num_rows, a.num_cols},
                                               at::TensorOptions().dtype(at::kFloat));
  std::printf("graph %s: %lld nodes, %lld nnz, %d threads, %s\n", dataset.c_str(),
              static_cast<long long>(a.num_rows), static_cast<long long>(a.nnz()), threads,
              cpu_model().c_str());
  json results = json::array();
  for (int64_t d : {32, 64, 128}) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(d);
    const at::Tensor x = at::randn({a.num_cols, d}, gen, at::TensorOptions().dtype(at::kFloat));
    const at::Tensor grad = at::randn({a.num_rows, d}, gen, at::TensorOptions().dtype(at::kFloat));
    // Correctness guard: the two agree before they are timed.
    const double diff = (a.matmul(x) - at::mm(csr, x)).abs().max().item<double>();
    if (diff > 1e-4) {
      std::fprintf(stderr, "spmm bench: results differ by %g at d=%lld\n", diff,
                   static_cast<long long>(d));
      return 1;
    }
    const double ours_fwd = median_ms([&] { a.matmul(x); }, repeats);
    const double torch_fwd = median_ms([&] { at::mm(csr, x); }, repeats);
    // Backward w.r.t. x, both through autograd, measured the same way:
    // median(forward + backward) - median(forward).
    const at::Tensor xg = x.clone().requires_grad_(true);
    const at::Tensor xt = x.clone().requires_grad_(true);
    const double ours_bwd = median_ms([&] {
      xg.mutable_grad() = at::Tensor();
      a.matmul(xg).backward(grad);
    }, repeats) - ours_fwd;
    const double torch_bwd = median_ms([&] {
      xt.mutable_grad() = at::Tensor();
      at::mm(csr, xt).backward(grad);
    }, repeats) - torch_fwd;
    if (!at::allclose(xg.grad(), xt.grad(), 1e-4, 1e-4)) {
      std::fprintf(stderr, "spmm bench: gradients differ at d=%lld\n", static_cast<long long>(d));
      return 1;
    }
    json r{{"d", d},
           {"ours_forward_ms", ours_fwd},
           {"torch_sparse_forward_ms", torch_fwd},
           {"forward_speedup", torch_fwd / ours_fwd},
           {"ours_backward_ms", ours_bwd},
           {"torch_sparse_backward_ms", torch_bwd},
           {"backward_speedup", torch_bwd / ours_bwd}};
    std::printf("d=%-4lld forward ours %8.2f ms  torch.sparse %8.2f ms  x%.2f | backward ours "
                "%8.2f ms  torch.sparse %8.2f ms  x%.2f\n",
                static_cast<long long>(d), ours_fwd, torch_fwd, torch_fwd / ours_fwd, ours_bwd,
                torch_bwd, torch_bwd / ours_bwd);
    results.push_back(r);
  }
  json doc{{"benchmark", "spmm, symmetric-normalised unified user+item adjacency (float32)"},
           {"graph", std::filesystem::path(dataset).filename().string() + " train"},
           {"nodes", a.num_rows},
           {"nnz", a.nnz()},
           {"device", "cpu: " + cpu_model()},
           {"threads", threads},
           {"repeats", repeats},
           {"statistic", "median milliseconds; backward = gradient w.r.t. the dense input through autograd, median(forward+backward) - median(forward), for both"},
           {"baseline", "torch.sparse CSR at::mm (torch " TORCH_VERSION ")"},
           {"results", results}};
  std::filesystem::create_directories(std::filesystem::path(out).parent_path());
  gnnrec::write_file_atomic(out, doc.dump(2) + "\n");
  std::printf("wrote %s\n", out.c_str());
  return 0;
}
