#include "train/sampled_evaluation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_set>

#include <ATen/ATen.h>

#include "base/random.h"

namespace gnnrec {

std::map<std::string, double> sampled_metrics(const at::Tensor& scores_in,
                                              const at::Tensor& candidates_in,
                                              const std::vector<int64_t>& pair_user,
                                              const std::vector<int>& ks) {
  const at::Tensor scores = scores_in.to(at::kDouble).contiguous();
  const at::Tensor candidates = candidates_in.to(at::kLong).contiguous();
  const int64_t P = scores.size(0), width = scores.size(1);
  if (candidates.sizes() != scores.sizes() || static_cast<int64_t>(pair_user.size()) != P) {
    throw std::invalid_argument("sampled_metrics: scores, candidates and users disagree in shape");
  }
  const double* s = scores.data_ptr<double>();
  const int64_t* c = candidates.data_ptr<int64_t>();
  std::vector<double> hit(ks.size(), 0), ndcg(ks.size(), 0);
  std::vector<double> user_hit(ks.size(), 0), user_ndcg(ks.size(), 0);
  int64_t users = 0, pairs_of_user = 0;
  for (int64_t p = 0; p < P; ++p) {
    int64_t rank = 0;
    const double st = s[p * width];
    const int64_t t = c[p * width];
    for (int64_t j = 1; j < width; ++j) {
      if (c[p * width + j] < 0) continue;  // padding
      const double sj = s[p * width + j];
      if (sj > st || (sj == st && c[p * width + j] < t)) ++rank;
    }
    for (size_t k = 0; k < ks.size(); ++k) {
      if (rank < ks[k]) {
        user_hit[k] += 1;
        user_ndcg[k] += 1 / std::log2(static_cast<double>(rank) + 2);
      }
    }
    ++pairs_of_user;
    if (p + 1 == P || pair_user[p + 1] != pair_user[p]) {  // the user's last pair
      for (size_t k = 0; k < ks.size(); ++k) {
        hit[k] += user_hit[k] / static_cast<double>(pairs_of_user);
        ndcg[k] += user_ndcg[k] / static_cast<double>(pairs_of_user);
        user_hit[k] = user_ndcg[k] = 0;
      }
      pairs_of_user = 0;
      ++users;
    }
  }
  std::map<std::string, double> out;
  for (size_t k = 0; k < ks.size(); ++k) {
    const double n = users > 0 ? static_cast<double>(users) : std::nan("");
    out["sampled/hit@" + std::to_string(ks[k])] = hit[k] / n;
    out["sampled/ndcg@" + std::to_string(ks[k])] = ndcg[k] / n;
  }
  return out;
}

SampledEvaluator::SampledEvaluator(const BipartiteGraph& train, const BipartiteGraph& test,
                                   std::vector<int> ks, int64_t negatives, uint64_t seed)
    : ks_(std::move(ks)) {
  if (negatives < 1) {
    throw std::invalid_argument("--eval-negatives must be at least 1, got " +
                                std::to_string(negatives));
  }
  const int64_t I = train.num_items();
  const int64_t width = 1 + std::min(negatives, I);
  std::vector<int64_t> cand;
  first_pair_.push_back(0);
  std::unordered_set<int64_t> seen;
  for (int64_t u = 0; u < test.num_users(); ++u) {
    if (test.user_degree(u) == 0) continue;
    users_.push_back(u);
    seen.clear();
    for (int64_t e = train.user_offsets()[u]; e < train.user_offsets()[u + 1]; ++e)
      seen.insert(train.user_items()[e]);
    for (int64_t e = test.user_offsets()[u]; e < test.user_offsets()[u + 1]; ++e)
      seen.insert(test.user_items()[e]);
    const int64_t left = I - static_cast<int64_t>(seen.size());
    SplitMix64 rng(seed, static_cast<uint64_t>(u));
    for (int64_t e = test.user_offsets()[u]; e < test.user_offsets()[u + 1]; ++e) {
      pair_user_.push_back(u);
      cand.push_back(test.user_items()[e]);
      std::unordered_set<int64_t> drawn;
      std::vector<int64_t> row;
      if (left <= width - 1) {  // every remaining item
        for (int64_t j = 0; j < I; ++j) {
          if (!seen.count(j)) row.push_back(j);
        }
      } else {
        while (static_cast<int64_t>(row.size()) < width - 1) {
          const auto j = static_cast<int64_t>(rng.below64(static_cast<uint64_t>(I)));
          if (!seen.count(j) && drawn.insert(j).second) row.push_back(j);
        }
      }
      row.resize(static_cast<size_t>(width - 1), -1);
      cand.insert(cand.end(), row.begin(), row.end());
    }
    first_pair_.push_back(static_cast<int64_t>(pair_user_.size()));
  }
  candidates_ = at::tensor(cand, at::kLong).view({-1, width});
}

std::map<std::string, double> SampledEvaluator::evaluate(const ScoreRows& rows,
                                                         int64_t users_per_chunk) const {
  at::NoGradGuard no_grad;
  const int64_t n = static_cast<int64_t>(users_.size());
  const at::Tensor all = at::tensor(users_, at::kLong);
  std::vector<at::Tensor> scores;
  for (int64_t begin = 0; begin < n; begin += users_per_chunk) {
    const int64_t len = std::min(users_per_chunk, n - begin);
    const at::Tensor s = rows(all.narrow(0, begin, len)).detach();
    const int64_t p0 = first_pair_[begin], p1 = first_pair_[begin + len];
    // Row of each pair within the chunk, and its candidates (padding -> 0, masked after).
    std::vector<int64_t> local;
    for (int64_t r = begin; r < begin + len; ++r) {
      for (int64_t p = first_pair_[r]; p < first_pair_[r + 1]; ++p) local.push_back(r - begin);
    }
    const at::Tensor cand = candidates_.narrow(0, p0, p1 - p0).to(s.device());
    const at::Tensor row = at::tensor(local, at::kLong).to(s.device()).unsqueeze(1);
    at::Tensor picked = s.index({row, cand.clamp_min(0)}).to(at::kDouble);
    picked.masked_fill_(cand < 0, -std::numeric_limits<double>::infinity());
    scores.push_back(picked.cpu());
  }
  if (scores.empty())
    return sampled_metrics(at::empty({0, candidates_.size(1)}, at::kDouble), candidates_,
                           pair_user_, ks_);
  return sampled_metrics(at::cat(scores), candidates_, pair_user_, ks_);
}

}  // namespace gnnrec
