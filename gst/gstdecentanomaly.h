/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstdecentanomaly.h — the decentanomaly video filter. */
#ifndef GST_DECENT_ANOMALY_H
#define GST_DECENT_ANOMALY_H

#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

#include "decent.h"
#include "eventpairs.h"
#include "events.h"
#include "framepath.h"
#include "gstdecentenums.h"
#include "pacemeter.h"
#include "roi.h"
#include "secondmodel.h"
#include "sharedengine.h"

G_BEGIN_DECLS

#define GST_TYPE_DECENT_ANOMALY (gst_decent_anomaly_get_type ())
G_DECLARE_FINAL_TYPE (GstDecentAnomaly, gst_decent_anomaly, GST, DECENT_ANOMALY, GstVideoFilter)

/* Locks.  Every field below sits under a heading that names what protects it:
 *  - object lock: the properties and what set_property records for the
 *    stream (roi_changed, roi_error); set from any thread, copied once per
 *    frame by snapshot_settings;
 *  - streaming thread only: everything the frames use.  "Streaming thread"
 *    means holding the sink pad's stream lock: transform_frame_ip, set_info
 *    and sink_event (EOS and flush-stop are serialized: they take the stream
 *    lock, even when sent from another thread), plus start() and stop(),
 *    which run while no streaming thread does.  No lock is taken for them;
 *  - swap_lock: the background loader's hand-over;
 *  - the shared engine's own locks (sharedengine.c), taken inside swap_lock
 *    by the loader's hot reload, never the other way round;
 *  - the object lock may be taken inside swap_lock and the engine's locks
 *    (start_scoring, the engine's rename callback), never the other way round.
 * init and finalize need no lock: no other thread holds a reference. */
struct _GstDecentAnomaly {
  GstVideoFilter parent;

  /* ---- object lock: properties ---- */
  gchar *model_location;
  DecentDevice device;
  gdouble threshold_prop; /* < 0: the model's calibrated threshold */
  GstDecentMode mode;
  gdouble overlay_alpha;
  gdouble heatmap_max;    /* 0: twice the threshold */
  gboolean flagged_only;
  guint inference_interval;
  guint threads;            /* CPU threads for scoring, 0: one per core */
  DecentRoi roi;
  gchar *roi_text;
  gboolean post_messages;
  GstDecentMessages messages;
  guint event_min_frames, event_gap;
  gboolean region_events;
  gboolean force_keyunit;
  gboolean attach_heatmap;
  DecentScoreMode score_mode;
  gchar *model_instance_id; /* NULL or empty: a model of its own */
  gchar *second_location; /* NULL or empty: none; read at start */
  guint batch_size;
  guint64 batch_timeout_us;
  gboolean still_gate;    /* use the models' still gates (score-mode=local) */
  /* ---- object lock: set_property's notes for the stream ---- */
  gboolean roi_changed;   /* a new roi; cleared by the frame that takes it */
  gchar *roi_error;       /* why the last roi set was refused, until a valid one */
  gboolean location_renamed; /* a shared reload rewrote model_location: notify pending */
  guint renames;             /* shared reloads that renamed it, counted (start_shared) */
  guint location_serial;  /* counts model-location sets: start() loads for the one it read */
  guint second_serial;    /* counts second-model-location sets: start() says one it missed */
  guint64 shared_wait_us; /* how long a frame may wait for other sharers' (the engine's
                           * batch-timeout) from start to stop; 0 unshared: the latency
                           * it adds */

  /* ---- streaming thread only (see above): no lock ---- */
  DecentEventPairs pairs; /* each event's end where its begin went */
  DecentModel *model;     /* owned, or shared_model's when shared */
  DecentSharer *shared;   /* its place at model-instance-id's engine, from start to stop;
                           * the loader reads it too: set before started, cleared
                           * after stop() has joined the loader */
  DecentSharedModel *shared_model;  /* the shared model this element adopted */
  gchar *model_path;      /* where model was loaded from */
  gchar *sender_path;     /* element_path from start to stop: what its events
                           * say, one key for a begin and its end even if a
                           * bin is renamed or the element moved meanwhile */
  gint model_w, model_h, model_c;
  float model_threshold[DECENT_SCORE_MODES]; /* calibrated; 0: none */
  DecentScoreMode scoring; /* the mode frames are scored in: score-mode, or mean when the
                            * model cannot score in it */
  gint scoring_asked;     /* the score-mode (x2, +1 with a threshold property) scoring was
                           * chosen for; -1: none yet */
  DecentFramePath path;
  gboolean path_ready;    /* path is built for the current caps and roi */
  GstCaps *refused_caps;  /* the last caps refused with an error: a source that sends
                           * them again with each buffer (appsrc) is told once */
  float *map;             /* per-pixel error of the last finite result */
  float *scratch_map;     /* what scoring writes, kept only when finite */
  guint64 frame_count;
  guint64 short_buffers;   /* buffers too small for a frame, passed on unscored */
  GstClockTime last_running_time; /* the last frame seen's (events ended between frames) */
  gboolean have_result;   /* a finite result exists */
  gdouble last_score;     /* always finite */
  gdouble last_threshold; /* the last frame's threshold; 0 when none (nothing flagged) */
  gboolean last_flagged;
  gboolean result_invalid; /* the latest scoring was not finite: nothing is flagged */
  guint64 nonfinite_count; /* frames of this model that scored non-finite */
  guint64 last_scored_frame;
  DecentEventTracker events; /* also flushed by sink_event (EOS, flush-stop); its sizes are
                              * copied from the properties by each frame */
  DecentRegionTracker regions; /* events per hot place of the map: the same */
  gint win_w, win_h;      /* the local score's window on the model's grid */
  gfloat surround;        /* and its surround (DecentConfig.local_surround) */
  DecentWindow hot[DECENT_MAX_REGIONS]; /* the last finite result's hot windows */
  guint n_hot;
  gdouble hot_threshold;  /* the threshold hot was found with */
  double *hot_sat;        /* decent_local_hot_windows' scratch (and decent_local_max's) */
  float *hot_means;
  float *still_map;       /* the still gates' map in the score's units (merge_still_map) */
  guint keyunit_count;
  DecentSecondModel second; /* second-model-location's, from start to stop, or else the
                             * companion of the model in use; never shared */
  gboolean second_explicit; /* second-model-location was set at start: no companion */
  DecentDevice run_device;  /* the device of start(), for companions */
  gboolean second_used;   /* it can score in the mode chosen (choose_scoring) */
  DecentStillGate *still; /* model's still gate, NULL when it has none; per stream */
  gboolean still_used;    /* still-gate on, local mode, every model in use has a gate */
  gboolean still_said;    /* why it is not used was logged (per model) */
  gdouble last_still;     /* the last finite result's still score, 1 = threshold; -1: none */
  gdouble scored_seconds; /* time between scored frames the gates were paced to; 0: unknown */
  guint paced_interval;   /* the inference-interval they were paced with; 0: not yet */
  DecentPaceMeter pace_meter; /* scored frames' timestamps since the last pacing */
  gboolean pace_measuring; /* the meter follows them (timed gates: pace_from_timestamps) */
  gboolean pace_trusted;  /* scored_seconds was measured, or the timestamps agreed with
                           * the caps': another pace must last (DECENT_PACE_CONFIRM_SECONDS) */
  gboolean pace_warned;   /* implausible timestamps were logged since the last pacing */
  gdouble measured_seconds; /* the timestamps' pace, kept for the framerate and interval
                             * it was measured under (measured_fps_n/d, measured_interval)
                             * across a new roi or model; 0: none */
  gint measured_fps_n, measured_fps_d;
  guint measured_interval;
  guint second_warned;    /* bit per mode it was said unusable in (per model) */

  GMutex start_lock;      /* held while start() runs: a frame waits for it (a pad
                           * activated takes buffers before start() returns) */

  /* ---- swap_lock: background model loads, one loader thread at a time;
   * a newer request replaces one not yet started ---- */
  GMutex swap_lock;       /* guards the fields below */
  GThread *loader;        /* the loader, running or finished but not joined */
  gboolean loader_running;
  gchar *request_path;    /* the newest model-location waiting to be loaded */
  guint requested_serial; /* the location_serial of the newest set asked for */
  guint64 request_ticket; /* shared: its place among all sharers' reloads */
  DecentDevice request_device;
  guint load_generation;  /* bumped by every request and by stop() */
  DecentModel *pending_model;
  gchar *pending_path;
  DecentModel *pending_companion; /* its companion, built by the loader too (or NULL) */
  gboolean started;
  /* where the model in use runs, for set_property's device check, which must
   * not look at model or shared (freed by a swap or stop without this lock:
   * helper-72): AUTO when none; shared: an engine of model-instance-id */
  DecentDevice running_device;
  gboolean running_shared;
  /* stop() of a sharer: its reload of this generation still reaches the engine */
  gboolean handover;
  guint handover_generation;
};

GST_ELEMENT_REGISTER_DECLARE (decentanomaly);

G_END_DECLS

#endif
