// gnnrec::spmm and gnnrec::sddmm on the CPU against dense float64 ATen
// references, finite-difference gradients, thread-count determinism, the
// meta implementation and argument errors.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "kernels/ops.h"
#include "kernels/sparse_adjacency.h"
#include "tests/kernels/sparse_test_utils.h"
#include "tests/testing/gradcheck.h"

namespace gnnrec {
namespace {

using testing::dense_of;
using testing::expect_error;
using testing::random_csr;
using testing::randn;

struct Case {
  int64_t rows, cols, width, hub;
  bool weighted;
};

class SpmmCases : public ::testing::TestWithParam<Case> {};

TEST_P(SpmmCases, MatchesDenseFloat64AndFloat32) {
  const Case c = GetParam();
  const SparseAdjacency a = random_csr(c.rows, c.cols, 0.05, c.hub, 7 + c.width, c.weighted);
  const at::Tensor x = randn({c.cols, c.width}, 11);
  const at::Tensor expected = at::mm(dense_of(a), x);
  const at::Tensor got = a.matmul(x);
  ASSERT_EQ(got.sizes(), expected.sizes());
  EXPECT_TRUE(at::allclose(got, expected, 1e-12, 1e-12))
      << "max |diff| " << (got - expected).abs().max().item<double>();

  const SparseAdjacency a32 = a.to(at::kCPU, at::kFloat);
  const at::Tensor got32 = a32.matmul(x.to(at::kFloat));
  EXPECT_EQ(got32.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::allclose(got32.to(at::kDouble), expected, 1e-4, 1e-4));
}

INSTANTIATE_TEST_SUITE_P(
    Widths, SpmmCases,
    ::testing::Values(Case{40, 30, 1, 0, true}, Case{40, 30, 31, 0, true},
                      Case{40, 30, 32, 0, false}, Case{40, 30, 33, 0, true},
                      Case{40, 30, 64, 0, true}, Case{40, 30, 127, 0, false},
                      Case{33, 1025, 32, 1000, true},  // hub row with 800 entries
                      Case{1, 1, 4, 0, true}, Case{5, 3, 8, 0, false}));

TEST(Spmm, HubNodeAboveTenThousand) {
  const SparseAdjacency a = random_csr(64, 12000, 0.001, 12000, 3, true);
  EXPECT_GT(a.rowptr[1].item<int64_t>(), 9000);
  const at::Tensor x = randn({12000, 16}, 5);
  EXPECT_TRUE(at::allclose(a.matmul(x), at::mm(dense_of(a), x), 1e-10, 1e-10));
}

TEST(Spmm, EmptyGraphAndZeroWidth) {
  SparseAdjacency a;
  a.num_rows = 4;
  a.num_cols = 3;
  a.rowptr = at::zeros({5}, at::kLong);
  a.col = at::empty({0}, at::kInt);
  fill_transpose(a);
  const at::Tensor out = a.matmul(randn({3, 6}, 1));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{4, 6}));
  EXPECT_EQ(out.abs().sum().item<double>(), 0.0);
  EXPECT_EQ(a.matmul(at::empty({3, 0}, at::kDouble)).sizes(), (std::vector<int64_t>{4, 0}));
}

TEST(Spmm, HandWorkedExample) {
  // A = [[0, 2, 0], [0, 0, 0], [1, 0, 3]]
  SparseAdjacency a;
  a.num_rows = a.num_cols = 3;
  a.rowptr = at::tensor(std::vector<int64_t>{0, 1, 1, 3});
  a.col = at::tensor(std::vector<int32_t>{1, 0, 2});
  a.value = at::tensor(std::vector<double>{2, 1, 3});
  fill_transpose(a);
  EXPECT_TRUE(at::equal(a.t_rowptr, at::tensor(std::vector<int64_t>{0, 1, 2, 3})));
  EXPECT_TRUE(at::equal(a.t_col, at::tensor(std::vector<int32_t>{2, 0, 2})));
  EXPECT_TRUE(at::equal(a.t_perm, at::tensor(std::vector<int64_t>{1, 0, 2})));
  const at::Tensor x = at::tensor(std::vector<double>{1, 10, 100, 1000, 10000, 100000}).view({3, 2});
  const at::Tensor expected = at::tensor(std::vector<double>{200, 2000, 0, 0, 30001, 300010}).view({3, 2});
  EXPECT_TRUE(at::equal(a.matmul(x), expected));
}

TEST(Spmm, GradcheckInXAndValue) {
  const SparseAdjacency a = random_csr(9, 7, 0.4, 0, 21, true);
  const at::Tensor x = randn({7, 3}, 2);
  testing::gradcheck(
      [&](const std::vector<at::Tensor>& in) {
        return ops::spmm(a.rowptr, a.col, in[1], a.t_rowptr, a.t_col, a.t_perm, in[0]);
      },
      {x, a.value});
}

TEST(Spmm, GradientsMatchDenseAutograd) {
  const SparseAdjacency a = random_csr(50, 40, 0.1, 30, 5, true);
  const at::Tensor x = randn({40, 33}, 9).requires_grad_(true);
  const at::Tensor v = a.value.clone().requires_grad_(true);
  const at::Tensor w = randn({50, 33}, 10);
  (ops::spmm(a.rowptr, a.col, v, a.t_rowptr, a.t_col, a.t_perm, x) * w).sum().backward();

  // Dense reference: scatter the same values into a dense matrix, differentiably.
  const at::Tensor x2 = x.detach().clone().requires_grad_(true);
  const at::Tensor v2 = a.value.clone().requires_grad_(true);
  std::vector<int64_t> rows;
  const auto rp = a.rowptr.accessor<int64_t, 1>();
  for (int64_t r = 0; r < a.num_rows; ++r)
    for (int64_t k = rp[r]; k < rp[r + 1]; ++k) rows.push_back(r);
  const at::Tensor flat = at::tensor(rows, at::kLong) * a.num_cols + a.col.to(at::kLong);
  const at::Tensor dense = at::zeros({a.num_rows * a.num_cols}, at::kDouble).index_add(0, flat, v2)
                               .view({a.num_rows, a.num_cols});
  (at::mm(dense, x2) * w).sum().backward();
  EXPECT_TRUE(at::allclose(x.grad(), x2.grad(), 1e-12, 1e-12));
  EXPECT_TRUE(at::allclose(v.grad(), v2.grad(), 1e-12, 1e-12));
}

TEST(Spmm, UnweightedGradient) {
  const SparseAdjacency a = random_csr(12, 10, 0.3, 0, 4, false);
  testing::gradcheck(
      [&](const std::vector<at::Tensor>& in) {
        return ops::spmm(a.rowptr, a.col, std::nullopt, a.t_rowptr, a.t_col, std::nullopt, in[0]);
      },
      {randn({10, 4}, 3)});
}

TEST(Spmm, IdenticalWithOneAndTwoThreads) {
  const SparseAdjacency a = random_csr(3000, 2000, 0.01, 1500, 17, true).to(at::kCPU, at::kFloat);
  const at::Tensor x = randn({2000, 64}, 3, at::kFloat).requires_grad_(true);
  const int saved = at::get_num_threads();
  std::vector<at::Tensor> outs, grads;
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    x.mutable_grad() = at::Tensor();
    at::Tensor out = a.matmul(x);
    (out * out).sum().backward();
    outs.push_back(out.detach());
    grads.push_back(x.grad().clone());
  }
  at::set_num_threads(saved);
  EXPECT_TRUE(at::equal(outs[0], outs[1]));
  EXPECT_TRUE(at::equal(grads[0], grads[1]));
}

TEST(Sddmm, MatchesDenseAndGradchecks) {
  const SparseAdjacency a = random_csr(30, 20, 0.2, 0, 8, false);
  const at::Tensor x = randn({30, 5}, 1), y = randn({20, 5}, 2);
  const at::Tensor got = ops::sddmm(a.rowptr, a.col, a.t_rowptr, a.t_col, a.t_perm, x, y);
  const at::Tensor full = at::mm(x, y.t());
  std::vector<int64_t> rows;
  const auto rp = a.rowptr.accessor<int64_t, 1>();
  for (int64_t r = 0; r < a.num_rows; ++r)
    for (int64_t k = rp[r]; k < rp[r + 1]; ++k) rows.push_back(r);
  const at::Tensor expected = full.index({at::tensor(rows, at::kLong), a.col.to(at::kLong)});
  EXPECT_TRUE(at::allclose(got, expected, 1e-12, 1e-12));
  const SparseAdjacency small = random_csr(6, 5, 0.5, 0, 9, false);
  testing::gradcheck(
      [&](const std::vector<at::Tensor>& in) {
        return ops::sddmm(small.rowptr, small.col, small.t_rowptr, small.t_col, small.t_perm,
                          in[0], in[1]);
      },
      {randn({6, 3}, 4), randn({5, 3}, 5)});
}

TEST(Spmm, MetaImplementationGivesShapes) {
  const SparseAdjacency a = random_csr(10, 8, 0.3, 0, 1, true);
  const auto meta = at::TensorOptions().device(at::kMeta);
  const at::Tensor out =
      ops::spmm(a.rowptr.to(at::kMeta), a.col.to(at::kMeta), a.value.to(at::kMeta),
                a.t_rowptr.to(at::kMeta), a.t_col.to(at::kMeta), a.t_perm.to(at::kMeta),
                at::empty({8, 5}, meta.dtype(at::kDouble)));
  EXPECT_TRUE(out.is_meta());
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{10, 5}));
  const at::Tensor e = ops::sddmm(a.rowptr.to(at::kMeta), a.col.to(at::kMeta),
                                  a.t_rowptr.to(at::kMeta), a.t_col.to(at::kMeta),
                                  a.t_perm.to(at::kMeta), at::empty({10, 5}, meta.dtype(at::kFloat)),
                                  at::empty({8, 5}, meta.dtype(at::kFloat)));
  EXPECT_EQ(e.sizes(), (std::vector<int64_t>{a.nnz()}));
}

TEST(Spmm, ClearErrors) {
  const SparseAdjacency a = random_csr(6, 5, 0.5, 0, 2, true);
  const at::Tensor x = randn({5, 3}, 1);
  expect_error([&] { ops::spmm(a.rowptr.to(at::kInt), a.col, a.value, a.t_rowptr, a.t_col, a.t_perm, x); },
               "spmm: rowptr must be int64");
  expect_error([&] { ops::spmm(a.rowptr, a.col.to(at::kLong), a.value, a.t_rowptr, a.t_col, a.t_perm, x); },
               "spmm: col must be int32");
  expect_error([&] { ops::spmm(a.rowptr, a.col, a.value, a.t_rowptr, a.t_col, a.t_perm, randn({4, 3}, 1)); },
               "spmm: x must have one row per column of A");
  expect_error([&] { ops::spmm(a.rowptr, a.col, a.value.to(at::kFloat), a.t_rowptr, a.t_col, a.t_perm, x); },
               "spmm: value must have the dtype");
  expect_error([&] { ops::spmm(a.rowptr, a.col, a.value, a.t_rowptr, a.t_col, a.t_perm, x.to(at::kInt)); },
               "spmm: x must be float32 or float64");
  at::Tensor bad_col = a.col.clone();
  bad_col[0] = 99;
  expect_error([&] { ops::spmm(a.rowptr, bad_col, a.value, a.t_rowptr, a.t_col, a.t_perm, x); },
               "spmm: col holds an index outside [0, 5)");
  at::Tensor bad_rowptr = a.rowptr.clone();
  bad_rowptr[2] = 100;
  expect_error([&] { ops::spmm(bad_rowptr, a.col, a.value, a.t_rowptr, a.t_col, a.t_perm, x); },
               "spmm: rowptr must be non-decreasing");
}

}  // namespace
}  // namespace gnnrec
