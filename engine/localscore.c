/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* localscore.c — see localscore.h.  The local score exists because the
 * paper's frame score, the mean error, dilutes a small object by the whole
 * frame and tracks how much normal motion a scene has; the largest windowed
 * mean keeps an object of the window's size at full strength. */
#include "localscore.h"

#include <math.h>

#define MAX0(v) ((v) > 0 ? (v) : 0)

void
decent_local_window (int width, int height, float area_fraction, int *win_w, int *win_h)
{
  double s = area_fraction > 0 && area_fraction <= 1 ? sqrt ((double) area_fraction) : 1.0;
  int w = (int) lround (width * s), h = (int) lround (height * s);
  *win_w = w < 1 ? 1 : w > width ? width : w;
  *win_h = h < 1 ? 1 : h > height ? height : h;
}

/* summed-area table: S[y][x] = sum of map over rows < y, columns < x */
static void
summed_area (const float *map, int width, int height, double *sat)
{
  const int sw = width + 1;
  for (int x = 0; x <= width; x++)
    sat[x] = 0.0;
  for (int y = 0; y < height; y++) {
    double row = 0.0;
    sat[(size_t) (y + 1) * sw] = 0.0;
    for (int x = 0; x < width; x++) {
      row += map[(size_t) y * width + x];
      sat[(size_t) (y + 1) * sw + x + 1] = sat[(size_t) y * sw + x + 1] + row;
    }
  }
}

/* The sum of the win_w x win_h window at x, y. */
static inline double
window_sum (const double *sat, int width, int x, int y, int win_w, int win_h)
{
  const int sw = width + 1;
  return sat[(size_t) (y + win_h) * sw + x + win_w] - sat[(size_t) y * sw + x + win_w]
         - sat[(size_t) (y + win_h) * sw + x] + sat[(size_t) y * sw + x];
}

/* What decent_local_max scores every window by: the table, the window,
 * and for the ring (surround > 0) its margins and the whole map's mean. */
typedef struct {
  const double *sat;
  int width, height, win_w, win_h;
  double surround, map_mean;
  int ring_x, ring_y;
} WindowScorer;

static WindowScorer
window_scorer (const double *sat, int width, int height, int win_w, int win_h, float surround)
{
  WindowScorer s = { sat, width, height, win_w, win_h, surround > 0 ? surround : 0.0, 0.0,
    (win_w + 2) / 4, (win_h + 2) / 4 };
  if (s.surround > 0)
    s.map_mean = sat[(size_t) height * (width + 1) + width] / ((double) width * height);
  return s;
}

/* A window's score: its mean, less surround times its ring's mean over the
 * map's (a ring that the map's edges leave empty counts as the map).  One
 * copy for both callers (noinline): a compiler that fused the arithmetic
 * differently in each could break "hot exactly when flagged". */
static __attribute__ ((noinline)) double
window_score (const WindowScorer *s, int x, int y)
{
  const double area = (double) s->win_w * s->win_h;
  const double sum = window_sum (s->sat, s->width, x, y, s->win_w, s->win_h);
  if (s->surround <= 0)
    return sum / area;
  const int x0 = MAX0 (x - s->ring_x), y0 = MAX0 (y - s->ring_y);
  const int x1 = x + s->win_w + s->ring_x < s->width ? x + s->win_w + s->ring_x : s->width;
  const int y1 = y + s->win_h + s->ring_y < s->height ? y + s->win_h + s->ring_y : s->height;
  const double ring_area = (double) (x1 - x0) * (y1 - y0) - area;
  const double ring = ring_area > 0
      ? (window_sum (s->sat, s->width, x0, y0, x1 - x0, y1 - y0) - sum) / ring_area
      : s->map_mean;
  return sum / area - s->surround * (ring - s->map_mean);
}

float
decent_local_max (const float *map, int width, int height, int win_w, int win_h,
    float surround, double *scratch)
{
  summed_area (map, width, height, scratch);
  const WindowScorer s = window_scorer (scratch, width, height, win_w, win_h, surround);
  double best = -INFINITY;
  int nan = 0;
  for (int y = 0; y + win_h <= height; y++)
    for (int x = 0; x + win_w <= width; x++) {
      const double v = window_score (&s, x, y);
      if (v > best)
        best = v;
      nan |= v != v;
    }
  return nan ? NAN : (float) best;
}

int
decent_local_hot_windows (const float *map, int width, int height, int win_w, int win_h,
    float surround, double threshold, DecentWindow *out, int max, double *scratch, float *means)
{
  if (!map || !out || !scratch || !means || width < 1 || height < 1 || win_w < 1
      || win_h < 1 || win_w > width || win_h > height)
    return 0;
  const int mw = width - win_w + 1, mh = height - win_h + 1;
  summed_area (map, width, height, scratch);
  const WindowScorer s = window_scorer (scratch, width, height, win_w, win_h, surround);
  /* each window's score as decent_local_max rounds it, so that the hottest
   * window is above threshold exactly when the frame is flagged */
  for (int y = 0; y < mh; y++)
    for (int x = 0; x < mw; x++) {
      float m = (float) window_score (&s, x, y);
      means[(size_t) y * mw + x] = isfinite (m) ? m : -INFINITY;
    }
  int n = 0;
  while (n < max) {
    int bx = -1, by = -1;
    float best = -INFINITY;
    for (int y = 0; y < mh; y++)
      for (int x = 0; x < mw; x++)
        if (means[(size_t) y * mw + x] > best) {
          best = means[(size_t) y * mw + x];
          bx = x;
          by = y;
        }
    if (bx < 0 || !(best > threshold))
      break;
    out[n++] = (DecentWindow) { bx, by, win_w, win_h, best };
    /* no later window may overlap this one */
    for (int y = MAX0 (by - win_h + 1); y < by + win_h && y < mh; y++)
      for (int x = MAX0 (bx - win_w + 1); x < bx + win_w && x < mw; x++)
        means[(size_t) y * mw + x] = -INFINITY;
  }
  return n;
}

float
decent_map_mean (const float *map, size_t n)
{
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += map[i];
  return n ? (float) (sum / (double) n) : 0.0f;
}
