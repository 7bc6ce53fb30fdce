/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pacemeter.h — the time between frames, measured from their timestamps.
 * The still gate keeps its lag and memory in seconds, and caps do not
 * always say the pace: many RTSP cameras give no framerate (0/1), some
 * deliver fewer frames than theirs says, and many halve their rate at
 * night to expose longer. */
#ifndef DECENT_PACE_METER_H
#define DECENT_PACE_METER_H

#include <gst/gst.h>

/* intervals whose median is the pace: a few late or early frames do not move it */
#define DECENT_PACE_INTERVALS 9

/* no camera keeps a pace faster than 1000 frames a second: timestamps that
 * say so are not trusted (a still gate taking one frame in thousands would
 * never fill) */
#define DECENT_PACE_MIN_SECONDS 1e-3

/* a window's pace within this fraction of the pace in use agrees with it */
#define DECENT_PACE_TOLERANCE 0.25

/* a measured pace gives way to another only after windows have agreed on
 * the other this long: each new pace restarts the still gates, and a
 * stream whose pace wavers (frames dropped for QoS, a congested network)
 * would otherwise restart them faster than they fill */
#define DECENT_PACE_CONFIRM_SECONDS 10.0

typedef struct {
  GstClockTime last;          /* the last frame's timestamp; NONE: none yet */
  GstClockTime window_start;  /* the timestamp the window being filled began at */
  guint n;                    /* intervals in the window, up to DECENT_PACE_INTERVALS */
  GstClockTime intervals[DECENT_PACE_INTERVALS];
  gdouble pending;            /* windows' pace that differs from the pace in use; 0: none */
  GstClockTime pending_since; /* the timestamp the first of those windows began at */
} DecentPaceMeter;

/* Empties the meter. */
void decent_pace_meter_reset (DecentPaceMeter *m);

/* Adds the timestamp of the next frame.  A timestamp equal to the last one
 * (a repeated one, as some cameras send) is left out; a frame without one
 * gives no interval on either side (streams that stamp only some frames
 * are still measured); one earlier than the frame before (a seek, a new
 * stream) starts the meter again from this frame.  TRUE each time DECENT_PACE_INTERVALS more
 * intervals are in (windows one after another), with their median in
 * *seconds. */
gboolean decent_pace_meter_add (DecentPaceMeter *m, GstClockTime pts, gdouble *seconds);

typedef enum {
  DECENT_PACE_WAIT,        /* no window ended, or an other pace is not yet confirmed */
  DECENT_PACE_HOLDS,       /* the window agrees with the pace in use */
  DECENT_PACE_IMPLAUSIBLE, /* the window's median (*seconds) is no camera's pace */
  DECENT_PACE_CHANGED      /* the pace is now *seconds */
} DecentPaceVerdict;

/* Adds a frame's timestamp (decent_pace_meter_add) and, when a window ends,
 * judges the pace in use (seconds between frames; 0: none) by it.  A pace
 * only claimed (trusted FALSE: the caps') gives way to the first window
 * that differs by more than DECENT_PACE_TOLERANCE; a measured or confirmed
 * one (trusted) only once windows have agreed on another for
 * DECENT_PACE_CONFIRM_SECONDS of timestamps.  Medians outside
 * DECENT_PACE_MIN_SECONDS..max_seconds are implausible and confirm
 * nothing. */
DecentPaceVerdict decent_pace_meter_follow (DecentPaceMeter *m, GstClockTime pts,
    gdouble in_use, gboolean trusted, gdouble max_seconds, gdouble *seconds);

/* The median of n > 0 intervals, in seconds; sorts them. */
gdouble decent_pace_median (GstClockTime *intervals, guint n);

#endif
