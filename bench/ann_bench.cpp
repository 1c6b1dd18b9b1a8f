// Approximate top-K (the HNSW index of train/ann_index.h) against exact
// scoring, side by side in one run on one thread: recall@K of the index
// against the exact top K, and queries per second of each. Exact scoring is
// measured two ways: one query at a time (top_k_rows, as `serve` answers a
// request) and batched (the topk_masked operator over a chunk of queries, as
// `recommend --users` ranks).
//
//   build/gnnrec_bench_ann --synthetic N [--dim 64] [--queries 200]
//       a clustered catalogue of N items (1000 centres, items and queries
//       scattered around them, item norms log-normal, as trained factors
//       are), seeded
//   build/gnnrec_bench_ann --run RUN [--queries 1000]
//       a trained run's factors: its item vectors, and a seeded sample of its
//       user vectors as queries
//   common: [--k 20] [--ef 50,100,200,400] [--m 16] [--ef-construction 100]
//           (M and ef_construction default to the index's own, AnnParams)
//           [--spaces ip,l2-augmented] (default ip; train/ann_index.h)
//           [--out FILE]  (default bench/results/ann_<catalogue>.json)
//
// The index's top K is the label list hnswlib returns (no exclusions, no
// rescoring). Timings are wall clock over all queries; the build is timed
// once. The load average of the machine before and after is recorded.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <torch/version.h>
#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "bench/bench_util.h"
#include "kernels/ops.h"
#include "train/ann_index.h"
#include "train/recommend.h"
#include "train/serving_run.h"

using nlohmann::json;
using namespace gnnrec;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

json load_average() {
  double l[3] = {0, 0, 0};
  getloadavg(l, 3);
  return json::array({l[0], l[1], l[2]});
}

struct Options {
  int64_t synthetic = 0, dim = 64, queries = 0, k = 20;
  // The index's own defaults (train/ann_index.h), as `recommend --index hnsw` builds it.
  int64_t m = AnnParams{}.m, ef_construction = AnnParams{}.ef_construction;
  std::string run, out;
  std::vector<int64_t> efs{50, 100, 200, 400};
  std::vector<AnnSpace> spaces{AnnSpace::kInnerProduct};
};

Options parse(int argc, char** argv) {
  Options o;
  for (int a = 1; a + 1 < argc; a += 2) {
    const std::string flag = argv[a], v = argv[a + 1];
    if (flag == "--synthetic") o.synthetic = std::stoll(v);
    else if (flag == "--run") o.run = v;
    else if (flag == "--dim") o.dim = std::stoll(v);
    else if (flag == "--queries") o.queries = std::stoll(v);
    else if (flag == "--k") o.k = std::stoll(v);
    else if (flag == "--m") o.m = std::stoll(v);
    else if (flag == "--ef-construction") o.ef_construction = std::stoll(v);
    else if (flag == "--out") o.out = v;
    else if (flag == "--spaces") {
      o.spaces.clear();
      std::stringstream in(v);
      for (std::string part; std::getline(in, part, ',');) {
        if (part != "ip" && part != "l2-augmented") throw std::invalid_argument("--spaces " + v);
        o.spaces.push_back(part == "ip" ? AnnSpace::kInnerProduct : AnnSpace::kL2Augmented);
      }
    } else if (flag == "--ef") {
      o.efs.clear();
      std::stringstream in(v);
      for (std::string part; std::getline(in, part, ',');) o.efs.push_back(std::stoll(part));
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  if ((o.synthetic > 0) == !o.run.empty()) {
    throw std::invalid_argument("give --synthetic N or --run RUN");
  }
  if (o.queries == 0) o.queries = o.synthetic > 0 ? 200 : 1000;
  return o;
}

// Items and queries around 1000 shared centres; item norms exp(N(0, 0.3²)).
std::pair<at::Tensor, at::Tensor> synthetic(int64_t n, int64_t d, int64_t queries) {
  at::manual_seed(2020);
  const at::Tensor centres = at::randn({1000, d});
  const at::Tensor which = at::randint(1000, {n}, at::kLong);
  at::Tensor items = centres.index_select(0, which) + 0.5 * at::randn({n, d});
  items = items / items.norm(2, 1, true) * at::exp(0.3 * at::randn({n, 1}));
  const at::Tensor qc = at::randint(1000, {queries}, at::kLong);
  const at::Tensor q = centres.index_select(0, qc) + 0.5 * at::randn({queries, d});
  return {items.contiguous(), q.contiguous()};
}

json exact_one_at_a_time(const at::Tensor& items, const at::Tensor& q, int64_t k,
                         std::vector<std::vector<int32_t>>* truth) {
  const double t0 = now_s();
  for (int64_t j = 0; j < q.size(0); ++j) truth->push_back(top_k_rows(items, q[j], k, {}).ids);
  const double s = now_s() - t0;
  return {{"seconds", s}, {"qps", q.size(0) / s}, {"ms_per_query", 1e3 * s / q.size(0)}};
}

json exact_batched(const at::Tensor& items, const at::Tensor& q, int64_t k, int64_t chunk) {
  const int64_t n = q.size(0);
  const at::Tensor users = at::arange(n, at::kLong);
  const at::Tensor rowptr = at::zeros({n + 1}, at::kLong), col = at::zeros({0}, at::kInt);
  const double t0 = now_s();
  ops::topk_masked(q, items, users, rowptr, col, k, chunk);
  const double s = now_s() - t0;
  return {{"seconds", s}, {"qps", n / s}, {"ms_per_query", 1e3 * s / n}, {"chunk", chunk}};
}

json hnsw_at(AnnIndex& index, const at::Tensor& q, int64_t k, int64_t ef,
             const std::vector<std::vector<int32_t>>& truth) {
  index.set_ef(ef);
  std::vector<std::vector<int32_t>> got;
  const double t0 = now_s();
  for (int64_t j = 0; j < q.size(0); ++j) got.push_back(index.search(q[j].data_ptr<float>(), k));
  const double s = now_s() - t0;
  int64_t hits = 0;
  for (size_t j = 0; j < got.size(); ++j) {
    const std::set<int32_t> want(truth[j].begin(), truth[j].end());
    for (const int32_t i : got[j]) hits += static_cast<int64_t>(want.count(i));
  }
  return {{"ef", ef},
          {"recall@" + std::to_string(k), static_cast<double>(hits) / (q.size(0) * k)},
          {"seconds", s},
          {"qps", q.size(0) / s},
          {"ms_per_query", 1e3 * s / q.size(0)}};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    at::set_num_threads(1);
    at::NoGradGuard no_grad;
    json out{{"benchmark", "HNSW top-K (hnswlib, maximum inner product) vs exact scoring"},
             {"k", o.k},
             {"threads", 1},
             {"cpu", bench::cpu_model()},
             {"torch_version", TORCH_VERSION},
             {"hnswlib", "0.6.2 (Debian libhnswlib-dev)"},
             {"load_average_before", load_average()}};
    at::Tensor items, queries;
    std::string tag;
    if (o.synthetic > 0) {
      std::tie(items, queries) = synthetic(o.synthetic, o.dim, o.queries);
      tag = "synthetic_" + std::to_string(o.synthetic);
      out["catalogue"] = "synthetic: clustered (1000 centres), item norms log-normal, seed 2020";
    } else {
      const ServingRun s = load_serving_run(o.run, "best");
      items = s.items;
      at::manual_seed(2020);
      queries = s.users
                    .index_select(0, at::randperm(s.users.size(0), at::kLong)
                                         .narrow(0, 0, std::min(o.queries, s.users.size(0))))
                    .contiguous();
      tag = std::filesystem::path(s.run.config.dataset).filename().string() + "_" +
            s.run.config.model;
      out["catalogue"] = "trained factors: " + s.run.config.model + " on " +
                         std::filesystem::path(s.run.config.dataset).filename().string() +
                         ", epoch " + std::to_string(s.run.epoch) +
                         "; queries: a seeded sample of its users";
    }
    out["items"] = items.size(0);
    out["dim"] = items.size(1);
    out["queries"] = queries.size(0);
    std::printf("%s: %lld items x %lld, %lld queries\n", tag.c_str(),
                static_cast<long long>(items.size(0)), static_cast<long long>(items.size(1)),
                static_cast<long long>(queries.size(0)));
    std::vector<std::vector<int32_t>> truth;
    out["exact_one_query_at_a_time"] = exact_one_at_a_time(items, queries, o.k, &truth);
    out["exact_batched"] = exact_batched(items, queries, o.k, 64);
    std::printf("exact: %s\n", out["exact_one_query_at_a_time"].dump().c_str());
    const double one = out["exact_one_query_at_a_time"]["qps"];
    const double batched = out["exact_batched"]["qps"];
    for (const AnnSpace space : o.spaces) {
      AnnParams p;
      p.space = space;
      p.m = o.m;
      p.ef_construction = o.ef_construction;
      const double t0 = now_s();
      const auto index = AnnIndex::build(items, p);
      json result{{"space", name_of(space)},
                  {"m", o.m},
                  {"ef_construction", o.ef_construction},
                  {"build_seconds", now_s() - t0}};
      std::printf("build %s: %.1f s\n", name_of(space), result["build_seconds"].get<double>());
      for (const int64_t ef : o.efs) {
        json r = hnsw_at(*index, queries, o.k, ef, truth);
        r["speedup_vs_one_at_a_time"] = r["qps"].get<double>() / one;
        r["speedup_vs_batched"] = r["qps"].get<double>() / batched;
        std::printf("hnsw %s: %s\n", name_of(space), r.dump().c_str());
        result["search"].push_back(r);
      }
      out["hnsw"].push_back(result);
    }
    out["load_average_after"] = load_average();
    const std::string path =
        o.out.empty() ? std::string(GNNREC_BENCH_RESULTS) + "/ann_" + tag + ".json" : o.out;
    write_file_atomic(path, out.dump(2) + "\n");
    std::printf("wrote %s\n", path.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gnnrec_bench_ann: %s\n", e.what());
    return 1;
  }
}
