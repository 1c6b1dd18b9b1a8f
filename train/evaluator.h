// Full-ranking evaluation: every item is scored for every test user, the
// user's training items are masked out, and the top max(K) are compared with
// the user's test items. Metrics are averaged over users with at least one
// test item (the LightGCN / RecBole "full" protocol). The same pass gives
// AUC and catalogue coverage. In rating mode, rmse and mae compare
// predictions with the test ratings.
//
// Scoring, masking, ranking and the AUC run on the embeddings' device, in
// the operators topk_masked / _topk_masked_auc (kernels/ops.h); only the
// top-k item ids and one AUC per user come back to the CPU, where
// train/metrics.h accumulates the metrics. Ties in the ranking go to the
// lower item id, on every device.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "graph/bipartite_graph.h"
#include "train/metrics.h"

namespace gnnrec {

struct EvalResult {
  std::map<std::string, double> metrics;  // "recall@20" -> value
  int64_t users = 0;                      // test users averaged over
};

// Predictions for aligned (user, item) pairs: int64 [n] index tensors on the
// CPU in, [n] predicted ratings (any device, floating) out.
using PairPredictor = std::function<at::Tensor(const at::Tensor& users, const at::Tensor& items)>;

// The scores of whole rows, for models whose scores are not a dot product of
// factors of modest width (models/model.h: ranking_rows): int64 [n] user ids
// on the CPU in, their scores over all items [n, I] out (floating, any
// device: the ranking runs there).
using ScoreRows = std::function<at::Tensor(const at::Tensor& users)>;

class Evaluator {
 public:
  // train and test share the same user and item id spaces. Keeps references:
  // both graphs must outlive the evaluator. Thread-safe: the const methods
  // may be called concurrently (the per-device copies of the masks are
  // built once, under a lock).
  // users_per_chunk 0 (the default): 128 on the CPU, where a chunk's
  // scores (128 x 40,981 for Gowalla) then stay in cache between the GEMM
  // that writes them and the passes that rank them (Gowalla: 2.05 s
  // against 2.95 s with 1,024, bench/eval_bench.cpp), and 1,024 on a GPU.
  Evaluator(const BipartiteGraph& train, const BipartiteGraph& test, std::vector<int> ks,
            int64_t users_per_chunk = 0);

  // Scores are user_emb · item_embᵀ ([U, d] and [I, d], both on one device;
  // float32 or float64 are ranked as they are, other floating types as
  // float32); computed one chunk of users at a time so the score matrix
  // never exists whole. Returns the per-K ranking metrics, coverage@K and
  // auc (train/metrics.h's user_auc, computed on the device from the same
  // masked scores: O(test pairs × items) compares; Gowalla's 29,858 test
  // users take about 2 s in all with 2 CPU threads, bench/eval_bench.cpp).
  // Throws std::invalid_argument when the embeddings do not have U and I
  // rows, or hold a NaN or infinite value (as top_items does).
  EvalResult evaluate(const at::Tensor& user_emb, const at::Tensor& item_emb) const;
  // The same metrics of score rows: rows() is called on the test users a
  // chunk (users_per_chunk) at a time, in order, and each chunk is ranked by
  // _topk_masked_scores on the rows' device; equal to evaluate(P, Q) when
  // rows(users) = P[users] · Qᵀ bit for bit. Throws std::invalid_argument
  // when a chunk's rows are not [n, I] or hold a NaN or infinite value.
  EvalResult evaluate(const ScoreRows& rows) const;
  // Rating mode: {"rmse", "mae"} of predict over every test pair, called on
  // at most pairs_per_call pairs at a time (in CSR order). Throws
  // std::invalid_argument when the test pairs carry no ratings.
  std::map<std::string, double> evaluate_ratings(const PairPredictor& predict,
                                                 int64_t pairs_per_call = 65536) const;
  // Top-k items (masked) for the given users: int64 [n, k], on the CPU,
  // with their scores (float32 [n, k]), best first, ties to the lower item
  // id; k is capped at the number of items. Used by `recommend`.
  std::pair<at::Tensor, at::Tensor> top_items(const at::Tensor& user_emb,
                                              const at::Tensor& item_emb,
                                              const std::vector<int64_t>& users, int64_t k) const;
  // The same from score rows (one call of rows() for all of `users`).
  std::pair<at::Tensor, at::Tensor> top_items(const ScoreRows& rows,
                                              const std::vector<int64_t>& users, int64_t k) const;
  // The popularity baseline: every user gets items by training degree.
  EvalResult evaluate_popularity() const;
  // The rating-mode baseline: every pair predicted as the mean training
  // rating; {"rmse", "mae"}. Throws std::invalid_argument without ratings.
  EvalResult evaluate_global_mean() const;
  double mean_training_rating() const;

  const std::vector<int64_t>& test_users() const { return test_users_; }

  // A user group whose ranking metrics evaluate() also reports, keyed
  // NAME + "/" + metric ("cold/recall@20", ...; not coverage or auc): the
  // same per-user metrics averaged over the group's test users only (users
  // without test items are ignored; an empty group reports nothing). Call
  // before evaluating: not thread-safe with evaluate(). Throws
  // std::invalid_argument for a user id out of range or a repeated name.
  void add_user_group(const std::string& name, const std::vector<int64_t>& users);
  // The cold users: the ceil(fraction · number of test users) test users
  // with the fewest training interactions, ties to the lower user id,
  // ascending by (training degree, id). fraction in [0, 1], else
  // std::invalid_argument.
  std::vector<int64_t> coldest_test_users(double fraction) const;

  // Splits the ranking between processes (data-parallel training): this
  // one scores and ranks only the test users at positions [lo, hi) of
  // test_users(), and `sum` adds each process's tensors into every
  // process's, in place (an all-reduce of int64 top-k ids and float64
  // AUCs, zero outside each process's users). Every process then
  // summarizes all users: the same metrics everywhere, equal to one
  // process's when a user's scores do not depend on the other users of its
  // chunk. Call before evaluating: not thread-safe with evaluate().
  // Throws std::invalid_argument for a range outside the test users.
  using SumAcross = std::function<void(std::vector<at::Tensor>&)>;
  void split_users(std::pair<int64_t, int64_t> range, SumAcross sum);

  // Users per chunk of score rows (evaluate(ScoreRows), and recommend's
  // rows) when the constructor was given 0: a model's rows are computed a
  // chunk at a time.
  static constexpr int64_t kRowsChunk = 1024;

 private:
  // The operators' inputs, on one device: training items as the mask CSR
  // (int64 rowptr, int32 col), the test CSR, and the test users (int64).
  struct DeviceGraphs {
    at::Tensor train_rowptr, train_col, test_rowptr, test_col, test_users;
  };
  // Built on the first call for each device, then reused.
  std::shared_ptr<const DeviceGraphs> graphs_on(const c10::Device& device) const;
  // user_emb and item_emb detached, checked against the graphs' shape, and
  // in a dtype the operators take.
  std::pair<at::Tensor, at::Tensor> prepare(const at::Tensor& user_emb,
                                            const at::Tensor& item_emb) const;
  // Users per chunk for embeddings on emb's device (see the constructor).
  int64_t chunk_for(const at::Tensor& emb) const {
    return chunk_ > 0 ? chunk_ : emb.is_cpu() ? 128 : 1024;
  }
  // rows(users), detached, checked ([n, I], finite) and float32 or float64.
  at::Tensor score_rows(const ScoreRows& rows, const at::Tensor& users) const;
  // The metrics of the top k (int64 [test users, k]) and AUC (float64 [test
  // users]) of every test user, in test_users_ order, on the CPU.
  EvalResult summarize(const at::Tensor& top, const at::Tensor& auc) const;
  // This process's test users (split_users; all of them when unsplit).
  std::pair<int64_t, int64_t> own_users() const;
  // summarize() of this process's top and AUC rows, after adding the other
  // processes' rows (split_users); on the device they were computed on.
  EvalResult summarize_all(const at::Tensor& top, const at::Tensor& auc) const;

  const BipartiteGraph& train_;
  const BipartiteGraph& test_;
  std::vector<int> ks_;
  int64_t chunk_;
  std::vector<int64_t> test_users_;
  struct UserGroup {
    std::string name;
    std::vector<char> member;  // [num_users]
  };
  std::vector<UserGroup> groups_;
  std::optional<std::pair<int64_t, int64_t>> split_;  // split_users' range
  SumAcross sum_;
  struct GraphCache {
    std::mutex mutex;
    std::vector<std::pair<c10::Device, std::shared_ptr<const DeviceGraphs>>> by_device;
  };
  std::shared_ptr<GraphCache> cache_ = std::make_shared<GraphCache>();
};

}  // namespace gnnrec
