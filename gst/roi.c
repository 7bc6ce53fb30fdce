/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roi.c — parsing and clipping of the region of interest. */
#include "roi.h"

#include <errno.h>
#include <stdlib.h>

gboolean
decent_roi_parse (const gchar *text, DecentRoi *roi, gchar **why)
{
  DecentRoi r = { FALSE, 0, 0, 0, 0 };
  if (text == NULL || *text == '\0') {
    *roi = r;
    return TRUE;
  }
  gint64 v[4];
  const gchar *p = text;
  for (int i = 0; i < 4; i++) {
    while (*p == ' ')
      p++;
    if (*p < '0' || *p > '9') {
      *why = g_strdup_printf ("roi \"%s\": expected four non-negative integers "
          "\"x,y,width,height\"", text);
      return FALSE;
    }
    gchar *end;
    errno = 0;
    v[i] = g_ascii_strtoll (p, &end, 10);
    if (errno || v[i] > 65535) {
      static const gchar *const names[4] = { "x", "y", "width", "height" };
      *why = g_strdup_printf ("roi \"%s\": its %s, %.*s, is out of range 0..65535", text,
          names[i], (int) MIN (end - p, 32), p);
      return FALSE;
    }
    p = end;
    while (*p == ' ')
      p++;
    if (i < 3) {
      if (*p != ',') {
        *why = g_strdup_printf ("roi \"%s\": expected \"x,y,width,height\"", text);
        return FALSE;
      }
      p++;
    }
  }
  if (*p != '\0') {
    *why = g_strdup_printf ("roi \"%s\": unexpected text after the fourth number", text);
    return FALSE;
  }
  if (v[2] < 1 || v[3] < 1) {
    *why = g_strdup_printf ("roi \"%s\": width and height must be at least 1", text);
    return FALSE;
  }
  r.set = TRUE;
  r.x = (gint) v[0];
  r.y = (gint) v[1];
  r.width = (gint) v[2];
  r.height = (gint) v[3];
  *roi = r;
  return TRUE;
}

gboolean
decent_roi_clip (const DecentRoi *roi, gint frame_width, gint frame_height, DecentRoi *out)
{
  DecentRoi r = { TRUE, 0, 0, frame_width, frame_height };
  if (roi && roi->set) {
    if (roi->x >= frame_width || roi->y >= frame_height)
      return FALSE;
    r.x = roi->x;
    r.y = roi->y;
    r.width = MIN (roi->width, frame_width - roi->x);
    r.height = MIN (roi->height, frame_height - roi->y);
  }
  *out = r;
  return r.width > 0 && r.height > 0;
}
