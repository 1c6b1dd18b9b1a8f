#include "train/evaluator.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <ATen/ATen.h>

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
  RankingMetrics acc(ks_);
  const int64_t k = std::min<int64_t>(acc.max_k(), train_.num_items());
  const auto& toff = test_.user_offsets();
  const auto& titems = test_.user_items();
  for (size_t begin = 0; begin < test_users_.size(); begin += chunk_) {
    const size_t end = std::min(test_users_.size(), begin + static_cast<size_t>(chunk_));
    std::vector<int64_t> users(test_users_.begin() + begin, test_users_.begin() + end);
    const at::Tensor scores = masked_scores(user_emb, item_emb, users);
    const at::Tensor top = std::get<1>(at::topk(scores, k, 1, true, true)).contiguous();
    const int64_t* tp = top.data_ptr<int64_t>();
    for (size_t r = 0; r < users.size(); ++r) {
      const int64_t u = users[r];
      acc.add_user(tp + r * k, k, titems.data() + toff[u], toff[u + 1] - toff[u]);
    }
  }
  return {acc.means(), acc.users()};
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

}  // namespace gnnrec
