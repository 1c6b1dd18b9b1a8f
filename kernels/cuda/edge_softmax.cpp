// CUDA bindings of edge_softmax and _edge_softmax_backward (see
// kernels/cuda/binding.h for what a binding does).
#include <ATen/Dispatch.h>
#include <ATen/ops/empty_like.h>
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

at::Tensor edge_softmax_cuda(const at::Tensor& rowptr_in, const at::Tensor& score_in) {
  NvtxRange nvtx("gnnrec::edge_softmax");
  check_edge_softmax_args(rowptr_in, score_in);
  c10::cuda::CUDAGuard device_guard(score_in.device());
  const at::Tensor rowptr = rowptr_in.contiguous(), score = score_in.contiguous();
  const int64_t rows = rowptr.numel() - 1, nnz = score.size(0), heads = heads_of(score);
  at::Tensor out = at::empty_like(score);
  if (score.numel() == 0) return out;
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(score.scalar_type(), "edge_softmax_cuda", [&] {
    C10_CUDA_CHECK(edge_softmax_csr<scalar_t>(rowptr.data_ptr<int64_t>(),
                                              score.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                                              rows, nnz, heads, stream));
  });
  return out;
}

at::Tensor edge_softmax_backward_cuda(const at::Tensor& rowptr_in, const at::Tensor& y_in,
                                      const at::Tensor& grad_in) {
  NvtxRange nvtx("gnnrec::_edge_softmax_backward");
  check_edge_softmax_backward_args(rowptr_in, y_in, grad_in);
  c10::cuda::CUDAGuard device_guard(y_in.device());
  const at::Tensor rowptr = rowptr_in.contiguous(), y = y_in.contiguous();
  const at::Tensor grad = grad_in.contiguous();
  const int64_t rows = rowptr.numel() - 1, nnz = y.size(0), heads = heads_of(y);
  at::Tensor out = at::empty_like(y);
  if (y.numel() == 0) return out;
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "edge_softmax_backward_cuda", [&] {
    C10_CUDA_CHECK(edge_softmax_backward_csr<scalar_t>(
        rowptr.data_ptr<int64_t>(), y.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(),
        out.data_ptr<scalar_t>(), rows, nnz, heads, stream));
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CUDA, m) {
  m.impl("edge_softmax", &edge_softmax_cuda);
  m.impl("_edge_softmax_backward", &edge_softmax_backward_cuda);
}

}  // namespace gnnrec::ops::cuda
