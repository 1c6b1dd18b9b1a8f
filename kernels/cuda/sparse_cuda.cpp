// Binds the raw CUDA launchers to Torch tensors (the only CUDA file that
// sees Torch headers). Argument checks are the shared ones in checks.h.
#include <ATen/Dispatch.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "kernels/checks.h"
#include "kernels/cuda/sparse_kernels.h"

namespace gnnrec::ops::cuda_impl {
namespace {

at::Tensor spmm_cuda(const at::Tensor& rowptr_in, const at::Tensor& col_in,
                     const std::optional<at::Tensor>& value_in, const at::Tensor& t_rowptr,
                     const at::Tensor& t_col, const std::optional<at::Tensor>& /*t_perm*/,
                     const at::Tensor& x_in) {
  check_spmm_args(rowptr_in, col_in, value_in, t_rowptr, t_col, x_in);
  c10::cuda::CUDAGuard device_guard(x_in.device());
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous(), x = x_in.contiguous();
  const at::Tensor value = value_in.has_value() && value_in->defined() ? value_in->contiguous() : at::Tensor();
  const int64_t rows = rowptr.numel() - 1, d = x.size(1);
  at::Tensor out = at::empty({rows, d}, x.options());
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "spmm_cuda", [&] {
    C10_CUDA_CHECK(gnnrec::cuda::spmm_csr<scalar_t>(
        rowptr.data_ptr<int64_t>(), col.data_ptr<int32_t>(),
        value.defined() ? value.data_ptr<scalar_t>() : nullptr, x.data_ptr<scalar_t>(),
        out.data_ptr<scalar_t>(), rows, d, stream));
  });
  return out;
}

at::Tensor sddmm_cuda(const at::Tensor& rowptr_in, const at::Tensor& col_in,
                      const at::Tensor& t_rowptr, const at::Tensor& t_col,
                      const at::Tensor& t_perm, const at::Tensor& a_in, const at::Tensor& b_in) {
  check_sddmm_args(rowptr_in, col_in, t_rowptr, t_col, t_perm, a_in, b_in);
  c10::cuda::CUDAGuard device_guard(a_in.device());
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous();
  const at::Tensor a = a_in.contiguous(), b = b_in.contiguous();
  at::Tensor out = at::zeros({col.numel()}, a.options());
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "sddmm_cuda", [&] {
    C10_CUDA_CHECK(gnnrec::cuda::sddmm_csr<scalar_t>(
        rowptr.data_ptr<int64_t>(), col.data_ptr<int32_t>(), a.data_ptr<scalar_t>(),
        b.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), rowptr.numel() - 1, a.size(1), stream));
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CUDA, m) {
  m.impl("spmm", &spmm_cuda);
  m.impl("sddmm", &sddmm_cuda);
}

}  // namespace gnnrec::ops::cuda_impl
