/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstdecentenums.c — GEnum types for device, mode, messages, loss and score mode. */
#include "gstdecentenums.h"

#define DEFINE_ENUM(func, name, ...)                                          \
  GType func (void)                                                           \
  {                                                                           \
    static GType type;                                                        \
    static const GEnumValue values[] = { __VA_ARGS__, { 0, NULL, NULL } };    \
    if (g_once_init_enter (&type)) {                                          \
      GType t = g_enum_register_static (name, values);                        \
      g_once_init_leave (&type, t);                                           \
    }                                                                         \
    return type;                                                              \
  }

DEFINE_ENUM (gst_decent_device_get_type, "GstDecentDevice",
    { DECENT_DEVICE_AUTO, "CUDA when a GPU is usable, else the CPU", "auto" },
    { DECENT_DEVICE_CPU, "CPU (oneDNN)", "cpu" },
    { DECENT_DEVICE_CUDA, "NVIDIA GPU (CUDA + cuDNN)", "cuda" })

DEFINE_ENUM (gst_decent_mode_get_type, "GstDecentMode",
    { GST_DECENT_MODE_PASSTHROUGH, "Frames pass untouched", "passthrough" },
    { GST_DECENT_MODE_OVERLAY, "Colour-mapped heatmap blended over the frame", "overlay" },
    { GST_DECENT_MODE_HEATMAP, "The heatmap replaces the scored region", "heatmap" })

DEFINE_ENUM (gst_decent_messages_get_type, "GstDecentMessages",
    { GST_DECENT_MESSAGES_NONE, "No messages", "none" },
    { GST_DECENT_MESSAGES_EVENTS, "Only when an anomaly event begins and ends", "events" },
    { GST_DECENT_MESSAGES_ALL, "Every scored frame, and event begin and end", "all" })

DEFINE_ENUM (gst_decent_loss_get_type, "GstDecentLoss",
    { DECENT_LOSS_DECENTRALIZATION, "Decentralization around the origin, eq. (13)", "decentralization" },
    { DECENT_LOSS_CENTRE, "Decentralization around the running centre, eq. (9)", "centre" })

DEFINE_ENUM (gst_decent_score_mode_get_type, "GstDecentScoreMode",
    { DECENT_SCORE_MEAN, "The paper's score: the mean squared error of the frame", "mean" },
    { DECENT_SCORE_LOCAL, "The largest window mean (local-area) of the saturated RMS error, "
      "less the model's local-surround times how much hotter its ring is than the frame: "
      "small objects count in full", "local" },
    { DECENT_SCORE_NORMALIZED, "The largest window mean of the error standardised per pixel by "
      "the normal errors stored in the model", "normalized" })
