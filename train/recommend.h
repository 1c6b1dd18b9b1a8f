// Top-K recommendations from a served run (train/serving_run.h): exact,
// batched scoring through the topk_masked operator (kernels/ops.h), a chunk
// of users at a time, or approximate through an ANN index
// (train/ann_index.h). What `recommend`, `fold-in` and `serve` rank with.
//
// Thread-safety: a Recommender is immutable after construction; its const
// methods may be called from any number of threads at once.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "train/serving_run.h"

namespace gnnrec {

class AnnIndex;

// One ranked list: dense ids (items, or users for a new item), best first,
// with their scores (the dot products).
struct Ranked {
  std::vector<int32_t> ids;
  std::vector<float> scores;
};

struct RecommendOptions {
  // Leave out each user's training items (`--exclude train`); `--exclude
  // none` ranks every item.
  bool exclude_train = true;
  // Rank only these items (dense ids, `--items FILE`); empty: every item.
  std::vector<int32_t> candidates;
  // Users scored at once ([chunk, items] scores exist at a time).
  int64_t chunk = 1024;
  // Where the scores are computed: the run's device for `recommend`, the
  // CPU for `serve`.
  at::Device device = at::kCPU;
};

class Recommender {
 public:
  // `s` (and `index`, when given) must outlive the Recommender. std::invalid_argument
  // when an index is given with candidates (an index over every item cannot
  // be restricted) or for a KGCN run (its score matrix has no vectors for an
  // index).
  Recommender(const ServingRun& s, RecommendOptions options, const AnnIndex* index = nullptr);

  // The top k for each of `users` (dense ids): fewer than k where a user has
  // fewer items left after the exclusions. Exact: ties go to the lower item
  // id (topk_masked's order). Through the index (use_index, and the
  // Recommender has one): approximately the top k, rescored exactly and
  // sorted by score, ties to the lower id.
  std::vector<Ranked> top_k(const std::vector<int32_t>& users, int64_t k,
                            bool use_index = true) const;
  // The top k items for a representation `q` [d] that is no row of the
  // factors (a folded-in user), leaving out `exclude` (dense item ids) and
  // honouring the candidates; exact, or through the index when use_index.
  Ranked top_k_for(const at::Tensor& q, int64_t k, const std::vector<int32_t>& exclude,
                   bool use_index) const;

  bool has_index() const { return index_ != nullptr; }
  int64_t num_candidates() const { return items_.size(0); }

 private:
  std::vector<Ranked> exact(const std::vector<int32_t>& users, int64_t k) const;
  std::vector<Ranked> approximate(const std::vector<int32_t>& users, int64_t k) const;

  const ServingRun& s_;
  RecommendOptions opt_;
  const AnnIndex* index_;
  at::Tensor users_, items_;           // factors on opt_.device; items_: the candidates' rows
  at::Tensor mask_rowptr_, mask_col_;  // the exclusions per user, in candidate positions
  std::vector<int32_t> position_;      // dense item id -> candidate position, -1 if none
};

// The k rows of `catalogue` [n, d] with the largest dot product with q [d]
// (float32, any device), best first, ties to the lower row, leaving out
// `exclude` (row ids, any order); fewer than k when fewer rows are left.
Ranked top_k_rows(const at::Tensor& catalogue, const at::Tensor& q, int64_t k,
                  const std::vector<int32_t>& exclude);

}  // namespace gnnrec
