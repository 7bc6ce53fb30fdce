/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secondmodel.h — a second model that scores every frame beside
 * decentanomaly's own (second-model-location, or the companion that
 * model-location's file carries).  Its map of the same region,
 * relative to its own calibrated threshold, is averaged into the first
 * model's, so that a frame is flagged when the two together find it
 * anomalous.  Two geometries see different things: a model with one latent
 * cell finds a person near the camera ordinary, a grid of latent cells finds
 * a small object (docs/results.md, "Real footage"). */
#ifndef DECENT_SECOND_MODEL_H
#define DECENT_SECOND_MODEL_H

#include <gst/video/video.h>

#include "decent.h"
#include "framepath.h"
#include "roi.h"

typedef struct {
  DecentModel *model;              /* NULL: none loaded */
  gchar *path;
  DecentFramePath frames;          /* the frame's region at this model's geometry */
  gboolean frames_ready;
  gint width, height, channels;
  gfloat *map;                     /* width * height: its last map */
  gfloat *scratch;                 /* decent_map_average_into's */
  gsize scratch_len;
  DecentStillGate *still;          /* its still gate, NULL when it has none */
  GMutex *lock;                    /* a model borrowed from others (not s's to free):
                                    * held while it scores; NULL: s's own */
} DecentSecondModel;

/* Loads path for device into an empty s.  FALSE with the reason in err. */
gboolean decent_second_model_load (DecentSecondModel *s, const gchar *path,
    DecentDevice device, DecentError *err);
/* The same for a model already built (a model file's companion), taken
 * by s, freed on failure; path names it in messages. */
gboolean decent_second_model_adopt (DecentSecondModel *s, DecentModel *model,
    const gchar *path, DecentError *err);
/* The same for a model others score with too (a shared engine's
 * companion), not taken: lock is held while s scores with it, and the
 * model must outlive s's use of it (s never touches it once cleared). */
gboolean decent_second_model_borrow (DecentSecondModel *s, DecentModel *model, GMutex *lock,
    const gchar *path, DecentError *err);
/* Frees what s holds; s is empty afterwards (clearing an empty one is a no-op). */
void decent_second_model_clear (DecentSecondModel *s);

/* NULL when s can score in mode beside another model whose threshold in
 * that mode is scale (0: not known yet); else why not. */
const gchar *decent_second_model_unusable (const DecentSecondModel *s, DecentScoreMode mode,
    gdouble scale);

/* (Re)builds the way frames of info, region rect, reach the model.  FALSE
 * with the reason in *why (caller frees). */
gboolean decent_second_model_setup (DecentSecondModel *s, const GstVideoInfo *info,
    const DecentRoi *rect, gchar **why);
/* Drops that way (new caps or region): built again before the next use;
 * the still gate starts again too. */
void decent_second_model_forget_path (DecentSecondModel *s);

/* Scores the frame in mode and averages its map into map, the first
 * model's map of that mode (width x height, over the same region), in the
 * first model's units: map = (map + scale / its threshold * its map
 * resampled) / 2, where scale is the first model's threshold; *score gets
 * its score in the same units (scale / its threshold * its score).  still
 * (may be NULL: its gate is not fed) gets its still score relative to its
 * still threshold (1 = threshold), or -1 while its gate fills, when it has
 * none or when the score is not finite (local mode only).  FALSE with the
 * reason in err. */
gboolean decent_second_model_blend (DecentSecondModel *s, GstVideoFrame *frame,
    DecentScoreMode mode, gdouble scale, float *map, gint width, gint height, float *score,
    float *still, DecentError *err);

/* dst (dw x dh) = (dst + weight * src resampled) / 2.  src (sw x sh) is
 * resampled along each axis on its own: bilinearly with pixel centres
 * aligned where it grows (a map of the same size is taken as it is), by the
 * mean over each destination pixel's span where it shrinks (no source
 * pixel is skipped).  scratch holds decent_map_average_scratch floats (a
 * map of dw x sh, and one column). */
void decent_map_average_into (float *dst, gint dw, gint dh, const float *src, gint sw,
    gint sh, float weight, float *scratch);
gsize decent_map_average_scratch (gint dw, gint dh, gint sh);

#endif
