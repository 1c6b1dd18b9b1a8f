#include "train/evaluator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

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

at::Tensor Evaluator::masked_scores(const at::Tensor& user_emb, const at::Tensor& item_emb,
                                    const std::vector<int64_t>& users) const {
  const at::Tensor idx = at::tensor(users, at::kLong).to(user_emb.device());
  at::Tensor scores = at::matmul(user_emb.index_select(0, idx), item_emb.t()).to(at::kFloat).cpu().contiguous();
  float* sp = scores.data_ptr<float>();
  const int64_t I = train_.num_items();
  const auto& off = train_.user_offsets();
  const auto& items = train_.user_items();
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (size_t r = 0; r < users.size(); ++r) {
    for (int64_t e = off[users[r]]; e < off[users[r] + 1]; ++e) sp[r * I + items[e]] = neg_inf;
  }
  return scores;
}

EvalResult Evaluator::evaluate(const at::Tensor& user_emb_in, const at::Tensor& item_emb_in) const {
  at::NoGradGuard no_grad;
  const at::Tensor user_emb = user_emb_in.detach(), item_emb = item_emb_in.detach();
  const int64_t I = train_.num_items();
  RankingMetrics acc(ks_);
  CoverageMetrics coverage(ks_, I);
  const int64_t k = std::min<int64_t>(acc.max_k(), I);
  const auto& toff = test_.user_offsets();
  const auto& titems = test_.user_items();
  const auto& train_off = train_.user_offsets();
  const auto& train_items = train_.user_items();
  double auc_sum = 0;
  int64_t auc_users = 0;
  std::vector<double> user_auc_values;
  for (size_t begin = 0; begin < test_users_.size(); begin += chunk_) {
    const size_t end = std::min(test_users_.size(), begin + static_cast<size_t>(chunk_));
    std::vector<int64_t> users(test_users_.begin() + begin, test_users_.begin() + end);
    const at::Tensor scores = masked_scores(user_emb, item_emb, users);
    const at::Tensor top = std::get<1>(at::topk(scores, k, 1, true, true)).contiguous();
    const int64_t* tp = top.data_ptr<int64_t>();
    const int64_t n = static_cast<int64_t>(users.size());
    for (int64_t r = 0; r < n; ++r) {
      const int64_t u = users[r];
      acc.add_user(tp + r * k, k, titems.data() + toff[u], toff[u + 1] - toff[u]);
      coverage.add_list(tp + r * k, k);
    }
    // Users in parallel, summed afterwards in user order: the result does not
    // depend on the thread count.
    const float* sp = scores.data_ptr<float>();
    user_auc_values.assign(users.size(), 0.0);
    at::parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const int64_t u = users[r];
        user_auc_values[r] = user_auc(sp + r * I, I, titems.data() + toff[u], toff[u + 1] - toff[u],
                                      train_items.data() + train_off[u],
                                      train_off[u + 1] - train_off[u]);
      }
    });
    for (double a : user_auc_values) {
      if (std::isnan(a)) continue;
      auc_sum += a;
      ++auc_users;
    }
  }
  EvalResult out{acc.means(), acc.users()};
  for (const auto& [name, value] : coverage.values()) out.metrics[name] = value;
  out.metrics["auc"] = auc_users > 0 ? auc_sum / static_cast<double>(auc_users)
                                     : std::numeric_limits<double>::quiet_NaN();
  return out;
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

std::pair<at::Tensor, at::Tensor> Evaluator::top_items(const at::Tensor& user_emb,
                                                       const at::Tensor& item_emb,
                                                       const std::vector<int64_t>& users,
                                                       int64_t k) const {
  at::NoGradGuard no_grad;
  const at::Tensor scores = masked_scores(user_emb.detach(), item_emb.detach(), users);
  k = std::min<int64_t>(k, train_.num_items());
  auto [values, indices] = at::topk(scores, k, 1, true, true);
  return {indices, values};
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
