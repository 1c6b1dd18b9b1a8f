// CUDA binding of sddmm_add (see kernels/cuda/binding.h for what a binding
// does).
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

at::Tensor sddmm_add_cuda(const at::Tensor& rowptr_in, const at::Tensor& col_in,
                          const at::Tensor& t_rowptr, const at::Tensor& t_col,
                          const at::Tensor& t_perm, const at::Tensor& a_row_in,
                          const at::Tensor& a_col_in) {
  NvtxRange nvtx("gnnrec::sddmm_add");
  check_sddmm_add_args(rowptr_in, col_in, t_rowptr, t_col, t_perm, a_row_in, a_col_in);
  c10::cuda::CUDAGuard device_guard(a_row_in.device());
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous();
  const at::Tensor a_row = a_row_in.contiguous(), a_col = a_col_in.contiguous();
  const int64_t nnz = col.numel(), rows = rowptr.numel() - 1, cols = a_col.size(0);
  const int64_t heads = heads_of(a_row);
  at::Tensor out = a_row.dim() == 2 ? at::empty({nnz, heads}, a_row.options())
                                    : at::empty({nnz}, a_row.options());
  if (nnz == 0 || heads == 0) return out;
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(a_row.scalar_type(), "sddmm_add_cuda", [&] {
    C10_CUDA_CHECK(sddmm_add_csr<scalar_t>(
        rowptr.data_ptr<int64_t>(), col.data_ptr<int32_t>(), a_row.data_ptr<scalar_t>(),
        a_col.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), rows, cols, nnz, heads, stream));
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CUDA, m) { m.impl("sddmm_add", &sddmm_add_cuda); }

}  // namespace gnnrec::ops::cuda
