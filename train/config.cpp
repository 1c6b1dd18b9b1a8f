#include "train/config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "models/model.h"
#include "train/config_fields.h"
#include "train/metrics.h"
#include "train/sharded.h"

namespace gnnrec {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument(msg); }

std::string str(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// The type of TrainConfig's member that `member` points to.
template <typename Member>
using FieldType = std::remove_cv_t<std::remove_reference_t<decltype(TrainConfig{}.*Member{})>>;

std::string dashed(std::string key) {
  for (char& ch : key) {
    if (ch == '_') ch = '-';
  }
  return key;
}

// --- config.json values --------------------------------------------------

// An unset optional and an empty list (the model's default) are null.
template <typename T>
json to_value(const T& v) {
  if constexpr (IsOptionalField<T>::value) {
    return v ? to_value(*v) : json(nullptr);
  } else if constexpr (IsListField<T>::value) {
    return v.empty() ? json(nullptr) : json(v);
  } else if constexpr (std::is_enum_v<T>) {
    return name_of(v);
  } else if constexpr (std::is_same_v<T, DeviceSpec>) {
    return v.str();
  } else {
    return json(v);
  }
}

// A value as errors show it: JSON, but NaN and infinities (from Python) by name.
std::string shown(const json& j) {
  if (j.is_number_float() && !std::isfinite(j.get<double>())) {
    const double x = j.get<double>();
    return std::isnan(x) ? "nan" : x > 0 ? "inf" : "-inf";
  }
  return j.dump();
}

[[noreturn]] void wrong_type(const std::string& key, const char* expected, const json& j) {
  bad("a value has the wrong type: '" + key + "' must be " + expected + ", got " + shown(j));
}

// Whether the integer x lies in b's [ilo, ihi] (exactly, in any integer type).
template <typename T>
bool in_integer_bounds(const Bounds& b, T x) {
  if constexpr (std::is_unsigned_v<T>) {
    return b.ihi >= 0 && static_cast<uint64_t>(x) <= static_cast<uint64_t>(b.ihi) &&
           (b.ilo <= 0 || static_cast<uint64_t>(x) >= static_cast<uint64_t>(b.ilo));
  } else {
    return static_cast<int64_t>(x) >= b.ilo && static_cast<int64_t>(x) <= b.ihi;
  }
}

// An integer option's value: an integer in the row's range (which lies within
// the member's type). A number with a fraction is the wrong type; a whole one
// past int64 (JSON reads 10**30 and 2**64 as floating point) is out of range.
template <typename T>
T integer_value(const json& j, const FieldInfo& f) {
  const std::string key = f.key;
  const auto out_of_range = [&] {
    bad("'" + key + "' must be " + bounds_text(f.bounds) + ", got " + shown(j));
  };
  if (j.is_number_float()) {
    const double x = j.get<double>();
    if (std::isfinite(x) && std::trunc(x) == x && std::fabs(x) >= 9223372036854775808.0) {
      out_of_range();
    }
  }
  if (!j.is_number_integer()) wrong_type(key, "an integer", j);
  const bool fits = j.is_number_unsigned() ? in_integer_bounds(f.bounds, j.get<uint64_t>())
                                           : in_integer_bounds(f.bounds, j.get<int64_t>());
  if (!fits) out_of_range();
  return j.is_number_unsigned() ? static_cast<T>(j.get<uint64_t>())
                                : static_cast<T>(j.get<int64_t>());
}

template <typename T>
void from_value(const json& j, const FieldInfo& f, T& out) {
  const std::string key = f.key;
  if constexpr (IsOptionalField<T>::value) {
    if (j.is_null()) {
      out.reset();
      return;
    }
    typename T::value_type v{};
    from_value(j, f, v);
    out = std::move(v);
  } else if constexpr (IsListField<T>::value) {
    out.clear();
    if (j.is_null()) return;
    if (!j.is_array()) wrong_type(key, "a list of integers", j);
    for (const json& e : j) out.push_back(integer_value<typename T::value_type>(e, f));
  } else if constexpr (std::is_enum_v<T>) {
    if (!j.is_string()) wrong_type(key, "a string", j);
    out = parse_enum<T>("'" + key + "'", j.get<std::string>());
  } else if constexpr (std::is_same_v<T, DeviceSpec>) {
    if (!j.is_string()) wrong_type(key, "a string", j);
    out = parse_device_spec("'" + key + "'", j.get<std::string>());
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) wrong_type(key, "a string", j);
    out = j.get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) wrong_type(key, "true or false", j);
    out = j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    out = integer_value<T>(j, f);
  } else {
    static_assert(std::is_floating_point_v<T>);
    if (!j.is_number()) wrong_type(key, "a number", j);
    out = j.get<T>();
  }
}

// --- range checks --------------------------------------------------------

bool in_bounds(const Bounds& b, double x) {
  if (b.has_lo && !(b.lo_open ? x > b.lo : x >= b.lo)) return false;
  if (b.has_hi && !(b.hi_open ? x < b.hi : x <= b.hi)) return false;
  return true;
}

// "<name> must be in [0, 1), got 1"; in a list, "<name> must all be in [1,
// 1000000], got 0"; a NaN or infinity, "<name> must be a finite number > 0,
// got nan". `got` is the value as written.
void check_number(const FieldInfo& f, const std::string& name, bool in_range, bool finite,
                  const std::string& got, bool in_list) {
  const bool bounded = f.bounds.has_lo || f.bounds.has_hi;
  if (!finite) {
    bad(name + " must be a finite number" + (bounded ? " " + bounds_text(f.bounds) : "") +
        ", got " + got);
  }
  if (!in_range) {
    bad(name + (in_list ? " must all be " : " must be ") + bounds_text(f.bounds) + ", got " + got);
  }
}

template <typename T>
void check_number(const FieldInfo& f, T x, bool in_list) {
  const std::string flag = "--" + dashed(f.key);
  if constexpr (std::is_integral_v<T>) {
    // Integer rows have integer bounds (ConfigTable.EveryIntegerOptionHasAnExactRange).
    check_number(f, flag, in_integer_bounds(f.bounds, x), true, std::to_string(x), in_list);
  } else {
    check_number(f, flag, in_bounds(f.bounds, static_cast<double>(x)), std::isfinite(x),
                 str(static_cast<double>(x)), in_list);
  }
}

template <typename T>
void check_field(const FieldInfo& f, const T& v) {
  if constexpr (IsOptionalField<T>::value) {
    if (v) check_field(f, *v);
  } else if constexpr (IsListField<T>::value) {
    for (const auto& e : v) check_number(f, e, /*in_list=*/true);
  } else if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    check_number(f, v, /*in_list=*/false);
  }
}

}  // namespace

std::string bounds_text(const Bounds& b) {
  if (b.integral) return "in [" + std::to_string(b.ilo) + ", " + std::to_string(b.ihi) + "]";
  if (b.has_lo && b.has_hi) {
    return "in " + std::string(b.lo_open ? "(" : "[") + str(b.lo) + ", " + str(b.hi) +
           (b.hi_open ? ")" : "]");
  }
  if (b.has_hi) return (b.hi_open ? "< " : "<= ") + str(b.hi);
  if (b.lo_open) return "> " + str(b.lo);
  return b.lo == 0 ? ">= 0" : "at least " + str(b.lo);
}

int64_t parse_integer_text(const FieldInfo& f, const std::string& name, const std::string& text,
                           bool in_list) {
  const bool negative = !text.empty() && text[0] == '-';
  const size_t start = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (start == text.size() || text.find_first_not_of("0123456789", start) != std::string::npos) {
    bad(name + (in_list ? " must all be integers" : " must be an integer") + ", got '" + text +
        "'");
  }
  // The magnitude, saturated past 2^63 (which is out of every row's range).
  constexpr uint64_t kCap = uint64_t{1} << 63;
  uint64_t magnitude = 0;
  for (size_t k = start; k < text.size(); ++k) {
    const auto digit = static_cast<uint64_t>(text[k] - '0');
    magnitude = magnitude > kCap / 10 ? kCap + 1 : std::min(kCap + 1, magnitude * 10 + digit);
  }
  const bool fits = negative ? magnitude <= kCap : magnitude < kCap;
  const int64_t value = !fits               ? 0
                        : magnitude == kCap ? std::numeric_limits<int64_t>::min()
                        : negative          ? -static_cast<int64_t>(magnitude)
                                            : static_cast<int64_t>(magnitude);
  check_number(f, name, fits && in_integer_bounds(f.bounds, value), true, text, in_list);
  return value;
}

double parse_number_text(const FieldInfo& f, const std::string& name, const std::string& text) {
  char* end = nullptr;
  const double x = text.empty() || std::isspace(static_cast<unsigned char>(text[0]))
                       ? 0
                       : std::strtod(text.c_str(), &end);
  if (end == nullptr || *end != '\0') bad(name + " must be a number, got '" + text + "'");
  check_number(f, name, in_bounds(f.bounds, x), std::isfinite(x), text, false);
  return x;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::string flag_of_key(const std::string& key) {
  std::string flag;
  for_each_field([&](const FieldInfo& f, auto member) {
    if (key != f.key) return;
    bool negated = false;
    if constexpr (std::is_same_v<FieldType<decltype(member)>, bool>) {
      negated = TrainConfig{}.*member;  // a flag that switches a true default off
    }
    flag = (negated ? "--no-" : "--") + dashed(f.key);
  });
  return flag;
}

std::string key_of_flag(const std::string& flag) {
  std::string key;
  for_each_field([&](const FieldInfo& f, auto) {
    if (flag_of_key(f.key) == flag) key = f.key;
  });
  return key;
}

std::string DeviceSpec::str() const {
  if (kind == Kind::kCpu) return "cpu";
  return index < 0 ? "cuda" : "cuda:" + std::to_string(index);
}

DeviceSpec parse_device_spec(const std::string& option, const std::string& text) {
  DeviceSpec d;
  if (text == "cpu") return d;
  d.kind = DeviceSpec::Kind::kCuda;
  if (text == "cuda") return d;
  const std::string digits = text.rfind("cuda:", 0) == 0 ? text.substr(5) : "";
  if (digits.empty() || digits.size() > 4 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    bad(option + " must be 'cpu' or 'cuda[:N]', got '" + text + "'");
  }
  d.index = std::stoi(digits);
  return d;
}

TrainConfig TrainConfig::resolved() const {
  TrainConfig c = *this;
  // The folder as an absolute path, so that `evaluate` and `--resume` find
  // the same data from any working directory.
  if (c.dataset != "synthetic" && !c.dataset.empty()) {
    c.dataset = std::filesystem::absolute(c.dataset).lexically_normal().string();
    while (c.dataset.size() > 1 && c.dataset.back() == '/') c.dataset.pop_back();
  }
  const ModelOptions registered = registered_defaults(c.model);
  if (!c.batch_size) c.batch_size = registered.batch_size.value_or(kDefaultBatchSize);
  if (!c.lr) c.lr = registered.lr.value_or(kDefaultLr);
  if (!c.reg) c.reg = registered.reg.value_or(kDefaultReg);
  if (c.early_stop_metric.empty()) {
    c.early_stop_metric = ctr() ? "auc" : rating_mode() ? "rmse" : "recall@20";
  }
  return c;
}

namespace {

// The early-stopping metric must be one that evaluation computes.
void check_early_stop_metric(const TrainConfig& c) {
  const std::string metric = c.resolved().early_stop_metric;
  if (c.ctr()) {
    for (const std::string& m : ctr_metric_names()) {
      if (metric == m) return;
    }
    bad("--early-stop-metric '" + metric +
        "' is not a metric of --protocol ctr (auc, acc, f1, logloss, on the eval records)");
  }
  if (metric == "acc" || metric == "f1" || metric == "logloss") {
    bad("--early-stop-metric '" + metric + "' is computed only under --protocol ctr");
  }
  bool found = metric == "auc" || (c.rating_mode() && (metric == "rmse" || metric == "mae"));
  for (int k : c.topk) {
    for (const std::string& m : per_k_metric_names()) {
      if (metric == m + "@" + std::to_string(k)) found = true;
    }
    const bool sampled = c.eval == EvalMode::kSampled;
    for (const char* m : {"sampled/hit@", "sampled/ndcg@"}) {
      if (sampled && metric == m + std::to_string(k)) found = true;
    }
  }
  if (!found) {
    bad("--early-stop-metric '" + metric +
        "' is not one of the computed metrics (recall|ndcg|precision|hit|mrr|map|coverage @ a "
        "--topk value, auc, rmse|mae with --loss mse, sampled/hit|ndcg @ K with --eval sampled)");
  }
}

// The last hop samples batch_size × Π fanouts neighbours per seed list: past
// 2^31 of them, a batch could not be held (and int64 products could
// overflow), so a huge fanout is an error here rather than a failed
// allocation mid-epoch.
void check_sampled_neighbours(const TrainConfig& c) {
  const int64_t batch_size = c.resolved().batch_size.value();
  double sampled = static_cast<double>(batch_size);
  std::string joined;
  for (int64_t f : c.fanouts) {
    sampled *= static_cast<double>(f);
    joined += (joined.empty() ? "" : ",") + std::to_string(f);
  }
  if (sampled > 2147483648.0) {
    bad("--fanouts " + joined + " with --batch-size " + std::to_string(batch_size) +
        " would sample more than 2^31 neighbours per batch; lower either");
  }
}

// --pretrain GMF_RUN,MLP_RUN: two run directories, for neumf.
void check_pretrain(const TrainConfig& c) {
  if (c.pretrain.empty()) return;
  const size_t comma = c.pretrain.find(',');
  if (c.model != "neumf") bad("--pretrain initialises --model neumf only, got --model " + c.model);
  if (comma == std::string::npos || comma == 0 || comma + 1 == c.pretrain.size() ||
      c.pretrain.find(',', comma + 1) != std::string::npos) {
    bad("--pretrain takes GMF_RUN,MLP_RUN (a gmf and an mlp run directory), got '" + c.pretrain +
        "'");
  }
}

}  // namespace

void TrainConfig::validate() const {
  for_each_field([this](const FieldInfo& f, auto member) { check_field(f, this->*member); });
  if (ctr() && loss != Loss::kBce) {
    // The records carry their own negatives and labels: the only loss that
    // fits them is the log loss, and --negatives does not apply.
    bad("--protocol ctr trains on labelled records with the log loss: pass --loss bce (got '" +
        std::string(name_of(loss)) + "')");
  }
  if (rating_mode() && min_rating > 0) {
    // Filtering by rating turns ratings into implicit feedback; in rating
    // mode every rating is a target, and dropping the low ones would bias them.
    bad("--min-rating (" + str(min_rating) +
        ") turns ratings into implicit feedback; it cannot be combined with --loss mse, which "
        "trains on every rating");
  }
  check_sampled_neighbours(*this);
  if (ctr() && sampling == Sampling::kPerUser) {
    bad("--sampling per-user draws a user's training items; --protocol ctr trains on its "
        "labelled records, each once per epoch (per-interaction)");
  }
  if (ctr() && cold_fraction > 0) {
    bad("--cold-fraction reports ranking metrics of cold users; --protocol ctr has no ranking "
        "evaluation");
  }
  if (topk.empty()) bad("--topk needs at least one K");
  if (!group_by.empty() && ctr()) {
    bad("--group-by reports ranking metrics per user group; --protocol ctr has no ranking "
        "evaluation");
  }
  if (eval == EvalMode::kSampled && (ctr() || rating_mode())) {
    bad("--eval sampled ranks test items against sampled negatives; it does not apply to " +
        std::string(ctr() ? "--protocol ctr" : "--loss mse"));
  }
  check_early_stop_metric(*this);
  check_pretrain(*this);
  check_sharding(*this);
}

void to_json(nlohmann::json& j, const TrainConfig& c) {
  j = json::object();
  for_each_field([&](const FieldInfo& f, auto member) { j[f.key] = to_value(c.*member); });
}

void from_json(const nlohmann::json& j, TrainConfig& c) {
  if (!j.is_object()) bad("a configuration is a JSON object of options");
  std::set<std::string> known;
  for_each_field([&](const FieldInfo& f, auto) { known.insert(f.key); });
  for (const auto& item : j.items()) {
    // "data" is the record a run keeps of its inputs (train/data.h), not an
    // option: a run's config.json can be handed back as a configuration.
    if (item.key() == kDataRecordKey) continue;
    if (known.count(item.key()) == 0) bad("unknown configuration key '" + item.key() + "'");
  }
  c = TrainConfig{};  // missing keys keep their defaults
  for_each_field([&](const FieldInfo& f, auto member) {
    if (const auto it = j.find(f.key); it != j.end()) from_value(*it, f, c.*member);
  });
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
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
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
