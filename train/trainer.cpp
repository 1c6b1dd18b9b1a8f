#include "train/trainer.h"

#include <malloc.h>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "base/nvtx.h"
#include "models/ncf.h"
#include "train/adam.h"
#include "train/distributed.h"
#include "train/epoch.h"
#include "train/fault_injection.h"
#include "train/loss.h"
#include "train/progress.h"
#include "train/run_dir.h"
#include "train/sharded.h"
#include "train/summary.h"
#include "train/train_state.h"

namespace gnnrec {
using nlohmann::json;

namespace {

at::Device parse_device(const DeviceSpec& spec) {
  if (spec.kind == DeviceSpec::Kind::kCpu) return at::Device(at::kCPU);
  if (!at::hasCUDA()) {
    throw std::invalid_argument("--device " + spec.str() +
                                ": no CUDA device is available on this machine");
  }
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(spec.index));
}

// Freed [N, d] buffers stay in the process for the next batch. glibc
// returns a freed block past its trim threshold to the system, so every
// batch faulted its temporaries in again, zeroed by the kernel (12 % of a
// Gowalla LightGCN epoch in page faults and their bookkeeping). Blocks up
// to 32 MB (glibc's largest mmap threshold) come from the heap, and up to
// 1 GB of free heap is kept.
void keep_freed_buffers() {
  static const bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
  }();
  (void)done;
}

// Under torchrun (WORLD_SIZE set), this process's place in the process
// group, joined; null for a run of one process.
std::unique_ptr<Distributed> join_process_group(const TrainConfig& cfg) {
  const std::optional<DistEnv> env = DistEnv::from_environment();
  if (!env) return nullptr;
  const at::Device device =
      cfg.device.kind == DeviceSpec::Kind::kCpu
          ? at::Device(at::kCPU)
          : at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(env->local_rank));
  return std::make_unique<Distributed>(*env, device, cfg.dist_timeout);
}

// The process-wide execution settings of a run: the fault hook (tests),
// threads, deterministic algorithms, memory reuse; returns the device
// (cuda:LOCAL_RANK for a distributed run on CUDA).
at::Device set_up_execution(const TrainConfig& cfg, const Distributed* dist) {
  fault::install_from_env();
  keep_freed_buffers();
  if (cfg.threads > 0) at::set_num_threads(cfg.threads);
  // --deterministic: ATen ops whose CUDA implementation adds with atomics
  // (index_select's backward, index_add_) switch to their deterministic
  // (sorting) implementation, and an op that has none stops the run with
  // an error naming it. The CPU path is deterministic either way, and
  // gnnrec's operators use no floating-point atomics.
  if (cfg.deterministic) at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
  const at::Device device = parse_device(cfg.device);
  if (dist == nullptr || device.is_cpu()) return device;
  const auto env = DistEnv::from_environment();
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(env->local_rank));
}

PreparedData timed_prepare_data(const TrainConfig& cfg, double& seconds) {
  const double t0 = now_seconds();
  PreparedData data = prepare_data(cfg);
  seconds = now_seconds() - t0;
  return data;
}

// The line that says what the run trains on.
std::string data_line(const TrainConfig& cfg, const PreparedData& data, double load_seconds) {
  const std::string head = "data: " + data.dataset.name + " (" + data.dataset.format +
                           " format), " + std::to_string(data.train->num_users()) + " users, " +
                           std::to_string(data.train->num_items()) + " items, ";
  const std::string tail = " (" + std::to_string(load_seconds).substr(0, 5) + " s to load)";
  if (cfg.ctr()) {
    return head + "CTR records " + std::to_string(data.ctr->train.size()) + " train / " +
           std::to_string(data.ctr->eval.size()) + " eval / " +
           std::to_string(data.ctr->test.size()) + " test" + tail;
  }
  return head + std::to_string(data.train->num_edges()) + " train / " +
         std::to_string(data.test->num_edges()) + " test interactions" + tail;
}

// --pretrain GMF_RUN,MLP_RUN (neumf; TrainConfig::validate checked the
// form): the best checkpoints of the two runs, loaded into the model.
void load_pretrained_halves(const TrainConfig& cfg, Model& model) {
  if (cfg.pretrain.empty()) return;
  const size_t comma = cfg.pretrain.find(',');
  const auto tensors = [](const std::string& run, const std::string& model_name) {
    const std::filesystem::path dir(run);
    const std::string recorded = read_run_config((dir / "config.json").string()).model;
    if (recorded != model_name) {
      throw std::invalid_argument("--pretrain: " + run + " is a " + recorded + " run, not " +
                                  model_name);
    }
    return load_checkpoint((dir / "checkpoints" / "best.ckpt").string()).tensors;
  };
  const std::vector<NamedTensor> gmf = tensors(cfg.pretrain.substr(0, comma), "gmf");
  ncf::load_pretrained(model, gmf, tensors(cfg.pretrain.substr(comma + 1), "mlp"));
}

// One run of train(): its units, set up in the order that keeps RUN_DIR
// untouched until every input has been checked.
class TrainingRun {
 public:
  TrainingRun(const TrainConfig& cfg, const TrainOptions& opts)
      : cfg_(cfg), dist_(join_process_group(cfg_)),
        run_dir_(!dist_ || dist_->writes()
                     ? std::make_unique<RunDir>(cfg_.out, opts.resume, opts.overwrite)
                     : nullptr),
        resume_(opts.resume), device_(set_up_execution(cfg_, dist_.get())),
        data_(timed_prepare_data(cfg_, times_.load_seconds)), graph_(data_.train, data_.side),
        model_(make_model(cfg_.model, model_options(cfg_), graph_, device_)),
        evaluation_(cfg_, data_), params_(model_->parameters()),
        adam_(trainable_tensors(params_), cfg_.lr.value()),
        progress_(opts.quiet || run_dir_ == nullptr) {
    state_.stop = EarlyStopping{cfg_.early_stop_metric, cfg_.patience};
    if (dist_) {
      evaluation_.split_users(
          dist_->share(evaluation_.test_users()),
          [this](std::vector<at::Tensor>& t) { dist_->sum(t, "the rankings"); });
    }
    if (!model_->has_pair_scores() && (cfg_.rating_mode() || cfg_.ctr())) {
      throw std::invalid_argument("--model " + cfg_.model +
                                  " ranks whole rows of items: it has no pair scores for --loss "
                                  "mse or --protocol ctr");
    }
    if (model_->has_own_loss() || model_->own_batches()) {
      Objective(cfg_, *model_);  // throws on a loss it does not take
    }
    // A resumed run restores its own checkpoint instead; rank 0's parameters
    // reach the other ranks of a distributed run when training starts.
    if (run_dir_ && !run_dir_->resumes_from_checkpoint()) load_pretrained_halves(cfg_, *model_);
    if (model_->closed_form() && cfg_.eval_initial) {
      throw std::invalid_argument("--eval-initial: --model " + cfg_.model +
                                  " is training-free (fitted once): it has no untrained model "
                                  "to evaluate");
    }
    if (resume_ && run_dir_) {
      // A resumed run must continue on the data it started on.
      if (const auto recorded = read_data_record(run_dir_->file("config.json"))) {
        check_same_data(*recorded, data_.record, cfg_.dataset, "--resume " + cfg_.out);
      }
    }
  }

  json run() {
    start();
    const Baseline baseline = evaluation_.baseline();
    progress_.line(data_line(cfg_, data_, times_.load_seconds));
    for (const std::string& w : data_.warnings) progress_.warning(w);
    progress_.line(baseline.name + ": " + format_metrics(baseline.result.metrics, cfg_.topk));
    const bool stopped_early = model_->closed_form() ? fit_once() : train_epochs();
    json summary =
        make_summary(cfg_, data_, evaluation_, baseline, state_, stopped_early, times_, device_);
    if (model_->closed_form()) summary["loss"] = nullptr;  // trained by no loss
    summary["world_size"] = world_size();
    summary["backend"] = dist_ ? json(dist_->backend()) : json(nullptr);
    if (dist_) summary["gradient_bytes_per_step"] = dist_->gradient_bytes_per_step();
    if (sharded_) {
      summary["embedding_bytes_per_rank"] = sharded_->bytes_per_rank();
      summary["embedding_bytes_replicated"] = sharded_->bytes_replicated();
      if (!sharded_->halo_rows().empty()) summary["halo_rows_per_layer"] = sharded_->halo_rows();
    }
    if (!run_dir_) return summary;  // rank 0 writes the run
    run_dir_->write_json("summary.json", summary);
    run_dir_->finish();
    return summary;
  }

 private:
  // Trains the epochs (from the first not done) with early stopping; true
  // when it stopped early.
  bool train_epochs() {
    // After start(): the shards are cut from the state every rank now holds.
    if (cfg_.shard_embeddings) {
      // A graph model propagates over its partitioned training graph.
      sharded_ = std::make_unique<ShardedEmbeddings>(*model_, params_, adam_, cfg_.lr.value(),
                                                     dist_.get(), &graph_.graph());
      if (!sharded_->halo_rows().empty()) {
        std::string rows;
        for (int64_t h : sharded_->halo_rows())
          rows += (rows.empty() ? "" : ", ") + std::to_string(h);
        progress_.line("sharded " + cfg_.model + ": halo rows per layer, by rank: " + rows);
      }
    }
    EpochLoop loop(cfg_, data_, *model_, params_, adam_, progress_, device_, dist_.get(),
                   sharded_.get());
    const auto last_good = [this] {
      return run_dir_ ? run_dir_->last_good() : std::string("rank 0 keeps the checkpoints");
    };
    bool stopped_early = false;
    if (cfg_.eval_initial && state_.epoch == 0) evaluate(std::nullopt, 0.0, nullptr);
    while (state_.epoch < cfg_.epochs && !stopped_early) {
      ++state_.epoch;
      fault::set_epoch(state_.epoch);
      const double t0 = now_seconds();
      const double mean_loss = loop.run(state_.epoch, last_good);
      const double train_seconds = now_seconds() - t0;
      state_.epoch_times.push_back(train_seconds);
      progress_.epoch_done(state_.epoch, cfg_.epochs, mean_loss, train_seconds);
      if (state_.epoch % cfg_.eval_every == 0 || state_.epoch == cfg_.epochs) {
        stopped_early = evaluate(mean_loss, train_seconds, &loop);
      }
      save("last.ckpt");
    }
    return stopped_early;
  }

  // A training-free model (Model::closed_form): fit() once, as epoch 1
  // (--epochs does not apply), then one evaluation (loss null) and its
  // checkpoints. A resumed run that has fitted has nothing left to do.
  bool fit_once() {
    if (state_.epoch >= 1) return false;
    state_.epoch = 1;
    fault::set_epoch(1);
    const double t0 = now_seconds();
    const std::string what = model_->fit();
    const double seconds = now_seconds() - t0;
    state_.epoch_times.push_back(seconds);
    progress_.line(model_->name() + " (training-free) fitted in " +
                   std::to_string(seconds).substr(0, 6) + " s" + (what.empty() ? "" : ": " + what));
    evaluate(std::nullopt, seconds, nullptr);
    save("last.ckpt");
    return false;
  }

  // Writes the run's configuration (and CTR records) and, on --resume,
  // restores the state of the last checkpoint; a distributed run then
  // copies rank 0's state to every rank.
  void start() {
    std::optional<Checkpoint> last;
    int64_t trained_world = 0;  // the world size of the run resumed; 0: none
    if (run_dir_ && run_dir_->resumes_from_checkpoint()) {
      last = run_dir_->load_last();
      const int64_t done = last->meta.at("epoch");
      if (cfg_.epochs < done) {
        throw std::invalid_argument("--epochs " + std::to_string(cfg_.epochs) +
                                    " is fewer than the " + std::to_string(done) + " epochs " +
                                    cfg_.out +
                                    " has trained; a resumed run can only train further");
      }
      trained_world = last->meta.value("world_size", int64_t{1});
    }
    check_world_size(trained_world);
    if (!run_dir_) return sync_state();
    json config = cfg_;
    config[kDataRecordKey] = data_.record;
    run_dir_->prepare(config);
    if (cfg_.ctr()) write_ctr_records(run_dir_->file("ctr_records.tsv"), data_);
    if (resume_ && !last) {
      run_dir_->truncate_metrics(-1);  // epoch 0 (--eval-initial) too: it is evaluated again
      progress_.line("resuming " + cfg_.out + ": no checkpoint yet, starting from epoch 1");
    }
    if (last) {
      restore_checkpoint(*last, run_dir_->checkpoint("last.ckpt"), state_, params_, adam_);
      run_dir_->truncate_metrics(state_.epoch);
      progress_.line("resuming " + cfg_.out + " after epoch " + std::to_string(state_.epoch));
    }
    sync_state();
  }

  int64_t world_size() const { return dist_ ? dist_->world_size() : 1; }

  // A checkpoint resumes only with the world size that wrote it (rank 0
  // reads it and tells the others): every rank throws the same line.
  void check_world_size(int64_t trained_world) {
    if (dist_) {
      const at::Tensor t = at::tensor({trained_world}, at::kLong).to(device_);
      dist_->broadcast({t}, "the world size of " + cfg_.out);
      trained_world = t.item<int64_t>();
    }
    if (trained_world == 0 || trained_world == world_size()) return;
    throw std::invalid_argument("--resume " + cfg_.out + ": its checkpoint was trained by " +
                                std::to_string(trained_world) + " process(es) but this run has " +
                                std::to_string(world_size()) +
                                " (WORLD_SIZE); resume with the world size that trained it");
  }

  // Rank 0's epoch, Adam step count, parameters and Adam moments to every
  // rank (after rank 0's resume), so that all start equal.
  void sync_state() {
    if (!dist_) return;
    const at::Tensor counts = at::tensor({state_.epoch, adam_.steps()}, at::kLong).to(device_);
    dist_->broadcast({counts}, "the state of rank 0");
    state_.epoch = counts[0].item<int64_t>();
    adam_.set_steps(counts[1].item<int64_t>());
    std::vector<at::Tensor> tensors;
    for (const auto& p : params_) tensors.push_back(p.tensor.detach());
    for (const auto& m : adam_.exp_avg()) tensors.push_back(m);
    for (const auto& v : adam_.exp_avg_sq()) tensors.push_back(v);
    dist_->broadcast(tensors, "the parameters of rank 0");
  }

  // Whether to stop after this evaluation: rank 0's decision, on every rank.
  bool agreed(bool stop) const {
    if (!dist_) return stop;
    const at::Tensor t = at::tensor({int64_t{stop}}, at::kLong).to(device_);
    dist_->broadcast({t}, "the early-stopping decision of rank 0");
    return t.item<int64_t>() != 0;
  }

  // Evaluates the epoch just trained, appends its metrics.jsonl line (loss
  // null for a training-free model and for epoch 0, the untrained model of
  // --eval-initial, which is never the best) and saves best.ckpt when it is
  // the best; true when training should stop.
  bool evaluate(std::optional<double> mean_loss, double train_seconds, const EpochLoop* loop) {
    const int64_t epoch = state_.epoch;
    const double te = now_seconds();
    std::optional<NvtxRange> phase;
    phase.emplace("gnnrec::train::evaluate");
    const EpochEvaluation e = evaluation_.evaluate(*model_);
    fault::reached("eval");
    phase.reset();
    const double eval_seconds = now_seconds() - te;
    times_.eval_seconds_total += eval_seconds;
    ++times_.evaluations;
    const bool improved = epoch > 0 && state_.stop.update(epoch, e.value(cfg_.early_stop_metric));
    if (improved) state_.best_metrics = metrics_json(e.test);
    if (improved && e.valid) state_.best_valid = metrics_json(*e.valid);
    json line{{"epoch", epoch},
              {"loss", mean_loss ? json(*mean_loss) : json(nullptr)},
              {"train_seconds", train_seconds},
              {"train_seconds_total", total_train_seconds()},
              {"eval_seconds", eval_seconds}};
    // A training-free model's fit has no epoch loop (loop null): no phases.
    if (loop) {
      const PhaseTimes& p = loop->phases();
      line["phase_seconds"] = {
          {"sample", p.sample}, {"forward", p.forward}, {"backward", p.backward}, {"step", p.step}};
      if (dist_) line["phase_seconds"]["allreduce"] = p.allreduce;
      if (sharded_ && !sharded_->halo_rows().empty()) line["phase_seconds"]["halo"] = p.halo;
    }
    line["metrics"] = metrics_json(e.test);
    if (e.valid) line["valid"] = metrics_json(*e.valid);
    if (run_dir_) run_dir_->append_metrics(line);
    progress_.line(
        "  eval epoch " + std::to_string(epoch) + ": " +
        (e.valid ? "valid " + format_metrics(e.valid->metrics, cfg_.topk) + "  test " : "") +
        format_metrics(e.test.metrics, cfg_.topk) + (improved ? "  *" : ""));
    if (improved) save("best.ckpt");
    if (!agreed(state_.stop.should_stop())) return false;
    progress_.line("early stop: " + cfg_.early_stop_metric + " did not improve for " +
                   std::to_string(state_.stop.bad_evals) + " evaluations");
    return true;
  }

  // The training seconds of every epoch done, in this process or before a
  // --resume (the checkpoint keeps them); evaluation excluded.
  double total_train_seconds() const {
    double total = 0;
    for (double t : state_.epoch_times) total += t;
    return total;
  }

  void save(const std::string& which) {
    if (!run_dir_) return;
    Checkpoint c = make_checkpoint(state_, cfg_.model, params_, adam_);
    c.meta["world_size"] = world_size();
    run_dir_->save_checkpoint(which, c, state_.epoch);
  }

  const TrainConfig& cfg_;
  std::unique_ptr<Distributed> dist_;
  std::unique_ptr<RunDir> run_dir_;  // null on ranks other than 0
  bool resume_;
  at::Device device_;
  RunTimes times_;
  PreparedData data_;
  PropagationGraph graph_;
  std::unique_ptr<Model> model_;
  RunEvaluation evaluation_;
  std::vector<NamedTensor> params_;
  Adam adam_;
  std::unique_ptr<ShardedEmbeddings> sharded_;  // --shard-embeddings
  TrainingState state_;
  Progress progress_;
};

}  // namespace

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
  mo.svd_rank = cfg.svd_rank;
  mo.ideal_weight = cfg.ideal_weight;
  mo.sharpen_time = cfg.sharpen_time;
  mo.sharpen_steps = cfg.sharpen_steps;
  mo.sharpen_solver = cfg.sharpen_solver;
  mo.noise_eps = cfg.noise_eps;
  mo.cl_weight = cfg.cl_weight;
  mo.cl_temperature = cfg.cl_temperature;
  mo.cl_layer = cfg.cl_layer;
  mo.negative_ratio = cfg.negative_ratio;
  mo.negative_share = cfg.negative_share;
  mo.negative_weight = cfg.negative_weight;
  mo.ii_neighbors = cfg.ii_neighbors;
  mo.ii_weight = cfg.ii_weight;
  mo.hidden = cfg.hidden;
  mo.knn_neighbors = cfg.knn_neighbors;
  mo.shrink = cfg.shrink;
  mo.vae_hidden = cfg.vae_hidden;
  mo.vae_latent = cfg.vae_latent;
  mo.anneal_cap = cfg.anneal_cap;
  mo.anneal_steps = cfg.anneal_steps;
  return mo;
}

json train(const TrainConfig& config, const TrainOptions& opts) {
  const TrainConfig cfg = config.resolved();
  cfg.validate();
  return TrainingRun(cfg, opts).run();
}

LoadedRun load_run(const std::string& run_dir, const std::string& which, bool check_data) {
  const std::filesystem::path run(run_dir);
  LoadedRun out;
  const std::string config_path = (run / "config.json").string();
  out.config = read_run_config(config_path);
  const std::string ckpt_path = (run / "checkpoints" / (which + ".ckpt")).string();
  const Checkpoint c = load_checkpoint(ckpt_path);
  if (out.config.threads > 0) at::set_num_threads(out.config.threads);
  out.data = prepare_data(out.config);
  if (const auto recorded = read_data_record(config_path); recorded && check_data) {
    check_same_data(*recorded, out.data.record, out.config.dataset, run_dir);
  }
  out.graph = std::make_unique<PropagationGraph>(out.data.train, out.data.side);
  out.model = make_model(out.config.model, model_options(out.config), *out.graph,
                         parse_device(out.config.device));
  copy_named_tensors(c, out.model->parameters(), [&](const std::string& name) {
    return ckpt_path + ": does not match model " + out.config.model + " (parameter " + name + ")";
  });
  out.epoch = c.meta.at("epoch");
  return out;
}

}  // namespace gnnrec
