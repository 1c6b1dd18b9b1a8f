// The configuration table (train/config_fields.h) and what comes from it:
// config.json (keys, values, errors), the range checks, the flag names.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/testing/scratch.h"
#include "train/config.h"
#include "train/config_fields.h"

namespace gnnrec {
namespace {
using gnnrec::testing::error_of;
using nlohmann::json;

// config.json of the default configuration as the trainer wrote it before
// the table existed (the string-typed TrainConfig): the table must keep the
// format, so that every run directory written before still resumes.
const char* const kDefaultConfigJson = R"({
  "aggregator": null, "attention_dropout": null, "batch_size": 2048, "cold_fraction": 0.0,
  "dataset": "synthetic", "deterministic": false, "device": "cpu", "dim": 64, "dropout": null,
  "early_stop_metric": "", "epochs": 100, "eval_every": 5, "fanouts": null, "heads": null,
  "kcore": 0, "layers": 3, "loss": "bpr", "lr": 0.001, "message_dropout": null,
  "min_rating": 0.0, "model": "lightgcn", "negatives": 4, "node_dropout": null, "out": "",
  "patience": 10, "protocol": "ranking", "reg": 0.0001, "reg_scope": "batch", "seed": 2020,
  "side_info": true, "split": "per-user", "synthetic_items": 2000, "synthetic_users": 3000,
  "threads": 0, "topk": [10, 20], "train_ratio": 0.8})";
// The per-model options added since (issue 20's models), null by default:
// a config.json without them reads them as unset, so older runs still resume.
const char* const kAddedModelOptions[] = {
    "svd_rank",       "ideal_weight",    "sharpen_time",   "sharpen_steps", "sharpen_solver",
    "noise_eps",      "cl_weight",       "cl_temperature", "cl_layer",      "negative_ratio",
    "negative_share", "negative_weight", "ii_neighbors",   "ii_weight",     "hidden",
    "knn_neighbors",  "shrink",          "vae_hidden",     "vae_latent",    "anneal_cap",
    "anneal_steps"};

// Keys added since, with their defaults: a config.json without them reads
// as the defaults, so older runs resume unchanged.
const char* const kAddedKeys =
    R"({"sampling": "per-interaction", "pretrain": "", "eval_initial": false, "eval": "full",
        "eval_negatives": 99, "group_by": "", "dist_timeout": 300.0,
        "shard_embeddings": false})";

TEST(ConfigTable, DefaultConfigJsonKeepsItsFormat) {
  json expected = json::parse(kDefaultConfigJson);
  expected.update(json::parse(kAddedKeys));
  for (const char* key : kAddedModelOptions) expected[key] = nullptr;
  // Written by an older run, its batch_size, lr and reg read back as they are
  // there; unset (null) until resolved() fills them (a run's config.json
  // holds them resolved).
  const json older = expected;
  for (const char* key : {"batch_size", "lr", "reg"}) expected[key] = nullptr;
  EXPECT_EQ(json(TrainConfig{}).dump(), expected.dump());
  // The file of an older run, without the added keys, reads back as the defaults.
  EXPECT_EQ(json(json::parse(kDefaultConfigJson).get<TrainConfig>()).dump(), older.dump());
}

TEST(ConfigTable, EveryOptionRoundTripsThroughConfigJson) {
  TrainConfig c;
  c.model = "gat";
  c.protocol = Protocol::kCtr;
  c.loss = Loss::kBce;
  c.reg_scope = RegScope::kFull;
  c.device = parse_device_spec("--device", "cuda:1");
  c.side_info = false;
  c.deterministic = true;
  c.dist_timeout = 12.5;
  c.shard_embeddings = true;
  c.dropout = 0.25;
  c.heads = 2;
  c.aggregator = "pool";
  c.fanouts = {5, 3};
  c.topk = {5};
  c.seed = 9223372036854775807ull;  // the largest seed, 2^63 - 1, survives JSON
  const json j = c;
  const TrainConfig back = j.get<TrainConfig>();
  EXPECT_EQ(json(back), j);
  EXPECT_EQ(j.at("protocol"), "ctr");
  EXPECT_EQ(j.at("loss"), "bce");
  EXPECT_EQ(j.at("reg_scope"), "full");
  EXPECT_EQ(j.at("device"), "cuda:1");
  EXPECT_EQ(back.device, (DeviceSpec{DeviceSpec::Kind::kCuda, 1}));
  EXPECT_EQ(back.seed, 9223372036854775807ull);
  EXPECT_EQ(back.fanouts, (std::vector<int64_t>{5, 3}));
  // Every key config.json has is a row of the table, and the other way round.
  std::set<std::string> rows;
  for_each_field([&](const FieldInfo& f, auto) { rows.insert(f.key); });
  std::set<std::string> keys;
  for (const auto& item : j.items()) keys.insert(item.key());
  EXPECT_EQ(rows, keys);
}

// batch_size, lr and reg: unset, the model's registered value (gru4rec's
// paper batch of 50 sessions and no L2) or else the general default, which
// --help shows as the row's default_help.
TEST(ConfigTable, OptimisationDefaultsComeFromTheModelThenTheGeneralOnes) {
  TrainConfig c;
  c.model = "mf";
  TrainConfig r = c.resolved();
  EXPECT_EQ(r.batch_size, kDefaultBatchSize);
  EXPECT_EQ(r.lr, kDefaultLr);
  EXPECT_EQ(r.reg, kDefaultReg);
  c.model = "gru4rec";
  r = c.resolved();
  EXPECT_EQ(r.batch_size, 50);
  EXPECT_EQ(r.lr, kDefaultLr);
  EXPECT_EQ(r.reg, 0.0);
  c.model = "multdae";  // the paper's L2, the general batch
  r = c.resolved();
  EXPECT_EQ(r.batch_size, kDefaultBatchSize);
  EXPECT_EQ(r.reg, 0.01);
  c.model = "gru4rec";
  c.batch_size = 7;  // given: kept
  c.reg = 0.5;
  r = c.resolved();
  EXPECT_EQ(r.batch_size, 7);
  EXPECT_EQ(r.reg, 0.5);
  std::map<std::string, double> shown;
  for_each_field([&](const FieldInfo& f, auto) {
    if (f.default_help != nullptr) shown[f.key] = std::atof(f.default_help);
  });
  EXPECT_EQ(shown.at("batch_size"), static_cast<double>(kDefaultBatchSize));
  EXPECT_EQ(shown.at("lr"), kDefaultLr);
  EXPECT_EQ(shown.at("reg"), kDefaultReg);
}

TEST(ConfigTable, MissingKeysAreDefaultsAndUnknownOrMistypedKeysAreNamed) {
  const TrainConfig c = json{{"dim", 8}}.get<TrainConfig>();
  EXPECT_EQ(c.dim, 8);
  EXPECT_FALSE(c.lr.has_value());  // resolved() fills it
  EXPECT_EQ(c.loss, Loss::kBpr);
  auto error = [](const char* text) {
    return error_of<std::invalid_argument>([&] { json::parse(text).get<TrainConfig>(); });
  };
  EXPECT_EQ(error(R"({"learning_rate": 0.1})"), "unknown configuration key 'learning_rate'");
  EXPECT_EQ(error(R"({"model": 5})"),
            "a value has the wrong type: 'model' must be a string, got 5");
  EXPECT_EQ(error(R"({"dim": 1.5})"),
            "a value has the wrong type: 'dim' must be an integer, got 1.5");
  EXPECT_EQ(error(R"({"lr": "fast"})"),
            "a value has the wrong type: 'lr' must be a number, got \"fast\"");
  EXPECT_EQ(error(R"({"side_info": 1})"),
            "a value has the wrong type: 'side_info' must be true or false, got 1");
  EXPECT_EQ(error(R"({"topk": [10, "x"]})"),
            "a value has the wrong type: 'topk' must be an integer, got \"x\"");
  // Integers out of their row's range, or past their member's type, name the range.
  EXPECT_EQ(error(R"({"threads": 4294967296})"), "'threads' must be in [0, 4096], got 4294967296");
  EXPECT_EQ(error(R"({"seed": -1})"), "'seed' must be in [0, 9223372036854775807], got -1");
  EXPECT_EQ(error(R"({"seed": 9223372036854775808})"),
            "'seed' must be in [0, 9223372036854775807], got 9223372036854775808");
  EXPECT_EQ(error(R"({"seed": 18446744073709551616})"),
            "'seed' must be in [0, 9223372036854775807], got 1.8446744073709552e+19");
  EXPECT_EQ(error(R"({"epochs": 1000000000000000000000000000000})"),
            "'epochs' must be in [1, 1000000000], got 1e+30");
  EXPECT_EQ(error(R"({"dim": 8.0})"),
            "a value has the wrong type: 'dim' must be an integer, got 8.0");
  EXPECT_EQ(error(R"({"fanouts": [10, -1]})"), "'fanouts' must be in [1, 1000000], got -1");
  EXPECT_EQ(error(R"({"loss": "hinge"})"), "'loss' must be bpr, bce or mse, got 'hinge'");
  EXPECT_EQ(error(R"({"protocol": "clicks"})"), "'protocol' must be ranking or ctr, got 'clicks'");
  EXPECT_EQ(error(R"({"device": "gpu"})"), "'device' must be 'cpu' or 'cuda[:N]', got 'gpu'");
  EXPECT_EQ(error(R"({"device": "cuda:x"})"), "'device' must be 'cpu' or 'cuda[:N]', got 'cuda:x'");
}

TEST(ConfigTable, RangeChecksComeFromTheTable) {
  auto error = [](auto edit) {
    TrainConfig c;
    edit(c);
    return error_of<std::invalid_argument>([&] { c.validate(); });
  };
  EXPECT_EQ(error([](TrainConfig& c) { c.heads = 0; }), "--heads must be in [1, 65536], got 0");
  EXPECT_EQ(error([](TrainConfig& c) { c.dropout = 1.0; }), "--dropout must be in [0, 1), got 1");
  EXPECT_EQ(error([](TrainConfig& c) { c.train_ratio = 1; }),
            "--train-ratio must be in (0, 1), got 1");
  EXPECT_EQ(error([](TrainConfig& c) { c.cold_fraction = 1.5; }),
            "--cold-fraction must be in [0, 1], got 1.5");
  EXPECT_EQ(error([](TrainConfig& c) { c.lr = -1; }), "--lr must be > 0, got -1");
  EXPECT_EQ(error([](TrainConfig& c) { c.lr = 1.0 / 0.0; }),
            "--lr must be a finite number > 0, got inf");
  EXPECT_EQ(error([](TrainConfig& c) { c.min_rating = std::nan(""); }),
            "--min-rating must be a finite number, got nan");
  EXPECT_EQ(error([](TrainConfig& c) { c.seed = 9223372036854775808ull; }),
            "--seed must be in [0, 9223372036854775807], got 9223372036854775808");
  EXPECT_EQ(error([](TrainConfig& c) { c.reg = -0.5; }), "--reg must be >= 0, got -0.5");
  EXPECT_EQ(error([](TrainConfig& c) {
              c.fanouts = {10, 0};
            }),
            "--fanouts must all be in [1, 1000000], got 0");
  EXPECT_EQ(error([](TrainConfig& c) {
              c.topk = {10, 0};
            }),
            "--topk must all be in [1, 100000], got 0");
  EXPECT_EQ(error([](TrainConfig& c) { c.synthetic_items = 9; }),
            "--synthetic-items must be in [10, 10000000], got 9");
  // Rules between fields stay in validate().
  EXPECT_EQ(error([](TrainConfig& c) { c.protocol = Protocol::kCtr; }),
            "--protocol ctr trains on labelled records with the log loss: pass --loss bce (got "
            "'bpr')");
  TrainConfig ok;
  ok.heads = 1;
  ok.dropout = 0.0;
  ok.validate();
}

// T, or the element type of an optional or list T.
template <typename T>
struct Element {
  using type = T;
};
template <typename T>
struct Element<std::optional<T>> {
  using type = T;
};
template <typename T>
struct Element<std::vector<T>> {
  using type = T;
};

TEST(ConfigTable, EveryIntegerOptionHasAnExactRangeWithinItsType) {
  for_each_field([](const FieldInfo& f, auto member) {
    using V = typename Element<std::remove_reference_t<decltype(TrainConfig{}.*member)>>::type;
    if constexpr (std::is_integral_v<V> && !std::is_same_v<V, bool>) {
      EXPECT_TRUE(f.bounds.integral) << f.key;
      EXPECT_LE(f.bounds.ilo, f.bounds.ihi) << f.key;
      EXPECT_GE(f.bounds.ilo, static_cast<int64_t>(std::numeric_limits<V>::min())) << f.key;
      EXPECT_LE(static_cast<uint64_t>(f.bounds.ihi),
                static_cast<uint64_t>(std::numeric_limits<V>::max()))
          << f.key;
    }
  });
}

// The text of a flag or a config-file value (the CLI's parser).
TEST(ConfigTable, IntegerAndNumberTextIsParsedAndRangeChecked) {
  FieldInfo seed{"seed", "", Bounds::integers(0, INT64_MAX)};
  FieldInfo epochs{"epochs", "", Bounds::integers(1, 1000000000)};
  FieldInfo lr{"lr", "", Bounds::above(0)};
  EXPECT_EQ(parse_integer_text(seed, "--seed", "9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_integer_text(epochs, "--epochs", "+7"), 7);
  EXPECT_EQ(parse_integer_text(epochs, "--epochs", "007"), 7);
  auto error = [](auto f) { return error_of<std::invalid_argument>(f); };
  // Not wrapped (-1 is not 2^64 - 1) and not saturated (2^63 - 1).
  EXPECT_EQ(error([&] { parse_integer_text(seed, "--seed", "-1"); }),
            "--seed must be in [0, 9223372036854775807], got -1");
  EXPECT_EQ(error([&] { parse_integer_text(seed, "--seed", "99999999999999999999"); }),
            "--seed must be in [0, 9223372036854775807], got 99999999999999999999");
  EXPECT_EQ(error([&] { parse_integer_text(seed, "--seed", "9223372036854775808"); }),
            "--seed must be in [0, 9223372036854775807], got 9223372036854775808");
  EXPECT_EQ(error([&] { parse_integer_text(epochs, "key 'epochs'", "-9223372036854775808"); }),
            "key 'epochs' must be in [1, 1000000000], got -9223372036854775808");
  EXPECT_EQ(error([&] { parse_integer_text(epochs, "--epochs", "1000000001"); }),
            "--epochs must be in [1, 1000000000], got 1000000001");
  EXPECT_EQ(error([&] { parse_integer_text(epochs, "--fanouts", "0", true); }),
            "--fanouts must all be in [1, 1000000000], got 0");
  for (const char* bad : {"", "-", "5.5", "1e3", " 5", "0x10", "five"}) {
    EXPECT_EQ(error([&] { parse_integer_text(epochs, "--epochs", bad); }),
              std::string("--epochs must be an integer, got '") + bad + "'");
  }
  EXPECT_EQ(parse_number_text(lr, "--lr", "1e-3"), 1e-3);
  EXPECT_EQ(error([&] { parse_number_text(lr, "--lr", "nan"); }),
            "--lr must be a finite number > 0, got nan");
  EXPECT_EQ(error([&] { parse_number_text(lr, "--lr", "1e999"); }),
            "--lr must be a finite number > 0, got 1e999");
  EXPECT_EQ(error([&] { parse_number_text(lr, "--lr", "-0.5"); }), "--lr must be > 0, got -0.5");
  EXPECT_EQ(error([&] { parse_number_text(lr, "--lr", "fast"); }),
            "--lr must be a number, got 'fast'");
  EXPECT_EQ(error([&] { parse_number_text(lr, "--lr", "0.1x"); }),
            "--lr must be a number, got '0.1x'");
}

TEST(ConfigTable, FlagsAndKeys) {
  EXPECT_EQ(flag_of_key("batch_size"), "--batch-size");
  EXPECT_EQ(flag_of_key("side_info"), "--no-side-info");  // its default is true
  EXPECT_EQ(flag_of_key("deterministic"), "--deterministic");
  EXPECT_EQ(flag_of_key("learning_rate"), "");
  EXPECT_EQ(key_of_flag("--early-stop-metric"), "early_stop_metric");
  EXPECT_EQ(key_of_flag("--no-side-info"), "side_info");
  EXPECT_EQ(key_of_flag("--resume"), "");
}

TEST(ConfigTable, EnumsAndDevices) {
  EXPECT_EQ(enum_choices<Loss>(), "bpr, bce or mse");
  EXPECT_EQ(enum_choices<Protocol>(), "ranking or ctr");
  EXPECT_EQ(parse_enum<RegScope>("--reg-scope", "full"), RegScope::kFull);
  EXPECT_EQ(error_of<std::invalid_argument>([] { parse_enum<RegScope>("--reg-scope", "rows"); }),
            "--reg-scope must be batch or full, got 'rows'");
  EXPECT_EQ(parse_device_spec("--device", "cpu").str(), "cpu");
  EXPECT_EQ(parse_device_spec("--device", "cuda").str(), "cuda");
  EXPECT_EQ(parse_device_spec("--device", "cuda").index, -1);
  EXPECT_EQ(parse_device_spec("--device", "cuda:3").index, 3);
  EXPECT_EQ(error_of<std::invalid_argument>([] { parse_device_spec("--device", "cuda:"); }),
            "--device must be 'cpu' or 'cuda[:N]', got 'cuda:'");
}

}  // namespace
}  // namespace gnnrec

namespace gnnrec {
namespace {

// The paper defaults the models register (the old --help listed them by
// hand: "gcn 0.5, gat 0.6, sage 0, heterogat 0", ...), now in name order.
TEST(ConfigTable, ModelDefaultsInHelpComeFromTheModels) {
  EXPECT_EQ(model_defaults_help("dropout"),
            "dcn 0.2, gat 0.6, gcn 0.5, gru4rec 0.5, heterogat 0, mlp 0.1, multdae 0.5, "
            "multvae 0.5, neumf 0.1, sage 0, widedeep 0.1");
  EXPECT_EQ(model_defaults_help("node_dropout"), "ngcf 0.1");
  EXPECT_EQ(model_defaults_help("message_dropout"), "kgat 0.1, ngcf 0.1");
  EXPECT_EQ(model_defaults_help("attention_dropout"), "gat 0.6, heterogat 0");
  EXPECT_EQ(model_defaults_help("heads"), "gat 8, heterogat 4");
  EXPECT_EQ(model_defaults_help("aggregator"), "heterogat mean, kgcn sum, sage mean");
  EXPECT_EQ(model_defaults_help("lr"), "");
}

}  // namespace
}  // namespace gnnrec
