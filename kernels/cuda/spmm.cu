// spmm on CUDA (and spmm_reduce's sum and mean, which call spmm_csr with
// unit values): the sum-type row reduction (sum_op.cuh) through the row
// engine of row_reduce.cuh (a group of lanes per row, 16-byte loads when
// possible, a block per hub row).
#include "kernels/cuda/launchers.h"
#include "kernels/cuda/row_reduce.cuh"
#include "kernels/cuda/sum_op.cuh"

namespace gnnrec::ops::cuda {

template <typename T>
cudaError_t spmm_csr(const int64_t* rowptr, const int32_t* col, const T* val, const T* x, T* out,
                     int64_t rows, int64_t cols, int64_t nnz, int64_t d, bool mean,
                     int64_t* hub_scratch, cudaStream_t stream) {
  if (rows <= 0 || d <= 0) return cudaSuccess;
  const RowConfig c = row_config(d, 16 / sizeof(T), aligned16(x) && aligned16(out));
  return run_rows<T>(c, rows, hub_scratch, stream, [&](auto v) {
    constexpr int V = decltype(v)::value;
    return SumOp<T, V, int32_t>{rowptr, nnz, col, val, x, out, cols, d, d / V, mean};
  });
}

template cudaError_t spmm_csr<float>(const int64_t*, const int32_t*, const float*, const float*,
                                     float*, int64_t, int64_t, int64_t, int64_t, bool, int64_t*,
                                     cudaStream_t);
template cudaError_t spmm_csr<double>(const int64_t*, const int32_t*, const double*, const double*,
                                      double*, int64_t, int64_t, int64_t, int64_t, bool, int64_t*,
                                      cudaStream_t);

}  // namespace gnnrec::ops::cuda
