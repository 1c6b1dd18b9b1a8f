// A synthetic interaction data set with planted community structure, for
// tests, benchmarks and demos that must not depend on downloaded data.
#pragma once

#include <cstdint>

#include "graph/interactions.h"

namespace gnnrec {

struct SyntheticOptions {
  int64_t num_users = 3000;
  int64_t num_items = 2000;
  int num_communities = 10;
  double mean_degree = 30;
  double power_law_exponent = 1.2;  // Zipf exponent of item popularity
  double community_affinity = 0.8;  // probability that a draw stays in the user's community
  uint64_t seed = 42;
};

// Builds a data set where a graph model measurably beats popularity:
// - user u belongs to community u % C, item i to community i % C;
// - item popularity is Zipf(power_law_exponent) over a seeded random ranking
//   of all items;
// - each user's degree is lognormal (sigma 1) with mean about mean_degree,
//   at least 5 and at most max(5, num_items / 4);
// - each of a user's items comes with probability community_affinity from
//   its own community (weighted by popularity within the community),
//   otherwise from the global popularity distribution (which can also land
//   in the user's community, with probability about 1/C);
// - no duplicate (user, item) pairs; every user has >= 5 interactions;
// - ratings in 1..5: 4 or 5 mostly for in-community items, 1..3 otherwise;
// - timestamps strictly increasing within each user's interactions.
// Raw ids are the decimal strings "0".."N-1", so dense ids equal raw ids;
// every item is in the IdMap even if nobody drew it. Interactions are
// grouped by user, users ascending. name = format = "synthetic", not split.
// Deterministic for a seed, independent of the thread count (one random
// stream per user). Throws DataError for unusable options (num_items < 5,
// num_communities outside [1, num_items], affinity outside [0, 1], ...).
Dataset make_synthetic(const SyntheticOptions& o);

}  // namespace gnnrec
