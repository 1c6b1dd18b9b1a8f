// CUDA binding of sample_negatives (see kernels/cuda/binding.h). The output
// equals the CPU implementation's exactly for the same arguments.
#include <ATen/ops/empty.h>
#include <ATen/ops/full.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "base/nvtx.h"
#include "kernels/checks.h"
#include "kernels/cuda/binding.h"
#include "kernels/cuda/launchers.h"

namespace gnnrec::ops::cuda {
namespace {

// Unlike the other CUDA bindings, this one checks values, because a user
// with no negative left would make the kernel's rejection loop spin: one
// kernel finds the first bad row, and reading its index is the one
// synchronisation of the call.
at::Tensor sample_negatives_cuda(const at::Tensor& rowptr_in, const at::Tensor& col_in,
                                 const at::Tensor& users_in, int64_t num_items, int64_t k,
                                 int64_t seed) {
  NvtxRange nvtx("gnnrec::sample_negatives");
  check_sample_negatives_args(rowptr_in, col_in, users_in, num_items, k);
  c10::cuda::CUDAGuard device_guard(users_in.device());
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous();
  const at::Tensor users = users_in.contiguous();
  const int64_t n = users.numel(), rows = rowptr.numel() - 1, nnz = col.numel();
  at::Tensor out = at::empty({n, k}, users.options());
  if (n == 0) return out;
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  const at::Tensor first_bad = at::full({1}, n, users.options());
  C10_CUDA_CHECK(sample_negatives_first_bad(rowptr.data_ptr<int64_t>(), users.data_ptr<int64_t>(),
                                            rows, nnz, n, num_items, first_bad.data_ptr<int64_t>(),
                                            stream));
  const int64_t bad = first_bad.item<int64_t>();
  if (bad < n) {
    // The messages of the CPU implementation (slow path: errors only).
    const int64_t u = users[bad].item<int64_t>();
    TORCH_CHECK(u >= 0 && u < rows, "sample_negatives: users[", bad, "] = ", u, " is outside [0, ",
                rows, ")");
    const at::Tensor bounds = rowptr.narrow(0, u, 2).cpu();
    const int64_t deg = bounds[1].item<int64_t>() - bounds[0].item<int64_t>();
    TORCH_CHECK(false, "sample_negatives: user ", u, " (users[", bad, "]) has ", deg,
                " items of num_items ", num_items,
                ": it has interacted with every item; no negative exists");
  }
  C10_CUDA_CHECK(sample_negatives_csr(rowptr.data_ptr<int64_t>(), col.data_ptr<int32_t>(),
                                      users.data_ptr<int64_t>(), out.data_ptr<int64_t>(), rows, nnz,
                                      n, num_items, k, static_cast<uint64_t>(seed), stream));
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CUDA, m) { m.impl("sample_negatives", &sample_negatives_cuda); }

}  // namespace gnnrec::ops::cuda
