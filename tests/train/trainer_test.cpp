// End-to-end training on small synthetic data: the run directory, the
// baseline comparison, resume equivalence and checkpoint integrity; the
// losses against hand computations, rating mode, early stopping.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "graph/interactions.h"
#include "tests/testing/scratch.h"
#include "tests/testing/train_runs.h"
#include "train/checkpoint.h"
#include "train/run_dir.h"
#include "train/train_state.h"
#include "train/trainer.h"

namespace gnnrec {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// Unique per process (like testing::fresh_dir): two test runs on one machine
// (make test and make asan, or two checkouts) must not share a run folder.
std::string fresh_dir(const std::string& name) {
  const fs::path p = fs::path(::testing::TempDir()) /
                     ("gnnrec_trainer_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

using gnnrec::testing::metric_lines;
using gnnrec::testing::small_config;

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
  for (const auto& [model, loss] : std::vector<std::pair<std::string, std::string>>{
           {"lightgcn", "bpr"}, {"mf", "bpr"}, {"mf", "bce"},
           {"gcn", "bce"},     // gcn: dropout, seeded per epoch
           {"sage", "bpr"}}) {  // sage: neighbour samples, seeded per epoch
    TrainConfig full = small_config(fresh_dir("full_" + model + loss));
    full.model = model;
    full.loss = parse_enum<Loss>("loss", loss);
    TrainOptions o;
    o.quiet = true;
    train(full, o);

    TrainConfig part = small_config(fresh_dir("part_" + model + loss));
    part.model = model;
    part.loss = parse_enum<Loss>("loss", loss);
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

// A model's parameters as float64 matrices, read from a checkpoint.
std::map<std::string, std::vector<std::vector<double>>> checkpoint_params(const std::string& path) {
  std::map<std::string, std::vector<std::vector<double>>> out;
  for (const auto& t : load_checkpoint(path).tensors) {
    const at::Tensor d = t.tensor.to(at::kDouble).contiguous();
    if (d.dim() != 2) continue;
    auto& rows = out[t.name];
    for (int64_t r = 0; r < d.size(0); ++r) {
      rows.emplace_back(d[r].data_ptr<double>(), d[r].data_ptr<double>() + d.size(1));
    }
  }
  return out;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t k = 0; k < a.size(); ++k) s += a[k] * b[k];
  return s;
}
double softplus(double x) { return std::log1p(std::exp(x)); }

// One MF epoch, one batch, with a learning rate so small that the saved
// parameters are the initial ones to ~1e-9: the epoch's loss is the loss of
// those parameters, which the test recomputes from the formulas in float64.
TrainConfig hand_check_config(const std::string& dataset, const std::string& loss) {
  TrainConfig c;
  c.model = "mf";
  c.dataset = dataset;
  c.dim = 2;
  c.epochs = 1;
  c.eval_every = 1;
  c.batch_size = 1024;
  c.lr = 1e-9;
  c.reg = 0.1;
  c.loss = parse_enum<Loss>("loss", loss);
  c.negatives = 3;
  c.topk = {1};
  c.early_stop_metric = "recall@1";
  c.threads = 1;
  c.out = fresh_dir("hand_" + loss);
  return c;
}

TEST(Trainer, BprAndBceLossesMatchAHandComputation) {
  // 2 users, 3 items. Each user has exactly one item outside its training
  // items, so every sampled negative is known: user 0 -> item 2, user 1 -> 0.
  const std::string data = gnnrec::testing::fresh_dir("hand_data");
  std::ofstream(data + "/train.txt") << "0 0 1\n1 1 2\n";
  std::ofstream(data + "/test.txt") << "0 2\n1 0\n";
  const std::vector<std::pair<int, int>> pairs{{0, 0}, {0, 1}, {1, 1}, {1, 2}};
  const int negative_of[] = {2, 0};
  for (const std::string loss : {"bpr", "bce"}) {
    const TrainConfig c = hand_check_config(data, loss);
    TrainOptions o;
    o.quiet = true;
    train(c, o);
    auto p = checkpoint_params(c.out + "/checkpoints/last.ckpt");
    const auto& P = p.at("user_embedding");
    const auto& Q = p.at("item_embedding");
    const double K = loss == "bpr" ? 1 : static_cast<double>(c.negatives);
    double data_loss = 0, l2 = 0;
    for (auto [u, i] : pairs) {
      const int j = negative_of[u];
      const double pos = dot(P[u], Q[i]), neg = dot(P[u], Q[j]);
      // BPR: softplus(neg − pos) per pair. BCE with logits: −log σ(pos) =
      // softplus(−pos) for the positive, −log(1 − σ(neg)) = softplus(neg)
      // for each of its K negatives (here all the same item).
      data_loss += loss == "bpr" ? softplus(neg - pos) : softplus(-pos) + K * softplus(neg);
      l2 += dot(P[u], P[u]) + dot(Q[i], Q[i]) + K * dot(Q[j], Q[j]);
    }
    const double n = static_cast<double>(pairs.size());
    const double expected =
        data_loss / (loss == "bpr" ? n : n * (1 + K)) + c.reg.value() * 0.5 * l2 / n;
    const double reported = metric_lines(c.out)[0]["loss"];
    EXPECT_NEAR(reported, expected, 1e-6) << loss;
  }
}

// A MovieLens-100K-like u.data: 16 users, 16 items, each user rating 12.
// Users and items come in two groups; same-group pairs are rated 4-5, others
// 1-2, so a rank-2 model explains most of the ratings and the global mean
// does not.
std::string write_block_ratings(const std::string& dir) {
  std::ofstream f(dir + "/u.data");
  for (int u = 1; u <= 16; ++u) {
    for (int i = 1; i <= 16; ++i) {
      if ((3 * u + i) % 4 == 0) continue;  // unrated: leaves negatives for the AUC
      const bool same = u % 2 == i % 2;
      const int rating = same ? 4 + (u + i) % 4 / 3 : 1 + (u * i) % 3 / 2;
      f << u << '\t' << i << '\t' << rating << '\t' << 880000000 + u * 100 + i << '\n';
    }
  }
  return dir;
}

TEST(Trainer, MseLossMatchesAHandComputation) {
  const std::string data = write_block_ratings(gnnrec::testing::fresh_dir("mse_data"));
  const TrainConfig c = hand_check_config(data, "mse");
  TrainOptions o;
  o.quiet = true;
  train(c, o);
  // The training pairs and ratings, from the data layer.
  const PreparedData d = prepare_data(c);
  auto p = checkpoint_params(c.out + "/checkpoints/last.ckpt");
  const auto& P = p.at("user_embedding");
  const auto& Q = p.at("item_embedding");
  double se = 0, l2 = 0;
  const Interactions& x = d.dataset.train;
  for (size_t e = 0; e < x.size(); ++e) {
    const double err = dot(P[x.user[e]], Q[x.item[e]]) - x.rating[e];
    se += err * err;
    l2 += dot(P[x.user[e]], P[x.user[e]]) + dot(Q[x.item[e]], Q[x.item[e]]);
  }
  const double n = static_cast<double>(x.size());
  EXPECT_NEAR(metric_lines(c.out)[0]["loss"].get<double>(), se / n + c.reg.value() * 0.5 * l2 / n,
              1e-5);
}

TEST(Trainer, RatingModeBeatsTheGlobalMean) {
  TrainConfig c;
  c.model = "mf";
  c.dataset = write_block_ratings(gnnrec::testing::fresh_dir("rating_data"));
  c.loss = Loss::kMse;
  c.dim = 8;
  c.epochs = 60;
  c.eval_every = 10;
  c.batch_size = 64;
  c.lr = 0.05;
  c.reg = 1e-4;
  c.topk = {5};
  c.threads = 2;
  c.out = fresh_dir("rating");
  TrainOptions o;
  o.quiet = true;
  const json s = train(c, o);
  EXPECT_EQ(s["early_stop_metric"], "rmse");  // the rating-mode default
  EXPECT_EQ(s["baseline"], "global_mean");
  ASSERT_TRUE(s["global_mean"].contains("rmse"));
  for (const char* key : {"rmse", "mae", "recall@5", "auc", "coverage@5"}) {
    EXPECT_TRUE(s["best"].contains(key) && s["best"][key].is_number()) << key;
  }
  const auto lines = metric_lines(c.out);
  ASSERT_EQ(lines.size(), 6u);
  const double first = lines.front()["metrics"]["rmse"], best = s["best"]["rmse"];
  const double mean_rmse = s["global_mean"]["rmse"];
  EXPECT_LT(best, first);
  EXPECT_LT(best, 0.8 * mean_rmse) << "rmse " << best << " vs global mean " << mean_rmse;
  // Lower is better: the best epoch is the one with the smallest rmse.
  double smallest = first;
  int64_t at = lines.front()["epoch"];
  for (const auto& l : lines) {
    if (l["metrics"]["rmse"].get<double>() < smallest) {
      smallest = l["metrics"]["rmse"];
      at = l["epoch"];
    }
  }
  EXPECT_EQ(s["best_epoch"].get<int64_t>(), at);
  EXPECT_DOUBLE_EQ(best, smallest);
}

TEST(Trainer, RatingModeNeedsRatings) {
  const std::string data = gnnrec::testing::fresh_dir("no_ratings");
  std::ofstream(data + "/train.txt") << "0 0 1\n1 1 2\n";
  std::ofstream(data + "/test.txt") << "0 2\n1 0\n";
  TrainConfig c = hand_check_config(data, "mse");
  TrainOptions o;
  o.quiet = true;
  const std::string msg = gnnrec::testing::error_of<DataError>([&] { train(c, o); });
  EXPECT_NE(msg.find("--loss mse"), std::string::npos) << msg;
  EXPECT_NE(msg.find("has none"), std::string::npos) << msg;
  EXPECT_NE(msg.find(data), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(c.out + "/config.json"));
  c.dataset = "synthetic";
  c.min_rating = 4;
  EXPECT_THROW(train(c, o), std::invalid_argument);
}

TEST(EarlyStopping, FollowsTheMetricsDirection) {
  // rmse, lower is better: 3, 2, 2.5, 1.5, 1.6, 1.7 with patience 2 -> best
  // at epoch 4 (1.5), stop after the two worse ones.
  EarlyStopping rmse{"rmse", 2};
  const double r[] = {3, 2, 2.5, 1.5, 1.6, 1.7};
  const bool r_best[] = {true, true, false, true, false, false};
  for (int e = 0; e < 6; ++e) {
    EXPECT_EQ(rmse.update(e + 1, r[e]), r_best[e]) << e;
    EXPECT_EQ(rmse.should_stop(), e == 5) << e;
  }
  EXPECT_EQ(rmse.best_epoch, 4);
  EXPECT_EQ(rmse.best_value, 1.5);
  // recall, higher is better: 0.1, 0.3, 0.3 (a tie is no improvement), 0.2.
  EarlyStopping recall{"recall@20", 2};
  EXPECT_TRUE(recall.update(1, 0.1));
  EXPECT_TRUE(recall.update(2, 0.3));
  EXPECT_FALSE(recall.update(3, 0.3));
  EXPECT_FALSE(recall.should_stop());
  EXPECT_FALSE(recall.update(4, 0.2));
  EXPECT_TRUE(recall.should_stop());
  EXPECT_EQ(recall.best_epoch, 2);
  // NaN never becomes the best; patience 0 never stops.
  EarlyStopping auc{"auc", 0};
  EXPECT_FALSE(auc.update(1, std::nan("")));
  EXPECT_TRUE(auc.update(2, 0.5));
  for (int e = 3; e < 10; ++e) auc.update(e, 0.1);
  EXPECT_FALSE(auc.should_stop());
}

TEST(Config, ModelOptionsAndJsonKeepUnsetOptionsUnset) {
  TrainConfig c;
  const json unset = c.resolved();
  for (const char* key : {"dropout", "node_dropout", "message_dropout", "attention_dropout",
                          "heads", "aggregator", "fanouts"}) {
    EXPECT_TRUE(unset.at(key).is_null()) << key;
  }
  EXPECT_EQ(unset.at("early_stop_metric"), "recall@20");
  EXPECT_EQ(unset.at("negatives"), 4);
  const ModelOptions d = model_options(unset.get<TrainConfig>());
  EXPECT_FALSE(d.dropout || d.node_dropout || d.message_dropout || d.attention_dropout ||
               d.heads || d.aggregator);
  EXPECT_TRUE(d.fanouts.empty());

  c.dim = 32;
  c.layers = 2;
  c.seed = 7;
  c.dropout = 0.1;
  c.node_dropout = 0.2;
  c.message_dropout = 0.3;
  c.attention_dropout = 0.4;
  c.heads = 4;
  c.aggregator = "pool";
  c.fanouts = {10, 5};
  const ModelOptions m = model_options(json(c).get<TrainConfig>());  // through config.json
  EXPECT_EQ(m.dim, 32);
  EXPECT_EQ(m.layers, 2);
  EXPECT_EQ(m.seed, 7u);
  EXPECT_EQ(m.dropout, 0.1);
  EXPECT_EQ(m.node_dropout, 0.2);
  EXPECT_EQ(m.message_dropout, 0.3);
  EXPECT_EQ(m.attention_dropout, 0.4);
  EXPECT_EQ(m.heads, 4);
  EXPECT_EQ(m.aggregator, "pool");
  EXPECT_EQ(m.fanouts, (std::vector<int64_t>{10, 5}));
  TrainConfig mse;
  mse.loss = Loss::kMse;
  EXPECT_EQ(mse.resolved().early_stop_metric, "rmse");
}

TEST(Config, ValidateNamesTheOption) {
  auto error = [](auto edit) {
    TrainConfig c;
    edit(c);
    return gnnrec::testing::error_of<std::invalid_argument>([&] { c.validate(); });
  };
  EXPECT_NE(error([](TrainConfig& c) { c.dropout = 1.0; }).find("--dropout"), std::string::npos);
  EXPECT_NE(error([](TrainConfig& c) { c.node_dropout = -0.5; }).find("--node-dropout"), std::string::npos);
  EXPECT_NE(error([](TrainConfig& c) { c.message_dropout = 2; }).find("--message-dropout"), std::string::npos);
  EXPECT_NE(error([](TrainConfig& c) { c.attention_dropout = 1; }).find("--attention-dropout"), std::string::npos);
  EXPECT_NE(error([](TrainConfig& c) { c.heads = 0; }).find("--heads"), std::string::npos);
  EXPECT_NE(error([](TrainConfig& c) { c.fanouts = {10, 0}; }).find("--fanouts"), std::string::npos);
  EXPECT_NE(error([](TrainConfig& c) { c.negatives = 0; }).find("--negatives"), std::string::npos);
  EXPECT_NE(error([](TrainConfig& c) { c.early_stop_metric = "rmse"; }).find("--early-stop-metric"),
            std::string::npos);  // rmse exists only in rating mode
  TrainConfig ok;
  ok.loss = Loss::kMse;
  ok.early_stop_metric = "mae";
  ok.validate();
  ok.early_stop_metric = "coverage@10";
  ok.validate();
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
