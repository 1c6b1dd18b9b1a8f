// NVTX ranges (nvtx3, header-only, from the CUDA toolkit) for Nsight
// Systems / Nsight Compute: `NvtxRange r("gnnrec::spmm");` marks the scope.
// Off unless the environment variable GNNREC_NVTX is "1" (read once, on the
// first range), so the cost when off is one predictable branch. In a build
// without CUDA (GNNREC_WITH_CUDA undefined) NvtxRange is an empty object and
// compiles to nothing. The operators' CUDA bindings use it; the trainer can
// use it for its phases (sample, forward, backward, step, evaluate).
#pragma once

namespace gnnrec {

#if defined(GNNREC_WITH_CUDA)

// GNNREC_NVTX=1 in the environment (read on the first call).
bool nvtx_enabled();
void nvtx_push(const char* name);
void nvtx_pop();

class NvtxRange {
 public:
  explicit NvtxRange(const char* name) : active_(nvtx_enabled()) {
    if (active_) nvtx_push(name);
  }
  ~NvtxRange() {
    if (active_) nvtx_pop();
  }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;

 private:
  bool active_;
};

#else

inline bool nvtx_enabled() { return false; }

class NvtxRange {
 public:
  explicit NvtxRange(const char* /*name*/) {}
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

#endif

}  // namespace gnnrec
