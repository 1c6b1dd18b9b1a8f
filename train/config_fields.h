// The configuration table: one row per option of TrainConfig (train/
// config.h), the one place that names it, says what it does, bounds it and
// says whom it concerns. Everything else is derived from this table:
//   - the `gnnrec train` flags and their --help (cli/main.cpp): the flag is
//     the key with '-' for '_' (--batch-size); a bool whose default is true
//     is switched off by --no-KEY, one whose default is false on by --KEY;
//   - the TOML file of `train --config` (keys as the long flags);
//   - config.json and gnnrec.train's keys (to_json / from_json);
//   - the range checks of TrainConfig::validate();
//   - the resume check (resumed_config compares the keys given);
//   - the data options of `gnnrec data split` and gnnrec.data (kData).
// Adding an option: a member in TrainConfig, a row here, and its use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "models/model.h"
#include "train/config.h"

namespace gnnrec {

// A closed or open numeric range; an unset side is unbounded. Every
// integer option has integer bounds, [ilo, ihi], compared exactly (a double
// cannot hold 2^63 - 1): a value outside them, or beyond its member's type,
// is an error naming the range, never wrapped or saturated.
struct Bounds {
  bool has_lo = false, has_hi = false;
  double lo = 0, hi = 0;
  bool lo_open = false, hi_open = false;
  bool integral = false;
  int64_t ilo = 0, ihi = 0;

  static Bounds none() { return {}; }
  // [lo, hi] of an integer option.
  static Bounds integers(int64_t lo, int64_t hi) {
    Bounds b = closed(static_cast<double>(lo), static_cast<double>(hi));
    b.integral = true, b.ilo = lo, b.ihi = hi;
    return b;
  }
  static Bounds at_least(double v) { return {true, false, v, 0, false, false}; }
  static Bounds above(double v) { return {true, false, v, 0, true, false}; }
  // [lo, hi), [lo, hi], (lo, hi)
  static Bounds half_open(double lo, double hi) { return {true, true, lo, hi, false, true}; }
  static Bounds closed(double lo, double hi) { return {true, true, lo, hi, false, false}; }
  static Bounds open(double lo, double hi) { return {true, true, lo, hi, true, true}; }
};

// "in [0, 1)", "> 0", "at least 1", ">= 0", "in [1, 65536]": the range as
// --help and the range errors ("--dropout must be in [0, 1), got 1") say it.
std::string bounds_text(const Bounds& b);

// Upper bounds shared by several rows: counts of epochs, evaluations and
// interactions; ids (int32).
constexpr int64_t kMaxCount = 1000000000;
constexpr int64_t kMaxId = 2147483647;

// Flags of a row.
enum FieldFlags : unsigned {
  kNoFlags = 0,
  kData = 1u << 0,          // a data option: `data split`, gnnrec.data
  kModelDefault = 1u << 1,  // optional; unset: each model's registered default
};

struct FieldInfo {
  const char* key;                 // config.json key: batch_size
  std::string help;                // --help text
  Bounds bounds = Bounds::none();  // numbers: every value (each element of a list) in range
  unsigned flags = kNoFlags;
  // --help's "[default: ...]" when it is not the value itself.
  const char* default_help = nullptr;
};

// The kinds of member types the generic code (to_json, validate, the CLI)
// tells apart besides numbers, strings, bools, enums and DeviceSpec.
template <typename T>
struct IsOptionalField : std::false_type {};
template <typename T>
struct IsOptionalField<std::optional<T>> : std::true_type {};
template <typename T>
struct IsListField : std::false_type {};
template <typename T>
struct IsListField<std::vector<T>> : std::true_type {};

// "a, b, c"
std::string join_names(const std::vector<std::string>& names);

namespace config_rows {

// The rows of what is trained, on which data (the kData rows among them), written where.
template <typename Visit>
void data(Visit& visit) {
  using C = TrainConfig;
  visit(FieldInfo{"model", "model name: " + join_names(model_names())}, &C::model);
  visit(FieldInfo{"dataset",
                  "data set directory (format detected from its files: train.txt/test.txt, "
                  "u.data, ratings.dat, user_artists.dat, one .inter (RecBole), one .csv/.tsv) or "
                  "'synthetic'",
                  Bounds::none(), kData},
        &C::dataset);
  visit(FieldInfo{"out",
                  "run directory to write (config.json, metrics.jsonl, summary.json, "
                  "checkpoints/)"},
        &C::out);
  visit(FieldInfo{"protocol",
                  "evaluation protocol: ranking (full ranking over a train/test split of the "
                  "interactions) or ctr (KGCN's CTR protocol: every interaction a positive, as "
                  "many sampled negatives per user, records split 6:2:2 into train/eval/test; "
                  "needs --loss bce; reports auc, acc, f1, logloss)"},
        &C::protocol);
  visit(FieldInfo{"split", "split when the data set has none: random, per-user, temporal, loo",
                  Bounds::none(), kData},
        &C::split);
  visit(FieldInfo{"train_ratio", "fraction of interactions kept for training", Bounds::open(0, 1),
                  kData},
        &C::train_ratio);
  visit(FieldInfo{"min_rating",
                  "keep interactions rated at least this (implicit feedback); 0 keeps all",
                  Bounds::none(), kData},
        &C::min_rating);
  visit(FieldInfo{"kcore", "drop users and items with fewer interactions, repeatedly; 0 keeps all",
                  Bounds::integers(0, kMaxCount), kData},
        &C::kcore);
  visit(FieldInfo{"side_info",
                  "ignore the data set's knowledge graph or side information (kgat and kgcn then "
                  "fail; heterogat keeps the user-item relations only)"},
        &C::side_info);
  visit(FieldInfo{"synthetic_users", "users of the synthetic data set",
                  Bounds::integers(2, 10000000), kData},
        &C::synthetic_users);
  visit(FieldInfo{"synthetic_items", "items of the synthetic data set",
                  Bounds::integers(10, 10000000), kData},
        &C::synthetic_items);
}

// The rows of the model.
template <typename Visit>
void model(Visit& visit) {
  using C = TrainConfig;
  visit(FieldInfo{"dim", "embedding width", Bounds::integers(1, 65536)}, &C::dim);
  visit(FieldInfo{"layers", "propagation layers (graph models)", Bounds::integers(0, 64)},
        &C::layers);
  visit(FieldInfo{"dropout",
                  "feature dropout (gcn, gat, sage, heterogat; mlp, neumf, widedeep, dcn, "
                  "twotower: in their MLPs; gru4rec: on its hidden state); input dropout "
                  "(multvae, multdae)",
                  Bounds::half_open(0, 1), kModelDefault},
        &C::dropout);
  visit(FieldInfo{"node_dropout", "fraction of adjacency entries dropped per step (ngcf)",
                  Bounds::half_open(0, 1), kModelDefault},
        &C::node_dropout);
  visit(FieldInfo{"message_dropout", "dropout on each layer's messages (ngcf, kgat)",
                  Bounds::half_open(0, 1), kModelDefault},
        &C::message_dropout);
  visit(FieldInfo{"attention_dropout", "dropout on attention coefficients (gat, heterogat)",
                  Bounds::half_open(0, 1), kModelDefault},
        &C::attention_dropout);
  visit(FieldInfo{"heads", "attention heads, dividing --dim (gat, heterogat)",
                  Bounds::integers(1, 65536), kModelDefault},
        &C::heads);
  visit(FieldInfo{"aggregator",
                  "neighbour aggregator: mean, max, pool, lstm (sage); sum, concat, neighbor "
                  "(kgcn); sum or mean across relations (heterogat)",
                  Bounds::none(), kModelDefault},
        &C::aggregator);
  visit(FieldInfo{"fanouts",
                  "neighbours sampled per layer in training, one per --layers, e.g. 10,10 (sage); "
                  "per entity, one value (kgcn)",
                  Bounds::integers(1, 1000000), kNoFlags,
                  "sage 25,10, then 10 per further layer; kgcn 8"},
        &C::fanouts);
  visit(FieldInfo{"svd_rank",
                  "top right singular vectors of the normalised interaction matrix kept by the "
                  "ideal low-pass filter (gfcf, bspm)",
                  Bounds::integers(1, 65536), kModelDefault},
        &C::svd_rank);
  visit(FieldInfo{"ideal_weight",
                  "weight of the ideal low-pass filter beside the linear one (gfcf: alpha; bspm: "
                  "beta, in the sharpening's start)",
                  Bounds::at_least(0), kModelDefault},
        &C::ideal_weight);
  visit(FieldInfo{"sharpen_time", "end time T_s of the sharpening ODE dr/dt = -r G (bspm)",
                  Bounds::at_least(0), kModelDefault},
        &C::sharpen_time);
  visit(FieldInfo{"sharpen_steps", "solver steps K_s of the sharpening ODE (bspm)",
                  Bounds::integers(1, 1000), kModelDefault},
        &C::sharpen_steps);
  visit(FieldInfo{"sharpen_solver",
                  "solver of the sharpening ODE: euler or rk4 (the 3/8 rule, torchdiffeq's) (bspm)",
                  Bounds::none(), kModelDefault},
        &C::sharpen_solver);
  visit(FieldInfo{"noise_eps", "norm of the uniform noise added after each layer (simgcl, xsimgcl)",
                  Bounds::at_least(0), kModelDefault},
        &C::noise_eps);
  visit(FieldInfo{"cl_weight", "weight lambda of the InfoNCE term (simgcl, xsimgcl)",
                  Bounds::at_least(0), kModelDefault},
        &C::cl_weight);
  visit(FieldInfo{"cl_temperature",
                  "temperature tau of the InfoNCE term (simgcl, xsimgcl), of the in-batch softmax "
                  "(twotower)",
                  Bounds::above(0), kModelDefault},
        &C::cl_temperature);
  visit(FieldInfo{"cl_layer",
                  "layer whose output is contrasted with the final representation (xsimgcl)",
                  Bounds::integers(1, 1000), kModelDefault},
        &C::cl_layer);
  visit(FieldInfo{"negative_ratio", "uniform negatives per training pair (ultragcn)",
                  Bounds::integers(1, 100000), kModelDefault},
        &C::negative_ratio);
  visit(FieldInfo{"negative_share",
                  "consecutive pairs of a batch that share one draw of negatives, scored as one "
                  "GEMM (ultragcn; 1: every pair its own, as the paper)",
                  Bounds::integers(1, kMaxId), kModelDefault},
        &C::negative_share);
  visit(FieldInfo{"negative_weight",
                  "weight of the negatives' term of the constraint loss (ultragcn)",
                  Bounds::at_least(0), kModelDefault},
        &C::negative_weight);
  visit(FieldInfo{"ii_neighbors", "item-item co-occurrence neighbours per item (ultragcn)",
                  Bounds::integers(1, 65536), kModelDefault},
        &C::ii_neighbors);
  visit(FieldInfo{"ii_weight", "weight lambda of the item-item loss (ultragcn)",
                  Bounds::at_least(0), kModelDefault},
        &C::ii_weight);
  visit(FieldInfo{"hidden",
                  "widths of the MLP's layers, e.g. 128,64 (mlp, neumf, dmf, widedeep, dcn, "
                  "twotower)",
                  Bounds::integers(1, 65536), kNoFlags,
                  "mlp, neumf, twotower 2*dim,dim; dmf dim,dim; widedeep 32,16,8; dcn 256,256,256"},
        &C::hidden);
  visit(FieldInfo{"pretrain",
                  "GMF_RUN,MLP_RUN: initialise neumf from a gmf and an mlp run directory (their "
                  "best checkpoints; the output layer weighs them 0.5 each); empty: random"},
        &C::pretrain);
  visit(FieldInfo{"knn_neighbors", "neighbours kept per item (itemknn) or per user (userknn)",
                  Bounds::integers(1, kMaxId), kModelDefault},
        &C::knn_neighbors);
  visit(FieldInfo{"shrink", "shrinkage added to the cosine's denominator (itemknn, userknn)",
                  Bounds::at_least(0), kModelDefault},
        &C::shrink);
  visit(
      FieldInfo{"vae_hidden", "width of the hidden layer of encoder and decoder (multvae, multdae)",
                Bounds::integers(1, 65536), kModelDefault},
      &C::vae_hidden);
  visit(FieldInfo{"vae_latent", "width of the latent code (multvae, multdae)",
                  Bounds::integers(1, 65536), kModelDefault},
        &C::vae_latent);
  visit(FieldInfo{"anneal_cap", "largest weight beta of the KL term (multvae)", Bounds::at_least(0),
                  kModelDefault},
        &C::anneal_cap);
  visit(FieldInfo{"anneal_steps",
                  "updates over which the KL weight grows linearly to --anneal-cap; 0 starts "
                  "there (multvae)",
                  Bounds::integers(0, kMaxCount), kModelDefault},
        &C::anneal_steps);
}

// The rows of optimisation, evaluation, stopping and execution.
template <typename Visit>
void run(Visit& visit) {
  using C = TrainConfig;
  visit(FieldInfo{"loss",
                  "training loss: bpr (pairwise, one negative per pair), bce (binary "
                  "cross-entropy, --negatives per pair) or mse (rating mode: fits the data set's "
                  "explicit ratings, reports rmse and mae)"},
        &C::loss);
  visit(FieldInfo{"negatives", "bce: uniform negatives sampled per positive pair",
                  Bounds::integers(1, 1000)},
        &C::negatives);
  visit(FieldInfo{"sampling",
                  "the pairs of an epoch: per-interaction (every training interaction once, "
                  "shuffled) or per-user (as many draws as interactions, each a uniform user, "
                  "one of its items and a negative: LightGCN's and NGCF's code)"},
        &C::sampling);
  visit(FieldInfo{"epochs", "training epochs (one pass over the training interactions each)",
                  Bounds::integers(1, kMaxCount)},
        &C::epochs);
  visit(FieldInfo{"batch_size", "interactions per batch (gru4rec: parallel sessions)",
                  Bounds::integers(1, kMaxId), kModelDefault, "2048"},
        &C::batch_size);
  visit(FieldInfo{"lr", "Adam learning rate", Bounds::above(0), kModelDefault, "0.001"}, &C::lr);
  visit(FieldInfo{"reg", "L2 weight (on what: --reg-scope)", Bounds::at_least(0), kModelDefault,
                  "0.0001"},
        &C::reg);
  visit(FieldInfo{"reg_scope",
                  "batch: 1/2 |ego rows of the batch|^2 / batch size (LightGCN); full: 1/2 |p|^2 "
                  "of every parameter whole, each batch (KGCN's code)"},
        &C::reg_scope);
  visit(FieldInfo{"seed", "seed for the split, initialisation and sampling",
                  Bounds::integers(0, INT64_MAX), kData},
        &C::seed);
  visit(FieldInfo{"eval_every", "evaluate every N epochs (and after the last)",
                  Bounds::integers(1, kMaxCount)},
        &C::eval_every);
  visit(FieldInfo{"eval_initial",
                  "also evaluate the untrained model before the first epoch (epoch 0 of "
                  "metrics.jsonl, loss null; never the best epoch), so that curves start where "
                  "learning starts; not for training-free models"},
        &C::eval_initial);
  visit(FieldInfo{"topk", "cut-offs K for the metrics", Bounds::integers(1, 100000)}, &C::topk);
  visit(FieldInfo{"cold_fraction",
                  "also report the ranking metrics (cold/recall@K, ...) over this fraction of "
                  "test users with the fewest training interactions; 0 reports none",
                  Bounds::closed(0, 1)},
        &C::cold_fraction);
  visit(FieldInfo{"early_stop_metric",
                  "metric that picks the best epoch and drives early stopping (lower is better "
                  "for rmse, mae and logloss, higher for the others)",
                  Bounds::none(), kNoFlags,
                  "recall@20; rmse with --loss mse; auc with --protocol ctr"},
        &C::early_stop_metric);
  visit(FieldInfo{"patience",
                  "stop after this many evaluations without improvement; 0 never stops early",
                  Bounds::integers(0, kMaxCount)},
        &C::patience);
  visit(FieldInfo{"device", "cpu or cuda[:N]"}, &C::device);
  visit(FieldInfo{"threads", "CPU threads; 0 uses every core", Bounds::integers(0, 4096)},
        &C::threads);
  visit(FieldInfo{"deterministic",
                  "deterministic algorithms on CUDA (ATen's sorting-based index_add/index_select "
                  "backward; an op without one is an error); CPU runs are deterministic anyway"},
        &C::deterministic);
  visit(FieldInfo{"eval",
                  "full (rank every item) or sampled: also NCF's protocol, each test item ranked "
                  "against --eval-negatives sampled items the user never interacted with "
                  "(sampled/hit@K, sampled/ndcg@K; with --split loo)"},
        &C::eval);
  visit(FieldInfo{"eval_negatives", "negatives per test item under --eval sampled",
                  Bounds::integers(1, 1000000)},
        &C::eval_negatives);
  visit(FieldInfo{"group_by",
                  "also report the ranking metrics per value of this user attribute (gender, "
                  "age, occupation: MovieLens 100K's u.user) and each metric's largest gap "
                  "between groups"},
        &C::group_by);
  visit(FieldInfo{"dist_timeout",
                  "seconds a collective of a distributed run (under torchrun) may wait for the "
                  "other ranks before this one stops, naming the rank that does not answer",
                  Bounds::above(0)},
        &C::dist_timeout);
  visit(FieldInfo{"shard_embeddings",
                  "split the embedding tables row-wise across the ranks of a distributed "
                  "run, each rank holding its rows and their Adam state; a batch's rows are "
                  "fetched from their owners, and a graph model's (lightgcn, ngcf, gcn) ranks each "
                  "propagate their nodes' adjacency rows, fetching the halo rows each layer reads "
                  "(docs/distributed.md); for the models an error names"},
        &C::shard_embeddings);
}

}  // namespace config_rows

// Calls visit(FieldInfo, &TrainConfig::member) for every option, in the
// order --help lists them.
template <typename Visit>
void for_each_field(Visit&& visit) {
  config_rows::data(visit);
  config_rows::model(visit);
  config_rows::run(visit);
}

// A number as written on the command line or in a config file, checked
// against the row's range; `name` is how errors call the option ("--epochs",
// "key 'epochs'"). Throws std::invalid_argument: "<name> must be an integer,
// got '5.5'", "<name> must be in [1, 1000000000], got 99999999999999999999"
// (in a list, "must all be"), "<name> must be a number, got 'fast'",
// "<name> must be a finite number > 0, got nan". An integer row's value
// always fits its member.
int64_t parse_integer_text(const FieldInfo& f, const std::string& name, const std::string& text,
                           bool in_list = false);
double parse_number_text(const FieldInfo& f, const std::string& name, const std::string& text);

// The flag of a configuration key (--batch-size), or the key of a flag
// (batch_size from --batch-size or --no-side-info); empty when none.
std::string flag_of_key(const std::string& key);
std::string key_of_flag(const std::string& flag);

}  // namespace gnnrec
