// Launch helpers shared by every gnnrec CUDA kernel. No Torch headers here:
// launchers take raw pointers, sizes and a stream and return the launch's
// cudaError_t, which the Torch binding checks (C10_CUDA_CHECK).
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace gnnrec::cuda {

constexpr int kWarp = 32;
constexpr int kBlock = 256;

// Blocks needed to give `items` work items `per_block` each; 0 for no work.
inline unsigned grid_for(int64_t items, int64_t per_block) {
  return static_cast<unsigned>((items + per_block - 1) / per_block);
}

// Launches `kernel` unless the grid is empty (a zero-sized grid is an error
// in CUDA), then returns the launch status.
template <typename Kernel, typename... Args>
cudaError_t launch(Kernel kernel, unsigned grid, unsigned block, cudaStream_t stream,
                   Args... args) {
  if (grid == 0) return cudaSuccess;
  kernel<<<grid, block, 0, stream>>>(args...);
  return cudaGetLastError();
}

}  // namespace gnnrec::cuda
