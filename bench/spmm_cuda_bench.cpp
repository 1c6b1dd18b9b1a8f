// gnnrec::spmm on CUDA against cuSPARSE SpMM (CSR, CUSPARSE_SPMM_ALG_DEFAULT
// and CUSPARSE_SPMM_CSR_ALG2) and torch.sparse (CSR at::mm on CUDA), float32,
// on the symmetric-normalised unified Gowalla adjacency and on a synthetic
// power-law graph, d = 32, 64, 128, 256, forward (A·X) and backward (the
// gradient w.r.t. X: Aᵀ·G, an SpMM over the explicit transpose, which is
// what gnnrec's autograd runs). Every method is checked against cuSPARSE's
// default algorithm before it is timed. Writes
// bench/results/spmm_cuda_<device>.json.
//
//   build/gnnrec_bench_spmm_cuda [--dataset DIR] [--repeats N] [--iters N]
//                                [--out FILE] [--no-synthetic]
//
// Timing: CUDA events on the current stream around `iters` back-to-back
// calls (so launch overhead overlaps GPU work, as in training), after
// warm-up; the median over `repeats` such measurements, per call.
//
// Bandwidth model (bytes one call must move at least once, as gnnrec
// stores the operands; the same count for every method, so bandwidth
// ratios are time ratios):
//   effective  = 8(rows+1) [rowptr] + 4·nnz [col] + 4·nnz [values]
//                + 4·d·nnz [one gathered X row per entry] + 4·d·rows [output]
//   compulsory = the same with each X row counted once: 4·d·cols instead of
//                4·d·nnz.
// Effective bandwidth can exceed the DRAM peak when X stays in L2 (Gowalla's
// X is 18 MB at d = 64); the compulsory figure cannot, and is the one to
// read against the peak. Peak = 2 × memory clock × bus width / 8 from
// cudaDeviceGetAttribute (CUDA 13 removed cudaDeviceProp::memoryClockRate;
// the attributes remain).
//
// Without a CUDA device it prints "no CUDA device; skipped" and exits 0.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <cusparse.h>
#include <nlohmann/json.hpp>
#include <torch/version.h>

#include "base/file_io.h"
#include "bench/bench_util.h"
#include "graph/bipartite_graph.h"
#include "graph/cache.h"
#include "graph/synthetic.h"
#include "kernels/cuda/config.h"
#include "kernels/ops.h"
#include "models/propagation_graph.h"

using nlohmann::json;

namespace {

using gnnrec::bench::file_tag;

#define BENCH_CUDA(expr)                                                                    \
  do {                                                                                      \
    const cudaError_t e_ = (expr);                                                          \
    if (e_ != cudaSuccess) {                                                                \
      std::fprintf(stderr, "spmm cuda bench: %s: %s\n", #expr, cudaGetErrorString(e_));    \
      std::exit(1);                                                                         \
    }                                                                                       \
  } while (0)

#define BENCH_CUSPARSE(expr)                                                                \
  do {                                                                                      \
    const cusparseStatus_t s_ = (expr);                                                     \
    if (s_ != CUSPARSE_STATUS_SUCCESS) {                                                    \
      std::fprintf(stderr, "spmm cuda bench: %s: %s\n", #expr, cusparseGetErrorString(s_)); \
      std::exit(1);                                                                         \
    }                                                                                       \
  } while (0)

struct DeviceInfo {
  std::string name;
  int sms = 0;
  double peak_gbps = 0;  // 2 × memory clock × bus width
  int mem_clock_khz = 0, bus_bits = 0, l2_bytes = 0;
};

DeviceInfo device_info(int device) {
  DeviceInfo info;
  cudaDeviceProp prop{};
  BENCH_CUDA(cudaGetDeviceProperties(&prop, device));
  info.name = prop.name;
  BENCH_CUDA(cudaDeviceGetAttribute(&info.sms, cudaDevAttrMultiProcessorCount, device));
  BENCH_CUDA(cudaDeviceGetAttribute(&info.mem_clock_khz, cudaDevAttrMemoryClockRate, device));
  BENCH_CUDA(cudaDeviceGetAttribute(&info.bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
  BENCH_CUDA(cudaDeviceGetAttribute(&info.l2_bytes, cudaDevAttrL2CacheSize, device));
  info.peak_gbps = 2.0 * info.mem_clock_khz * 1e3 * (info.bus_bits / 8.0) / 1e9;
  return info;
}

// Median milliseconds per call of f: `repeats` measurements of `iters`
// back-to-back calls between two CUDA events, after `warmup` calls.
double median_ms_cuda(const std::function<void()>& f, int repeats, int iters, int warmup = 3) {
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  for (int i = 0; i < warmup; ++i) f();
  cudaEvent_t start, stop;
  BENCH_CUDA(cudaEventCreate(&start));
  BENCH_CUDA(cudaEventCreate(&stop));
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    BENCH_CUDA(cudaEventRecord(start, stream));
    for (int i = 0; i < iters; ++i) f();
    BENCH_CUDA(cudaEventRecord(stop, stream));
    BENCH_CUDA(cudaEventSynchronize(stop));
    float ms = 0;
    BENCH_CUDA(cudaEventElapsedTime(&ms, start, stop));
    t.push_back(static_cast<double>(ms) / iters);
  }
  BENCH_CUDA(cudaEventDestroy(start));
  BENCH_CUDA(cudaEventDestroy(stop));
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// One CSR matrix (float32, on the GPU) in every form the methods need.
struct GpuCsr {
  int64_t rows = 0, cols = 0, nnz = 0;
  at::Tensor rowptr, col, value;  // gnnrec: int64, int32, float32
  at::Tensor rowptr32;            // cuSPARSE / torch.sparse: int32 offsets
  at::Tensor torch_csr;           // torch.sparse CSR tensor (int32 indices)
  cusparseSpMatDescr_t descr = nullptr;
};

GpuCsr make_gpu_csr(int64_t rows, int64_t cols, const at::Tensor& rowptr, const at::Tensor& col,
                    const at::Tensor& value) {
  GpuCsr m;
  m.rows = rows;
  m.cols = cols;
  m.nnz = col.numel();
  const auto cuda = at::TensorOptions().device(at::kCUDA);
  m.rowptr = rowptr.to(cuda);
  m.col = col.to(cuda);
  m.value = value.to(cuda.dtype(at::kFloat)).contiguous();
  m.rowptr32 = m.rowptr.to(at::kInt);
  m.torch_csr = at::sparse_csr_tensor(m.rowptr32, m.col, m.value, {rows, cols},
                                      cuda.dtype(at::kFloat));
  BENCH_CUSPARSE(cusparseCreateCsr(&m.descr, rows, cols, m.nnz, m.rowptr32.data_ptr(),
                                   m.col.data_ptr(), m.value.data_ptr(), CUSPARSE_INDEX_32I,
                                   CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F));
  return m;
}

// cuSPARSE SpMM out = A · x (row-major dense operands) with one algorithm;
// the workspace is allocated once, through Torch's caching allocator.
struct CusparseSpmm {
  cusparseHandle_t handle = nullptr;
  cusparseDnMatDescr_t x_descr = nullptr, out_descr = nullptr;
  const GpuCsr* a = nullptr;
  cusparseSpMMAlg_t alg{};
  at::Tensor workspace;
  float alpha = 1.0f, beta = 0.0f;

  CusparseSpmm(cusparseHandle_t h, const GpuCsr& m, const at::Tensor& x, const at::Tensor& out,
               cusparseSpMMAlg_t algorithm)
      : handle(h), a(&m), alg(algorithm) {
    BENCH_CUSPARSE(cusparseCreateDnMat(&x_descr, x.size(0), x.size(1), x.size(1), x.data_ptr(),
                                       CUDA_R_32F, CUSPARSE_ORDER_ROW));
    BENCH_CUSPARSE(cusparseCreateDnMat(&out_descr, out.size(0), out.size(1), out.size(1),
                                       out.data_ptr(), CUDA_R_32F, CUSPARSE_ORDER_ROW));
    size_t bytes = 0;
    BENCH_CUSPARSE(cusparseSpMM_bufferSize(handle, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                           CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha, a->descr,
                                           x_descr, &beta, out_descr, CUDA_R_32F, alg, &bytes));
    workspace = at::empty({static_cast<int64_t>(std::max<size_t>(bytes, 1))},
                          at::TensorOptions().dtype(at::kByte).device(at::kCUDA));
    // Optional analysis step, done once and not timed (a training loop
    // multiplies by the same matrix every step); an algorithm that does not
    // use it may refuse it, which is not an error here.
    const cusparseStatus_t pre = cusparseSpMM_preprocess(
        handle, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha,
        a->descr, x_descr, &beta, out_descr, CUDA_R_32F, alg, workspace.data_ptr());
    if (pre != CUSPARSE_STATUS_SUCCESS) {
      std::printf("(cusparseSpMM_preprocess, algorithm %d: %s; not used)\n",
                  static_cast<int>(alg), cusparseGetErrorString(pre));
    }
  }
  ~CusparseSpmm() {
    cusparseDestroyDnMat(x_descr);
    cusparseDestroyDnMat(out_descr);
  }
  CusparseSpmm(const CusparseSpmm&) = delete;
  CusparseSpmm& operator=(const CusparseSpmm&) = delete;

  void operator()() {
    BENCH_CUSPARSE(cusparseSpMM(handle, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha, a->descr, x_descr, &beta,
                                out_descr, CUDA_R_32F, alg, workspace.data_ptr()));
  }
};

// max |got - ref| / (max |ref| + 1e-30).
double rel_diff(const at::Tensor& got, const at::Tensor& ref) {
  const double scale = ref.abs().max().item<double>() + 1e-30;
  return (got - ref).abs().max().item<double>() / scale;
}

struct Graph {
  std::string name;
  gnnrec::SparseAdjacency a;  // on the CPU, float32 values
};

gnnrec::SparseAdjacency normalised_adjacency(const gnnrec::Dataset& ds) {
  const gnnrec::BipartiteGraph g =
      gnnrec::BipartiteGraph::build(ds.num_users(), ds.num_items(), ds.train);
  return gnnrec::unified_adjacency(g, gnnrec::Normalization::kSymmetric, false, at::kFloat);
}

int64_t max_degree(const at::Tensor& rowptr) {
  const int64_t n = rowptr.numel() - 1;
  if (n <= 0) return 0;
  return (rowptr.narrow(0, 1, n) - rowptr.narrow(0, 0, n)).max().item<int64_t>();
}

int64_t rows_above(const at::Tensor& rowptr, int64_t degree) {
  const int64_t n = rowptr.numel() - 1;
  if (n <= 0) return 0;
  return (rowptr.narrow(0, 1, n) - rowptr.narrow(0, 0, n)).gt(degree).sum().item<int64_t>();
}

}  // namespace

int main(int argc, char** argv) {
  std::string dataset = std::string(GNNREC_SHARED_DATA) + "/gowalla";
  std::string out;
  int repeats = 20, iters = 10;
  bool synthetic = true;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--dataset") && has_value) dataset = argv[++i];
    else if (!std::strcmp(argv[i], "--repeats") && has_value) repeats = std::stoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--iters") && has_value) iters = std::stoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--out") && has_value) out = argv[++i];
    else if (!std::strcmp(argv[i], "--no-synthetic")) synthetic = false;
    else {
      std::fprintf(stderr, "usage: %s [--dataset DIR] [--repeats N] [--iters N] [--out FILE] "
                           "[--no-synthetic]\n", argv[0]);
      return 2;
    }
  }
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0 || !at::hasCUDA()) {
    std::printf("no CUDA device; skipped\n");
    return 0;
  }
  c10::cuda::CUDAGuard guard(0);
  const DeviceInfo dev = device_info(0);
  if (out.empty()) {
    out = std::string(GNNREC_BENCH_RESULTS) + "/spmm_cuda_" + file_tag(dev.name) + ".json";
  }
  std::printf("device %s: %d SMs, L2 %.0f MB, peak DRAM bandwidth %.0f GB/s (%d kHz x %d bit x 2)\n",
              dev.name.c_str(), dev.sms, dev.l2_bytes / 1e6, dev.peak_gbps, dev.mem_clock_khz,
              dev.bus_bits);

  std::vector<Graph> graphs;
  if (std::filesystem::exists(dataset)) {
    const auto t0 = std::chrono::steady_clock::now();
    graphs.push_back({std::filesystem::path(dataset).filename().string() + " train",
                      normalised_adjacency(gnnrec::load_dataset_cached(dataset))});
    std::printf("loaded %s in %.1f s\n", dataset.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  } else {
    std::printf("%s not found: Gowalla skipped\n", dataset.c_str());
  }
  if (synthetic) {
    // Zipf item popularity, lognormal user degrees: a hub-heavy graph larger
    // than Gowalla.
    gnnrec::SyntheticOptions o;
    o.num_users = 200000;
    o.num_items = 100000;
    o.num_communities = 50;
    o.mean_degree = 20;
    o.power_law_exponent = 1.0;
    o.seed = 7;
    const auto t0 = std::chrono::steady_clock::now();
    graphs.push_back({"synthetic power-law (200k users, 100k items, Zipf 1.0, mean degree 20)",
                      normalised_adjacency(gnnrec::make_synthetic(o))});
    std::printf("generated the synthetic graph in %.1f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  cusparseHandle_t handle = nullptr;
  BENCH_CUSPARSE(cusparseCreate(&handle));
  BENCH_CUSPARSE(cusparseSetStream(handle, c10::cuda::getCurrentCUDAStream()));
  int cusparse_version = 0;
  BENCH_CUSPARSE(cusparseGetVersion(handle, &cusparse_version));
  int runtime_version = 0;
  BENCH_CUDA(cudaRuntimeGetVersion(&runtime_version));

  json graph_results = json::array();
  bool ok = true;
  for (const Graph& g : graphs) {
    const gnnrec::SparseAdjacency& a = g.a;
    const int64_t max_deg = std::max(max_degree(a.rowptr), max_degree(a.t_rowptr));
    std::printf(
        "\n%s: %lld nodes, %lld nnz, max degree %lld, %lld rows above the hub "
        "threshold (%lld)\n",
        g.name.c_str(), static_cast<long long>(a.num_rows), static_cast<long long>(a.nnz()),
        static_cast<long long>(max_deg),
        static_cast<long long>(rows_above(a.rowptr, gnnrec::ops::cuda::kHubDegree)),
        static_cast<long long>(gnnrec::ops::cuda::kHubDegree));
    // A and its explicit transpose (values gathered through t_perm once).
    GpuCsr fwd = make_gpu_csr(a.num_rows, a.num_cols, a.rowptr, a.col, a.value);
    GpuCsr bwd = make_gpu_csr(a.num_cols, a.num_rows, a.t_rowptr, a.t_col,
                              a.value.index_select(0, a.t_perm));
    json rows = json::array();
    for (const int64_t d : {32, 64, 128, 256}) {
      for (const bool forward : {true, false}) {
        const GpuCsr& m = forward ? fwd : bwd;
        const GpuCsr& other = forward ? bwd : fwd;  // the transpose, for gnnrec's signature
        auto gen = at::make_generator<at::CPUGeneratorImpl>(d + (forward ? 0 : 1000));
        const at::Tensor x =
            at::randn({m.cols, d}, gen, at::TensorOptions().dtype(at::kFloat)).to(at::kCUDA);
        at::Tensor out_cusparse = at::empty({m.rows, d}, x.options());
        at::Tensor out_alg2 = at::empty({m.rows, d}, x.options());
        CusparseSpmm cs_default(handle, m, x, out_cusparse, CUSPARSE_SPMM_ALG_DEFAULT);
        CusparseSpmm cs_alg2(handle, m, x, out_alg2, CUSPARSE_SPMM_CSR_ALG2);
        const auto ours = [&] {
          return gnnrec::ops::spmm(m.rowptr, m.col, m.value, other.rowptr, other.col,
                                   std::nullopt, x);
        };
        const auto torch_sparse = [&] { return at::mm(m.torch_csr, x); };

        // Correctness before timing, against cuSPARSE's default algorithm.
        cs_default();
        cs_alg2();
        const double diff_ours = rel_diff(ours(), out_cusparse);
        const double diff_alg2 = rel_diff(out_alg2, out_cusparse);
        const double diff_torch = rel_diff(torch_sparse(), out_cusparse);
        if (diff_ours > 1e-4 || diff_alg2 > 1e-4 || diff_torch > 1e-4) {
          std::fprintf(stderr,
                       "spmm cuda bench: %s d=%lld %s: results differ from cuSPARSE (ours %g, "
                       "ALG2 %g, torch %g, relative to max |out|)\n",
                       g.name.c_str(), static_cast<long long>(d),
                       forward ? "forward" : "backward", diff_ours, diff_alg2, diff_torch);
          ok = false;
          continue;
        }
        const double t_ours = median_ms_cuda([&] { ours(); }, repeats, iters);
        const double t_default = median_ms_cuda([&] { cs_default(); }, repeats, iters);
        const double t_alg2 = median_ms_cuda([&] { cs_alg2(); }, repeats, iters);
        const double t_torch = median_ms_cuda([&] { torch_sparse(); }, repeats, iters);

        const double meta = 8.0 * (m.rows + 1) + 8.0 * m.nnz;  // rowptr, col + value
        const double effective = meta + 4.0 * d * m.nnz + 4.0 * d * m.rows;
        const double compulsory = meta + 4.0 * d * m.cols + 4.0 * d * m.rows;
        const auto gbps = [](double bytes, double ms) { return bytes / (ms * 1e-3) / 1e9; };
        json r{{"d", d},
               {"pass", forward ? "forward" : "backward"},
               {"gnnrec_ms", t_ours},
               {"cusparse_default_ms", t_default},
               {"cusparse_csr_alg2_ms", t_alg2},
               {"torch_sparse_ms", t_torch},
               {"speedup_vs_cusparse_default", t_default / t_ours},
               {"speedup_vs_cusparse_csr_alg2", t_alg2 / t_ours},
               {"speedup_vs_torch_sparse", t_torch / t_ours},
               {"effective_bytes", effective},
               {"compulsory_bytes", compulsory},
               {"gnnrec_effective_GBps", gbps(effective, t_ours)},
               {"gnnrec_compulsory_GBps", gbps(compulsory, t_ours)},
               {"gnnrec_compulsory_fraction_of_peak", gbps(compulsory, t_ours) / dev.peak_gbps},
               {"cusparse_default_effective_GBps", gbps(effective, t_default)},
               {"cusparse_csr_alg2_effective_GBps", gbps(effective, t_alg2)},
               {"torch_sparse_effective_GBps", gbps(effective, t_torch)},
               {"max_rel_diff_vs_cusparse", {{"gnnrec", diff_ours}, {"csr_alg2", diff_alg2},
                                             {"torch_sparse", diff_torch}}}};
        std::printf("d=%-4lld %-8s gnnrec %8.4f ms | cuSPARSE default %8.4f (x%.2f) ALG2 %8.4f "
                    "(x%.2f) | torch.sparse %8.4f (x%.2f) | gnnrec %6.0f GB/s effective, "
                    "%6.0f GB/s compulsory (%.0f%% of peak)\n",
                    static_cast<long long>(d), forward ? "forward" : "backward", t_ours,
                    t_default, t_default / t_ours, t_alg2, t_alg2 / t_ours, t_torch,
                    t_torch / t_ours, gbps(effective, t_ours), gbps(compulsory, t_ours),
                    100.0 * gbps(compulsory, t_ours) / dev.peak_gbps);
        rows.push_back(r);
      }
    }
    cusparseDestroySpMat(fwd.descr);
    cusparseDestroySpMat(bwd.descr);
    graph_results.push_back(
        {{"graph", g.name},
         {"nodes", a.num_rows},
         {"nnz", a.nnz()},
         {"max_degree", max_deg},
         {"rows_above_hub_threshold", rows_above(a.rowptr, gnnrec::ops::cuda::kHubDegree)},
         {"results", rows}});
  }
  cusparseDestroy(handle);

  json doc{{"benchmark", "spmm on CUDA, float32, normalised unified user+item adjacency"},
           {"device", dev.name},
           {"sm_count", dev.sms},
           {"l2_bytes", dev.l2_bytes},
           {"peak_dram_GBps", dev.peak_gbps},
           {"peak_note",
            "2 x cudaDevAttrMemoryClockRate (kHz) x cudaDevAttrGlobalMemoryBusWidth / 8; "
            "cudaDeviceProp::memoryClockRate no longer exists in CUDA 13"},
           {"cuda_runtime", runtime_version},
           {"cusparse", cusparse_version},
           {"torch", TORCH_VERSION},
           {"hub_degree", gnnrec::ops::cuda::kHubDegree},
           {"repeats", repeats},
           {"iters_per_repeat", iters},
           {"statistic",
            "median over repeats of (CUDA-event time of iters back-to-back calls) / iters, "
            "after warm-up; every method checked against cuSPARSE ALG_DEFAULT first"},
           {"backward",
            "gradient w.r.t. the dense input: SpMM over the explicit transpose (CSR of "
            "A^T, values gathered once), for every method; gnnrec's autograd also gathers "
            "the values through t_perm on each backward, not timed here"},
           {"bytes_model",
            "effective = 8(rows+1) + 8 nnz + 4 d nnz + 4 d rows (every gathered x row "
            "counted); compulsory = 8(rows+1) + 8 nnz + 4 d cols + 4 d rows (x read "
            "once); bandwidth = bytes / time"},
           {"baselines",
            "cusparseSpMM CSR (32-bit indices, row-major dense, preprocess done once) "
            "with CUSPARSE_SPMM_ALG_DEFAULT and CUSPARSE_SPMM_CSR_ALG2; torch.sparse "
            "CSR (int32 indices) at::mm"},
           {"graphs", graph_results}};
  std::filesystem::create_directories(std::filesystem::path(out).parent_path());
  gnnrec::write_file_atomic(out, doc.dump(2) + "\n");
  std::printf("wrote %s\n", out.c_str());
  return ok ? 0 : 1;
}
