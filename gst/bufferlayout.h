/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bufferlayout.h — whether a video buffer holds the frame its caps, or its
 * GstVideoMeta, say it holds, before anything maps or reads it. */
#ifndef DECENT_BUFFERLAYOUT_H
#define DECENT_BUFFERLAYOUT_H

#include <gst/video/video.h>

/* TRUE when every row of every plane lies inside the buffer: by the caps'
 * layout (info) without a GstVideoMeta, by the meta's offsets and strides
 * with one (which must name info's format, planes and at least its size).
 * FALSE with the reason in *why (caller frees): a short buffer, or a meta
 * describing memory the buffer does not have, which GstVideoFilter and
 * gst_video_frame_map trust (a read or write past the buffer: helper-69). */
gboolean decent_buffer_layout_fits (GstBuffer *buffer, const GstVideoInfo *info, gchar **why);

#endif
