#include "graph/splits.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <utility>
#include <vector>

#include "base/random.h"

namespace gnnrec {
namespace {

// round(x) for counts; the epsilon makes 5 * (1 - 0.9) = 0.49999999999999994
// round like the exact 0.5 it stands for.
int64_t round_count(double x) { return static_cast<int64_t>(std::floor(x + 0.5 + 1e-9)); }

// Positions of each user's interactions, in list order (a stable counting
// sort): rows of user u are pos[start[u] .. start[u+1]).
struct ByUser {
  std::vector<int64_t> start;
  std::vector<int64_t> pos;
};

ByUser group_by_user(const Interactions& x, int64_t num_users) {
  int64_t n_users = num_users;
  for (int32_t u : x.user) n_users = std::max<int64_t>(n_users, int64_t{u} + 1);
  ByUser g;
  g.start.assign(static_cast<size_t>(n_users) + 1, 0);
  for (int32_t u : x.user) ++g.start[static_cast<size_t>(u) + 1];
  for (size_t u = 0; u < static_cast<size_t>(n_users); ++u) g.start[u + 1] += g.start[u];
  g.pos.resize(x.size());
  std::vector<int64_t> fill(g.start.begin(), g.start.end() - 1);
  for (size_t e = 0; e < x.size(); ++e) {
    g.pos[static_cast<size_t>(fill[static_cast<size_t>(x.user[e])]++)] = static_cast<int64_t>(e);
  }
  return g;
}

// Moves the first m entries of v to a uniformly random m-subset, in place
// (partial Fisher-Yates with the portable generator).
template <typename T>
void choose_prefix(std::vector<T>& v, size_t m, SplitMix64& rng) {
  const size_t n = v.size();
  for (size_t k = 0; k < m && k + 1 < n; ++k) {
    const size_t j = k + rng.below(static_cast<uint32_t>(n - k));
    std::swap(v[k], v[j]);
  }
}

// Keeps only users and items that still have an interaction and renumbers
// both maps (canonical order preserved: survivors keep their relative order
// and canonicalize() settles any map that was not canonical to begin with).
void compact(Dataset& ds) {
  std::vector<char> used_u(static_cast<size_t>(ds.num_users()), 0);
  std::vector<char> used_i(static_cast<size_t>(ds.num_items()), 0);
  for (const Interactions* x : {&ds.train, &ds.test}) {
    for (int32_t u : x->user) used_u[static_cast<size_t>(u)] = 1;
    for (int32_t i : x->item) used_i[static_cast<size_t>(i)] = 1;
  }
  auto rebuild = [](const IdMap& old, const std::vector<char>& used, IdMap* fresh) {
    std::vector<int32_t> old_to_new(used.size(), -1);
    for (size_t d = 0; d < used.size(); ++d) {
      if (used[d]) old_to_new[d] = fresh->intern(old.raw(static_cast<int32_t>(d)));
    }
    const std::vector<int32_t> perm = fresh->canonicalize();
    for (int32_t& v : old_to_new) {
      if (v >= 0) v = perm[static_cast<size_t>(v)];
    }
    return old_to_new;
  };
  IdMap users, items;
  const std::vector<int32_t> map_u = rebuild(ds.users, used_u, &users);
  const std::vector<int32_t> map_i = rebuild(ds.items, used_i, &items);
  for (Interactions* x : {&ds.train, &ds.test}) {
    for (int32_t& u : x->user) u = map_u[static_cast<size_t>(u)];
    for (int32_t& i : x->item) i = map_i[static_cast<size_t>(i)];
  }
  ds.users = std::move(users);
  ds.items = std::move(items);
}

std::string format_ratio(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", r);
  return buf;
}

}  // namespace

SplitKind parse_split_kind(const std::string& s) {
  if (s == "random") return SplitKind::kRandom;
  if (s == "per-user") return SplitKind::kPerUser;
  if (s == "temporal") return SplitKind::kTemporal;
  if (s == "loo") return SplitKind::kLeaveOneOut;
  throw DataError("split: unknown kind '" + s + "' (valid: random, per-user, temporal, loo)");
}

const char* split_kind_name(SplitKind kind) {
  switch (kind) {
    case SplitKind::kRandom: return "random";
    case SplitKind::kPerUser: return "per-user";
    case SplitKind::kTemporal: return "temporal";
    case SplitKind::kLeaveOneOut: return "loo";
  }
  return "?";
}

void split(Dataset& ds, SplitKind kind, double train_ratio, uint64_t seed) {
  if (ds.is_split()) {
    throw DataError("split: " + ds.name + " is already split (" + std::to_string(ds.test.size()) +
                    " test interactions)");
  }
  if (!(train_ratio > 0.0 && train_ratio < 1.0)) {
    throw DataError("split: train ratio must be in (0, 1), got " + format_ratio(train_ratio));
  }
  if (kind == SplitKind::kTemporal && !ds.train.has_timestamp()) {
    throw DataError("split: temporal split needs timestamps and " + ds.name + " has none");
  }
  const Interactions& x = ds.train;
  const size_t n = x.size();
  if (n >= (size_t{1} << 32)) throw DataError("split: more than 2^32 interactions");
  const double test_share = 1.0 - train_ratio;
  std::vector<bool> to_test(n, false);

  if (kind == SplitKind::kRandom) {
    std::vector<uint32_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0u);
    const auto m = static_cast<size_t>(round_count(static_cast<double>(n) * test_share));
    SplitMix64 rng(seed);
    choose_prefix(idx, m, rng);
    for (size_t k = 0; k < m; ++k) to_test[idx[k]] = true;
  } else {
    const ByUser g = group_by_user(x, ds.num_users());
    std::vector<int64_t> rows;
    for (size_t u = 0; u + 1 < g.start.size(); ++u) {
      const int64_t n_u = g.start[u + 1] - g.start[u];
      if (n_u < 2) continue;  // a lone interaction stays in train
      rows.assign(g.pos.begin() + g.start[u], g.pos.begin() + g.start[u + 1]);
      // One stream per user: a user's split does not depend on the others.
      SplitMix64 rng(seed, u);
      if (kind == SplitKind::kLeaveOneOut) {
        size_t pick;
        if (x.has_timestamp()) {
          pick = 0;  // latest timestamp; among equals the later row
          for (size_t k = 1; k < rows.size(); ++k) {
            if (x.timestamp[static_cast<size_t>(rows[k])] >=
                x.timestamp[static_cast<size_t>(rows[pick])]) {
              pick = k;
            }
          }
        } else {
          pick = rng.below(static_cast<uint32_t>(rows.size()));
        }
        to_test[static_cast<size_t>(rows[pick])] = true;
        continue;
      }
      const int64_t m = std::min(round_count(static_cast<double>(n_u) * test_share), n_u - 1);
      if (m <= 0) continue;
      if (kind == SplitKind::kTemporal) {
        // rows is in list order, so a stable sort breaks timestamp ties by it.
        std::stable_sort(rows.begin(), rows.end(), [&](int64_t a, int64_t b) {
          return x.timestamp[static_cast<size_t>(a)] < x.timestamp[static_cast<size_t>(b)];
        });
        for (int64_t k = n_u - m; k < n_u; ++k) to_test[static_cast<size_t>(rows[k])] = true;
      } else {
        choose_prefix(rows, static_cast<size_t>(m), rng);
        for (int64_t k = 0; k < m; ++k) to_test[static_cast<size_t>(rows[k])] = true;
      }
    }
  }

  std::vector<bool> to_train(n);
  for (size_t e = 0; e < n; ++e) to_train[e] = !to_test[e];
  ds.test = x.select(to_test);
  ds.train = x.select(to_train);
}

void filter_min_rating(Dataset& ds, float threshold) {
  if (!ds.train.has_rating() || (!ds.test.empty() && !ds.test.has_rating())) {
    throw DataError("min-rating filter: data set " + ds.name + " has no ratings");
  }
  for (Interactions* x : {&ds.train, &ds.test}) {
    std::vector<bool> keep(x->size());
    for (size_t e = 0; e < x->size(); ++e) keep[e] = x->rating[e] >= threshold;
    *x = x->select(keep);
  }
  compact(ds);
}

void k_core(Dataset& ds, int k) {
  if (k <= 1) return;
  std::vector<int64_t> deg_u(static_cast<size_t>(ds.num_users()), 0);
  std::vector<int64_t> deg_i(static_cast<size_t>(ds.num_items()), 0);
  std::vector<bool> alive_train(ds.train.size(), true), alive_test(ds.test.size(), true);
  for (const Interactions* x : {&ds.train, &ds.test}) {
    for (size_t e = 0; e < x->size(); ++e) {
      ++deg_u[static_cast<size_t>(x->user[e])];
      ++deg_i[static_cast<size_t>(x->item[e])];
    }
  }
  // Peel until a full pass removes nothing. The result (the largest
  // subgraph where every node has degree >= k) does not depend on the order
  // of removals, so pass-wise peeling is as good as a queue.
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto [x, alive] : {std::make_pair(&ds.train, &alive_train),
                            std::make_pair(&ds.test, &alive_test)}) {
      for (size_t e = 0; e < x->size(); ++e) {
        if (!(*alive)[e]) continue;
        const auto u = static_cast<size_t>(x->user[e]);
        const auto i = static_cast<size_t>(x->item[e]);
        if (deg_u[u] >= k && deg_i[i] >= k) continue;
        (*alive)[e] = false;
        --deg_u[u];
        --deg_i[i];
        changed = true;
      }
    }
  }
  ds.train = ds.train.select(alive_train);
  ds.test = ds.test.select(alive_test);
  compact(ds);
}

size_t dedupe(Interactions& x) {
  const size_t n = x.size();
  // (pair, position) sorted: the first row of each equal-pair run is the
  // first occurrence.
  std::vector<std::pair<uint64_t, uint64_t>> keys(n);
  for (size_t e = 0; e < n; ++e) {
    keys[e] = {(static_cast<uint64_t>(static_cast<uint32_t>(x.user[e])) << 32) |
                   static_cast<uint32_t>(x.item[e]),
               e};
  }
  std::sort(keys.begin(), keys.end());
  std::vector<bool> keep(n, true);
  size_t removed = 0;
  for (size_t k = 1; k < n; ++k) {
    if (keys[k].first == keys[k - 1].first) {
      keep[keys[k].second] = false;
      ++removed;
    }
  }
  if (removed > 0) x = x.select(keep);
  return removed;
}

}  // namespace gnnrec
