// gnnrec::spmm_reduce (sum, mean, max) and _spmm_reduce_max_backward on every
// device (tests/kernels/sparse_test_utils.h: OnDevice) against dense float64
// ATen references over masked rows, a hand-worked example, infinities and
// NaN, finite-difference gradients and dense autograd; widths straddling the
// CUDA lane-group, warp and vector widths and hub rows (ties decided across
// the CUDA hub segments) against the CPU, bit for bit for the max; empty
// graphs and zero widths; argument errors and malformed indices (the CPU
// raises, CUDA stays inside its buffers). On the CPU only: thread-count
// determinism and the meta implementation.
#include <limits>
#include <string>
#include <tuple>

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
using testing::dense_of;
using testing::dtype_name;
using testing::expect_error;
using testing::hub_graph;
using testing::hub_tol;
using testing::randn;
using testing::random_csr;
using testing::tol_of;

std::tuple<at::Tensor, at::Tensor> reduce_rows(const SparseAdjacency& a, const at::Tensor& x,
                                          const std::string& how) {
  return ops::spmm_reduce(a.rowptr, a.col, a.t_rowptr, a.t_col, a.t_perm, x, how);
}

// Dense float64 reference: (out, arg) from the masked dense rows. arg is the
// CSR position of the dense argmax (no duplicate entries, so it is unique).
std::tuple<at::Tensor, at::Tensor> dense_reduce(const SparseAdjacency& a, const at::Tensor& x_in,
                                                const std::string& how) {
  const at::Tensor x = x_in.to(at::kDouble);
  const at::Tensor mask = dense_of(a).ne(0);  // [rows, cols]
  const at::Tensor deg = mask.sum(1, /*keepdim=*/true);
  const at::Tensor empty_row = deg.eq(0);     // [rows, 1]
  if (how == "sum") return {at::mm(mask.to(at::kDouble), x), at::empty({0}, at::kLong)};
  if (how == "mean") {
    return {at::mm(mask.to(at::kDouble), x) / deg.clamp_min(1).to(at::kDouble),
            at::empty({0}, at::kLong)};
  }
  const double inf = std::numeric_limits<double>::infinity();
  const at::Tensor masked = x.unsqueeze(0)
                                .expand({a.num_rows, a.num_cols, x.size(1)})
                                .masked_fill(mask.logical_not().unsqueeze(2), -inf);
  auto [value, column] = masked.max(1);  // [rows, d]
  // position[r, j] = CSR position of entry (r, j).
  at::Tensor position = at::full({a.num_rows, a.num_cols}, -1, at::kLong);
  position.index_put_({testing::row_of_entries(a), a.col.to(at::kLong)},
                      at::arange(a.nnz(), at::kLong));
  const at::Tensor arg = position.gather(1, column);
  return {value.masked_fill(empty_row, 0.0), arg.masked_fill(empty_row, -1)};
}

class SpmmReduceTest : public testing::OnDevice {};
GNNREC_ON_DEVICES(SpmmReduceTest);

struct Shape {
  int64_t rows, cols, width, hub;
};

std::string shape_name(const Shape& c) {
  return std::to_string(c.rows) + "x" + std::to_string(c.cols) + "_d" + std::to_string(c.width) +
         (c.hub ? "_hub" : "");
}

const std::vector<Shape> kShapes{
    Shape{40, 30, 1, 0},  Shape{40, 30, 31, 0},  Shape{40, 30, 32, 0},     Shape{40, 30, 33, 0},
    Shape{40, 30, 64, 0}, Shape{40, 30, 127, 0}, Shape{20, 2000, 3, 1500},  // hub row, 1200 entries
    Shape{1, 1, 4, 0}};

class SpmmReduceShapes : public testing::OnDeviceCases<Shape> {};
GNNREC_CASES_ON_DEVICES(SpmmReduceShapes, kShapes, shape_name);

TEST_P(SpmmReduceShapes, MatchesDenseFloat64AndFloat32) {
  const Shape c = param();
  const SparseAdjacency a = random_csr(c.rows, c.cols, 0.1, c.hub, 3 + c.width, false);
  for (const char* how : {"sum", "mean", "max"}) {
    SCOPED_TRACE(how);
    const at::Tensor x = randn({c.cols, c.width}, 17 + c.width);
    const auto [expected, expected_arg] = dense_reduce(a, x, how);
    const auto [got, arg] = reduce_rows(on(a), on(x), how);
    expect_close(got, expected, 1e-12, 1e-12, "float64");
    expect_equal(arg, expected_arg, "arg");

    // float32: the max is exact (one of the inputs), sums within rounding.
    const at::Tensor x32 = x.to(at::kFloat);
    const auto [expected32, expected_arg32] = dense_reduce(a, x32, how);
    const auto [got32, arg32] = reduce_rows(on(a, at::kFloat), on(x32), how);
    EXPECT_EQ(got32.scalar_type(), at::kFloat);
    expect_close(got32, expected32, 1e-5, 1e-5, "float32");
    expect_equal(arg32, expected_arg32, "arg float32");
  }
}

// {out, arg, grad_x} of spmm_reduce on `device` (a and x on the CPU).
std::tuple<at::Tensor, at::Tensor, at::Tensor> reduce_with_grad(const SparseAdjacency& a,
                                                                const at::Tensor& x_in,
                                                                const at::Tensor& w,
                                                                const std::string& how,
                                                                at::Device device) {
  const SparseAdjacency g = a.to(device, x_in.scalar_type());
  const at::Tensor x = x_in.to(device).detach().clone().requires_grad_(true);
  auto [out, arg] = reduce_rows(g, x, how);
  (out * w.to(device)).sum().backward();
  return {out.detach(), arg, x.grad()};
}

// Every reduction on the test's device against the CPU operator from the
// same inputs, gradients included: the max (and its argmax) bit for bit,
// the sums within tol.
void expect_reduce_matches_cpu(const testing::DeviceHelpers& t, const SparseAdjacency& a,
                               const at::Tensor& x, const at::Tensor& w, double tol) {
  for (const char* how : {"sum", "mean", "max"}) {
    SCOPED_TRACE(how);
    const auto [out, arg, gx] = reduce_with_grad(a, x, w, how, t.device());
    const auto [out_cpu, arg_cpu, gx_cpu] = reduce_with_grad(a, x, w, how, at::kCPU);
    if (std::string(how) == "max") {
      // The max is exact and its ties are broken the same way: bit for bit.
      t.expect_equal(out, out_cpu, "max");
      t.expect_equal(arg, arg_cpu, "argmax");
    } else {
      t.expect_close(out, out_cpu, tol, tol, how);
      EXPECT_EQ(arg.numel(), 0);
      EXPECT_EQ(arg.device().type(), t.device().type());
    }
    t.expect_close(gx, gx_cpu, tol, tol, std::string("grad x, ") + how);
  }
}

class SpmmReduceWidths : public testing::OnDeviceCases<testing::Width> {};
GNNREC_CASES_ON_DEVICES(SpmmReduceWidths, testing::straddling_widths(), testing::width_name);

// Against dense float64 (on every device) and the CPU (off the CPU).
TEST_P(SpmmReduceWidths, MatchesDenseAndTheCpu) {
  const testing::Width c = param();
  const SparseAdjacency a = random_csr(80, 60, 0.1, 0, 13, false);
  const at::Tensor x = randn({60, c.width}, 17 + c.width, c.dtype);
  for (const char* how : {"sum", "mean", "max"}) {
    SCOPED_TRACE(how);
    const auto [expected, expected_arg] = dense_reduce(a, x, how);
    const auto [got, arg] = reduce_rows(on(a, c.dtype), on(x), how);
    expect_close(got, expected, tol_of(c.dtype), tol_of(c.dtype), "vs dense");
    expect_equal(arg, expected_arg, "arg vs dense");
  }
  if (!on_cpu()) {
    expect_reduce_matches_cpu(*this, a, x, randn({80, c.width}, 18, c.dtype), tol_of(c.dtype));
  }
}

TEST_P(SpmmReduceTest, HubRowAboveTenThousand) {
  const SparseAdjacency a = random_csr(24, 13000, 0.0005, 13000, 5, false);
  ASSERT_GT(a.rowptr[1].item<int64_t>(), 10000);
  const at::Tensor x = randn({13000, 4}, 6);
  for (const char* how : {"sum", "mean", "max"}) {
    SCOPED_TRACE(how);
    const auto [expected, expected_arg] = dense_reduce(a, x, how);
    const auto [got, arg] = reduce_rows(on(a), on(x), how);
    expect_close(got, expected, 1e-10, 1e-10, "hub row");
    expect_equal(arg, expected_arg, "arg");
  }
}

TEST_P(SpmmReduceTest, HubRowsTiesNaNAndInfinitiesMatchTheCpu) {
  const SparseAdjacency a = hub_graph(false);
  for (const int64_t d : {1, 4, 33, 64, 256}) {
    for (const auto dtype : {at::kFloat, at::kDouble}) {
      SCOPED_TRACE(::testing::Message() << "d " << d << ", " << dtype_name(dtype));
      // Few distinct values: many ties, decided by CSR position (across the
      // hub rows' segments too).
      const at::Tensor x = (randn({a.num_cols, d}, 40 + d) * 2).round().to(dtype);
      expect_reduce_matches_cpu(*this, a, x, randn({a.num_rows, d}, 41, dtype), hub_tol(dtype));
    }
  }
  // NaN, +inf and -inf in the rows (forward only: the CPU's too).
  const double inf = std::numeric_limits<double>::infinity();
  at::Tensor x = randn({a.num_cols, 8}, 50);
  x.index_put_({at::arange(0, a.num_cols, 97, at::kLong)},
               std::numeric_limits<double>::quiet_NaN());
  x.index_put_({at::arange(3, a.num_cols, 89, at::kLong)}, inf);
  x.index_put_({at::arange(5, a.num_cols, 2, at::kLong)}, -inf);
  for (const auto dtype : {at::kFloat, at::kDouble}) {
    const auto [out, arg] = reduce_rows(on(a, dtype), on(x.to(dtype)), "max");
    const auto [out_cpu, arg_cpu] = reduce_rows(a, x.to(dtype), "max");
    expect_equal(out, out_cpu, "max with NaN and infinities");
    expect_equal(arg, arg_cpu, "argmax with NaN and infinities");
  }
}

TEST_P(SpmmReduceTest, MaxBackwardOperatorMatchesTheCpu) {
  const SparseAdjacency a = hub_graph(false);
  for (const int64_t d : {1, 4, 33, 64}) {
    for (const auto dtype : {at::kFloat, at::kDouble}) {
      SCOPED_TRACE(::testing::Message() << "d " << d << ", " << dtype_name(dtype));
      const at::Tensor x = (randn({a.num_cols, d}, 60 + d) * 2).round().to(dtype);
      const at::Tensor arg = std::get<1>(reduce_rows(a, x, "max"));
      const at::Tensor grad = randn({a.num_rows, d}, 61, dtype);
      const SparseAdjacency g = on(a, dtype);
      const at::Tensor got =
          ops::spmm_reduce_max_backward(g.t_rowptr, g.t_col, g.t_perm, on(arg), on(grad));
      const at::Tensor expected =
          ops::spmm_reduce_max_backward(a.t_rowptr, a.t_col, a.t_perm, arg, grad);
      expect_close(got, expected, hub_tol(dtype), hub_tol(dtype), "max backward");
    }
  }
}

TEST_P(SpmmReduceTest, HandWorkedExampleWithTiesAndAnEmptyRow) {
  // Row 0 ← x1; row 1 empty; row 2 ← x0, x2 (CSR positions 0 | - | 1, 2).
  const SparseAdjacency a = on(csr_of(3, {{1}, {}, {0, 2}}));
  const at::Tensor x = at::tensor(std::vector<double>{1, 7, 4, -1, 3, 7}).view({3, 2});
  auto [sum, sum_arg] = reduce_rows(a, on(x), "sum");
  expect_equal(sum, at::tensor(std::vector<double>{4, -1, 0, 0, 4, 14}).view({3, 2}), "sum");
  EXPECT_EQ(sum_arg.numel(), 0);
  EXPECT_EQ(sum_arg.scalar_type(), at::kLong);
  auto [mean, mean_arg] = reduce_rows(a, on(x), "mean");
  expect_equal(mean, at::tensor(std::vector<double>{4, -1, 0, 0, 2, 7}).view({3, 2}), "mean");
  EXPECT_EQ(mean_arg.numel(), 0);
  auto [max, arg] = reduce_rows(a, on(x), "max");
  expect_equal(max, at::tensor(std::vector<double>{4, -1, 0, 0, 3, 7}).view({3, 2}), "max");
  // Column 1 of row 2 is a tie (7, 7): the first entry, position 1, wins.
  expect_equal(arg, at::tensor(std::vector<int64_t>{0, 0, -1, -1, 2, 1}).view({3, 2}), "arg");

  // Gradients with g = 1: max sends each output's 1 to its winner only.
  const auto grad_of = [&](const char* how) {
    const at::Tensor xg = leaf(x);
    std::get<0>(reduce_rows(a, xg, how)).sum().backward();
    return xg.grad();
  };
  expect_equal(grad_of("max"), at::tensor(std::vector<double>{0, 1, 1, 1, 1, 0}).view({3, 2}),
               "grad max");
  expect_equal(grad_of("sum"), at::ones({3, 2}, at::kDouble), "grad sum");
  expect_equal(grad_of("mean"),
               at::tensor(std::vector<double>{0.5, 0.5, 1, 1, 0.5, 0.5}).view({3, 2}), "grad mean");
}

TEST_P(SpmmReduceTest, MaxOfInfinitiesAndNaN) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const SparseAdjacency a = on(csr_of(3, {{0, 1}, {1, 2}}));
  const at::Tensor x = on(at::tensor(std::vector<double>{-inf, 1, -inf, nan, 2, 5}).view({3, 2}));
  auto [max_d, arg_d] = reduce_rows(a, x, "max");
  const at::Tensor max = max_d.cpu(), arg = arg_d.cpu();
  // Row 0: (-inf, -inf) → -inf from the first entry; (1, NaN) → NaN.
  // Row 1: (-inf, 2) → 2; (NaN, 5) → NaN, the NaN wins from the first entry.
  EXPECT_EQ(max[0][0].item<double>(), -inf);
  EXPECT_TRUE(std::isnan(max[0][1].item<double>()));
  EXPECT_EQ(max[1][0].item<double>(), 2);
  EXPECT_TRUE(std::isnan(max[1][1].item<double>()));
  EXPECT_TRUE(at::equal(arg, at::tensor(std::vector<int64_t>{0, 1, 3, 2}).view({2, 2})));
}

TEST_P(SpmmReduceTest, Gradcheck) {
  const SparseAdjacency a = on(random_csr(9, 7, 0.4, 0, 21, false));
  for (const char* how : {"sum", "mean", "max"}) {
    SCOPED_TRACE(how);
    // Normal draws: no ties in the max, and none within eps of each other.
    testing::gradcheck(
        [&](const std::vector<at::Tensor>& in) { return std::get<0>(reduce_rows(a, in[0], how)); },
        {on(randn({7, 3}, 2))});
  }
}

TEST_P(SpmmReduceTest, GradientsMatchDenseAutograd) {
  const SparseAdjacency a = random_csr(50, 40, 0.1, 30, 5, false);
  const at::Tensor w = randn({50, 33}, 10);
  const at::Tensor mask = dense_of(a).ne(0);
  const double inf = std::numeric_limits<double>::infinity();
  for (const char* how : {"sum", "mean", "max"}) {
    SCOPED_TRACE(how);
    const at::Tensor x = leaf(randn({40, 33}, 9));
    auto [out, arg] = reduce_rows(on(a), x, how);
    EXPECT_TRUE(out.requires_grad());
    EXPECT_FALSE(arg.requires_grad());
    (out * on(w)).sum().backward();

    const at::Tensor x2 = x.detach().cpu().clone().requires_grad_(true);
    const at::Tensor m = mask.to(at::kDouble);
    at::Tensor ref;
    if (std::string(how) == "max") {
      ref = x2.unsqueeze(0).expand({50, 40, 33}).masked_fill(mask.logical_not().unsqueeze(2), -inf)
                .amax(1);
      ref = ref.masked_fill(mask.sum(1, true).eq(0), 0.0);
    } else {
      ref = at::mm(m, x2);
      if (std::string(how) == "mean") ref = ref / m.sum(1, true).clamp_min(1);
    }
    (ref * w).sum().backward();
    expect_close(x.grad(), x2.grad(), 1e-12, 1e-12, "grad x");
  }
}

TEST(SpmmReduce, IdenticalWithOneAndTwoThreads) {
  const SparseAdjacency a = random_csr(3000, 2000, 0.01, 1500, 17, false);
  for (const char* how : {"sum", "mean", "max"}) {
    SCOPED_TRACE(how);
    const auto [one, two] = testing::with_one_and_two_threads([&] {
      const at::Tensor x = randn({2000, 33}, 3, at::kFloat).requires_grad_(true);
      auto [out, arg] = reduce_rows(a, x, how);
      (out * out).sum().backward();
      return std::make_tuple(out.detach(), arg, x.grad());
    });
    EXPECT_TRUE(at::equal(std::get<0>(one), std::get<0>(two)));
    EXPECT_TRUE(at::equal(std::get<1>(one), std::get<1>(two)));
    EXPECT_TRUE(at::equal(std::get<2>(one), std::get<2>(two)));
  }
}

TEST_P(SpmmReduceTest, EmptyGraphAndZeroWidth) {
  const SparseAdjacency a = on(csr_of(3, {{}, {}, {}, {}}));
  for (const char* how : {"sum", "mean", "max"}) {
    SCOPED_TRACE(how);
    auto [out, arg] = reduce_rows(a, on(randn({3, 6}, 1)), how);
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{4, 6}));
    EXPECT_EQ(out.abs().sum().item<double>(), 0.0);
    if (std::string(how) == "max") {
      EXPECT_TRUE(arg.eq(-1).all().item<bool>());
    }
    EXPECT_EQ(std::get<0>(reduce_rows(a, on(at::empty({3, 0}, at::kDouble)), how)).sizes(),
              (std::vector<int64_t>{4, 0}));
  }
}

TEST(SpmmReduce, MetaImplementationGivesShapes) {
  const SparseAdjacency a = random_csr(10, 8, 0.3, 0, 1, false).to(at::kMeta, at::kDouble);
  const at::Tensor x = at::empty({8, 5}, at::TensorOptions().device(at::kMeta).dtype(at::kFloat));
  auto [out, arg] = reduce_rows(a, x, "max");
  EXPECT_TRUE(out.is_meta());
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{10, 5}));
  EXPECT_EQ(out.scalar_type(), at::kFloat);
  EXPECT_EQ(arg.sizes(), (std::vector<int64_t>{10, 5}));
  EXPECT_EQ(arg.scalar_type(), at::kLong);
  auto [mean, mean_arg] = reduce_rows(a, x, "mean");
  EXPECT_EQ(mean.sizes(), (std::vector<int64_t>{10, 5}));
  EXPECT_EQ(mean_arg.sizes(), (std::vector<int64_t>{0}));
  const at::Tensor grad = ops::spmm_reduce_max_backward(a.t_rowptr, a.t_col, a.t_perm, arg, out);
  EXPECT_TRUE(grad.is_meta());
  EXPECT_EQ(grad.sizes(), (std::vector<int64_t>{8, 5}));
}

TEST_P(SpmmReduceTest, ClearErrors) {
  const SparseAdjacency a = on(random_csr(6, 5, 0.5, 0, 2, false));
  const at::Tensor x = on(randn({5, 3}, 1));
  expect_error([&] { reduce_rows(a, x, "min"); },
               "spmm_reduce: reduce must be \"sum\", \"mean\" or \"max\", got \"min\"");
  expect_error(
      [&] {
        reduce_rows(a, on(randn({5, 3, 2}, 1)), "sum");
      },
      "spmm_reduce: x must be 2-D, got 3-D");
  expect_error([&] { reduce_rows(a, x.to(at::kInt), "max"); },
               "spmm_reduce: x must be float32 or float64, got Int");
  expect_error(
      [&] {
        reduce_rows(a, on(randn({4, 3}, 1)), "max");
      },
      "spmm_reduce: x must have one row per column of A (5), got 4");
  expect_error(
      [&] { ops::spmm_reduce(a.rowptr.to(at::kInt), a.col, a.t_rowptr, a.t_col, a.t_perm, x, "sum"); },
      "spmm_reduce: rowptr must be int64");
  expect_error(
      [&] { ops::spmm_reduce(a.rowptr, a.col.to(at::kLong), a.t_rowptr, a.t_col, a.t_perm, x, "sum"); },
      "spmm_reduce: col must be int32");
  expect_error(
      [&] { ops::spmm_reduce(a.rowptr, a.col, a.t_rowptr, a.t_col, a.t_perm.to(at::kInt), x, "sum"); },
      "spmm_reduce: t_perm must be 1-D int64");
  expect_error(
      [&] {
        ops::spmm_reduce(a.rowptr, a.col, a.t_rowptr, a.t_col.narrow(0, 0, 1), a.t_perm, x, "sum");
      },
      "spmm_reduce: t_col must have nnz");
  const at::Tensor arg = std::get<1>(reduce_rows(a, x, "max"));
  expect_error(
      [&] {
        ops::spmm_reduce_max_backward(a.t_rowptr, a.t_col, a.t_perm, arg.narrow(0, 0, 2),
                                      on(randn({6, 3}, 1)));
      },
      "_spmm_reduce_max_backward: arg must be int64 with grad's shape");
}

// Indices out of range: the CPU raises; CUDA must not touch memory outside
// its buffers (compute-sanitizer memcheck), values unspecified, no error.
TEST_P(SpmmReduceTest, MalformedIndices) {
  if (on_cpu()) {
    const SparseAdjacency a = random_csr(6, 5, 0.5, 0, 2, false);
    const at::Tensor x = randn({5, 3}, 1);
    at::Tensor bad_col = a.col.clone();
    bad_col[0] = 99;
    for (const char* how : {"sum", "max"}) {
      expect_error(
          [&] { ops::spmm_reduce(a.rowptr, bad_col, a.t_rowptr, a.t_col, a.t_perm, x, how); },
          "spmm_reduce: col holds an index outside [0, 5)");
    }
    at::Tensor bad_rowptr = a.rowptr.clone();
    bad_rowptr[2] = 100;
    expect_error(
        [&] { ops::spmm_reduce(bad_rowptr, a.col, a.t_rowptr, a.t_col, a.t_perm, x, "max"); },
        "spmm_reduce: rowptr must be non-decreasing");
    return;
  }
  const testing::MalformedCsr m(*this);
  const SparseAdjacency& a = m.a;
  const at::Tensor x = on(randn({30, 64}, 1, at::kFloat));
  m.each([&](const at::Tensor& rp, const at::Tensor& cp) {
    for (const char* how : {"sum", "max"}) {
      ops::spmm_reduce(rp, cp, a.t_rowptr, a.t_col, a.t_perm, x, how);
    }
  });
  EXPECT_TRUE(x.isfinite().all().item<bool>());  // synchronises: any kernel fault surfaces here
}

}  // namespace
}  // namespace gnnrec
