/* gstdecentanomaly.h — the decentanomaly video filter. */
#ifndef GST_DECENT_ANOMALY_H
#define GST_DECENT_ANOMALY_H

#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

#include "decent.h"
#include "events.h"
#include "framepath.h"
#include "gstdecentenums.h"
#include "roi.h"

G_BEGIN_DECLS

#define GST_TYPE_DECENT_ANOMALY (gst_decent_anomaly_get_type ())
G_DECLARE_FINAL_TYPE (GstDecentAnomaly, gst_decent_anomaly, GST, DECENT_ANOMALY, GstVideoFilter)

struct _GstDecentAnomaly {
  GstVideoFilter parent;

  /* properties, under the object lock */
  gchar *model_location;
  DecentDevice device;
  gdouble threshold_prop; /* < 0: the model's calibrated threshold */
  GstDecentMode mode;
  gdouble overlay_alpha;
  gdouble heatmap_max;    /* 0: twice the threshold */
  gboolean flagged_only;
  guint inference_interval;
  DecentRoi roi;
  gchar *roi_text;
  gboolean post_messages;
  GstDecentMessages messages;
  guint event_min_frames, event_gap;
  gboolean force_keyunit;
  gboolean attach_heatmap;
  gboolean roi_changed;

  /* streaming thread only */
  DecentModel *model;
  gchar *model_path;      /* where model was loaded from */
  gint model_w, model_h, model_c;
  float model_threshold;
  DecentFramePath path;
  gboolean path_ready;
  float *map;             /* per-pixel error of the last scored frame */
  guint64 frame_count;
  gboolean have_result;
  gdouble last_score;
  gboolean last_flagged;
  guint64 last_scored_frame;
  DecentEventTracker events;
  guint keyunit_count;

  /* background model swaps, under swap_lock */
  GMutex swap_lock;
  DecentModel *pending_model;
  gchar *pending_path;
  guint load_generation;
  gboolean started;
};

GST_ELEMENT_REGISTER_DECLARE (decentanomaly);

G_END_DECLS

#endif
