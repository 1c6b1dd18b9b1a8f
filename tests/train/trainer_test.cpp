// End-to-end training on small synthetic data: the run directory, the
// baseline comparison, resume equivalence and checkpoint integrity.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "train/checkpoint.h"
#include "train/run_dir.h"
#include "train/trainer.h"

namespace gnnrec {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::string fresh_dir(const std::string& name) {
  const fs::path p = fs::path(::testing::TempDir()) / ("gnnrec_trainer_" + name);
  fs::remove_all(p);
  return p.string();
}

TrainConfig small_config(const std::string& out) {
  TrainConfig c;
  c.model = "lightgcn";
  c.dataset = "synthetic";
  c.synthetic_users = 400;
  c.synthetic_items = 300;
  c.dim = 16;
  c.layers = 2;
  c.epochs = 6;
  c.eval_every = 2;
  c.batch_size = 512;
  c.lr = 0.01;
  c.threads = 2;
  c.out = out;
  return c;
}

std::vector<json> metric_lines(const std::string& run) {
  std::istringstream in(read_file(run + "/metrics.jsonl"));
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

TEST(Trainer, WritesRunDirectoryAndBeatsPopularity) {
  TrainConfig c = small_config(fresh_dir("basic"));
  c.epochs = 20;
  c.eval_every = 5;
  TrainOptions o;
  o.quiet = true;
  const json s = train(c, o);
  for (const char* f : {"config.json", "metrics.jsonl", "summary.json", "checkpoints/last.ckpt",
                        "checkpoints/best.ckpt"}) {
    EXPECT_TRUE(fs::exists(fs::path(c.out) / f)) << f;
  }
  EXPECT_EQ(metric_lines(c.out).size(), 4u);
  const json saved = json::parse(read_file(c.out + "/summary.json"));
  for (const char* key : {"model", "dataset", "best_epoch", "best", "epoch_seconds", "device",
                          "torch_version"}) {
    EXPECT_TRUE(saved.contains(key)) << key;
  }
  EXPECT_EQ(saved["torch_version"], "2.11.0");
  const double ours = s["best"]["recall@20"], pop = s["popularity"]["recall@20"];
  EXPECT_GT(ours, pop * 1.2) << "LightGCN " << ours << " vs popularity " << pop;
  // The saved config reproduces the run's settings.
  EXPECT_EQ(json::parse(read_file(c.out + "/config.json")).get<TrainConfig>().epochs, 20);
}

TEST(Trainer, ResumeReachesTheSameMetricsAsAnUninterruptedRun) {
  for (const std::string model : {"lightgcn", "mf"}) {
    TrainConfig full = small_config(fresh_dir("full_" + model));
    full.model = model;
    TrainOptions o;
    o.quiet = true;
    train(full, o);

    TrainConfig part = small_config(fresh_dir("part_" + model));
    part.model = model;
    part.epochs = 4;  // a multiple of eval_every: no extra final evaluation
    train(part, o);
    part.epochs = 6;
    o.resume = true;
    train(part, o);

    const auto a = metric_lines(full.out), b = metric_lines(part.out);
    ASSERT_EQ(a.size(), b.size()) << model;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i]["epoch"], b[i]["epoch"]);
      EXPECT_EQ(a[i]["metrics"], b[i]["metrics"]) << model << " evaluation " << i;
      EXPECT_EQ(a[i]["loss"], b[i]["loss"]) << model << " evaluation " << i;
    }
  }
}

TEST(Trainer, RefusesToReplaceARunAndLeavesItIntact) {
  TrainConfig c = small_config(fresh_dir("intact"));
  c.epochs = 2;
  TrainOptions o;
  o.quiet = true;
  train(c, o);
  const std::string before = read_file(c.out + "/metrics.jsonl");
  EXPECT_THROW(train(c, o), std::invalid_argument);
  TrainConfig bad = c;
  bad.lr = -1;
  o.overwrite = true;
  EXPECT_THROW(train(bad, o), std::invalid_argument);
  bad = c;
  bad.model = "no-such-model";
  EXPECT_THROW(train(bad, o), std::invalid_argument);
  bad = c;
  bad.dataset = c.out + "/missing-dataset";
  EXPECT_THROW(train(bad, o), DataError);
  EXPECT_EQ(read_file(c.out + "/metrics.jsonl"), before);
}

TEST(Checkpoint, RoundTripAndCorruptionDetected) {
  const std::string dir = fresh_dir("ckpt");
  fs::create_directories(dir);
  Checkpoint c;
  c.meta = {{"epoch", 7}};
  c.tensors.push_back({"w", at::arange(12, at::kFloat).view({3, 4})});
  c.tensors.push_back({"d", at::ones({2}, at::kDouble)});
  const std::string path = dir + "/x.ckpt";
  save_checkpoint(path, c);
  const Checkpoint back = load_checkpoint(path);
  EXPECT_EQ(back.meta["epoch"], 7);
  ASSERT_EQ(back.tensors.size(), 2u);
  EXPECT_TRUE(at::equal(back.tensors[0].tensor, c.tensors[0].tensor));
  EXPECT_TRUE(at::equal(back.tensors[1].tensor, c.tensors[1].tensor));

  std::string bytes = read_file(path);
  bytes[bytes.size() / 2] ^= 0x40;
  std::ofstream(path, std::ios::binary) << bytes;
  try {
    load_checkpoint(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::ofstream(path, std::ios::binary) << bytes.substr(0, 10);
  EXPECT_THROW(load_checkpoint(path), std::runtime_error);
}

}  // namespace
}  // namespace gnnrec
