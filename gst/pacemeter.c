/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pacemeter.c — see pacemeter.h. */
#include "pacemeter.h"

void
decent_pace_meter_reset (DecentPaceMeter *m)
{
  g_return_if_fail (m != NULL);
  m->last = GST_CLOCK_TIME_NONE;
  m->n = 0;
}

static gdouble
median_seconds (const DecentPaceMeter *m)
{
  GstClockTime v[DECENT_PACE_INTERVALS];
  for (guint i = 0; i < m->n; i++) { /* insertion sort: nine values */
    guint j = i;
    for (; j > 0 && v[j - 1] > m->intervals[i]; j--)
      v[j] = v[j - 1];
    v[j] = m->intervals[i];
  }
  return (gdouble) v[m->n / 2] / GST_SECOND;
}

gboolean
decent_pace_meter_add (DecentPaceMeter *m, GstClockTime pts, gdouble *seconds)
{
  g_return_val_if_fail (m != NULL && seconds != NULL, FALSE);
  if (m->n == DECENT_PACE_INTERVALS)
    return FALSE; /* measured already */
  if (!GST_CLOCK_TIME_IS_VALID (pts) || !GST_CLOCK_TIME_IS_VALID (m->last) || pts <= m->last) {
    m->n = 0;
    m->last = GST_CLOCK_TIME_IS_VALID (pts) ? pts : GST_CLOCK_TIME_NONE;
    return FALSE;
  }
  m->intervals[m->n++] = pts - m->last;
  m->last = pts;
  if (m->n < DECENT_PACE_INTERVALS)
    return FALSE;
  *seconds = median_seconds (m);
  return TRUE;
}
