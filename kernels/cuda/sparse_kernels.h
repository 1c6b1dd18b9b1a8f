// Raw-pointer launchers for the sparse operators on CUDA (no Torch types).
// Pointers are device pointers; all enqueue on `stream` and return the
// launch status. Same contracts as kernels/ops.h.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace gnnrec::cuda {

// out[r] = Σ_k val[k] · x[col[k]] over the CSR row r (val may be null: 1).
template <typename T>
cudaError_t spmm_csr(const int64_t* rowptr, const int32_t* col, const T* val, const T* x, T* out,
                     int64_t rows, int64_t d, cudaStream_t stream);

// out[k] = dot(a[row(k)], b[col[k]]) for every stored entry.
template <typename T>
cudaError_t sddmm_csr(const int64_t* rowptr, const int32_t* col, const T* a, const T* b, T* out,
                      int64_t rows, int64_t d, cudaStream_t stream);

}  // namespace gnnrec::cuda
