// Train/test splits and interaction filters over a Dataset.
//
// Contract: every function here is deterministic (a split depends only on
// the data and the seed, not on the standard library or thread count) and
// keeps the relative order of interactions within train and within test.
// They mutate the Dataset passed in and are not thread-safe on the same
// Dataset. Problems throw DataError with a one-line message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "graph/interactions.h"

namespace gnnrec {

enum class SplitKind { kRandom, kPerUser, kTemporal, kLeaveOneOut };

// "random" | "per-user" | "temporal" | "loo"; DataError for anything else,
// listing the valid names.
SplitKind parse_split_kind(const std::string& s);
// The inverse of parse_split_kind.
const char* split_kind_name(SplitKind kind);

// Moves interactions from ds.train into ds.test. Preconditions:
// !ds.is_split() and 0 < train_ratio < 1 (DataError otherwise).
//  kRandom: round(n * (1 - train_ratio)) interactions chosen uniformly
//    over the whole list go to test.
//  kPerUser: per user, round(n_u * (1 - train_ratio)) of its interactions,
//    chosen at random, go to test.
//  kTemporal: per user, the latest round(n_u * (1 - train_ratio)) by
//    timestamp go to test (ties: later in the list counts as later).
//    DataError if the data set has no timestamps.
//  kLeaveOneOut: per user with >= 2 interactions, the latest one (by
//    timestamp when present, else a random one) goes to test.
// For the per-user kinds a user always keeps at least one training
// interaction (so users with 1 interaction keep it in train), since a test
// user without training history cannot be scored by a collaborative model.
void split(Dataset& ds, SplitKind kind, double train_ratio, uint64_t seed);

// Implicit feedback: keeps interactions (train and test) with
// rating >= threshold, then drops users and items left without any
// interaction and compacts the ids (as k_core does). DataError if the data
// set has no ratings.
void filter_min_rating(Dataset& ds, float threshold);

// Iteratively drops users and items with fewer than k interactions (counted
// over train + test together) until every remaining one has at least k;
// then compacts ids: the IdMaps are rebuilt with only the surviving raw ids,
// still in canonical order. k <= 1 is a no-op.
void k_core(Dataset& ds, int k);

// Removes duplicate (user, item) pairs from x, keeping the first occurrence
// (and its rating/timestamp). Returns how many rows were removed.
size_t dedupe(Interactions& x);

}  // namespace gnnrec
