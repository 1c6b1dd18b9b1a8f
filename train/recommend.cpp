#include "train/recommend.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "kernels/ops.h"
#include "train/ann_index.h"

namespace gnnrec {
namespace {

// Rows of topk_masked's output up to the first masked entry (-inf: every
// score is finite, load_serving_run checked), as dense ids through `ids_of`.
template <typename IdOf>
std::vector<Ranked> ranked_rows(const at::Tensor& values_in, const at::Tensor& indices_in,
                                IdOf ids_of) {
  const at::Tensor values = values_in.to(at::kCPU, at::kFloat).contiguous();
  const at::Tensor indices = indices_in.to(at::kCPU).contiguous();
  const int64_t n = values.size(0), k = values.size(1);
  const float* v = values.data_ptr<float>();
  const int64_t* ix = indices.data_ptr<int64_t>();
  std::vector<Ranked> out(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    Ranked& row = out[static_cast<size_t>(r)];
    for (int64_t j = 0; j < k; ++j) {
      const float score = v[r * k + j];
      if (score == -std::numeric_limits<float>::infinity()) break;
      row.ids.push_back(ids_of(ix[r * k + j]));
      row.scores.push_back(score);
    }
  }
  return out;
}

at::Tensor long_tensor(const std::vector<int64_t>& v, at::Device device) {
  return at::tensor(v, at::kLong).to(device);
}

at::Tensor int_tensor(const std::vector<int32_t>& v, at::Device device) {
  return at::tensor(v, at::kInt).to(device);
}

// The `k` best of `labels` (dense item ids) for q by exact dot product with
// `items` (float32 [I, d] on the CPU), leaving out the sorted `exclude`.
Ranked rescored(const std::vector<int32_t>& labels, const float* q, const at::Tensor& items,
                const std::vector<int32_t>& exclude, int64_t k) {
  const int64_t d = items.size(1);
  const float* base = items.data_ptr<float>();
  std::vector<std::pair<float, int32_t>> scored;
  for (const int32_t id : labels) {
    if (std::binary_search(exclude.begin(), exclude.end(), id)) continue;
    const float* row = base + static_cast<int64_t>(id) * d;
    double dot = 0;
    for (int64_t j = 0; j < d; ++j) dot += static_cast<double>(q[j]) * row[j];
    scored.emplace_back(static_cast<float>(dot), id);
  }
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (static_cast<int64_t>(scored.size()) > k) scored.resize(static_cast<size_t>(k));
  Ranked out;
  for (const auto& [score, id] : scored) {
    out.ids.push_back(id);
    out.scores.push_back(score);
  }
  return out;
}

// Through the index: k plus the excluded count, so that k remain after the
// exclusions (an index knows nothing of them), rescored exactly.
Ranked through_index(const AnnIndex& index, const float* q, const at::Tensor& items,
                     const std::vector<int32_t>& exclude, int64_t k) {
  const int64_t asked = std::min<int64_t>(k + static_cast<int64_t>(exclude.size()), items.size(0));
  return rescored(index.search(q, asked), q, items, exclude, k);
}

}  // namespace

Ranked top_k_rows(const at::Tensor& catalogue, const at::Tensor& q, int64_t k,
                  const std::vector<int32_t>& exclude) {
  const int64_t n = catalogue.size(0);
  const at::Device device = catalogue.device();
  const at::Tensor user = q.to(device, catalogue.scalar_type()).reshape({1, -1});
  const at::Tensor rowptr = long_tensor({0, static_cast<int64_t>(exclude.size())}, device);
  const auto [values, indices] =
      ops::topk_masked(user, catalogue, long_tensor({0}, device), rowptr,
                       int_tensor(exclude, device), std::min(k, n), /*chunk=*/1);
  return ranked_rows(values, indices, [](int64_t i) { return static_cast<int32_t>(i); })[0];
}

Recommender::Recommender(const ServingRun& s, RecommendOptions options, const AnnIndex* index)
    : s_(s), opt_(std::move(options)), index_(index) {
  if (index_ != nullptr && !opt_.candidates.empty()) {
    throw std::invalid_argument(
        "--index hnsw cannot be combined with --items: the index ranks every item; restrict "
        "the candidates with exact scoring (no --index)");
  }
  if (index_ != nullptr && s.score_matrix) {
    throw std::invalid_argument("--index hnsw needs one vector per item; " + s.run.config.model +
                                "'s ranking is a score matrix (docs/serving.md)");
  }
  const int64_t U = s.users.size(0), I = s.items.size(0);
  position_.assign(static_cast<size_t>(I), -1);
  if (opt_.candidates.empty()) {
    for (int64_t i = 0; i < I; ++i) position_[static_cast<size_t>(i)] = static_cast<int32_t>(i);
    items_ = s.items.to(opt_.device);
  } else {
    for (size_t c = 0; c < opt_.candidates.size(); ++c) {
      position_[static_cast<size_t>(opt_.candidates[c])] = static_cast<int32_t>(c);
    }
    std::vector<int64_t> rows(opt_.candidates.begin(), opt_.candidates.end());
    items_ = s.items.index_select(0, at::tensor(rows, at::kLong)).to(opt_.device);
  }
  users_ = s.users.to(opt_.device);
  std::vector<int64_t> rowptr(static_cast<size_t>(U) + 1, 0);
  std::vector<int32_t> col;
  const BipartiteGraph& train = s.train();
  for (int64_t u = 0; u < U; ++u) {
    if (opt_.exclude_train) {
      for (int64_t e = train.user_offsets()[u]; e < train.user_offsets()[u + 1]; ++e) {
        const int32_t p = position_[static_cast<size_t>(train.user_items()[e])];
        if (p >= 0) col.push_back(p);
      }
    }
    rowptr[static_cast<size_t>(u) + 1] = static_cast<int64_t>(col.size());
  }
  mask_rowptr_ = long_tensor(rowptr, opt_.device);
  mask_col_ = int_tensor(col, opt_.device);
}

std::vector<Ranked> Recommender::top_k(const std::vector<int32_t>& users, int64_t k,
                                       bool use_index) const {
  return use_index && index_ != nullptr ? approximate(users, k) : exact(users, k);
}

std::vector<Ranked> Recommender::exact(const std::vector<int32_t>& users, int64_t k) const {
  at::NoGradGuard no_grad;
  if (users.empty()) return {};
  const std::vector<int64_t> rows(users.begin(), users.end());
  const auto [values, indices] =
      ops::topk_masked(users_, items_, long_tensor(rows, opt_.device), mask_rowptr_, mask_col_,
                       std::min(k, items_.size(0)), opt_.chunk);
  const std::vector<int32_t>& cand = opt_.candidates;
  return ranked_rows(values, indices, [&cand](int64_t p) {
    return cand.empty() ? static_cast<int32_t>(p) : cand[static_cast<size_t>(p)];
  });
}

std::vector<Ranked> Recommender::approximate(const std::vector<int32_t>& users, int64_t k) const {
  std::vector<Ranked> out(users.size());
  const BipartiteGraph& train = s_.train();
  const int64_t d = s_.users.size(1);
  const float* P = s_.users.data_ptr<float>();
  at::parallel_for(0, static_cast<int64_t>(users.size()), 16, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      const int32_t u = users[static_cast<size_t>(j)];
      std::vector<int32_t> exclude;
      if (opt_.exclude_train) {
        const auto& off = train.user_offsets();
        exclude.assign(train.user_items().begin() + off[u],
                       train.user_items().begin() + off[u + 1]);
        std::sort(exclude.begin(), exclude.end());
      }
      out[static_cast<size_t>(j)] = through_index(*index_, P + u * d, s_.items, exclude, k);
    }
  });
  return out;
}

Ranked Recommender::top_k_for(const at::Tensor& q_in, int64_t k,
                              const std::vector<int32_t>& exclude_in, bool use_index) const {
  at::NoGradGuard no_grad;
  std::vector<int32_t> exclude = exclude_in;
  std::sort(exclude.begin(), exclude.end());
  exclude.erase(std::unique(exclude.begin(), exclude.end()), exclude.end());
  if (use_index && index_ != nullptr) {
    const at::Tensor q = q_in.to(at::kCPU, at::kFloat).contiguous();
    return through_index(*index_, q.data_ptr<float>(), s_.items, exclude, k);
  }
  std::vector<int32_t> masked;
  for (const int32_t i : exclude) {
    const int32_t p = position_[static_cast<size_t>(i)];
    if (p >= 0) masked.push_back(p);
  }
  Ranked r = top_k_rows(items_, q_in, k, masked);
  if (!opt_.candidates.empty()) {
    for (int32_t& id : r.ids) id = opt_.candidates[static_cast<size_t>(id)];
  }
  return r;
}

}  // namespace gnnrec
