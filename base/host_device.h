// GNNREC_HOST_DEVICE marks a small function that compiles for the host and,
// under nvcc, for the device too (inlined in both), so that one definition
// serves the CPU code and the CUDA kernels. Torch-free, CUDA-free.
#pragma once

#if defined(__CUDACC__)
#define GNNREC_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define GNNREC_HOST_DEVICE inline
#endif
