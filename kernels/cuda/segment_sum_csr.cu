// _segment_sum_csr on CUDA: the sum-type row reduction (sum_op.cuh) through
// the row engine of row_reduce.cuh, over positions into src (through perm
// when given).
#include "kernels/cuda/launchers.h"
#include "kernels/cuda/row_reduce.cuh"
#include "kernels/cuda/sum_op.cuh"

namespace gnnrec::ops::cuda {

template <typename T>
cudaError_t segment_sum_csr(const int64_t* rowptr, const int64_t* perm, const T* src, T* out,
                            int64_t rows, int64_t m, int64_t heads, int64_t* hub_scratch,
                            cudaStream_t stream) {
  if (rows <= 0 || heads <= 0) return cudaSuccess;
  const RowConfig c = row_config(heads, 16 / sizeof(T), aligned16(src) && aligned16(out));
  // A row's entries are positions into src: there are m of them (nnz = m).
  return run_rows<T>(c, rows, hub_scratch, stream, [&](auto v) {
    constexpr int V = decltype(v)::value;
    return SumOp<T, V, int64_t>{rowptr, m, perm, nullptr, src, out, m, heads, heads / V, false};
  });
}

template cudaError_t segment_sum_csr<float>(const int64_t*, const int64_t*, const float*, float*,
                                            int64_t, int64_t, int64_t, int64_t*, cudaStream_t);
template cudaError_t segment_sum_csr<double>(const int64_t*, const int64_t*, const double*, double*,
                                             int64_t, int64_t, int64_t, int64_t*, cudaStream_t);

}  // namespace gnnrec::ops::cuda
