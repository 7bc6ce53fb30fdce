/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pacemeter.c — see pacemeter.h. */
#include "pacemeter.h"

#include <stdlib.h>
#include <string.h>

void
decent_pace_meter_reset (DecentPaceMeter *m)
{
  g_return_if_fail (m != NULL);
  m->last = GST_CLOCK_TIME_NONE;
  m->n = 0;
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
  if (m->n == DECENT_PACE_INTERVALS)
    return FALSE; /* measured already */
  if (GST_CLOCK_TIME_IS_VALID (pts) && pts == m->last)
    return FALSE; /* a repeated timestamp: no interval */
  if (!GST_CLOCK_TIME_IS_VALID (pts) || !GST_CLOCK_TIME_IS_VALID (m->last) || pts < m->last) {
    m->n = 0;
    m->last = pts;
    return FALSE;
  }
  m->intervals[m->n++] = pts - m->last;
  m->last = pts;
  if (m->n < DECENT_PACE_INTERVALS)
    return FALSE;
  GstClockTime sorted[DECENT_PACE_INTERVALS];
  memcpy (sorted, m->intervals, sizeof sorted);
  *seconds = decent_pace_median (sorted, DECENT_PACE_INTERVALS);
  return TRUE;
}
