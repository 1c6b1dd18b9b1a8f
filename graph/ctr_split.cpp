#include "graph/ctr_split.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "base/random.h"

namespace gnnrec {

int64_t CtrRecords::positives() const { return std::count(label.begin(), label.end(), uint8_t{1}); }

CtrSplit make_ctr_split(const Interactions& positives, int64_t num_users, int64_t num_items,
                        uint64_t seed, double eval_ratio, double test_ratio) {
  if (positives.empty()) throw DataError("ctr split: no positive interactions");
  if (!(eval_ratio >= 0 && test_ratio >= 0 && eval_ratio + test_ratio < 1)) {
    throw DataError("ctr split: eval and test ratios must be >= 0 with a sum below 1, got " +
                    std::to_string(eval_ratio) + " and " + std::to_string(test_ratio));
  }
  // Each user's positives, in list order.
  std::vector<std::vector<int32_t>> pos(static_cast<size_t>(num_users));
  for (size_t k = 0; k < positives.size(); ++k) {
    const int32_t u = positives.user[k], i = positives.item[k];
    if (u < 0 || u >= num_users || i < 0 || i >= num_items) {
      throw DataError("ctr split: interaction " + std::to_string(k) + " (" + std::to_string(u) +
                      ", " + std::to_string(i) + ") is outside " + std::to_string(num_users) +
                      " users x " + std::to_string(num_items) + " items");
    }
    pos[static_cast<size_t>(u)].push_back(i);
  }
  CtrRecords all;
  all.user.reserve(2 * positives.size());
  all.item.reserve(2 * positives.size());
  all.label.reserve(2 * positives.size());
  std::vector<uint8_t> seen(static_cast<size_t>(num_items), 0);
  std::vector<int32_t> candidates;
  for (int64_t u = 0; u < num_users; ++u) {
    const auto& p = pos[static_cast<size_t>(u)];
    if (p.empty()) continue;
    for (int32_t i : p) {
      all.user.push_back(static_cast<int32_t>(u));
      all.item.push_back(i);
      all.label.push_back(1);
      seen[static_cast<size_t>(i)] = 1;
    }
    candidates.clear();
    for (int32_t i = 0; i < num_items; ++i) {
      if (!seen[static_cast<size_t>(i)]) candidates.push_back(i);
    }
    for (int32_t i : p) seen[static_cast<size_t>(i)] = 0;
    // A partial Fisher–Yates shuffle: the first `want` candidates are a
    // uniform sample without replacement, in draw order.
    const size_t want = std::min(p.size(), candidates.size());
    SplitMix64 rng(seed, 0xc7e00000ULL + static_cast<uint64_t>(u));
    for (size_t j = 0; j < want; ++j) {
      const size_t pick = j + rng.below(static_cast<uint32_t>(candidates.size() - j));
      std::swap(candidates[j], candidates[pick]);
      all.user.push_back(static_cast<int32_t>(u));
      all.item.push_back(candidates[j]);
      all.label.push_back(0);
    }
  }
  // 0 train, 1 eval, 2 test; the first floor(n·eval) of a random order go to
  // eval, the next floor(n·test) to test.
  const size_t n = all.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  SplitMix64 rng(seed, 0xc7e5117ULL);
  shuffle(order, rng);
  const auto n_eval = static_cast<size_t>(std::floor(static_cast<double>(n) * eval_ratio));
  const auto n_test = static_cast<size_t>(std::floor(static_cast<double>(n) * test_ratio));
  std::vector<uint8_t> part(n, 0);
  for (size_t k = 0; k < n_eval; ++k) part[order[k]] = 1;
  for (size_t k = n_eval; k < n_eval + n_test; ++k) part[order[k]] = 2;
  CtrSplit out;
  for (size_t k = 0; k < n; ++k) {
    CtrRecords& dst = part[k] == 0 ? out.train : part[k] == 1 ? out.eval : out.test;
    dst.user.push_back(all.user[k]);
    dst.item.push_back(all.item[k]);
    dst.label.push_back(all.label[k]);
  }
  return out;
}

Interactions ctr_positives(const CtrRecords& records) {
  Interactions out;
  for (size_t k = 0; k < records.size(); ++k) {
    if (records.label[k] != 1) continue;
    out.user.push_back(records.user[k]);
    out.item.push_back(records.item[k]);
  }
  return out;
}

}  // namespace gnnrec
