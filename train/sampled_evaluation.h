// The sampled-negatives protocol of NCF (He et al., WWW 2017) and the
// papers that follow it (`--eval sampled --eval-negatives 99`): each test
// pair (u, t) is ranked against n items u never interacted with (neither in
// train nor in test), drawn uniformly without replacement, and
//   rank    = |{j among the n: s(u, j) > s(u, t), or = with j < t}|
//             (0-based; ties go to the lower item id, as in full ranking)
//   hit@K   = [rank < K]
//   ndcg@K  = [rank < K] / log2(rank + 2)
// averaged over each user's test pairs, then over the test users (with
// --split loo every user has one test pair: NCF's HR@K and NDCG@K). A user
// with fewer than n items left to draw from draws them all.
//
// The candidates are drawn once per run from --seed, so every evaluation of
// a run, and every run with the same seed and data, ranks the same items.
// Full ranking stays the default and is reported beside: sampled metrics
// can order models differently from the full ranking they estimate
// (Krichene & Rendle, KDD 2020; docs/evaluation.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "graph/bipartite_graph.h"
#include "train/evaluator.h"

namespace gnnrec {

// The metrics of the formulas above from the candidates' scores: scores
// [P, 1 + n'] (float32 or float64, CPU) with column 0 the test item's score
// and the others its negatives' (n' <= n; padding columns are -inf),
// candidates [P, 1 + n'] their item ids (int64), pair_user [P] the user of
// each pair. Keyed "sampled/hit@K", "sampled/ndcg@K" for each K in ks.
std::map<std::string, double> sampled_metrics(const at::Tensor& scores,
                                              const at::Tensor& candidates,
                                              const std::vector<int64_t>& pair_user,
                                              const std::vector<int>& ks);

class SampledEvaluator {
 public:
  // Draws the candidates of every test pair. train and test must outlive
  // the evaluator. Throws std::invalid_argument for negatives < 1.
  SampledEvaluator(const BipartiteGraph& train, const BipartiteGraph& test, std::vector<int> ks,
                   int64_t negatives, uint64_t seed);
  // The metrics of score rows (Evaluator's ScoreRows: users in, [n, I]
  // out), called on the test users users_per_chunk at a time.
  std::map<std::string, double> evaluate(const ScoreRows& rows,
                                         int64_t users_per_chunk = 1024) const;
  // Candidates of the test pairs [P, 1 + n'] (test item first), int64.
  const at::Tensor& candidates() const { return candidates_; }

 private:
  std::vector<int> ks_;
  std::vector<int64_t> users_;       // test users, ascending
  std::vector<int64_t> pair_user_;   // [P]
  std::vector<int64_t> first_pair_;  // [users + 1]: pairs of users_[r]
  at::Tensor candidates_;            // int64 [P, 1 + n'], -1 padding
};

}  // namespace gnnrec
