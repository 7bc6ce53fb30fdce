/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* common.cuh — launch helpers shared by the kernel files. */
#ifndef DECENT_KERNELS_COMMON_CUH
#define DECENT_KERNELS_COMMON_CUH

#include <cuda_runtime.h>

#include "decent_kernels.h"

#define DECENT_THREADS 256

/* Enough blocks to cover count with grid-stride loops, capped so that a
 * huge tensor does not launch millions of tiny blocks. */
static inline unsigned
decent_blocks (size_t count)
{
  size_t b = (count + DECENT_THREADS - 1) / DECENT_THREADS;
  if (b < 1)
    b = 1;
  return b > 65535 ? 65535u : (unsigned) b;
}

static inline int
decent_launched (void)
{
  return (int) cudaGetLastError ();
}

#define GRID_STRIDE(i, count)                                                  \
  for (size_t i = (size_t) blockIdx.x * blockDim.x + threadIdx.x; i < (count); \
       i += (size_t) gridDim.x * blockDim.x)

/* Sum of v over the block, valid in thread 0.  blockDim.x is DECENT_THREADS. */
__device__ inline double
decent_block_sum (double v)
{
  __shared__ double warp_sums[DECENT_THREADS / 32];
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_down_sync (0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0)
    warp_sums[warp] = v;
  __syncthreads ();
  v = threadIdx.x < DECENT_THREADS / 32 ? warp_sums[threadIdx.x] : 0.0;
  if (warp == 0)
    for (int o = 16; o > 0; o >>= 1)
      v += __shfl_down_sync (0xffffffffu, v, o);
  return v;
}

#endif
