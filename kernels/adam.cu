/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* adam.cu — one Adam step over every parameter in one launch. */
#include "common.cuh"

__global__ static void
adam_kernel (float *p, const float *g, float *m, float *v, size_t count, float lr, float beta1,
    float beta2, float eps, float c1, float c2)
{
  GRID_STRIDE (i, count) {
    float gi = g[i];
    float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr * (mi * c1) / (sqrtf (vi * c2) + eps);
  }
}

extern "C" int
decent_k_adam (float *p, const float *g, float *m, float *v, size_t count, float lr, float beta1,
    float beta2, float eps, float c1, float c2, DecentCudaStream s)
{
  adam_kernel<<<decent_blocks (count), DECENT_THREADS, 0, s>>> (p, g, m, v, count, lr, beta1,
      beta2, eps, c1, c2);
  return decent_launched ();
}
