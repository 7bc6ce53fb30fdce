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

/* The largest score of map over all win_w x win_h windows that lie inside
 * the width x height map: each window's mean, less surround times how much
 * hotter than the whole map its ring is (the window grown by a quarter of
 * its size on each side, within the map, less the window), so that error
 * spread wider than the window (a passer-by near the camera) counts less
 * than a thing of the window's size, while a change of the whole frame
 * keeps its level.  surround 0: the window's mean.  scratch holds
 * (width + 1) * (height + 1) doubles.  Non-finite map values make the
 * result non-finite. */
float decent_local_max (const float *map, int width, int height, int win_w, int win_h,
                        float surround, double *scratch);

/* A window of a map: its place and its score (its mean, less the surround's
 * share of its ring's excess over the map, decent_local_max). */
typedef struct {
  int x, y, width, height;
  float mean;
} DecentWindow;

/* The hot places of a map: the win_w x win_h window with the largest score
 * (decent_local_max's, with surround) if it exceeds threshold, then the
 * largest one that overlaps none taken, and so on, at most max (greedy;
 * ties go to the first in row-major order).  Returns how many were written
 * to out, each with its score as mean.  The first one's score is
 * decent_local_max's result, so a frame is flagged exactly when it has a
 * hot window.  scratch holds (width + 1) * (height + 1) doubles, means
 * width * height floats.  Windows whose mean is not finite are never hot
 * (a NaN in the map makes every window below and right of it NaN, through
 * the summed-area table; decentanomaly never looks for places in a map
 * whose score is not finite). */
int decent_local_hot_windows (const float *map, int width, int height, int win_w, int win_h,
                              float surround, double threshold, DecentWindow *out, int max,
                              double *scratch, float *means);

/* Mean of a map. */
float decent_map_mean (const float *map, size_t n);

#endif
