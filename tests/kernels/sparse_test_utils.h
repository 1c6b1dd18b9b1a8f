// Helpers shared by the operator tests: random CSR matrices with the awkward
// cases built in, dense references, random inputs, error expectations.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "base/random.h"
#include "kernels/sparse_adjacency.h"
#include "tests/testing/scratch.h"

namespace gnnrec::testing {

// A random CSR matrix with empty rows (every 7th), empty (isolated) columns
// (every 5th) and, when hub_degree > 0, row 0 as a hub with an entry in each
// non-isolated column below hub_degree. No duplicate entries. Values in
// (0.5, 1.5) when weighted.
inline SparseAdjacency random_csr(int64_t rows, int64_t cols, double density, int64_t hub_degree,
                                  uint64_t seed, bool weighted) {
  SplitMix64 rng(seed);
  std::vector<int64_t> rowptr{0};
  std::vector<int32_t> col;
  for (int64_t r = 0; r < rows; ++r) {
    if (r % 7 == 3) {
      rowptr.push_back(static_cast<int64_t>(col.size()));
      continue;
    }
    for (int64_t c = 0; c < cols; ++c) {
      if (c % 5 == 2) continue;
      const bool hub = (r == 0 && hub_degree > 0 && c < hub_degree);
      if (hub || rng.uniform() < density) col.push_back(static_cast<int32_t>(c));
    }
    rowptr.push_back(static_cast<int64_t>(col.size()));
  }
  SparseAdjacency a;
  a.num_rows = rows;
  a.num_cols = cols;
  a.rowptr = at::tensor(rowptr, at::kLong);
  a.col = at::tensor(col, at::kInt);
  if (weighted) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    a.value = at::rand({static_cast<int64_t>(col.size())}, gen,
                       at::TensorOptions().dtype(at::kDouble)) +
              0.5;
  }
  fill_transpose(a);
  return a;
}

// A CSR matrix from explicit rows of column indices.
inline SparseAdjacency csr_of(int64_t cols, const std::vector<std::vector<int32_t>>& rows) {
  std::vector<int64_t> rowptr{0};
  std::vector<int32_t> col;
  for (const auto& row : rows) {
    col.insert(col.end(), row.begin(), row.end());
    rowptr.push_back(static_cast<int64_t>(col.size()));
  }
  SparseAdjacency a;
  a.num_rows = static_cast<int64_t>(rows.size());
  a.num_cols = cols;
  a.rowptr = at::tensor(rowptr, at::kLong);
  a.col = col.empty() ? at::empty({0}, at::kInt) : at::tensor(col, at::kInt);
  fill_transpose(a);
  return a;
}

// The dense float64 matrix (1 where there is an unweighted entry).
inline at::Tensor dense_of(const SparseAdjacency& a) {
  at::Tensor d = at::zeros({a.num_rows, a.num_cols}, at::kDouble);
  const auto rp = a.rowptr.accessor<int64_t, 1>();
  const auto cp = a.col.accessor<int32_t, 1>();
  for (int64_t r = 0; r < a.num_rows; ++r) {
    for (int64_t k = rp[r]; k < rp[r + 1]; ++k) {
      d[r][cp[k]] = a.value.defined() ? a.value[k].item<double>() : 1.0;
    }
  }
  return d;
}

// The row of every stored entry, int64 [nnz].
inline at::Tensor row_of_entries(const SparseAdjacency& a) {
  const at::Tensor deg = a.rowptr.narrow(0, 1, a.num_rows) - a.rowptr.narrow(0, 0, a.num_rows);
  return at::repeat_interleave(at::arange(a.num_rows, at::kLong), deg);
}

inline at::Tensor randn(at::IntArrayRef shape, uint64_t seed, at::ScalarType dtype = at::kDouble) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn(shape, gen, at::TensorOptions().dtype(dtype));
}

// f must throw a c10::Error whose message contains `fragment`.
inline void expect_error(const std::function<void()>& f, const std::string& fragment) {
  const std::string message = error_of<c10::Error>(f);
  EXPECT_NE(message.find(fragment), std::string::npos)
      << "expected \"" << fragment << "\" in: " << message;
}

// Runs f once with 1 thread and once with 2; restores the thread count.
template <typename F>
auto with_one_and_two_threads(F&& f) {
  const int saved = at::get_num_threads();
  at::set_num_threads(1);
  auto one = f();
  at::set_num_threads(2);
  auto two = f();
  at::set_num_threads(saved);
  return std::make_pair(one, two);
}

}  // namespace gnnrec::testing
