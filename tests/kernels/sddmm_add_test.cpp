// gnnrec::sddmm_add (GAT attention logits) on every device
// (tests/kernels/sparse_test_utils.h: OnDevice) against dense float64
// references, a hand-worked example with its gradients, finite-difference
// gradients, hub rows, argument errors and malformed indices (the CPU
// raises, CUDA stays inside its buffers). On the CPU only: the meta
// implementation. With edge_softmax, in edge_softmax_test.cpp: the whole
// attention step against the CPU and thread-count determinism.
#include <cstdint>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "kernels/ops.h"
#include "kernels/sparse_adjacency.h"
#include "tests/kernels/sparse_test_utils.h"
#include "tests/testing/gradcheck.h"

namespace gnnrec {
namespace {

using testing::as_matrix;
using testing::csr_of;
using testing::expect_error;
using testing::per_node;
using testing::randn;
using testing::random_csr;
using testing::row_of_entries;

class SddmmAddTest : public testing::OnDevice {};
GNNREC_ON_DEVICES(SddmmAddTest);

at::Tensor add(const SparseAdjacency& a, const at::Tensor& a_row, const at::Tensor& a_col) {
  return ops::sddmm_add(a.rowptr, a.col, a.t_rowptr, a.t_col, a.t_perm, a_row, a_col);
}

// Dense reference: the [rows, cols, H] sum of every pair, read at the entries.
at::Tensor dense_add(const SparseAdjacency& a, const at::Tensor& a_row, const at::Tensor& a_col) {
  const at::Tensor all =
      as_matrix(a_row).to(at::kDouble).unsqueeze(1) + as_matrix(a_col).to(at::kDouble).unsqueeze(0);
  const at::Tensor out = all.index({row_of_entries(a), a.col.to(at::kLong)});
  return a_row.dim() == 1 ? out.squeeze(1) : out;
}

class SddmmAddShapes : public testing::OnDeviceCases<testing::HeadsShape> {};
GNNREC_CASES_ON_DEVICES(SddmmAddShapes, testing::heads_shapes(), testing::heads_shape_name);

TEST_P(SddmmAddShapes, MatchesDenseFloat64AndFloat32) {
  const testing::HeadsShape c = param();
  const SparseAdjacency a = random_csr(c.rows, c.cols, 0.1, c.hub, 40 + c.heads, false);
  for (const auto dtype : {at::kDouble, at::kFloat}) {
    SCOPED_TRACE(dtype == at::kDouble ? "float64" : "float32");
    const double tol = dtype == at::kDouble ? 1e-12 : 1e-5;
    const at::Tensor a_row = per_node(c.rows, c.heads, 1, dtype);
    const at::Tensor a_col = per_node(c.cols, c.heads, 2, dtype);
    const at::Tensor logits = add(on(a, dtype), on(a_row), on(a_col));
    EXPECT_EQ(logits.scalar_type(), dtype);
    expect_close(logits, dense_add(a, a_row, a_col), tol, tol, "logits");
  }
}

TEST_P(SddmmAddTest, HubRowAboveTenThousand) {
  const SparseAdjacency a = random_csr(24, 13000, 0.0005, 13000, 5, false);
  ASSERT_GT(a.rowptr[1].item<int64_t>(), 10000);
  const at::Tensor a_row = randn({24, 4}, 1), a_col = randn({13000, 4}, 2);
  expect_close(add(on(a), on(a_row), on(a_col)), dense_add(a, a_row, a_col), 1e-12, 1e-12, "hub");
}

TEST_P(SddmmAddTest, HandWorkedExample) {
  // Entries (0,1), (0,2), (1,0).
  const SparseAdjacency a = on(csr_of(3, {{1, 2}, {0}}));
  const at::Tensor a_row = leaf(at::tensor(std::vector<double>{10, 20}));
  const at::Tensor a_col = leaf(at::tensor(std::vector<double>{1, 2, 3}));
  const at::Tensor out = add(a, a_row, a_col);
  expect_equal(out, at::tensor(std::vector<double>{12, 13, 21}), "logits");
  (out * on(at::tensor(std::vector<double>{1, 2, 3}))).sum().backward();
  expect_equal(a_row.grad(), at::tensor(std::vector<double>{3, 3}), "grad a_row");
  expect_equal(a_col.grad(), at::tensor(std::vector<double>{3, 1, 2}), "grad a_col");
}

TEST_P(SddmmAddTest, Gradcheck) {
  // The graphs of the former CPU and CUDA suites.
  for (const SparseAdjacency& graph :
       {random_csr(7, 6, 0.4, 0, 9, false), random_csr(7, 6, 0.5, 0, 11, false)}) {
    const SparseAdjacency a = on(graph);
    for (const int64_t heads : {0, 1, 4}) {
      SCOPED_TRACE(heads);
      testing::gradcheck([&](const std::vector<at::Tensor>& in) { return add(a, in[0], in[1]); },
                         {on(per_node(7, heads, 3)), on(per_node(6, heads, 4))});
    }
  }
}

TEST_P(SddmmAddTest, ClearErrors) {
  const SparseAdjacency a = on(random_csr(6, 5, 0.5, 0, 2, false));
  const at::Tensor a_row = on(randn({6, 2}, 1)), a_col = on(randn({5, 2}, 2));
  expect_error(
      [&] {
        add(a, on(randn({6, 2, 1}, 1)), a_col);
      },
      "sddmm_add: a_row must be 1-D or 2-D, got 3-D");
  expect_error([&] { add(a, a_row, a_col.to(at::kFloat)); },
               "sddmm_add: a_col must have dtype Double, got Float");
  expect_error([&] { add(a, a_row, on(randn({5}, 2))); },
               "sddmm_add: a_row and a_col must have the same number of dims");
  expect_error(
      [&] {
        add(a, a_row, on(randn({5, 3}, 2)));
      },
      "sddmm_add: a_row and a_col must have the same number of heads, got 2 and 3");
  expect_error(
      [&] {
        add(a, on(randn({7, 2}, 1)), a_col);
      },
      "sddmm_add: a_row must have one row per row of A (6), got 7");
  expect_error(
      [&] {
        add(a, a_row, on(randn({4, 2}, 2)));
      },
      "sddmm_add: a_col must have one row per column of A (5), got 4");
}

// Indices out of range: the CPU raises; CUDA must not touch memory outside
// its buffers (compute-sanitizer memcheck), values unspecified, no error.
TEST_P(SddmmAddTest, MalformedIndices) {
  if (on_cpu()) {
    const SparseAdjacency a = random_csr(6, 5, 0.5, 0, 2, false);
    at::Tensor bad_col = a.col.clone();
    bad_col[0] = -1;
    expect_error(
        [&] {
          ops::sddmm_add(a.rowptr, bad_col, a.t_rowptr, a.t_col, a.t_perm, randn({6, 2}, 1),
                         randn({5, 2}, 2));
        },
        "sddmm_add: col holds an index outside [0, 5)");
    return;
  }
  const testing::MalformedCsr m(*this);
  const SparseAdjacency& a = m.a;
  const at::Tensor a_row = on(randn({40, 2}, 3, at::kFloat));
  m.each([&](const at::Tensor& rp, const at::Tensor& cp) {
    ops::sddmm_add(rp, cp, a.t_rowptr, a.t_col, a.t_perm, a_row, on(randn({30, 2}, 4, at::kFloat)));
  });
  EXPECT_TRUE(a_row.isfinite().all().item<bool>());  // synchronises: any kernel fault surfaces here
}

TEST(SddmmAdd, MetaImplementationGivesShapes) {
  const SparseAdjacency a = random_csr(10, 8, 0.3, 0, 1, false);
  const SparseAdjacency m = a.to(at::kMeta, at::kDouble);
  const auto meta = at::TensorOptions().device(at::kMeta).dtype(at::kFloat);
  const at::Tensor logits = add(m, at::empty({10, 4}, meta), at::empty({8, 4}, meta));
  EXPECT_TRUE(logits.is_meta());
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{a.nnz(), 4}));
  EXPECT_EQ(add(m, at::empty({10}, meta), at::empty({8}, meta)).sizes(),
            (std::vector<int64_t>{a.nnz()}));
}

}  // namespace
}  // namespace gnnrec
