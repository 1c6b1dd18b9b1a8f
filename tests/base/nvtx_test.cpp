// base/nvtx.h: ranges are harmless without a profiler.
#include <gtest/gtest.h>

#include "base/nvtx.h"

namespace gnnrec {
namespace {

TEST(Nvtx, RangesAreHarmlessWithoutAProfiler) {
  // Off unless GNNREC_NVTX=1; with it on and no tool attached, push/pop are
  // no-ops. In a build without CUDA NvtxRange is an empty object.
  for (int i = 0; i < 3; ++i) {
    NvtxRange outer("gnnrec::test");
    NvtxRange inner("gnnrec::test/inner");
  }
  EXPECT_EQ(nvtx_enabled(), nvtx_enabled());  // read once, stable
}

}  // namespace
}  // namespace gnnrec
