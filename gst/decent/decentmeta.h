/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decentmeta.h — the anomaly metadata that decentanomaly attaches to every
 * buffer.  Link with gst-decent-meta-1.0 (pkg-config) to read it:
 *
 *   GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (buffer);
 *   if (m && m->flagged) ...
 *
 * Its tags are those of GstVideoRegionOfInterestMeta (video, size):
 * videoconvert and videoscale keep it and rescale its region; filters that
 * know nothing of sizes drop it.  On flagged frames decentanomaly also
 * attaches a GstVideoRegionOfInterestMeta of type "anomaly" for the scored
 * region, with a "decent-anomaly" parameter (score, threshold,
 * normalized-score), for ROI-aware elements. */
#ifndef GST_DECENT_META_H
#define GST_DECENT_META_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_DECENT_ANOMALY_META_API_TYPE (gst_decent_anomaly_meta_api_get_type ())
#define GST_DECENT_ANOMALY_META_INFO (gst_decent_anomaly_meta_get_info ())

/**
 * GstDecentAnomalyMeta:
 *
 * A frame's anomaly result (the fields are described beside them).
 */
typedef struct {
  GstMeta meta;

  gdouble score;            /* the frame's score in score_mode (docs/method.md) */
  gdouble threshold;        /* score above which a frame is flagged (G_MAXDOUBLE: none is) */
  gdouble normalized_score; /* score / threshold: above 1 is anomalous */
  gboolean flagged;
  gboolean scored;          /* FALSE when the result was carried from an earlier frame */
  guint64 frame_number;     /* frames seen by the element before this one */
  guint64 scored_frame_number; /* the frame whose result this is */

  /* optional per-pixel map of score_mode at model resolution (attach-heatmap=true), NULL
   * otherwise; bindings read it with gst_decent_anomaly_meta_get_heatmap(), which knows
   * its length, and cannot set the pointer (the meta frees it) */
  guint heatmap_width, heatmap_height;
  /*< private >*/
  gfloat *heatmap;
  /*< public >*/
  /* the region of the frame that was scored, in frame pixels (rescaled with
   * the frame by videoscale) */
  guint roi_x, roi_y, roi_width, roi_height;
  /* how the score was computed: 0 mean (the paper's), 1 local, 2 normalized */
  gint score_mode;

  /*< private >*/
  /* the values heatmap holds: a binding that writes heatmap_width or
   * heatmap_height cannot make the getter read past them */
  guint heatmap_values;
} GstDecentAnomalyMeta;

GType gst_decent_anomaly_meta_api_get_type (void);
const GstMetaInfo *gst_decent_anomaly_meta_get_info (void);

/**
 * gst_decent_anomaly_normalized_score:
 * @score: a frame's score
 * @threshold: the threshold it was compared with
 *
 * Returns: @score / @threshold, so that above 1 is flagged, at most
 * G_MAXDOUBLE (never infinite, even over a tiny threshold); for a threshold
 * of 0 or below (every higher score flagged) G_MAXDOUBLE above it and 0 at
 * or below it, never a 0 that would read as "far below the threshold" for
 * a flagged frame; 0 for a NaN and for a threshold of G_MAXDOUBLE, which
 * decentanomaly gives where nothing is flagged (a model without a
 * calibrated threshold).
 */
gdouble gst_decent_anomaly_normalized_score (gdouble score, gdouble threshold);

/**
 * gst_buffer_add_decent_anomaly_meta: (skip)
 *
 * Adds a meta; heatmap (may be NULL) is copied.  For elements, in C.
 */
GstDecentAnomalyMeta *gst_buffer_add_decent_anomaly_meta (GstBuffer *buffer, gdouble score,
    gdouble threshold, gboolean flagged, const gfloat *heatmap, guint heatmap_width,
    guint heatmap_height);

/**
 * gst_buffer_get_decent_anomaly_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the buffer's #GstDecentAnomalyMeta, or %NULL.
 * Where several decentanomaly elements scored the buffer, the last one's (the
 * nearest upstream); gst_buffer_iterate_meta_filtered() with
 * GST_DECENT_ANOMALY_META_API_TYPE gives them all, in the order they were added
 * (from bindings: gst_buffer_get_nth_decent_anomaly_meta()).
 */
GstDecentAnomalyMeta *gst_buffer_get_decent_anomaly_meta (GstBuffer *buffer);

/**
 * gst_buffer_get_n_decent_anomaly_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: how many #GstDecentAnomalyMeta the buffer holds: one per
 * decentanomaly element that scored it (several with one element per `roi`).
 */
guint gst_buffer_get_n_decent_anomaly_meta (GstBuffer *buffer);

/**
 * gst_buffer_get_nth_decent_anomaly_meta:
 * @buffer: a #GstBuffer
 * @index: 0 for the first added (the farthest upstream element's)
 *
 * Every element's meta where several scored the buffer, for languages that
 * cannot call gst_buffer_iterate_meta_filtered() (Python:
 * `for i in range(GstDecentMeta.buffer_get_n_decent_anomaly_meta(buf))`).
 *
 * Returns: (transfer none) (nullable): the @index-th #GstDecentAnomalyMeta in
 * the order they were added, or %NULL when @index is not below the count.
 */
GstDecentAnomalyMeta *gst_buffer_get_nth_decent_anomaly_meta (GstBuffer *buffer, guint index);

/**
 * gst_decent_anomaly_meta_get_heatmap:
 * @meta: a #GstDecentAnomalyMeta
 * @n_values: (out): heatmap_width * heatmap_height, 0 without a heatmap
 *
 * For bindings (Python): the heatmap as an array, row by row.
 *
 * Returns: (transfer none) (array length=n_values) (nullable): the values.
 */
const gfloat *gst_decent_anomaly_meta_get_heatmap (const GstDecentAnomalyMeta *meta,
    guint *n_values);

G_END_DECLS

#endif
