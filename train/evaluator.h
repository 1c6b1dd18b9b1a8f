// Full-ranking evaluation: every item is scored for every test user, the
// user's training items are masked out, and the top max(K) are compared with
// the user's test items. Metrics are averaged over users with at least one
// test item (the LightGCN / RecBole "full" protocol).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "graph/bipartite_graph.h"
#include "train/metrics.h"

namespace gnnrec {

struct EvalResult {
  std::map<std::string, double> metrics;  // "recall@20" -> value
  int64_t users = 0;                      // test users averaged over
};

class Evaluator {
 public:
  // train and test share the same user and item id spaces. Keeps references:
  // both graphs must outlive the evaluator.
  Evaluator(const BipartiteGraph& train, const BipartiteGraph& test, std::vector<int> ks,
            int64_t users_per_chunk = 1024);

  // Scores are user_emb · item_embᵀ ([U, d] and [I, d], any device);
  // computed one chunk of users at a time so the score matrix never exists
  // whole.
  EvalResult evaluate(const at::Tensor& user_emb, const at::Tensor& item_emb) const;
  // Top-k items (masked) for the given users: int64 [n, k], on the CPU,
  // with their scores. Used by `recommend`.
  std::pair<at::Tensor, at::Tensor> top_items(const at::Tensor& user_emb,
                                              const at::Tensor& item_emb,
                                              const std::vector<int64_t>& users, int64_t k) const;
  // The popularity baseline: every user gets items by training degree.
  EvalResult evaluate_popularity() const;

  const std::vector<int64_t>& test_users() const { return test_users_; }

 private:
  at::Tensor masked_scores(const at::Tensor& user_emb, const at::Tensor& item_emb,
                           const std::vector<int64_t>& users) const;
  const BipartiteGraph& train_;
  const BipartiteGraph& test_;
  std::vector<int> ks_;
  int64_t chunk_;
  std::vector<int64_t> test_users_;
};

}  // namespace gnnrec
