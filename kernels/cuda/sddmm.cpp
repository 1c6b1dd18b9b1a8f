// CUDA binding of sddmm (see kernels/cuda/binding.h for what a binding does).
#include <ATen/Dispatch.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
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

at::Tensor sddmm_cuda(const at::Tensor& rowptr_in, const at::Tensor& col_in,
                      const at::Tensor& t_rowptr, const at::Tensor& t_col, const at::Tensor& t_perm,
                      const at::Tensor& a_in, const at::Tensor& b_in) {
  NvtxRange nvtx("gnnrec::sddmm");
  check_sddmm_args(rowptr_in, col_in, t_rowptr, t_col, t_perm, a_in, b_in);
  c10::cuda::CUDAGuard device_guard(a_in.device());
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous();
  const at::Tensor a = a_in.contiguous(), b = b_in.contiguous();
  const int64_t rows = rowptr.numel() - 1, cols = b.size(0), d = a.size(1), nnz = col.numel();
  if (nnz == 0 || d == 0) return at::zeros({nnz}, a.options());
  at::Tensor out = at::empty({nnz}, a.options());
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "sddmm_cuda", [&] {
    C10_CUDA_CHECK(sddmm_csr<scalar_t>(rowptr.data_ptr<int64_t>(), col.data_ptr<int32_t>(),
                                       a.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(),
                                       out.data_ptr<scalar_t>(), rows, cols, nnz, d, stream));
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CUDA, m) { m.impl("sddmm", &sddmm_cuda); }

}  // namespace gnnrec::ops::cuda
