/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secondmodel.c — see secondmodel.h. */
#include "secondmodel.h"

#include <math.h>
#include <string.h>

gboolean
decent_second_model_load (DecentSecondModel *s, const gchar *path, DecentDevice device,
    DecentError *err)
{
  g_return_val_if_fail (s != NULL && s->model == NULL && path != NULL && err != NULL, FALSE);
  DecentModel *m = decent_model_load (path, device, err);
  if (!m)
    return FALSE;
  DecentConfig cfg;
  decent_model_get_config (m, &cfg);
  s->model = m;
  s->path = g_strdup (path);
  s->width = cfg.width;
  s->height = cfg.height;
  s->channels = cfg.channels;
  for (int k = 0; k < DECENT_SCORE_MODES; k++) {
    DecentCalibration cal;
    decent_model_get_mode_calibration (m, (DecentScoreMode) k, &cal);
    s->threshold[k] = cal.threshold;
  }
  s->map = g_new0 (float, (gsize) cfg.width * cfg.height);
  s->frames_ready = FALSE;
  return TRUE;
}

void
decent_second_model_clear (DecentSecondModel *s)
{
  g_return_if_fail (s != NULL);
  decent_model_free (s->model);
  g_free (s->path);
  g_free (s->map);
  if (s->frames_ready)
    decent_frame_path_clear (&s->frames);
  memset (s, 0, sizeof *s);
}

const gchar *
decent_second_model_unusable (const DecentSecondModel *s, DecentScoreMode mode)
{
  if (!s || !s->model)
    return "no second model is loaded";
  if (mode < 0 || mode >= DECENT_SCORE_MODES)
    return "the score mode is unknown";
  if (mode == DECENT_SCORE_NORMALIZED && !decent_model_has_normal (s->model))
    return "it holds no normal errors (train it again with decent-train)";
  if (!(s->threshold[mode] > 0))
    return "it has no calibrated threshold for this score mode (calibrate it with "
           "decent-train calibrate-only=true)";
  return NULL;
}

gboolean
decent_second_model_setup (DecentSecondModel *s, const GstVideoInfo *info,
    const DecentRoi *rect, gchar **why)
{
  g_return_val_if_fail (s != NULL && s->model != NULL && info != NULL && rect != NULL, FALSE);
  if (s->frames_ready)
    decent_frame_path_clear (&s->frames);
  s->frames_ready = decent_frame_path_setup (&s->frames, info, rect, s->width, s->height,
      s->channels, why);
  return s->frames_ready;
}

void
decent_map_average_into (float *dst, gint dw, gint dh, const float *src, gint sw, gint sh,
    float weight)
{
  g_return_if_fail (dst != NULL && src != NULL && dw > 0 && dh > 0 && sw > 0 && sh > 0);
  const double fx = (double) sw / dw, fy = (double) sh / dh;
  for (gint y = 0; y < dh; y++) {
    /* centre of the destination pixel in source pixels, clamped to the centres */
    const double sy = CLAMP ((y + 0.5) * fy - 0.5, 0.0, (double) (sh - 1));
    const gint y0 = (gint) sy, y1 = MIN (y0 + 1, sh - 1);
    const float wy = (float) (sy - y0);
    for (gint x = 0; x < dw; x++) {
      const double sx = CLAMP ((x + 0.5) * fx - 0.5, 0.0, (double) (sw - 1));
      const gint x0 = (gint) sx, x1 = MIN (x0 + 1, sw - 1);
      const float wx = (float) (sx - x0);
      const float *r0 = src + (gsize) y0 * sw, *r1 = src + (gsize) y1 * sw;
      /* weights of 0 leave the neighbour out, so that a NaN there stays out */
      float top = wx > 0 ? r0[x0] * (1 - wx) + r0[x1] * wx : r0[x0];
      float bottom = wx > 0 ? r1[x0] * (1 - wx) + r1[x1] * wx : r1[x0];
      const float v = wy > 0 ? top * (1 - wy) + bottom * wy : top;
      float *d = dst + (gsize) y * dw + x;
      *d = 0.5f * (*d + weight * v);
    }
  }
}

gboolean
decent_second_model_blend (DecentSecondModel *s, GstVideoFrame *frame, DecentScoreMode mode,
    gdouble scale, float *map, gint width, gint height, float *score_out, DecentError *err)
{
  g_return_val_if_fail (err != NULL, FALSE);
  const gchar *no = decent_second_model_unusable (s, mode);
  if (no || !frame || !map || !score_out || width < 1 || height < 1 || !(scale > 0)
      || !isfinite (scale)) {
    g_snprintf (err->message, sizeof err->message, "the second model cannot be used: %s",
        no ? no : "no frame, map or scale");
    return FALSE;
  }
  if (!s->frames_ready) {
    g_snprintf (err->message, sizeof err->message, "the second model has no frame path");
    return FALSE;
  }
  float score;
  DecentScoredFrame how;
  if (!decent_frame_path_score (&s->frames, s->model, frame, &score, s->map, &how, err))
    return FALSE;
  if (mode != DECENT_SCORE_MEAN
      && decent_model_score_map (s->model, mode, s->map, &score, err) != 0)
    return FALSE;
  const float weight = (float) (scale / s->threshold[mode]);
  decent_map_average_into (map, width, height, s->map, s->width, s->height, weight);
  *score_out = weight * score;
  return TRUE;
}
