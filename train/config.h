// The fully resolved training configuration: what the CLI flags, a config
// file, gnnrec.train's keys and the defaults resolve to, written as
// RUN_DIR/config.json. Every option is one row of the table in
// train/config_fields.h, from which the flags, --help, the JSON keys, the
// range checks and the resume check all come.
#pragma once

#include <cstdint>
#include <functional>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "samplers/pair_sampler.h"

namespace gnnrec {

// Evaluation protocol: full ranking of a train/test split of the
// interactions, or KGCN's CTR protocol (graph/ctr_split.h: labelled records
// with sampled negatives split 6:2:2 into train, eval and test; trained with
// --loss bce on the records, evaluated by AUC, accuracy, F1 and log loss;
// the eval records pick the best epoch).
enum class Protocol { kRanking, kCtr };
// Training loss (train/loss.h): bpr, bce (implicit feedback) or mse (rating mode).
enum class Loss { kBpr, kBce, kMse };
// What --reg weighs: kBatch, ½‖·‖² of the batch's layer-0 (ego) rows
// divided by the batch size (LightGCN's and NGCF's code); kFull, ½‖p‖² of
// every parameter tensor whole, once per batch (KGCN's code).
enum class RegScope { kBatch, kFull };
// --eval: full ranking only, or also NCF's sampled-negatives protocol
// (train/sampled_evaluation.h) beside it.
enum class EvalMode { kFull, kSampled };

// Which pairs an epoch trains on (samplers/pair_sampler.h): every training
// interaction once, shuffled, or per-user draws as LightGCN's code does.
using Sampling = PairSampling;

// cpu, cuda or cuda:N.
struct DeviceSpec {
  enum class Kind { kCpu, kCuda } kind = Kind::kCpu;
  int index = -1;  // cuda:N; -1: the current device
  std::string str() const;
  bool operator==(const DeviceSpec& o) const { return kind == o.kind && index == o.index; }
};

// The names an enum's values have in flags, config files and config.json.
template <typename E>
struct EnumNames;
template <>
struct EnumNames<Protocol> {
  static constexpr std::pair<Protocol, const char*> values[] = {{Protocol::kRanking, "ranking"},
                                                                {Protocol::kCtr, "ctr"}};
};
template <>
struct EnumNames<Loss> {
  static constexpr std::pair<Loss, const char*> values[] = {
      {Loss::kBpr, "bpr"}, {Loss::kBce, "bce"}, {Loss::kMse, "mse"}};
};
template <>
struct EnumNames<Sampling> {
  static constexpr std::pair<Sampling, const char*> values[] = {
      {Sampling::kPerInteraction, "per-interaction"}, {Sampling::kPerUser, "per-user"}};
};
template <>
struct EnumNames<RegScope> {
  static constexpr std::pair<RegScope, const char*> values[] = {{RegScope::kBatch, "batch"},
                                                                {RegScope::kFull, "full"}};
};

template <>
struct EnumNames<EvalMode> {
  static constexpr std::pair<EvalMode, const char*> values[] = {{EvalMode::kFull, "full"},
                                                                {EvalMode::kSampled, "sampled"}};
};

template <typename E>
const char* name_of(E value) {
  for (const auto& [v, name] : EnumNames<E>::values) {
    if (v == value) return name;
  }
  return "?";
}
// "bpr, bce or mse"
template <typename E>
std::string enum_choices() {
  std::string s;
  const size_t n = std::size(EnumNames<E>::values);
  for (size_t k = 0; k < n; ++k) {
    s += (k == 0 ? "" : k + 1 == n ? " or " : ", ") + std::string(EnumNames<E>::values[k].second);
  }
  return s;
}
// Throws std::invalid_argument "<option> must be bpr, bce or mse, got 'x'".
template <typename E>
E parse_enum(const std::string& option, const std::string& text) {
  for (const auto& [v, name] : EnumNames<E>::values) {
    if (text == name) return v;
  }
  throw std::invalid_argument(option + " must be " + enum_choices<E>() + ", got '" + text + "'");
}
// Throws std::invalid_argument "<option> must be 'cpu' or 'cuda[:N]', got 'x'".
DeviceSpec parse_device_spec(const std::string& option, const std::string& text);

// The members are the table's fields (train/config_fields.h holds their
// keys, help, ranges and defaults' meaning); the defaults are here.
// The optimisation defaults of a model that registers none of its own
// (models/model.h: ModelDefaults).
inline constexpr int64_t kDefaultBatchSize = 2048;
inline constexpr double kDefaultLr = 1e-3;
inline constexpr double kDefaultReg = 1e-4;

struct TrainConfig {
  // What to train on what.
  std::string model = "lightgcn";
  std::string dataset = "synthetic";  // a directory, or "synthetic"
  std::string out;                    // run directory
  Protocol protocol = Protocol::kRanking;
  // Data preparation (applied in this order: min_rating, kcore, split).
  std::string split = "per-user";  // used when the data set ships no split (ranking)
  double train_ratio = 0.8;
  double min_rating = 0;  // 0: keep every interaction
  int kcore = 0;
  bool side_info = true;
  int64_t synthetic_users = 3000;
  int64_t synthetic_items = 2000;
  // Model. An unset optional (null in config.json) is the model's paper
  // default (models/model.h: the defaults each model registers).
  int64_t dim = 64;
  int64_t layers = 3;
  std::optional<double> dropout;
  std::optional<double> node_dropout;
  std::optional<double> message_dropout;
  std::optional<double> attention_dropout;
  std::optional<int64_t> heads;
  std::optional<std::string> aggregator;
  std::vector<int64_t> fanouts;  // empty (null in config.json): the model's default
  std::optional<int64_t> svd_rank;
  std::optional<double> ideal_weight;
  std::optional<double> sharpen_time;
  std::optional<int64_t> sharpen_steps;
  std::optional<std::string> sharpen_solver;
  std::optional<double> noise_eps;
  std::optional<double> cl_weight;
  std::optional<double> cl_temperature;
  std::optional<int64_t> cl_layer;
  std::optional<int64_t> negative_ratio;
  std::optional<int64_t> negative_share;
  std::optional<double> negative_weight;
  std::optional<int64_t> ii_neighbors;
  std::optional<double> ii_weight;
  std::vector<int64_t> hidden;  // empty (null in config.json): the model's default
  std::string pretrain;         // neumf: "GMF_RUN,MLP_RUN"; empty: none
  std::optional<int64_t> knn_neighbors;
  std::optional<double> shrink;
  std::optional<int64_t> vae_hidden;
  std::optional<int64_t> vae_latent;
  std::optional<double> anneal_cap;
  std::optional<int64_t> anneal_steps;
  // Optimisation.
  Loss loss = Loss::kBpr;
  int64_t negatives = 4;
  Sampling sampling = Sampling::kPerInteraction;
  int64_t epochs = 100;
  // Unset: the model's registered default (gru4rec: batch 50, no L2), else
  // kDefaultBatchSize, kDefaultLr, kDefaultReg; resolved() fills them, and
  // whatever trains reads them from a resolved configuration.
  std::optional<int64_t> batch_size;
  std::optional<double> lr;
  std::optional<double> reg;
  RegScope reg_scope = RegScope::kBatch;
  uint64_t seed = 2020;
  // Evaluation and stopping.
  int64_t eval_every = 5;
  bool eval_initial = false;  // also evaluate the untrained model, as epoch 0
  std::vector<int> topk{10, 20};
  double cold_fraction = 0;
  std::string early_stop_metric;  // empty: resolved() picks the protocol's
  int64_t patience = 10;
  // Execution.
  DeviceSpec device;
  int threads = 0;  // 0: all cores
  bool deterministic = false;
  // Sampled evaluation.
  EvalMode eval = EvalMode::kFull;
  int64_t eval_negatives = 99;
  // Per-group metrics: a side attribute of the users ("" for none).
  std::string group_by;
  bool shard_embeddings = false;  // user/item tables split across the ranks (train/sharded.h)
  double dist_timeout = 300;  // seconds a collective of a distributed run may wait

  // Rating mode: explicit ratings are the training targets (--loss mse).
  bool rating_mode() const { return loss == Loss::kMse; }
  bool ctr() const { return protocol == Protocol::kCtr; }
  // A copy with the defaults that depend on other options filled in
  // (batch_size, lr and reg: the model's registered defaults or the
  // general ones; early_stop_metric: rmse with --loss mse, auc with --protocol ctr,
  // recall@20 otherwise) and the data set folder made absolute (against
  // the working directory), as config.json records them.
  TrainConfig resolved() const;
  // Checks every field's range (config_fields.h) and the rules between
  // fields; throws std::invalid_argument naming the option ("--lr must be
  // > 0, got -1").
  void validate() const;
};

// The key of config.json under which a run records its inputs (train/data.h:
// DataRecord); from_json skips it.
inline constexpr const char* kDataRecordKey = "data";

// config.json: every field under its key. from_json takes missing keys as
// their defaults; an unknown key, or a value of the wrong type or out of
// its enum, throws std::invalid_argument naming the key.
void to_json(nlohmann::json& j, const TrainConfig& c);
void from_json(const nlohmann::json& j, TrainConfig& c);

// A run directory's config.json (written by the trainer). A file that is
// not JSON, or whose values have the wrong types, throws
// std::invalid_argument naming the file ("RUN/config.json: not valid JSON:
// ... at line 2, column 1: ..."), not the parser's bare message.
TrainConfig read_run_config(const std::string& path);

// The configuration of the run whose config.json is `path`, to resume it:
// its own options, with out and (when "epochs" is among `given`) epochs
// from `asked`. `given` lists the configuration keys ("lr", ...) the caller
// set; one that disagrees with the run's (defaults resolved on both sides)
// throws std::invalid_argument, "<prefix>: <name(key)> is 0.5 here but
// 0.001 in PATH (... only <name("epochs")> may change)", rather than being
// ignored. Shared by `gnnrec train --resume` (names as flags) and
// gnnrec.train(resume=True) (names as keys).
TrainConfig resumed_config(const std::string& path, const TrainConfig& asked,
                           const std::vector<std::string>& given, const std::string& prefix,
                           const std::function<std::string(const std::string&)>& name);

}  // namespace gnnrec
