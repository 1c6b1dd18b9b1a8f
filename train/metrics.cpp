#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gnnrec {
namespace {

enum Metric { kPrecision, kRecall, kHit, kNdcg, kMrr, kMap, kNumMetrics };
const char* const kNames[kNumMetrics] = {"precision", "recall", "hit", "ndcg", "mrr", "map"};

}  // namespace

RankingMetrics::RankingMetrics(std::vector<int> ks) : ks_(std::move(ks)) {
  if (ks_.empty()) throw std::invalid_argument("--topk needs at least one K");
  for (int k : ks_) {
    if (k < 1) throw std::invalid_argument("--topk values must be positive, got " + std::to_string(k));
    max_k_ = std::max(max_k_, k);
  }
  sums_.assign(kNumMetrics, std::vector<double>(ks_.size(), 0.0));
}

void RankingMetrics::add_user(const int64_t* ranked, int64_t ranked_len, const int32_t* test,
                              int64_t n_test) {
  ++users_;
  const int64_t len = std::min<int64_t>(ranked_len, max_k_);
  // Prefix statistics over ranks 1..len.
  std::vector<double> hits(len + 1, 0.0), dcg(len + 1, 0.0), ap(len + 1, 0.0);
  int64_t first_hit = 0;
  for (int64_t i = 1; i <= len; ++i) {
    const bool rel = std::binary_search(test, test + n_test, static_cast<int32_t>(ranked[i - 1]));
    hits[i] = hits[i - 1] + (rel ? 1 : 0);
    dcg[i] = dcg[i - 1] + (rel ? 1.0 / std::log2(static_cast<double>(i) + 1.0) : 0.0);
    ap[i] = ap[i - 1] + (rel ? hits[i] / static_cast<double>(i) : 0.0);
    if (rel && first_hit == 0) first_hit = i;
  }
  for (size_t j = 0; j < ks_.size(); ++j) {
    const int k = ks_[j];
    const int64_t upto = std::min<int64_t>(k, len);
    const double h = hits[upto];
    double idcg = 0.0;
    for (int64_t i = 1; i <= std::min<int64_t>(n_test, k); ++i) idcg += 1.0 / std::log2(i + 1.0);
    sums_[kPrecision][j] += h / k;
    sums_[kRecall][j] += h / static_cast<double>(n_test);
    sums_[kHit][j] += h > 0 ? 1.0 : 0.0;
    sums_[kNdcg][j] += dcg[upto] / idcg;
    sums_[kMrr][j] += (first_hit > 0 && first_hit <= k) ? 1.0 / first_hit : 0.0;
    sums_[kMap][j] += ap[upto] / static_cast<double>(std::min<int64_t>(n_test, k));
  }
}

void RankingMetrics::merge(const RankingMetrics& other) {
  if (other.ks_ != ks_) throw std::invalid_argument("RankingMetrics::merge: different K lists");
  users_ += other.users_;
  for (int m = 0; m < kNumMetrics; ++m) {
    for (size_t j = 0; j < ks_.size(); ++j) sums_[m][j] += other.sums_[m][j];
  }
}

std::map<std::string, double> RankingMetrics::means() const {
  std::map<std::string, double> out;
  for (int m = 0; m < kNumMetrics; ++m) {
    for (size_t j = 0; j < ks_.size(); ++j) {
      out[std::string(kNames[m]) + "@" + std::to_string(ks_[j])] =
          users_ > 0 ? sums_[m][j] / static_cast<double>(users_) : 0.0;
    }
  }
  return out;
}

}  // namespace gnnrec
