#include "train/config.h"

#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "train/metrics.h"

namespace gnnrec {
namespace {

[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument(msg); }

std::string str(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

void check_probability(const char* option, const std::optional<double>& p) {
  if (p && !(*p >= 0 && *p < 1)) bad(std::string(option) + " must be in [0, 1), got " + str(*p));
}

// Optional fields are null in JSON when unset.
template <typename T>
nlohmann::json optional_json(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
template <typename T>
std::optional<T> optional_from(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  return j.at(key).get<T>();
}

}  // namespace

TrainConfig TrainConfig::resolved() const {
  TrainConfig c = *this;
  if (c.early_stop_metric.empty()) {
    c.early_stop_metric = ctr() ? "auc" : rating_mode() ? "rmse" : "recall@20";
  }
  return c;
}

void TrainConfig::validate() const {
  if (!(lr > 0) || !std::isfinite(lr)) bad("--lr must be a positive number, got " + str(lr));
  if (!(reg >= 0) || !std::isfinite(reg)) bad("--reg must be >= 0, got " + str(reg));
  if (reg_scope != "batch" && reg_scope != "full") {
    bad("--reg-scope must be batch or full, got '" + reg_scope + "'");
  }
  if (dim < 1) bad("--dim must be at least 1, got " + std::to_string(dim));
  if (layers < 0) bad("--layers must be >= 0, got " + std::to_string(layers));
  if (epochs < 1) bad("--epochs must be at least 1, got " + std::to_string(epochs));
  if (batch_size < 1) bad("--batch-size must be at least 1, got " + std::to_string(batch_size));
  if (eval_every < 1) bad("--eval-every must be at least 1, got " + std::to_string(eval_every));
  if (patience < 0) bad("--patience must be >= 0, got " + std::to_string(patience));
  if (!(train_ratio > 0 && train_ratio < 1)) bad("--train-ratio must be in (0, 1), got " + str(train_ratio));
  if (threads < 0) bad("--threads must be >= 0, got " + std::to_string(threads));
  if (kcore < 0) bad("--kcore must be >= 0, got " + std::to_string(kcore));
  if (synthetic_users < 2 || synthetic_items < 10) bad("--synthetic-users must be >= 2 and --synthetic-items >= 10");
  if (loss != "bpr" && loss != "bce" && loss != "mse") {
    bad("--loss must be bpr, bce or mse, got '" + loss + "'");
  }
  if (negatives < 1) bad("--negatives must be at least 1, got " + std::to_string(negatives));
  if (protocol != "ranking" && protocol != "ctr") {
    bad("--protocol must be ranking or ctr, got '" + protocol + "'");
  }
  if (ctr() && loss != "bce") {
    // The records carry their own negatives and labels: the only loss that
    // fits them is the log loss, and --negatives does not apply.
    bad("--protocol ctr trains on labelled records with the log loss: pass --loss bce (got '" +
        loss + "')");
  }
  if (rating_mode() && min_rating > 0) {
    // Filtering by rating turns ratings into implicit feedback; in rating
    // mode every rating is a target, and dropping the low ones would bias them.
    bad("--min-rating (" + str(min_rating) + ") turns ratings into implicit feedback; it cannot "
        "be combined with --loss mse, which trains on every rating");
  }
  check_probability("--dropout", dropout);
  check_probability("--node-dropout", node_dropout);
  check_probability("--message-dropout", message_dropout);
  check_probability("--attention-dropout", attention_dropout);
  if (heads && *heads < 1) bad("--heads must be at least 1, got " + std::to_string(*heads));
  // The last hop samples batch_size × Π fanouts neighbours per seed list:
  // past 2^31 of them, a batch could not be held (and int64 products could
  // overflow), so a huge fanout is an error here rather than a failed
  // allocation mid-epoch.
  double sampled = static_cast<double>(batch_size);
  std::string joined;
  for (int64_t f : fanouts) {
    if (f < 1) bad("--fanouts must all be > 0, got " + std::to_string(f));
    sampled *= static_cast<double>(f);
    joined += (joined.empty() ? "" : ",") + std::to_string(f);
  }
  if (sampled > 2147483648.0) {
    bad("--fanouts " + joined + " with --batch-size " + std::to_string(batch_size) +
        " would sample more than 2^31 neighbours per batch; lower either");
  }
  if (device != "cpu" && device.rfind("cuda", 0) != 0) bad("--device must be 'cpu' or 'cuda[:N]', got '" + device + "'");
  if (!(cold_fraction >= 0 && cold_fraction <= 1)) {
    bad("--cold-fraction must be in [0, 1], got " + str(cold_fraction));
  }
  if (ctr() && cold_fraction > 0) {
    bad("--cold-fraction reports ranking metrics of cold users; --protocol ctr has no ranking "
        "evaluation");
  }
  if (topk.empty()) bad("--topk needs at least one K");
  // The early-stopping metric must be one that evaluation computes.
  const std::string metric = resolved().early_stop_metric;
  if (ctr()) {
    for (const std::string& m : ctr_metric_names()) {
      if (metric == m) return;
    }
    bad("--early-stop-metric '" + metric +
        "' is not a metric of --protocol ctr (auc, acc, f1, "
        "logloss, on the eval records)");
  }
  if (metric == "acc" || metric == "f1" || metric == "logloss") {
    bad("--early-stop-metric '" + metric + "' is computed only under --protocol ctr");
  }
  bool found = metric == "auc" || (rating_mode() && (metric == "rmse" || metric == "mae"));
  for (int k : topk) {
    if (k < 1) bad("--topk values must be positive, got " + std::to_string(k));
    for (const std::string& m : per_k_metric_names()) {
      if (metric == m + "@" + std::to_string(k)) found = true;
    }
  }
  if (!found) {
    bad("--early-stop-metric '" + metric + "' is not one of the computed metrics (recall|ndcg|"
        "precision|hit|mrr|map|coverage @ a --topk value, auc, and rmse|mae with --loss mse)");
  }
}

void to_json(nlohmann::json& j, const TrainConfig& c) {
  j = nlohmann::json{
      {"model", c.model},
      {"dataset", c.dataset},
      {"out", c.out},
      {"protocol", c.protocol},
      {"split", c.split},
      {"train_ratio", c.train_ratio},
      {"min_rating", c.min_rating},
      {"kcore", c.kcore},
      {"side_info", c.side_info},
      {"synthetic_users", c.synthetic_users},
      {"synthetic_items", c.synthetic_items},
      {"dim", c.dim},
      {"layers", c.layers},
      {"dropout", optional_json(c.dropout)},
      {"node_dropout", optional_json(c.node_dropout)},
      {"message_dropout", optional_json(c.message_dropout)},
      {"attention_dropout", optional_json(c.attention_dropout)},
      {"heads", optional_json(c.heads)},
      {"aggregator", optional_json(c.aggregator)},
      {"fanouts", c.fanouts.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.fanouts)},
      {"loss", c.loss},
      {"negatives", c.negatives},
      {"epochs", c.epochs},
      {"batch_size", c.batch_size},
      {"lr", c.lr},
      {"reg", c.reg},
      {"reg_scope", c.reg_scope},
      {"seed", c.seed},
      {"eval_every", c.eval_every},
      {"topk", c.topk},
      {"cold_fraction", c.cold_fraction},
      {"early_stop_metric", c.early_stop_metric},
      {"patience", c.patience},
      {"device", c.device},
      {"threads", c.threads},
      {"deterministic", c.deterministic}};
}

void from_json(const nlohmann::json& j, TrainConfig& c) {
  TrainConfig d;  // missing keys keep their defaults
  c.model = j.value("model", d.model);
  c.dataset = j.value("dataset", d.dataset);
  c.out = j.value("out", d.out);
  c.protocol = j.value("protocol", d.protocol);
  c.split = j.value("split", d.split);
  c.train_ratio = j.value("train_ratio", d.train_ratio);
  c.min_rating = j.value("min_rating", d.min_rating);
  c.kcore = j.value("kcore", d.kcore);
  c.side_info = j.value("side_info", d.side_info);
  c.synthetic_users = j.value("synthetic_users", d.synthetic_users);
  c.synthetic_items = j.value("synthetic_items", d.synthetic_items);
  c.dim = j.value("dim", d.dim);
  c.layers = j.value("layers", d.layers);
  c.dropout = optional_from<double>(j, "dropout");
  c.node_dropout = optional_from<double>(j, "node_dropout");
  c.message_dropout = optional_from<double>(j, "message_dropout");
  c.attention_dropout = optional_from<double>(j, "attention_dropout");
  c.heads = optional_from<int64_t>(j, "heads");
  c.aggregator = optional_from<std::string>(j, "aggregator");
  c.fanouts = optional_from<std::vector<int64_t>>(j, "fanouts").value_or(d.fanouts);
  c.loss = j.value("loss", d.loss);
  c.negatives = j.value("negatives", d.negatives);
  c.epochs = j.value("epochs", d.epochs);
  c.batch_size = j.value("batch_size", d.batch_size);
  c.lr = j.value("lr", d.lr);
  c.reg = j.value("reg", d.reg);
  c.reg_scope = j.value("reg_scope", d.reg_scope);
  c.seed = j.value("seed", d.seed);
  c.eval_every = j.value("eval_every", d.eval_every);
  c.topk = j.value("topk", d.topk);
  c.cold_fraction = j.value("cold_fraction", d.cold_fraction);
  c.early_stop_metric = j.value("early_stop_metric", d.early_stop_metric);
  c.patience = j.value("patience", d.patience);
  c.device = j.value("device", d.device);
  c.threads = j.value("threads", d.threads);
  c.deterministic = j.value("deterministic", d.deterministic);
}

namespace {

// nlohmann's what() without its "[json.exception.parse_error.101] " tag.
std::string json_message(const nlohmann::json::exception& e) {
  const std::string w = e.what();
  const size_t tag = w.find("] ");
  return tag == std::string::npos ? w : w.substr(tag + 2);
}

}  // namespace

TrainConfig read_run_config(const std::string& path) {
  const std::string text = read_file(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::invalid_argument(path + ": not valid JSON: " + json_message(e));
  }
  if (!j.is_object()) throw std::invalid_argument(path + ": expected a JSON object of options");
  try {
    return j.get<TrainConfig>();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(path + ": a value has the wrong type: " + json_message(e));
  }
}

TrainConfig resumed_config(const std::string& path, const TrainConfig& asked,
                           const std::vector<std::string>& given, const std::string& prefix,
                           const std::function<std::string(const std::string&)>& name) {
  TrainConfig cfg = read_run_config(path);
  const nlohmann::json asked_json = asked.resolved(), run_json = cfg.resolved();
  bool epochs_given = false;
  for (const std::string& key : given) {
    if (key == "epochs") epochs_given = true;
    if (key == "out" || key == "epochs" || !asked_json.contains(key) || !run_json.contains(key) ||
        asked_json.at(key) == run_json.at(key)) {
      continue;
    }
    throw std::invalid_argument(prefix + ": " + name(key) + " is " + asked_json.at(key).dump() +
                                " here but " + run_json.at(key).dump() + " in " + path +
                                " (a resumed run keeps its configuration; only " + name("epochs") +
                                " may change)");
  }
  cfg.out = asked.out;
  if (epochs_given) cfg.epochs = asked.epochs;
  return cfg;
}

}  // namespace gnnrec
