// The per-row sampling code of sample_neighbors and sample_negatives, as
// plain functions that compile for the host and (under nvcc) for the
// device: the CUDA kernels run them one thread per seed (per row of users),
// the CPU operators (kernels/cpu/sample_*.cpp) run the same functions,
// and host tests check them against the CPU operators, so the two devices
// give equal output.
//
// The random stream is SplitMix64 from base/random.h, which compiles for
// the device too.
//
// sample_neighbors: sample_row finds repeats among the picks by scanning
// the picks so far, O(fanout²) per seed; the CPU operator runs it up to 64
// picks and switches to a hash set above (cpu/sample_neighbors.cpp); both find the
// same repeats, so the output is the same.
//
// sample_negatives: rejection sampling against the user's sorted row with
// SplitMix64::below, the algorithm samplers/negative_sampler.cpp has always
// used (its draws are unchanged), shared by both devices.
#pragma once

#include <cstdint>

#include "base/host_device.h"
#include "base/random.h"

namespace gnnrec::sampling {

// Fills eid[0, fanout) with CSR positions in [begin, begin + deg), deg > 0:
// independent draws with replacement or when deg < fanout, else Floyd's
// algorithm for a uniform fanout-subset.
GNNREC_HOST_DEVICE void sample_row(int64_t begin, int64_t deg, int64_t fanout, bool replace,
                                   SplitMix64& rng, int64_t* eid) {
  if (replace || deg < fanout) {
    for (int64_t i = 0; i < fanout; ++i)
      eid[i] = begin + static_cast<int64_t>(rng.below64(static_cast<uint64_t>(deg)));
    return;
  }
  int64_t n = 0;
  for (int64_t i = deg - fanout; i < deg; ++i) {
    int64_t t = static_cast<int64_t>(rng.below64(static_cast<uint64_t>(i + 1)));
    bool dup = false;
    for (int64_t p = 0; p < n && !dup; ++p) dup = eid[p] == begin + t;
    if (dup) t = i;  // i cannot have been taken: earlier draws were below i
    eid[n++] = begin + t;
  }
}

// Seed j's whole output row: nbr/eid[0, fanout) for node `node` of a CSR
// with `rows` rows (-1 everywhere for an isolated node, or for a node
// outside [0, rows), which the CPU operator rejects before sampling).
GNNREC_HOST_DEVICE void sample_seed(const int64_t* rowptr, const int32_t* col, int64_t rows,
                                    int64_t nnz, int64_t node, int64_t fanout, bool replace,
                                    uint64_t seed, int64_t* nbr, int64_t* eid) {
  int64_t begin = 0, deg = 0;
  if (static_cast<uint64_t>(node) < static_cast<uint64_t>(rows)) {
    begin = rowptr[node];
    const int64_t end = rowptr[node + 1];
    // A malformed rowptr gives no neighbours rather than reads outside col.
    if (begin >= 0 && end <= nnz && end > begin) deg = end - begin;
  }
  if (deg == 0) {
    for (int64_t i = 0; i < fanout; ++i) nbr[i] = -1, eid[i] = -1;
    return;
  }
  SplitMix64 rng(seed, static_cast<uint64_t>(node));
  sample_row(begin, deg, fanout, replace, rng, eid);
  for (int64_t i = 0; i < fanout; ++i) nbr[i] = col[eid[i]];
}

// item occurs in row[0, deg), sorted ascending (binary search; the answer
// std::binary_search gives).
GNNREC_HOST_DEVICE bool sorted_row_contains(const int32_t* row, int64_t deg, int32_t item) {
  int64_t lo = 0, hi = deg;  // the first position whose entry is >= item is in [lo, hi]
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (row[mid] < item) lo = mid + 1; else hi = mid;
  }
  return lo < deg && row[lo] == item;
}

// Row j of sample_negatives: out[0, k) are k independent uniform draws from
// the items in [0, num_items) that are not in the user's row (row[0, deg),
// sorted ascending), each drawn by rejection, from SplitMix64(seed, j).
// Expects 1 <= num_items <= 2^31 and deg < num_items: then some item in
// [0, num_items) is missing from the row, and every draw of a missing item
// is accepted (even if the row were not sorted), so the loop ends with
// probability 1; the expected number of draws per sample is
// num_items / (num_items - distinct items of the row).
GNNREC_HOST_DEVICE void sample_negative_row(const int32_t* row, int64_t deg, int64_t num_items,
                                            int64_t k, uint64_t seed, uint64_t j, int64_t* out) {
  SplitMix64 rng(seed, j);
  const uint32_t n = static_cast<uint32_t>(num_items);
  for (int64_t s = 0; s < k; ++s) {
    int32_t cand;
    do {
      cand = static_cast<int32_t>(rng.below(n));
    } while (sorted_row_contains(row, deg, cand));
    out[s] = cand;
  }
}

}  // namespace gnnrec::sampling
