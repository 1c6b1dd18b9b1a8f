#include "graph/bipartite_graph.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <string>

namespace gnnrec {

BipartiteGraph BipartiteGraph::build(int64_t num_users, int64_t num_items,
                                     const Interactions& x) {
  constexpr int64_t kMaxId = std::numeric_limits<int32_t>::max();
  if (num_users < 0 || num_users > kMaxId || num_items < 0 || num_items > kMaxId) {
    throw DataError("graph: " + std::to_string(num_users) + " users x " +
                    std::to_string(num_items) +
                    " items does not fit 32-bit node ids");
  }
  const size_t n = x.size();
  if (x.item.size() != n || (x.has_rating() && x.rating.size() != n) ||
      (x.has_timestamp() && x.timestamp.size() != n)) {
    throw DataError("graph: interaction columns have different lengths");
  }
  for (size_t e = 0; e < n; ++e) {
    if (x.user[e] < 0 || x.user[e] >= num_users || x.item[e] < 0 ||
        x.item[e] >= num_items) {
      throw DataError("graph: interaction " + std::to_string(e) + " (user " +
                      std::to_string(x.user[e]) + ", item " +
                      std::to_string(x.item[e]) + ") is outside " +
                      std::to_string(num_users) + " users x " +
                      std::to_string(num_items) + " items");
    }
  }

  BipartiteGraph g;
  g.num_users_ = num_users;
  g.num_items_ = num_items;

  // Stable order by (user, item): the first occurrence of a duplicate wins.
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return x.user[a] != x.user[b] ? x.user[a] < x.user[b] : x.item[a] < x.item[b];
  });
  std::vector<int64_t> kept;
  kept.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    const int64_t e = order[k];
    if (!kept.empty()) {
      const int64_t p = kept.back();
      if (x.user[p] == x.user[e] && x.item[p] == x.item[e]) continue;
    }
    kept.push_back(e);
  }
  const int64_t m = static_cast<int64_t>(kept.size());

  g.user_offsets_.assign(num_users + 1, 0);
  g.user_items_.resize(m);
  if (x.has_rating()) g.rating_.resize(m);
  if (x.has_timestamp()) g.timestamp_.resize(m);
  for (int64_t k = 0; k < m; ++k) {
    const int64_t e = kept[k];
    g.user_offsets_[x.user[e] + 1]++;
    g.user_items_[k] = x.item[e];
    if (x.has_rating()) g.rating_[k] = x.rating[e];
    if (x.has_timestamp()) g.timestamp_[k] = x.timestamp[e];
  }
  std::partial_sum(g.user_offsets_.begin(), g.user_offsets_.end(), g.user_offsets_.begin());

  // CSC by counting sort over items; users come out ascending because CSR
  // rows are visited in user order.
  g.item_offsets_.assign(num_items + 1, 0);
  for (int32_t i : g.user_items_) g.item_offsets_[i + 1]++;
  std::partial_sum(g.item_offsets_.begin(), g.item_offsets_.end(), g.item_offsets_.begin());
  g.item_users_.resize(m);
  g.csc_to_csr_.resize(m);
  std::vector<int64_t> fill(g.item_offsets_.begin(), g.item_offsets_.end() - 1);
  for (int64_t u = 0; u < num_users; ++u) {
    for (int64_t k = g.user_offsets_[u]; k < g.user_offsets_[u + 1]; ++k) {
      const int64_t pos = fill[g.user_items_[k]]++;
      g.item_users_[pos] = static_cast<int32_t>(u);
      g.csc_to_csr_[pos] = k;
    }
  }
  return g;
}

bool BipartiteGraph::has_edge(int32_t u, int32_t i) const {
  if (u < 0 || u >= num_users_) return false;
  auto begin = user_items_.begin() + user_offsets_[u];
  auto end = user_items_.begin() + user_offsets_[u + 1];
  return std::binary_search(begin, end, i);
}

}  // namespace gnnrec
