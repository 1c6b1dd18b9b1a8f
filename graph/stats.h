// Summary statistics of a data set, for `gnnrec stats` and logs.
#pragma once

#include <cstdint>
#include <string>

#include "graph/interactions.h"

namespace gnnrec {

// Percentiles use linear interpolation between closest ranks (numpy's
// default): p-th percentile of sorted d[0..n-1] is at position p/100*(n-1).
// All zero for an empty population.
struct DegreeStats {
  double min, p25, p50, p75, p90, p99, max, mean;
};

struct DatasetStats {
  int64_t users, items, interactions, train, test;
  double density;  // interactions / (users * items); 0 when either is 0
  DegreeStats user_degree, item_degree;  // over every id in the maps (zeros included)
  bool has_rating, has_timestamp;
  std::string format;  // the loader that read it (graph/loaders.h: detect_format)
};

// Over train + test together; duplicate pairs count as often as they occur.
DatasetStats compute_stats(const Dataset& ds);

// A human-readable multi-line table (ends with a newline).
std::string format_stats(const DatasetStats& s, const std::string& name);

}  // namespace gnnrec
