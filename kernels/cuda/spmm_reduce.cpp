// CUDA bindings of spmm_reduce and _spmm_reduce_max_backward (see
// kernels/cuda/binding.h for what a binding does).
#include <ATen/Dispatch.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/full.h>
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

std::tuple<at::Tensor, at::Tensor> spmm_reduce_cuda(
    const at::Tensor& rowptr_in, const at::Tensor& col_in, const at::Tensor& t_rowptr,
    const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& x_in,
    c10::string_view reduce_name) {
  NvtxRange nvtx("gnnrec::spmm_reduce");
  const Reduce reduce =
      check_spmm_reduce_args(rowptr_in, col_in, t_rowptr, t_col, t_perm, x_in, reduce_name);
  c10::cuda::CUDAGuard device_guard(x_in.device());
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous();
  const at::Tensor x = x_in.contiguous();
  const int64_t rows = rowptr.numel() - 1, cols = x.size(0), d = x.size(1), nnz = col.numel();
  const auto long_options = x.options().dtype(at::kLong);
  const bool is_max = reduce == Reduce::kMax;
  if (rows == 0 || d == 0) {
    return {at::empty({rows, d}, x.options()),
            is_max ? at::empty({rows, d}, long_options) : at::empty({0}, long_options)};
  }
  if (nnz == 0) {  // every row is empty: 0 (and -1 for max's arg)
    return {at::zeros({rows, d}, x.options()),
            is_max ? at::full({rows, d}, -1, long_options) : at::empty({0}, long_options)};
  }
  at::Tensor out = at::empty({rows, d}, x.options());
  at::Tensor arg = is_max ? at::empty({rows, d}, long_options) : at::empty({0}, long_options);
  const at::Tensor hubs = hub_scratch(nnz, x);
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "spmm_reduce_cuda", [&] {
    if (is_max) {
      C10_CUDA_CHECK(spmm_max_csr<scalar_t>(rowptr.data_ptr<int64_t>(), col.data_ptr<int32_t>(),
                                            x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                                            arg.data_ptr<int64_t>(), rows, cols, nnz, d,
                                            long_ptr_or_null(hubs), stream));
    } else {
      C10_CUDA_CHECK(spmm_csr<scalar_t>(rowptr.data_ptr<int64_t>(), col.data_ptr<int32_t>(),
                                        nullptr, x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                                        rows, cols, nnz, d, reduce == Reduce::kMean,
                                        long_ptr_or_null(hubs), stream));
    }
  });
  return {out, arg};
}

at::Tensor spmm_reduce_max_backward_cuda(const at::Tensor& t_rowptr_in, const at::Tensor& t_col_in,
                                         const at::Tensor& t_perm_in, const at::Tensor& arg_in,
                                         const at::Tensor& grad_in) {
  NvtxRange nvtx("gnnrec::_spmm_reduce_max_backward");
  check_spmm_reduce_max_backward_args(t_rowptr_in, t_col_in, t_perm_in, arg_in, grad_in);
  c10::cuda::CUDAGuard device_guard(grad_in.device());
  const at::Tensor t_rowptr = t_rowptr_in.contiguous(), t_col = t_col_in.contiguous();
  const at::Tensor t_perm = t_perm_in.contiguous(), arg = arg_in.contiguous();
  const at::Tensor grad = grad_in.contiguous();
  const int64_t cols = t_rowptr.numel() - 1, rows = grad.size(0), d = grad.size(1);
  const int64_t nnz = t_col.numel();
  if (cols == 0 || d == 0 || nnz == 0) return at::zeros({cols, d}, grad.options());
  at::Tensor out = at::empty({cols, d}, grad.options());
  const at::Tensor hubs = hub_scratch(nnz, grad);
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "spmm_reduce_max_backward_cuda", [&] {
    C10_CUDA_CHECK(spmm_max_backward_csr<scalar_t>(
        t_rowptr.data_ptr<int64_t>(), t_col.data_ptr<int32_t>(), t_perm.data_ptr<int64_t>(),
        arg.data_ptr<int64_t>(), grad.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), cols, rows,
        nnz, d, long_ptr_or_null(hubs), stream));
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CUDA, m) {
  m.impl("spmm_reduce", &spmm_reduce_cuda);
  m.impl("_spmm_reduce_max_backward", &spmm_reduce_max_backward_cuda);
}

}  // namespace gnnrec::ops::cuda
