// lightgcn_rows (models/lightgcn_rows.h), LightGCN's fused batch
// propagation: against the dense float64 layer mean on a random weighted
// (non-symmetric) square matrix, and gradcheck in float64 for 1 to 3 layers.
#include "models/lightgcn_rows.h"

#include <gtest/gtest.h>

#include "tests/kernels/sparse_test_utils.h"
#include "tests/testing/gradcheck.h"

namespace gnnrec {
namespace {

using testing::dense_of;
using testing::randn;
using testing::random_csr;

at::Tensor transposed_values(const SparseAdjacency& a) { return a.value.index_select(0, a.t_perm); }

TEST(LightGcnRows, EqualsTheDenseLayerMean) {
  const SparseAdjacency a = random_csr(30, 30, 0.15, 20, 11, true);
  const at::Tensor dense = dense_of(a);
  const at::Tensor e0 = randn({30, 6}, 2);
  const at::Tensor rows = at::tensor(std::vector<int64_t>{0, 3, 7, 8, 29});
  for (int64_t layers : {1, 2, 3}) {
    SCOPED_TRACE(layers);
    at::Tensor e = e0, sum = e0;
    for (int64_t k = 0; k < layers; ++k) {
      e = dense.mm(e);
      sum = sum + e;
    }
    const at::Tensor expected = (sum / static_cast<double>(layers + 1)).index_select(0, rows);
    const at::Tensor got = lightgcn_rows(e0, a, transposed_values(a), layers, rows);
    EXPECT_TRUE(at::allclose(got, expected, 1e-12, 1e-12));
  }
}

TEST(LightGcnRows, GradcheckInFloat64) {
  const SparseAdjacency a = random_csr(12, 12, 0.3, 0, 5, true);
  const at::Tensor t_value = transposed_values(a);
  for (int64_t layers : {1, 2, 3}) {
    for (const auto& rows : {at::tensor(std::vector<int64_t>{4}), at::arange(12, at::kLong),
                             at::tensor(std::vector<int64_t>{0, 3, 11})}) {
      SCOPED_TRACE(layers);
      testing::gradcheck(
          [&](const std::vector<at::Tensor>& in) {
            return lightgcn_rows(in[0], a, t_value, layers, rows);
          },
          {randn({12, 3}, 7)});
    }
  }
}

}  // namespace
}  // namespace gnnrec
