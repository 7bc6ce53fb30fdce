/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pacemeter.c — see pacemeter.h. */
#include "pacemeter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
decent_pace_meter_reset (DecentPaceMeter *m)
{
  g_return_if_fail (m != NULL);
  m->last = m->window_start = m->pending_since = GST_CLOCK_TIME_NONE;
  m->n = 0;
  m->pending = 0.0;
}

static int
compare_times (const void *a, const void *b)
{
  const GstClockTime x = *(const GstClockTime *) a, y = *(const GstClockTime *) b;
  return x < y ? -1 : x > y;
}

gdouble
decent_pace_median (GstClockTime *intervals, guint n)
{
  g_return_val_if_fail (intervals != NULL && n > 0, 0.0);
  qsort (intervals, n, sizeof *intervals, compare_times);
  return (gdouble) intervals[n / 2] / GST_SECOND;
}

gboolean
decent_pace_meter_add (DecentPaceMeter *m, GstClockTime pts, gdouble *seconds)
{
  g_return_val_if_fail (m != NULL && seconds != NULL, FALSE);
  if (!GST_CLOCK_TIME_IS_VALID (pts)) {
    m->last = GST_CLOCK_TIME_NONE; /* no interval across it; the window keeps its own */
    return FALSE;
  }
  if (pts == m->last)
    return FALSE; /* a repeated timestamp: no interval */
  if (!GST_CLOCK_TIME_IS_VALID (m->last)) {
    m->last = pts;
    if (m->n == 0)
      m->window_start = pts;
    return FALSE;
  }
  if (pts < m->last) {
    decent_pace_meter_reset (m); /* windows of another time line would not compare */
    m->last = m->window_start = pts;
    return FALSE;
  }
  m->intervals[m->n++] = pts - m->last;
  m->last = pts;
  if (m->n < DECENT_PACE_INTERVALS)
    return FALSE;
  m->n = 0;
  *seconds = decent_pace_median (m->intervals, DECENT_PACE_INTERVALS);
  return TRUE;
}

static gboolean
paces_agree (gdouble a, gdouble b)
{
  return b > 0 && fabs (a - b) <= DECENT_PACE_TOLERANCE * b;
}

DecentPaceVerdict
decent_pace_meter_follow (DecentPaceMeter *m, GstClockTime pts, gdouble in_use,
    gboolean trusted, gdouble max_seconds, gdouble *seconds)
{
  g_return_val_if_fail (m != NULL && seconds != NULL, DECENT_PACE_WAIT);
  const GstClockTime began = m->window_start;
  if (!decent_pace_meter_add (m, pts, seconds))
    return DECENT_PACE_WAIT;
  m->window_start = pts;
  const gdouble w = *seconds;
  if (!(w >= DECENT_PACE_MIN_SECONDS && w <= max_seconds)) {
    m->pending = 0.0;
    return DECENT_PACE_IMPLAUSIBLE;
  }
  if (paces_agree (w, in_use)) {
    m->pending = 0.0;
    return DECENT_PACE_HOLDS;
  }
  if (trusted) {
    /* (a time line that went back, unseen across a frame without a
     * timestamp, is timed anew, not from the old line: helper-72) */
    if (!paces_agree (w, m->pending) || pts < m->pending_since) {
      m->pending = w; /* the first window of another pace */
      m->pending_since = began;
      return DECENT_PACE_WAIT;
    }
    if ((gdouble) (pts - m->pending_since) < DECENT_PACE_CONFIRM_SECONDS * GST_SECOND)
      return DECENT_PACE_WAIT;
  }
  m->pending = 0.0;
  return DECENT_PACE_CHANGED;
}
