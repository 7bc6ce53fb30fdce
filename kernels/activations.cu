/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* activations.cu — bias + tanh, LeakyReLU and their backward passes, and the
 * one-sided padding copies (see decent_kernels.h). */
#include "common.cuh"

__global__ static void
bias_tanh_kernel (const float *y, const float *bias, float *a, size_t count, int c, int hw)
{
  GRID_STRIDE (i, count) {
    int ch = (int) ((i / (size_t) hw) % (size_t) c);
    a[i] = tanhf (y[i] + bias[ch]);
  }
}

__global__ static void
leaky_kernel (float *a, size_t count, float slope)
{
  GRID_STRIDE (i, count) {
    float v = a[i];
    a[i] = v > 0.0f ? v : slope * v;
  }
}

__global__ static void
leaky_backward_kernel (float *da, const float *a, size_t count, float slope)
{
  GRID_STRIDE (i, count) {
    if (!(a[i] > 0.0f))
      da[i] *= slope;
  }
}

__global__ static void
tanh_backward_kernel (float *da, const float *a, size_t count)
{
  GRID_STRIDE (i, count) {
    float v = a[i];
    da[i] *= 1.0f - v * v;
  }
}

__global__ static void
extend_kernel (const float *src, float *dst, size_t count, int h, int w, int eh, int ew)
{
  const int ow = w + ew, oh = h + eh;
  GRID_STRIDE (i, count) {
    int x = (int) (i % (size_t) ow);
    int y = (int) ((i / (size_t) ow) % (size_t) oh);
    size_t p = i / ((size_t) ow * oh);
    dst[i] = (x < w && y < h) ? src[(p * h + y) * (size_t) w + x] : 0.0f;
  }
}

__global__ static void
crop_kernel (const float *src, float *dst, size_t count, int h, int w, int eh, int ew)
{
  const int sw = w + ew, sh = h + eh;
  GRID_STRIDE (i, count) {
    int x = (int) (i % (size_t) w);
    int y = (int) ((i / (size_t) w) % (size_t) h);
    size_t p = i / ((size_t) w * h);
    dst[i] = src[(p * sh + y) * (size_t) sw + x];
  }
}

extern "C" int
decent_k_bias_tanh (const float *y, const float *bias, float *a, int n, int c, int hw,
    DecentCudaStream s)
{
  size_t count = (size_t) n * c * hw;
  bias_tanh_kernel<<<decent_blocks (count), DECENT_THREADS, 0, s>>> (y, bias, a, count, c, hw);
  return decent_launched ();
}

extern "C" int
decent_k_leaky (float *a, size_t count, float slope, DecentCudaStream s)
{
  leaky_kernel<<<decent_blocks (count), DECENT_THREADS, 0, s>>> (a, count, slope);
  return decent_launched ();
}

extern "C" int
decent_k_leaky_backward (float *da, const float *a, size_t count, float slope,
    DecentCudaStream s)
{
  leaky_backward_kernel<<<decent_blocks (count), DECENT_THREADS, 0, s>>> (da, a, count, slope);
  return decent_launched ();
}

extern "C" int
decent_k_tanh_backward (float *da, const float *a, size_t count, DecentCudaStream s)
{
  tanh_backward_kernel<<<decent_blocks (count), DECENT_THREADS, 0, s>>> (da, a, count);
  return decent_launched ();
}

extern "C" int
decent_k_extend (const float *src, float *dst, int planes, int h, int w, int eh, int ew,
    DecentCudaStream s)
{
  size_t count = (size_t) planes * (h + eh) * (w + ew);
  extend_kernel<<<decent_blocks (count), DECENT_THREADS, 0, s>>> (src, dst, count, h, w, eh, ew);
  return decent_launched ();
}

extern "C" int
decent_k_crop (const float *src, float *dst, int planes, int h, int w, int eh, int ew,
    DecentCudaStream s)
{
  size_t count = (size_t) planes * h * w;
  crop_kernel<<<decent_blocks (count), DECENT_THREADS, 0, s>>> (src, dst, count, h, w, eh, ew);
  return decent_launched ();
}
