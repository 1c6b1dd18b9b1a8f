#include "train/evaluation.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include <ATen/ATen.h>

#include "train/metrics.h"

namespace gnnrec {
using nlohmann::json;

json metrics_json(const EvalResult& r) {
  json j = json::object();
  for (const auto& [k, v] : r.metrics) j[k] = v;
  return j;
}

std::string format_metrics(const std::map<std::string, double>& m, const std::vector<int>& ks) {
  std::vector<std::string> keys;
  for (const char* key : {"rmse", "mae"}) keys.emplace_back(key);
  for (int k : ks) {
    for (const char* name : {"recall", "ndcg"})
      keys.push_back(std::string(name) + "@" + std::to_string(k));
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

std::vector<int64_t> add_cold_users(Evaluator& evaluator, const TrainConfig& cfg) {
  if (cfg.cold_fraction <= 0) return {};
  std::vector<int64_t> cold = evaluator.coldest_test_users(cfg.cold_fraction);
  evaluator.add_user_group("cold", cold);
  return cold;
}

std::vector<std::string> add_attribute_groups(Evaluator& evaluator, const std::string& attribute,
                                              const PreparedData& data) {
  const std::string relation = "user-has-" + attribute;
  const int32_t r = data.side ? data.side->find_relation(relation) : -1;
  if (r < 0) {
    std::string known;
    for (int32_t k = 0; data.side && k < data.side->num_forward(); ++k) {
      const std::string& name = data.side->relation(k).name;
      if (name.rfind("user-has-", 0) == 0) known += (known.empty() ? "" : ", ") + name.substr(9);
    }
    throw DataError("--group-by " + attribute + ": the data set has no such user attribute (" +
                    (known.empty() ? "it has no user side information; MovieLens 100K's u.user has "
                                     "gender, age, occupation"
                                   : "it has: " + known) +
                    ")");
  }
  const RelationStore& rel = data.side->relation(r);
  const IdMap& values = data.side->ids(rel.dst_type);
  std::vector<std::string> names;
  for (int64_t v = 0; v < values.size(); ++v) {
    std::vector<int64_t> users(rel.src.begin() + rel.t_offsets[v],
                               rel.src.begin() + rel.t_offsets[v + 1]);
    names.push_back(attribute + "=" + values.raw(static_cast<int32_t>(v)));
    evaluator.add_user_group(names.back(), users);
  }
  return names;
}

void add_group_gaps(std::map<std::string, double>& metrics, const std::string& attribute) {
  std::map<std::string, std::pair<double, double>> range;  // metric -> (min, max)
  const std::string prefix = attribute + "=";
  for (const auto& [key, value] : metrics) {
    const size_t slash = key.find('/');
    if (key.rfind(prefix, 0) != 0 || slash == std::string::npos) continue;
    const std::string metric = key.substr(slash + 1);
    auto [it, added] = range.emplace(metric, std::pair{value, value});
    if (!added) {
      it->second.first = std::min(it->second.first, value);
      it->second.second = std::max(it->second.second, value);
    }
  }
  for (const auto& [metric, r] : range) metrics[attribute + "_gap/" + metric] = r.second - r.first;
}

EvalResult evaluate_model(Model& model, const Evaluator& evaluator, bool rating_mode) {
  at::NoGradGuard no_grad;
  model.set_training(false);
  EvalResult r;
  if (model.ranks_rows()) {
    r = evaluator.evaluate([&](const at::Tensor& users) { return model.ranking_rows(users); });
  } else {
    auto [P, Q] = model.ranking();
    r = evaluator.evaluate(P, Q);
  }
  if (rating_mode) {
    const at::Device device = model.parameters().at(0).tensor.device();
    const auto errors =
        evaluator.evaluate_ratings([&](const at::Tensor& users, const at::Tensor& items) {
          auto [u, i] = model.represent(users.to(device), items.to(device));
          return model.score(u, i);
        });
    r.metrics.insert(errors.begin(), errors.end());
  }
  return r;
}

std::map<std::string, double> evaluate_sampled(Model& model, const SampledEvaluator& sampled) {
  at::NoGradGuard no_grad;
  model.set_training(false);
  if (model.ranks_rows()) {
    return sampled.evaluate([&](const at::Tensor& users) { return model.ranking_rows(users); });
  }
  const auto factors = model.ranking();
  const at::Tensor P = factors.first.detach(), Q = factors.second.detach();
  return sampled.evaluate([&](const at::Tensor& users) {
    return at::matmul(P.index_select(0, users.to(P.device())), Q.t());
  });
}

std::pair<at::Tensor, at::Tensor> top_items_of(Model& model, const Evaluator& evaluator,
                                               const std::vector<int64_t>& users, int64_t k) {
  at::NoGradGuard no_grad;
  model.set_training(false);
  if (model.ranks_rows()) {
    return evaluator.top_items([&](const at::Tensor& u) { return model.ranking_rows(u); }, users,
                               k);
  }
  auto [P, Q] = model.ranking();
  return evaluator.top_items(P, Q, users, k);
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

Baseline evaluate_ctr_baseline(const CtrSplit& ctr, int64_t num_items) {
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

Baseline evaluate_baseline(const Evaluator& evaluator, bool rating_mode) {
  if (rating_mode) return {"global_mean", evaluator.evaluate_global_mean()};
  return {"popularity", evaluator.evaluate_popularity()};
}

double EpochEvaluation::value(const std::string& metric) const {
  return (valid ? *valid : test).metrics.at(metric);
}

RunEvaluation::RunEvaluation(const TrainConfig& cfg, const PreparedData& data)
    : cfg_(cfg), data_(data) {
  if (cfg.ctr()) return;
  evaluator_.emplace(*data.train, *data.test, cfg.topk);
  if (evaluator_->test_users().empty())
    throw DataError(cfg.dataset + ": no user has a test interaction");
  cold_users_ = add_cold_users(*evaluator_, cfg);
  if (!cfg.group_by.empty()) groups_ = add_attribute_groups(*evaluator_, cfg.group_by, data);
  if (cfg.eval == EvalMode::kSampled) {
    sampled_.emplace(*data.train, *data.test, cfg.topk, cfg.eval_negatives, cfg.seed);
  }
}

EpochEvaluation RunEvaluation::evaluate(Model& model) const {
  // Under --protocol ctr, the eval records pick the best epoch and the
  // test records are reported ("metrics"); otherwise the test split does both.
  EpochEvaluation e;
  e.test = cfg_.ctr() ? evaluate_ctr(model, data_.ctr->test)
                      : evaluate_model(model, *evaluator_, cfg_.rating_mode());
  if (cfg_.ctr()) e.valid = evaluate_ctr(model, data_.ctr->eval);
  if (!groups_.empty()) add_group_gaps(e.test.metrics, cfg_.group_by);
  if (sampled_) {
    for (const auto& [key, value] : evaluate_sampled(model, *sampled_)) e.test.metrics[key] = value;
  }
  return e;
}

Baseline RunEvaluation::baseline() const {
  return cfg_.ctr() ? evaluate_ctr_baseline(*data_.ctr, data_.train->num_items())
                    : evaluate_baseline(*evaluator_, cfg_.rating_mode());
}

void RunEvaluation::split_users(std::pair<int64_t, int64_t> range, Evaluator::SumAcross sum) {
  if (evaluator_) evaluator_->split_users(range, std::move(sum));
}

int64_t RunEvaluation::test_users() const {
  return evaluator_ ? static_cast<int64_t>(evaluator_->test_users().size()) : 0;
}

}  // namespace gnnrec
