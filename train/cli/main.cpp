// The gnnrec command line: train, evaluate, recommend, data stats/split.
// Every failure prints one line "gnnrec: error: ..." and exits non-zero.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sys/wait.h>

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

// A flag whose absence leaves the optional unset: the model then uses its
// paper default, which `model_default` names for --help (models/*.cpp set it).
template <typename T>
void add_optional(CLI::App* app, const std::string& flag, std::optional<T>& target,
                  const std::string& help, const std::string& model_default) {
  app->add_option_function<T>(flag, [&target](const T& v) { target = v; },
                              help + " [default: " + model_default + "]");
}

void add_train_options(CLI::App* app, TrainConfig& c) {
  const TrainConfig d;
  app->add_option("--model", c.model, "model name: " + [] {
    std::string s;
    for (const auto& n : model_names()) s += (s.empty() ? "" : ", ") + n;
    return s;
  }())->capture_default_str();
  app->add_option("--dataset", c.dataset,
                  "data set directory (format detected from its files: train.txt/test.txt, "
                  "u.data, ratings.dat, one .csv/.tsv) or 'synthetic'")->capture_default_str();
  app->add_option("--out", c.out, "run directory to write (config.json, metrics.jsonl, "
                                  "summary.json, checkpoints/)");
  app->add_option("--protocol", c.protocol,
                  "evaluation protocol: ranking (full ranking over a train/test split of the "
                  "interactions) or ctr (KGCN's CTR protocol: every interaction a positive, as "
                  "many sampled negatives per user, records split 6:2:2 into train/eval/test; "
                  "needs --loss bce; reports auc, acc, f1, logloss)")
      ->capture_default_str();
  app->add_option("--split", c.split, "split when the data set has none: random, per-user, "
                                      "temporal, loo")->capture_default_str();
  app->add_option("--train-ratio", c.train_ratio, "fraction of interactions kept for training")
      ->capture_default_str();
  app->add_option("--min-rating", c.min_rating,
                  "keep interactions rated at least this (implicit feedback); 0 keeps all")
      ->capture_default_str();
  app->add_option("--kcore", c.kcore, "drop users and items with fewer interactions, repeatedly; "
                                      "0 keeps all")->capture_default_str();
  app->add_flag_callback(
      "--no-side-info", [&c] { c.side_info = false; },
      "ignore the data set's knowledge graph or side information (kgat and kgcn then "
      "fail; heterogat keeps the user-item relations only)");
  app->add_option("--synthetic-users", c.synthetic_users, "users of the synthetic data set")
      ->capture_default_str();
  app->add_option("--synthetic-items", c.synthetic_items, "items of the synthetic data set")
      ->capture_default_str();
  app->add_option("--dim", c.dim, "embedding width")->capture_default_str();
  app->add_option("--layers", c.layers, "propagation layers (graph models)")->capture_default_str();
  add_optional(app, "--dropout", c.dropout,
               "feature dropout, in [0, 1) (gcn, gat, sage, heterogat)",
               "gcn 0.5, gat 0.6, sage 0, heterogat 0");
  add_optional(app, "--node-dropout", c.node_dropout,
               "fraction of adjacency entries dropped per step, in [0, 1) (ngcf)", "0.1");
  add_optional(app, "--message-dropout", c.message_dropout,
               "dropout on each layer's messages, in [0, 1) (ngcf, kgat)", "0.1");
  add_optional(app, "--attention-dropout", c.attention_dropout,
               "dropout on attention coefficients, in [0, 1) (gat, heterogat)",
               "gat 0.6, heterogat 0");
  add_optional(app, "--heads", c.heads, "attention heads, >= 1, dividing --dim (gat, heterogat)",
               "gat 8, heterogat 4");
  add_optional(app, "--aggregator", c.aggregator,
               "neighbour aggregator: mean, max, pool, lstm (sage); sum, concat, "
               "neighbor (kgcn); sum or mean across relations (heterogat)",
               "sage mean, kgcn sum, heterogat mean");
  app->add_option_function<std::vector<int64_t>>(
         "--fanouts", [&c](const std::vector<int64_t>& v) { c.fanouts = v; },
         "neighbours sampled per layer in training, one per --layers, e.g. 10,10 (sage) "
         "[default: 25,10, then 10 per further layer]")
      ->delimiter(',');
  app->add_option("--loss", c.loss,
                  "training loss: bpr (pairwise, one negative per pair), bce (binary "
                  "cross-entropy, --negatives per pair) or mse (rating mode: fits the data set's "
                  "explicit ratings, reports rmse and mae)")
      ->capture_default_str();
  app->add_option("--negatives", c.negatives, "bce: uniform negatives sampled per positive pair")
      ->capture_default_str();
  app->add_option("--epochs", c.epochs, "training epochs (one pass over the training "
                                        "interactions each)")->capture_default_str();
  app->add_option("--batch-size", c.batch_size, "interactions per batch")->capture_default_str();
  app->add_option("--lr", c.lr, "Adam learning rate")->capture_default_str();
  app->add_option("--reg", c.reg, "L2 weight (on what: --reg-scope)")->capture_default_str();
  app->add_option(
         "--reg-scope", c.reg_scope,
         "batch: 1/2 |ego rows of the batch|^2 / batch size (LightGCN); full: 1/2 |p|^2 of "
         "every parameter whole, each batch (KGCN's code)")
      ->capture_default_str();
  app->add_option("--seed", c.seed, "seed for the split, initialisation and sampling")
      ->capture_default_str();
  app->add_option("--eval-every", c.eval_every, "evaluate every N epochs (and after the last)")
      ->capture_default_str();
  app->add_option("--topk", c.topk, "cut-offs K for the metrics")->capture_default_str()
      ->delimiter(',');
  app->add_option("--cold-fraction", c.cold_fraction,
                  "also report the ranking metrics (cold/recall@K, ...) over this fraction of test "
                  "users with the fewest training interactions; 0 reports none")
      ->capture_default_str();
  app->add_option("--early-stop-metric", c.early_stop_metric,
                  "metric that picks the best epoch and drives early stopping (lower is better "
                  "for rmse, mae and logloss, higher for the others) [default: recall@20; rmse "
                  "with --loss mse; auc with --protocol ctr]");
  app->add_option("--patience", c.patience, "stop after this many evaluations without "
                                            "improvement; 0 never stops early")
      ->capture_default_str();
  app->add_option("--device", c.device, "cpu or cuda[:N]")->capture_default_str();
  app->add_option("--threads", c.threads, "CPU threads; 0 uses every core")->capture_default_str();
  app->add_flag("--deterministic", c.deterministic,
                "deterministic algorithms on CUDA (ATen's sorting-based index_add/index_select "
                "backward; an op without one is an error); CPU runs are deterministic anyway");
}

#ifndef GNNREC_DEFAULT_PYTHON
#define GNNREC_DEFAULT_PYTHON ""
#endif
#ifndef GNNREC_PYTHON_SOURCE_DIR
#define GNNREC_PYTHON_SOURCE_DIR ""
#endif

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

// After a successful run: `<python> -m gnnrec.plot RUN_DIR` writes
// RUN_DIR/curves.png. <python> is $GNNREC_PYTHON, else the interpreter
// configured at build time; the source python/ folder is prepended to
// PYTHONPATH. Skipped with GNNREC_NO_PLOT=1. Plotting never fails the run:
// any problem is one warning line on stderr.
void plot_curves(const std::string& run_dir, bool quiet) {
  const char* no_plot = std::getenv("GNNREC_NO_PLOT");
  if (no_plot != nullptr && std::string(no_plot) == "1") return;
  auto warn = [](const std::string& why) {
    std::fprintf(stderr, "gnnrec: warning: could not plot curves: %s\n", why.c_str());
  };
  const char* env_python = std::getenv("GNNREC_PYTHON");
  const std::string python =
      (env_python != nullptr && *env_python != '\0') ? env_python : GNNREC_DEFAULT_PYTHON;
  if (python.empty()) {
    warn("no Python interpreter (set GNNREC_PYTHON)");
    return;
  }
  if (python.find('/') != std::string::npos && !fs::exists(python)) {
    warn("Python interpreter " + python + " not found (set GNNREC_PYTHON)");
    return;
  }
  std::string pythonpath = GNNREC_PYTHON_SOURCE_DIR;
  const char* old_path = std::getenv("PYTHONPATH");
  if (old_path != nullptr && *old_path != '\0') {
    pythonpath = pythonpath.empty() ? std::string(old_path) : pythonpath + ":" + old_path;
  }
  // The plotter needs matplotlib only: GNNREC_NO_LIBRARY=1 keeps the package
  // from loading libgnnrec.so (and torch). Its stdout (the "wrote" line) is
  // dropped in --quiet runs; its stderr is captured for the warning.
  const fs::path err_file = fs::path(run_dir) / ".plot-stderr.tmp";
  const std::string cmd = "PYTHONPATH=" + shell_quote(pythonpath) + " GNNREC_NO_LIBRARY=1 " +
                          shell_quote(python) + " -m gnnrec.plot " + shell_quote(run_dir) +
                          (quiet ? " >/dev/null" : "") + " 2>" +
                          shell_quote(err_file.string()) + " </dev/null";
  std::fflush(stdout);
  const int status = std::system(cmd.c_str());
  std::string err;
  {
    std::ifstream in(err_file);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) err = line;  // the last non-empty line says why
    }
  }
  std::error_code ec;
  fs::remove(err_file, ec);
  if (status == -1) {
    warn(std::string("cannot run ") + python + ": " + std::strerror(errno));
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::string why = python + " -m gnnrec.plot exited with status " + std::to_string(code);
    if (code == 127) why = "cannot run " + python;
    if (!err.empty()) why += " (" + err + ")";
    warn(why);
  }
}

// `given`: the long names of the training options on the command line (or
// in --config). With --resume, the run keeps its own configuration: an
// option other than --epochs that disagrees with the run's config.json
// (defaults resolved on both sides) is an error rather than silently
// ignored, as in gnnrec.train(..., resume=True); repeating a value is fine.
int run_train(TrainConfig cfg, bool resume, bool overwrite, bool quiet,
              const std::vector<std::string>& given) {
  if (resume) {
    if (cfg.out.empty()) throw std::invalid_argument("--resume needs --out RUN_DIR");
    std::vector<std::string> keys;
    for (const std::string& flag : given) {
      std::string key = flag.substr(flag.find_first_not_of('-'));
      std::replace(key.begin(), key.end(), '-', '_');
      keys.push_back(key);
    }
    auto flag = [](std::string key) {
      std::replace(key.begin(), key.end(), '_', '-');
      return "--" + key;
    };
    cfg = resumed_config((fs::path(cfg.out) / "config.json").string(), cfg, keys, "--resume", flag);
  }
  TrainOptions opts;
  opts.resume = resume;
  opts.overwrite = overwrite;
  opts.quiet = quiet;
  const json summary = train(cfg, opts);
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
  return 0;
}

int run_evaluate(const std::string& run_dir, const std::string& which) {
  LoadedRun r = load_run(run_dir, which);
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

int run_recommend(const std::string& run_dir, const std::string& user, int64_t k,
                  const std::string& which) {
  if (k < 1) throw std::invalid_argument("--k must be at least 1, got " + std::to_string(k));
  LoadedRun r = load_run(run_dir, which);
  const IdMap& users = r.data.dataset.users;
  int32_t u = users.find(user);
  if (u < 0) {
    // "007" for a data set whose loader read its ids as integers is user 7
    // (the loader did the same); a delimited file's ids are strings, matched
    // as written, so there it is only a hint.
    const int32_t v = users.find_integer(user);
    if (v >= 0 && r.data.dataset.format != "csv") {
      u = v;
    } else {
      std::string msg = "--user '" + user + "' is not a user of " + r.config.dataset;
      if (v >= 0) msg += " (its ids are matched as written; '" + users.raw(v) + "' is one)";
      throw std::invalid_argument(msg);
    }
  }
  Evaluator ev(*r.data.train, *r.data.test, r.config.topk);
  at::NoGradGuard no_grad;
  r.model->set_training(false);
  auto [P, Q] = r.model->ranking();
  auto [items, scores] = ev.top_items(P, Q, {u}, k);
  std::printf("rank\titem\tscore\n");
  for (int64_t j = 0; j < items.size(1); ++j) {
    std::printf("%lld\t%s\t%.5f\n", static_cast<long long>(j) + 1,
                r.data.dataset.items.raw(static_cast<int32_t>(items[0][j].item<int64_t>())).c_str(),
                scores[0][j].item<float>());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gnnrec: graph neural network recommenders on sparse user-item graphs"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "show help for every subcommand");

  TrainConfig cfg;
  bool resume = false, overwrite = false, quiet = false;
  CLI::App* train_cmd = app.add_subcommand("train", "train a model and write a run directory");
  std::string config_file;
  train_cmd->add_option("--config", config_file,
                        "TOML file of options (keys as the long flags, e.g. batch-size = 2048); "
                        "flags given on the command line win");
  add_train_options(train_cmd, cfg);
  train_cmd->add_flag("--resume", resume, "continue the run in --out from its last checkpoint");
  train_cmd->add_flag("--overwrite", overwrite, "replace an existing run in --out");
  train_cmd->add_flag("--quiet", quiet, "no progress output");

  std::string run_dir, which = "best", user;
  int64_t k = 10;
  CLI::App* eval_cmd = app.add_subcommand("evaluate", "evaluate a trained run on its test split");
  eval_cmd->add_option("--run", run_dir, "run directory written by 'gnnrec train'")->required();
  eval_cmd->add_option("--checkpoint", which, "best or last")->capture_default_str()
      ->check(CLI::IsMember({"best", "last"}));

  CLI::App* rec_cmd = app.add_subcommand("recommend", "top-K items for one user (raw ids)");
  rec_cmd->add_option("--run", run_dir, "run directory written by 'gnnrec train'")->required();
  rec_cmd->add_option("--user", user, "the user's raw id, as written in the data set")->required();
  rec_cmd->add_option("--k", k, "how many items")->capture_default_str();
  rec_cmd->add_option("--checkpoint", which, "best or last")->capture_default_str()
      ->check(CLI::IsMember({"best", "last"}));

  CLI::App* data_cmd = app.add_subcommand("data", "inspect and export data sets");
  data_cmd->require_subcommand(1);
  std::string dataset;
  CLI::App* stats_cmd = data_cmd->add_subcommand("stats", "users, items, interactions, density, "
                                                          "degree percentiles");
  stats_cmd->add_option("--dataset", dataset, "data set directory or 'synthetic'")->required();
  TrainConfig split_cfg;
  std::string split_out;
  CLI::App* split_cmd = data_cmd->add_subcommand(
      "split", "write the train/test split that 'gnnrec train' would use, as LightGCN text "
               "(dense ids), to hand the same split to other tools");
  split_cmd->add_option("--dataset", split_cfg.dataset, "data set directory or 'synthetic'")
      ->required();
  split_cmd->add_option("--out", split_out, "directory for train.txt and test.txt")->required();
  split_cmd->add_option("--split", split_cfg.split, "random, per-user, temporal, loo")
      ->capture_default_str();
  split_cmd->add_option("--train-ratio", split_cfg.train_ratio, "training fraction")
      ->capture_default_str();
  split_cmd->add_option("--min-rating", split_cfg.min_rating, "minimum rating kept; 0 keeps all")
      ->capture_default_str();
  split_cmd->add_option("--kcore", split_cfg.kcore, "k-core filter; 0 keeps all")
      ->capture_default_str();
  split_cmd->add_option("--seed", split_cfg.seed, "split seed")->capture_default_str();

  // One line per failure, like every other error.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("gnnrec: error: ") + e.what() + " (see --help)\n";
  });
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    args = expand_config(args);
    std::reverse(args.begin(), args.end());  // CLI11 consumes a reversed vector
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gnnrec: error: %s\n", e.what());
    return 1;
  }

  try {
    if (*train_cmd) {
      std::vector<std::string> given;
      for (const CLI::Option* opt : train_cmd->get_options()) {
        if (opt->count() > 0 && !opt->get_lnames().empty())
          given.push_back("--" + opt->get_lnames()[0]);
      }
      return run_train(cfg, resume, overwrite, quiet, given);
    }
    if (*eval_cmd) return run_evaluate(run_dir, which);
    if (*rec_cmd) return run_recommend(run_dir, user, k, which);
    if (*stats_cmd) {
      Dataset ds = dataset == "synthetic" ? make_synthetic(SyntheticOptions{})
                                          : load_dataset_cached(dataset);
      std::printf("%s", format_stats(compute_stats(ds), ds.name).c_str());
      return 0;
    }
    if (*split_cmd) {
      split_cfg.validate();
      PreparedData d = prepare_data(split_cfg);
      write_lightgcn(d.dataset, split_out);
      std::printf("wrote %s/train.txt (%zu) and %s/test.txt (%zu): %lld users, %lld items\n",
                  split_out.c_str(), d.dataset.train.size(), split_out.c_str(),
                  d.dataset.test.size(), static_cast<long long>(d.dataset.num_users()),
                  static_cast<long long>(d.dataset.num_items()));
      return 0;
    }
  } catch (const std::exception& e) {
    std::string msg = e.what();
    // c10::Error appends a C++ stack trace after the first line: keep one line.
    if (const auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    std::fprintf(stderr, "gnnrec: error: %s\n", msg.c_str());
    return 1;
  }
  return 0;
}
