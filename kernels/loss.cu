/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loss.cu — the two loss terms, their gradients and the per-frame scores and
 * per-pixel maps (see decent_kernels.h).  Per-image sums are reduced in
 * double, as on the CPU, so that the two backends agree on the loss. */
#include "common.cuh"

/* grid: (chunks, n); each block sums its chunk of one image's pixels */
__global__ static void
reconstruction_kernel (const float *x, const float *y, int pixels, double *sums, float *dy,
    float gscale)
{
  const int img = blockIdx.y;
  const float *xi = x + (size_t) img * pixels;
  const float *yi = y + (size_t) img * pixels;
  float *di = dy ? dy + (size_t) img * pixels : NULL;
  double acc = 0.0;
  for (int k = blockIdx.x * blockDim.x + threadIdx.x; k < pixels; k += gridDim.x * blockDim.x) {
    float yv = yi[k], d = yv - xi[k];
    acc += (double) d * d;
    if (di)
      di[k] = gscale * d * (1.0f - yv * yv);
  }
  acc = decent_block_sum (acc);
  if (threadIdx.x == 0)
    atomicAdd (sums + img, acc);
}

__global__ static void
map_kernel (const float *x, const float *y, int n, int channels, int plane, float *maps)
{
  GRID_STRIDE (i, (size_t) n * plane) {
    size_t img = i / (size_t) plane, p = i % (size_t) plane;
    const size_t base = img * (size_t) channels * plane + p;
    float acc = 0.0f;
    for (int c = 0; c < channels; c++) {
      float d = y[base + (size_t) c * plane] - x[base + (size_t) c * plane];
      acc += d * d;
    }
    maps[i] = acc / (float) channels;
  }
}

__global__ static void
decentral_kernel (const float *f, const float *c, int d, double *sums, float *grad, float gscale)
{
  const int img = blockIdx.y;
  const float *fi = f + (size_t) img * d;
  float *gi = grad ? grad + (size_t) img * d : NULL;
  double acc = 0.0;
  for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < d; j += gridDim.x * blockDim.x) {
    float v = fi[j] - (c ? c[j] : 0.0f);
    acc += (double) v * v;
    if (gi)
      gi[j] += gscale * v;
  }
  acc = decent_block_sum (acc);
  if (threadIdx.x == 0)
    atomicAdd (sums + img, acc);
}

__global__ static void
latent_mean_kernel (const float *f, int n, int d, float *mean)
{
  GRID_STRIDE (j, (size_t) d) {
    double s = 0.0;
    for (int i = 0; i < n; i++)
      s += f[(size_t) i * d + j];
    mean[j] = (float) (s / n);
  }
}

static dim3
per_image_grid (int n, int values)
{
  int chunks = (values + DECENT_THREADS * 8 - 1) / (DECENT_THREADS * 8);
  if (chunks < 1)
    chunks = 1;
  if (chunks > 1024)
    chunks = 1024;
  return dim3 ((unsigned) chunks, (unsigned) n);
}

extern "C" int
decent_k_reconstruction (const float *x, const float *y, int n, int channels, int plane,
    double *sums, float *dy, float gscale, float *maps, DecentCudaStream s)
{
  const int pixels = channels * plane;
  if (sums || dy)
    reconstruction_kernel<<<per_image_grid (n, pixels), DECENT_THREADS, 0, s>>> (x, y, pixels,
        sums, dy, gscale);
  if (maps)
    map_kernel<<<decent_blocks ((size_t) n * plane), DECENT_THREADS, 0, s>>> (x, y, n, channels,
        plane, maps);
  return decent_launched ();
}

extern "C" int
decent_k_decentral (const float *f, const float *c, int n, int d, double *sums, float *grad,
    float gscale, DecentCudaStream s)
{
  decentral_kernel<<<per_image_grid (n, d), DECENT_THREADS, 0, s>>> (f, c, d, sums, grad, gscale);
  return decent_launched ();
}

extern "C" int
decent_k_latent_mean (const float *f, int n, int d, float *mean, DecentCudaStream s)
{
  latent_mean_kernel<<<decent_blocks ((size_t) d), DECENT_THREADS, 0, s>>> (f, n, d, mean);
  return decent_launched ();
}
