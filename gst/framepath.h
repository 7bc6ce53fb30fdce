/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* framepath.h — the pixels' way in and out of the model: any raw frame
 * (region) converted and scaled to the model's geometry, and the heatmap
 * colour-mapped, scaled back and blended over the frame in its own format. */
#ifndef DECENT_FRAMEPATH_H
#define DECENT_FRAMEPATH_H

#include <gst/video/video.h>

#include "decent.h"
#include "roi.h"

typedef struct {
  GstVideoInfo frame_info, model_info, heat_info, alpha_info, alpha_frame_info;
  DecentRoi rect;                  /* region of the frame that is scored */
  DecentRoi drawn;                 /* where the heatmap is drawn: rect widened to whole
                                    * chroma samples (odd x or y of 4:2:0 and 4:2:2) */
  GstVideoConverter *to_model, *heat_to_frame, *alpha_to_frame;
  GstBuffer *model_buffer;         /* packed HWC model input */
  GstBuffer *heat_buffer;          /* RGBA heatmap at model size */
  GstBuffer *scratch;              /* frame-format copy the heatmap is drawn into */
  GstBuffer *alpha_buffer;         /* GRAY8 opacity per model pixel */
  GstBuffer *alpha_frame;          /* the same at frame size, 0 outside the region */
  int engine_format;               /* the format's DecentFrameFormat, or -1 */
} DecentFramePath;

/* (Re)builds the path for a frame format, a region and a model geometry.
 * Returns FALSE with the true reason in *why (caller frees): interlaced
 * video, a roi outside the frame, a format GStreamer cannot convert; the
 * path is then empty and holds nothing. */
gboolean decent_frame_path_setup (DecentFramePath *p, const GstVideoInfo *frame_info,
    const DecentRoi *rect, gint model_width, gint model_height, gint model_channels,
    gchar **why);
void decent_frame_path_clear (DecentFramePath *p);

/* Converts the frame's region into model pixels; returns a pointer to
 * width * height * channels packed bytes valid until the next call, or NULL
 * for a frame of another format or size than the path was built for. */
const guint8 *decent_frame_path_to_model (DecentFramePath *p, GstVideoFrame *frame);

/* Draws the error map (model resolution) colour-mapped over the frame's
 * region: alpha 1 replaces the region by the map.  Values at or above
 * max_error (and +inf) get the hottest colour, NaN and values at or below 0
 * the coolest.  proportional: each pixel's opacity is alpha times its
 * value / max_error (at most 1), so that normal pixels stay as they were.
 * FALSE, drawing nothing, for a frame of another format or size than the
 * path was built for. */
gboolean decent_frame_path_draw_heatmap (DecentFramePath *p, GstVideoFrame *frame,
    const gfloat *map, gdouble max_error, gdouble alpha, gboolean proportional);

/* The heatmap's colour map: 256 RGB entries, coolest first. */
const guint8 (*decent_frame_path_colour_map (void))[3];

/* The engine's DecentFrameFormat for a GStreamer format (by the names in
 * engine/frame_layout.h), or -1 when the engine's frame path has none. */
int decent_frame_path_engine_format (GstVideoFormat format);
/* The engine's description of a mapped frame's region, for models that score
 * frames on their own device (decent_model_has_frame_path); FALSE for formats
 * the engine's frame path does not read. */
gboolean decent_frame_path_engine_frame (const DecentFramePath *p, GstVideoFrame *frame,
    DecentFrame *out);

/* How a frame was scored, for drawing on it afterwards. */
typedef struct {
  gboolean on_device;   /* by the model's backend from the 8-bit frame */
  DecentFrame device;   /* then: the frame as the engine saw it */
  const guint8 *pixels; /* else: the model-size pixels it was scored from, valid until
                         * the path converts again */
} DecentScoredFrame;

/* The one way a frame is scored: on the model's device when its backend
 * reads frames itself and knows the format (one upload; conversion and
 * scaling there), else converted here (GstVideoConverter, LINEAR) and scored
 * from memory.  map: the squared-error map at model size.  FALSE with the
 * reason in err. */
gboolean decent_frame_path_score (DecentFramePath *p, DecentModel *model, GstVideoFrame *frame,
    float *score, float *map, DecentScoredFrame *how, DecentError *err);
/* The same for a model other threads score with too: lock is held for the
 * model's part only, not for the frame's conversion (which is p's). */
gboolean decent_frame_path_score_shared (DecentFramePath *p, DecentModel *model, GMutex *lock,
    GstVideoFrame *frame, float *score, float *map, DecentScoredFrame *how, DecentError *err);

/* The frame's model-size pixels (as decent_frame_path_to_model gives
 * them): those it was scored from, or converted now when it was scored on
 * the device.  NULL when the frame does not fit the path. */
const guint8 *decent_frame_path_pixels (DecentFramePath *p, GstVideoFrame *frame,
    const DecentScoredFrame *how);

/* The one way a heatmap is drawn: on the device that scored the frame for
 * a plain heatmap, else here (and always here for a proportional overlay).
 * FALSE when it could not be drawn; *gpu_failure (may be NULL) gets the
 * device's reason when it failed and the CPU drew instead. */
gboolean decent_frame_path_draw (DecentFramePath *p, DecentModel *model, GstVideoFrame *frame,
    const DecentScoredFrame *how, const gfloat *map, gdouble max_error, gdouble alpha,
    gboolean proportional, DecentError *gpu_failure);

#endif
