// Top-K ranking metrics for one user, defined as in the LightGCN and RecBole
// evaluation code, and their sums over users.
//
// For a ranked list r_1..r_K and a test set T (|T| >= 1), with rel_i = 1 when
// r_i ∈ T and hits = Σ_{i<=K} rel_i:
//   precision@K = hits / K
//   recall@K    = hits / |T|
//   hit@K       = 1 if hits > 0
//   ndcg@K      = Σ rel_i / log2(i+1)  ÷  Σ_{i<=min(|T|,K)} 1 / log2(i+1)
//   mrr@K       = 1 / (rank of the first hit), 0 without one
//   map@K       = Σ_{i<=K} rel_i · precision@i  ÷  min(|T|, K)
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gnnrec {

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

}  // namespace gnnrec
