/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* events.h — anomaly events with hysteresis: an event begins after
 * min_frames consecutive flagged scored frames and ends after gap
 * consecutive unflagged ones, so that one noisy frame opens nothing. */
#ifndef DECENT_EVENTS_H
#define DECENT_EVENTS_H

#include <glib.h>
#include <gst/gst.h>

#include "localscore.h"

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
/* A frame that carries a flagged result without being scored
 * (inference-interval): the open event's last flagged frame, if one is
 * open; it neither opens nor closes one. */
void decent_events_carry (DecentEventTracker *t, guint64 frame, GstClockTime time);
/* Closes an open event (at EOS); TRUE if one was open. */
gboolean decent_events_flush (DecentEventTracker *t);
/* Frames from an event's first to its last flagged frame, inclusive. */
guint64 decent_events_frames (const DecentEventTracker *t);

/* ---- events per region ------------------------------------------------ *
 * Each hot place of the local score map (decent_local_hot_windows) is its
 * own event, so that an object that appears while another place's event is
 * open still begins one.  An open event takes every window near its region
 * (within one window's size; its region becomes their union) and ends after
 * gap frames without one; windows near no open event grow candidates (the
 * windows of one new place make one), and a candidate seen in min_frames
 * consecutive scored frames opens an event.  Coordinates are the map's. */

#define DECENT_MAX_REGIONS 16     /* open events and candidates, each */

typedef struct {
  gint x, y, width, height;
} DecentRegionRect;

typedef struct {
  guint64 id;                    /* 1, 2, ... in order of beginning */
  DecentRegionRect rect;          /* the windows last seen there */
  guint clear_run;               /* scored frames without a window since */
  guint run;                     /* candidates: consecutive frames seen */
  guint64 start_frame, last_flagged_frame;
  GstClockTime start_time, last_flagged_time;
  gdouble peak;                  /* the largest window score seen there */
} DecentRegionEvent;

typedef struct {
  DecentEventChange change;      /* BEGAN or ENDED */
  DecentRegionEvent event;        /* as it was then */
} DecentRegionChange;

typedef struct {
  guint min_frames, gap;
  DecentRegionEvent open[DECENT_MAX_REGIONS], cands[DECENT_MAX_REGIONS];
  guint n_open, n_cands;
  guint64 next_id;
} DecentRegionTracker;

void decent_regions_init (DecentRegionTracker *t, guint min_frames, guint gap);
/* Feeds one scored frame's hot windows (n of them, at most
 * DECENT_MAX_REGIONS are used).  Writes what began or ended to changes
 * (room for 2 * DECENT_MAX_REGIONS) and returns how many: ends first, then
 * begins.  When DECENT_MAX_REGIONS events are open a new place waits. */
guint decent_regions_push (DecentRegionTracker *t, const DecentWindow *windows, guint n,
    guint64 frame, GstClockTime time, DecentRegionChange *changes);
/* A frame that carries the last scored frame's result (inference-interval):
 * the open events hot in that frame take it as their last hot frame. */
void decent_regions_carry (DecentRegionTracker *t, guint64 frame, GstClockTime time);
/* Closes every open event (EOS, flush, stop): writes them as ENDED to
 * changes (room for DECENT_MAX_REGIONS) and returns how many. */
guint decent_regions_flush (DecentRegionTracker *t, DecentRegionChange *changes);

#endif
