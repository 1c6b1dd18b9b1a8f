// Evaluation metrics: top-K ranking metrics for one user, defined as in the
// LightGCN and RecBole evaluation code, and their sums over users; AUC,
// catalogue coverage, and the rating-prediction errors of rating mode.
//
// For a ranked list r_1..r_K and a test set T (|T| >= 1), with rel_i = 1 when
// r_i ∈ T and hits = Σ_{i<=K} rel_i:
//   precision@K = hits / K
//   recall@K    = hits / |T|
//   hit@K       = 1 if hits > 0
//   ndcg@K      = Σ rel_i / log2(i+1)  ÷  Σ_{i<=min(|T|,K)} 1 / log2(i+1)
//   mrr@K       = 1 / (rank of the first hit), 0 without one
//   map@K       = Σ_{i<=K} rel_i · precision@i  ÷  min(|T|, K)
// Each is averaged over the users with at least one test item.
//
// AUC of one user u, over the pairs (t, j) of a test item t ∈ T and a
// negative j ∈ N = all items − (u's training items ∪ T):
//   auc = Σ_{t∈T} Σ_{j∈N} ( [s_t > s_j] + ½·[s_t = s_j] )  ÷  (|T| · |N|)
// averaged over the test users with |N| > 0 (a user who interacted with
// every item has no pair to order).
//
// Catalogue coverage over the set U of test users, with I items in all:
//   coverage@K  = |∪_{u∈U} top-K list of u| ÷ I
//
// Rating mode, over the n test pairs (u, i) with rating r and prediction p:
//   rmse = sqrt(Σ (p − r)² / n),   mae = Σ |p − r| / n
//
// CTR protocol (graph/ctr_split.h), over n labelled records with logit z and
// label y ∈ {0, 1}, P positive and N negative records, ŷ = [σ(z) >= ½] = [z >= 0]:
//   auc     = Σ_{y_a=1} Σ_{y_b=0} ( [z_a > z_b] + ½·[z_a = z_b] ) ÷ (P · N)
//             (over all records at once, NaN without both labels)
//   acc     = Σ [ŷ = y] / n
//   f1      = 2·TP ÷ (2·TP + FP + FN)   (0 when TP = FP = FN = 0)
//   logloss = Σ −y·log σ(z) − (1 − y)·log(1 − σ(z)) / n
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gnnrec {

// Names of the per-K metrics, in report order; each is keyed "name@K".
const std::vector<std::string>& per_k_metric_names();
// Metrics where a lower value is better (rmse, mae, logloss); every other metric is
// better higher. Early stopping and the best epoch follow this direction.
bool lower_is_better(const std::string& metric);

class RankingMetrics {
 public:
  explicit RankingMetrics(std::vector<int> ks);
  // ranked: the user's top max(K) items, best first; test: the user's test
  // items, sorted ascending. Users without test items must not be added.
  void add_user(const int64_t* ranked, int64_t ranked_len, const int32_t* test, int64_t n_test);
  // Sums from another accumulator (same ks).
  void merge(const RankingMetrics& other);
  // Means over added users, keyed "recall@20", "ndcg@20", ...
  std::map<std::string, double> means() const;
  int64_t users() const { return users_; }
  const std::vector<int>& ks() const { return ks_; }
  int max_k() const { return max_k_; }

 private:
  std::vector<int> ks_;
  int max_k_ = 0;
  int64_t users_ = 0;
  // sums_[metric][k index]
  std::vector<std::vector<double>> sums_;
};

// The AUC of one user (formula above). scores: the user's score for each of
// n_items items (training items may already be masked to -inf: they are
// excluded either way); test and train: the user's test and training items,
// each sorted ascending. Returns NaN when the user has no negative item.
// Cost O(|T| · n_items): each test item's score is counted against the row.
double user_auc(const float* scores, int64_t n_items, const int32_t* test, int64_t n_test,
                const int32_t* train, int64_t n_train);

// coverage@K for each K, from the ranked lists of every test user.
class CoverageMetrics {
 public:
  CoverageMetrics(std::vector<int> ks, int64_t num_items);
  // ranked: one user's top items, best first.
  void add_list(const int64_t* ranked, int64_t ranked_len);
  // Keyed "coverage@K".
  std::map<std::string, double> values() const;

 private:
  std::vector<int> ks_;
  // best_rank_[i]: the best (smallest, 0-based) rank item i reached in any
  // list so far; it is in some top-K list iff best_rank_[i] < K.
  std::vector<int64_t> best_rank_;
};

// rmse and mae of predicted against true ratings.
class RatingMetrics {
 public:
  void add(double predicted, double target);
  // {"rmse", "mae"}; NaN for both when nothing was added.
  std::map<std::string, double> values() const;
  int64_t count() const { return n_; }

 private:
  int64_t n_ = 0;
  double squared_ = 0, absolute_ = 0;
};

// The CTR metrics of the formulas above: {"auc", "acc", "f1", "logloss"}.
// logits and labels are aligned; throws std::invalid_argument when their
// lengths differ or there are none. O(n log n) (AUC from the ranks of the
// sorted logits, ties given their mean rank).
std::map<std::string, double> ctr_metrics(const std::vector<double>& logits,
                                          const std::vector<uint8_t>& labels);
// Their names, in report order.
const std::vector<std::string>& ctr_metric_names();

}  // namespace gnnrec
