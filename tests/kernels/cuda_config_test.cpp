// The launch decisions of the CUDA kernels (kernels/cuda/config.h), checked
// on the host: they need no GPU. (The suites start with "Cuda", so
// scripts/gpu/run_checks.sh's --gtest_filter=Cuda* runs them too.)
#include <cstdint>

#include <gtest/gtest.h>

#include "kernels/cuda/config.h"

namespace gnnrec::ops {
namespace {

TEST(CudaHostConfig, RowConfigCoversEveryWidth) {
  for (const int vec_width : {4, 2}) {
    for (const bool aligned : {true, false}) {
      for (int64_t d = 1; d <= 1100; ++d) {
        const cuda::RowConfig c = cuda::row_config(d, vec_width, aligned);
        ASSERT_TRUE(c.vec == 1 || c.vec == vec_width) << d;
        if (c.vec > 1) {
          ASSERT_TRUE(aligned) << d;
          ASSERT_EQ(d % c.vec, 0) << d;
        }
        ASSERT_TRUE(c.group == 4 || c.group == 8 || c.group == 16 || c.group == 32) << d;
        ASSERT_TRUE(c.per_lane == 1 || c.per_lane == 2 || c.per_lane == 4) << d;
        ASSERT_TRUE(c.per_lane == 1 || c.group == 32) << d;  // the instantiated shapes
        // Lanes are not left idle needlessly: a smaller group would not do.
        const int64_t vectors = d / c.vec;
        if (c.group > 4) {
          ASSERT_GT(vectors * 2, c.group) << d;
        }
      }
    }
  }
  // The tuned widths: one 16-byte load per lane and slot, one pass.
  for (const int64_t d : {32, 64, 128, 256}) {
    const cuda::RowConfig f = cuda::row_config(d, 4, true);
    EXPECT_EQ(f.vec, 4);
    EXPECT_GE(static_cast<int64_t>(f.group) * f.per_lane * f.vec, d) << d;
    const cuda::RowConfig g = cuda::row_config(d, 2, true);
    EXPECT_EQ(g.vec, 2);
    EXPECT_GE(static_cast<int64_t>(g.group) * g.per_lane * g.vec, d) << d;
  }
  EXPECT_EQ(cuda::row_config(64, 4, true).group, 16);  // two rows per warp
  EXPECT_EQ(cuda::row_config(32, 4, true).group, 8);   // four rows per warp
}

TEST(CudaHostConfig, HubScratchHoldsEveryPossibleHub) {
  EXPECT_EQ(cuda::hub_scratch_len(0), 0);
  EXPECT_EQ(cuda::hub_scratch_len(cuda::kHubDegree), 0);
  EXPECT_EQ(cuda::hub_scratch_len(cuda::kHubDegree + 1), 2);  // counter + one row
  for (const int64_t nnz : {int64_t{1025}, int64_t{5000}, int64_t{1620256}, int64_t{1} << 33}) {
    const int64_t capacity = cuda::hub_scratch_len(nnz) - 1;
    // More than `capacity` rows of > kHubDegree entries would need more
    // than nnz entries.
    EXPECT_LE(capacity * (cuda::kHubDegree + 1), nnz);
    EXPECT_GT((capacity + 1) * (cuda::kHubDegree + 1), nnz);
  }
}

}  // namespace
}  // namespace gnnrec::ops
