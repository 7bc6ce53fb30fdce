/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* frame.cu — the frame path on the GPU: 8-bit video frames in, model input
 * out, in one kernel; and the heatmap colour-mapped and blended back over
 * the frame in one kernel (see decent_kernels.h).  The per-pixel arithmetic
 * is in frame_pixels.cuh, shared with a CPU test. */
#include "common.cuh"
#include "frame_pixels.cuh"

__global__ static void
frame_to_input_kernel (DecentKFrame f, float *x, int channels, int oh, int ow, float scale,
    float offset)
{
  GRID_STRIDE (i, (size_t) oh * ow)
    convert_pixel (f, i, x, channels, oh, ow, scale, offset);
}

extern "C" int
decent_k_frame_to_input (DecentKFrame f, float *x, int channels, int oh, int ow, float scale,
    float offset, DecentCudaStream s)
{
  size_t count = (size_t) oh * ow;
  frame_to_input_kernel<<<decent_blocks (count), DECENT_THREADS, 0, s>>> (f, x, channels, oh, ow,
      scale, offset);
  return decent_launched ();
}

__global__ static void
blend_kernel (DecentKFrame f, const float *map, int mh, int mw, const uint8_t *lut,
    float max_error, unsigned a256)
{
  GRID_STRIDE (i, (size_t) f.rw * f.rh)
    blend_pixel (f, i, map, mh, mw, lut, max_error, a256);
}

extern "C" int
decent_k_blend_heatmap (DecentKFrame f, const float *map, int mh, int mw, const uint8_t *lut,
    float max_error, float alpha, DecentCudaStream s)
{
  size_t count = (size_t) f.rw * f.rh;
  unsigned a256 = (unsigned) (fminf (fmaxf (alpha, 0.0f), 1.0f) * 256.0f + 0.5f);
  if (!(max_error > 0.0f))
    max_error = 1.0f;
  blend_kernel<<<decent_blocks (count), DECENT_THREADS, 0, s>>> (f, map, mh, mw, lut, max_error,
      a256);
  return decent_launched ();
}
