// Helpers shared by the CPU kernels: the row-partitioned parallel loop that
// makes every result independent of the thread count, and the checks of
// index values, which need the data and so cannot live in checks.cpp.
#pragma once

#include <cstdint>

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include "kernels/cpu/row_partition.h"

namespace gnnrec::ops::cpu {

// Several chunks per thread so that a slow chunk can be balanced by others.
inline int64_t chunk_count() { return static_cast<int64_t>(at::get_num_threads()) * 8; }

// Calls f(row_begin, row_end) in parallel on contiguous chunks of rows of
// roughly equal nnz. Each row belongs to exactly one call, so a kernel that
// writes only its own rows' outputs needs no atomics and is deterministic.
template <typename F>
void parallel_for_rows(const int64_t* rowptr, int64_t rows, const F& f) {
  const auto bounds = partition_rows(rowptr, rows, chunk_count());
  at::parallel_for(0, static_cast<int64_t>(bounds.size()) - 1, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) f(bounds[c], bounds[c + 1]);
  });
}

// i outside [0, n) (negative i included).
inline bool out_of_range(int64_t i, int64_t n) {
  return static_cast<uint64_t>(i) >= static_cast<uint64_t>(n);
}

// rowptr (contiguous, on the CPU) starts at 0, ends at nnz, never decreases.
// `name` is the argument's name in the messages.
inline void check_rowptr_values(const char* op, const at::Tensor& rowptr, int64_t nnz,
                                const char* name = "rowptr") {
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int64_t rows = rowptr.numel() - 1;
  TORCH_CHECK(rp[0] == 0 && rp[rows] == nnz, op, ": ", name, " must start at 0 and end at nnz (",
              nnz, "), got ", rp[0], " and ", rp[rows]);
  for (int64_t r = 0; r < rows; ++r) {
    TORCH_CHECK(rp[r] <= rp[r + 1], op, ": ", name, " must be non-decreasing, but ", name, "[",
                r, "] = ", rp[r], " > ", name, "[", r + 1, "] = ", rp[r + 1]);
  }
}

// Rows [b, e) of A·x for x [cols, d] (val may be null: 1), summed in CSR
// order; false when col holds an index outside [0, cols). Defined in
// cpu/spmm.cpp, with one clone per instruction set.
bool spmm_rows(const int64_t* rowptr, const int32_t* col, const float* val, const float* x,
               float* out, int64_t b, int64_t e, int64_t d, int64_t cols);
bool spmm_rows(const int64_t* rowptr, const int32_t* col, const double* val, const double* x,
               double* out, int64_t b, int64_t e, int64_t d, int64_t cols);

}  // namespace gnnrec::ops::cpu
