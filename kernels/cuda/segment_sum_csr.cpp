// CUDA binding of _segment_sum_csr (see kernels/cuda/binding.h for what a
// binding does).
#include <ATen/Dispatch.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "base/nvtx.h"
#include "kernels/checks.h"
#include "kernels/cuda/binding.h"
#include "kernels/cuda/launchers.h"
#include "kernels/heads.h"

namespace gnnrec::ops::cuda {
namespace {

at::Tensor segment_sum_csr_cuda(const at::Tensor& rowptr_in, const at::Tensor& src_in,
                                const std::optional<at::Tensor>& perm_in) {
  NvtxRange nvtx("gnnrec::_segment_sum_csr");
  check_segment_sum_args(rowptr_in, src_in, perm_in);
  c10::cuda::CUDAGuard device_guard(src_in.device());
  const at::Tensor rowptr = rowptr_in.contiguous(), src = src_in.contiguous();
  const at::Tensor perm = contiguous_or_undefined(perm_in);
  const int64_t rows = rowptr.numel() - 1, m = src.size(0);
  const int64_t heads = heads_of(src);
  at::Tensor out =
      src.dim() == 2 ? at::empty({rows, heads}, src.options()) : at::empty({rows}, src.options());
  if (rows == 0 || heads == 0) return out;
  if (m == 0) return out.zero_();
  const at::Tensor hubs = hub_scratch(m, src);
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(src.scalar_type(), "segment_sum_csr_cuda", [&] {
    C10_CUDA_CHECK(segment_sum_csr<scalar_t>(rowptr.data_ptr<int64_t>(), long_ptr_or_null(perm),
                                             src.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                                             rows, m, heads, long_ptr_or_null(hubs), stream));
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CUDA, m) { m.impl("_segment_sum_csr", &segment_sum_csr_cuda); }

}  // namespace gnnrec::ops::cuda
