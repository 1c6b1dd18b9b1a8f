#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include "graph/cache.h"
#include "graph/splits.h"
#include "graph/synthetic.h"
#include "samplers/negative_sampler.h"
#include "samplers/random.h"
#include "train/adam.h"
#include "train/checkpoint.h"
#include "train/evaluator.h"
#include "train/progress.h"
#include "train/run_dir.h"

namespace gnnrec {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

at::Device parse_device(const std::string& name) {
  at::Device device(name);  // throws c10::Error for malformed names; validate() checked the form
  if (device.is_cuda() && !at::hasCUDA()) {
    throw std::invalid_argument("--device " + name + ": no CUDA device is available on this machine");
  }
  return device;
}

// Keeps the lines of metrics.jsonl whose epoch is <= `epoch` (those a
// resumed run will not recompute).
void truncate_metrics(const std::string& path, int64_t epoch) {
  if (!fs::exists(path)) return;
  std::istringstream in(read_file(path));
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (json::parse(line).at("epoch").get<int64_t>() <= epoch) kept += line + "\n";
    } catch (const std::exception&) {
      // A torn last line from a crash mid-append: drop it.
    }
  }
  write_file_atomic(path, kept);
}

json metrics_json(const EvalResult& r) {
  json j = json::object();
  for (const auto& [k, v] : r.metrics) j[k] = v;
  return j;
}

std::string format_metrics(const std::map<std::string, double>& m, const std::vector<int>& ks) {
  std::ostringstream s;
  s.precision(4);
  s << std::fixed;
  bool first = true;
  for (int k : ks) {
    for (const char* name : {"recall", "ndcg"}) {
      const std::string key = std::string(name) + "@" + std::to_string(k);
      s << (first ? "" : "  ") << key << " " << m.at(key);
      first = false;
    }
  }
  return s.str();
}

}  // namespace

PreparedData prepare_data(const TrainConfig& cfg) {
  Dataset ds;
  if (cfg.dataset == "synthetic") {
    SyntheticOptions so;
    so.num_users = cfg.synthetic_users;
    so.num_items = cfg.synthetic_items;
    so.seed = cfg.seed;
    ds = make_synthetic(so);
  } else {
    ds = load_dataset_cached(cfg.dataset);
  }
  dedupe(ds.train);
  if (cfg.min_rating > 0) filter_min_rating(ds, static_cast<float>(cfg.min_rating));
  if (cfg.kcore > 1) k_core(ds, cfg.kcore);
  if (!ds.is_split()) split(ds, parse_split_kind(cfg.split), cfg.train_ratio, cfg.seed);
  if (ds.train.empty()) throw DataError(cfg.dataset + ": no training interactions after filtering");
  if (ds.test.empty()) throw DataError(cfg.dataset + ": no test interactions after splitting");
  PreparedData out;
  out.train = std::make_shared<BipartiteGraph>(
      BipartiteGraph::build(ds.num_users(), ds.num_items(), ds.train));
  out.test = std::make_shared<BipartiteGraph>(
      BipartiteGraph::build(ds.num_users(), ds.num_items(), ds.test));
  out.dataset = std::move(ds);
  return out;
}

json train(const TrainConfig& cfg, const TrainOptions& opts) {
  cfg.validate();
  if (cfg.out.empty()) throw std::invalid_argument("--out is required: the run directory to write");
  const fs::path run(cfg.out);
  const bool has_run = fs::exists(run / "config.json");
  if (has_run && !opts.resume && !opts.overwrite) {
    throw std::invalid_argument("--out " + cfg.out +
                                " already holds a run; pass --resume to continue it or "
                                "--overwrite to replace it");
  }
  if (opts.resume && !fs::exists(run / "checkpoints" / "last.ckpt")) {
    throw std::invalid_argument("--resume: " + (run / "checkpoints" / "last.ckpt").string() +
                                " does not exist");
  }
  if (cfg.threads > 0) at::set_num_threads(cfg.threads);
  const at::Device device = parse_device(cfg.device);

  // Everything that can fail on bad input happens before RUN_DIR is touched.
  const double t_load = now_seconds();
  PreparedData data = prepare_data(cfg);
  const double load_seconds = now_seconds() - t_load;
  PropagationGraph graph(data.train);
  ModelOptions mo;
  mo.dim = cfg.dim;
  mo.layers = cfg.layers;
  mo.seed = cfg.seed;
  std::unique_ptr<Model> model = make_model(cfg.model, mo, graph, device);
  Evaluator evaluator(*data.train, *data.test, cfg.topk);
  if (evaluator.test_users().empty()) throw DataError(cfg.dataset + ": no user has a test interaction");

  ensure_writable_dir(cfg.out);
  const fs::path ckpt_dir = run / "checkpoints";
  ensure_writable_dir(ckpt_dir.string());
  const std::string metrics_path = (run / "metrics.jsonl").string();
  if (opts.overwrite && !opts.resume) {
    fs::remove(metrics_path);
    fs::remove(run / "summary.json");
    fs::remove(ckpt_dir / "last.ckpt");
    fs::remove(ckpt_dir / "best.ckpt");
  }
  json cfg_json = cfg;
  write_file_atomic((run / "config.json").string(), cfg_json.dump(2) + "\n");

  std::vector<NamedTensor> params = model->parameters();
  std::vector<at::Tensor> tensors;
  for (auto& p : params) tensors.push_back(p.tensor);
  Adam adam(tensors, cfg.lr);

  // Training state, restored on --resume.
  int64_t epoch = 0, best_epoch = 0, bad_evals = 0;
  double best_value = -1;
  json best_metrics = json::object();
  std::vector<double> epoch_times;
  Progress progress(opts.quiet);

  auto make_checkpoint = [&]() {
    Checkpoint c;
    c.meta = {{"epoch", epoch}, {"adam_steps", adam.steps()}, {"best_epoch", best_epoch},
              {"best_value", best_value}, {"best_metrics", best_metrics},
              {"bad_evals", bad_evals}, {"epoch_times", epoch_times}, {"model", cfg.model}};
    for (size_t i = 0; i < params.size(); ++i) {
      c.tensors.push_back({params[i].name, params[i].tensor});
      c.tensors.push_back({params[i].name + ".exp_avg", adam.exp_avg()[i]});
      c.tensors.push_back({params[i].name + ".exp_avg_sq", adam.exp_avg_sq()[i]});
    }
    return c;
  };

  if (opts.resume) {
    const Checkpoint c = load_checkpoint((ckpt_dir / "last.ckpt").string());
    std::map<std::string, at::Tensor> by_name;
    for (const auto& t : c.tensors) by_name[t.name] = t.tensor;
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) {
      for (auto [suffix, dst] : {std::pair<std::string, at::Tensor>{"", params[i].tensor},
                                 {".exp_avg", adam.exp_avg()[i]},
                                 {".exp_avg_sq", adam.exp_avg_sq()[i]}}) {
        auto it = by_name.find(params[i].name + suffix);
        if (it == by_name.end() || !it->second.sizes().equals(dst.sizes())) {
          throw std::runtime_error("--resume: " + (ckpt_dir / "last.ckpt").string() +
                                   " does not match this model (" + params[i].name + suffix + ")");
        }
        dst.copy_(it->second);
      }
    }
    epoch = c.meta.at("epoch");
    adam.set_steps(c.meta.at("adam_steps"));
    best_epoch = c.meta.at("best_epoch");
    best_value = c.meta.at("best_value");
    best_metrics = c.meta.at("best_metrics");
    bad_evals = c.meta.at("bad_evals");
    epoch_times = c.meta.at("epoch_times").get<std::vector<double>>();
    truncate_metrics(metrics_path, epoch);
    progress.line("resuming " + cfg.out + " after epoch " + std::to_string(epoch));
  }

  const EvalResult popularity = evaluator.evaluate_popularity();
  progress.line("data: " + std::to_string(data.train->num_users()) + " users, " +
                std::to_string(data.train->num_items()) + " items, " +
                std::to_string(data.train->num_edges()) + " train / " +
                std::to_string(data.test->num_edges()) + " test interactions (" +
                std::to_string(load_seconds).substr(0, 5) + " s to load)");
  progress.line("popularity: " + format_metrics(popularity.metrics, cfg.topk));

  // All training edges as (user, item) pairs in CSR order; each epoch visits
  // them in a permutation drawn from (seed, epoch).
  const int64_t m = data.train->num_edges();
  std::vector<int64_t> edge_user(m), edge_item(m);
  for (int64_t u = 0, e = 0; u < data.train->num_users(); ++u) {
    for (; e < data.train->user_offsets()[u + 1]; ++e) {
      edge_user[e] = u;
      edge_item[e] = data.train->user_items()[e];
    }
  }
  const int64_t batches = (m + cfg.batch_size - 1) / cfg.batch_size;
  bool stopped_early = false;
  double eval_seconds_total = 0;
  int64_t evaluations = 0;

  while (epoch < cfg.epochs && !stopped_early) {
    ++epoch;
    const double t0 = now_seconds();
    SplitMix64 rng(cfg.seed, 0x5eed0000ULL + static_cast<uint64_t>(epoch));
    std::vector<int64_t> order(m);
    for (int64_t e = 0; e < m; ++e) order[e] = e;
    shuffle(order, rng);
    at::Tensor users_all = at::empty({m}, at::kLong), pos_all = at::empty({m}, at::kLong);
    for (int64_t e = 0; e < m; ++e) {
      users_all.data_ptr<int64_t>()[e] = edge_user[order[e]];
      pos_all.data_ptr<int64_t>()[e] = edge_item[order[e]];
    }
    const at::Tensor neg_all =
        sample_negatives(*data.train, users_all, 1, rng.next()).view({m});
    const at::Tensor users_dev = users_all.to(device), pos_dev = pos_all.to(device),
                     neg_dev = neg_all.to(device);
    double loss_sum = 0;
    for (int64_t b = 0; b < batches; ++b) {
      const int64_t start = b * cfg.batch_size, len = std::min(cfg.batch_size, m - start);
      const at::Tensor bu = users_dev.narrow(0, start, len), bp = pos_dev.narrow(0, start, len),
                       bn = neg_dev.narrow(0, start, len);
      auto [U, I] = model->forward();
      const at::Tensor u = U.index_select(0, bu);
      const at::Tensor pos = (u * I.index_select(0, bp)).sum(1);
      const at::Tensor neg = (u * I.index_select(0, bn)).sum(1);
      const at::Tensor bpr = at::softplus(neg - pos).mean();
      auto [eu, ei] = model->ego(bu, at::cat({bp, bn}));
      const at::Tensor l2 = (eu.pow(2).sum() + ei.pow(2).sum()) * (0.5 / static_cast<double>(len));
      const at::Tensor loss = bpr + cfg.reg * l2;
      const double lv = loss.item<double>();
      if (!std::isfinite(lv)) {
        throw std::runtime_error("epoch " + std::to_string(epoch) + " batch " +
                                 std::to_string(b + 1) + ": loss is " + std::to_string(lv) +
                                 "; stopping (the last good checkpoint is " +
                                 (ckpt_dir / "last.ckpt").string() + ")");
      }
      loss.backward();
      adam.step();
      loss_sum += lv;
      progress.batch(epoch, cfg.epochs, b + 1, batches, loss_sum / static_cast<double>(b + 1));
    }
    const double train_seconds = now_seconds() - t0;
    epoch_times.push_back(train_seconds);
    const double mean_loss = loss_sum / static_cast<double>(std::max<int64_t>(batches, 1));
    progress.epoch_done(epoch, cfg.epochs, mean_loss, train_seconds);

    if (epoch % cfg.eval_every == 0 || epoch == cfg.epochs) {
      const double te = now_seconds();
      EvalResult r;
      {
        at::NoGradGuard no_grad;
        auto [U, I] = model->forward();
        r = evaluator.evaluate(U, I);
      }
      const double eval_seconds = now_seconds() - te;
      eval_seconds_total += eval_seconds;
      ++evaluations;
      const double value = r.metrics.at(cfg.early_stop_metric);
      const bool improved = value > best_value;
      if (improved) {
        best_value = value;
        best_epoch = epoch;
        best_metrics = metrics_json(r);
        bad_evals = 0;
      } else {
        ++bad_evals;
      }
      append_line_durable(metrics_path, json{{"epoch", epoch},
                                             {"loss", mean_loss},
                                             {"train_seconds", train_seconds},
                                             {"eval_seconds", eval_seconds},
                                             {"metrics", metrics_json(r)}}
                                            .dump());
      progress.line("  eval epoch " + std::to_string(epoch) + ": " +
                    format_metrics(r.metrics, cfg.topk) + (improved ? "  *" : ""));
      if (improved) save_checkpoint((ckpt_dir / "best.ckpt").string(), make_checkpoint());
      if (cfg.patience > 0 && bad_evals >= cfg.patience) {
        stopped_early = true;
        progress.line("early stop: " + cfg.early_stop_metric + " did not improve for " +
                      std::to_string(bad_evals) + " evaluations");
      }
    }
    save_checkpoint((ckpt_dir / "last.ckpt").string(), make_checkpoint());
  }

  double mean_epoch = 0;
  for (double t : epoch_times) mean_epoch += t;
  if (!epoch_times.empty()) mean_epoch /= static_cast<double>(epoch_times.size());
  json summary{
      {"model", cfg.model},
      {"dataset", cfg.dataset},
      {"best_epoch", best_epoch},
      {"best", best_metrics},
      {"early_stop_metric", cfg.early_stop_metric},
      {"popularity", metrics_json(popularity)},
      {"epochs_run", epoch},
      {"stopped_early", stopped_early},
      {"epoch_seconds", mean_epoch},
      {"eval_seconds", evaluations > 0 ? eval_seconds_total / evaluations : 0.0},
      {"load_seconds", load_seconds},
      {"device", device.str()},
      {"threads", at::get_num_threads()},
      {"torch_version", TORCH_VERSION},
      {"gnnrec_version", "0.1.0"},
      {"users", data.train->num_users()},
      {"items", data.train->num_items()},
      {"train_interactions", data.train->num_edges()},
      {"test_interactions", data.test->num_edges()},
      {"test_users", static_cast<int64_t>(evaluator.test_users().size())},
      {"protocol",
       "full ranking over all items with each user's training items masked; metrics averaged "
       "over users with at least one test item"}};
  write_file_atomic((run / "summary.json").string(), summary.dump(2) + "\n");
  return summary;
}

LoadedRun load_run(const std::string& run_dir, const std::string& which) {
  const fs::path run(run_dir);
  LoadedRun out;
  out.config = json::parse(read_file((run / "config.json").string())).get<TrainConfig>();
  const std::string ckpt_path = (run / "checkpoints" / (which + ".ckpt")).string();
  const Checkpoint c = load_checkpoint(ckpt_path);
  if (out.config.threads > 0) at::set_num_threads(out.config.threads);
  out.data = prepare_data(out.config);
  out.graph = std::make_unique<PropagationGraph>(out.data.train);
  ModelOptions mo;
  mo.dim = out.config.dim;
  mo.layers = out.config.layers;
  mo.seed = out.config.seed;
  out.model = make_model(out.config.model, mo, *out.graph, parse_device(out.config.device));
  std::map<std::string, at::Tensor> by_name;
  for (const auto& t : c.tensors) by_name[t.name] = t.tensor;
  at::NoGradGuard no_grad;
  for (auto& p : out.model->parameters()) {
    auto it = by_name.find(p.name);
    if (it == by_name.end() || !it->second.sizes().equals(p.tensor.sizes())) {
      throw std::runtime_error(ckpt_path + ": does not match model " + out.config.model +
                               " (parameter " + p.name + ")");
    }
    p.tensor.copy_(it->second);
  }
  out.epoch = c.meta.at("epoch");
  return out;
}

}  // namespace gnnrec
