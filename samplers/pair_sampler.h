// Which training pairs (user, positive item) an epoch trains on, and in
// what order: the two protocols recommender papers use.
//   per-interaction  every training interaction once, in a shuffled order
//                    (gnnrec's default; RecBole, PyG's examples);
//   per-user         as many samples as there are training interactions,
//                    each a uniformly drawn user (among those with training
//                    interactions), then one of that user's items uniformly
//                    (LightGCN's and NGCF's official code,
//                    UniformSample_original: users drawn with replacement,
//                    so a user's share of an epoch does not grow with its
//                    degree).
// Torch-free; the draws come from one SplitMix64 (base/random.h), so an
// epoch's pairs depend only on the generator's seed: a resumed run draws
// what the uninterrupted one drew, on any device.
#pragma once

#include <cstdint>
#include <vector>

#include "base/random.h"
#include "graph/bipartite_graph.h"

namespace gnnrec {

enum class PairSampling { kPerInteraction, kPerUser };

// The epoch's pairs as positions in g's CSR (pair k is user u and item
// g.user_items()[k], with user_offsets()[u] <= k < user_offsets()[u + 1]),
// in training order; g.num_edges() of them. kPerUser needs a user with an
// interaction (std::invalid_argument otherwise, as for an empty graph).
std::vector<int64_t> draw_epoch_pairs(const BipartiteGraph& g, PairSampling mode, SplitMix64& rng);

// The same for kPerInteraction over `count` pairs that are not a CSR (the
// CTR protocol's records): 0..count-1 shuffled.
std::vector<int64_t> shuffled_pairs(int64_t count, SplitMix64& rng);

}  // namespace gnnrec
