// CUDA binding of sample_neighbors (see kernels/cuda/binding.h). The output
// equals the CPU implementation's exactly for the same arguments.
#include <ATen/ops/empty.h>
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

std::tuple<at::Tensor, at::Tensor> sample_neighbors_cuda(const at::Tensor& rowptr_in,
                                                         const at::Tensor& col_in,
                                                         const at::Tensor& seeds_in, int64_t fanout,
                                                         bool replace, int64_t seed) {
  NvtxRange nvtx("gnnrec::sample_neighbors");
  check_sample_neighbors_args(rowptr_in, col_in, seeds_in, fanout);
  c10::cuda::CUDAGuard device_guard(seeds_in.device());
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous();
  const at::Tensor seeds = seeds_in.contiguous();
  const int64_t n = seeds.numel(), rows = rowptr.numel() - 1;
  at::Tensor nbr = at::empty({n, fanout}, seeds.options());
  at::Tensor eid = at::empty({n, fanout}, seeds.options());
  if (n == 0) return {nbr, eid};
  C10_CUDA_CHECK(sample_neighbors_csr(
      rowptr.data_ptr<int64_t>(), col.data_ptr<int32_t>(), seeds.data_ptr<int64_t>(),
      nbr.data_ptr<int64_t>(), eid.data_ptr<int64_t>(), rows, col.numel(), n, fanout, replace,
      static_cast<uint64_t>(seed), c10::cuda::getCurrentCUDAStream()));
  return {nbr, eid};
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CUDA, m) { m.impl("sample_neighbors", &sample_neighbors_cuda); }

}  // namespace gnnrec::ops::cuda
