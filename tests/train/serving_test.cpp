// Serving a trained run (train/serving_run.h, export.h, recommend.h,
// run_index.h): the export holds the model's ranking factors and id maps;
// batched recommendations against a float64 brute force with the same
// exclusions; the run's index built once, reused, and rebuilt when stale.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "base/npy.h"
#include "tests/testing/scratch.h"
#include "tests/testing/train_runs.h"
#include "train/ann_index.h"
#include "train/export.h"
#include "train/recommend.h"
#include "train/run_index.h"
#include "train/serving_run.h"
#include "train/trainer.h"

namespace gnnrec {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// One small LightGCN run (synthetic, 400 users x 300 items, d 16, 2 epochs)
// for the whole suite.
class Serving : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(
        (fs::path(::testing::TempDir()) / ("gnnrec_serving_" + std::to_string(::getpid())))
            .string());
    fs::remove_all(*dir_);
    TrainConfig c = testing::small_config(*dir_);
    c.epochs = 2;
    c.threads = 1;
    TrainOptions o;
    o.quiet = true;
    train(c, o);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string* dir_;
};
std::string* Serving::dir_ = nullptr;

std::vector<float> npy_values(const std::string& path, const std::vector<int64_t>& shape) {
  const std::string bytes = read_file(path);
  const std::string header = npy_header_float32(shape);
  EXPECT_EQ(bytes.substr(0, header.size()), header);
  std::vector<float> out((bytes.size() - header.size()) / 4);
  std::memcpy(out.data(), bytes.data() + header.size(), out.size() * 4);
  return out;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST_F(Serving, ExportHoldsTheRankingFactorsAndTheIdMaps) {
  const ServingRun s = load_serving_run(*dir_, "best");
  const std::string out = testing::fresh_dir("gnnrec_export");
  const json card = export_run(s, out);
  // The reference: the model loaded on its own, its ranking() read directly.
  LoadedRun r = load_run(*dir_, "best");
  at::NoGradGuard no_grad;
  r.model->set_training(false);
  const auto [P, Q] = r.model->ranking();
  const auto users = npy_values(out + "/users.npy", {P.size(0), P.size(1)});
  const auto items = npy_values(out + "/items.npy", {Q.size(0), Q.size(1)});
  const at::Tensor Pc = P.contiguous(), Qc = Q.contiguous();
  EXPECT_EQ(users, std::vector<float>(Pc.data_ptr<float>(), Pc.data_ptr<float>() + Pc.numel()));
  EXPECT_EQ(items, std::vector<float>(Qc.data_ptr<float>(), Qc.data_ptr<float>() + Qc.numel()));
  EXPECT_EQ(lines_of(out + "/user_ids.txt"), r.data.dataset.users.raw_ids());
  EXPECT_EQ(lines_of(out + "/item_ids.txt"), r.data.dataset.items.raw_ids());
  const json config = json::parse(read_file(*dir_ + "/config.json"));
  EXPECT_EQ(card, json::parse(read_file(out + "/card.json")));
  EXPECT_EQ(card["model"], "lightgcn");
  EXPECT_EQ(card["score"], "dot");
  EXPECT_EQ(card["factors"], "embeddings");
  EXPECT_EQ(card["dimension"], 16);
  EXPECT_EQ(card["data"], config["data"]);
  EXPECT_EQ(card["config"]["lr"], config["lr"]);
  EXPECT_FALSE(card["config"].contains("data"));
}

// The float64 scores of user u over all items and its training items.
struct Reference {
  at::Tensor scores;  // [I] double
  std::set<int32_t> seen;
};
Reference reference(const ServingRun& s, int32_t u) {
  Reference r;
  r.scores = at::mv(s.items.to(at::kDouble), s.users[u].to(at::kDouble));
  const BipartiteGraph& g = s.train();
  for (int64_t e = g.user_offsets()[u]; e < g.user_offsets()[u + 1]; ++e) {
    r.seen.insert(g.user_items()[e]);
  }
  return r;
}

// `got` is a best-first top-k of `allowed` under `ref`: its scores are the
// reference's k best (up to float32 rounding), none is excluded, none repeats.
void expect_top_k(const Ranked& got, const Reference& ref, const std::vector<int32_t>& allowed,
                  int64_t k) {
  std::vector<double> best;
  for (const int32_t i : allowed) best.push_back(ref.scores[i].item<double>());
  std::sort(best.rbegin(), best.rend());
  ASSERT_EQ(got.ids.size(), static_cast<size_t>(std::min<int64_t>(k, best.size())));
  std::set<int32_t> distinct(got.ids.begin(), got.ids.end());
  EXPECT_EQ(distinct.size(), got.ids.size());
  for (size_t j = 0; j < got.ids.size(); ++j) {
    EXPECT_NE(std::find(allowed.begin(), allowed.end(), got.ids[j]), allowed.end());
    EXPECT_NEAR(ref.scores[got.ids[j]].item<double>(), best[j], 1e-4) << "rank " << j;
    EXPECT_NEAR(got.scores[j], best[j], 1e-4);
  }
}

TEST_F(Serving, BatchedTopKIsTheBruteForceTopKWithTheExclusions) {
  const ServingRun s = load_serving_run(*dir_, "best");
  const int64_t I = s.items.size(0);
  std::vector<int32_t> users;
  for (int32_t u = 0; u < 400; u += 7) users.push_back(u);
  std::vector<int32_t> candidates;
  for (int32_t i = 3; i < I; i += 4) candidates.push_back(i);
  for (const bool exclude : {true, false}) {
    for (const bool restrict : {false, true}) {
      RecommendOptions o;
      o.exclude_train = exclude;
      if (restrict) o.candidates = candidates;
      o.chunk = 16;  // several chunks
      const Recommender rec(s, o);
      const std::vector<Ranked> got = rec.top_k(users, 20);
      for (size_t j = 0; j < users.size(); ++j) {
        const Reference ref = reference(s, users[j]);
        std::vector<int32_t> allowed;
        for (int32_t i = 0; i < I; ++i) {
          const bool candidate = !restrict || i % 4 == 3;
          if (candidate && !(exclude && ref.seen.count(i))) allowed.push_back(i);
        }
        expect_top_k(got[j], ref, allowed, 20);
        // A vector query with the user's exclusions ranks alike.
        std::vector<int32_t> seen(ref.seen.begin(), ref.seen.end());
        const Ranked again =
            rec.top_k_for(s.users[users[j]], 20, exclude ? seen : std::vector<int32_t>{}, false);
        EXPECT_EQ(again.ids, got[j].ids);
      }
    }
  }
  // More than there are: every allowed item, once.
  const Recommender all(s, RecommendOptions{});
  const Reference ref = reference(s, 5);
  EXPECT_EQ(all.top_k({5}, 100000)[0].ids.size(), static_cast<size_t>(I) - ref.seen.size());
}

TEST_F(Serving, IndexedTopKFindsTheExactOnesAndHonoursTheExclusions) {
  const ServingRun s = load_serving_run(*dir_, "best");
  AnnParams p;
  p.ef_search = 300;  // as many as there are items: the search is exhaustive
  const auto index = AnnIndex::build(s.items, p);
  const Recommender exact(s, RecommendOptions{}), approx(s, RecommendOptions{}, index.get());
  int64_t hits = 0, total = 0;
  for (int32_t u = 0; u < 400; u += 5) {
    const Ranked a = approx.top_k({u}, 10)[0], e = exact.top_k({u}, 10)[0];
    const Reference ref = reference(s, u);
    for (const int32_t i : a.ids) EXPECT_EQ(ref.seen.count(i), 0U);
    EXPECT_TRUE(std::is_sorted(a.scores.rbegin(), a.scores.rend()));
    const std::set<int32_t> truth(e.ids.begin(), e.ids.end());
    for (const int32_t i : a.ids) hits += truth.count(i);
    total += static_cast<int64_t>(e.ids.size());
  }
  EXPECT_GE(static_cast<double>(hits) / static_cast<double>(total), 0.99);
  RecommendOptions restricted;
  restricted.candidates = {1, 2, 3};
  EXPECT_THROW(Recommender(s, restricted, index.get()), std::invalid_argument);
}

TEST_F(Serving, TheRunsIndexIsBuiltOnceAndRebuiltWhenStale) {
  const std::string copy = testing::fresh_dir("gnnrec_run_index") + "/run";
  fs::copy(*dir_, copy, fs::copy_options::recursive);
  ServingRun s = load_serving_run(copy, "best");
  int builds = 0;
  const auto count = [&builds](const std::string&) { ++builds; };
  const AnnParams p;
  auto first = open_run_index(s, p, count);
  EXPECT_EQ(builds, 1);
  EXPECT_TRUE(fs::exists(copy + "/index/hnsw-best.bin"));
  const json record = json::parse(read_file(copy + "/index/hnsw-best.json"));
  EXPECT_EQ(record["checkpoint_fingerprint"], file_fingerprint(s.checkpoint_path));
  auto second = open_run_index(s, p, count);
  EXPECT_EQ(builds, 1);  // reused
  const float* q = s.users.data_ptr<float>();
  EXPECT_EQ(first->search(q, 10), second->search(q, 10));
  AnnParams other = p;
  other.m = 8;
  open_run_index(s, other, count);
  EXPECT_EQ(builds, 2);  // other build parameters
  other.space = AnnSpace::kL2Augmented;
  open_run_index(s, other, count);
  EXPECT_EQ(builds, 3);
  open_run_index(s, other, count);
  EXPECT_EQ(builds, 3);
  // A truncated index file, then a new checkpoint (a resumed run's).
  fs::resize_file(copy + "/index/hnsw-best.bin", 100);
  open_run_index(s, other, count);
  EXPECT_EQ(builds, 4);
  { std::ofstream(s.checkpoint_path, std::ios::app) << "x"; }
  open_run_index(s, other, count);
  EXPECT_EQ(builds, 5);
}

}  // namespace
}  // namespace gnnrec
