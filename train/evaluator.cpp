#include "train/evaluator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <ATen/ATen.h>

#include "kernels/ops.h"

namespace gnnrec {

Evaluator::Evaluator(const BipartiteGraph& train, const BipartiteGraph& test,
                     std::vector<int> ks, int64_t users_per_chunk)
    : train_(train), test_(test), ks_(std::move(ks)), chunk_(users_per_chunk) {
  if (train.num_users() != test.num_users() || train.num_items() != test.num_items()) {
    throw std::invalid_argument("evaluator: train and test graphs have different shapes");
  }
  RankingMetrics check(ks_);  // validates ks
  for (int64_t u = 0; u < test.num_users(); ++u) {
    if (test.user_degree(u) > 0) test_users_.push_back(u);
  }
}

std::shared_ptr<const Evaluator::DeviceGraphs> Evaluator::graphs_on(
    const c10::Device& device) const {
  std::lock_guard<std::mutex> lock(cache_->mutex);
  for (const auto& [d, graphs] : cache_->by_device) {
    if (d == device) return graphs;
  }
  const auto long_tensor = [&](const std::vector<int64_t>& v) {
    return at::tensor(v, at::kLong).to(device);
  };
  const auto int_tensor = [&](const std::vector<int32_t>& v) {
    return at::tensor(v, at::kInt).to(device);
  };
  auto graphs = std::make_shared<DeviceGraphs>();
  graphs->train_rowptr = long_tensor(train_.user_offsets());
  graphs->train_col = int_tensor(train_.user_items());
  graphs->test_rowptr = long_tensor(test_.user_offsets());
  graphs->test_col = int_tensor(test_.user_items());
  graphs->test_users = long_tensor(test_users_);
  cache_->by_device.emplace_back(device, graphs);
  return graphs;
}

std::pair<at::Tensor, at::Tensor> Evaluator::prepare(const at::Tensor& user_emb_in,
                                                     const at::Tensor& item_emb_in) const {
  if (user_emb_in.dim() != 2 || item_emb_in.dim() != 2 ||
      user_emb_in.size(0) != train_.num_users() || item_emb_in.size(0) != train_.num_items()) {
    throw std::invalid_argument(
        "evaluator: expected user embeddings [" + std::to_string(train_.num_users()) +
        ", d] and item embeddings [" + std::to_string(train_.num_items()) + ", d], got " +
        c10::str(user_emb_in.sizes()) + " and " + c10::str(item_emb_in.sizes()));
  }
  at::Tensor user_emb = user_emb_in.detach(), item_emb = item_emb_in.detach();
  // One pass over the embeddings, O((U + I) d) against scoring's O(U I d):
  // a NaN or infinite score would rank arbitrarily (and give an AUC of 0)
  // without saying why.
  for (const auto& [what, e] : {std::pair{"user", &user_emb}, std::pair{"item", &item_emb}}) {
    if (e->is_floating_point() && !at::isfinite(*e).all().item<bool>()) {
      throw std::invalid_argument(std::string("evaluator: the ") + what +
                                  " embeddings hold NaN or Inf values");
    }
  }
  const auto ranked = [](at::ScalarType t) { return t == at::kFloat || t == at::kDouble; };
  if (!ranked(user_emb.scalar_type()) || user_emb.scalar_type() != item_emb.scalar_type()) {
    user_emb = user_emb.to(at::kFloat), item_emb = item_emb.to(at::kFloat);
  }
  return {user_emb, item_emb};
}

EvalResult Evaluator::evaluate(const at::Tensor& user_emb_in, const at::Tensor& item_emb_in) const {
  at::NoGradGuard no_grad;
  const auto [user_emb, item_emb] = prepare(user_emb_in, item_emb_in);
  const int64_t k = std::min<int64_t>(RankingMetrics(ks_).max_k(), train_.num_items());
  const auto graphs = graphs_on(user_emb.device());
  const auto [lo, hi] = own_users();
  if (lo == hi) {
    return summarize_all(at::empty({0, k}, graphs->test_users.options()),
                         at::empty({0}, graphs->test_users.options().dtype(at::kDouble)));
  }
  // Everything but the metrics' bookkeeping runs on the embeddings' device;
  // only [test users, k] ids and one AUC per user come back.
  const auto [values, top, auc] = ops::topk_masked_auc(
      user_emb, item_emb, graphs->test_users.narrow(0, lo, hi - lo), graphs->train_rowptr,
      graphs->train_col, graphs->test_rowptr, graphs->test_col, k, chunk_for(user_emb));
  return summarize_all(top, auc);
}

at::Tensor Evaluator::score_rows(const ScoreRows& rows, const at::Tensor& users) const {
  at::Tensor s = rows(users).detach();
  if (s.dim() != 2 || s.size(0) != users.numel() || s.size(1) != train_.num_items()) {
    throw std::invalid_argument("evaluator: expected score rows [" + std::to_string(users.numel()) +
                                ", " + std::to_string(train_.num_items()) + "], got " +
                                c10::str(s.sizes()));
  }
  if (!at::isfinite(s).all().item<bool>()) {
    throw std::invalid_argument("evaluator: the score rows hold NaN or Inf values");
  }
  return s.scalar_type() == at::kDouble ? s : s.to(at::kFloat);
}

EvalResult Evaluator::evaluate(const ScoreRows& rows) const {
  at::NoGradGuard no_grad;
  const int64_t k = std::min<int64_t>(RankingMetrics(ks_).max_k(), train_.num_items());
  const auto [lo, hi] = own_users();
  const at::Tensor all = at::tensor(test_users_, at::kLong);
  std::vector<at::Tensor> tops, aucs;
  const int64_t chunk = chunk_ > 0 ? chunk_ : kRowsChunk;
  for (int64_t begin = lo; begin < hi; begin += chunk) {
    const at::Tensor users = all.narrow(0, begin, std::min(chunk, hi - begin));
    const at::Tensor s = score_rows(rows, users);
    const auto graphs = graphs_on(s.device());
    const auto [values, top, auc] =
        ops::topk_masked_scores(s, users.to(s.device()), graphs->train_rowptr, graphs->train_col,
                                graphs->test_rowptr, graphs->test_col, k);
    tops.push_back(top.cpu()), aucs.push_back(auc.cpu());
  }
  if (tops.empty()) return summarize_all(at::empty({0, k}, at::kLong), at::empty({0}, at::kDouble));
  return summarize_all(at::cat(tops), at::cat(aucs));
}

std::pair<int64_t, int64_t> Evaluator::own_users() const {
  return split_ ? *split_ : std::pair<int64_t, int64_t>{0, test_users_.size()};
}

EvalResult Evaluator::summarize_all(const at::Tensor& top, const at::Tensor& auc) const {
  if (!split_) return summarize(top.cpu().contiguous(), auc.cpu().contiguous());
  const int64_t n = static_cast<int64_t>(test_users_.size()), lo = split_->first;
  std::vector<at::Tensor> all{at::zeros({n, top.size(1)}, top.options()),
                              at::zeros({n}, auc.options())};
  all[0].narrow(0, lo, top.size(0)).copy_(top);
  all[1].narrow(0, lo, auc.size(0)).copy_(auc);
  sum_(all);
  return summarize(all[0].cpu().contiguous(), all[1].cpu().contiguous());
}

void Evaluator::split_users(std::pair<int64_t, int64_t> range, SumAcross sum) {
  const int64_t n = static_cast<int64_t>(test_users_.size());
  if (range.first < 0 || range.first > range.second || range.second > n || !sum) {
    throw std::invalid_argument("evaluator: cannot split the ranking to test users [" +
                                std::to_string(range.first) + ", " + std::to_string(range.second) +
                                ") of " + std::to_string(n));
  }
  split_ = range;
  sum_ = std::move(sum);
}

EvalResult Evaluator::summarize(const at::Tensor& top, const at::Tensor& auc) const {
  const int64_t I = train_.num_items();
  RankingMetrics acc(ks_);
  CoverageMetrics coverage(ks_, I);
  const int64_t k = top.size(1);
  const int64_t* tp = top.data_ptr<int64_t>();
  const double* ap = auc.data_ptr<double>();
  const auto& toff = test_.user_offsets();
  const auto& titems = test_.user_items();
  double auc_sum = 0;
  int64_t auc_users = 0;
  std::vector<RankingMetrics> group_acc(groups_.size(), RankingMetrics(ks_));
  for (size_t r = 0; r < test_users_.size(); ++r) {
    const int64_t u = test_users_[r];
    acc.add_user(tp + r * k, k, titems.data() + toff[u], toff[u + 1] - toff[u]);
    for (size_t g = 0; g < groups_.size(); ++g) {
      if (groups_[g].member[static_cast<size_t>(u)] == 0) continue;
      group_acc[g].add_user(tp + r * k, k, titems.data() + toff[u], toff[u + 1] - toff[u]);
    }
    coverage.add_list(tp + r * k, k);
    // Summed in user order, skipping users without negatives.
    if (std::isnan(ap[r])) continue;
    auc_sum += ap[r];
    ++auc_users;
  }
  EvalResult out{acc.means(), acc.users()};
  for (const auto& [name, value] : coverage.values()) out.metrics[name] = value;
  out.metrics["auc"] = auc_users > 0 ? auc_sum / static_cast<double>(auc_users)
                                     : std::numeric_limits<double>::quiet_NaN();
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (group_acc[g].users() == 0) continue;
    for (const auto& [name, value] : group_acc[g].means()) {
      out.metrics[groups_[g].name + "/" + name] = value;
    }
  }
  return out;
}

void Evaluator::add_user_group(const std::string& name, const std::vector<int64_t>& users) {
  for (const auto& g : groups_) {
    if (g.name == name)
      throw std::invalid_argument("evaluator: user group '" + name + "' is added twice");
  }
  UserGroup g{name, std::vector<char>(static_cast<size_t>(train_.num_users()), 0)};
  for (int64_t u : users) {
    if (u < 0 || u >= train_.num_users()) {
      throw std::invalid_argument("evaluator: user group '" + name + "': user " +
                                  std::to_string(u) + " is out of range [0, " +
                                  std::to_string(train_.num_users()) + ")");
    }
    g.member[static_cast<size_t>(u)] = 1;
  }
  groups_.push_back(std::move(g));
}

std::vector<int64_t> Evaluator::coldest_test_users(double fraction) const {
  if (!(fraction >= 0 && fraction <= 1)) {
    throw std::invalid_argument("evaluator: the cold-user fraction must be in [0, 1], got " +
                                std::to_string(fraction));
  }
  std::vector<int64_t> users = test_users_;
  std::stable_sort(users.begin(), users.end(), [&](int64_t a, int64_t b) {
    return train_.user_degree(a) < train_.user_degree(b);
  });
  const auto n =
      static_cast<size_t>(std::ceil(fraction * static_cast<double>(users.size()) - 1e-9));
  users.resize(std::min(n, users.size()));
  return users;
}

std::map<std::string, double> Evaluator::evaluate_ratings(const PairPredictor& predict,
                                                          int64_t pairs_per_call) const {
  const std::vector<float>& rating = test_.rating();
  if (rating.empty()) throw std::invalid_argument("evaluator: the test pairs have no ratings");
  at::NoGradGuard no_grad;
  // Test pairs in CSR order, the order of test_.rating().
  const int64_t m = test_.num_edges();
  std::vector<int64_t> pair_user(m), pair_item(m);
  const auto& toff = test_.user_offsets();
  for (int64_t u = 0; u < test_.num_users(); ++u) {
    for (int64_t e = toff[u]; e < toff[u + 1]; ++e) {
      pair_user[e] = u;
      pair_item[e] = test_.user_items()[e];
    }
  }
  RatingMetrics acc;
  for (int64_t start = 0; start < m; start += pairs_per_call) {
    const int64_t len = std::min(pairs_per_call, m - start);
    const at::Tensor users = at::tensor(at::ArrayRef<int64_t>(pair_user.data() + start, len), at::kLong);
    const at::Tensor items = at::tensor(at::ArrayRef<int64_t>(pair_item.data() + start, len), at::kLong);
    const at::Tensor pred = predict(users, items).detach().to(at::kDouble).cpu().contiguous().view({-1});
    if (pred.numel() != len) {
      throw std::logic_error("evaluator: the predictor returned " + std::to_string(pred.numel()) +
                             " values for " + std::to_string(len) + " pairs");
    }
    const double* pp = pred.data_ptr<double>();
    for (int64_t j = 0; j < len; ++j) acc.add(pp[j], rating[start + j]);
  }
  return acc.values();
}

std::pair<at::Tensor, at::Tensor> Evaluator::top_items(const at::Tensor& user_emb_in,
                                                       const at::Tensor& item_emb_in,
                                                       const std::vector<int64_t>& users,
                                                       int64_t k) const {
  at::NoGradGuard no_grad;
  const auto [user_emb, item_emb] = prepare(user_emb_in, item_emb_in);
  k = std::min<int64_t>(k, train_.num_items());
  const auto graphs = graphs_on(user_emb.device());
  const at::Tensor idx = at::tensor(users, at::kLong).to(user_emb.device());
  const auto [values, indices] = ops::topk_masked(user_emb, item_emb, idx, graphs->train_rowptr,
                                                  graphs->train_col, k, chunk_for(user_emb));
  return {indices.cpu(), values.to(at::kFloat).cpu()};
}

std::pair<at::Tensor, at::Tensor> Evaluator::top_items(const ScoreRows& rows,
                                                       const std::vector<int64_t>& users,
                                                       int64_t k) const {
  at::NoGradGuard no_grad;
  k = std::min<int64_t>(k, train_.num_items());
  const at::Tensor idx = at::tensor(users, at::kLong);
  const at::Tensor s = score_rows(rows, idx);
  const auto graphs = graphs_on(s.device());
  const auto [values, indices, none] =
      ops::topk_masked_scores(s, idx.to(s.device()), graphs->train_rowptr, graphs->train_col,
                              std::nullopt, std::nullopt, k);
  return {indices.cpu(), values.to(at::kFloat).cpu()};
}

EvalResult Evaluator::evaluate_popularity() const {
  const int64_t I = train_.num_items();
  at::Tensor item = at::empty({I, 1}, at::kFloat);
  float* ip = item.data_ptr<float>();
  for (int64_t i = 0; i < I; ++i) ip[i] = static_cast<float>(train_.item_degree(i));
  return evaluate(at::ones({train_.num_users(), 1}, at::kFloat), item);
}

double Evaluator::mean_training_rating() const {
  const std::vector<float>& rating = train_.rating();
  if (rating.empty()) throw std::invalid_argument("evaluator: the training pairs have no ratings");
  double sum = 0;
  for (float r : rating) sum += r;
  return sum / static_cast<double>(rating.size());
}

EvalResult Evaluator::evaluate_global_mean() const {
  const double mean = mean_training_rating();
  EvalResult out;
  out.metrics = evaluate_ratings([mean](const at::Tensor& users, const at::Tensor&) {
    return at::full({users.numel()}, mean, at::kDouble);
  });
  out.users = static_cast<int64_t>(test_users_.size());
  return out;
}

}  // namespace gnnrec
