/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* frame_reference.h — the frame path written from its definitions, in
 * plain C (and C++): BT.601 limited-range YUV, GStreamer's LINEAR resampler
 * taps, luma for grey models.  The reference for the GPU's frame kernels, in
 * test_cuda_parity.c (on a GPU) and test_frame_kernels.cu (their pixel code
 * on the CPU). */
#ifndef DECENT_FRAME_REFERENCE_H
#define DECENT_FRAME_REFERENCE_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "decent.h"

static inline void
pixel_rgb (const DecentFrame *f, int x, int y, double rgb[3])
{
  const uint8_t *row = f->data[0] + (size_t) y * f->stride[0];
  switch (f->format) {
    case DECENT_FRAME_RGB: rgb[0] = row[3 * x]; rgb[1] = row[3 * x + 1]; rgb[2] = row[3 * x + 2]; return;
    case DECENT_FRAME_BGR: rgb[2] = row[3 * x]; rgb[1] = row[3 * x + 1]; rgb[0] = row[3 * x + 2]; return;
    case DECENT_FRAME_RGBX: rgb[0] = row[4 * x]; rgb[1] = row[4 * x + 1]; rgb[2] = row[4 * x + 2]; return;
    case DECENT_FRAME_BGRX: rgb[2] = row[4 * x]; rgb[1] = row[4 * x + 1]; rgb[0] = row[4 * x + 2]; return;
    case DECENT_FRAME_GRAY8: rgb[0] = rgb[1] = rgb[2] = row[x]; return;
    default: {
      double Y = row[x], u, v;
      if (f->format == DECENT_FRAME_I420) {
        u = f->data[1][(size_t) (y / 2) * f->stride[1] + x / 2];
        v = f->data[2][(size_t) (y / 2) * f->stride[2] + x / 2];
      } else {
        u = f->data[1][(size_t) (y / 2) * f->stride[1] + 2 * (x / 2)];
        v = f->data[1][(size_t) (y / 2) * f->stride[1] + 2 * (x / 2) + 1];
      }
      double c = 1.164383 * (Y - 16);
      rgb[0] = fmin (fmax (c + 1.596027 * (v - 128), 0), 255);
      rgb[1] = fmin (fmax (c - 0.391762 * (u - 128) - 0.812968 * (v - 128), 0), 255);
      rgb[2] = fmin (fmax (c + 2.017232 * (u - 128), 0), 255);
    }
  }
}

/* The taps of GStreamer's LINEAR resampler along one axis (see
 * kernels/frame.cu): weights over the region's pixels, edges clamped. */
static inline void
axis_weights (int in, int out, int j, double *w)
{
  const double scale = (double) in / out;
  int taps = scale > 1 ? (int) ceil (2 * scale) : 2;
  if (taps > in)
    taps = in;
  const double slope = 2.0 / taps;
  double centre = fmin (fmax ((j + 0.5) * scale - (taps == 1 ? 0 : 0.5), 0), in - 1);
  const int first = (int) floor (centre - (taps - 1) / 2);
  double sum = 0;
  for (int l = 0; l < taps; l++)
    sum += fmax (1 - fabs (centre - (first + l)) * slope, 0);
  for (int k = 0; k < in; k++)
    w[k] = 0;
  for (int l = 0; l < taps; l++) {
    int p = first + l < 0 ? 0 : first + l >= in ? in - 1 : first + l;
    w[p] += fmax (1 - fabs (centre - (first + l)) * slope, 0) / sum;
  }
}

/* The CPU's reading of the frame path, written from the definitions. */
static inline void
reference_convert (const DecentFrame *f, uint8_t *out, int ow, int oh, int channels)
{
  double *wx = (double *) malloc (sizeof (double) * f->roi_width);
  double *wy = (double *) malloc (sizeof (double) * f->roi_height);
  for (int oy = 0; oy < oh; oy++) {
    axis_weights (f->roi_height, oh, oy, wy);
    for (int ox = 0; ox < ow; ox++) {
      axis_weights (f->roi_width, ow, ox, wx);
      double acc[3] = { 0, 0, 0 }, rgb[3];
      for (int sy = 0; sy < f->roi_height; sy++) {
        if (wy[sy] == 0)
          continue;
        for (int sx = 0; sx < f->roi_width; sx++) {
          if (wx[sx] == 0)
            continue;
          pixel_rgb (f, f->roi_x + sx, f->roi_y + sy, rgb);
          for (int c = 0; c < 3; c++)
            acc[c] += wy[sy] * wx[sx] * rgb[c];
        }
      }
      uint8_t *o = out + ((size_t) oy * ow + ox) * channels;
      if (channels == 1)
        o[0] = (uint8_t) rint (0.299 * acc[0] + 0.587 * acc[1] + 0.114 * acc[2]);
      else
        for (int c = 0; c < 3; c++)
          o[c] = (uint8_t) rint (acc[c]);
    }
  }
  free (wx);
  free (wy);
}

#endif
