/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* events.c — the begin/end state machine (see events.h). */
#include "events.h"

#include <string.h>

void
decent_events_init (DecentEventTracker *t, guint min_frames, guint gap)
{
  memset (t, 0, sizeof *t);
  t->min_frames = MAX (min_frames, 1);
  t->gap = MAX (gap, 1);
  t->start_time = t->run_start_time = GST_CLOCK_TIME_NONE;
}

DecentEventChange
decent_events_push (DecentEventTracker *t, gboolean flagged, gdouble score, guint64 frame,
    GstClockTime time)
{
  if (flagged) {
    t->clear_run = 0;
    if (t->active) {
      t->peak = MAX (t->peak, score);
      t->last_flagged_frame = frame;
      t->last_flagged_time = time;
      return DECENT_EVENT_NONE;
    }
    if (t->flagged_run++ == 0) {
      t->run_start_frame = frame;
      t->run_start_time = time;
      t->run_peak = score;
    } else {
      t->run_peak = MAX (t->run_peak, score);
    }
    if (t->flagged_run >= t->min_frames) {
      t->active = TRUE;
      t->start_frame = t->run_start_frame;
      t->start_time = t->run_start_time;
      t->peak = t->run_peak;
      t->last_flagged_frame = frame;
      t->last_flagged_time = time;
      t->flagged_run = 0;
      return DECENT_EVENT_BEGAN;
    }
    return DECENT_EVENT_NONE;
  }
  t->flagged_run = 0;
  if (t->active && ++t->clear_run >= t->gap) {
    t->active = FALSE;
    t->clear_run = 0;
    return DECENT_EVENT_ENDED;
  }
  return DECENT_EVENT_NONE;
}

gboolean
decent_events_flush (DecentEventTracker *t)
{
  gboolean was = t->active;
  t->active = FALSE;
  t->flagged_run = t->clear_run = 0;
  return was;
}

guint64
decent_events_frames (const DecentEventTracker *t)
{
  return t->last_flagged_frame - t->start_frame + 1;
}
