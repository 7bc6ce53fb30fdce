/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decentmeta.c — GstDecentAnomalyMeta: registration, init, free, and a
 * transform that copies it and, through a scaler, rescales its region as
 * GstVideoRegionOfInterestMeta does (the heatmap is at model resolution, so
 * it does not depend on the frame's size). */
#include "decentmeta.h"

#include <math.h>

#include <gst/video/video.h>

#include <string.h>

GType
gst_decent_anomaly_meta_api_get_type (void)
{
  static GType type;
  /* the tags of GstVideoRegionOfInterestMeta's kind: videoconvert and
   * videoscale keep it and call meta_transform to rescale it; filters that
   * know nothing of sizes drop it, as they drop region metas */
  static const gchar *tags[] = { GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_SIZE_STR, NULL };
  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstDecentAnomalyMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
meta_init (GstMeta *meta, gpointer params, GstBuffer *buffer)
{
  GstDecentAnomalyMeta *m = (GstDecentAnomalyMeta *) meta;
  m->score = m->threshold = m->normalized_score = 0.0;
  m->flagged = FALSE;
  m->scored = TRUE;
  m->frame_number = m->scored_frame_number = 0;
  m->heatmap_width = m->heatmap_height = m->heatmap_values = 0;
  m->heatmap = NULL;
  m->roi_x = m->roi_y = m->roi_width = m->roi_height = 0;
  m->score_mode = 0;
  return TRUE;
}

static void
meta_free (GstMeta *meta, GstBuffer *buffer)
{
  GstDecentAnomalyMeta *m = (GstDecentAnomalyMeta *) meta;
  g_free (m->heatmap);
  m->heatmap = NULL;
}

/* [at, at + len) of a side of old_side pixels onto one of new_side,
 * rounded down as GStreamer scales its region meta
 * (GstVideoRegionOfInterestMeta, which decentanomaly attaches beside this
 * one), but at least a pixel wide and inside the frame: a 1-pixel region
 * at half the size became 0 wide (helper-62).  A span of 0 stays 0. */
static void
scale_span (guint at, guint len, guint old_side, guint new_side, guint *new_at, guint *new_len)
{
  guint64 start = (guint64) at * new_side / old_side;
  guint64 n = (guint64) len * new_side / old_side;
  if (start >= new_side)
    start = new_side - 1;
  if (len > 0 && n == 0)
    n = 1;
  *new_at = (guint) start;
  *new_len = (guint) MIN (n, new_side - start);
}

static gboolean
meta_transform (GstBuffer *dest, GstMeta *meta, GstBuffer *buffer, GQuark type, gpointer data)
{
  GstDecentAnomalyMeta *src = (GstDecentAnomalyMeta *) meta;
  /* a copy, or a scaling (with the sizes before and after); nothing else */
  guint ow = 1, oh = 1, nw = 1, nh = 1;
  const gboolean scaled = GST_VIDEO_META_TRANSFORM_IS_SCALE (type);
  if (scaled) {
    const GstVideoMetaTransform *trans = data;
    ow = GST_VIDEO_INFO_WIDTH (trans->in_info);
    oh = GST_VIDEO_INFO_HEIGHT (trans->in_info);
    nw = GST_VIDEO_INFO_WIDTH (trans->out_info);
    nh = GST_VIDEO_INFO_HEIGHT (trans->out_info);
    if (!ow || !oh || !nw || !nh)
      return FALSE;
  } else if (!GST_META_TRANSFORM_IS_COPY (type)) {
    return FALSE;
  }
  /* the map as made (sizes written over since would read past it) */
  guint n_values;
  const gfloat *map = gst_decent_anomaly_meta_get_heatmap (src, &n_values);
  GstDecentAnomalyMeta *dst = gst_buffer_add_decent_anomaly_meta (dest, src->score,
      src->threshold, src->flagged, map, map ? src->heatmap_width : 0,
      map ? src->heatmap_height : 0);
  if (!dst)
    return FALSE;
  dst->scored = src->scored;
  dst->frame_number = src->frame_number;
  dst->scored_frame_number = src->scored_frame_number;
  dst->roi_x = src->roi_x;
  dst->roi_y = src->roi_y;
  dst->roi_width = src->roi_width;
  dst->roi_height = src->roi_height;
  if (scaled) {
    scale_span (src->roi_x, src->roi_width, ow, nw, &dst->roi_x, &dst->roi_width);
    scale_span (src->roi_y, src->roi_height, oh, nh, &dst->roi_y, &dst->roi_height);
  }
  dst->score_mode = src->score_mode;
  return TRUE;
}

const GstMetaInfo *
gst_decent_anomaly_meta_get_info (void)
{
  static const GstMetaInfo *info;
  if (g_once_init_enter ((GstMetaInfo **) &info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_DECENT_ANOMALY_META_API_TYPE,
        "GstDecentAnomalyMeta", sizeof (GstDecentAnomalyMeta), meta_init, meta_free,
        meta_transform);
    g_once_init_leave ((GstMetaInfo **) &info, (GstMetaInfo *) mi);
  }
  return info;
}

gdouble
gst_decent_anomaly_normalized_score (gdouble score, gdouble threshold)
{
  if (isnan (score) || isnan (threshold) || threshold >= G_MAXDOUBLE)
    return 0.0; /* (the largest double: no threshold, nothing is flagged) */
  if (threshold > 0) { /* finite even over a subnormal threshold */
    const gdouble r = score / threshold;
    return isfinite (r) ? r : r > 0 ? G_MAXDOUBLE : -G_MAXDOUBLE;
  }
  return score > threshold ? G_MAXDOUBLE : 0.0;
}

GstDecentAnomalyMeta *
gst_buffer_add_decent_anomaly_meta (GstBuffer *buffer, gdouble score, gdouble threshold,
    gboolean flagged, const gfloat *heatmap, guint heatmap_width, guint heatmap_height)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (heatmap == NULL || (heatmap_width > 0 && heatmap_height > 0
                                                && (guint64) heatmap_width * heatmap_height
                                                       <= G_MAXUINT / sizeof (gfloat)), NULL);

  GstDecentAnomalyMeta *m = (GstDecentAnomalyMeta *) gst_buffer_add_meta (buffer,
      GST_DECENT_ANOMALY_META_INFO, NULL);
  if (!m)
    return NULL;
  m->score = score;
  m->threshold = threshold;
  m->normalized_score = gst_decent_anomaly_normalized_score (score, threshold);
  m->flagged = flagged;
  if (heatmap) {
    m->heatmap = g_memdup2 (heatmap, sizeof (gfloat) * heatmap_width * heatmap_height);
    m->heatmap_width = heatmap_width;
    m->heatmap_height = heatmap_height;
    m->heatmap_values = heatmap_width * heatmap_height;
  }
  return m;
}

GstDecentAnomalyMeta *
gst_buffer_get_decent_anomaly_meta (GstBuffer *buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  /* the last added: the result of the nearest decentanomaly upstream, where
   * several score the same frames (gst_buffer_get_meta gives the first) */
  gpointer state = NULL;
  GstMeta *meta, *last = NULL;
  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_DECENT_ANOMALY_META_API_TYPE)))
    last = meta;
  return (GstDecentAnomalyMeta *) last;
}

guint
gst_buffer_get_n_decent_anomaly_meta (GstBuffer *buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), 0);
  return gst_buffer_get_n_meta (buffer, GST_DECENT_ANOMALY_META_API_TYPE);
}

GstDecentAnomalyMeta *
gst_buffer_get_nth_decent_anomaly_meta (GstBuffer *buffer, guint index)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  gpointer state = NULL;
  GstMeta *meta;
  guint i = 0;
  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_DECENT_ANOMALY_META_API_TYPE)))
    if (i++ == index)
      return (GstDecentAnomalyMeta *) meta;
  return NULL;
}

const gfloat *
gst_decent_anomaly_meta_get_heatmap (const GstDecentAnomalyMeta *meta, guint *n_values)
{
  g_return_val_if_fail (meta != NULL && n_values != NULL, NULL);
  /* the size as made: width and height may have been written over since */
  const gboolean whole = meta->heatmap
                         && (guint64) meta->heatmap_width * meta->heatmap_height
                                == meta->heatmap_values;
  *n_values = whole ? meta->heatmap_values : 0;
  return whole ? meta->heatmap : NULL;
}
