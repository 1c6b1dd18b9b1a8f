// Operators behind the Python package's gnnrec.metrics and gnnrec.train:
// the C++ evaluator and training loop, exposed through the dispatcher so that
// Python reaches them with the library it already loads. They are internal
// (leading underscore) and registered for every device (CatchAll): they take
// no part in autograd and copy what they need to the CPU.
//
//   _evaluate_ranking(user_emb, item_emb, train_rowptr, train_col,
//                     test_rowptr, test_col, ks) -> (names, values)
//     Evaluator::evaluate on graphs built from the two user -> item CSR
//     matrices; names[k] is the metric whose value is values[k] (float64).
//   _train(config_json, resume=False, overwrite=False) -> summary_json
//     gnnrec::train(config, quiet) with the keys of config.json (from_json:
//     an unknown key is an error, as in a `gnnrec train --config` file). resume and
//     overwrite are `gnnrec train --resume` and `--overwrite`: a resumed run
//     takes its configuration from RUN_DIR/config.json and only `out` and
//     `epochs` from config_json (as the CLI takes only --out and --epochs);
//     any other key given must agree with the run's.
//   _load_dataset(config_json) -> (train_user, train_item, train_rating,
//                                  test_user, test_item, test_rating,
//                                  user_ids, item_ids)
//     prepare_data(config) with the data keys of config.json (the kData rows
//     of train/config_fields.h: dataset, split, train_ratio, min_rating,
//     kcore, seed, synthetic_users, synthetic_items; any other key is an
//     error): dense ids as int64, ratings as float32
//     (empty when the data set has none), and the raw ids, so that dense user
//     u is raw id user_ids[u]. Errors keep the loaders' one-line message.
//   _load_run(run_dir, which) -> (users, items, user_ids, item_ids, card_json)
//     load_serving_run (train/serving_run.h): the run's ranking factors
//     (float32, CPU), raw ids in row order and the model card, as `gnnrec
//     export` writes them.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/library.h>

#include "base/file_io.h"
#include "graph/bipartite_graph.h"
#include "train/config.h"
#include "train/config_fields.h"
#include "train/evaluator.h"
#include "train/serving_run.h"
#include "train/trainer.h"

namespace gnnrec {
namespace {

BipartiteGraph graph_from_csr(const at::Tensor& rowptr_in, const at::Tensor& col_in,
                              int64_t num_users, int64_t num_items, const char* what) {
  if (rowptr_in.dim() != 1 || col_in.dim() != 1) {
    throw std::invalid_argument(std::string(what) + ": rowptr and col must be 1-d");
  }
  const at::Tensor rowptr = rowptr_in.to(at::kCPU, at::kLong).contiguous();
  const at::Tensor col = col_in.to(at::kCPU, at::kLong).contiguous();
  if (rowptr.numel() != num_users + 1) {
    throw std::invalid_argument(std::string(what) + ": rowptr has " +
                                std::to_string(rowptr.numel()) + " entries, expected users + 1 = " +
                                std::to_string(num_users + 1));
  }
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int64_t* c = col.data_ptr<int64_t>();
  if (rp[0] != 0 || rp[num_users] != col.numel()) {
    throw std::invalid_argument(std::string(what) + ": rowptr must start at 0 and end at col's length");
  }
  Interactions x;
  x.reserve(static_cast<size_t>(col.numel()));
  for (int64_t u = 0; u < num_users; ++u) {
    if (rp[u + 1] < rp[u]) throw std::invalid_argument(std::string(what) + ": rowptr must be non-decreasing");
    for (int64_t k = rp[u]; k < rp[u + 1]; ++k) {
      if (c[k] < 0 || c[k] >= num_items) {
        throw std::invalid_argument(std::string(what) + ": item " + std::to_string(c[k]) +
                                    " out of range [0, " + std::to_string(num_items) + ")");
      }
      x.user.push_back(static_cast<int32_t>(u));
      x.item.push_back(static_cast<int32_t>(c[k]));
    }
  }
  return BipartiteGraph::build(num_users, num_items, x);
}

std::tuple<std::vector<std::string>, at::Tensor> evaluate_ranking(
    const at::Tensor& user_emb, const at::Tensor& item_emb, const at::Tensor& train_rowptr,
    const at::Tensor& train_col, const at::Tensor& test_rowptr, const at::Tensor& test_col,
    at::IntArrayRef ks) {
  if (user_emb.dim() != 2 || item_emb.dim() != 2 || user_emb.size(1) != item_emb.size(1)) {
    throw std::invalid_argument("user_emb and item_emb must be [users, d] and [items, d]");
  }
  if (ks.empty()) throw std::invalid_argument("ks must not be empty");
  std::vector<int> k_list;
  for (const int64_t k : ks) {
    if (k < 1) throw std::invalid_argument("ks must be >= 1, got " + std::to_string(k));
    k_list.push_back(static_cast<int>(k));
  }
  const int64_t users = user_emb.size(0), items = item_emb.size(0);
  const BipartiteGraph train = graph_from_csr(train_rowptr, train_col, users, items, "train");
  const BipartiteGraph test = graph_from_csr(test_rowptr, test_col, users, items, "test");
  const Evaluator evaluator(train, test, k_list);
  const at::Tensor u = user_emb.detach(), i = item_emb.detach();
  const EvalResult r = evaluator.evaluate(u, i);
  std::vector<std::string> names;
  at::Tensor values = at::empty({static_cast<int64_t>(r.metrics.size())}, at::kDouble);
  double* v = values.data_ptr<double>();
  for (const auto& [name, value] : r.metrics) {
    names.push_back(name);
    *v++ = value;
  }
  return {names, values};
}

// JSON has no NaN or infinity: gnnrec.train and gnnrec.data.load send such
// a float as {"$float": "nan"} ("inf", "-inf"; python/gnnrec/_config.py).
// Turned back into the number here, so that the range check names the key
// ("--lr must be a finite number > 0, got nan"), not the JSON parser.
void restore_non_finite(nlohmann::json& j) {
  if (j.is_array()) {
    for (nlohmann::json& e : j) restore_non_finite(e);
    return;
  }
  if (!j.is_object()) return;
  const auto it = j.find("$float");
  if (j.size() == 1 && it != j.end() && it->is_string()) {
    const std::string v = it->get<std::string>();
    const double inf = std::numeric_limits<double>::infinity();
    if (v == "nan") j = std::numeric_limits<double>::quiet_NaN();
    if (v == "inf") j = inf;
    if (v == "-inf") j = -inf;
    return;
  }
  for (auto& [key, value] : j.items()) restore_non_finite(value);
}

// The configuration object in `text`, from Python.
nlohmann::json parse_config(const std::string& text, const char* what) {
  nlohmann::json j = nlohmann::json::parse(text);
  if (!j.is_object()) throw std::invalid_argument(std::string(what) + " must be a JSON object");
  restore_non_finite(j);
  return j;
}

// The configuration of the run in given["out"], as `gnnrec train --resume`
// reads it, with `epochs` from `given` when there. A key of `given` that
// disagrees with the run's (defaults resolved on both sides) is an error
// rather than silently ignored.
TrainConfig resumed_config(const nlohmann::json& given) {
  if (!given.contains("out")) throw std::invalid_argument("resume needs 'out', the run directory");
  const TrainConfig asked = given.get<TrainConfig>();
  const std::string path = (std::filesystem::path(asked.out) / "config.json").string();
  if (!std::filesystem::exists(path)) {
    throw std::invalid_argument("resume: " + path + " does not exist (no run to resume)");
  }
  std::vector<std::string> keys;
  for (const auto& item : given.items()) keys.push_back(item.key());
  return gnnrec::resumed_config(path, asked, keys, "resume",
                                [](const std::string& key) { return "'" + key + "'"; });
}

std::string train_json(const std::string& config_json, bool resume, bool overwrite) {
  const nlohmann::json j = parse_config(config_json, "the training configuration");
  const TrainConfig cfg = resume ? resumed_config(j) : j.get<TrainConfig>();
  TrainOptions opts;
  opts.resume = resume;
  opts.overwrite = overwrite;
  opts.quiet = true;
  return train(cfg, opts).dump();
}

using LoadedData = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor,
                              at::Tensor, std::vector<std::string>, std::vector<std::string>>;

at::Tensor int_column(const std::vector<int32_t>& v) {
  at::Tensor t = at::empty({static_cast<int64_t>(v.size())}, at::kLong);
  int64_t* p = t.data_ptr<int64_t>();
  for (size_t k = 0; k < v.size(); ++k) p[k] = v[k];
  return t;
}

at::Tensor float_column(const std::vector<float>& v) {
  at::Tensor t = at::empty({static_cast<int64_t>(v.size())}, at::kFloat);
  std::copy(v.begin(), v.end(), t.data_ptr<float>());
  return t;
}

LoadedData load_dataset_json(const std::string& config_json) {
  const nlohmann::json j = parse_config(config_json, "the data configuration");
  std::set<std::string> data_keys;
  for_each_field([&](const FieldInfo& f, auto) {
    if ((f.flags & kData) != 0) data_keys.insert(f.key);
  });
  for (const auto& item : j.items()) {
    if (data_keys.count(item.key()) == 0) {
      throw std::invalid_argument("unknown data option '" + item.key() + "'");
    }
  }
  nlohmann::json full = TrainConfig{};
  full.update(j);
  const TrainConfig cfg = full.get<TrainConfig>();
  cfg.validate();
  const PreparedData data = prepare_data(cfg);
  const Dataset& ds = data.dataset;
  return {int_column(ds.train.user), int_column(ds.train.item), float_column(ds.train.rating),
          int_column(ds.test.user),  int_column(ds.test.item),  float_column(ds.test.rating),
          ds.users.raw_ids(),        ds.items.raw_ids()};
}

std::tuple<at::Tensor, at::Tensor, std::vector<std::string>, std::vector<std::string>, std::string>
load_run_for_python(const std::string& run_dir, const std::string& which) {
  if (which != "best" && which != "last") {
    throw std::invalid_argument("checkpoint must be 'best' or 'last', got '" + which + "'");
  }
  const ServingRun s = load_serving_run(run_dir, which);
  return {s.users, s.items, s.user_ids().raw_ids(), s.item_ids().raw_ids(), model_card(s).dump()};
}

}  // namespace
}  // namespace gnnrec

// The schemas are declared in kernels/library.cpp. CompositeImplicitAutograd
// is the key a catch-all kernel is registered under: one kernel for every
// device.
TORCH_LIBRARY_IMPL(gnnrec, CompositeImplicitAutograd, m) {
  m.impl("_evaluate_ranking", TORCH_FN(gnnrec::evaluate_ranking));
  m.impl("_train", TORCH_FN(gnnrec::train_json));
  m.impl("_load_dataset", TORCH_FN(gnnrec::load_dataset_json));
  m.impl("_load_run", TORCH_FN(gnnrec::load_run_for_python));
}
