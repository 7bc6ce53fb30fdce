/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pacemeter.h — the time between frames, measured from their timestamps.
 * The still gate keeps its lag and memory in seconds, and caps do not
 * always say the pace: many RTSP cameras give no framerate (0/1), and some
 * deliver fewer frames than theirs says. */
#ifndef DECENT_PACE_METER_H
#define DECENT_PACE_METER_H

#include <gst/gst.h>

/* intervals whose median is the pace: a few late or early frames do not move it */
#define DECENT_PACE_INTERVALS 9

/* no camera keeps a pace faster than 1000 frames a second: timestamps that
 * say so are not trusted (a still gate taking one frame in thousands would
 * never fill) */
#define DECENT_PACE_MIN_SECONDS 1e-3

typedef struct {
  GstClockTime last;  /* the last frame's timestamp; NONE: none yet */
  guint n;            /* intervals in, up to DECENT_PACE_INTERVALS */
  GstClockTime intervals[DECENT_PACE_INTERVALS];
} DecentPaceMeter;

/* Empties the meter. */
void decent_pace_meter_reset (DecentPaceMeter *m);

/* Adds the timestamp of the next frame.  A timestamp equal to the last one
 * (a repeated one, as some cameras send) is left out; a frame without one,
 * or one earlier than the frame before (a seek, a new stream), starts the
 * meter again from this frame.  TRUE when DECENT_PACE_INTERVALS intervals
 * are in, with their median in *seconds: once, later frames change nothing
 * until a reset. */
gboolean decent_pace_meter_add (DecentPaceMeter *m, GstClockTime pts, gdouble *seconds);

/* The median of n > 0 intervals, in seconds; sorts them. */
gdouble decent_pace_median (GstClockTime *intervals, guint n);

#endif
