#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <stdexcept>

#include "base/count_below.h"

namespace gnnrec {
namespace {

enum Metric { kPrecision, kRecall, kHit, kNdcg, kMrr, kMap, kNumMetrics };
const char* const kNames[kNumMetrics] = {"precision", "recall", "hit", "ndcg", "mrr", "map"};

}  // namespace

const std::vector<std::string>& per_k_metric_names() {
  static const std::vector<std::string> names{"recall", "ndcg", "precision", "hit",
                                              "mrr",    "map",  "coverage"};
  return names;
}

bool lower_is_better(const std::string& metric) {
  return metric == "rmse" || metric == "mae" || metric == "logloss";
}

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

double user_auc(const float* scores, int64_t n_items, const int32_t* test, int64_t n_test,
                const int32_t* train, int64_t n_train) {
  // The items that are not negatives: training ∪ test (an item in both
  // counts once).
  std::vector<int32_t> excluded;
  excluded.reserve(static_cast<size_t>(n_train + n_test));
  std::set_union(train, train + n_train, test, test + n_test, std::back_inserter(excluded));
  const int64_t negatives = n_items - static_cast<int64_t>(excluded.size());
  if (negatives <= 0 || n_test == 0) return std::numeric_limits<double>::quiet_NaN();
  double ordered = 0;
  for (int64_t t0 = 0; t0 < n_test; t0 += 4) {
    // A block of up to 4 test items; a short last block repeats its last
    // item and ignores the copies.
    const int64_t block = std::min<int64_t>(4, n_test - t0);
    float s[4];
    for (int64_t b = 0; b < 4; ++b) s[b] = scores[test[t0 + std::min(b, block - 1)]];
    // Count against the whole row, then take the excluded items back out:
    // cheaper than building the negatives' row for every user.
    int64_t below[4], equal[4];
    count_below_equal4(scores, n_items, s, below, equal);
    for (int64_t b = 0; b < block; ++b) {
      for (int32_t x : excluded) {
        below[b] -= scores[x] < s[b];
        equal[b] -= scores[x] == s[b];
      }
      ordered += static_cast<double>(below[b]) + 0.5 * static_cast<double>(equal[b]);
    }
  }
  return ordered / (static_cast<double>(n_test) * static_cast<double>(negatives));
}

CoverageMetrics::CoverageMetrics(std::vector<int> ks, int64_t num_items)
    : ks_(std::move(ks)), best_rank_(static_cast<size_t>(num_items), std::numeric_limits<int64_t>::max()) {}

void CoverageMetrics::add_list(const int64_t* ranked, int64_t ranked_len) {
  for (int64_t r = 0; r < ranked_len; ++r) {
    int64_t& best = best_rank_[static_cast<size_t>(ranked[r])];
    best = std::min(best, r);
  }
}

std::map<std::string, double> CoverageMetrics::values() const {
  std::map<std::string, double> out;
  for (int k : ks_) {
    const auto covered = std::count_if(best_rank_.begin(), best_rank_.end(),
                                       [k](int64_t r) { return r < k; });
    out["coverage@" + std::to_string(k)] =
        best_rank_.empty() ? 0.0 : static_cast<double>(covered) / static_cast<double>(best_rank_.size());
  }
  return out;
}

void RatingMetrics::add(double predicted, double target) {
  const double e = predicted - target;
  ++n_;
  squared_ += e * e;
  absolute_ += std::abs(e);
}

std::map<std::string, double> RatingMetrics::values() const {
  if (n_ == 0) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return {{"rmse", nan}, {"mae", nan}};
  }
  const double n = static_cast<double>(n_);
  return {{"rmse", std::sqrt(squared_ / n)}, {"mae", absolute_ / n}};
}

const std::vector<std::string>& ctr_metric_names() {
  static const std::vector<std::string> names{"auc", "acc", "f1", "logloss"};
  return names;
}

std::map<std::string, double> ctr_metrics(const std::vector<double>& logits,
                                          const std::vector<uint8_t>& labels) {
  if (logits.size() != labels.size() || logits.empty()) {
    throw std::invalid_argument("ctr metrics: need as many logits as labels, at least one; got " +
                                std::to_string(logits.size()) + " and " +
                                std::to_string(labels.size()));
  }
  const size_t n = logits.size();
  // AUC (Mann–Whitney): the rank sum of the positives, each tie group given
  // its mean rank (1-based).
  std::vector<size_t> order(n);
  for (size_t k = 0; k < n; ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return logits[a] < logits[b]; });
  double rank_sum = 0;
  int64_t P = 0, tp = 0, fp = 0, fn = 0, correct = 0;
  for (size_t s = 0; s < n;) {
    size_t e = s;
    while (e < n && logits[order[e]] == logits[order[s]]) ++e;
    const double mean_rank = 0.5 * static_cast<double>(s + 1 + e);  // mean of s+1 .. e
    for (size_t k = s; k < e; ++k) {
      if (labels[order[k]] == 1) rank_sum += mean_rank;
    }
    s = e;
  }
  double logloss = 0;
  for (size_t k = 0; k < n; ++k) {
    const bool y = labels[k] == 1, yhat = logits[k] >= 0;
    P += y;
    tp += y && yhat;
    fp += !y && yhat;
    fn += y && !yhat;
    correct += y == yhat;
    // −log σ(z) = softplus(−z), −log(1 − σ(z)) = softplus(z), computed stably.
    const double z = y ? -logits[k] : logits[k];
    logloss += std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z)));
  }
  const int64_t N = static_cast<int64_t>(n) - P;
  const double dP = static_cast<double>(P), dN = static_cast<double>(N);
  const double auc = P > 0 && N > 0 ? (rank_sum - dP * (dP + 1) / 2) / (dP * dN)
                                    : std::numeric_limits<double>::quiet_NaN();
  const int64_t f1_den = 2 * tp + fp + fn;
  return {{"auc", auc},
          {"acc", static_cast<double>(correct) / static_cast<double>(n)},
          {"f1", f1_den > 0 ? 2.0 * static_cast<double>(tp) / static_cast<double>(f1_den) : 0.0},
          {"logloss", logloss / static_cast<double>(n)}};
}

}  // namespace gnnrec
