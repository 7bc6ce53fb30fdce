/* gstdecenttrain.h — the decent-train sink. */
#ifndef GST_DECENT_TRAIN_H
#define GST_DECENT_TRAIN_H

#include <gst/base/gstbasesink.h>
#include <gst/video/video.h>

#include "decent.h"
#include "framepath.h"
#include "gstdecentenums.h"

G_BEGIN_DECLS

#define GST_TYPE_DECENT_TRAIN (gst_decent_train_get_type ())
G_DECLARE_FINAL_TYPE (GstDecentTrain, gst_decent_train, GST, DECENT_TRAIN, GstBaseSink)

struct _GstDecentTrain {
  GstBaseSink parent;

  /* properties, under the object lock */
  gchar *model_location;
  gint width, height, channels;
  guint frame_stride, max_frames, epochs, batch_size;
  gdouble learning_rate, lambda, holdout, quantile;
  DecentLoss loss;
  guint64 seed;
  DecentDevice device;
  gboolean checkpoint, resume;

  /* streaming thread */
  GstVideoInfo info;
  DecentFramePath path;
  gboolean path_ready;
  gint geometry[3];       /* model geometry fixed at the first frame */
  GByteArray *frames;     /* collected frames, packed at model resolution */
  guint n_frames;
  guint64 seen;

  /* training thread */
  GMutex lock;
  GCond cond;
  gboolean cancel;
};

GST_ELEMENT_REGISTER_DECLARE (decent_train);

G_END_DECLS

#endif
