// Built only with CUDA (see base/nvtx.h).
#include "base/nvtx.h"

#include <cstdlib>
#include <cstring>

#include <nvtx3/nvToolsExt.h>

namespace gnnrec {

bool nvtx_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("GNNREC_NVTX");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return enabled;
}

void nvtx_push(const char* name) { nvtxRangePushA(name); }

void nvtx_pop() { nvtxRangePop(); }

}  // namespace gnnrec
