#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include "base/nvtx.h"
#include "base/random.h"
#include "graph/cache.h"
#include "graph/kg_loaders.h"
#include "graph/splits.h"
#include "graph/synthetic.h"
#include "samplers/negative_sampler.h"
#include "train/adam.h"
#include "train/checkpoint.h"
#include "train/evaluator.h"
#include "train/fault_injection.h"
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

// Removes the temporary files that a crash in write_file_atomic leaves
// behind ("NAME.tmp.PID.N" next to NAME); the targets themselves are always
// whole.
void remove_stale_temporaries(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) &&
        entry.path().filename().string().find(".tmp.") != std::string::npos) {
      fs::remove(entry.path(), ec);
    }
  }
}

// The progress line of one evaluation: the rating errors (rating mode),
// recall and NDCG at each K, and AUC.
std::string format_metrics(const std::map<std::string, double>& m, const std::vector<int>& ks) {
  std::vector<std::string> keys;
  for (const char* key : {"rmse", "mae"}) keys.emplace_back(key);
  for (int k : ks) {
    for (const char* name : {"recall", "ndcg"}) keys.push_back(std::string(name) + "@" + std::to_string(k));
  }
  keys.emplace_back("auc");
  std::ostringstream s;
  s.precision(4);
  s << std::fixed;
  for (const auto& key : keys) {
    if (!m.count(key)) continue;
    if (s.tellp() > 0) s << "  ";
    s << key << " " << m.at(key);
  }
  return s.str();
}

}  // namespace

json metrics_json(const EvalResult& r) {
  json j = json::object();
  for (const auto& [k, v] : r.metrics) j[k] = v;
  return j;
}

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
  if (cfg.rating_mode() && (!ds.train.has_rating() || (ds.is_split() && !ds.test.has_rating()))) {
    throw DataError(cfg.dataset + ": --loss mse trains on ratings, but data set '" + ds.name +
                    "' (" + ds.format + " format) has none; use bpr or bce");
  }
  if (cfg.ctr() && ds.is_split()) {
    throw DataError(cfg.dataset +
                    ": --protocol ctr draws its own 6:2:2 split of every "
                    "interaction, but data set '" +
                    ds.name + "' (" + ds.format +
                    " format) ships a train/test split; use --protocol ranking");
  }
  dedupe(ds.train);
  if (cfg.min_rating > 0) filter_min_rating(ds, static_cast<float>(cfg.min_rating));
  if (cfg.kcore > 1) k_core(ds, cfg.kcore);
  PreparedData out;
  if (cfg.ctr()) {
    if (ds.train.empty()) throw DataError(cfg.dataset + ": no interactions after filtering");
    CtrSplit records = make_ctr_split(ds.train, ds.num_users(), ds.num_items(), cfg.seed);
    if (records.train.positives() == 0 || records.eval.empty() || records.test.empty()) {
      throw DataError(cfg.dataset + ": " + std::to_string(ds.train.size()) +
                      " interactions are too few for --protocol ctr's 6:2:2 split (train " +
                      std::to_string(records.train.size()) + ", eval " +
                      std::to_string(records.eval.size()) + ", test " +
                      std::to_string(records.test.size()) + " records)");
    }
    ds.train = ctr_positives(records.train);
    ds.test = ctr_positives(records.test);
    out.ctr = std::move(records);
  } else {
    if (!ds.is_split()) split(ds, parse_split_kind(cfg.split), cfg.train_ratio, cfg.seed);
    if (ds.train.empty())
      throw DataError(cfg.dataset + ": no training interactions after filtering");
    if (ds.test.empty()) throw DataError(cfg.dataset + ": no test interactions after splitting");
  }
  out.train = std::make_shared<BipartiteGraph>(
      BipartiteGraph::build(ds.num_users(), ds.num_items(), ds.train));
  out.test = std::make_shared<BipartiteGraph>(
      BipartiteGraph::build(ds.num_users(), ds.num_items(), ds.test));
  // After filtering, so that the graph is aligned with the final ids.
  if (cfg.dataset != "synthetic" && cfg.side_info) out.side = load_side_graph(cfg.dataset, ds);
  out.dataset = std::move(ds);
  return out;
}

bool EarlyStopping::update(int64_t epoch, double value) {
  // A NaN (a metric undefined on this split) never becomes the best value:
  // it could not be compared with later ones, nor stored in a checkpoint.
  const bool better =
      !std::isnan(value) &&
      (best_epoch == 0 || (lower_is_better(metric) ? value < best_value : value > best_value));
  if (better) {
    best_epoch = epoch;
    best_value = value;
    bad_evals = 0;
  } else {
    ++bad_evals;
  }
  return better;
}

ModelOptions model_options(const TrainConfig& cfg) {
  ModelOptions mo;
  mo.dim = cfg.dim;
  mo.layers = cfg.layers;
  mo.seed = cfg.seed;
  mo.dropout = cfg.dropout;
  mo.node_dropout = cfg.node_dropout;
  mo.message_dropout = cfg.message_dropout;
  mo.attention_dropout = cfg.attention_dropout;
  mo.heads = cfg.heads;
  mo.aggregator = cfg.aggregator;
  mo.fanouts = cfg.fanouts;
  return mo;
}

std::vector<int64_t> add_cold_users(Evaluator& evaluator, const TrainConfig& cfg) {
  if (cfg.cold_fraction <= 0) return {};
  std::vector<int64_t> cold = evaluator.coldest_test_users(cfg.cold_fraction);
  evaluator.add_user_group("cold", cold);
  return cold;
}

EvalResult evaluate_model(Model& model, const Evaluator& evaluator, bool rating_mode) {
  at::NoGradGuard no_grad;
  model.set_training(false);
  auto [P, Q] = model.ranking();
  EvalResult r = evaluator.evaluate(P, Q);
  if (rating_mode) {
    const at::Device device = P.device();
    const auto errors = evaluator.evaluate_ratings([&](const at::Tensor& users, const at::Tensor& items) {
      auto [u, i] = model.represent(users.to(device), items.to(device));
      return model.score(u, i);
    });
    r.metrics.insert(errors.begin(), errors.end());
  }
  return r;
}

EvalResult evaluate_ctr(Model& model, const CtrRecords& records, int64_t pairs_per_call) {
  at::NoGradGuard no_grad;
  model.set_training(false);
  const at::Device device = model.parameters().at(0).tensor.device();
  std::vector<double> logits;
  logits.reserve(records.size());
  const int64_t n = static_cast<int64_t>(records.size());
  for (int64_t start = 0; start < n; start += pairs_per_call) {
    const int64_t len = std::min(pairs_per_call, n - start);
    const at::Tensor users =
        at::tensor(at::ArrayRef<int32_t>(records.user.data() + start, len), at::kInt)
            .to(device, at::kLong);
    const at::Tensor items =
        at::tensor(at::ArrayRef<int32_t>(records.item.data() + start, len), at::kInt)
            .to(device, at::kLong);
    auto [u, i] = model.represent(users, items);
    const at::Tensor z = model.score(u, i).detach().to(at::kDouble).cpu().contiguous().view({-1});
    if (z.numel() != len) {
      throw std::logic_error("evaluate_ctr: " + model.name() + " returned " +
                             std::to_string(z.numel()) + " scores for " + std::to_string(len) +
                             " records");
    }
    logits.insert(logits.end(), z.data_ptr<double>(), z.data_ptr<double>() + len);
  }
  EvalResult r;
  r.metrics = ctr_metrics(logits, records.label);
  r.users = n;
  return r;
}

namespace {

// --protocol ctr's baseline: items scored by their number of positive
// training records (the AUC of popularity; accuracy and F1 need a
// calibrated threshold, which a count does not have).
Baseline evaluate_ctr_popularity(const CtrSplit& ctr, int64_t num_items) {
  std::vector<double> count(static_cast<size_t>(num_items), 0.0);
  for (size_t k = 0; k < ctr.train.size(); ++k)
    count[static_cast<size_t>(ctr.train.item[k])] += ctr.train.label[k];
  std::vector<double> scores(ctr.test.size());
  for (size_t k = 0; k < ctr.test.size(); ++k)
    scores[k] = count[static_cast<size_t>(ctr.test.item[k])];
  EvalResult r;
  r.metrics = {{"auc", ctr_metrics(scores, ctr.test.label).at("auc")}};
  r.users = static_cast<int64_t>(ctr.test.size());
  return {"popularity", r};
}

// RUN_DIR/ctr_records.tsv: every record with raw ids and its part, so that
// the split can be audited or handed to another tool.
void write_ctr_records(const std::string& path, const PreparedData& data) {
  std::string text = "user\titem\tlabel\tpart\n";
  const auto add = [&](const CtrRecords& r, const char* part) {
    for (size_t k = 0; k < r.size(); ++k) {
      text += data.dataset.users.raw(r.user[k]) + "\t" + data.dataset.items.raw(r.item[k]) + "\t" +
              (r.label[k] ? "1" : "0") + "\t" + part + "\n";
    }
  };
  add(data.ctr->train, "train");
  add(data.ctr->eval, "eval");
  add(data.ctr->test, "test");
  write_file_atomic(path, text);
}

}  // namespace

Baseline evaluate_baseline(const Evaluator& evaluator, bool rating_mode) {
  if (rating_mode) return {"global_mean", evaluator.evaluate_global_mean()};
  return {"popularity", evaluator.evaluate_popularity()};
}

json train(const TrainConfig& config, const TrainOptions& opts) {
  const TrainConfig cfg = config.resolved();
  cfg.validate();
  if (cfg.out.empty()) throw std::invalid_argument("--out is required: the run directory to write");
  const fs::path run(cfg.out);
  const bool has_run = fs::exists(run / "config.json");
  if (has_run && !opts.resume && !opts.overwrite) {
    throw std::invalid_argument("--out " + cfg.out +
                                " already holds a run; pass --resume to continue it or "
                                "--overwrite to replace it");
  }
  // A run killed before its first checkpoint has config.json but no
  // last.ckpt: resuming it starts again from epoch 1.
  if (opts.resume && !has_run && !fs::exists(run / "checkpoints" / "last.ckpt")) {
    throw std::invalid_argument("--resume: " + (run / "checkpoints" / "last.ckpt").string() +
                                " does not exist");
  }
  const bool resume_from_checkpoint = opts.resume && fs::exists(run / "checkpoints" / "last.ckpt");
  fault::install_from_env();
  if (cfg.threads > 0) at::set_num_threads(cfg.threads);
  // --deterministic: ATen ops whose CUDA implementation adds with atomics
  // (index_select's backward, index_add_) switch to their deterministic
  // (sorting) implementation, and an op that has none stops the run with
  // an error naming it. The CPU path is deterministic either way, and
  // gnnrec's operators use no floating-point atomics.
  if (cfg.deterministic) at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
  const at::Device device = parse_device(cfg.device);

  // Everything that can fail on bad input happens before RUN_DIR is touched.
  const double t_load = now_seconds();
  PreparedData data = prepare_data(cfg);
  const double load_seconds = now_seconds() - t_load;
  PropagationGraph graph(data.train, data.side);
  std::unique_ptr<Model> model = make_model(cfg.model, model_options(cfg), graph, device);
  // The ranking protocol's evaluator; --protocol ctr scores its records instead.
  std::optional<Evaluator> evaluator;
  if (!cfg.ctr()) {
    evaluator.emplace(*data.train, *data.test, cfg.topk);
    if (evaluator->test_users().empty())
      throw DataError(cfg.dataset + ": no user has a test interaction");
  }
  const std::vector<int64_t> cold_users =
      evaluator ? add_cold_users(*evaluator, cfg) : std::vector<int64_t>{};

  ensure_writable_dir(cfg.out);
  const fs::path ckpt_dir = run / "checkpoints";
  ensure_writable_dir(ckpt_dir.string());
  remove_stale_temporaries(run);
  remove_stale_temporaries(ckpt_dir);
  const std::string metrics_path = (run / "metrics.jsonl").string();
  if (opts.overwrite && !opts.resume) {
    fs::remove(metrics_path);
    fs::remove(run / "summary.json");
    fs::remove(ckpt_dir / "last.ckpt");
    fs::remove(ckpt_dir / "best.ckpt");
  }
  json cfg_json = cfg;
  write_file_atomic((run / "config.json").string(), cfg_json.dump(2) + "\n");
  if (cfg.ctr()) write_ctr_records((run / "ctr_records.tsv").string(), data);

  std::vector<NamedTensor> params = model->parameters();
  std::vector<at::Tensor> tensors;
  for (auto& p : params) tensors.push_back(p.tensor);
  Adam adam(tensors, cfg.lr);

  // Training state, restored on --resume.
  int64_t epoch = 0;
  EarlyStopping stop{cfg.early_stop_metric, cfg.patience};
  json best_metrics = json::object();
  json best_valid = json::object();  // --protocol ctr: the eval records' metrics at the best epoch
  std::vector<double> epoch_times;
  Progress progress(opts.quiet);

  auto make_checkpoint = [&]() {
    Checkpoint c;
    c.meta = {{"epoch", epoch},
              {"adam_steps", adam.steps()},
              {"best_epoch", stop.best_epoch},
              {"best_value", stop.best_value},
              {"best_metrics", best_metrics},
              {"bad_evals", stop.bad_evals},
              {"epoch_times", epoch_times},
              {"model", cfg.model},
              {"best_valid", best_valid}};
    for (size_t i = 0; i < params.size(); ++i) {
      c.tensors.push_back({params[i].name, params[i].tensor});
      c.tensors.push_back({params[i].name + ".exp_avg", adam.exp_avg()[i]});
      c.tensors.push_back({params[i].name + ".exp_avg_sq", adam.exp_avg_sq()[i]});
    }
    return c;
  };

  // Saves a checkpoint; a failed write (disk full, unwritable directory)
  // leaves the previous file intact and stops the run saying so.
  int64_t saved_epoch = 0;  // the epoch of the last.ckpt on disk; 0: none
  auto last_good = [&]() -> std::string {
    if (saved_epoch == 0) return "no checkpoint was written yet";
    return "the last good checkpoint is " + (ckpt_dir / "last.ckpt").string() + ", epoch " +
           std::to_string(saved_epoch);
  };
  auto save = [&](const char* which) {
    const std::string path = (ckpt_dir / which).string();
    try {
      save_checkpoint(path, make_checkpoint());
      if (std::string_view(which) == "last.ckpt") saved_epoch = epoch;
    } catch (const std::exception& e) {
      throw std::runtime_error("epoch " + std::to_string(epoch) + ": could not save checkpoint: " +
                               e.what() + " (the previous " + path + " is intact)");
    }
  };

  if (opts.resume && !resume_from_checkpoint) {
    truncate_metrics(metrics_path, 0);
    progress.line("resuming " + cfg.out + ": no checkpoint yet, starting from epoch 1");
  }
  if (resume_from_checkpoint) {
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
    saved_epoch = epoch;
    adam.set_steps(c.meta.at("adam_steps"));
    stop.best_epoch = c.meta.at("best_epoch");
    stop.best_value = c.meta.at("best_value");
    best_metrics = c.meta.at("best_metrics");
    best_valid = c.meta.value("best_valid", json::object());
    stop.bad_evals = c.meta.at("bad_evals");
    epoch_times = c.meta.at("epoch_times").get<std::vector<double>>();
    truncate_metrics(metrics_path, epoch);
    progress.line("resuming " + cfg.out + " after epoch " + std::to_string(epoch));
  }

  const Baseline baseline = cfg.ctr() ? evaluate_ctr_popularity(*data.ctr, data.train->num_items())
                                      : evaluate_baseline(*evaluator, cfg.rating_mode());
  if (cfg.ctr()) {
    progress.line("data: " + std::to_string(data.train->num_users()) + " users, " +
                  std::to_string(data.train->num_items()) + " items, CTR records " +
                  std::to_string(data.ctr->train.size()) + " train / " +
                  std::to_string(data.ctr->eval.size()) + " eval / " +
                  std::to_string(data.ctr->test.size()) + " test (" +
                  std::to_string(load_seconds).substr(0, 5) + " s to load)");
  } else {
    progress.line("data: " + std::to_string(data.train->num_users()) + " users, " +
                  std::to_string(data.train->num_items()) + " items, " +
                  std::to_string(data.train->num_edges()) + " train / " +
                  std::to_string(data.test->num_edges()) + " test interactions (" +
                  std::to_string(load_seconds).substr(0, 5) + " s to load)");
  }
  progress.line(baseline.name + ": " + format_metrics(baseline.result.metrics, cfg.topk));

  // All training edges as (user, item) pairs in CSR order (and their
  // ratings in rating mode), built once and kept on the device; each epoch
  // visits them in a permutation drawn from (seed, epoch). Under --protocol
  // ctr, the training records in record order, with their labels as targets.
  const int64_t m =
      cfg.ctr() ? static_cast<int64_t>(data.ctr->train.size()) : data.train->num_edges();
  at::Tensor edge_user = at::empty({m}, at::kLong), edge_item = at::empty({m}, at::kLong);
  at::Tensor edge_rating;  // rating mode: float32 [m]; ctr: the labels, float32 [m]
  if (cfg.ctr()) {
    const CtrRecords& r = data.ctr->train;
    edge_user = at::tensor(r.user, at::kInt).to(at::kLong);
    edge_item = at::tensor(r.item, at::kInt).to(at::kLong);
    edge_rating =
        at::tensor(std::vector<float>(r.label.begin(), r.label.end()), at::kFloat).to(device);
  } else {
    int64_t* eu = edge_user.data_ptr<int64_t>();
    int64_t* ei = edge_item.data_ptr<int64_t>();
    for (int64_t u = 0, e = 0; u < data.train->num_users(); ++u) {
      for (; e < data.train->user_offsets()[u + 1]; ++e) {
        eu[e] = u;
        ei[e] = data.train->user_items()[e];
      }
    }
  }
  edge_user = edge_user.to(device);
  edge_item = edge_item.to(device);
  if (cfg.rating_mode()) edge_rating = at::tensor(data.train->rating(), at::kFloat).to(device);
  // Negatives per training pair: BPR pairs each with one, BCE with
  // cfg.negatives; rating mode fits the ratings of the pairs themselves.
  // They are drawn where the model trains, from the training graph's CSR,
  // copied there once (the draws are equal on every device).
  // Under --protocol ctr the records carry their negatives: none is drawn.
  const int64_t negatives = cfg.ctr()           ? 0
                            : cfg.loss == "bpr" ? 1
                            : cfg.loss == "bce" ? cfg.negatives
                                                : 0;
  std::optional<NegativeSampler> sampler;
  if (negatives > 0) sampler.emplace(*data.train, device);
  const int64_t batches = (m + cfg.batch_size - 1) / cfg.batch_size;
  // Batch losses stay on the device and are read together (one copy, one
  // synchronisation) at the end of the epoch, so the GPU never waits for
  // the host between batches; on the CPU, where reading costs nothing,
  // after every batch, before its update (a non-finite loss stops the run
  // there). The progress bar, when shown, reads them at most every
  // kRedrawSeconds.
  const bool read_every_batch = device.is_cpu();
  constexpr double kRedrawSeconds = 0.5;
  bool stopped_early = false;
  double eval_seconds_total = 0;
  int64_t evaluations = 0;

  while (epoch < cfg.epochs && !stopped_early) {
    ++epoch;
    fault::set_epoch(epoch);
    const double t0 = now_seconds();
    SplitMix64 rng(cfg.seed, 0x5eed0000ULL + static_cast<uint64_t>(epoch));
    std::vector<int64_t> order(m);
    std::iota(order.begin(), order.end(), int64_t{0});
    shuffle(order, rng);
    std::optional<NvtxRange> phase;  // Nsight ranges of the training phases (GNNREC_NVTX=1)
    phase.emplace("gnnrec::train::sample");
    // The permutation goes to the device once; the epoch's pairs are
    // gathered there (on the CPU, `order` is only viewed, not copied).
    const at::Tensor order_dev = at::from_blob(order.data(), {m}, at::kLong).to(device);
    const at::Tensor users_dev = edge_user.index_select(0, order_dev);
    const at::Tensor pos_dev = edge_item.index_select(0, order_dev);
    at::Tensor target_all;  // rating mode: the pairs' ratings; ctr: their labels; float32 [m]
    if (edge_rating.defined()) target_all = edge_rating.index_select(0, order_dev);
    // Row j holds pair j's negatives ([m, negatives]).
    at::Tensor neg_dev;
    if (negatives > 0) neg_dev = (*sampler)(users_dev, negatives, rng.next());
    // Dropout draws from Torch's global generator: seeding it per epoch makes
    // a resumed run draw the same masks as an uninterrupted one.
    at::manual_seed(SplitMix64(cfg.seed, 0xd0d00000ULL + static_cast<uint64_t>(epoch)).next());
    phase.reset();
    model->set_training(true);
    std::vector<at::Tensor> batch_losses;
    batch_losses.reserve(static_cast<size_t>(batches));
    double loss_sum = 0;
    int64_t losses_read = 0;
    double last_redraw = t0;
    // Adds the losses of batches [losses_read, upto) to loss_sum in batch
    // order (the sum the per-batch reads gave), stopping at a non-finite one.
    auto read_losses = [&](int64_t upto) {
      if (upto <= losses_read) return;
      const at::Tensor host =
          at::stack(at::TensorList(batch_losses).slice(losses_read, upto - losses_read))
              .cpu()
              .to(at::kDouble);
      const double* v = host.data_ptr<double>();
      for (int64_t b = losses_read; b < upto; ++b) {
        const double lv = v[b - losses_read];
        if (!std::isfinite(lv)) {
          throw std::runtime_error("epoch " + std::to_string(epoch) + " batch " +
                                   std::to_string(b + 1) + ": loss is " + std::to_string(lv) +
                                   "; stopping (" + last_good() + ")");
        }
        loss_sum += lv;
      }
      losses_read = upto;
    };
    for (int64_t b = 0; b < batches; ++b) {
      phase.emplace("gnnrec::train::forward");
      const int64_t start = b * cfg.batch_size, len = std::min(cfg.batch_size, m - start);
      const at::Tensor bu = users_dev.narrow(0, start, len), bp = pos_dev.narrow(0, start, len);
      // The batch's items: its positives, then each pair's negatives in pair order.
      const at::Tensor items =
          negatives > 0 ? at::cat({bp, neg_dev.narrow(0, start, len).reshape({-1})}) : bp;
      auto [u, it] = model->represent(bu, items);
      const at::Tensor pos = model->score(u, it.narrow(0, 0, len));
      at::Tensor data_loss;
      if (cfg.loss == "mse") {
        data_loss = at::mse_loss(pos, target_all.narrow(0, start, len));
      } else if (cfg.ctr()) {
        data_loss = at::binary_cross_entropy_with_logits(pos, target_all.narrow(0, start, len));
      } else {
        // Each user's representation repeated for its negatives, aligned
        // with them (BPR's single negative takes u as it is).
        const at::Tensor u_neg = negatives == 1 ? u : u.repeat_interleave(negatives, 0);
        const at::Tensor neg = model->score(u_neg, it.narrow(0, len, len * negatives));
        if (cfg.loss == "bpr") {
          data_loss = at::softplus(neg - pos).mean();
        } else {
          const at::Tensor logits = at::cat({pos, neg});
          const at::Tensor labels = at::cat({at::ones_like(pos), at::zeros_like(neg)});
          data_loss = at::binary_cross_entropy_with_logits(logits, labels);
        }
      }
      at::Tensor l2;
      if (cfg.reg_scope == "full") {
        l2 = at::zeros({}, data_loss.options());
        for (const auto& p : params) l2 = l2 + p.tensor.pow(2).sum() * 0.5;
      } else {
        auto [eu, ei] = model->ego(bu, items);
        l2 = (eu.pow(2).sum() + ei.pow(2).sum()) * (0.5 / static_cast<double>(len));
      }
      at::Tensor loss = data_loss + cfg.reg * l2;
      if (b == std::min<int64_t>(1, batches - 1) && fault::reached("batch")) {
        loss = loss * std::nan("");  // test-only: GNNREC_TEST_FAULT=nan@batch:EPOCH
      }
      batch_losses.push_back(loss.detach());
      if (read_every_batch) read_losses(b + 1);
      phase.emplace("gnnrec::train::backward");
      loss.backward();
      phase.emplace("gnnrec::train::step");
      adam.step();
      phase.reset();
      if (progress.shows_bar()) {
        const double now = now_seconds();
        if (read_every_batch || now - last_redraw >= kRedrawSeconds || b + 1 == batches) {
          read_losses(b + 1);
          last_redraw = now;
          progress.batch(epoch, cfg.epochs, b + 1, batches, loss_sum / static_cast<double>(b + 1));
        }
      }
    }
    read_losses(batches);  // on a GPU, waits for the epoch's last update
    // A model's second objective (KGAT's KG loss), stepping the same Adam;
    // its losses are not in the epoch's loss (on the CPU each is checked).
    model->extra_epoch_phase(
        SplitMix64(cfg.seed, 0x6b670000ULL + static_cast<uint64_t>(epoch)).next(), cfg.batch_size,
        [&](const at::Tensor& loss) {
          if (read_every_batch && !std::isfinite(loss.item<double>())) {
            throw std::runtime_error("epoch " + std::to_string(epoch) + ": " + model->name() +
                                     " extra phase loss is not finite; stopping (" + last_good() + ")");
          }
          loss.backward();
          adam.step();
        });
    // A finite loss does not prove finite parameters (an overflowing update
    // shows only in the next batch's loss): checked once per epoch, before
    // anything of this epoch is saved.
    for (const auto& p : params) {
      if (!at::isfinite(p.tensor).all().item<bool>()) {
        throw std::runtime_error("epoch " + std::to_string(epoch) + " (after batch " +
                                 std::to_string(batches) + "): parameter " + p.name +
                                 " is not finite although every batch loss was; stopping (" +
                                 last_good() + ")");
      }
    }
    const double train_seconds = now_seconds() - t0;
    epoch_times.push_back(train_seconds);
    const double mean_loss = loss_sum / static_cast<double>(std::max<int64_t>(batches, 1));
    progress.epoch_done(epoch, cfg.epochs, mean_loss, train_seconds);

    if (epoch % cfg.eval_every == 0 || epoch == cfg.epochs) {
      const double te = now_seconds();
      phase.emplace("gnnrec::train::evaluate");
      // Under --protocol ctr, the eval records pick the best epoch and the
      // test records are reported ("metrics"); otherwise the test split does both.
      const EvalResult r = cfg.ctr() ? evaluate_ctr(*model, data.ctr->test)
                                     : evaluate_model(*model, *evaluator, cfg.rating_mode());
      std::optional<EvalResult> valid;
      if (cfg.ctr()) valid = evaluate_ctr(*model, data.ctr->eval);
      fault::reached("eval");
      phase.reset();
      const double eval_seconds = now_seconds() - te;
      eval_seconds_total += eval_seconds;
      ++evaluations;
      const bool improved =
          stop.update(epoch, (valid ? *valid : r).metrics.at(cfg.early_stop_metric));
      if (improved) best_metrics = metrics_json(r);
      if (improved && valid) best_valid = metrics_json(*valid);
      json line{{"epoch", epoch},
                {"loss", mean_loss},
                {"train_seconds", train_seconds},
                {"eval_seconds", eval_seconds},
                {"metrics", metrics_json(r)}};
      if (valid) line["valid"] = metrics_json(*valid);
      append_line_durable(metrics_path, line.dump());
      progress.line("  eval epoch " + std::to_string(epoch) + ": " +
                    (valid ? "valid " + format_metrics(valid->metrics, cfg.topk) + "  test " : "") +
                    format_metrics(r.metrics, cfg.topk) + (improved ? "  *" : ""));
      if (improved) save("best.ckpt");
      if (stop.should_stop()) {
        stopped_early = true;
        progress.line("early stop: " + cfg.early_stop_metric + " did not improve for " +
                      std::to_string(stop.bad_evals) + " evaluations");
      }
    }
    save("last.ckpt");
  }

  double mean_epoch = 0;
  for (double t : epoch_times) mean_epoch += t;
  if (!epoch_times.empty()) mean_epoch /= static_cast<double>(epoch_times.size());
  json summary{
      {"model", cfg.model},
      {"dataset", cfg.dataset},
      {"best_epoch", stop.best_epoch},
      {"best", best_metrics},
      {"early_stop_metric", cfg.early_stop_metric},
      {"loss", cfg.loss},
      {"baseline", baseline.name},
      {baseline.name, metrics_json(baseline.result)},
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
      {"test_users",
       evaluator ? static_cast<int64_t>(evaluator->test_users().size()) : static_cast<int64_t>(0)},
      {"protocol",
       cfg.ctr()
           ? std::string("ctr (KGCN, WWW 2019): every interaction a positive record, as many "
                         "negatives per user drawn from the items it never interacted with, "
                         "records split 6:2:2 into train/eval/test at random; trained with the "
                         "log loss; auc over all test records, acc and f1 at sigmoid >= 0.5; "
                         "the best epoch by the eval records' ") +
                 cfg.early_stop_metric
           : std::string("full ranking over all items with each user's training items masked; "
                         "metrics averaged over users with at least one test item") +
                 (cfg.rating_mode() ? "; rmse and mae over every test rating" : "")}};
  if (cfg.ctr()) {
    summary["best_valid"] = best_valid;
    summary["ctr_records"] = {{"train", data.ctr->train.size()},
                              {"eval", data.ctr->eval.size()},
                              {"test", data.ctr->test.size()}};
  }
  if (cfg.cold_fraction > 0) {
    summary["cold_users"] = static_cast<int64_t>(cold_users.size());
    summary["cold_max_train_degree"] =
        cold_users.empty() ? int64_t{0} : data.train->user_degree(cold_users.back());
  }
  write_file_atomic((run / "summary.json").string(), summary.dump(2) + "\n");
  return summary;
}

LoadedRun load_run(const std::string& run_dir, const std::string& which) {
  const fs::path run(run_dir);
  LoadedRun out;
  out.config = read_run_config((run / "config.json").string());
  const std::string ckpt_path = (run / "checkpoints" / (which + ".ckpt")).string();
  const Checkpoint c = load_checkpoint(ckpt_path);
  if (out.config.threads > 0) at::set_num_threads(out.config.threads);
  out.data = prepare_data(out.config);
  out.graph = std::make_unique<PropagationGraph>(out.data.train, out.data.side);
  out.model = make_model(out.config.model, model_options(out.config), *out.graph,
                         parse_device(out.config.device));
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
