/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstdecentenums.h — enum property types shared by the elements. */
#ifndef GST_DECENT_ENUMS_H
#define GST_DECENT_ENUMS_H

#include <gst/gst.h>

#include "decent.h"

/* the raw formats both elements take, converting them to the model's */
#define GST_DECENT_VIDEO_FORMATS \
  "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, GRAY8, I420, YV12, NV12, NV21, " \
  "Y42B, Y444, YUY2, UYVY }"

#define GST_TYPE_DECENT_DEVICE (gst_decent_device_get_type ())
GType gst_decent_device_get_type (void);

typedef enum {
  GST_DECENT_MODE_PASSTHROUGH,
  GST_DECENT_MODE_OVERLAY,
  GST_DECENT_MODE_HEATMAP,
} GstDecentMode;
#define GST_TYPE_DECENT_MODE (gst_decent_mode_get_type ())
GType gst_decent_mode_get_type (void);

typedef enum {
  GST_DECENT_MESSAGES_NONE,
  GST_DECENT_MESSAGES_EVENTS,
  GST_DECENT_MESSAGES_ALL,
} GstDecentMessages;
#define GST_TYPE_DECENT_MESSAGES (gst_decent_messages_get_type ())
GType gst_decent_messages_get_type (void);

#define GST_TYPE_DECENT_LOSS (gst_decent_loss_get_type ())
GType gst_decent_loss_get_type (void);

#define GST_TYPE_DECENT_SCORE_MODE (gst_decent_score_mode_get_type ())
GType gst_decent_score_mode_get_type (void);

#endif
