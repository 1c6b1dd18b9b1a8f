// Full-ranking evaluation time: Evaluator::evaluate (scores, masking, top-k
// and AUC on the embeddings' device through _topk_masked_auc; only the top-k
// ids and one AUC per user come back) against the former path, kept here as
// `legacy` (scores on the device, each chunk copied to the CPU, masked
// there, at::topk and user_auc on the CPU), side by side in one run, on
// every test user of Gowalla (29,858 users x 40,981 items) with random
// embeddings (normal, d = 64, float32, seeded). The two paths' metrics are
// compared (they may differ only where two items tie in score at the
// boundary of a top-K list: the legacy at::topk breaks ties in no stated
// order, the operator by the lower item id). Writes
// bench/results/eval_cuda_<device>.json (eval_cpu.json with --device cpu).
//
//   build/gnnrec_bench_eval [--dataset DIR] [--device cuda|cpu] [--dim D]
//                           [--chunks 1024,4096] [--repeats N] [--no-legacy]
//                           [--out FILE]
//
// Timing: wall clock around each call (it ends with a copy to the CPU, so
// the device work is included), the median of `repeats` calls after one
// warm-up call (which also copies the masks to the device, once per
// Evaluator). Without a CUDA device, --device cuda prints
// "no CUDA device; skipped" and exits 0.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/cuda/CUDAContext.h>
#include <cuda_runtime.h>
#include <nlohmann/json.hpp>
#include <torch/version.h>

#include "base/file_io.h"
#include "bench/bench_util.h"
#include "train/config.h"
#include "train/evaluator.h"
#include "train/metrics.h"
#include "train/trainer.h"

using nlohmann::json;

namespace {

using gnnrec::bench::file_tag;

// The data set's folder name (results carry no machine paths).
std::string dataset_name(const std::string& dir) {
  std::filesystem::path p(dir);
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

// Wall-clock milliseconds of each of `repeats` calls after one warm-up call.
std::vector<double> times_ms(const std::function<void()>& f, int repeats) {
  f();
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    const auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a)
                    .count());
  }
  return t;
}

double median(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// The evaluator's former path (train/evaluator.cpp before topk_masked),
// for comparison: scores on the device, copied chunk by chunk to the CPU,
// masked there, ranked by at::topk, AUC by user_auc on the CPU.
gnnrec::EvalResult legacy_evaluate(const gnnrec::BipartiteGraph& train,
                                   const gnnrec::BipartiteGraph& test, const std::vector<int>& ks,
                                   int64_t chunk, const at::Tensor& user_emb,
                                   const at::Tensor& item_emb) {
  const int64_t I = train.num_items();
  gnnrec::RankingMetrics acc(ks);
  gnnrec::CoverageMetrics coverage(ks, I);
  const int64_t k = std::min<int64_t>(acc.max_k(), I);
  const auto& toff = test.user_offsets();
  const auto& titems = test.user_items();
  const auto& off = train.user_offsets();
  const auto& items = train.user_items();
  std::vector<int64_t> test_users;
  for (int64_t u = 0; u < test.num_users(); ++u) {
    if (test.user_degree(u) > 0) test_users.push_back(u);
  }
  double auc_sum = 0;
  int64_t auc_users = 0;
  std::vector<double> user_auc_values;
  for (size_t begin = 0; begin < test_users.size(); begin += chunk) {
    const size_t end = std::min(test_users.size(), begin + static_cast<size_t>(chunk));
    const std::vector<int64_t> users(test_users.begin() + begin, test_users.begin() + end);
    const at::Tensor idx = at::tensor(users, at::kLong).to(user_emb.device());
    at::Tensor scores =
        at::matmul(user_emb.index_select(0, idx), item_emb.t()).to(at::kFloat).cpu().contiguous();
    float* sp = scores.data_ptr<float>();
    for (size_t r = 0; r < users.size(); ++r) {
      for (int64_t e = off[users[r]]; e < off[users[r] + 1]; ++e) {
        sp[r * I + items[e]] = -std::numeric_limits<float>::infinity();
      }
    }
    const at::Tensor top = std::get<1>(at::topk(scores, k, 1, true, true)).contiguous();
    const int64_t* tp = top.data_ptr<int64_t>();
    const int64_t n = static_cast<int64_t>(users.size());
    for (int64_t r = 0; r < n; ++r) {
      const int64_t u = users[r];
      acc.add_user(tp + r * k, k, titems.data() + toff[u], toff[u + 1] - toff[u]);
      coverage.add_list(tp + r * k, k);
    }
    user_auc_values.assign(users.size(), 0.0);
    at::parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const int64_t u = users[r];
        user_auc_values[r] =
            gnnrec::user_auc(sp + r * I, I, titems.data() + toff[u], toff[u + 1] - toff[u],
                             items.data() + off[u], off[u + 1] - off[u]);
      }
    });
    for (const double a : user_auc_values) {
      if (std::isnan(a)) continue;
      auc_sum += a;
      ++auc_users;
    }
  }
  gnnrec::EvalResult out{acc.means(), acc.users()};
  for (const auto& [name, value] : coverage.values()) out.metrics[name] = value;
  out.metrics["auc"] = auc_users > 0 ? auc_sum / static_cast<double>(auc_users)
                                     : std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dataset = std::string(GNNREC_SHARED_DATA) + "/gowalla";
  std::string device_name = "cuda", out;
  int64_t dim = 64;
  int repeats = 5;
  bool legacy = true;
  std::vector<int64_t> chunks{1024, 4096};
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--dataset") && has_value) dataset = argv[++i];
    else if (!std::strcmp(argv[i], "--device") && has_value) device_name = argv[++i];
    else if (!std::strcmp(argv[i], "--dim") && has_value) dim = std::stoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeats") && has_value) repeats = std::stoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--out") && has_value) out = argv[++i];
    else if (!std::strcmp(argv[i], "--no-legacy")) legacy = false;
    else if (!std::strcmp(argv[i], "--chunks") && has_value) {
      chunks.clear();
      std::stringstream list(argv[++i]);
      for (std::string item; std::getline(list, item, ',');) chunks.push_back(std::stoll(item));
    } else {
      std::fprintf(stderr, "usage: %s [--dataset DIR] [--device cuda|cpu] [--dim D] "
                           "[--chunks 1024,4096] [--repeats N] [--no-legacy] [--out FILE]\n",
                   argv[0]);
      return 2;
    }
  }
  if (device_name != "cuda" && device_name != "cpu") {
    std::fprintf(stderr, "eval bench: --device must be cuda or cpu, got %s\n", device_name.c_str());
    return 2;
  }
  if (chunks.empty() || repeats < 1 || dim < 1) {
    std::fprintf(stderr, "eval bench: --chunks, --repeats and --dim must be positive\n");
    return 2;
  }
  const bool cuda = device_name == "cuda";
  if (cuda && !at::hasCUDA()) {
    std::printf("no CUDA device; skipped\n");
    return 0;
  }
  if (!std::filesystem::exists(dataset)) {
    std::printf("eval bench: %s not found; skipped\n", dataset.c_str());
    return 0;
  }
  const at::Device device = cuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  std::string device_label = "cpu: " + gnnrec::bench::cpu_model() + ", " +
                             std::to_string(at::get_num_threads()) + " threads";
  std::string tag = "cpu";
  if (cuda) {
    device_label = at::cuda::getCurrentDeviceProperties()->name;
    tag = "cuda_" + file_tag(device_label);
  }
  if (out.empty()) out = std::string(GNNREC_BENCH_RESULTS) + "/eval_" + tag + ".json";

  gnnrec::TrainConfig cfg;
  cfg.dataset = dataset;
  const auto t0 = std::chrono::steady_clock::now();
  const gnnrec::PreparedData data = gnnrec::prepare_data(cfg);
  const gnnrec::BipartiteGraph& train = *data.train;
  const gnnrec::BipartiteGraph& test = *data.test;
  const int64_t U = train.num_users(), I = train.num_items();
  std::printf("loaded %s in %.1f s: %lld users, %lld items, %lld train / %lld test pairs\n",
              dataset.c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
              static_cast<long long>(U), static_cast<long long>(I),
              static_cast<long long>(train.num_edges()), static_cast<long long>(test.num_edges()));

  auto gen = at::make_generator<at::CPUGeneratorImpl>(2020);
  const at::Tensor user_emb =
      at::randn({U, dim}, gen, at::TensorOptions().dtype(at::kFloat)).to(device);
  const at::Tensor item_emb =
      at::randn({I, dim}, gen, at::TensorOptions().dtype(at::kFloat)).to(device);
  const std::vector<int> ks{10, 20};
  std::printf("device %s, d = %lld, K = 10, 20, median of %d after a warm-up\n",
              device_label.c_str(), static_cast<long long>(dim), repeats);

  json runs = json::array();
  gnnrec::EvalResult first;
  double best_ms = std::numeric_limits<double>::infinity();
  for (const int64_t chunk : chunks) {
    const gnnrec::Evaluator ev(train, test, ks, chunk);
    gnnrec::EvalResult r;
    const std::vector<double> t = times_ms([&] { r = ev.evaluate(user_emb, item_emb); }, repeats);
    const double ms = median(t);
    best_ms = std::min(best_ms, ms);
    if (runs.empty()) first = r;
    std::printf("evaluate, %lld users per chunk: %.1f ms (recall@20 %.5f, auc %.5f, %lld users)\n",
                static_cast<long long>(chunk), ms, r.metrics.at("recall@20"),
                r.metrics.at("auc"), static_cast<long long>(r.users));
    runs.push_back({{"users_per_chunk", chunk}, {"median_ms", ms}, {"times_ms", t},
                    {"metrics", r.metrics}, {"test_users", r.users}});
  }
  json legacy_json = nullptr;
  if (legacy) {
    const int64_t chunk = 1024;  // the former default
    gnnrec::EvalResult r;
    const std::vector<double> t = times_ms(
        [&] { r = legacy_evaluate(train, test, ks, chunk, user_emb, item_emb); }, repeats);
    const double ms = median(t);
    double max_diff = 0;
    std::string worst;
    for (const auto& [name, value] : r.metrics) {
      const double d = std::abs(first.metrics.at(name) - value);
      if (d > max_diff) max_diff = d, worst = name;
    }
    std::printf("legacy (scores copied to the CPU, ranked there), 1024 users per chunk: %.1f ms; "
                "evaluate is %.1fx faster; largest metric difference %.3g (%s)\n",
                ms, ms / best_ms, max_diff, worst.empty() ? "none" : worst.c_str());
    legacy_json = {{"users_per_chunk", chunk}, {"median_ms", ms}, {"times_ms", t},
                   {"metrics", r.metrics}, {"speedup_of_best_evaluate", ms / best_ms},
                   {"max_metric_difference", max_diff}, {"max_difference_metric", worst}};
  }
  int runtime_version = 0;
  if (cuda) cudaRuntimeGetVersion(&runtime_version);
  json doc{
      {"benchmark", "full-ranking evaluation of every test user (Evaluator::evaluate) against "
                    "the former CPU-side ranking"},
      {"dataset", dataset_name(dataset)},
      {"users", U},
      {"items", I},
      {"train_pairs", train.num_edges()},
      {"test_pairs", test.num_edges()},
      {"dim", dim},
      {"ks", ks},
      {"embeddings", "randn float32, seed 2020"},
      {"device", device_label},
      {"cuda_runtime", runtime_version},
      {"torch", TORCH_VERSION},
      {"cpu_threads", at::get_num_threads()},
      {"statistic", "median wall-clock ms of repeats calls after one warm-up call"},
      {"repeats", repeats},
      {"evaluate", runs},
      {"legacy", legacy_json}};
  std::filesystem::create_directories(std::filesystem::path(out).parent_path());
  gnnrec::write_file_atomic(out, doc.dump(2) + "\n");
  std::printf("wrote %s\n", out.c_str());
  return 0;
}
