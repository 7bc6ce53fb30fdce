/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* localscore.c — see localscore.h.  The local score exists because the
 * paper's frame score, the mean error, dilutes a small object by the whole
 * frame and tracks how much normal motion a scene has; the largest windowed
 * mean keeps an object of the window's size at full strength. */
#include "localscore.h"

#include <math.h>

void
decent_local_window (int width, int height, float area_fraction, int *win_w, int *win_h)
{
  double s = area_fraction > 0 && area_fraction <= 1 ? sqrt ((double) area_fraction) : 1.0;
  int w = (int) lround (width * s), h = (int) lround (height * s);
  *win_w = w < 1 ? 1 : w > width ? width : w;
  *win_h = h < 1 ? 1 : h > height ? height : h;
}

float
decent_local_max (const float *map, int width, int height, int win_w, int win_h,
    double *scratch)
{
  /* summed-area table: S[y][x] = sum of map over rows < y, columns < x */
  const int sw = width + 1;
  for (int x = 0; x <= width; x++)
    scratch[x] = 0.0;
  for (int y = 0; y < height; y++) {
    double row = 0.0;
    scratch[(size_t) (y + 1) * sw] = 0.0;
    for (int x = 0; x < width; x++) {
      row += map[(size_t) y * width + x];
      scratch[(size_t) (y + 1) * sw + x + 1] = scratch[(size_t) y * sw + x + 1] + row;
    }
  }
  double best = -INFINITY;
  int nan = 0;
  for (int y = 0; y + win_h <= height; y++)
    for (int x = 0; x + win_w <= width; x++) {
      double sum = scratch[(size_t) (y + win_h) * sw + x + win_w]
                   - scratch[(size_t) y * sw + x + win_w]
                   - scratch[(size_t) (y + win_h) * sw + x] + scratch[(size_t) y * sw + x];
      if (sum > best)
        best = sum;
      nan |= sum != sum;
    }
  return nan ? NAN : (float) (best / ((double) win_w * win_h));
}

float
decent_map_mean (const float *map, size_t n)
{
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += map[i];
  return n ? (float) (sum / (double) n) : 0.0f;
}
