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

void
decent_events_carry (DecentEventTracker *t, guint64 frame, GstClockTime time)
{
  if (t->active) {
    t->last_flagged_frame = frame;
    t->last_flagged_time = time;
  }
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

/* ---- events per region -------------------------------------------------- */

void
decent_regions_init (DecentRegionTracker *t, guint min_frames, guint gap)
{
  memset (t, 0, sizeof *t);
  t->min_frames = MAX (min_frames, 1);
  t->gap = MAX (gap, 1);
}

/* Whether window w meets rect r grown by one window's size on every side. */
static gboolean
near (const DecentWindow *w, const DecentRegionRect *r)
{
  return w->x < r->x + r->width + w->width && r->x - w->width < w->x + w->width
      && w->y < r->y + r->height + w->height && r->y - w->height < w->y + w->height;
}

static DecentRegionRect
window_rect (const DecentWindow *w)
{
  return (DecentRegionRect) { w->x, w->y, w->width, w->height };
}

static void
grow (DecentRegionRect *r, const DecentWindow *w)
{
  const gint x1 = MAX (r->x + r->width, w->x + w->width);
  const gint y1 = MAX (r->y + r->height, w->y + w->height);
  r->x = MIN (r->x, w->x);
  r->y = MIN (r->y, w->y);
  r->width = x1 - r->x;
  r->height = y1 - r->y;
}

/* Takes window w into place p, seen at frame: its region starts again from
 * the windows of this frame (first: the first of them). */
static void
take (DecentRegionEvent *p, const DecentWindow *w, gboolean first, guint64 frame,
    GstClockTime time)
{
  if (first)
    p->rect = window_rect (w);
  else
    grow (&p->rect, w);
  p->peak = MAX (p->peak, w->mean);
  p->last_flagged_frame = frame;
  p->last_flagged_time = time;
}

void
decent_regions_carry (DecentRegionTracker *t, guint64 frame, GstClockTime time)
{
  for (guint j = 0; j < t->n_open; j++)
    if (t->open[j].clear_run == 0) { /* hot in the result carried */
      t->open[j].last_flagged_frame = frame;
      t->open[j].last_flagged_time = time;
    }
}

guint
decent_regions_push (DecentRegionTracker *t, const DecentWindow *windows, guint n,
    guint64 frame, GstClockTime time, DecentRegionChange *changes)
{
  gboolean taken[DECENT_MAX_REGIONS] = { FALSE };
  const DecentWindow *free_windows[DECENT_MAX_REGIONS];
  guint n_free = 0, n_changes = 0;
  n = MIN (n, DECENT_MAX_REGIONS);

  /* open events take the windows near them (the first such event), judged
   * by where each was in the last frame: matched first, then moved */
  guint owner[DECENT_MAX_REGIONS];
  for (guint i = 0; i < n; i++) {
    guint j = 0;
    while (j < t->n_open && !near (&windows[i], &t->open[j].rect))
      j++;
    owner[i] = j;
    if (j == t->n_open)
      free_windows[n_free++] = &windows[i];
  }
  for (guint i = 0; i < n; i++) {
    const guint j = owner[i];
    if (j == t->n_open)
      continue;
    take (&t->open[j], &windows[i], !taken[j], frame, time);
    t->open[j].clear_run = 0;
    taken[j] = TRUE;
  }
  /* those without any for gap frames end */
  guint kept = 0;
  for (guint j = 0; j < t->n_open; j++) {
    if (!taken[j] && ++t->open[j].clear_run >= t->gap)
      changes[n_changes++] = (DecentRegionChange) { DECENT_EVENT_ENDED, t->open[j] };
    else
      t->open[kept++] = t->open[j];
  }
  t->n_open = kept;

  /* the other windows grow candidates: a candidate of the last frame near
   * them, else one new candidate per new place */
  DecentRegionEvent seen[DECENT_MAX_REGIONS];
  gint cand_at[DECENT_MAX_REGIONS];   /* a candidate's slot in seen, or -1 */
  guint n_seen = 0;
  for (guint j = 0; j < t->n_cands; j++)
    cand_at[j] = -1;
  DecentRegionEvent fresh[DECENT_MAX_REGIONS];
  guint n_fresh = 0;
  for (guint i = 0; i < n_free; i++) {
    const DecentWindow *w = free_windows[i];
    guint j = 0;
    while (j < t->n_cands && !near (w, &t->cands[j].rect))
      j++;
    if (j < t->n_cands) {
      if (cand_at[j] < 0) {
        cand_at[j] = (gint) n_seen;
        seen[n_seen] = t->cands[j];
        seen[n_seen].run++;
        take (&seen[n_seen++], w, TRUE, frame, time);
      } else {
        take (&seen[cand_at[j]], w, FALSE, frame, time);
      }
      continue;
    }
    guint k = 0;
    while (k < n_fresh && !near (w, &fresh[k].rect))
      k++;
    const gboolean new_place = k == n_fresh;
    if (new_place) {
      memset (&fresh[k], 0, sizeof fresh[k]);
      fresh[k].run = 1;
      fresh[k].start_frame = frame;
      fresh[k].start_time = time;
      fresh[k].peak = w->mean;
      n_fresh++;
    }
    take (&fresh[k], w, new_place, frame, time);
  }
  for (guint k = 0; k < n_fresh; k++)
    seen[n_seen++] = fresh[k];

  /* a candidate seen min_frames frames in a row begins an event; one not
   * seen in this frame is dropped */
  t->n_cands = 0;
  for (guint i = 0; i < n_seen; i++) {
    if (seen[i].run >= t->min_frames && t->n_open < DECENT_MAX_REGIONS) {
      DecentRegionEvent *e = &t->open[t->n_open++];
      *e = seen[i];
      e->id = ++t->next_id;
      e->clear_run = 0;
      changes[n_changes++] = (DecentRegionChange) { DECENT_EVENT_BEGAN, *e };
    } else {
      t->cands[t->n_cands++] = seen[i];
    }
  }
  return n_changes;
}

guint
decent_regions_flush (DecentRegionTracker *t, DecentRegionChange *changes)
{
  for (guint j = 0; j < t->n_open; j++)
    changes[j] = (DecentRegionChange) { DECENT_EVENT_ENDED, t->open[j] };
  const guint n = t->n_open;
  t->n_open = t->n_cands = 0;
  return n;
}
