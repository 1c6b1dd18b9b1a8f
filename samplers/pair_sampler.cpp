#include "samplers/pair_sampler.h"

#include <numeric>
#include <stdexcept>

namespace gnnrec {

std::vector<int64_t> shuffled_pairs(int64_t count, SplitMix64& rng) {
  std::vector<int64_t> order(static_cast<size_t>(count));
  std::iota(order.begin(), order.end(), int64_t{0});
  shuffle(order, rng);
  return order;
}

std::vector<int64_t> draw_epoch_pairs(const BipartiteGraph& g, PairSampling mode, SplitMix64& rng) {
  if (mode == PairSampling::kPerInteraction) return shuffled_pairs(g.num_edges(), rng);
  std::vector<int32_t> active;  // users with at least one training item
  for (int64_t u = 0; u < g.num_users(); ++u) {
    if (g.user_degree(u) > 0) active.push_back(static_cast<int32_t>(u));
  }
  if (active.empty()) {
    throw std::invalid_argument("per-user sampling: no user has a training interaction");
  }
  const auto n_active = static_cast<uint64_t>(active.size());
  const std::vector<int64_t>& offsets = g.user_offsets();
  std::vector<int64_t> pairs(static_cast<size_t>(g.num_edges()));
  for (int64_t& pair : pairs) {
    const int32_t u = active[static_cast<size_t>(rng.below64(n_active))];
    const int64_t begin = offsets[static_cast<size_t>(u)];
    const auto degree = static_cast<uint64_t>(offsets[static_cast<size_t>(u) + 1] - begin);
    pair = begin + static_cast<int64_t>(rng.below64(degree));
  }
  return pairs;
}

}  // namespace gnnrec
