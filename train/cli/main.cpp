// The gnnrec command line: train, evaluate, data stats/split, and the serving
// commands (export, recommend, fold-in, serve: train/cli/serving_commands.h).
// Every failure prints one line "gnnrec: error: ..." and exits with status 1
// (a usage error as much as a failed run); success and --help exit 0.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <type_traits>
#include <utility>

#include <CLI/CLI.hpp>
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <nlohmann/json.hpp>

#include "graph/cache.h"
#include "graph/loaders.h"
#include "graph/stats.h"
#include "graph/synthetic.h"
#include "models/model.h"
#include "train/cli/config_file.h"
#include "train/cli/plot_command.h"
#include "train/cli/serving_commands.h"
#include "train/cli/thread_wait.h"
#include "train/config_fields.h"
#include "train/distributed.h"
#include "train/evaluator.h"
#include "train/metrics.h"
#include "train/run_dir.h"
#include "train/trainer.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace gnnrec;

namespace {

// One row per metric present in any column, "-" where a column lacks it:
// the per-K metrics, then auc, then the rating errors (rating mode).
void print_table(const std::string& title, const std::vector<std::pair<std::string, json>>& cols,
                 const std::vector<int>& ks) {
  std::vector<std::string> keys;
  for (const auto& metric : per_k_metric_names()) {
    for (int k : ks) keys.push_back(metric + "@" + std::to_string(k));
  }
  for (const char* key : {"auc", "acc", "f1", "logloss", "rmse", "mae"}) keys.emplace_back(key);
  for (const auto& metric : per_k_metric_names()) {
    for (int k : ks) keys.push_back("cold/" + metric + "@" + std::to_string(k));
  }
  // Wide enough for the longest key shown ("cold/precision@20").
  int width = 14;
  for (const auto& key : keys) {
    const bool any = std::any_of(cols.begin(), cols.end(),
                                 [&](const auto& col) { return col.second.contains(key); });
    if (any) width = std::max(width, static_cast<int>(key.size()) + 1);
  }
  std::printf("%s\n%-*s", title.c_str(), width, "metric");
  for (const auto& [name, m] : cols) std::printf(" %12s", name.c_str());
  std::printf("\n");
  for (const auto& key : keys) {
    const bool any = std::any_of(cols.begin(), cols.end(),
                                 [&](const auto& col) { return col.second.contains(key); });
    if (!any) continue;
    std::printf("%-*s", width, key.c_str());
    for (const auto& [name, m] : cols) {
      if (m.contains(key) && m[key].is_number()) std::printf(" %12.4f", m[key].get<double>());
      else std::printf(" %12s", "-");
    }
    std::printf("\n");
  }
}

// --help's "[default: ...]" of a row whose default is not the value itself.
std::string default_note(const FieldInfo& f) {
  if ((f.flags & kModelDefault) != 0) {
    // A general default (batch_size) before the models that register their own.
    const std::string models = model_defaults_help(f.key);
    const std::string general = f.default_help != nullptr ? f.default_help : "";
    return " [default: " + general + (!general.empty() && !models.empty() ? "; " : "") + models +
           "]";
  }
  if (f.default_help != nullptr) return std::string(" [default: ") + f.default_help + "]";
  return "";
}

// The member type of TrainConfig that `member` points to.
template <typename Member>
using MemberType = std::remove_reference_t<decltype(std::declval<TrainConfig&>().*Member{})>;

// T, or the value type of an optional T.
template <typename T>
struct Unwrapped {
  using type = T;
};
template <typename T>
struct Unwrapped<std::optional<T>> {
  using type = T;
};

// The value of a row of type T from its text (a flag's, or a config file's
// value), parsed and range-checked as the row says; `name` is how errors
// call it ("--epochs", "key 'epochs'"). A list's elements are separated by
// ','. Not for bools (flags without a value).
template <typename T>
T value_from_text(const FieldInfo& f, const std::string& name, const std::string& text) {
  if constexpr (IsOptionalField<T>::value) {
    return value_from_text<typename T::value_type>(f, name, text);
  } else if constexpr (IsListField<T>::value) {
    T out;
    size_t start = 0;
    for (size_t comma = 0; comma != std::string::npos; start = comma + 1) {
      comma = text.find(',', start);
      const std::string part = text.substr(start, comma - start);
      out.push_back(static_cast<typename T::value_type>(parse_integer_text(f, name, part, true)));
    }
    return out;
  } else if constexpr (std::is_enum_v<T>) {
    return parse_enum<T>(name, text);
  } else if constexpr (std::is_same_v<T, DeviceSpec>) {
    return parse_device_spec(name, text);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return text;
  } else if constexpr (std::is_integral_v<T>) {
    static_assert(!std::is_same_v<T, bool>);
    return static_cast<T>(parse_integer_text(f, name, text));
  } else {
    static_assert(std::is_floating_point_v<T>);
    return static_cast<T>(parse_number_text(f, name, text));
  }
}

// --help's "[default: ...]" of a value (numbers as CLI11 prints them).
template <typename T>
std::string default_text(const T& v) {
  if constexpr (std::is_enum_v<T>) {
    return name_of(v);
  } else if constexpr (std::is_same_v<T, DeviceSpec>) {
    return v.str();
  } else if constexpr (IsListField<T>::value) {
    std::string shown;
    for (const auto& e : v) shown += (shown.empty() ? "" : ",") + std::to_string(e);
    return shown;
  } else {
    std::ostringstream os;
    os << v;
    return os.str();
  }
}

// The flag of one row of the configuration table (train/config_fields.h)
// on `app`, writing into c.*member. Every value goes through
// value_from_text, so that an integer out of its row's range (or past its
// type) is an error naming the flag and the range, never wrapped.
template <typename Member>
void add_field_option(CLI::App* app, const FieldInfo& f, TrainConfig& c, Member member) {
  using T = MemberType<Member>;
  const std::string flag = flag_of_key(f.key);
  std::string help = f.help;
  if (f.bounds.has_lo || f.bounds.has_hi) {
    help += std::string(IsListField<T>::value ? "; each " : "; ") + bounds_text(f.bounds);
  }
  help += default_note(f);
  const TrainConfig defaults;
  if constexpr (std::is_same_v<T, bool>) {
    if (defaults.*member) {
      app->add_flag_callback(
          flag, [&c, member] { c.*member = false; }, help);
    } else {
      app->add_flag(flag, c.*member, help);
    }
    return;
  }
  CLI::Option* opt = nullptr;
  if constexpr (IsListField<T>::value) {
    opt = app->add_option_function<std::vector<std::string>>(
        flag,
        [&c, f, member, flag](const std::vector<std::string>& parts) {
          std::string joined;
          for (const std::string& p : parts) joined += (joined.empty() ? "" : ",") + p;
          c.*member = value_from_text<T>(f, flag, joined);
        },
        help);
    opt->delimiter(',');
  } else if constexpr (!std::is_same_v<T, bool>) {
    opt = app->add_option_function<std::string>(
        flag,
        [&c, f, member, flag](const std::string& text) {
          c.*member = value_from_text<T>(f, flag, text);
        },
        help);
  }
  if constexpr (!std::is_same_v<T, bool>) {
    // The value's type as CLI11 names it (INT, UINT, FLOAT, TEXT).
    using Named = std::conditional_t<std::is_enum_v<T> || std::is_same_v<T, DeviceSpec>,
                                     std::string, typename Unwrapped<T>::type>;
    opt->type_name(CLI::detail::type_name<Named>());
  }
  if constexpr (!IsOptionalField<T>::value && !std::is_same_v<T, bool>) {
    const std::string shown = default_text(defaults.*member);
    if (f.default_help == nullptr && !shown.empty()) opt->default_str(shown);
  }
}

// The keys of a `train --config` file: each row's flag without "--" (and
// resume, overwrite, quiet), of its type, checked as its flag is.
ConfigKeys config_keys() {
  ConfigKeys keys;
  for_each_field([&](const FieldInfo& f, auto member) {
    using T = MemberType<decltype(member)>;
    using V = typename Unwrapped<T>::type;
    ConfigKey key;
    if constexpr (std::is_same_v<V, bool>) {
      key.kind = ConfigKind::kBool;
    } else {
      key.kind = IsListField<V>::value         ? ConfigKind::kIntegerList
                 : std::is_integral_v<V>       ? ConfigKind::kInteger
                 : std::is_floating_point_v<V> ? ConfigKind::kNumber
                                               : ConfigKind::kString;
      key.check = [f](const std::string& name, const std::string& text) {
        value_from_text<T>(f, name, text);
      };
    }
    keys[flag_of_key(f.key).substr(2)] = key;
  });
  for (const char* flag : {"resume", "overwrite", "quiet"}) keys[flag].kind = ConfigKind::kBool;
  return keys;
}

// Every row of the table, or only the data options (`data split`).
void add_train_options(CLI::App* app, TrainConfig& c, bool data_only = false) {
  for_each_field([&](const FieldInfo& f, auto member) {
    if (!data_only || (f.flags & kData) != 0) add_field_option(app, f, c, member);
  });
}

// One line that says what the table means, from the best epoch's metrics
// and the baseline's: recall@K (K = 20 when evaluated, else the largest) as
// a ratio to popularity's; rmse against the global mean's in rating mode;
// empty for --protocol ctr or a metric missing.
std::string headline(const TrainConfig& cfg, const json& summary) {
  const json& best = summary["best"];
  const std::string key_of_baseline = summary["baseline"];
  const json& base = summary[key_of_baseline];
  std::string baseline = key_of_baseline;  // "global_mean" reads "global mean"
  std::replace(baseline.begin(), baseline.end(), '_', ' ');
  char buf[512];
  if (cfg.ctr()) return "";
  if (cfg.rating_mode()) {
    if (!best.contains("rmse") || !base.contains("rmse")) return "";
    const double m = best["rmse"], b = base["rmse"];
    const double lower = b > 0 ? 100 * (b - m) / b : 0.0;
    std::snprintf(buf, sizeof buf,
                  "%s predicts the held-out ratings with an rmse of %.3f stars, against %.3f for "
                  "the %s (%.0f%% %s)",
                  cfg.model.c_str(), m, b, baseline.c_str(), std::abs(lower),
                  lower >= 0 ? "lower" : "higher");
    return buf;
  }
  const bool has20 = std::find(cfg.topk.begin(), cfg.topk.end(), 20) != cfg.topk.end();
  const int k = has20 ? 20 : *std::max_element(cfg.topk.begin(), cfg.topk.end());
  const std::string key = "recall@" + std::to_string(k);
  if (!best.contains(key) || !base.contains(key)) return "";
  const double m = best[key], b = base[key];
  if (b > 0) {
    std::snprintf(buf, sizeof buf,
                  "%s finds %.1fx as many of each user's held-out items in its top %d as %s "
                  "does (%s %.3f against %.3f)",
                  cfg.model.c_str(), m / b, k, baseline.c_str(), key.c_str(), m, b);
  } else {
    std::snprintf(buf, sizeof buf,
                  "%s finds %.1f%% of each user's held-out items in its top %d; %s finds none",
                  cfg.model.c_str(), 100 * m, k, baseline.c_str());
  }
  return buf;
}

// `given`: the configuration keys set on the command line (or in
// --config). With --resume, the run keeps its own configuration: an option
// other than --epochs that disagrees with the run's config.json (defaults
// resolved on both sides) is an error rather than silently ignored, as in
// gnnrec.train(..., resume=True); repeating a value is fine.
int run_train(TrainConfig cfg, bool resume, bool overwrite, bool quiet,
              const std::vector<std::string>& given) {
  if (resume) {
    if (cfg.out.empty()) throw std::invalid_argument("--resume needs --out RUN_DIR");
    cfg = resumed_config((fs::path(cfg.out) / "config.json").string(), cfg, given, "--resume",
                         flag_of_key);
  }
  TrainOptions opts;
  opts.resume = resume;
  opts.overwrite = overwrite;
  opts.quiet = quiet;
  const json summary = train(cfg, opts);
  // Under torchrun, rank 0 reports the run; the other ranks say nothing.
  if (const auto env = DistEnv::from_environment(); env && env->rank != 0) return 0;
  const std::string baseline = summary["baseline"];
  print_table("\n" + cfg.model + " on " + cfg.dataset + " (best epoch " +
                  std::to_string(summary["best_epoch"].get<int64_t>()) + " of " +
                  std::to_string(summary["epochs_run"].get<int64_t>()) + ", " +
                  (cfg.ctr() ? std::to_string(summary["ctr_records"]["test"].get<int64_t>()) +
                                   " test records, --protocol ctr, best epoch by the eval "
                                   "records' " +
                                   summary["early_stop_metric"].get<std::string>() + ")"
                             : std::to_string(summary["test_users"].get<int64_t>()) +
                                   " test users, full ranking, training items masked)"),
              {{cfg.model, summary["best"]}, {baseline, summary[baseline]}}, cfg.topk);
  std::printf("mean epoch %.3f s, evaluation %.3f s; run directory %s\n",
              summary["epoch_seconds"].get<double>(), summary["eval_seconds"].get<double>(),
              cfg.out.c_str());
  try {
    plot_curves(cfg.out, quiet);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gnnrec: warning: could not plot curves: %s\n", e.what());
  }
  if (const std::string line = headline(cfg, summary); !line.empty()) {
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

int run_evaluate(const std::string& run_dir, const std::string& which, bool check_data) {
  LoadedRun r = load_run(run_dir, which, check_data);
  if (r.config.ctr()) {
    const EvalResult res = evaluate_ctr(*r.model, r.data.ctr->test);
    std::printf("%s (%s checkpoint, epoch %lld) on %s, %lld test records (--protocol ctr)\n",
                r.config.model.c_str(), which.c_str(), static_cast<long long>(r.epoch),
                r.config.dataset.c_str(), static_cast<long long>(res.users));
    for (const std::string& name : ctr_metric_names()) {
      std::printf("%-8s %.4f\n", name.c_str(), res.metrics.at(name));
    }
    return 0;
  }
  Evaluator ev(*r.data.train, *r.data.test, r.config.topk);
  add_cold_users(ev, r.config);
  const EvalResult res = evaluate_model(*r.model, ev, r.config.rating_mode());
  const Baseline baseline = evaluate_baseline(ev, r.config.rating_mode());
  print_table(r.config.model + " (" + which + " checkpoint, epoch " + std::to_string(r.epoch) +
                  ") on " + r.config.dataset + ", " + std::to_string(res.users) + " test users",
              {{r.config.model, metrics_json(res)}, {baseline.name, metrics_json(baseline.result)}},
              r.config.topk);
  return 0;
}

// The configuration keys of the options given to `cmd`.
std::vector<std::string> given_keys(const CLI::App* cmd) {
  std::vector<std::string> keys;
  for (const CLI::Option* opt : cmd->get_options()) {
    if (opt->count() == 0 || opt->get_lnames().empty()) continue;
    const std::string key = key_of_flag("--" + opt->get_lnames()[0]);
    if (!key.empty()) keys.push_back(key);
  }
  return keys;
}

int run_data_stats(const std::string& dataset) {
  Dataset ds =
      dataset == "synthetic" ? make_synthetic(SyntheticOptions{}) : load_dataset_cached(dataset);
  std::printf("%s", format_stats(compute_stats(ds), ds.name).c_str());
  return 0;
}

int run_data_split(const TrainConfig& cfg, const std::string& out) {
  cfg.validate();
  PreparedData d = prepare_data(cfg);
  write_lightgcn(d.dataset, out);
  std::printf("wrote %s/train.txt (%zu) and %s/test.txt (%zu): %lld users, %lld items\n",
              out.c_str(), d.dataset.train.size(), out.c_str(), d.dataset.test.size(),
              static_cast<long long>(d.dataset.num_users()),
              static_cast<long long>(d.dataset.num_items()));
  return 0;
}

// The subcommands and what their options parse into.
struct Cli {
  CLI::App app{"gnnrec: graph neural network recommenders on sparse user-item graphs"};
  TrainConfig cfg, split_cfg;
  bool resume = false, overwrite = false, quiet = false, ignore_data_change = false;
  std::string config_file, run_dir, which = "best", dataset, split_out, plot_out;
  std::vector<std::string> plot_runs;
  CLI::App *train = nullptr, *evaluate = nullptr, *stats = nullptr, *split = nullptr,
           *plot = nullptr;
  std::unique_ptr<ServingCommands> serving;

  Cli() {
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "show help for every subcommand");
    add_train();
    add_evaluate();
    serving = std::make_unique<ServingCommands>(app);
    add_data();
    add_plot();
    // One line per failure, like every other error.
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
      return std::string("gnnrec: error: ") + e.what() + " (see --help)\n";
    });
  }

  void add_train() {
    train = app.add_subcommand("train", "train a model and write a run directory");
    train->add_option("--config", config_file,
                      "TOML file of options (keys as the long flags, e.g. batch-size = 2048); "
                      "flags given on the command line win");
    add_train_options(train, cfg);
    train->add_flag("--resume", resume, "continue the run in --out from its last checkpoint");
    train->add_flag("--overwrite", overwrite, "replace an existing run in --out");
    train->add_flag("--quiet", quiet, "no progress output");
  }

  void add_evaluate() {
    evaluate = app.add_subcommand("evaluate", "evaluate a trained run on its test split");
    evaluate->add_option("--run", run_dir, "run directory written by 'gnnrec train'")->required();
    evaluate->add_flag("--ignore-data-change", ignore_data_change,
                       "evaluate even when the data set's files or split differ from those the "
                       "run recorded in config.json (the metrics are then of other data)");
    evaluate->add_option("--checkpoint", which, "best or last")
        ->capture_default_str()
        ->check(CLI::IsMember({"best", "last"}));
  }

  void add_data() {
    CLI::App* data = app.add_subcommand("data", "inspect and export data sets");
    data->require_subcommand(1);
    stats =
        data->add_subcommand("stats", "users, items, interactions, density, degree percentiles");
    stats->add_option("--dataset", dataset, "data set directory or 'synthetic'")->required();
    split = data->add_subcommand(
        "split",
        "write the train/test split that 'gnnrec train' would use, as LightGCN text "
        "(dense ids), to hand the same split to other tools");
    add_train_options(split, split_cfg, /*data_only=*/true);
    split->get_option("--dataset")->required();
    split->add_option("--out", split_out, "directory for train.txt and test.txt")->required();
  }

  void add_plot() {
    plot = app.add_subcommand(
        "plot",
        "draw training curves (python -m gnnrec.plot): one run's metrics with its baseline, or "
        "several runs overlaid against epochs and training seconds");
    plot->add_option("runs", plot_runs, "run directories written by 'gnnrec train'")->required();
    plot->add_option("--out", plot_out, "PNG file to write")->required();
  }

  int run() const {
    if (*train) return run_train(cfg, resume, overwrite, quiet, given_keys(train));
    if (*evaluate) return run_evaluate(run_dir, which, !ignore_data_change);
    if (*stats) return run_data_stats(dataset);
    if (*split) return run_data_split(split_cfg, split_out);
    if (*plot) {
      run_plot_command(plot_runs, plot_out);
      return 0;
    }
    return serving->run().value_or(0);
  }
};

}  // namespace

int main(int argc, char** argv) {
  gnnrec::relaunch_with_passive_wait(argc, argv);
  Cli cli;
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    args = expand_config(args, config_keys());
    std::reverse(args.begin(), args.end());  // CLI11 consumes a reversed vector
    cli.app.parse(args);
  } catch (const CLI::ParseError& e) {
    // --help prints the help and exits 0; every other parse error is one
    // line and exit status 1, like any other error (CLI11's own codes,
    // 104-114, are not passed on: docs/cli.md, "Exit status").
    return cli.app.exit(e) == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gnnrec: error: %s\n", e.what());
    return 1;
  }
  try {
    return cli.run();
  } catch (const std::exception& e) {
    std::string msg = e.what();
    // c10::Error appends a C++ stack trace after the first line: keep one line.
    if (const auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    std::fprintf(stderr, "gnnrec: error: %s\n", msg.c_str());
    return 1;
  }
}
