// gnnrec::_segment_sum_csr (the backward of sddmm_add: per-row sums of
// per-entry values, optionally through a permutation) on every device
// (tests/kernels/sparse_test_utils.h: OnDevice): a hand-worked example, hub
// rows and columns against the CPU in float64, argument errors and a
// permutation out of range (the CPU raises, CUDA stays inside its buffers).
// On the CPU only: the meta implementation.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "kernels/ops.h"
#include "kernels/sparse_adjacency.h"
#include "tests/kernels/sparse_test_utils.h"

namespace gnnrec {
namespace {

using testing::csr_of;
using testing::dtype_name;
using testing::expect_error;
using testing::hub_graph;
using testing::hub_tol;
using testing::per_node;
using testing::randn;
using testing::random_csr;

class SegmentSumCsrTest : public testing::OnDevice {};
GNNREC_ON_DEVICES(SegmentSumCsrTest);

TEST_P(SegmentSumCsrTest, HandWorkedExample) {
  // Rows {0, 1} | {} | {2} over src [1, 2, 4] (one head) and [[1, 10], ...].
  const SparseAdjacency a = on(csr_of(3, {{0, 1}, {}, {2}}));
  const at::Tensor src = at::tensor(std::vector<double>{1, 2, 4});
  expect_equal(ops::segment_sum_csr(a.rowptr, on(src), std::nullopt),
               at::tensor(std::vector<double>{3, 0, 4}), "rows");
  // Through perm: row 0 sums src[2] + src[0], row 2 src[1].
  const at::Tensor perm = at::tensor(std::vector<int64_t>{2, 0, 1});
  expect_equal(ops::segment_sum_csr(a.rowptr, on(src), on(perm)),
               at::tensor(std::vector<double>{5, 0, 2}), "rows through perm");
  const at::Tensor heads = at::tensor(std::vector<double>{1, 10, 2, 20, 4, 40}).view({3, 2});
  expect_equal(ops::segment_sum_csr(a.rowptr, on(heads), std::nullopt),
               at::tensor(std::vector<double>{3, 30, 0, 0, 4, 40}).view({3, 2}), "two heads");
}

TEST_P(SegmentSumCsrTest, HubRowsAndColumnsMatchTheCpuInFloat64) {
  const SparseAdjacency a = hub_graph(false);
  for (const int64_t heads : {0, 1, 4, 33}) {
    for (const auto dtype : {at::kFloat, at::kDouble}) {
      SCOPED_TRACE(::testing::Message() << "heads " << heads << ", " << dtype_name(dtype));
      const at::Tensor src = per_node(a.nnz(), heads, 70 + heads, dtype);
      const double tol = hub_tol(dtype);
      expect_close(ops::segment_sum_csr(on(a.rowptr), on(src), std::nullopt),
                   ops::segment_sum_csr(a.rowptr, src.to(at::kDouble), std::nullopt), 1e-4, tol,
                   "rows");
      expect_close(ops::segment_sum_csr(on(a.t_rowptr), on(src), on(a.t_perm)),
                   ops::segment_sum_csr(a.t_rowptr, src.to(at::kDouble), a.t_perm), 1e-4, tol,
                   "columns through t_perm");
    }
  }
}

TEST_P(SegmentSumCsrTest, ClearErrors) {
  const SparseAdjacency a = on(random_csr(6, 5, 0.5, 0, 2, false));
  const at::Tensor s = on(randn({a.nnz(), 2}, 3));
  expect_error([&] { ops::segment_sum_csr(a.rowptr, s, a.t_perm.narrow(0, 0, 2)); },
               "_segment_sum_csr: perm must be 1-D int64 with nnz");
}

// perm out of range: the CPU raises; CUDA must not read outside src
// (compute-sanitizer memcheck), values unspecified, no error.
TEST_P(SegmentSumCsrTest, PermOutOfRange) {
  const SparseAdjacency a = on(random_csr(40, 30, 0.2, 0, 2, true), at::kFloat);
  at::Tensor bad_perm = a.t_perm.clone();
  bad_perm[0] = 1 << 20;
  const at::Tensor src = on(randn({a.nnz()}, 6, at::kFloat));
  if (on_cpu()) {
    expect_error(
        [&] { ops::segment_sum_csr(a.t_rowptr, src, bad_perm); },
        "_segment_sum_csr: perm holds an index outside [0, " + std::to_string(a.nnz()) + ")");
    return;
  }
  ops::segment_sum_csr(a.t_rowptr, src, bad_perm);
  EXPECT_TRUE(src.isfinite().all().item<bool>());  // synchronises: any kernel fault surfaces here
}

TEST(SegmentSumCsr, MetaImplementationGivesShapes) {
  const SparseAdjacency a = random_csr(10, 8, 0.3, 0, 1, false);
  const SparseAdjacency m = a.to(at::kMeta, at::kDouble);
  const auto meta = at::TensorOptions().device(at::kMeta).dtype(at::kFloat);
  const at::Tensor y = at::empty({a.nnz(), 4}, meta);
  EXPECT_EQ(ops::segment_sum_csr(m.t_rowptr, y, m.t_perm).sizes(), (std::vector<int64_t>{8, 4}));
  EXPECT_EQ(ops::segment_sum_csr(m.rowptr, at::empty({a.nnz()}, meta), std::nullopt).sizes(),
            (std::vector<int64_t>{10}));
}

}  // namespace
}  // namespace gnnrec
