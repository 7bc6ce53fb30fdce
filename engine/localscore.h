/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* localscore.h — frame scores from a per-pixel error map (backend-neutral,
 * pure functions; used by model.c). */
#ifndef DECENT_LOCALSCORE_H
#define DECENT_LOCALSCORE_H

#include <stddef.h>

/* The window of the local score: about area_fraction of the map, with the
 * map's aspect ratio, at least 1x1 and at most the map. */
void decent_local_window (int width, int height, float area_fraction, int *win_w,
                          int *win_h);

/* The largest mean of map over all win_w x win_h windows that lie inside
 * the width x height map.  scratch holds (width + 1) * (height + 1)
 * doubles.  Non-finite map values make the result non-finite. */
float decent_local_max (const float *map, int width, int height, int win_w, int win_h,
                        double *scratch);

/* A window of a map: its place and its mean. */
typedef struct {
  int x, y, width, height;
  float mean;
} DecentWindow;

/* The hot places of a map: the win_w x win_h window with the largest mean
 * if that mean exceeds threshold, then the largest one that overlaps none
 * taken, and so on, at most max (greedy; ties go to the first in row-major
 * order).  Returns how many were written to out.  The first one's mean is
 * decent_local_max's result, so a frame is flagged exactly when it has a
 * hot window.  scratch holds (width + 1) * (height + 1) doubles, means
 * width * height floats.  Windows whose mean is not finite are never hot
 * (a NaN in the map makes every window below and right of it NaN, through
 * the summed-area table; decentanomaly never looks for places in a map
 * whose score is not finite). */
int decent_local_hot_windows (const float *map, int width, int height, int win_w, int win_h,
                              double threshold, DecentWindow *out, int max, double *scratch,
                              float *means);

/* Mean of a map. */
float decent_map_mean (const float *map, size_t n);

#endif
