#include "graph/synthetic.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "base/random.h"

namespace gnnrec {
namespace {

constexpr int kMinDegree = 5;
constexpr int kTries = 32;  // rejection attempts before a fallback source
constexpr double kPi = 3.14159265358979323846;

// Inverse-CDF sampling over unnormalised weights.
class Categorical {
 public:
  Categorical() = default;
  Categorical(std::vector<int32_t> values, const std::vector<double>& weight_of)
      : values_(std::move(values)) {
    cum_.reserve(values_.size());
    double s = 0;
    for (int32_t v : values_) cum_.push_back(s += weight_of[static_cast<size_t>(v)]);
  }
  int32_t draw(SplitMix64& rng) const {
    const double r = rng.uniform() * cum_.back();
    auto it = std::upper_bound(cum_.begin(), cum_.end(), r);
    if (it == cum_.end()) --it;
    return values_[static_cast<size_t>(it - cum_.begin())];
  }
  const std::vector<int32_t>& values() const { return values_; }

 private:
  std::vector<int32_t> values_;
  std::vector<double> cum_;
};

void check(bool ok, const std::string& what) {
  if (!ok) throw DataError("synthetic: " + what);
}

void check_options(const SyntheticOptions& o) {
  check(o.num_users >= 1 && o.num_users <= INT32_MAX, "num_users must be in [1, 2^31)");
  check(o.num_items >= kMinDegree && o.num_items <= INT32_MAX,
        "num_items must be in [5, 2^31) (every user gets 5 distinct items)");
  check(o.num_communities >= 1 && o.num_communities <= o.num_items,
        "num_communities must be in [1, num_items]");
  check(o.mean_degree >= kMinDegree && std::isfinite(o.mean_degree), "mean_degree must be >= 5");
  check(o.power_law_exponent >= 0 && std::isfinite(o.power_law_exponent),
        "power_law_exponent must be >= 0");
  check(o.community_affinity >= 0 && o.community_affinity <= 1,
        "community_affinity must be in [0, 1]");
}

// Where items are drawn from: popularity is Zipf over a random ranking, so
// popular items are spread over the communities and over the id range;
// community c holds the items i with i % num_communities == c.
struct ItemSources {
  Categorical global;
  std::vector<Categorical> community;

  explicit ItemSources(const SyntheticOptions& o) {
    const int64_t n_items = o.num_items;
    std::vector<int32_t> ranking(static_cast<size_t>(n_items));
    std::iota(ranking.begin(), ranking.end(), 0);
    SplitMix64 rank_rng(o.seed, ~uint64_t{0});
    shuffle(ranking, rank_rng);
    std::vector<double> weight(static_cast<size_t>(n_items));
    for (size_t r = 0; r < ranking.size(); ++r) {
      weight[static_cast<size_t>(ranking[r])] =
          std::pow(static_cast<double>(r + 1), -o.power_law_exponent);
    }
    std::vector<int32_t> all(static_cast<size_t>(n_items));
    std::iota(all.begin(), all.end(), 0);
    global = Categorical(all, weight);
    community.resize(static_cast<size_t>(o.num_communities));
    for (int c = 0; c < o.num_communities; ++c) {
      std::vector<int32_t> members;
      for (int64_t i = c; i < n_items; i += o.num_communities) {
        members.push_back(static_cast<int32_t>(i));
      }
      community[static_cast<size_t>(c)] = Categorical(std::move(members), weight);
    }
  }
};

// One item user u has not drawn yet (stamp[i] == u + 1 marks the drawn).
// Rejection against items already drawn. Heavy users exhaust the popular
// items, so after kTries misses take the next unused item of the same source
// from a random start (keeping the draw in the community when possible);
// only a full community spills to the global distribution. degree <=
// num_items / 4 keeps the scan finite.
int32_t draw_unused(const ItemSources& sources, int home, bool in_home, int64_t u,
                    const std::vector<int64_t>& stamp, SplitMix64& rng) {
  int32_t pick = -1;
  for (int src = in_home ? 0 : 1; src < 2 && pick < 0; ++src) {
    const Categorical& dist =
        src == 0 ? sources.community[static_cast<size_t>(home)] : sources.global;
    for (int attempt = 0; attempt < kTries && pick < 0; ++attempt) {
      const int32_t i = dist.draw(rng);
      if (stamp[static_cast<size_t>(i)] != u + 1) pick = i;
    }
    if (pick >= 0) break;
    const std::vector<int32_t>& pool = dist.values();
    const size_t start = rng.below(static_cast<uint32_t>(pool.size()));
    for (size_t k = 0; k < pool.size() && pick < 0; ++k) {
      const int32_t i = pool[(start + k) % pool.size()];
      if (stamp[static_cast<size_t>(i)] != u + 1) pick = i;
    }
  }
  return pick;
}

// One user's interactions, in the order drawn.
struct UserRows {
  std::vector<int32_t> items;
  std::vector<float> ratings;
  std::vector<int64_t> times;
};

// User u's rows: a lognormal degree with E[d] = mean_degree before
// clamping, items drawn from its home community with probability
// community_affinity, ratings that follow the planted structure, increasing
// timestamps.
void draw_user(const SyntheticOptions& o, const ItemSources& sources, int64_t u,
               std::vector<int64_t>& stamp, UserRows& out) {
  const double sigma = 1.0;
  const double mu = std::log(o.mean_degree) - 0.5 * sigma * sigma;
  const int64_t max_degree = std::max<int64_t>(kMinDegree, o.num_items / 4);
  const int n_comm = o.num_communities;
  SplitMix64 rng(o.seed, static_cast<uint64_t>(u));
  const double u1 = 1.0 - rng.uniform();  // (0, 1]
  const double u2 = rng.uniform();
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
  const int64_t degree =
      std::clamp<int64_t>(std::llround(std::exp(mu + sigma * z)), kMinDegree, max_degree);
  const int home = static_cast<int>(u % n_comm);
  out.items.reserve(static_cast<size_t>(degree));
  int64_t t = 1'500'000'000 + rng.below(1u << 24);
  for (int64_t k = 0; k < degree; ++k) {
    const bool in_home = rng.uniform() < o.community_affinity;
    const int32_t pick = draw_unused(sources, home, in_home, u, stamp, rng);
    stamp[static_cast<size_t>(pick)] = u + 1;
    out.items.push_back(pick);
    // Ratings follow the planted structure: liked when in-community.
    const double r = rng.uniform();
    float rating;
    if (pick % n_comm == home) {
      rating = r < 0.1 ? 3.0f : (r < 0.5 ? 4.0f : 5.0f);
    } else {
      rating = r < 0.4 ? 1.0f : (r < 0.8 ? 2.0f : 3.0f);
    }
    out.ratings.push_back(rating);
    t += 1 + rng.below(86400);
    out.times.push_back(t);
  }
}

}  // namespace

Dataset make_synthetic(const SyntheticOptions& o) {
  check_options(o);
  const int64_t n_users = o.num_users;
  const int64_t n_items = o.num_items;
  const ItemSources sources(o);
  std::vector<UserRows> rows(static_cast<size_t>(n_users));
#pragma omp parallel
  {
    // Per-thread "already drawn by user u" marks: stamp[i] == u + 1.
    std::vector<int64_t> stamp(static_cast<size_t>(n_items), 0);
#pragma omp for schedule(dynamic, 64)
    for (int64_t u = 0; u < n_users; ++u)
      draw_user(o, sources, u, stamp, rows[static_cast<size_t>(u)]);
  }

  Dataset ds;
  ds.name = "synthetic";
  ds.format = "synthetic";
  for (int64_t u = 0; u < n_users; ++u) ds.users.intern(std::to_string(u));
  for (int64_t i = 0; i < n_items; ++i) ds.items.intern(std::to_string(i));
  size_t total = 0;
  for (const auto& r : rows) total += r.items.size();
  Interactions& x = ds.train;
  x.user.reserve(total);
  x.item.reserve(total);
  x.rating.reserve(total);
  x.timestamp.reserve(total);
  for (int64_t u = 0; u < n_users; ++u) {
    const UserRows& r = rows[static_cast<size_t>(u)];
    x.user.insert(x.user.end(), r.items.size(), static_cast<int32_t>(u));
    x.item.insert(x.item.end(), r.items.begin(), r.items.end());
    x.rating.insert(x.rating.end(), r.ratings.begin(), r.ratings.end());
    x.timestamp.insert(x.timestamp.end(), r.times.begin(), r.times.end());
  }
  return ds;
}

}  // namespace gnnrec
