/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstdecenttrain.h — the decent-train sink. */
#ifndef GST_DECENT_TRAIN_H
#define GST_DECENT_TRAIN_H

#include <gst/base/gstbasesink.h>
#include <gst/video/video.h>

#include "decent.h"
#include "framepath.h"
#include "gstdecentenums.h"
#include "pacemeter.h"

G_BEGIN_DECLS

#define GST_TYPE_DECENT_TRAIN (gst_decent_train_get_type ())
G_DECLARE_FINAL_TYPE (GstDecentTrain, gst_decent_train, GST, DECENT_TRAIN, GstBaseSink)

struct _GstDecentTrain {
  GstBaseSink parent;

  /* properties, under the object lock */
  gchar *model_location;
  gint width, height, channels, latent_side, base_channels, max_channels;
  guint frame_stride, max_frames, epochs, batch_size, min_steps, patience, holdout_blocks;
  gdouble learning_rate, lambda, holdout, quantile, local_area, sigmas, augment_zoom;
  gdouble local_surround;
  guint still_lag;        /* 0: no still gate */
  gdouble still_tolerance, still_memory;
  DecentLoss loss;
  guint64 seed, max_memory;
  DecentDevice device;
  gboolean checkpoint, resume, calibrate_only;
  gboolean companion;     /* train a companion model too (one latent cell) */
  gint companion_width, companion_height;
  gboolean settings_fixed; /* from READY -> PAUSED to PAUSED -> READY: one run's
                            * settings, read at the start and at the end of
                            * the collection, must not change in between */
  gboolean geometry_set;  /* width, height or channels set (calibrate-only says
                           * it does not use them) */

  /* streaming thread; reset at READY -> PAUSED */
  GstVideoInfo info;
  gboolean have_caps;     /* info comes from negotiated video caps */
  GstCaps *refused_caps;  /* the last caps refused with an error: a source that sends
                           * them again with each buffer (appsrc) is told once */
  gboolean still_unfit;   /* the still gate's settings cannot fit this model (said at start) */
  gboolean companion_still_unfit; /* nor its companion (said at start) */
  gdouble frame_spacing;  /* seconds between collected frames (frame-stride over the
                           * caps' framerate; 0: no framerate); -1: it changed while
                           * collecting (the still gate's pace is then unknown) */
  GArray *intervals;      /* GstClockTime between consecutive collected frames'
                           * timestamps: their median is the pace (pacemeter.h) */
  GstClockTime last_pts;  /* the last collected frame's timestamp */
  GArray *stream_starts;  /* guint: the collected frames a new stream began at
                           * (concat, a playlist), in order, none at 0 */
  DecentFramePath path;
  gboolean path_ready;
  gint geometry[3];       /* model geometry, fixed when collecting starts */
  gsize frame_bytes;      /* geometry[0] * geometry[1] * geometry[2] */
  gdouble holdout_used;   /* holdout and holdout-blocks when collecting started */
  gboolean checkpoint_found; /* resume=true found a checkpoint at start */
  gboolean finished_found;   /* resume=true found a finished model at start */
  guint blocks_used;
  gboolean calibrating;   /* calibrate-only when collecting started */
  guint8 *frames;         /* collected frames, packed at model resolution */
  gsize frames_capacity;  /* bytes allocated at frames, at most max-memory */
  /* the same frames at the companion's geometry, converted from the video
   * as decentanomaly converts them for it (companion_bytes 0: none) */
  gint companion_geometry[2];
  gsize companion_bytes;
  guint8 *companion_frames;
  gsize companion_capacity;
  DecentFramePath companion_path;
  gboolean companion_path_ready;
  guint n_frames;
  guint64 seen;           /* buffers rendered */
  gboolean store_full;    /* max-memory reached (warned once) */
  gboolean store_oom;     /* ... or the memory itself ran out */
  guint bad_buffers;      /* buffers too small for their caps, skipped */
  guint gap_buffers;      /* GAP buffers (a source's stand-ins), not collected */
  gboolean failed;        /* an error was posted while collecting */
  gboolean trained;       /* this collection's end of stream ran a training */

  /* set by a state change to READY or a flush: training stops after the
   * current epoch */
  GMutex lock;
  gboolean cancel;
};

GST_ELEMENT_REGISTER_DECLARE (decent_train);

G_END_DECLS

#endif
