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

/* Mean of a map. */
float decent_map_mean (const float *map, size_t n);

#endif
