/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roi.h — the `roi` property: "x,y,width,height" in frame pixels, or empty
 * for the whole frame. */
#ifndef DECENT_ROI_H
#define DECENT_ROI_H

#include <glib.h>

typedef struct {
  gboolean set;
  gint x, y, width, height;
} DecentRoi;

/* Parses text (NULL or "" = unset).  Returns FALSE with a reason in *why
 * (caller frees) when it is not four non-negative integers with width and
 * height >= 1. */
gboolean decent_roi_parse (const gchar *text, DecentRoi *roi, gchar **why);

/* The ROI clipped to a frame; the whole frame when unset.  FALSE when the
 * ROI lies entirely outside the frame. */
gboolean decent_roi_clip (const DecentRoi *roi, gint frame_width, gint frame_height,
    DecentRoi *out);

#endif
