// gnnrec::spmm on every device (tests/kernels/sparse_test_utils.h: OnDevice)
// against dense float64 ATen references, hand-worked values and
// finite-difference gradients; widths straddling the CUDA lane-group, warp
// and vector widths, float32 and float64, weighted and unweighted; hub rows
// (and hub columns, for the backward) above the CUDA block threshold and
// above 10,000 entries; misaligned and transposed operands; empty graphs and
// zero widths; run-to-run bitwise determinism; argument errors, and
// malformed indices (the CPU raises, CUDA stays inside its buffers). On the
// CPU only: thread-count determinism and the meta implementation.
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

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

// Forward and both gradients of spmm on `a` (CPU) at x's dtype, on `device`,
// from the same inputs: {out, grad_x, grad_value}.
std::tuple<at::Tensor, at::Tensor, at::Tensor> spmm_with_grads(const SparseAdjacency& a,
                                                               const at::Tensor& x_in,
                                                               const at::Tensor& w_in,
                                                               at::Device device) {
  const SparseAdjacency g = a.to(device, x_in.scalar_type());
  const at::Tensor x = x_in.to(device).detach().clone().requires_grad_(true);
  at::Tensor v;
  if (g.value.defined()) v = g.value.clone().requires_grad_(true);
  const at::Tensor out =
      ops::spmm(g.rowptr, g.col, v.defined() ? std::optional<at::Tensor>(v) : std::nullopt,
                g.t_rowptr, g.t_col, g.t_perm, x);
  (out * w_in.to(device)).sum().backward();
  return {out.detach(), x.grad(), v.defined() ? v.grad() : at::Tensor()};
}

class SpmmTest : public testing::OnDevice {};
GNNREC_ON_DEVICES(SpmmTest);

// ---------------------------------------------------------------------------
// Graph shapes against the dense float64 product

struct Shape {
  int64_t rows, cols, width, hub;
  bool weighted;
};

std::string shape_name(const Shape& c) {
  return std::to_string(c.rows) + "x" + std::to_string(c.cols) + "_d" + std::to_string(c.width) +
         (c.hub ? "_hub" : "") + (c.weighted ? "_weighted" : "_unweighted");
}

const std::vector<Shape> kShapes{Shape{40, 30, 1, 0, true},       Shape{40, 30, 31, 0, true},
                                 Shape{40, 30, 32, 0, false},     Shape{40, 30, 33, 0, true},
                                 Shape{40, 30, 64, 0, true},      Shape{40, 30, 127, 0, false},
                                 Shape{33, 1025, 32, 1000, true},  // hub row with 800 entries
                                 Shape{1, 1, 4, 0, true},         Shape{5, 3, 8, 0, false}};

class SpmmShapes : public testing::OnDeviceCases<Shape> {};
GNNREC_CASES_ON_DEVICES(SpmmShapes, kShapes, shape_name);

TEST_P(SpmmShapes, MatchesDenseFloat64AndFloat32) {
  const Shape c = param();
  const SparseAdjacency a = random_csr(c.rows, c.cols, 0.05, c.hub, 7 + c.width, c.weighted);
  const at::Tensor x = randn({c.cols, c.width}, 11);
  const at::Tensor expected = at::mm(dense_of(a), x);
  const at::Tensor got = on(a).matmul(on(x));
  expect_close(got, expected, 1e-12, 1e-12, "float64");

  const at::Tensor got32 = on(a, at::kFloat).matmul(on(x.to(at::kFloat)));
  EXPECT_EQ(got32.scalar_type(), at::kFloat);
  expect_close(got32, expected, 1e-4, 1e-4, "float32");
}

// ---------------------------------------------------------------------------
// Widths straddling the lane-group, warp and vector widths, both dtypes,
// with and without values: against dense float64 and (off the CPU) against
// the CPU, gradients included.

struct Width {
  testing::Width width;
  bool weighted;
};

std::string width_name(const Width& c) {
  return testing::width_name(c.width) + (c.weighted ? "_weighted" : "_unweighted");
}

std::vector<Width> widths() {
  std::vector<Width> cases;
  for (const testing::Width& w : testing::straddling_widths()) {
    for (const bool weighted : {true, false}) cases.push_back({w, weighted});
  }
  return cases;
}

class SpmmWidths : public testing::OnDeviceCases<Width> {};
GNNREC_CASES_ON_DEVICES(SpmmWidths, widths(), width_name);

TEST_P(SpmmWidths, MatchesDenseAndTheCpuWithGradients) {
  const Width c = param();
  const int64_t d = c.width.width;
  const at::ScalarType dtype = c.width.dtype;
  const SparseAdjacency a = random_csr(200, 150, 0.05, 0, 7 + d, c.weighted);
  const at::Tensor x = randn({150, d}, 11, dtype);
  const at::Tensor w = randn({200, d}, 12, dtype);
  const double tol = tol_of(dtype);
  const SparseAdjacency g = on(a, dtype);
  const at::Tensor out = g.matmul(on(x));
  EXPECT_EQ(out.scalar_type(), dtype);
  expect_close(out, at::mm(dense_of(a), x.to(at::kDouble)), tol, tol, "forward vs dense float64");
  if (on_cpu()) return;
  // Reference: the CPU from the same inputs.
  const auto [out_d, gx, gv] = spmm_with_grads(a, x, w, device());
  const auto [out_cpu, gx_cpu, gv_cpu] = spmm_with_grads(a, x, w, at::kCPU);
  expect_close(out_d, out_cpu, tol, tol, "forward vs CPU");
  expect_close(gx, gx_cpu, tol, tol, "grad x vs CPU");
  if (c.weighted) expect_close(gv, gv_cpu, tol, tol, "grad value vs CPU");
}

// ---------------------------------------------------------------------------

TEST_P(SpmmTest, HubNodeAboveTenThousand) {
  const SparseAdjacency a = random_csr(64, 12000, 0.001, 12000, 3, true);
  EXPECT_GT(a.rowptr[1].item<int64_t>(), 9000);
  const at::Tensor x = randn({12000, 16}, 5);
  expect_close(on(a).matmul(on(x)), at::mm(dense_of(a), x), 1e-10, 1e-10, "hub row");
}

TEST_P(SpmmTest, HubRowsAndColumnsMatchTheCpuInFloat64) {
  const SparseAdjacency a = hub_graph(true);
  ASSERT_GT(a.rowptr[1].item<int64_t>(), 10000);
  // Widths: scalar and vector paths, one and several passes (600 floats =
  // 150 vectors: two passes of 32 lanes x 4 slots; 300 doubles likewise).
  for (const int64_t d : {1, 4, 32, 33, 64, 256, 300, 600}) {
    for (const auto dtype : {at::kFloat, at::kDouble}) {
      SCOPED_TRACE(::testing::Message() << "d " << d << ", " << dtype_name(dtype));
      const at::Tensor x = randn({a.num_cols, d}, 20 + d, dtype);
      const at::Tensor w = randn({a.num_rows, d}, 30 + d, dtype);
      // Reference: the CPU in float64 (hub sums are split differently on the
      // GPU, so float32 is compared with a tolerance scaled to the sums).
      const auto [out, gx, gv] = spmm_with_grads(a, x, w, device());
      const auto [out_ref, gx_ref, gv_ref] =
          spmm_with_grads(a, x.to(at::kDouble), w.to(at::kDouble), at::kCPU);
      const double tol = hub_tol(dtype);
      expect_close(out, out_ref, 1e-4, tol, "forward");
      expect_close(gx, gx_ref, 1e-4, tol, "grad x");
      expect_close(gv, gv_ref, 1e-4, tol * 10, "grad value");
    }
  }
  // The unweighted matrix too (no value pointer).
  const SparseAdjacency u = hub_graph(false);
  const at::Tensor x = randn({u.num_cols, 64}, 5);
  expect_close(on(u).matmul(on(x)), u.matmul(x), 1e-12, 1e-10, "unweighted forward");
}

TEST_P(SpmmTest, MisalignedAndTransposedOperands) {
  const SparseAdjacency a = random_csr(120, 90, 0.1, 60, 9, true);
  for (const auto dtype : {at::kFloat, at::kDouble}) {
    SCOPED_TRACE(dtype_name(dtype));
    const int64_t d = 64;
    const at::Tensor x = randn({90, d}, 3, dtype);
    // A contiguous view starting one element into its storage: not 16-byte
    // aligned, so the CUDA kernel must not use vector loads.
    const at::Tensor storage = at::empty({90 * d + 1}, x.options().device(device()));
    const at::Tensor shifted = storage.narrow(0, 1, 90 * d).view({90, d});
    shifted.copy_(on(x));
    ASSERT_TRUE(shifted.is_contiguous());
    ASSERT_NE(reinterpret_cast<uintptr_t>(shifted.data_ptr()) % 16, 0u);
    const SparseAdjacency g = on(a, dtype);
    expect_close(g.matmul(shifted), a.to(at::kCPU, dtype).matmul(x), tol_of(dtype), tol_of(dtype),
                 "misaligned x");
    // Non-contiguous x (a transposed view) is made contiguous first.
    const at::Tensor xt = on(randn({d, 90}, 4, dtype)).t();
    expect_close(g.matmul(xt), a.to(at::kCPU, dtype).matmul(xt.cpu()), tol_of(dtype), tol_of(dtype),
                 "transposed x");
  }
}

TEST_P(SpmmTest, EmptyGraphAndZeroWidth) {
  SparseAdjacency host;
  host.num_rows = 4;
  host.num_cols = 3;
  host.rowptr = at::zeros({5}, at::kLong);
  host.col = at::empty({0}, at::kInt);
  fill_transpose(host);
  const SparseAdjacency a = on(host);
  const at::Tensor out = a.matmul(on(randn({3, 6}, 1)));
  EXPECT_EQ(out.device().type(), device().type());
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{4, 6}));
  EXPECT_EQ(out.abs().sum().item<double>(), 0.0);
  EXPECT_EQ(a.matmul(on(at::empty({3, 0}, at::kDouble))).sizes(), (std::vector<int64_t>{4, 0}));
  const SparseAdjacency none = on(csr_of(3, {}), at::kFloat);  // no rows at all
  EXPECT_EQ(none.matmul(on(randn({3, 5}, 1, at::kFloat))).sizes(), (std::vector<int64_t>{0, 5}));
  // Gradients through an empty graph are zeros.
  const at::Tensor x = leaf(randn({3, 6}, 2));
  a.matmul(x).sum().backward();
  EXPECT_EQ(x.grad().abs().sum().item<double>(), 0.0);
}

TEST_P(SpmmTest, HandWorkedExample) {
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
  expect_equal(on(a).matmul(on(x)), expected, "A · x");
}

TEST_P(SpmmTest, GradcheckInXAndValue) {
  const SparseAdjacency a = on(random_csr(9, 7, 0.4, 0, 21, true));
  testing::gradcheck(
      [&](const std::vector<at::Tensor>& in) {
        return ops::spmm(a.rowptr, a.col, in[1], a.t_rowptr, a.t_col, a.t_perm, in[0]);
      },
      {on(randn({7, 3}, 2)), a.value});
  testing::gradcheck(
      [&](const std::vector<at::Tensor>& in) {
        return ops::spmm(a.rowptr, a.col, std::nullopt, a.t_rowptr, a.t_col, std::nullopt, in[0]);
      },
      {on(randn({7, 8}, 3))});
}

TEST_P(SpmmTest, UnweightedGradient) {
  const SparseAdjacency a = on(random_csr(12, 10, 0.3, 0, 4, false));
  testing::gradcheck(
      [&](const std::vector<at::Tensor>& in) {
        return ops::spmm(a.rowptr, a.col, std::nullopt, a.t_rowptr, a.t_col, std::nullopt, in[0]);
      },
      {on(randn({10, 4}, 3))});
}

TEST_P(SpmmTest, GradientsMatchDenseAutograd) {
  const SparseAdjacency host = random_csr(50, 40, 0.1, 30, 5, true);
  const SparseAdjacency a = on(host);
  const at::Tensor x = leaf(randn({40, 33}, 9));
  const at::Tensor v = a.value.clone().requires_grad_(true);
  const at::Tensor w = randn({50, 33}, 10);
  (ops::spmm(a.rowptr, a.col, v, a.t_rowptr, a.t_col, a.t_perm, x) * on(w)).sum().backward();

  // Dense reference on the CPU: scatter the same values into a dense
  // matrix, differentiably.
  const at::Tensor x2 = x.detach().cpu().clone().requires_grad_(true);
  const at::Tensor v2 = host.value.clone().requires_grad_(true);
  const at::Tensor flat = testing::row_of_entries(host) * host.num_cols + host.col.to(at::kLong);
  const at::Tensor dense = at::zeros({host.num_rows * host.num_cols}, at::kDouble)
                               .index_add(0, flat, v2)
                               .view({host.num_rows, host.num_cols});
  (at::mm(dense, x2) * w).sum().backward();
  expect_close(x.grad(), x2.grad(), 1e-12, 1e-12, "grad x");
  expect_close(v.grad(), v2.grad(), 1e-12, 1e-12, "grad value");
}

TEST_P(SpmmTest, BitwiseDeterministicRunToRun) {
  const SparseAdjacency a = on(hub_graph(true), at::kFloat);
  for (const int64_t d : {33, 64, 256}) {
    SCOPED_TRACE(d);
    const at::Tensor x0 = on(randn({a.num_cols, d}, 8, at::kFloat));
    std::vector<at::Tensor> outs, grads_x, grads_v;
    for (int run = 0; run < 3; ++run) {
      const at::Tensor x = x0.clone().requires_grad_(true);
      const at::Tensor v = a.value.clone().requires_grad_(true);
      const at::Tensor out = ops::spmm(a.rowptr, a.col, v, a.t_rowptr, a.t_col, a.t_perm, x);
      (out * out).sum().backward();
      outs.push_back(out.detach());
      grads_x.push_back(x.grad());
      grads_v.push_back(v.grad());
    }
    for (int run = 1; run < 3; ++run) {
      EXPECT_TRUE(at::equal(outs[0], outs[run]));
      EXPECT_TRUE(at::equal(grads_x[0], grads_x[run]));
      EXPECT_TRUE(at::equal(grads_v[0], grads_v[run]));
    }
  }
}

TEST_P(SpmmTest, ClearErrors) {
  const SparseAdjacency a = on(random_csr(6, 5, 0.5, 0, 2, true));
  const at::Tensor x = on(randn({5, 3}, 1));
  expect_error(
      [&] { ops::spmm(a.rowptr.to(at::kInt), a.col, a.value, a.t_rowptr, a.t_col, a.t_perm, x); },
      "spmm: rowptr must be int64");
  expect_error(
      [&] { ops::spmm(a.rowptr, a.col.to(at::kLong), a.value, a.t_rowptr, a.t_col, a.t_perm, x); },
      "spmm: col must be int32");
  expect_error(
      [&] {
        ops::spmm(a.rowptr, a.col, a.value, a.t_rowptr, a.t_col, a.t_perm, on(randn({4, 3}, 1)));
      },
      "spmm: x must have one row per column of A");
  expect_error(
      [&] { ops::spmm(a.rowptr, a.col, a.value.to(at::kFloat), a.t_rowptr, a.t_col, a.t_perm, x); },
      "spmm: value must have the dtype");
  expect_error(
      [&] { ops::spmm(a.rowptr, a.col, a.value, a.t_rowptr, a.t_col, a.t_perm, x.to(at::kInt)); },
      "spmm: x must be float32 or float64");
  if (!on_cpu()) {
    expect_error(
        [&] { ops::spmm(a.rowptr.cpu(), a.col, a.value, a.t_rowptr, a.t_col, a.t_perm, x); },
        "spmm: rowptr must be on cuda");
  }
}

// Indices out of range: the CPU raises; CUDA must not touch memory outside
// its buffers (checked under compute-sanitizer memcheck), the values are
// unspecified and no error is raised.
TEST_P(SpmmTest, MalformedIndices) {
  if (on_cpu()) {
    const SparseAdjacency a = random_csr(6, 5, 0.5, 0, 2, true);
    const at::Tensor x = randn({5, 3}, 1);
    at::Tensor bad_col = a.col.clone();
    bad_col[0] = 99;
    at::Tensor bad_rowptr = a.rowptr.clone();
    bad_rowptr[2] = 100;
    expect_error([&] { ops::spmm(a.rowptr, bad_col, a.value, a.t_rowptr, a.t_col, a.t_perm, x); },
                 "spmm: col holds an index outside [0, 5)");
    expect_error([&] { ops::spmm(bad_rowptr, a.col, a.value, a.t_rowptr, a.t_col, a.t_perm, x); },
                 "spmm: rowptr must be non-decreasing");
    return;
  }
  const testing::MalformedCsr m(*this);
  const SparseAdjacency& a = m.a;
  const at::Tensor x = on(randn({30, 64}, 1, at::kFloat));
  m.each([&](const at::Tensor& rp, const at::Tensor& cp) {
    ops::spmm(rp, cp, a.value, a.t_rowptr, a.t_col, a.t_perm, x);
  });
  EXPECT_TRUE(x.isfinite().all().item<bool>());  // synchronises: any kernel fault surfaces here
}

// ---------------------------------------------------------------------------
// CPU only

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

// SparseAdjacency::select_rows: the chosen rows of A·x, bit for bit those of
// the whole product, against dense float64 rows; its gradient is dense
// A[rows]ᵀ·g; empty rows (every 7th), a hub row and the last row included.
TEST(Spmm, SelectedRowsEqualTheWholeProductAndTheDenseGradient) {
  const SparseAdjacency a = random_csr(40, 33, 0.2, 30, 9, true);
  const at::Tensor rows = at::tensor(std::vector<int64_t>{0, 3, 4, 17, 38, 39});
  const SparseAdjacency sub = a.select_rows(rows);
  EXPECT_EQ(sub.num_rows, 6);
  EXPECT_EQ(sub.num_cols, 33);
  const at::Tensor x = randn({33, 5}, 4).requires_grad_(true);
  const at::Tensor out = sub.matmul(x);
  EXPECT_TRUE(at::equal(out, a.matmul(x).index_select(0, rows)));
  const at::Tensor dense_rows = dense_of(a).index_select(0, rows);
  EXPECT_TRUE(at::allclose(out, dense_rows.mm(x), 1e-12, 1e-12));
  const at::Tensor g = randn({6, 5}, 5);
  out.backward(g);
  EXPECT_TRUE(at::allclose(x.grad(), dense_rows.t().mm(g), 1e-12, 1e-12));
  // Unsorted or repeated rows are refused.
  expect_error([&] { a.select_rows(at::tensor(std::vector<int64_t>{4, 3})); }, "sorted, unique");
  expect_error([&] { a.select_rows(at::tensor(std::vector<int64_t>{40})); }, "in [0, 40)");
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
}

}  // namespace
}  // namespace gnnrec
