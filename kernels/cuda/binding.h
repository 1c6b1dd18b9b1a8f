// Helpers shared by the CUDA bindings (kernels/cuda/<op>.cpp): the only
// CUDA-side files that see Torch headers. Each binding runs the shared
// argument checks (kernels/checks.h), opens an NVTX range, sets the device
// guard, makes the operands contiguous, allocates outputs and scratch
// through Torch's caching allocator (on the current stream), and calls a
// raw launcher (kernels/cuda/launchers.h) on the current stream, turning
// its cudaError_t into an exception with C10_CUDA_CHECK.
#pragma once

#include <cstdint>
#include <optional>

#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>

#include "kernels/cuda/config.h"

namespace gnnrec::ops::cuda {

// The row kernels' hub-list scratch for an nnz-entry matrix: int64 device
// memory, undefined when no row can be a hub.
inline at::Tensor hub_scratch(int64_t nnz, const at::Tensor& like) {
  const int64_t n = hub_scratch_len(nnz);
  return n > 0 ? at::empty({n}, like.options().dtype(at::kLong)) : at::Tensor();
}

inline int64_t* long_ptr_or_null(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<int64_t>() : nullptr;
}

// An optional tensor, contiguous, or undefined.
inline at::Tensor contiguous_or_undefined(const std::optional<at::Tensor>& t) {
  return t.has_value() && t->defined() ? t->contiguous() : at::Tensor();
}

}  // namespace gnnrec::ops::cuda
