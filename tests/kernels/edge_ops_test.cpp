// gnnrec::sddmm_add and gnnrec::edge_softmax (the GAT attention operators) on
// the CPU against dense float64 references, hand-worked examples,
// finite-difference gradients, thread-count determinism, the meta
// implementations and errors.
#include <cmath>
#include <limits>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "kernels/ops.h"
#include "kernels/sparse_adjacency.h"
#include "tests/kernels/sparse_test_utils.h"
#include "tests/testing/gradcheck.h"

namespace gnnrec {
namespace {

using testing::csr_of;
using testing::expect_error;
using testing::random_csr;
using testing::randn;
using testing::row_of_entries;

constexpr double kInf = std::numeric_limits<double>::infinity();

at::Tensor add(const SparseAdjacency& a, const at::Tensor& a_row, const at::Tensor& a_col) {
  return ops::sddmm_add(a.rowptr, a.col, a.t_rowptr, a.t_col, a.t_perm, a_row, a_col);
}

// [rows] → [rows, 1]; [rows, H] as is.
at::Tensor as_matrix(const at::Tensor& t) { return t.dim() == 1 ? t.unsqueeze(1) : t; }

// Dense reference: the [rows, cols, H] sum of every pair, read at the entries.
at::Tensor dense_add(const SparseAdjacency& a, const at::Tensor& a_row, const at::Tensor& a_col) {
  const at::Tensor all = as_matrix(a_row).to(at::kDouble).unsqueeze(1) +
                         as_matrix(a_col).to(at::kDouble).unsqueeze(0);
  const at::Tensor out = all.index({row_of_entries(a), a.col.to(at::kLong)});
  return a_row.dim() == 1 ? out.squeeze(1) : out;
}

// Dense reference: scores in a [rows, cols, H] matrix of -inf, softmax over
// each row (dim 1), read back at the entries.
at::Tensor dense_softmax(const SparseAdjacency& a, const at::Tensor& score) {
  const at::Tensor s = as_matrix(score).to(at::kDouble);
  at::Tensor dense = at::full({a.num_rows, a.num_cols, s.size(1)}, -kInf, at::kDouble);
  const at::Tensor rows = row_of_entries(a), cols = a.col.to(at::kLong);
  dense.index_put_({rows, cols}, s);
  const at::Tensor out = at::softmax(dense, 1).index({rows, cols});
  return score.dim() == 1 ? out.squeeze(1) : out;
}

// (graph shape, heads; 0 heads = 1-D tensors)
struct Case {
  int64_t rows, cols, heads, hub;
};

class EdgeOpsCases : public ::testing::TestWithParam<Case> {};

at::Tensor per_node(int64_t n, int64_t heads, uint64_t seed, at::ScalarType dtype) {
  return heads == 0 ? randn({n}, seed, dtype) : randn({n, heads}, seed, dtype);
}

TEST_P(EdgeOpsCases, MatchDenseFloat64AndFloat32) {
  const Case c = GetParam();
  const SparseAdjacency a = random_csr(c.rows, c.cols, 0.1, c.hub, 40 + c.heads, false);
  for (const auto dtype : {at::kDouble, at::kFloat}) {
    SCOPED_TRACE(dtype == at::kDouble ? "float64" : "float32");
    const double tol = dtype == at::kDouble ? 1e-12 : 1e-5;
    const at::Tensor a_row = per_node(c.rows, c.heads, 1, dtype);
    const at::Tensor a_col = per_node(c.cols, c.heads, 2, dtype);
    const at::Tensor logits = add(a, a_row, a_col);
    EXPECT_EQ(logits.scalar_type(), dtype);
    const at::Tensor expected = dense_add(a, a_row, a_col);
    ASSERT_EQ(logits.sizes(), expected.sizes());
    EXPECT_TRUE(at::allclose(logits.to(at::kDouble), expected, tol, tol));

    const at::Tensor y = ops::edge_softmax(a.rowptr, logits);
    EXPECT_EQ(y.scalar_type(), dtype);
    const at::Tensor expected_y = dense_softmax(a, logits);
    ASSERT_EQ(y.sizes(), expected_y.sizes());
    EXPECT_TRUE(at::allclose(y.to(at::kDouble), expected_y, tol, tol))
        << "max |diff| " << (y.to(at::kDouble) - expected_y).abs().max().item<double>();
  }
}

INSTANTIATE_TEST_SUITE_P(Heads, EdgeOpsCases,
                         ::testing::Values(Case{40, 30, 0, 0}, Case{40, 30, 1, 0},
                                           Case{40, 30, 4, 0}, Case{40, 30, 33, 0},
                                           Case{20, 2000, 4, 1500}, Case{1, 1, 4, 0}));

TEST(EdgeOps, HubRowAboveTenThousand) {
  const SparseAdjacency a = random_csr(24, 13000, 0.0005, 13000, 5, false);
  ASSERT_GT(a.rowptr[1].item<int64_t>(), 10000);
  const at::Tensor a_row = randn({24, 4}, 1), a_col = randn({13000, 4}, 2);
  const at::Tensor logits = add(a, a_row, a_col);
  EXPECT_TRUE(at::allclose(logits, dense_add(a, a_row, a_col), 1e-12, 1e-12));
  const at::Tensor y = ops::edge_softmax(a.rowptr, logits * 30);
  EXPECT_TRUE(at::allclose(y, dense_softmax(a, logits * 30), 1e-12, 1e-12));
  // Each non-empty row sums to 1 per head.
  const at::Tensor sums = ops::segment_sum_csr(a.rowptr, y, std::nullopt);
  EXPECT_TRUE(at::allclose(sums.select(0, 0), at::ones({4}, at::kDouble), 1e-12, 1e-12));
}

TEST(SddmmAdd, HandWorkedExample) {
  // Entries (0,1), (0,2), (1,0).
  const SparseAdjacency a = csr_of(3, {{1, 2}, {0}});
  const at::Tensor a_row = at::tensor(std::vector<double>{10, 20}).requires_grad_(true);
  const at::Tensor a_col = at::tensor(std::vector<double>{1, 2, 3}).requires_grad_(true);
  const at::Tensor out = add(a, a_row, a_col);
  EXPECT_TRUE(at::equal(out, at::tensor(std::vector<double>{12, 13, 21})));
  (out * at::tensor(std::vector<double>{1, 2, 3})).sum().backward();
  EXPECT_TRUE(at::equal(a_row.grad(), at::tensor(std::vector<double>{3, 3})));
  EXPECT_TRUE(at::equal(a_col.grad(), at::tensor(std::vector<double>{3, 1, 2})));
}

TEST(SddmmAdd, Gradcheck) {
  const SparseAdjacency a = random_csr(7, 6, 0.4, 0, 9, false);
  for (const int64_t heads : {0, 1, 4}) {
    SCOPED_TRACE(heads);
    testing::gradcheck(
        [&](const std::vector<at::Tensor>& in) { return add(a, in[0], in[1]); },
        {per_node(7, heads, 3, at::kDouble), per_node(6, heads, 4, at::kDouble)});
  }
}

TEST(EdgeSoftmax, HandWorkedExamplesAndExtremes) {
  // Rows: [0, ln 3] | [-inf, 0] | [-inf, -inf] | empty | [huge, huge, -huge].
  const SparseAdjacency a = csr_of(3, {{0, 1}, {0, 1}, {0, 1}, {}, {0, 1, 2}});
  const double big = std::numeric_limits<double>::max();
  const at::Tensor s =
      at::tensor(std::vector<double>{0, std::log(3.0), -kInf, 0, -kInf, -kInf, big, big, -big});
  const at::Tensor y = ops::edge_softmax(a.rowptr, s);
  const at::Tensor expected = at::tensor(std::vector<double>{0.25, 0.75, 0, 1, 0, 0, 0.5, 0.5, 0});
  EXPECT_TRUE(at::allclose(y, expected, 1e-15, 1e-15)) << y;
  EXPECT_FALSE(y.isnan().any().item<bool>());

  // float32 at its largest value in head 0, all -inf in head 1 (one row).
  const float fbig = std::numeric_limits<float>::max();
  const float finf = std::numeric_limits<float>::infinity();
  const at::Tensor s32 = at::tensor(std::vector<float>{fbig, -finf, fbig, -finf}).view({2, 2});
  const at::Tensor y32 = ops::edge_softmax(a.rowptr.narrow(0, 0, 2), s32);
  EXPECT_TRUE(at::equal(y32, at::tensor(std::vector<float>{0.5, 0, 0.5, 0}).view({2, 2}))) << y32;

  // The all -inf row has no mass and gets a zero gradient.
  const at::Tensor x = s.clone().requires_grad_(true);
  (ops::edge_softmax(a.rowptr, x) * at::arange(9, at::kDouble)).sum().backward();
  EXPECT_FALSE(x.grad().isnan().any().item<bool>());
  EXPECT_EQ(x.grad()[4].item<double>(), 0.0);
  EXPECT_EQ(x.grad()[5].item<double>(), 0.0);

  // NaN and +inf propagate as in torch.softmax.
  const at::Tensor bad = at::tensor(std::vector<double>{std::nan(""), 1, kInf, 1});
  const at::Tensor y_bad = ops::edge_softmax(a.rowptr.narrow(0, 0, 3), bad);
  EXPECT_TRUE(y_bad.isnan().all().item<bool>()) << y_bad;
}

TEST(EdgeSoftmax, Gradcheck) {
  const SparseAdjacency a = random_csr(7, 6, 0.5, 0, 11, false);
  for (const int64_t heads : {0, 1, 4}) {
    SCOPED_TRACE(heads);
    testing::gradcheck(
        [&](const std::vector<at::Tensor>& in) { return ops::edge_softmax(a.rowptr, in[0]); },
        {per_node(a.nnz(), heads, 5, at::kDouble)});
  }
}

TEST(EdgeSoftmax, GradientMatchesDenseAutograd) {
  const SparseAdjacency a = random_csr(50, 40, 0.1, 30, 5, false);
  const at::Tensor w = randn({a.nnz(), 4}, 10);
  const at::Tensor s = randn({a.nnz(), 4}, 9).requires_grad_(true);
  (ops::edge_softmax(a.rowptr, s) * w).sum().backward();
  const at::Tensor s2 = s.detach().clone().requires_grad_(true);
  (dense_softmax(a, s2) * w).sum().backward();
  EXPECT_TRUE(at::allclose(s.grad(), s2.grad(), 1e-12, 1e-12));
}

TEST(EdgeOps, IdenticalWithOneAndTwoThreads) {
  const SparseAdjacency a = random_csr(3000, 2000, 0.01, 1500, 17, false);
  const auto [one, two] = testing::with_one_and_two_threads([&] {
    const at::Tensor a_row = randn({3000, 4}, 1, at::kFloat).requires_grad_(true);
    const at::Tensor a_col = randn({2000, 4}, 2, at::kFloat).requires_grad_(true);
    const at::Tensor y = ops::edge_softmax(a.rowptr, add(a, a_row, a_col));
    (y * randn({a.nnz(), 4}, 3, at::kFloat)).sum().backward();
    return std::make_tuple(y.detach(), a_row.grad(), a_col.grad());
  });
  EXPECT_TRUE(at::equal(std::get<0>(one), std::get<0>(two)));
  EXPECT_TRUE(at::equal(std::get<1>(one), std::get<1>(two)));
  EXPECT_TRUE(at::equal(std::get<2>(one), std::get<2>(two)));
}

TEST(EdgeOps, MetaImplementationsGiveShapes) {
  const SparseAdjacency a = random_csr(10, 8, 0.3, 0, 1, false);
  const SparseAdjacency m = a.to(at::kMeta, at::kDouble);
  const auto meta = at::TensorOptions().device(at::kMeta).dtype(at::kFloat);
  const at::Tensor logits = add(m, at::empty({10, 4}, meta), at::empty({8, 4}, meta));
  EXPECT_TRUE(logits.is_meta());
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{a.nnz(), 4}));
  EXPECT_EQ(add(m, at::empty({10}, meta), at::empty({8}, meta)).sizes(),
            (std::vector<int64_t>{a.nnz()}));
  const at::Tensor y = ops::edge_softmax(m.rowptr, logits);
  EXPECT_TRUE(y.is_meta());
  EXPECT_EQ(y.sizes(), logits.sizes());
  EXPECT_EQ(ops::edge_softmax_backward(m.rowptr, y, y).sizes(), logits.sizes());
  EXPECT_EQ(ops::segment_sum_csr(m.t_rowptr, y, m.t_perm).sizes(), (std::vector<int64_t>{8, 4}));
  EXPECT_EQ(ops::segment_sum_csr(m.rowptr, at::empty({a.nnz()}, meta), std::nullopt).sizes(),
            (std::vector<int64_t>{10}));
}

TEST(EdgeOps, ClearErrors) {
  const SparseAdjacency a = random_csr(6, 5, 0.5, 0, 2, false);
  const at::Tensor a_row = randn({6, 2}, 1), a_col = randn({5, 2}, 2);
  expect_error([&] { add(a, randn({6, 2, 1}, 1), a_col); },
               "sddmm_add: a_row must be 1-D or 2-D, got 3-D");
  expect_error([&] { add(a, a_row, a_col.to(at::kFloat)); },
               "sddmm_add: a_col must have dtype Double, got Float");
  expect_error([&] { add(a, a_row, randn({5}, 2)); },
               "sddmm_add: a_row and a_col must have the same number of dims");
  expect_error([&] { add(a, a_row, randn({5, 3}, 2)); },
               "sddmm_add: a_row and a_col must have the same number of heads, got 2 and 3");
  expect_error([&] { add(a, randn({7, 2}, 1), a_col); },
               "sddmm_add: a_row must have one row per row of A (6), got 7");
  expect_error([&] { add(a, a_row, randn({4, 2}, 2)); },
               "sddmm_add: a_col must have one row per column of A (5), got 4");
  at::Tensor bad_col = a.col.clone();
  bad_col[0] = -1;
  expect_error([&] { ops::sddmm_add(a.rowptr, bad_col, a.t_rowptr, a.t_col, a.t_perm, a_row, a_col); },
               "sddmm_add: col holds an index outside [0, 5)");

  const at::Tensor s = randn({a.nnz(), 2}, 3);
  expect_error([&] { ops::edge_softmax(a.rowptr, s.to(at::kLong)); },
               "edge_softmax: score must be float32 or float64, got Long");
  expect_error([&] { ops::edge_softmax(a.rowptr, randn({a.nnz(), 2, 2}, 3)); },
               "edge_softmax: score must be 1-D or 2-D, got 3-D");
  expect_error([&] { ops::edge_softmax(a.rowptr.to(at::kInt), s); },
               "edge_softmax: rowptr must be int64");
  expect_error([&] { ops::edge_softmax(a.rowptr, s.narrow(0, 0, 3)); },
               "edge_softmax: rowptr must start at 0 and end at nnz (3)");
  expect_error([&] { ops::edge_softmax_backward(a.rowptr, s, s.narrow(1, 0, 1)); },
               "_edge_softmax_backward: grad must have y's shape");
  expect_error([&] { ops::segment_sum_csr(a.rowptr, s, a.t_perm.narrow(0, 0, 2)); },
               "_segment_sum_csr: perm must be 1-D int64 with nnz");
}

}  // namespace
}  // namespace gnnrec
