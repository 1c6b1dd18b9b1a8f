// Splits CSR rows into contiguous chunks of roughly equal work, where a row
// costs its nnz plus one (so long runs of empty rows still count). A chunk
// boundary never falls inside a row: each output row is produced by exactly
// one thread, in CSR order, which makes results independent of the number
// of threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace gnnrec::ops::cpu {

// Returns chunk boundaries b[0]=0 < ... < b[n]=rows (n <= num_chunks).
inline std::vector<int64_t> partition_rows(const int64_t* rowptr, int64_t rows,
                                           int64_t num_chunks) {
  std::vector<int64_t> bounds{0};
  if (rows == 0) return bounds;
  const int64_t total = rowptr[rows] - rowptr[0] + rows;
  num_chunks = std::max<int64_t>(1, std::min(num_chunks, rows));
  for (int64_t c = 1; c < num_chunks; ++c) {
    const int64_t target = total * c / num_chunks;
    // First row r with cost(0..r) = rowptr[r] - rowptr[0] + r >= target.
    int64_t lo = bounds.back(), hi = rows;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (rowptr[mid] - rowptr[0] + mid < target) lo = mid + 1; else hi = mid;
    }
    if (lo > bounds.back() && lo < rows) bounds.push_back(lo);
  }
  bounds.push_back(rows);
  return bounds;
}

}  // namespace gnnrec::ops::cpu
