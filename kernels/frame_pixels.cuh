/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* frame_pixels.cuh — the per-pixel arithmetic of the frame path, as
 * host-and-device functions: kernels/frame.cu runs them one thread per
 * pixel, and tests/test_frame_kernels.cu runs the very same code on the CPU
 * against a reference written from the definitions, so the kernels' pixel
 * logic is checked on machines without a GPU. */
#ifndef DECENT_FRAME_PIXELS_CUH
#define DECENT_FRAME_PIXELS_CUH

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "decent_kernels.h"
#include "frame_layout.h"

#ifdef __CUDACC__
#define DECENT_HD __host__ __device__
#else
#define DECENT_HD
#endif

DECENT_HD static inline int
clampi (int v, int lo, int hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* RGB (0..255) of pixel (x, y); BT.601 limited range for YUV. */
DECENT_HD static inline void
fetch_rgb (const DecentKFrame &f, int x, int y, float rgb[3])
{
  const uint8_t *row = f.plane[0] + (size_t) y * f.stride[0];
  if (f.red >= 0) { /* packed RGB */
    const uint8_t *p = row + (size_t) f.pixel_bytes * x;
    rgb[0] = p[f.red];
    rgb[1] = p[f.green];
    rgb[2] = p[f.blue];
    return;
  }
  if (f.chroma == DECENT_CHROMA_NONE) { /* grey */
    rgb[0] = rgb[1] = rgb[2] = row[x];
    return;
  }
  float yv = row[x], u, v;
  if (f.chroma == DECENT_CHROMA_PLANES) {
    u = f.plane[1][(size_t) (y / 2) * f.stride[1] + x / 2];
    v = f.plane[2][(size_t) (y / 2) * f.stride[2] + x / 2];
  } else {
    const uint8_t *uv = f.plane[1] + (size_t) (y / 2) * f.stride[1] + 2 * (x / 2);
    u = uv[0];
    v = uv[1];
  }
  float c = 1.164383f * (yv - 16.0f);
  u -= 128.0f;
  v -= 128.0f;
  rgb[0] = fminf (fmaxf (c + 1.596027f * v, 0.0f), 255.0f);
  rgb[1] = fminf (fmaxf (c - 0.391762f * u - 0.812968f * v, 0.0f), 255.0f);
  rgb[2] = fminf (fmaxf (c + 2.017232f * u, 0.0f), 255.0f);
}

/* The taps of one output sample along one axis, as GStreamer's LINEAR
 * resampler places them (the CPU path uses GstVideoConverter with it, and
 * decent-train too, so scores and thresholds carry over): T = ceil(2 scale)
 * taps of a tent as wide as the shrink factor when shrinking, plain linear
 * interpolation (T = 2) when enlarging; taps past an edge count as the edge
 * pixel. */
typedef struct {
  int first, taps;
  float centre, slope, norm;
} Taps;

DECENT_HD static inline Taps
axis_taps (int in, int out, int j)
{
  Taps t;
  const float scale = (float) in / out;
  t.taps = scale > 1.0f ? (int) ceilf (2.0f * scale) : 2;
  if (t.taps > in)
    t.taps = in;
  t.slope = 2.0f / t.taps;
  t.centre = fminf (fmaxf ((j + 0.5f) * scale - (t.taps == 1 ? 0.0f : 0.5f), 0.0f), in - 1.0f);
  t.first = (int) floorf (t.centre - (t.taps - 1) / 2);
  float sum = 0.0f;
  for (int l = 0; l < t.taps; l++)
    sum += fmaxf (1.0f - fabsf (t.centre - (t.first + l)) * t.slope, 0.0f);
  t.norm = 1.0f / sum;
  return t;
}

DECENT_HD static inline float
tap_weight (const Taps &t, int l)
{
  return fmaxf (1.0f - fabsf (t.centre - (t.first + l)) * t.slope, 0.0f) * t.norm;
}

/* Model pixel i (of oh x ow) of the frame's region into x. */
DECENT_HD static inline void
convert_pixel (const DecentKFrame &f, size_t i, float *x, int channels, int oh, int ow,
    float scale, float offset)
{
  const int ox = (int) (i % (size_t) ow), oy = (int) (i / (size_t) ow);
  const Taps tx = axis_taps (f.rw, ow, ox), ty = axis_taps (f.rh, oh, oy);
  float acc[3] = { 0.0f, 0.0f, 0.0f }, rgb[3];
  for (int ly = 0; ly < ty.taps; ly++) {
    const float wy = tap_weight (ty, ly);
    if (wy <= 0.0f)
      continue;
    const int sy = clampi (ty.first + ly, 0, f.rh - 1);
    for (int lx = 0; lx < tx.taps; lx++) {
      const float w = wy * tap_weight (tx, lx);
      if (w <= 0.0f)
        continue;
      const int sx = clampi (tx.first + lx, 0, f.rw - 1);
      fetch_rgb (f, f.rx + sx, f.ry + sy, rgb);
      for (int c = 0; c < 3; c++)
        acc[c] += w * rgb[c];
    }
  }
  const size_t plane = (size_t) oh * ow;
  if (channels == 1) {
    float luma = 0.299f * acc[0] + 0.587f * acc[1] + 0.114f * acc[2];
    x[i] = rintf (luma) * scale + offset;
  } else {
    for (int c = 0; c < 3; c++)
      x[c * plane + i] = rintf (acc[c]) * scale + offset;
  }
}

/* The colour of the heatmap at region pixel (x, y): colours of the four
 * nearest map cells, bilinearly mixed (as scaling the coloured map would). */
DECENT_HD static inline void
heat_colour (const float *map, int mh, int mw, int rw, int rh, int x, int y, const uint8_t *lut,
    float max_error, float out[3])
{
  float mx = fminf (fmaxf ((x + 0.5f) * mw / rw - 0.5f, 0.0f), mw - 1.0f);
  float my = fminf (fmaxf ((y + 0.5f) * mh / rh - 0.5f, 0.0f), mh - 1.0f);
  int x0 = (int) mx, y0 = (int) my;
  int x1 = clampi (x0 + 1, 0, mw - 1), y1 = clampi (y0 + 1, 0, mh - 1);
  float ax = mx - x0, ay = my - y0;
  const int xs[2] = { x0, x1 }, ys[2] = { y0, y1 };
  const float wx[2] = { 1.0f - ax, ax }, wy[2] = { 1.0f - ay, ay };
  out[0] = out[1] = out[2] = 0.0f;
  for (int b = 0; b < 2; b++)
    for (int a = 0; a < 2; a++) {
      float e = map[(size_t) ys[b] * mw + xs[a]] / max_error * 255.0f;
      int idx = (int) fminf (fmaxf (e, 0.0f), 255.0f);
      for (int c = 0; c < 3; c++)
        out[c] += wx[a] * wy[b] * lut[3 * idx + c];
    }
}

DECENT_HD static inline void
blend_byte (uint8_t *d, float src, unsigned a256)
{
  unsigned s = (unsigned) fminf (fmaxf (src + 0.5f, 0.0f), 255.0f);
  *d = (uint8_t) ((*d * (256u - a256) + s * a256 + 128u) >> 8);
}

/* Region pixel i of the frame: the heatmap's colour blended over it (and,
 * on even rows and columns of YUV frames, over its chroma sample). */
DECENT_HD static inline void
blend_pixel (const DecentKFrame &f, size_t i, const float *map, int mh, int mw,
    const uint8_t *lut, float max_error, unsigned a256)
{
  const int lx = (int) (i % (size_t) f.rw), ly = (int) (i / (size_t) f.rw);
  const int x = f.rx + lx, y = f.ry + ly;
  float rgb[3];
  heat_colour (map, mh, mw, f.rw, f.rh, lx, ly, lut, max_error, rgb);
  uint8_t *row = f.plane[0] + (size_t) y * f.stride[0];
  if (f.red >= 0) { /* packed RGB */
    uint8_t *p = row + (size_t) f.pixel_bytes * x;
    blend_byte (p + f.red, rgb[0], a256);
    blend_byte (p + f.green, rgb[1], a256);
    blend_byte (p + f.blue, rgb[2], a256);
    return;
  }
  if (f.chroma == DECENT_CHROMA_NONE) { /* grey */
    blend_byte (row + x, 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2], a256);
    return;
  }
  /* YUV: luma per pixel, chroma once per 2x2 block */
  float yv = 16.0f + 0.256788f * rgb[0] + 0.504129f * rgb[1] + 0.097906f * rgb[2];
  blend_byte (row + x, yv, a256);
  if ((x & 1) == 0 && (y & 1) == 0) {
    float u = 128.0f - 0.148223f * rgb[0] - 0.290993f * rgb[1] + 0.439216f * rgb[2];
    float v = 128.0f + 0.439216f * rgb[0] - 0.367788f * rgb[1] - 0.071427f * rgb[2];
    if (f.chroma == DECENT_CHROMA_PLANES) {
      blend_byte (f.plane[1] + (size_t) (y / 2) * f.stride[1] + x / 2, u, a256);
      blend_byte (f.plane[2] + (size_t) (y / 2) * f.stride[2] + x / 2, v, a256);
    } else {
      uint8_t *uv = f.plane[1] + (size_t) (y / 2) * f.stride[1] + x;
      blend_byte (uv, u, a256);
      blend_byte (uv + 1, v, a256);
    }
  }
}

#endif
