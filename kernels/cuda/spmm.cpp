// CUDA binding of spmm (see kernels/cuda/binding.h for what a binding does).
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

at::Tensor spmm_cuda(const at::Tensor& rowptr_in, const at::Tensor& col_in,
                     const std::optional<at::Tensor>& value_in, const at::Tensor& t_rowptr,
                     const at::Tensor& t_col, const std::optional<at::Tensor>& /*t_perm*/,
                     const at::Tensor& x_in) {
  NvtxRange nvtx("gnnrec::spmm");
  check_spmm_args(rowptr_in, col_in, value_in, t_rowptr, t_col, x_in);
  c10::cuda::CUDAGuard device_guard(x_in.device());
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous();
  const at::Tensor x = x_in.contiguous(), value = contiguous_or_undefined(value_in);
  const int64_t rows = rowptr.numel() - 1, cols = x.size(0), d = x.size(1), nnz = col.numel();
  if (rows == 0 || d == 0) return at::empty({rows, d}, x.options());
  if (nnz == 0) return at::zeros({rows, d}, x.options());
  at::Tensor out = at::empty({rows, d}, x.options());
  const at::Tensor hubs = hub_scratch(nnz, x);
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "spmm_cuda", [&] {
    C10_CUDA_CHECK(spmm_csr<scalar_t>(rowptr.data_ptr<int64_t>(), col.data_ptr<int32_t>(),
                                      value.defined() ? value.data_ptr<scalar_t>() : nullptr,
                                      x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), rows, cols,
                                      nnz, d, /*mean=*/false, long_ptr_or_null(hubs), stream));
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CUDA, m) { m.impl("spmm", &spmm_cuda); }

}  // namespace gnnrec::ops::cuda
