/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* events.h — anomaly events with hysteresis: an event begins after
 * min_frames consecutive flagged scored frames and ends after gap
 * consecutive unflagged ones, so that one noisy frame opens nothing. */
#ifndef DECENT_EVENTS_H
#define DECENT_EVENTS_H

#include <glib.h>
#include <gst/gst.h>

typedef enum {
  DECENT_EVENT_NONE,
  DECENT_EVENT_BEGAN,
  DECENT_EVENT_ENDED,
} DecentEventChange;

typedef struct {
  guint min_frames, gap;
  gboolean active;
  guint flagged_run, clear_run;
  /* the run of flagged frames that may open an event */
  GstClockTime run_start_time;
  guint64 run_start_frame;
  gdouble run_peak;
  /* the open (or just ended) event */
  GstClockTime start_time, last_flagged_time;
  guint64 start_frame, last_flagged_frame;
  gdouble peak;
} DecentEventTracker;

void decent_events_init (DecentEventTracker *t, guint min_frames, guint gap);
/* Feeds one scored frame.  frame is its number, time its running time. */
DecentEventChange decent_events_push (DecentEventTracker *t, gboolean flagged, gdouble score,
    guint64 frame, GstClockTime time);
/* Closes an open event (at EOS); TRUE if one was open. */
gboolean decent_events_flush (DecentEventTracker *t);
/* Frames from an event's first to its last flagged frame, inclusive. */
guint64 decent_events_frames (const DecentEventTracker *t);

#endif
