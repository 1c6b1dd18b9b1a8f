// gnnrec::edge_softmax and _edge_softmax_backward on every device
// (tests/kernels/sparse_test_utils.h: OnDevice) against dense float64
// references (torch.softmax over masked rows), hand-worked examples and
// extremes (huge scores, -inf rows, NaN), finite-difference gradients and
// dense autograd; hub rows; the GAT attention step (sddmm_add, then
// edge_softmax, and both gradients) against the CPU; argument errors and
// malformed row pointers (the CPU raises, CUDA stays inside its buffers).
// On the CPU only: thread-count determinism and the meta implementations.
#include <cmath>
#include <cstdint>
#include <limits>
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

using testing::as_matrix;
using testing::csr_of;
using testing::dtype_name;
using testing::expect_error;
using testing::hub_graph;
using testing::hub_tol;
using testing::per_node;
using testing::randn;
using testing::random_csr;
using testing::row_of_entries;
using testing::tol_of;

constexpr double kInf = std::numeric_limits<double>::infinity();

class EdgeSoftmaxTest : public testing::OnDevice {};
GNNREC_ON_DEVICES(EdgeSoftmaxTest);

at::Tensor add(const SparseAdjacency& a, const at::Tensor& a_row, const at::Tensor& a_col) {
  return ops::sddmm_add(a.rowptr, a.col, a.t_rowptr, a.t_col, a.t_perm, a_row, a_col);
}

// Dense reference: scores in a [rows, cols, H] matrix of -inf, softmax over
// each row (dim 1), read back at the entries (on the CPU, in float64).
at::Tensor dense_softmax(const SparseAdjacency& a, const at::Tensor& score) {
  const at::Tensor s = as_matrix(score).cpu().to(at::kDouble);
  at::Tensor dense = at::full({a.num_rows, a.num_cols, s.size(1)}, -kInf, at::kDouble);
  const at::Tensor rows = row_of_entries(a), cols = a.col.to(at::kLong);
  dense.index_put_({rows, cols}, s);
  const at::Tensor out = at::softmax(dense, 1).index({rows, cols});
  return score.dim() == 1 ? out.squeeze(1) : out;
}

class EdgeSoftmaxShapes : public testing::OnDeviceCases<testing::HeadsShape> {};
GNNREC_CASES_ON_DEVICES(EdgeSoftmaxShapes, testing::heads_shapes(), testing::heads_shape_name);

// The softmax of GAT logits (sddmm_add of random per-node scores).
TEST_P(EdgeSoftmaxShapes, MatchesDenseFloat64AndFloat32) {
  const testing::HeadsShape c = param();
  const SparseAdjacency a = random_csr(c.rows, c.cols, 0.1, c.hub, 40 + c.heads, false);
  for (const auto dtype : {at::kDouble, at::kFloat}) {
    SCOPED_TRACE(dtype_name(dtype));
    const double tol = dtype == at::kDouble ? 1e-12 : 1e-5;
    const SparseAdjacency g = on(a, dtype);
    const at::Tensor logits =
        add(g, on(per_node(c.rows, c.heads, 1, dtype)), on(per_node(c.cols, c.heads, 2, dtype)));
    const at::Tensor y = ops::edge_softmax(g.rowptr, logits);
    EXPECT_EQ(y.scalar_type(), dtype);
    expect_close(y, dense_softmax(a, logits), tol, tol, "softmax");
  }
}

TEST_P(EdgeSoftmaxTest, HubRowAboveTenThousand) {
  const SparseAdjacency a = random_csr(24, 13000, 0.0005, 13000, 5, false);
  ASSERT_GT(a.rowptr[1].item<int64_t>(), 10000);
  const SparseAdjacency g = on(a);
  const at::Tensor logits = add(g, on(randn({24, 4}, 1)), on(randn({13000, 4}, 2)));
  const at::Tensor y = ops::edge_softmax(g.rowptr, logits * 30);
  expect_close(y, dense_softmax(a, logits * 30), 1e-12, 1e-12, "hub row");
  // Each non-empty row sums to 1 per head.
  const at::Tensor sums = ops::segment_sum_csr(g.rowptr, y, std::nullopt);
  expect_close(sums.select(0, 0), at::ones({4}, at::kDouble), 1e-12, 1e-12, "row sums");
}

TEST_P(EdgeSoftmaxTest, HandWorkedExamplesAndExtremes) {
  // Rows: [0, ln 3] | [-inf, 0] | [-inf, -inf] | empty | [huge, huge, -huge].
  const SparseAdjacency a = on(csr_of(3, {{0, 1}, {0, 1}, {0, 1}, {}, {0, 1, 2}}));
  const double big = std::numeric_limits<double>::max();
  const at::Tensor s =
      at::tensor(std::vector<double>{0, std::log(3.0), -kInf, 0, -kInf, -kInf, big, big, -big});
  const at::Tensor y = ops::edge_softmax(a.rowptr, on(s));
  const at::Tensor expected = at::tensor(std::vector<double>{0.25, 0.75, 0, 1, 0, 0, 0.5, 0.5, 0});
  expect_close(y, expected, 1e-15, 1e-15, "extremes");
  EXPECT_FALSE(y.isnan().any().item<bool>());

  // float32 at its largest value in head 0, all -inf in head 1 (one row).
  const float fbig = std::numeric_limits<float>::max();
  const float finf = std::numeric_limits<float>::infinity();
  const at::Tensor s32 = at::tensor(std::vector<float>{fbig, -finf, fbig, -finf}).view({2, 2});
  expect_equal(ops::edge_softmax(a.rowptr.narrow(0, 0, 2), on(s32)),
               at::tensor(std::vector<float>{0.5, 0, 0.5, 0}).view({2, 2}), "float32 extremes");

  // The all -inf row has no mass and gets a zero gradient.
  const at::Tensor x = leaf(s);
  (ops::edge_softmax(a.rowptr, x) * on(at::arange(9, at::kDouble))).sum().backward();
  const at::Tensor grad = x.grad().cpu();
  EXPECT_FALSE(grad.isnan().any().item<bool>());
  EXPECT_EQ(grad[4].item<double>(), 0.0);
  EXPECT_EQ(grad[5].item<double>(), 0.0);

  // NaN and +inf propagate as in torch.softmax.
  const at::Tensor bad = at::tensor(std::vector<double>{std::nan(""), 1, kInf, 1});
  const at::Tensor y_bad = ops::edge_softmax(a.rowptr.narrow(0, 0, 3), on(bad));
  EXPECT_TRUE(y_bad.isnan().all().item<bool>()) << y_bad;
}

TEST_P(EdgeSoftmaxTest, BackwardOperatorOnHubRowsMatchesTheCpu) {
  const SparseAdjacency h = hub_graph(false);
  for (const int64_t heads : {0, 4}) {
    SCOPED_TRACE(heads);
    const at::Tensor yy = ops::edge_softmax(h.rowptr, per_node(h.nnz(), heads, 5));
    const at::Tensor gg = per_node(h.nnz(), heads, 6);
    expect_close(ops::edge_softmax_backward(on(h.rowptr), on(yy), on(gg)),
                 ops::edge_softmax_backward(h.rowptr, yy, gg), 1e-12, 1e-12, "backward operator");
  }
}

TEST_P(EdgeSoftmaxTest, Gradcheck) {
  const SparseAdjacency a = on(random_csr(7, 6, 0.5, 0, 11, false));
  for (const int64_t heads : {0, 1, 4}) {
    SCOPED_TRACE(heads);
    testing::gradcheck(
        [&](const std::vector<at::Tensor>& in) { return ops::edge_softmax(a.rowptr, in[0]); },
        {on(per_node(a.nnz(), heads, 5))});
  }
}

TEST_P(EdgeSoftmaxTest, GradientMatchesDenseAutograd) {
  const SparseAdjacency a = random_csr(50, 40, 0.1, 30, 5, false);
  const at::Tensor w = randn({a.nnz(), 4}, 10);
  const at::Tensor s = leaf(randn({a.nnz(), 4}, 9));
  (ops::edge_softmax(on(a.rowptr), s) * on(w)).sum().backward();
  const at::Tensor s2 = s.detach().cpu().clone().requires_grad_(true);
  (dense_softmax(a, s2) * w).sum().backward();
  expect_close(s.grad(), s2.grad(), 1e-12, 1e-12, "grad score");
}

// The GAT attention step (logits by sddmm_add, softmax, and the gradients
// of both per-node scores) on the test's device against the CPU, on a small
// graph and on hub rows (row 0 of more than 10,000 entries).
TEST_P(EdgeSoftmaxTest, AttentionStepMatchesTheCpu) {
  for (const bool hub : {false, true}) {
    const SparseAdjacency a = hub ? hub_graph(false) : random_csr(40, 30, 0.1, 0, 41, false);
    for (const int64_t heads : {0, 1, 4, 33}) {
      for (const auto dtype : {at::kFloat, at::kDouble}) {
        SCOPED_TRACE(::testing::Message()
                     << "hub " << hub << ", heads " << heads << ", " << dtype_name(dtype));
        const double tol = hub ? hub_tol(dtype) : tol_of(dtype);
        const at::Tensor a_row = per_node(a.num_rows, heads, 1, dtype);
        const at::Tensor a_col = per_node(a.num_cols, heads, 2, dtype);
        const at::Tensor g = per_node(a.nnz(), heads, 3, dtype);
        auto run = [&](at::Device device) {
          const SparseAdjacency d = a.to(device, dtype);
          const at::Tensor r = a_row.to(device).detach().clone().requires_grad_(true);
          const at::Tensor c = a_col.to(device).detach().clone().requires_grad_(true);
          const at::Tensor logits = add(d, r, c);
          const at::Tensor y = ops::edge_softmax(d.rowptr, logits * 3);
          (y * g.to(device)).sum().backward();
          return std::make_tuple(logits.detach(), y.detach(), r.grad(), c.grad());
        };
        const auto [logits, y, gr, gc] = run(device());
        const auto [logits_cpu, y_cpu, gr_cpu, gc_cpu] = run(at::kCPU);
        expect_equal(logits, logits_cpu, "sddmm_add (one addition: exact)");
        expect_close(y, y_cpu, tol, tol, "edge_softmax");
        expect_close(gr, gr_cpu, tol * 10, tol * 10, "grad a_row");
        expect_close(gc, gc_cpu, tol * 10, tol * 10, "grad a_col");
        if (hub) {
          // Rows still sum to one per head (row 0 has > 10,000 entries).
          const at::Tensor sums = ops::segment_sum_csr(on(a.rowptr), y, std::nullopt);
          expect_close(sums.select(0, 0),
                       at::ones(heads == 0 ? std::vector<int64_t>{} : std::vector<int64_t>{heads}),
                       tol * 10, tol * 10, "hub row sums");
        }
      }
    }
  }
}

TEST_P(EdgeSoftmaxTest, ClearErrors) {
  const SparseAdjacency a = on(random_csr(6, 5, 0.5, 0, 2, false));
  const at::Tensor s = on(randn({a.nnz(), 2}, 3));
  expect_error([&] { ops::edge_softmax(a.rowptr, s.to(at::kLong)); },
               "edge_softmax: score must be float32 or float64, got Long");
  expect_error(
      [&] {
        ops::edge_softmax(a.rowptr, on(randn({a.nnz(), 2, 2}, 3)));
      },
      "edge_softmax: score must be 1-D or 2-D, got 3-D");
  expect_error([&] { ops::edge_softmax(a.rowptr.to(at::kInt), s); },
               "edge_softmax: rowptr must be int64");
  expect_error([&] { ops::edge_softmax_backward(a.rowptr, s, s.narrow(1, 0, 1)); },
               "_edge_softmax_backward: grad must have y's shape");
}

// Malformed row pointers: the CPU raises; CUDA must not touch memory
// outside its buffers (compute-sanitizer memcheck), values unspecified.
TEST_P(EdgeSoftmaxTest, MalformedRowPointers) {
  if (on_cpu()) {
    const SparseAdjacency a = random_csr(6, 5, 0.5, 0, 2, false);
    const at::Tensor s = randn({a.nnz(), 2}, 3);
    expect_error([&] { ops::edge_softmax(a.rowptr, s.narrow(0, 0, 3)); },
                 "edge_softmax: rowptr must start at 0 and end at nnz (3)");
    return;
  }
  const testing::MalformedCsr m(*this);
  const at::Tensor score = on(randn({m.a.nnz(), 2}, 5, at::kFloat));
  for (const at::Tensor& rp : {m.a.rowptr, m.bad_rowptr}) ops::edge_softmax(rp, score);
  EXPECT_TRUE(score.isfinite().all().item<bool>());  // synchronises: any kernel fault surfaces here
}

// ---------------------------------------------------------------------------
// CPU only

TEST(EdgeSoftmax, AttentionIdenticalWithOneAndTwoThreads) {
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

TEST(EdgeSoftmax, MetaImplementationsGiveShapes) {
  const SparseAdjacency m = random_csr(10, 8, 0.3, 0, 1, false).to(at::kMeta, at::kDouble);
  const auto meta = at::TensorOptions().device(at::kMeta).dtype(at::kFloat);
  const at::Tensor logits = at::empty({m.nnz(), 4}, meta);
  const at::Tensor y = ops::edge_softmax(m.rowptr, logits);
  EXPECT_TRUE(y.is_meta());
  EXPECT_EQ(y.sizes(), logits.sizes());
  EXPECT_EQ(ops::edge_softmax_backward(m.rowptr, y, y).sizes(), logits.sizes());
}

}  // namespace
}  // namespace gnnrec
