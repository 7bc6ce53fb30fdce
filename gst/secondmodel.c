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
  return m && decent_second_model_adopt (s, m, path, err);
}

/* adopt and borrow: s takes m, or only uses it under lock. */
static gboolean
take (DecentSecondModel *s, DecentModel *m, GMutex *lock, const gchar *path, DecentError *err)
{
  DecentConfig cfg;
  decent_model_get_config (m, &cfg);
  s->model = m;
  s->lock = lock;
  s->path = g_strdup (path);
  s->width = cfg.width;
  s->height = cfg.height;
  s->channels = cfg.channels;
  s->map = g_new0 (float, (gsize) cfg.width * cfg.height);
  s->frames_ready = FALSE;
  if (decent_model_get_still (m, NULL, NULL) == 1 && !(s->still = decent_still_gate_new (m, err))) {
    decent_second_model_clear (s);
    return FALSE;
  }
  return TRUE;
}

gboolean
decent_second_model_adopt (DecentSecondModel *s, DecentModel *m, const gchar *path,
    DecentError *err)
{
  if (!s || s->model || !path || !err || !m) {
    decent_model_free (m); /* taken, as said */
    g_return_val_if_reached (FALSE);
  }
  return take (s, m, NULL, path, err);
}

gboolean
decent_second_model_borrow (DecentSecondModel *s, DecentModel *m, GMutex *lock,
    const gchar *path, DecentError *err)
{
  g_return_val_if_fail (s != NULL && !s->model && m != NULL && lock != NULL && path != NULL
      && err != NULL, FALSE);
  return take (s, m, lock, path, err);
}

void
decent_second_model_clear (DecentSecondModel *s)
{
  g_return_if_fail (s != NULL);
  if (!s->lock)
    decent_model_free (s->model);
  g_free (s->path);
  g_free (s->map);
  g_free (s->scratch);
  decent_still_gate_free (s->still);
  if (s->frames_ready)
    decent_frame_path_clear (&s->frames);
  memset (s, 0, sizeof *s);
}

/* The model's calibrated threshold for mode; 0: none. */
static float
threshold_of (const DecentSecondModel *s, DecentScoreMode mode)
{
  DecentCalibration cal;
  return decent_model_get_mode_calibration (s->model, mode, &cal) == 0 ? cal.threshold : 0.0f;
}

const gchar *
decent_second_model_unusable (const DecentSecondModel *s, DecentScoreMode mode,
    gdouble scale)
{
  if (!s || !s->model)
    return "no second model is loaded";
  if (mode < 0 || mode >= DECENT_SCORE_MODES)
    return "the score mode is unknown";
  if (mode == DECENT_SCORE_NORMALIZED && !decent_model_has_normal (s->model))
    return "it holds no normal errors (train it again with decent-train)";
  if (!(threshold_of (s, mode) > 0))
    return "it has no calibrated threshold for this score mode (calibrate it with "
           "decent-train calibrate-only=true)";
  /* a threshold near 0 (a damaged or hand-made file) would make every
   * averaged score and map infinite: each frame was dropped as "weights
   * overflow" (helper-72) */
  if (scale > 0 && !(scale / threshold_of (s, mode) <= 1e30))
    return "its threshold for this score mode is too small beside model-location's for their "
           "scores to be averaged (a damaged or hand-made file?); calibrate it again with "
           "decent-train calibrate-only=true";
  return NULL;
}

void
decent_second_model_forget_path (DecentSecondModel *s)
{
  g_return_if_fail (s != NULL);
  if (s->frames_ready)
    decent_frame_path_clear (&s->frames);
  s->frames_ready = FALSE;
  decent_still_gate_reset (s->still);
}

gboolean
decent_second_model_setup (DecentSecondModel *s, const GstVideoInfo *info,
    const DecentRoi *rect, gchar **why)
{
  g_return_val_if_fail (s != NULL && s->model != NULL && info != NULL && rect != NULL, FALSE);
  decent_second_model_forget_path (s);
  s->frames_ready = decent_frame_path_setup (&s->frames, info, rect, s->width, s->height,
      s->channels, why);
  return s->frames_ready;
}

/* One row or column of n_src values at stride src_step onto n_dst at
 * dst_step: bilinear between pixel centres when it grows (or keeps its
 * size: then exactly a copy), the mean over each destination pixel's span
 * when it shrinks, so that no source pixel is skipped.  Spans are measured
 * in integers (units of 1/n_dst source pixels), so that a pixel outside a
 * span never gets a rounding's weight, and a NaN next to it stays out. */
static void
resample_line (const float *src, gint n_src, gsize src_step, float *dst, gint n_dst,
    gsize dst_step)
{
  const gint64 ns = n_src, nd = n_dst;
  for (gint64 i = 0; i < nd; i++) {
    double v;
    if (ns > nd) {
      /* destination pixel i covers [i ns, (i + 1) ns), source pixel j [j nd, (j + 1) nd) */
      const gint64 a = i * ns, b = (i + 1) * ns;
      double sum = 0;
      for (gint64 j = a / nd; j < ns && j * nd < b; j++) {
        const gint64 overlap = MIN (b, (j + 1) * nd) - MAX (a, j * nd);
        sum += (double) overlap * src[(gsize) j * src_step];
      }
      v = sum / (double) ns;
    } else {
      /* centre of the destination pixel in source pixels, clamped to the centres */
      const double c = CLAMP ((i + 0.5) * ns / nd - 0.5, 0.0, (double) (ns - 1));
      const gint64 j0 = (gint64) c, j1 = MIN (j0 + 1, ns - 1);
      const double w = c - j0;
      v = src[(gsize) j0 * src_step];
      if (w > 0)
        v = v * (1 - w) + w * src[(gsize) j1 * src_step];
    }
    dst[(gsize) i * dst_step] = (float) v;
  }
}

void
decent_map_average_into (float *dst, gint dw, gint dh, const float *src, gint sw, gint sh,
    float weight, float *scratch)
{
  g_return_if_fail (dst != NULL && src != NULL && scratch != NULL && dw > 0 && dh > 0
      && sw > 0 && sh > 0);
  /* rows first (sh x dw into scratch), then columns, each added into dst */
  for (gint y = 0; y < sh; y++)
    resample_line (src + (gsize) y * sw, sw, 1, scratch + (gsize) y * dw, dw, 1);
  float *col = scratch + (gsize) sh * dw;
  for (gint x = 0; x < dw; x++) {
    resample_line (scratch + x, sh, (gsize) dw, col, dh, 1);
    for (gint y = 0; y < dh; y++) {
      float *d = dst + (gsize) y * dw + x;
      *d = 0.5f * (*d + weight * col[y]);
    }
  }
}

gsize
decent_map_average_scratch (gint dw, gint dh, gint sh)
{
  return (gsize) sh * dw + (gsize) dh;
}

gboolean
decent_second_model_blend (DecentSecondModel *s, GstVideoFrame *frame, DecentScoreMode mode,
    gdouble scale, float *map, gint width, gint height, float *score_out, float *still,
    DecentError *err)
{
  g_return_val_if_fail (err != NULL, FALSE);
  const gchar *no = decent_second_model_unusable (s, mode, scale);
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
  const gsize need = decent_map_average_scratch (width, height, s->height);
  if (need > s->scratch_len) {
    g_free (s->scratch);
    s->scratch = g_new (float, need);
    s->scratch_len = need;
  }
  float score;
  DecentScoredFrame how;
  /* (s->lock: a model other sharers score with too, held for the model's
   * part only) */
  if (!decent_frame_path_score_shared (&s->frames, s->model, s->lock, frame, &score, s->map,
          &how, err))
    return FALSE;
  if (mode != DECENT_SCORE_MEAN) {
    if (s->lock)
      g_mutex_lock (s->lock);
    const int rc = decent_model_score_map (s->model, mode, s->map, &score, err);
    if (s->lock)
      g_mutex_unlock (s->lock);
    if (rc != 0)
      return FALSE;
  }
  if (still) {
    *still = -1.0f;
    /* a map with a NaN would stay in the gate's running mean for good */
    if (s->still && mode == DECENT_SCORE_LOCAL && isfinite (score)) {
      const guint8 *pixels = decent_frame_path_pixels (&s->frames, frame, &how);
      float r;
      const int got = pixels ? decent_still_gate_push (s->still, pixels, s->map, &r, err) : -1;
      if (got < 0) {
        if (!pixels)
          g_snprintf (err->message, sizeof err->message, "could not map a frame");
        return FALSE;
      }
      if (got == 1)
        *still = r / decent_still_gate_threshold (s->still);
      if (!isfinite (*still)) /* a hostile file's denormal threshold */
        *still = -1.0f;
    }
  }
  const float weight = (float) (scale / threshold_of (s, mode));
  decent_map_average_into (map, width, height, s->map, s->width, s->height, weight,
      s->scratch);
  *score_out = weight * score;
  return TRUE;
}
