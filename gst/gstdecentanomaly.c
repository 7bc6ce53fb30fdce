/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstdecentanomaly.c — scores every frame with a trained decentralization
 * autoencoder, attaches GstDecentAnomalyMeta, posts element messages, can
 * draw the heatmap and can pass only flagged frames.
 *
 * Threads: properties are set under the object lock from any thread and
 * copied once per frame (snapshot_settings); the model and the per-frame
 * state belong to the streaming thread (see the lock table in
 * gstdecentanomaly.h).  A new model-location while running is loaded by a
 * background thread and swapped in between two frames (swap_lock). */
#include "gstdecentanomaly.h"

#ifdef DECENT_HAVE_ANALYTICS
#include <gst/analytics/analytics.h>
#endif

#include <math.h>

#include "decent/decentmeta.h"
#include "error.h"
#include "bufferlayout.h"
#include "shownname.h"

GST_DEBUG_CATEGORY_STATIC (gst_decent_anomaly_debug);
#define GST_CAT_DEFAULT gst_decent_anomaly_debug

enum {
  PROP_0,
  PROP_MODEL_LOCATION,
  PROP_DEVICE,
  PROP_THRESHOLD,
  PROP_MODE,
  PROP_OVERLAY_ALPHA,
  PROP_HEATMAP_MAX,
  PROP_FLAGGED_ONLY,
  PROP_INFERENCE_INTERVAL,
  PROP_THREADS,
  PROP_ROI,
  PROP_POST_MESSAGES,
  PROP_MESSAGE_MODE,
  PROP_EVENT_MIN_FRAMES,
  PROP_EVENT_GAP,
  PROP_REGION_EVENTS,
  PROP_FORCE_KEYUNIT,
  PROP_ATTACH_HEATMAP,
  PROP_SCORE_MODE,
  PROP_MODEL_INSTANCE_ID,
  PROP_BATCH_SIZE,
  PROP_BATCH_TIMEOUT,
  PROP_SECOND_MODEL_LOCATION,
  PROP_STILL_GATE,
};

#define DEFAULT_THRESHOLD -1.0
#define DEFAULT_MODE GST_DECENT_MODE_PASSTHROUGH
#define DEFAULT_ALPHA 0.5
#define DEFAULT_INTERVAL 1
#define DEFAULT_MESSAGES GST_DECENT_MESSAGES_EVENTS
#define DEFAULT_MIN_FRAMES 3
#define DEFAULT_GAP 5
#define DEFAULT_REGION_EVENTS TRUE
#define DEFAULT_SCORE_MODE DECENT_SCORE_LOCAL
#define DEFAULT_BATCH_SIZE 16
#define DEFAULT_BATCH_TIMEOUT_US 10000

G_DEFINE_TYPE_WITH_CODE (GstDecentAnomaly, gst_decent_anomaly, GST_TYPE_VIDEO_FILTER,
    GST_DEBUG_CATEGORY_INIT (gst_decent_anomaly_debug, "decentanomaly", 0,
        "decentralization-loss anomaly scoring"));
GST_ELEMENT_REGISTER_DEFINE (decentanomaly, "decentanomaly", GST_RANK_NONE,
    GST_TYPE_DECENT_ANOMALY);

/* ---- per-frame state -------------------------------------------------- */

/* What one frame needs from the properties, copied under the object lock
 * (snapshot_settings) so that the rest of the frame runs without it. */
typedef struct {
  gdouble threshold_prop;  /* < 0: the model's calibrated threshold */
  GstDecentMode mode;
  gdouble alpha, heat_max;
  gboolean flagged_only, attach;
  guint interval;          /* at least 1 */
  guint threads;           /* 0: OMP_NUM_THREADS, else one per core */
  gboolean post;           /* event messages */
  gboolean post_frames;    /* per-frame messages too */
  gboolean keyunit;
  DecentScoreMode asked;
  DecentRoi roi;
  gboolean roi_changed;
  guint event_min_frames, event_gap;
  gboolean region_events;
  gboolean still;
} FrameSettings;

/* One frame on its way through transform_frame_ip's steps. */
typedef struct {
  GstVideoFrame *frame;
  gdouble threshold;       /* INFINITY: nothing is flagged */
  GstClockTime ts, running_time, stream_time; /* NONE outside a TIME segment */
  gboolean scored;         /* scored now, with a finite result */
  DecentScoredFrame scored_as; /* on the model's device or here (framepath.c) */
  const gchar *nonfinite_model; /* the second model's path when only its score was not
                                 * finite; NULL: model-location's */
  gdouble still;           /* still score (1 = threshold) of this scoring; -1: none */
  gboolean flagged;
  DecentEventChange change;
  DecentRegionChange region_changes[2 * DECENT_MAX_REGIONS];
  guint n_region_changes;
} FrameState;

/* ---- messages --------------------------------------------------------- */

/* Time fields go into messages only when there is a time to give. */
static void
set_time (GstStructure *s, const gchar *field, GstClockTime t)
{
  if (GST_CLOCK_TIME_IS_VALID (t))
    gst_structure_set (s, field, G_TYPE_UINT64, (guint64) t, NULL);
}

/* Whether event messages are posted.  Call with the object lock held. */
static gboolean
posts_messages (GstDecentAnomaly *self)
{
  return self->post_messages && self->messages != GST_DECENT_MESSAGES_NONE;
}

/* Posts s as an element message; no lock held (the bus may call back). */
static void
post_structure (GstDecentAnomaly *self, GstStructure *s)
{
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
}

/* An event began or ended (takes s): a bus message when messages are
 * posted, and the same structure downstream as a serialized custom event,
 * ahead of the frame, for decentpublish and other elements (downstream:
 * streaming thread only; FALSE at a stop); each end where its begin went
 * (eventpairs.h). */
static void
announce_event (GstDecentAnomaly *self, GstStructure *s, gboolean post, gboolean downstream)
{
  decent_event_pairs_announce (&self->pairs, GST_ELEMENT (self),
      GST_BASE_TRANSFORM_SRC_PAD (GST_BASE_TRANSFORM (self)), s, post, downstream);
}

/* "decentanomaly-model": what became of a model file; callers add fields.
 * The location as displayed: structure strings must be UTF-8.  No lock. */
static GstStructure *
model_structure_new (const gchar *location, const gchar *status)
{
  gchar *shown = decent_shown_name (location);
  GstStructure *s = gst_structure_new ("decentanomaly-model", "location", G_TYPE_STRING, shown,
      "status", G_TYPE_STRING, status, NULL);
  g_free (shown);
  return s;
}

/* A threshold as the meta and the messages give it: finite, the largest
 * double where nothing is flagged (no calibrated threshold), so that
 * flagged == score > threshold holds there too. */
static gdouble
shown_threshold (gdouble threshold)
{
  return isfinite (threshold) ? threshold : G_MAXDOUBLE;
}

/* "decentanomaly": one scored frame (message-mode=all).  Streaming thread. */
static GstStructure *
score_structure_new (GstDecentAnomaly *self, const FrameState *f)
{
  const gdouble threshold = f->threshold;
  GDateTime *now = g_date_time_new_now_utc ();
  gchar *iso = g_date_time_format_iso8601 (now);
  GstStructure *s = gst_structure_new ("decentanomaly",
      "utc-time", G_TYPE_UINT64, (guint64) g_date_time_to_unix (now) * GST_SECOND
          + (guint64) g_date_time_get_microsecond (now) * GST_USECOND,
      "utc", G_TYPE_STRING, iso,
      "frame", G_TYPE_UINT64, self->frame_count,
      "score", G_TYPE_DOUBLE, self->last_score,
      "threshold", G_TYPE_DOUBLE, shown_threshold (threshold),
      "normalized-score", G_TYPE_DOUBLE,
      gst_decent_anomaly_normalized_score (self->last_score, shown_threshold (threshold)),
      "flagged", G_TYPE_BOOLEAN, f->flagged,
      "score-mode", G_TYPE_STRING, decent_score_mode_name (self->scoring), NULL);
  if (self->still_used && self->last_still >= 0)
    gst_structure_set (s, "still-score", G_TYPE_DOUBLE, self->last_still, NULL);
  set_time (s, "timestamp", f->ts);
  set_time (s, "stream-time", f->stream_time);
  set_time (s, "running-time", f->running_time);
  set_time (s, "duration", GST_BUFFER_DURATION (f->frame->buffer));
  g_free (iso);
  g_date_time_unref (now);
  return s;
}

/* "decentanomaly-event": self->events began or ended.  Streaming thread (or sink_event). */
/* The names of the element and its bins, outermost first, joined by '/'
 * ("pipeline0/inner/det"; gst_object_get_path_string adds the type names,
 * for debugging). */
static gchar *
element_path (GstDecentAnomaly *self)
{
  GString *path = g_string_new (NULL);
  GstObject *o = gst_object_ref (GST_OBJECT (self));
  while (o) {
    gchar *name = gst_object_get_name (o);
    g_string_prepend (path, name ? name : "");
    g_free (name);
    GstObject *parent = gst_object_get_parent (o);
    if (parent)
      g_string_prepend_c (path, '/');
    gst_object_unref (o);
    o = parent;
  }
  return g_string_free (path, FALSE);
}

/* The element's name and path in an event structure: downstream, where
 * decentpublish reads them, nothing else tells two decentanomaly of one
 * stream apart.  Names are unique only within a bin (two bins made from one
 * description hold two of one name), so decentpublish pairs begins and ends
 * by the path (the one taken at start); the name stays for the readers of
 * "element". */
static void
set_element_name (GstDecentAnomaly *self, GstStructure *s)
{
  gchar *name = gst_object_get_name (GST_OBJECT (self));
  gchar *path = self->sender_path ? NULL : element_path (self);
  gst_structure_set (s, "element", G_TYPE_STRING, name, "element-path", G_TYPE_STRING,
      self->sender_path ? self->sender_path : path, NULL);
  g_free (path);
  g_free (name);
}

static GstStructure *
event_structure_new (GstDecentAnomaly *self, const gchar *type, guint64 frame,
    GstClockTime running_time, gdouble score)
{
  const DecentEventTracker *t = &self->events;
  GstStructure *s = gst_structure_new ("decentanomaly-event", "type", G_TYPE_STRING, type,
      "event-frame", G_TYPE_UINT64, t->start_frame,
      "frame", G_TYPE_UINT64, frame, "score", G_TYPE_DOUBLE, score,
      "peak-score", G_TYPE_DOUBLE, t->peak, NULL);
  set_time (s, "running-time", running_time);
  set_time (s, "event-running-time", t->start_time);
  set_element_name (self, s);
  gst_structure_set (s, "threshold", G_TYPE_DOUBLE, self->last_threshold,
      "peak-normalized-score", G_TYPE_DOUBLE,
      gst_decent_anomaly_normalized_score (t->peak, self->last_threshold),
      "roi-x", G_TYPE_INT, self->path.rect.x, "roi-y", G_TYPE_INT, self->path.rect.y,
      "roi-width", G_TYPE_INT, self->path.rect.width,
      "roi-height", G_TYPE_INT, self->path.rect.height, NULL);
  if (g_str_equal (type, "end")) {
    gst_structure_set (s, "frames", G_TYPE_UINT64, decent_events_frames (t), NULL);
    set_time (s, "last-flagged-running-time", t->last_flagged_time);
  }
  return s;
}

/* A rectangle of the model's grid in frame pixels (the scored region's),
 * rounded outwards.  Streaming thread. */
static void
grid_to_frame (GstDecentAnomaly *self, gint x, gint y, gint w, gint h, gint *fx, gint *fy,
    gint *fw, gint *fh)
{
  const DecentRoi *r = &self->path.rect;
  const gint64 mw = MAX (self->model_w, 1), mh = MAX (self->model_h, 1);
  const gint64 x0 = (gint64) x * r->width / mw, y0 = (gint64) y * r->height / mh;
  const gint64 x1 = ((gint64) (x + w) * r->width + mw - 1) / mw;
  const gint64 y1 = ((gint64) (y + h) * r->height + mh - 1) / mh;
  *fx = r->x + (gint) x0;
  *fy = r->y + (gint) y0;
  *fw = (gint) (x1 - x0);
  *fh = (gint) (y1 - y0);
}

/* "decentanomaly-region": an event of one place began or ended.  Streaming
 * thread (or sink_event, stop). */
static GstStructure *
region_structure_new (GstDecentAnomaly *self, const DecentRegionChange *c, guint64 frame,
    GstClockTime running_time)
{
  const DecentRegionEvent *e = &c->event;
  const gboolean end = c->change == DECENT_EVENT_ENDED;
  gint x, y, w, h;
  grid_to_frame (self, e->rect.x, e->rect.y, e->rect.width, e->rect.height, &x, &y, &w, &h);
  GstStructure *s = gst_structure_new ("decentanomaly-region",
      "type", G_TYPE_STRING, end ? "end" : "begin", "id", G_TYPE_UINT64, e->id,
      "x", G_TYPE_INT, x, "y", G_TYPE_INT, y, "width", G_TYPE_INT, w, "height", G_TYPE_INT, h,
      "region-frame", G_TYPE_UINT64, e->start_frame, "frame", G_TYPE_UINT64, frame,
      "peak-score", G_TYPE_DOUBLE, e->peak, "threshold", G_TYPE_DOUBLE, self->last_threshold,
      "peak-normalized-score", G_TYPE_DOUBLE,
      gst_decent_anomaly_normalized_score (e->peak, self->last_threshold), NULL);
  set_time (s, "running-time", running_time);
  set_time (s, "region-running-time", e->start_time);
  set_element_name (self, s);
  if (end) {
    gst_structure_set (s, "frames", G_TYPE_UINT64, e->last_flagged_frame - e->start_frame + 1,
        NULL);
    set_time (s, "last-flagged-running-time", e->last_flagged_time);
  }
  return s;
}

/* The frame that messages sent between frames (end of stream, a flush, a
 * stop) are about: the last one seen.  Within a frame it is frame_count. */
static guint64
last_frame_seen (GstDecentAnomaly *self)
{
  return self->frame_count ? self->frame_count - 1 : 0;
}

/* Ends every open region event (end of stream, flush, a new model or
 * region, region-events off) at frame: running-time is each one's last
 * flagged frame's.  downstream: also as a custom event (streaming thread
 * only). */
static void
end_regions (GstDecentAnomaly *self, gboolean post, gboolean downstream, guint64 frame)
{
  DecentRegionChange ended[DECENT_MAX_REGIONS];
  const guint n = decent_regions_flush (&self->regions, ended);
  for (guint i = 0; i < n; i++)
    announce_event (self, region_structure_new (self, &ended[i], frame,
            ended[i].event.last_flagged_time), post, downstream);
}

/* Ends the open frame event and its places (end of stream, flush, a new
 * stream, stop) at the last frame seen, its number and time, the places
 * first as within a frame.  downstream: also as custom events (streaming
 * thread only). */
static void
end_open_events (GstDecentAnomaly *self, gboolean downstream)
{
  GST_OBJECT_LOCK (self);
  const gboolean post = posts_messages (self);
  GST_OBJECT_UNLOCK (self);
  end_regions (self, post, downstream, last_frame_seen (self));
  if (!decent_events_flush (&self->events))
    return;
  announce_event (self, event_structure_new (self, "end", last_frame_seen (self),
          self->last_running_time, self->last_score), post, downstream);
}

/* ---- model loading ---------------------------------------------------- */

/* A flush or a stop of this stream: a frame of it waiting on the shared
 * engine for the other sharers' frames is scored at once (decent_sharer_hurry),
 * so that the seek or state change does not wait up to batch-timeout for
 * the streaming thread.  Any thread: under swap_lock, under which stop()
 * says the element no longer runs before it leaves the engine. */
static void
hurry_shared (GstDecentAnomaly *self, gboolean hurry)
{
  g_mutex_lock (&self->swap_lock);
  if (self->started && self->shared)
    decent_sharer_hurry (self->shared, hurry);
  g_mutex_unlock (&self->swap_lock);
}

static DecentModel *
load_model (GstDecentAnomaly *self, const gchar *path, DecentDevice device, DecentError *err)
{
  DecentModel *m = decent_model_load (path, device, err);
  if (m)
    GST_INFO_OBJECT (self, "loaded %s", path);
  return m;
}

/* Engine messages hold file names as they are: GStreamer drops debug text
 * that is not UTF-8, so it is made valid (caller frees). */
static gchar *
display_reason (const DecentError *err)
{
  return g_utf8_make_valid (err->message, -1);
}

/* The background loader: loads the newest requested file, then the newest
 * one requested meanwhile, until none is left.  A request made while a load
 * runs supersedes any request still waiting, so a storm of changes costs
 * one load at a time and one more at the end. */
static gpointer
loader_main (gpointer data)
{
  GstDecentAnomaly *self = data;
  g_mutex_lock (&self->swap_lock);
  while (self->request_path) {
    gchar *path = self->request_path;
    const DecentDevice device = self->request_device;
    const guint generation = self->load_generation;
    const guint64 ticket = self->request_ticket;
    self->request_path = NULL;
    g_mutex_unlock (&self->swap_lock);

    DecentError err;
    err.message[0] = '\0';
    DecentModel *m = load_model (self, path, device, &err);
    /* its companion too, off the streaming thread (one that fails here is
     * tried again, and said, when the model is adopted) */
    DecentError ignored = { { 0 } };
    DecentModel *companion = m && !self->shared && !self->second_explicit
        && decent_model_has_companion (m) ? decent_model_companion_new (m, device, &ignored)
                                          : NULL;

    g_mutex_lock (&self->swap_lock);
    /* superseded (a newer request, or stop()): dropped without a word;
     * but a shared reload is every sharer's, and one this sharer's stop
     * cut short goes on to the engine for the others, which name its
     * file already (helper-74: they named it and scored with the old
     * model for good) */
    const gboolean handed = self->shared && self->handover
                            && generation == self->handover_generation;
    const gboolean current = (generation == self->load_generation && self->started) || handed;
    if (m && current && self->shared) {
      /* every sharer adopts it before its next frame (adopt_shared_model),
       * unless another sharer's later reload is in place already */
      decent_sharer_replace (self->shared, m, path, ticket);
      m = NULL;
    } else if (m && current) {
      decent_model_free (self->pending_model);
      decent_model_free (self->pending_companion);
      g_free (self->pending_path);
      self->pending_model = m;
      self->pending_companion = companion;
      self->pending_path = g_strdup (path);
      m = NULL;
      companion = NULL;
    }
    g_mutex_unlock (&self->swap_lock);
    decent_model_free (companion);

    if (!m && err.message[0] && handed) { /* (the others named it: as a failed reload) */
      gchar *reason = display_reason (&err);
      GST_WARNING_OBJECT (self, "the reload of %s, asked for before this sharer stopped, "
          "failed: %s", path, reason);
      g_free (reason);
    } else if (!m && err.message[0] && current) {
      gchar *name = decent_shown_name (path), *reason = display_reason (&err);
      GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ,
          ("Could not load model file \"%s\"; still using the previous model.", name),
          ("%s", reason));
      GstStructure *s = model_structure_new (path, "failed");
      gst_structure_set (s, "reason", G_TYPE_STRING, reason, NULL);
      post_structure (self, s);
      g_free (name);
      g_free (reason);
    }
    decent_model_free (m);
    g_free (path);
    g_mutex_lock (&self->swap_lock);
  }
  self->loader_running = FALSE;
  g_mutex_unlock (&self->swap_lock);
  gst_object_unref (self); /* may finalize self: see finalize */
  return NULL;
}

/* An empty model-location set while playing: nothing is loaded, and a
 * load asked for before it (waiting, running, or done and not yet swapped
 * in) is dropped, so that the model in use goes on, as said.  A shared
 * engine's reload, asked of every sharer, still takes place.  FALSE when
 * not started, or when a newer set has asked for its file (nothing to
 * say). */
static gboolean
drop_loads (GstDecentAnomaly *self, guint serial, gboolean *shared)
{
  g_mutex_lock (&self->swap_lock);
  const gboolean started = self->started;
  *shared = started && self->shared != NULL;
  /* (a newer set's request already made stands: request_load_locked) */
  const gboolean newest = (gint) (serial - self->requested_serial) >= 0;
  if (started && newest)
    self->requested_serial = serial;
  if (started && !*shared && newest) {
    self->load_generation++; /* a load still running is dropped */
    g_clear_pointer (&self->request_path, g_free);
    g_clear_pointer (&self->pending_model, decent_model_free);
    g_clear_pointer (&self->pending_companion, decent_model_free);
    g_clear_pointer (&self->pending_path, g_free);
  }
  g_mutex_unlock (&self->swap_lock);
  return started && newest; /* (a newer set's load goes on: nothing to say) */
}

/* request_load with swap_lock held and the element started; error is set
 * when no loader thread could start.  serial: the location_serial of the
 * model-location set that path is; two threads setting it at once may ask
 * in the other order than they set it, and the property would then name a
 * file other than the one loaded: the older set asks for nothing. */
static void
request_load_locked (GstDecentAnomaly *self, const gchar *path, DecentDevice device,
    guint serial, GError **error)
{
  if ((gint) (serial - self->requested_serial) < 0)
    return;
  self->requested_serial = serial;
  g_free (self->request_path);
  self->request_path = g_strdup (path);
  /* shared: on the engine's device, whatever device says now (it may have
   * been set while playing) */
  self->request_device = self->shared ? decent_sharer_device (self->shared) : device;
  self->load_generation++;
  /* shared: numbered among every sharer's reloads, so that the last asked for wins */
  self->request_ticket = self->shared ? decent_sharer_reload_ticket (self->shared, path) : 0;
  if (!self->loader_running) {
    if (self->loader) /* finished: returns at once */
      g_thread_join (self->loader);
    self->loader = g_thread_try_new ("decent-model-load", loader_main, gst_object_ref (self),
        error);
    self->loader_running = self->loader != NULL;
    if (!self->loader) {
      g_clear_pointer (&self->request_path, g_free);
      gst_object_unref (self);
    }
  }
}

/* Says that path cannot be loaded for want of a loader thread.  No lock. */
static void
warn_no_loader (GstDecentAnomaly *self, const gchar *path, GError *error)
{
  gchar *name = decent_shown_name (path);
  GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ,
      ("Could not load model file \"%s\"; still using the previous model.", name),
      ("cannot start a loader thread: %s", error->message));
  g_free (name);
  g_error_free (error);
}

/* Asks for path to be loaded in the background (while started). */
static void
request_load (GstDecentAnomaly *self, const gchar *path, DecentDevice device, guint serial)
{
  GError *error = NULL;
  g_mutex_lock (&self->swap_lock);
  if (self->started)
    request_load_locked (self, path, device, serial, &error);
  g_mutex_unlock (&self->swap_lock);
  if (error)
    warn_no_loader (self, path, error);
}

/* Waits for the loader to finish its current load; later requests are
 * refused (started is FALSE by then). */
static void
join_loader (GstDecentAnomaly *self)
{
  g_mutex_lock (&self->swap_lock);
  GThread *loader = self->loader;
  self->loader = NULL;
  g_mutex_unlock (&self->swap_lock);
  if (!loader)
    return;
  if (loader == g_thread_self ()) /* the loader dropped the last reference */
    g_thread_unref (loader);
  else
    g_thread_join (loader);
}

/* Drops the model in use: frees an own one, leaves a shared one. */
static void
drop_model (GstDecentAnomaly *self)
{
  if (self->shared_model)
    decent_shared_model_unref (self->shared_model);
  else
    decent_model_free (self->model);
  self->shared_model = NULL;
  self->model = NULL;
}

/* Records where the model in use runs (running_device) for other threads.
 * Streaming thread; takes swap_lock. */
static void
note_running_device (GstDecentAnomaly *self)
{
  DecentDevice running = DECENT_DEVICE_AUTO;
  if (self->shared) {
    running = decent_sharer_device (self->shared);
  } else if (self->model) {
    DecentInfo info;
    decent_model_describe (self->model, &info);
    running = g_str_has_prefix (info.backend, "cuda") ? DECENT_DEVICE_CUDA : DECENT_DEVICE_CPU;
  }
  g_mutex_lock (&self->swap_lock);
  self->running_device = running;
  self->running_shared = self->shared != NULL;
  g_mutex_unlock (&self->swap_lock);
}

/* Gives a still gate the time between scored frames, so that its lag and
 * memory stay the seconds decent-train calibrated them as (a model trained
 * at 10 frames/s scoring 25); restarts it.  Streaming thread. */
static void
pace_gate (GstDecentAnomaly *self, DecentStillGate *gate, const gchar *which)
{
  if (!gate)
    return;
  DecentError err = { { 0 } };
  const int lag = decent_still_gate_set_pace (gate, self->scored_seconds, &err);
  if (lag < 0)
    GST_WARNING_OBJECT (self, "%s still gate: %s", which, err.message);
  else
    GST_INFO_OBJECT (self, "%s still gate compares scored frames %d apart (%g s between them)",
        which, lag, self->scored_seconds);
}

/* Whether a gate's calibration says how far apart its frames were, so
 * that the stream's pace changes what it does. */
static gboolean
gate_is_timed (DecentModel *m, DecentStillGate *gate)
{
  DecentStillSettings s;
  return gate && m && decent_model_get_still (m, &s, NULL) == 1 && s.frame_seconds > 0;
}

/* Gives both still gates scored_seconds (pace_gate); restarts them. */
static void
pace_both_gates (GstDecentAnomaly *self)
{
  pace_gate (self, self->still, "model-location's");
  pace_gate (self, self->second.still, "the second model's");
}

/* Paces both still gates to frames of `info` scored every `interval`th
 * (no framerate in the caps: 0, frames count as they come), or to the pace
 * the timestamps gave under the same framerate and interval already (a new
 * roi or model: that pace still holds), and follows the scored frames'
 * timestamps from here (pace_from_timestamps).  Streaming. */
static void
pace_still_gates (GstDecentAnomaly *self, const GstVideoInfo *info, guint interval)
{
  const gint n = GST_VIDEO_INFO_FPS_N (info), d = GST_VIDEO_INFO_FPS_D (info);
  const gboolean measured = self->measured_seconds > 0 && n == self->measured_fps_n
                            && d == self->measured_fps_d && interval == self->measured_interval;
  gdouble seconds = n > 0 && d > 0 ? (gdouble) interval * d / n : 0.0;
  /* over 1000 scored frames a second is no camera's pace (the pace meter's
   * rule): frames count as they come, as without a framerate; a gate paced
   * to 100000/1 kept one frame in 10000 and stayed empty (helper-72) */
  if (seconds < DECENT_PACE_MIN_SECONDS)
    seconds = 0.0;
  self->paced_interval = interval;
  self->scored_seconds = measured ? self->measured_seconds : seconds > 0
      ? CLAMP (seconds, DECENT_STILL_MIN_SECONDS, DECENT_STILL_MAX_SECONDS) : 0.0;
  if (!measured)
    self->measured_seconds = 0;
  pace_both_gates (self);
  decent_pace_meter_reset (&self->pace_meter);
  self->pace_trusted = measured;
  self->pace_warned = FALSE;
  self->pace_measuring = gate_is_timed (self->model, self->still)
                         || gate_is_timed (self->second.model, self->second.still);
}

/* The caps' framerate is what a camera claims: many RTSP streams give none,
 * some deliver fewer frames than they say, and a camera may change its pace
 * while it streams.  Every DECENT_PACE_INTERVALS scored frames, their
 * timestamps' median interval is weighed against the pace in use
 * (decent_pace_meter_follow): it replaces the caps' at once when they gave
 * none or one over a quarter off, and a measured or confirmed pace once it
 * has held for DECENT_PACE_CONFIRM_SECONDS.  Either restarts the gates.
 * Streaming. */
static void
pace_from_timestamps (GstDecentAnomaly *self, const FrameState *f)
{
  if (!self->pace_measuring)
    return;
  const gdouble in_use = self->scored_seconds;
  gdouble measured;
  switch (decent_pace_meter_follow (&self->pace_meter, f->ts, in_use, self->pace_trusted,
              DECENT_STILL_MAX_SECONDS, &measured)) {
    case DECENT_PACE_WAIT:
      return;
    case DECENT_PACE_HOLDS:
      self->pace_trusted = TRUE;
      return;
    case DECENT_PACE_IMPLAUSIBLE:
      if (!self->pace_warned)
        GST_WARNING_OBJECT (self, "scored frames' timestamps come %g s apart: not a camera's "
            "pace; the still gates keep theirs (%g s; 0: counting frames)", measured, in_use);
      self->pace_warned = TRUE;
      return;
    case DECENT_PACE_CHANGED:
      break;
  }
  if (self->pace_trusted)
    GST_WARNING_OBJECT (self, "scored frames now come %g s apart, not %g s, for %g s of "
        "timestamps: the still gates follow them and start again", measured, in_use,
        DECENT_PACE_CONFIRM_SECONDS);
  else if (in_use > 0)
    GST_WARNING_OBJECT (self, "scored frames come %g s apart, not the %g s of the caps' "
        "framerate: the still gates follow the timestamps", measured, in_use);
  else
    GST_INFO_OBJECT (self, "no framerate in the caps (or none a camera keeps); scored frames "
        "come %g s apart", measured);
  /* (the frame's info, which setup_path paced by, is the negotiated one) */
  const GstVideoInfo *info = &GST_VIDEO_FILTER (self)->in_info;
  self->scored_seconds = measured;
  self->measured_seconds = measured;
  self->measured_fps_n = GST_VIDEO_INFO_FPS_N (info);
  self->measured_fps_d = GST_VIDEO_INFO_FPS_D (info);
  self->measured_interval = self->paced_interval;
  self->pace_trusted = TRUE;
  pace_both_gates (self);
}

/* The companion a model file carries (decent-train companion=true) is the
 * second model when second-model-location is empty: built anew for every
 * model adopted, so that a reload brings its own (built (taken) is one the
 * loader thread built already, or NULL), once for all the sharers of a
 * shared engine's model.  One that cannot be built is a warning, and the
 * model scores alone.  Streaming (or start). */
static void
take_companion (GstDecentAnomaly *self, DecentModel *m, const gchar *path, DecentModel *built)
{
  decent_second_model_clear (&self->second);
  self->second_used = FALSE;
  if (!decent_model_has_companion (m)) {
    decent_model_free (built);
    return;
  }
  DecentError err = { { 0 } };
  gchar *label = g_strdup_printf ("%s (its companion)", path);
  gboolean ok;
  if (self->shared_model) {
    /* one for every sharer of the engine, as the model is */
    decent_model_free (built);
    GMutex *lock = NULL;
    DecentModel *c = decent_shared_model_companion (self->shared_model,
        decent_sharer_device (self->shared), &lock, &err);
    ok = c && decent_second_model_borrow (&self->second, c, lock, label, &err);
  } else {
    DecentModel *c = built ? built : decent_model_companion_new (m, self->run_device, &err);
    ok = c && decent_second_model_adopt (&self->second, c, label, &err);
  }
  if (ok) {
    GST_INFO_OBJECT (self, "second model: the companion in %s, %dx%dx%d%s", path,
        self->second.width, self->second.height, self->second.channels,
        self->second.lock ? ", one for every sharer of the engine" : "");
  } else {
    gchar *name = decent_shown_name (path), *reason = display_reason (&err);
    GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ,
        ("The companion model in \"%s\" cannot be used; scoring with its first model alone.",
            name), ("%s (docs/errors.md).", reason));
    g_free (reason);
    g_free (name);
  }
  g_free (label);
}

/* Takes m (owned; or shared's, whose reference it takes) and its
 * calibration, and companion (owned, or NULL: take_companion); everything
 * made for the previous model is remade. */
static void
adopt_model (GstDecentAnomaly *self, DecentModel *m, const gchar *path,
    DecentSharedModel *shared, DecentModel *companion)
{
  DecentConfig cfg;
  if (self->regions.n_open) { /* places on the old model's grid: streaming thread */
    GST_OBJECT_LOCK (self);
    const gboolean post = posts_messages (self);
    GST_OBJECT_UNLOCK (self);
    end_regions (self, post, TRUE, self->frame_count);
  }
  if (self->second.lock) { /* the companion of the shared model about to be left */
    decent_second_model_clear (&self->second);
    self->second_used = FALSE;
  }
  drop_model (self);
  g_free (self->model_path);
  self->model = m;
  self->shared_model = shared;
  self->model_path = g_strdup (path);
  decent_model_get_config (m, &cfg);
  for (int k = 0; k < DECENT_SCORE_MODES; k++) {
    DecentCalibration cal;
    decent_model_get_mode_calibration (m, (DecentScoreMode) k, &cal);
    self->model_threshold[k] = cal.threshold;
  }
  self->scoring_asked = -1; /* chosen again for this model by the next frame */
  self->second_warned = 0; /* and whether the second model can take part */
  self->model_w = cfg.width;
  self->model_h = cfg.height;
  self->model_c = cfg.channels;
  g_free (self->map);
  g_free (self->scratch_map);
  self->map = g_new0 (float, (gsize) cfg.width * cfg.height);
  self->scratch_map = g_new0 (float, (gsize) cfg.width * cfg.height);
  decent_local_window (cfg.width, cfg.height, cfg.local_area, &self->win_w, &self->win_h);
  self->surround = cfg.local_surround;
  g_free (self->hot_sat);
  g_free (self->hot_means);
  self->hot_sat = g_new (double, (gsize) (cfg.width + 1) * (cfg.height + 1));
  self->hot_means = g_new (float, (gsize) cfg.width * cfg.height);
  g_free (self->still_map);
  self->still_map = g_new (float, (gsize) cfg.width * cfg.height);
  self->n_hot = 0;
  self->path_ready = FALSE;
  self->have_result = FALSE;
  self->last_score = 0.0;
  self->result_invalid = FALSE;
  self->nonfinite_count = 0;
  /* the new model's gate, if it has one (its calibration, not the old one's) */
  decent_still_gate_free (self->still);
  self->still = NULL;
  if (decent_model_get_still (m, NULL, NULL) == 1) {
    DecentError err = { { 0 } };
    if (!(self->still = decent_still_gate_new (m, &err)))
      GST_WARNING_OBJECT (self, "model %s: no still gate: %s", path, err.message);
    else
      pace_gate (self, self->still, "model-location's");
  }
  self->still_used = FALSE;
  self->still_said = FALSE;
  self->last_still = -1.0;
  if (!self->second_explicit) {
    take_companion (self, m, path, companion);
  } else {
    if (decent_model_has_companion (m))
      GST_INFO_OBJECT (self, "%s carries a companion; second-model-location is used instead",
          path);
    decent_model_free (companion);
  }
  note_running_device (self);
}

/* Swaps in a model loaded in the background, between two frames.  Streaming; takes swap_lock. */
static void
swap_pending_model (GstDecentAnomaly *self)
{
  g_mutex_lock (&self->swap_lock);
  DecentModel *m = self->pending_model, *companion = self->pending_companion;
  gchar *path = self->pending_path;
  self->pending_model = NULL;
  self->pending_companion = NULL;
  self->pending_path = NULL;
  g_mutex_unlock (&self->swap_lock);
  if (!m)
    return;
  adopt_model (self, m, path, NULL, companion);
  GST_INFO_OBJECT (self, "swapped in model %s at frame %" G_GUINT64_FORMAT, path,
      self->frame_count);
  GstStructure *s = model_structure_new (path, "loaded");
  gst_structure_set (s, "frame", G_TYPE_UINT64, self->frame_count, NULL);
  post_structure (self, s);
  g_free (path);
}

/* Shared: model-location says which file this element scores with, also
 * when another sharer's reload chose it (set here, not through
 * set_property, which would load it again).  serial: the location_serial
 * start() read: a model-location set since then is kept (start_scoring
 * loads it); renames: self->renames when path was chosen: a reload that
 * renamed the element since named a newer file, which is kept.  No lock
 * held. */
static void
note_shared_location (GstDecentAnomaly *self, const gchar *path, guint serial, guint renames)
{
  GST_OBJECT_LOCK (self);
  if (serial != self->location_serial || renames != self->renames) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  const gboolean differs = g_strcmp0 (self->model_location, path) != 0;
  const gboolean renamed = differs || self->location_renamed;
  if (differs) {
    g_free (self->model_location);
    self->model_location = g_strdup (path);
  }
  self->location_renamed = FALSE;
  GST_OBJECT_UNLOCK (self);
  if (renamed)
    g_object_notify (G_OBJECT (self), "model-location");
}

/* A hot reload asked for (decent_sharer_reload_ticket) or put in place,
 * under the engine's lock, for every sharer, also one that is paused: its
 * model-location names the file at once (notified at its next frame). */
static void
on_shared_renamed (gpointer data, const gchar *path)
{
  GstDecentAnomaly *self = data;
  GST_OBJECT_LOCK (self);
  self->renames++;
  if (g_strcmp0 (self->model_location, path) != 0) {
    g_free (self->model_location);
    self->model_location = g_strdup (path);
    self->location_renamed = TRUE;
  }
  GST_OBJECT_UNLOCK (self);
}

/* Shared: adopts the engine's model when a hot reload (by any sharer) has
 * replaced the one this element uses, and says so on the bus as
 * swap_pending_model does.  Streaming; takes the engine's lock. */
static void
adopt_shared_model (GstDecentAnomaly *self)
{
  /* model-location is not set to the adopted model's file here: the reload
   * that asked for it named its file on every sharer already, and a reload
   * asked for after it (still loading, or failed) has named its own since,
   * which must stay (on_shared_renamed).  What they renamed is said now,
   * also while a reload may yet fail or be cut short. */
  GST_OBJECT_LOCK (self);
  const gboolean renamed = self->location_renamed;
  self->location_renamed = FALSE;
  GST_OBJECT_UNLOCK (self);
  if (renamed)
    g_object_notify (G_OBJECT (self), "model-location");
  DecentSharedModel *now = decent_sharer_current (self->shared);
  if (now == self->shared_model) {
    decent_shared_model_unref (now);
    return;
  }
  const gchar *path = decent_shared_model_path (now);
  adopt_model (self, decent_shared_model_get (now), path, now, NULL);
  GST_INFO_OBJECT (self, "adopted the shared model %s at frame %" G_GUINT64_FORMAT, path,
      self->frame_count);
  GstStructure *s = model_structure_new (path, "loaded");
  gst_structure_set (s, "frame", G_TYPE_UINT64, self->frame_count, NULL);
  post_structure (self, s);
}

/* Whether the second model takes part in mode: both models need their
 * calibrated threshold for it, to weigh the two maps by (the threshold
 * property only decides what is flagged).  Streaming thread (and start). */
static void
choose_second (GstDecentAnomaly *self, DecentScoreMode mode)
{
  const gboolean was = self->second_used;
  self->second_used = FALSE;
  if (!self->second.model)
    return;
  const gchar *why = decent_second_model_unusable (&self->second, mode,
      self->model_threshold[mode]);
  if (!why && !(self->model_threshold[mode] > 0))
    why = "model-location's model has no calibrated threshold for this score mode to weigh "
          "the two by";
  if (why) {
    if (self->second_warned & (1u << mode))
      return; /* said for this mode and these models already */
    self->second_warned |= 1u << mode;
    gchar *name = decent_shown_name (self->second.path);
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Second model \"%s\" is not used in score-mode=%s; scoring with model-location's "
            "alone.", name, decent_score_mode_name (mode)), ("%s.", why));
    g_free (name);
    return;
  }
  self->second_used = TRUE;
  if (!was)
    self->have_result = FALSE; /* a carried score of one model means nothing now */
}

/* The mode frames are scored in: score-mode, unless this model cannot score
 * in it (no normal errors for normalized) or has no threshold for it while
 * it has one for the mean (a model from an older gst-decent), then the
 * mean, with a warning.  Streaming thread (and start). */
static void
choose_scoring (GstDecentAnomaly *self, DecentScoreMode asked, gboolean threshold_set)
{
  /* again for a new model (scoring_asked -1), score-mode or threshold */
  const gint key = (gint) asked * 2 + (threshold_set ? 1 : 0);
  if (key == self->scoring_asked)
    return;
  DecentScoreMode use = asked;
  const gchar *why = NULL;
  if (asked == DECENT_SCORE_NORMALIZED && !decent_model_has_normal (self->model))
    why = "it holds no normal errors (train it again with decent-train)";
  else if (!threshold_set && self->model_threshold[asked] <= 0
           && self->model_threshold[DECENT_SCORE_MEAN] > 0)
    why = "it has no threshold for it (a model from an older gst-decent: train it again, or "
          "set the threshold property)";
  if (why) {
    use = DECENT_SCORE_MEAN;
    gchar *name = decent_shown_name (self->model_path);
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Model \"%s\" cannot score in score-mode=%s; scoring in score-mode=mean.", name,
            decent_score_mode_name (asked)), ("%s.", why));
    g_free (name);
  }
  if ((gint) use != (gint) self->scoring)
    self->have_result = FALSE; /* a carried score of the other mode means nothing now */
  self->scoring = use;
  self->scoring_asked = key;
  choose_second (self, use);
  if (!threshold_set && self->model_threshold[use] <= 0) {
    gchar *name = decent_shown_name (self->model_path);
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Model \"%s\" has no calibrated threshold; nothing will be flagged.", name),
        ("score-mode=%s. Set the threshold property, or calibrate the model with decent-train "
            "(calibrate-only=true on normal footage).", decent_score_mode_name (use)));
    g_free (name);
  }
}

/* Whether the still gates take part: still-gate on, score-mode local (what
 * they were calibrated on), a calibrated local threshold to scale by, and
 * a gate in every model in use (the two are averaged as the scores are).
 * A change either way starts the gates again.  Streaming thread. */
static void
choose_still (GstDecentAnomaly *self, gboolean wanted)
{
  const gchar *why = !wanted ? NULL
      : self->scoring != DECENT_SCORE_LOCAL ? "it needs score-mode=local"
      : !(self->model_threshold[DECENT_SCORE_LOCAL] > 0) ? "the model has no local threshold"
      : !self->still ? "model-location's model has no still gate (decent-train still-lag > 0 "
                       "calibrates one)"
      : self->second_used && !self->second.still ? "the second model has no still gate "
                                                   "(decent-train still-lag > 0 calibrates one)"
      : NULL;
  const gboolean use = wanted && !why;
  if (why && !self->still_said) {
    self->still_said = TRUE;
    if (self->still && self->second_used && !self->second.still
        && self->scoring == DECENT_SCORE_LOCAL) {
      /* a gate the user has, and cannot use: said on the bus */
      gchar *name = decent_shown_name (self->second.path);
      GST_ELEMENT_WARNING (self, STREAM, FORMAT, ("Second model \"%s\" has no still gate; "
              "scoring without the still gate.", name), ("%s; both models need one, since "
              "their still scores are averaged.", why));
      g_free (name);
    } else {
      GST_INFO_OBJECT (self, "still-gate is not used: %s", why);
    }
  }
  if (use == self->still_used)
    return;
  self->still_used = use;
  self->last_still = -1.0;
  decent_still_gate_reset (self->still);
  decent_still_gate_reset (self->second.still);
}

/* ---- GstBaseTransform ------------------------------------------------- */

/* The wait for other sharers' frames that the latency query adds (0: not
 * shared).  A change posts a latency message, so that a pipeline that plays
 * already asks again (a sharer restarted).  start() and stop(). */
static void
set_shared_wait (GstDecentAnomaly *self, guint64 wait_us)
{
  GST_OBJECT_LOCK (self);
  const gboolean changed = self->shared_wait_us != wait_us;
  self->shared_wait_us = wait_us;
  GST_OBJECT_UNLOCK (self);
  if (changed)
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_latency (GST_OBJECT (self)));
}

/* Joins (or starts) the engine of model-instance-id and adopts its model;
 * FALSE with an error posted.  location_serial: start()'s, read with path.
 * start(), no lock. */
static gboolean
start_shared (GstDecentAnomaly *self, const gchar *id, const gchar *path, DecentDevice device,
    const DecentSharedSettings *asked, guint location_serial)
{
  gchar *why = NULL;
  DecentSharedSettings got = *asked;
  self->shared = decent_shared_engine_join (id, path, device, &got, on_shared_renamed, self,
      &why);
  if (!self->shared) {
    gchar *name = decent_shown_name (path);
    gchar *reason = g_utf8_make_valid (why ? why : "unknown reason", -1);
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not share model file \"%s\" as model-instance-id \"%s\".", name, id),
        ("%s (docs/errors.md).", reason));
    g_free (reason);
    g_free (name);
    g_free (why);
    return FALSE;
  }
  /* the engine runs with its first sharer's settings: said when they are
   * not this element's (start order decides which element is first) */
  if (got.batch_size != asked->batch_size || got.batch_timeout_us != asked->batch_timeout_us
      || got.threads != asked->threads)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("model-instance-id \"%s\" runs with batch-size=%u batch-timeout=%" G_GUINT64_FORMAT
            " threads=%u; this element's values are not used.", id, got.batch_size,
            got.batch_timeout_us, got.threads),
        ("It asked for batch-size=%u batch-timeout=%" G_GUINT64_FORMAT " threads=%u. The "
            "first element of an id to start sets them: give every sharer the same values.",
            asked->batch_size, asked->batch_timeout_us, asked->threads));
  set_shared_wait (self, got.batch_timeout_us);
  DecentSharedModel *m = decent_sharer_current (self->shared);
  adopt_model (self, decent_shared_model_get (m), decent_shared_model_path (m), m, NULL);
  /* a reload asked for by another sharer between the choice of the name
   * and its setting renames this one to a newer file, which stays */
  GST_OBJECT_LOCK (self);
  const guint renames = self->renames;
  GST_OBJECT_UNLOCK (self);
  gchar *name = decent_sharer_name_to_take (self->shared, path);
  if (!decent_shared_same_file (name, path)) { /* it missed a reload */
    GST_INFO_OBJECT (self, "model-instance-id %s scores with %s and names %s, which replaced "
        "%s", id, self->model_path, name, path);
    note_shared_location (self, name, location_serial, renames);
    GstStructure *s = model_structure_new (self->model_path, "loaded");
    gst_structure_set (s, "frame", G_TYPE_UINT64, (guint64) 0, NULL);
    post_structure (self, s);
  } else if (!decent_shared_same_file (self->model_path, path)) {
    /* the file of the reload asked for last, which failed or is loading:
     * named as every sharer names it */
    GST_INFO_OBJECT (self, "model-instance-id %s scores with %s until %s, asked for last, "
        "is in place", id, self->model_path, path);
  }
  g_free (name);
  GST_INFO_OBJECT (self, "sharing model %s as model-instance-id %s", self->model_path, id);
  return TRUE;
}

static gboolean gst_decent_anomaly_stop (GstBaseTransform *trans);

/* Loads second-model-location's model (scored by this element alone, also
 * when model-location is shared); FALSE with an error posted.  start(). */
static gboolean
start_second (GstDecentAnomaly *self, const gchar *path, DecentDevice device)
{
  DecentError err;
  err.message[0] = '\0';
  self->second_used = FALSE;
  self->second_warned = 0;
  if (decent_second_model_load (&self->second, path, device, &err)) {
    GST_INFO_OBJECT (self, "second model %s, %dx%dx%d", path, self->second.width,
        self->second.height, self->second.channels);
    return TRUE;
  }
  gchar *name = decent_shown_name (path), *reason = display_reason (&err);
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
      ("Could not load second model file \"%s\".", name),
      ("%s. Point second-model-location at a model written by decent-train, or leave it "
          "empty (docs/errors.md).", reason));
  g_free (reason);
  g_free (name);
  return FALSE;
}

/* second-model-location is read at start only: a set after that is said,
 * not silently ignored. */
static void
warn_second_needs_restart (GstDecentAnomaly *self)
{
  GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
      ("second-model-location takes effect when the element starts again."),
      ("It is read when the element goes from READY to PAUSED; the second model in "
          "use stays until then."));
}

/* More threads than cores only wait for one another (a helper measured 3
 * frames in 20 s with threads=1024 on two cores; set while playing, 1 frame
 * a second, unsaid: helper-86).  At start, and when set while started. */
static void
warn_threads_over_cores (GstDecentAnomaly *self, guint threads)
{
  if (threads > g_get_num_processors ())
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("threads=%u is more than the %u cores; scoring will be slower than with threads=0.",
            threads, g_get_num_processors ()),
        ("threads=0 uses every core; more threads than cores contend for them"));
}

/* model-instance-id, batch-size and batch-timeout choose the engine at
 * start: a change while started was read back as set and did nothing
 * (helper-67).  Said when the value differs. */
static void
warn_engine_needs_restart (GstDecentAnomaly *self, const gchar *name)
{
  GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
      ("%s takes effect when the element starts again.", name),
      ("It is read when the element goes from READY to PAUSED (it chooses the engine the "
          "element scores with); the engine in use stays until then."));
}

/* device is read when a model is loaded, a shared engine's at its start: a
 * change while started was read back as set and left the model where it
 * was, unsaid (helper-68).  Said when the new value would run elsewhere
 * (auto counts as what it resolves to: helper-70). */
static void
warn_device_at_next_load (GstDecentAnomaly *self, DecentDevice asked)
{
  g_mutex_lock (&self->swap_lock);
  const gboolean started = self->started, shared = self->running_shared;
  const DecentDevice running = self->running_device;
  g_mutex_unlock (&self->swap_lock);
  const DecentDevice wanted = asked != DECENT_DEVICE_AUTO ? asked
      : decent_device_available (DECENT_DEVICE_CUDA) ? DECENT_DEVICE_CUDA : DECENT_DEVICE_CPU;
  if (!started || running == DECENT_DEVICE_AUTO || wanted == running)
    return;
  if (shared) /* (one sharer restarted alone on another device is refused) */
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("device cannot change while the engine of model-instance-id is shared."),
        ("The engine keeps the device it started on until every element sharing it has "
            "stopped; then start them with the new device (one started again alone with "
            "another device is refused)."));
  else
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("device takes effect when a model is loaded again."),
        ("It is read when a model is loaded: at start, and when model-location is set while "
            "playing (set it again to the same file to move the model now); the model in use "
            "goes on scoring where it was loaded until then."));
}

/* The end of start(), once the model is in place: the second model, the
 * score mode; then frames may come, background loads may be asked for.
 * FALSE (everything loaded dropped again) with an error posted. */
static gboolean
start_scoring (GstDecentAnomaly *self, const gchar *second_path, DecentDevice device,
    DecentScoreMode asked, gboolean threshold_set, guint location_serial, guint second_serial)
{
  if (second_path && !start_second (self, second_path, device)) {
    gst_decent_anomaly_stop (GST_BASE_TRANSFORM (self));
    return FALSE;
  }
  self->scoring = DECENT_SCORE_MEAN;
  choose_scoring (self, asked, threshold_set);
  self->frame_count = 0;
  self->short_buffers = 0;
  self->last_running_time = GST_CLOCK_TIME_NONE;
  self->keyunit_count = 0;
  GError *error = NULL;
  g_mutex_lock (&self->swap_lock);
  self->started = TRUE;
  /* a model-location set while start() loaded the one it read found the
   * element not started, and loaded nothing: loaded now, as a hot reload
   * (else the property would name a file that is never used).  Under
   * swap_lock: a set after this one's request comes after it. */
  GST_OBJECT_LOCK (self);
  gchar *late = self->location_serial != location_serial && self->model_location
      && *self->model_location ? g_strdup (self->model_location) : NULL;
  const guint late_serial = self->location_serial;
  const DecentDevice late_device = self->device;
  /* and a second-model-location set then found it not started: unsaid */
  const gboolean second_late = self->second_serial != second_serial;
  GST_OBJECT_UNLOCK (self);
  if (late)
    request_load_locked (self, late, late_device, late_serial, &error);
  else /* what start() loaded is the newest: a set older than it, held
        * between its set and its request, asks for nothing (helper-79) */
    self->requested_serial = late_serial;
  g_mutex_unlock (&self->swap_lock);
  if (error)
    warn_no_loader (self, late, error);
  /* a device set while start() loaded on the one it read (found the
   * element not started: unsaid; a late model-location loads on it) */
  if (!late && late_device != device)
    warn_device_at_next_load (self, late_device);
  g_free (late);
  if (second_late)
    warn_second_needs_restart (self);
  return TRUE;
}

static gboolean
start_locked (GstBaseTransform *trans)
{
  GstDecentAnomaly *self = GST_DECENT_ANOMALY (trans);
  g_free (self->sender_path);
  self->sender_path = element_path (self);
  GST_OBJECT_LOCK (self);
  gchar *path = g_strdup (self->model_location);
  const guint location_serial = self->location_serial, second_serial = self->second_serial;
  DecentDevice device = self->device;
  gdouble thr = self->threshold_prop;
  DecentScoreMode asked = self->score_mode;
  gchar *roi_error = g_strdup (self->roi_error);
  const guint min_frames = self->event_min_frames, gap = self->event_gap;
  g_autofree gchar *instance_id = self->model_instance_id && *self->model_instance_id
      ? g_strdup (self->model_instance_id) : NULL;
  DecentSharedSettings asked_engine = { .batch_size = self->batch_size,
    .batch_timeout_us = self->batch_timeout_us, .threads = self->threads };
  g_autofree gchar *second_path = self->second_location && *self->second_location
      ? g_strdup (self->second_location) : NULL;
  GST_OBJECT_UNLOCK (self);
  /* no streaming thread runs yet: events is ours, and so are these */
  self->second_explicit = second_path != NULL;
  self->run_device = device;
  decent_events_init (&self->events, min_frames, gap);
  decent_regions_init (&self->regions, min_frames, gap);

  /* a roi refused while the element had no bus (gst-launch parses
   * properties first) would otherwise be lost */
  if (roi_error) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Invalid roi."), ("%s", roi_error));
    g_free (roi_error);
    g_free (path);
    return FALSE;
  }

  if (!path || !*path) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No model file given."),
        ("Set the model-location property to a model written by decent-train."));
    g_free (path);
    return FALSE;
  }
  if (device == DECENT_DEVICE_CUDA && !decent_device_available (DECENT_DEVICE_CUDA)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("device=cuda, but the GPU cannot be used."),
        ("%s. Use device=auto or device=cpu.", decent_device_describe (DECENT_DEVICE_CUDA)));
    g_free (path);
    return FALSE;
  }
  warn_threads_over_cores (self, asked_engine.threads);
  /* batches are of the frames of elements sharing a model; one element
   * scores each frame as it comes (no latency added) */
  if (!instance_id && (asked_engine.batch_size != DEFAULT_BATCH_SIZE
          || asked_engine.batch_timeout_us != DEFAULT_BATCH_TIMEOUT_US))
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("batch-size and batch-timeout are not used without model-instance-id; each frame is "
            "scored as it comes."),
        ("batch-size=%u batch-timeout=%" G_GUINT64_FORMAT " batch the frames of elements that "
            "share a model: give them the same model-instance-id", asked_engine.batch_size,
            asked_engine.batch_timeout_us));
  if (instance_id) {
    gboolean ok =
        start_shared (self, instance_id, path, device, &asked_engine, location_serial);
    g_free (path);
    if (!ok)
      return FALSE;
    return start_scoring (self, second_path, device, asked, thr >= 0, location_serial,
        second_serial);
  }
  DecentError err;
  err.message[0] = '\0';
  DecentModel *m = load_model (self, path, device, &err);
  gchar *name = decent_shown_name (path);
  if (!m) {
    gchar *reason = display_reason (&err);
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("Could not load model file \"%s\".", name),
        ("%s. Point model-location at a model written by decent-train (docs/errors.md).",
            reason));
    g_free (reason);
    g_free (name);
    g_free (path);
    return FALSE;
  }
  adopt_model (self, m, path, NULL, NULL);
  {
    char *desc = decent_model_describe_string (m);
    GST_INFO_OBJECT (self, "device=%s: %s; %s", decent_device_name (device),
        decent_device_describe (device), desc);
    free (desc);
  }
  g_free (name);
  g_free (path);
  return start_scoring (self, second_path, device, asked, thr >= 0, location_serial,
        second_serial);
}

/* GstBaseTransform starts the element when its sink pad is activated, and
 * the pad takes buffers from then on: an element set to PLAYING on its own
 * while its upstream plays had a frame reach transform while start() was
 * still loading the model and setting up what frames use, "No model is
 * loaded." (helper-71).  Frames wait for start() under start_lock.  (Such
 * a restart still ends in GStreamer's not-negotiated: the base class
 * forgets caps that arrive during start(); block or flush upstream to
 * restart one element.) */
static gboolean
gst_decent_anomaly_start (GstBaseTransform *trans)
{
  GstDecentAnomaly *self = GST_DECENT_ANOMALY (trans);
  g_mutex_lock (&self->start_lock);
  const gboolean ok = start_locked (trans);
  g_mutex_unlock (&self->start_lock);
  return ok;
}

static gboolean
gst_decent_anomaly_stop (GstBaseTransform *trans)
{
  GstDecentAnomaly *self = GST_DECENT_ANOMALY (trans);
  gst_caps_replace (&self->refused_caps, NULL); /* the next run says it again */
  g_mutex_lock (&self->swap_lock);
  self->started = FALSE;
  /* a shared reload asked for here, running or waiting, is finished for
   * the other sharers (join_loader waits for it); an own one is dropped */
  self->handover = self->shared && (self->loader_running || self->request_path)
                   && !decent_sharer_alone (self->shared); /* (the last: for no one) */
  self->handover_generation = self->load_generation;
  if (!self->handover) {
    self->load_generation++; /* a load still running is dropped */
    g_clear_pointer (&self->request_path, g_free);
  }
  g_mutex_unlock (&self->swap_lock);
  join_loader (self);
  g_mutex_lock (&self->swap_lock);
  if (self->handover) {
    self->handover = FALSE;
    self->load_generation++;
  }
  decent_model_free (self->pending_model);
  self->pending_model = NULL;
  decent_model_free (self->pending_companion);
  self->pending_companion = NULL;
  g_clear_pointer (&self->pending_path, g_free);
  g_mutex_unlock (&self->swap_lock);
  if (self->nonfinite_count > 1)
    GST_WARNING_OBJECT (self, "%" G_GUINT64_FORMAT " frames scored non-finite in all",
        self->nonfinite_count);
  /* stopped inside an event: the bus hears that it ended (no streaming now,
   * so nothing goes downstream; decentpublish closes its own record) */
  end_open_events (self, FALSE);
  g_clear_pointer (&self->sender_path, g_free);
  decent_event_pairs_forget (&self->pairs); /* (decentpublish closes its own) */
  decent_second_model_clear (&self->second); /* (before the model it may borrow from) */
  self->second_used = FALSE;
  drop_model (self);
  g_clear_pointer (&self->shared, decent_sharer_leave);
  note_running_device (self); /* none */
  set_shared_wait (self, 0);
  g_clear_pointer (&self->model_path, g_free);
  g_clear_pointer (&self->map, g_free);
  g_clear_pointer (&self->scratch_map, g_free);
  g_clear_pointer (&self->hot_sat, g_free);
  g_clear_pointer (&self->hot_means, g_free);
  g_clear_pointer (&self->still_map, g_free);
  self->n_hot = 0;
  decent_frame_path_clear (&self->path);
  g_clear_pointer (&self->still, decent_still_gate_free);
  self->still_used = FALSE;
  self->scored_seconds = 0.0; /* the next run's caps say again */
  self->paced_interval = 0;
  self->pace_measuring = FALSE;
  self->measured_seconds = 0; /* the next run's timestamps say again */
  self->path_ready = FALSE;
  self->have_result = FALSE;
  return TRUE;
}

static gboolean
gst_decent_anomaly_set_info (GstVideoFilter *filter, GstCaps *incaps, GstVideoInfo *in_info,
    GstCaps *outcaps, GstVideoInfo *out_info)
{
  GstDecentAnomaly *self = GST_DECENT_ANOMALY (filter);
  GST_DEBUG_OBJECT (self, "new format %" GST_PTR_FORMAT, incaps);
  /* the model sees whole frames; fields would be scaled as frames */
  if (GST_VIDEO_INFO_IS_INTERLACED (in_info)) {
    if (self->refused_caps && gst_caps_is_equal (incaps, self->refused_caps))
      return FALSE; /* said already */
    gst_caps_replace (&self->refused_caps, incaps);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Interlaced video is not supported; put deinterlace before decentanomaly."),
        ("The caps say interlace-mode=%s: %" GST_PTR_FORMAT,
            gst_video_interlace_mode_to_string (GST_VIDEO_INFO_INTERLACE_MODE (in_info)),
            incaps));
    return FALSE;
  }
  gst_caps_replace (&self->refused_caps, NULL); /* refused again later: said again */
  self->path_ready = FALSE; /* rebuilt for the new format by the next frame, which is scored */
  return TRUE;
}

/* A new stream or a seek: what came before is no history for the frames
 * after it.  An open event ends there (downstream too: it took the next
 * frames as its own before), the last result is not carried to the next
 * frame (inference-interval), and the still gates forget their pictures.
 * Streaming thread. */
static void
begin_anew (GstDecentAnomaly *self)
{
  end_open_events (self, TRUE);
  self->have_result = FALSE;
  decent_still_gate_reset (self->still);
  decent_still_gate_reset (self->second.still);
}

/* Controlled properties (threshold, overlay-alpha, heatmap-max) take their
 * values for the buffer's stream time before it is scored, as videobalance
 * does.  Streaming thread. */
static void
gst_decent_anomaly_before_transform (GstBaseTransform *trans, GstBuffer *buffer)
{
  /* controllers run on stream time: a segment in bytes has none */
  if (trans->segment.format != GST_FORMAT_TIME)
    return;
  const GstClockTime stream_time = gst_segment_to_stream_time (&trans->segment,
      GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
  if (GST_CLOCK_TIME_IS_VALID (stream_time))
    gst_object_sync_values (GST_OBJECT (trans), stream_time);
}

/* A frame of a sharer of model-instance-id may wait up to the engine's
 * batch-timeout for the other sharers' frames before it is scored: that is
 * latency this element adds, and a sink that syncs to the clock must be
 * told, or it drops the frames that waited as late (helper-62: 27 of 150
 * at 25 frames/s beside a 5 frames/s sharer, batch-timeout=250000).  The
 * scoring of the batch itself, as of a frame of its own, is processing
 * time, which sinks allow for (processing-deadline).  Any thread. */
static gboolean
gst_decent_anomaly_query (GstBaseTransform *trans, GstPadDirection direction,
    GstQuery *query)
{
  GstDecentAnomaly *self = GST_DECENT_ANOMALY (trans);
  if (!GST_BASE_TRANSFORM_CLASS (gst_decent_anomaly_parent_class)->query (trans, direction,
          query))
    return FALSE;
  if (GST_QUERY_TYPE (query) != GST_QUERY_LATENCY || direction != GST_PAD_SRC)
    return TRUE;
  GST_OBJECT_LOCK (self);
  const GstClockTime wait = self->shared_wait_us * GST_USECOND;
  GST_OBJECT_UNLOCK (self);
  if (wait == 0)
    return TRUE;
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency (query, &live, &min, &max);
  GST_DEBUG_OBJECT (self, "latency of upstream %" GST_TIME_FORMAT ", plus %" GST_TIME_FORMAT
      " of batch-timeout", GST_TIME_ARGS (min), GST_TIME_ARGS (wait));
  gst_query_set_latency (query, live, min + wait,
      GST_CLOCK_TIME_IS_VALID (max) ? max + wait : GST_CLOCK_TIME_NONE);
  return TRUE;
}

/* EOS, flush-stop and a new stream's stream-start close an open event.  All
 * are serialized events: they come with the sink pad's stream lock held, as
 * frames do, so events, last_score and frame_count are the streaming
 * thread's here too; the object lock is taken for the properties only. */
static gboolean
gst_decent_anomaly_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  GstDecentAnomaly *self = GST_DECENT_ANOMALY (trans);
  const GstEventType type = GST_EVENT_TYPE (event);
  if (type == GST_EVENT_FLUSH_START) /* not serialized: from the seeking thread */
    hurry_shared (self, TRUE);
  if (type == GST_EVENT_STREAM_START) { /* another stream (concat, a playlist) */
    begin_anew (self); /* ahead of the new stream, as at EOS */
    /* its timestamps may keep another pace than the last one's */
    self->measured_seconds = 0;
    if (self->path_ready)
      pace_still_gates (self, &GST_VIDEO_FILTER (self)->in_info, self->paced_interval);
  }
  if (type != GST_EVENT_EOS && type != GST_EVENT_FLUSH_STOP)
    return GST_BASE_TRANSFORM_CLASS (gst_decent_anomaly_parent_class)->sink_event (trans, event);
  if (type == GST_EVENT_EOS && self->shared) /* other sharers' batches stop waiting for it */
    decent_sharer_set_streaming (self->shared, FALSE);
  /* the ends go downstream before the end of stream, but after a flush
   * has stopped (while flushing the source pad drops every event) */
  if (type == GST_EVENT_EOS) {
    /* (ends held over a flush from downstream, when no frame came after it) */
    if (decent_event_pairs_holding (&self->pairs)
        && !GST_PAD_IS_FLUSHING (GST_BASE_TRANSFORM_SRC_PAD (trans)))
      decent_event_pairs_send_held (&self->pairs, GST_BASE_TRANSFORM_SRC_PAD (trans));
    end_open_events (self, TRUE);
  }
  gboolean ret =
      GST_BASE_TRANSFORM_CLASS (gst_decent_anomaly_parent_class)->sink_event (trans, event);
  if (type == GST_EVENT_FLUSH_STOP) {
    hurry_shared (self, FALSE);
    decent_event_pairs_send_held (&self->pairs, GST_BASE_TRANSFORM_SRC_PAD (trans));
    begin_anew (self);
  }
  return ret;
}

/* A score that is not finite (a model whose weights overflow on some
 * input): said once as a warning, then counted in the log.  Streaming, no lock. */
static void
note_nonfinite_score (GstDecentAnomaly *self, float score, const gchar *path)
{
  self->nonfinite_count++;
  if (self->nonfinite_count == 1) {
    gchar *name = decent_shown_name (path);
    GST_ELEMENT_WARNING (self, LIBRARY, FAILED,
        ("Model \"%s\" gave a non-finite score; such frames carry the last finite result and "
            "are not flagged.", name),
        ("Frame %" G_GUINT64_FORMAT " scored %g with model %s. Later ones are counted in the "
            "log (GST_DEBUG=decentanomaly:2). The model's weights overflow on this input: "
            "retrain it.", self->frame_count, score, name));
    g_free (name);
  } else if ((self->nonfinite_count & (self->nonfinite_count - 1)) == 0) {
    GST_WARNING_OBJECT (self, "%" G_GUINT64_FORMAT " frames have scored non-finite so far "
        "(frame %" G_GUINT64_FORMAT ": %g)", self->nonfinite_count, self->frame_count, score);
  }
}

/* ---- transform_frame_ip's steps ----------------------------------------
 * "Streaming" below: the streaming thread, holding the sink pad's stream lock
 * (gstdecentanomaly.h); the fields it owns need no other lock. */

/* Copies the properties one frame uses.  Takes the object lock. */
static void
snapshot_settings (GstDecentAnomaly *self, FrameSettings *set)
{
  GST_OBJECT_LOCK (self);
  set->threshold_prop = self->threshold_prop;
  set->mode = self->mode;
  set->alpha = self->overlay_alpha;
  set->heat_max = self->heatmap_max;
  set->flagged_only = self->flagged_only;
  set->attach = self->attach_heatmap;
  set->interval = MAX (self->inference_interval, 1);
  set->threads = self->threads;
  set->post = posts_messages (self);
  set->post_frames = set->post && self->messages == GST_DECENT_MESSAGES_ALL;
  set->keyunit = self->force_keyunit;
  set->asked = self->score_mode;
  set->roi = self->roi;
  set->roi_changed = self->roi_changed;
  self->roi_changed = FALSE;
  set->event_min_frames = self->event_min_frames;
  set->event_gap = self->event_gap;
  set->region_events = self->region_events;
  set->still = self->still_gate;
  GST_OBJECT_UNLOCK (self);
}

/* Applies the snapshot: a new roi, event sizes, scoring mode.  Streaming thread, no lock. */
static void
apply_settings (GstDecentAnomaly *self, const FrameSettings *set)
{
  if (set->roi_changed)
    self->path_ready = FALSE;
  self->events.min_frames = MAX (set->event_min_frames, 1);
  self->events.gap = MAX (set->event_gap, 1);
  self->regions.min_frames = self->events.min_frames;
  self->regions.gap = self->events.gap;
  if (!set->region_events)
    end_regions (self, set->post, TRUE, self->frame_count);
  choose_scoring (self, set->asked, set->threshold_prop >= 0);
  choose_still (self, set->still);
  /* another inference-interval is another pace (before the first frame,
   * setup_path paces them) */
  if (self->path_ready && set->interval != self->paced_interval)
    pace_still_gates (self, &GST_VIDEO_FILTER (self)->in_info, set->interval);
}

/* Sets the frame's threshold, times and whether it is scored now.  Streaming, no lock. */
static void
begin_frame (GstDecentAnomaly *self, const FrameSettings *set, FrameState *f)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  const gdouble model_thr = self->model_threshold[self->scoring];
  f->threshold = set->threshold_prop >= 0 ? set->threshold_prop
                 : model_thr > 0 ? model_thr : INFINITY;
  self->last_threshold = shown_threshold (f->threshold);
  f->ts = GST_BUFFER_PTS (f->frame->buffer);
  /* times only from a TIME segment (a BYTES one, from filesrc or appsrc,
   * has none): messages then leave the time fields out */
  const gboolean timed = trans->segment.format == GST_FORMAT_TIME;
  f->running_time = timed
      ? gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME, f->ts)
      : GST_CLOCK_TIME_NONE;
  f->stream_time = timed
      ? gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME, f->ts)
      : GST_CLOCK_TIME_NONE;
  /* a frame after new caps or a new roi is always scored: the path is
   * rebuilt only for scored frames, and drawing needs the path of this
   * frame's format */
  f->scored = !self->have_result || !self->path_ready
              || self->frame_count % set->interval == 0;
  f->scored_as.on_device = FALSE;
  f->flagged = FALSE;
  f->change = DECENT_EVENT_NONE;
  f->n_region_changes = 0;
  f->nonfinite_model = NULL;
  f->still = -1.0;
}

/* Whether the path already scores rect of a fw x fh frame at the model's
 * size, so that places on its grid stay the same places in the frame. */
static gboolean
same_scored_place (GstDecentAnomaly *self, gint fw, gint fh, const DecentRoi *rect)
{
  const DecentFramePath *p = &self->path;
  return GST_VIDEO_INFO_WIDTH (&p->frame_info) == fw
         && GST_VIDEO_INFO_HEIGHT (&p->frame_info) == fh
         && GST_VIDEO_INFO_WIDTH (&p->model_info) == self->model_w
         && GST_VIDEO_INFO_HEIGHT (&p->model_info) == self->model_h
         && p->rect.x == rect->x && p->rect.y == rect->y
         && p->rect.width == rect->width && p->rect.height == rect->height;
}

/* Builds the path for new caps or roi; FALSE: error posted.  Streaming, no lock. */
static gboolean
setup_path (GstDecentAnomaly *self, const FrameSettings *set, const FrameState *f)
{
  if (self->path_ready)
    return TRUE;
  gchar *why = NULL;
  const DecentRoi *roi = &set->roi;
  const DecentRoi whole = { FALSE, 0, 0, 0, 0 };
  DecentRoi clipped;
  const gint fw = GST_VIDEO_INFO_WIDTH (&f->frame->info),
             fh = GST_VIDEO_INFO_HEIGHT (&f->frame->info);
  const gboolean fits = decent_roi_clip (roi, fw, fh, &clipped);
  if (!fits)
    decent_roi_clip (&whole, fw, fh, &clipped);
  /* the open places end where they were found (the old path's rectangle)
   * only when the scored rectangle moves: a new framerate, colorimetry or
   * the same roi again keeps a place's event whole */
  if (!same_scored_place (self, fw, fh, &clipped))
    end_regions (self, set->post, TRUE, self->frame_count);
  if (!fits) {
    /* a camera that changes its resolution must not stop the pipeline: the
     * roi applies again once it fits (another roi, or the frame again) */
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("The roi lies outside the frame; scoring the whole frame until it fits."),
        ("roi %d,%d,%dx%d, frame %dx%d: set a roi for this resolution (docs/errors.md)",
            roi->x, roi->y, roi->width, roi->height, fw, fh));
    roi = &whole;
  }
  const DecentRoi kept_rect = self->path.rect;
  if (!decent_frame_path_setup (&self->path, &f->frame->info, roi, self->model_w,
          self->model_h, self->model_c, &why)) {
    self->path.rect = kept_rect; /* the places still open end where they were found */
    end_regions (self, set->post, TRUE, self->frame_count);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Cannot feed this video to the model."),
        ("%s (docs/errors.md).", why));
    g_free (why);
    return FALSE;
  }
  if (self->second.model) /* built by its first use (add_second); its gate starts again */
    decent_second_model_forget_path (&self->second);
  /* the pictures of another format or region are no history for these;
   * another framerate is another pace */
  pace_still_gates (self, &f->frame->info, set->interval);
  self->path_ready = TRUE;
  return TRUE;
}

/* Scores the frame on the shared engine: converted here, queued for the
 * engine's next batch.  Streaming, no lock. */
static gboolean
run_shared (GstDecentAnomaly *self, FrameState *f, float *score, DecentError *err)
{
  const guint8 *pixels = decent_frame_path_to_model (&self->path, f->frame);
  if (!pixels) {
    decent_fail (err, "the frame does not match the negotiated caps");
    return FALSE;
  }
  f->scored_as.pixels = pixels; /* for the still gate */
  return decent_sharer_score (self->shared, self->shared_model, pixels, self->scoring, score,
      self->scratch_map, err);
}

/* Averages the second model's map into scratch_map and its score into
 * *score, each relative to its model's threshold, in the first model's
 * units (so that the threshold, heatmap-max and the places keep their
 * meaning): a frame is flagged when the mean of the two normalised scores
 * is over 1.  Its places are the averaged map's windows above the
 * threshold; a change of the whole frame (a darkening) may have none.  A
 * non-finite score of the second model makes the frame's non-finite, with
 * the second model named.  FALSE: error posted.  Streaming, no lock. */
static gboolean
add_second (GstDecentAnomaly *self, const FrameSettings *set, FrameState *f, float *score,
    float *still)
{
  DecentError err;
  err.message[0] = '\0';
  gchar *why = NULL;
  if (!self->second.frames_ready
      && !decent_second_model_setup (&self->second, &f->frame->info, &self->path.rect, &why)) {
    gchar *name = decent_shown_name (self->second.path);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Cannot feed this video to the second model "
            "\"%s\".", name), ("%s (docs/errors.md).", why));
    g_free (name);
    g_free (why);
    return FALSE;
  }
  float other;
  if (!decent_second_model_blend (&self->second, f->frame, self->scoring,
          self->model_threshold[self->scoring], self->scratch_map, self->model_w,
          self->model_h, &other, still, &err)) {
    gchar *name = decent_shown_name (self->second.path), *reason = display_reason (&err);
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Scoring a frame with second model \"%s\" "
            "failed.", name), ("%s", reason));
    g_free (name);
    g_free (reason);
    return FALSE;
  }
  if (isfinite (*score) && !isfinite (other))
    f->nonfinite_model = self->second.path;
  *score = 0.5f * (*score + other);
  return TRUE;
}

/* Feeds the first model's gate with the frame's local map (scratch_map,
 * before the second model's is averaged in); *still gets its still score,
 * 1 = threshold, or -1 while the gate fills.  FALSE with the reason in err.
 * Streaming, no lock. */
static gboolean
push_still (GstDecentAnomaly *self, FrameState *f, float *still, DecentError *err)
{
  const guint8 *pixels = decent_frame_path_pixels (&self->path, f->frame, &f->scored_as);
  float r;
  const int got = pixels
      ? decent_still_gate_push (self->still, pixels, self->scratch_map, &r, err) : -1;
  if (got < 0 && !pixels)
    decent_fail (err, "the frame does not match the negotiated caps");
  *still = got == 1 ? r / decent_still_gate_threshold (self->still) : -1.0f;
  if (!isfinite (*still)) /* a hostile file's denormal threshold: no still score */
    *still = -1.0f;
  return got >= 0;
}

/* Takes the still gates' maps into the frame's map (scratch_map) in the
 * score's units, t_local times each gate's map over its own threshold,
 * averaged over the two models as their still scores are; each pixel
 * keeps the larger of the two maps.  The heatmap, the meta's map and the
 * places (region events) then show a thing that the gate found where the
 * frame's own map does not.  Streaming, no lock. */
static void
merge_still_map (GstDecentAnomaly *self)
{
  const gint w = self->model_w, h = self->model_h;
  const gsize plane = (gsize) w * h;
  const float *first = decent_still_gate_map (self->still);
  const float unit = (float) self->model_threshold[DECENT_SCORE_LOCAL];
  const float k1 = unit / decent_still_gate_threshold (self->still);
  if (!first || !self->still_map || !isfinite (k1))
    return;
  for (gsize p = 0; p < plane; p++)
    self->still_map[p] = k1 * first[p];
  if (self->second_used) {
    DecentSecondModel *s = &self->second;
    const float *second = decent_still_gate_map (s->still);
    const float k2 = unit / decent_still_gate_threshold (s->still);
    /* s->scratch: sized by this frame's decent_second_model_blend for this map */
    if (!second || !s->scratch || !isfinite (k2))
      return;
    decent_map_average_into (self->still_map, w, h, second, s->width, s->height, k2, s->scratch);
  }
  for (gsize p = 0; p < plane; p++) /* a hostile file's thresholds: nothing infinite */
    if (isfinite (self->still_map[p]) && self->still_map[p] > self->scratch_map[p])
      self->scratch_map[p] = self->still_map[p];
}

/* Scores the frame into scratch_map and *score; FALSE: error posted.  With
 * the still gates, a frame is flagged when either its score or the still
 * score is over its threshold: *score becomes the larger of the two, in the
 * score's units.  Streaming, no lock. */
static gboolean
run_model (GstDecentAnomaly *self, const FrameSettings *set, FrameState *f, float *score)
{
  DecentError err;
  err.message[0] = '\0';
  *score = 0;
  gboolean ok;
  /* this streaming thread's share (also for a second model beside a shared one) */
  decent_set_threads ((int) set->threads, NULL);
  if (self->shared) {
    ok = run_shared (self, f, score, &err);
  } else {
    ok = decent_frame_path_score (&self->path, self->model, f->frame, score,
        self->scratch_map, &f->scored_as, &err);
    /* the mean of the squared-error map is the paper's score; other modes
     * reduce the map their own way (on the CPU: it is small) */
    if (ok && self->scoring != DECENT_SCORE_MEAN)
      ok = decent_model_score_map (self->model, self->scoring, self->scratch_map, score,
          &err) == 0;
  }
  /* a map with a NaN would stay in the gate's running mean for good */
  float still = -1.0f, other = -1.0f;
  const gboolean gated = self->still_used && isfinite (*score);
  if (ok && gated)
    ok = push_still (self, f, &still, &err);
  if (!ok) {
    gchar *name = decent_shown_name (self->model_path), *reason = display_reason (&err);
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Scoring a frame with model \"%s\" failed.",
            name), ("%s", reason));
    g_free (name);
    g_free (reason);
    return FALSE;
  }
  if (self->second_used && !add_second (self, set, f, score, gated ? &other : NULL))
    return FALSE;
  if (self->second_used)
    still = still >= 0 && other >= 0 ? 0.5f * (still + other) : -1.0f;
  const float as_score = still * self->model_threshold[DECENT_SCORE_LOCAL];
  if (gated && still >= 0 && isfinite (*score) && isfinite (as_score)) {
    f->still = still;
    if (as_score > *score)
      *score = as_score;
    merge_still_map (self);
  }
  return TRUE;
}

/* The hot windows of the kept map at threshold (local scores only: the
 * mean has no place), of flagged results only: the hottest window's score
 * (with the model's surround in local mode) is the frame's (beside a
 * second model the mean of two models' scores, which the averaged map's
 * windows need not reach), so an unflagged result has none.  Streaming, no
 * lock. */
static void
find_hot (GstDecentAnomaly *self, gdouble threshold)
{
  self->n_hot = 0;
  self->hot_threshold = threshold;
  if (self->scoring != DECENT_SCORE_MEAN && self->last_score > threshold)
    self->n_hot = (guint) decent_local_hot_windows (self->map, self->model_w, self->model_h,
        self->win_w, self->win_h, self->scoring == DECENT_SCORE_LOCAL ? self->surround : 0.0f,
        threshold, self->hot, DECENT_MAX_REGIONS / 2, self->hot_sat, self->hot_means);
}

/* The scored frame's hot windows, and what they begin or end.  Streaming, no lock. */
static void
find_regions (GstDecentAnomaly *self, const FrameSettings *set, FrameState *f)
{
  find_hot (self, f->threshold);
  if (set->region_events)
    f->n_region_changes = decent_regions_push (&self->regions, self->hot, self->n_hot,
        self->frame_count, f->running_time, f->region_changes);
}

/* Keeps a finite score as the result, feeds the event trackers.  Streaming, no lock. */
static void
keep_result (GstDecentAnomaly *self, const FrameSettings *set, FrameState *f, float score)
{
  if (!isfinite (score)) {
    /* never a NaN downstream: the frame carries the last finite result
     * (and map), is not flagged, and the GPU's map of it is not drawn */
    note_nonfinite_score (self, score, f->nonfinite_model ? f->nonfinite_model
                                                          : self->model_path);
    f->scored = FALSE;
    f->scored_as.on_device = FALSE;
    self->result_invalid = TRUE;
    return;
  }
  float *t = self->map;
  self->map = self->scratch_map;
  self->scratch_map = t;
  self->have_result = TRUE;
  self->result_invalid = FALSE;
  self->last_score = score;
  self->last_still = f->still;
  self->last_scored_frame = self->frame_count;
  self->last_flagged = score > f->threshold;
  f->change = decent_events_push (&self->events, self->last_flagged, score, self->frame_count,
      f->running_time);
  find_regions (self, set, f);
}

/* Attaches GstDecentAnomalyMeta (the result may be carried).  Streaming, no lock. */
static void
attach_meta (GstDecentAnomaly *self, const FrameSettings *set, const FrameState *f)
{
  GstDecentAnomalyMeta *meta = gst_buffer_add_decent_anomaly_meta (f->frame->buffer,
      self->last_score, shown_threshold (f->threshold), f->flagged,
      set->attach ? self->map : NULL, self->model_w, self->model_h);
  if (!meta)
    return;
  meta->scored = f->scored;
  meta->frame_number = self->frame_count;
  meta->scored_frame_number = self->last_scored_frame;
  meta->roi_x = self->path.rect.x;
  meta->roi_y = self->path.rect.y;
  meta->roi_width = self->path.rect.width;
  meta->roi_height = self->path.rect.height;
  meta->score_mode = (gint) self->scoring;
  if (f->flagged) { /* for ROI-aware elements: where the anomaly was looked for */
    GstVideoRegionOfInterestMeta *roi = gst_buffer_add_video_region_of_interest_meta (
        f->frame->buffer, "anomaly", meta->roi_x, meta->roi_y, meta->roi_width,
        meta->roi_height);
    if (roi)
      gst_video_region_of_interest_meta_add_param (roi, gst_structure_new ("decent-anomaly",
              "score", G_TYPE_DOUBLE, meta->score, "threshold", G_TYPE_DOUBLE, meta->threshold,
              "normalized-score", G_TYPE_DOUBLE, meta->normalized_score, NULL));
    /* and each hot place of the map, where the score was found */
    for (guint i = 0; i < self->n_hot; i++) {
      const DecentWindow *w = &self->hot[i];
      gint x, y, ww, wh;
      grid_to_frame (self, w->x, w->y, w->width, w->height, &x, &y, &ww, &wh);
      GstVideoRegionOfInterestMeta *place = gst_buffer_add_video_region_of_interest_meta (
          f->frame->buffer, "anomaly-region", x, y, ww, wh);
      if (place)
        gst_video_region_of_interest_meta_add_param (place, gst_structure_new (
                "decent-anomaly-region", "score", G_TYPE_DOUBLE, (gdouble) w->mean,
                "normalized-score", G_TYPE_DOUBLE,
                gst_decent_anomaly_normalized_score (w->mean, meta->threshold), NULL));
    }
#ifdef DECENT_HAVE_ANALYTICS
    /* GStreamer >= 1.24's analytics meta: an "anomaly" detection whose
     * confidence is the normalized score capped at 1 (built only where the
     * library is found; Debian 12's 1.22 has none, so this path is untested
     * here) */
    GstAnalyticsRelationMeta *rmeta = gst_buffer_add_analytics_relation_meta (f->frame->buffer);
    GstAnalyticsODMtd od;
    if (rmeta)
      gst_analytics_relation_meta_add_od_mtd (rmeta, g_quark_from_static_string ("anomaly"),
          (gint) meta->roi_x, (gint) meta->roi_y, (gint) meta->roi_width,
          (gint) meta->roi_height, (gfloat) MIN (meta->normalized_score, 1.0), &od);
#endif
  }
}

/* Draws heatmap or overlay, on the GPU when it holds the frame.  Streaming, no lock. */
static void
draw_heatmap (GstDecentAnomaly *self, const FrameSettings *set, FrameState *f)
{
  const gdouble threshold = f->threshold;
  gdouble max_error = set->heat_max > 0 ? set->heat_max
                      : isfinite (threshold) && threshold > 0
                      ? (threshold < G_MAXDOUBLE / 2 ? 2.0 * threshold : G_MAXDOUBLE) : 1.0;
  const gboolean overlay = set->mode == GST_DECENT_MODE_OVERLAY;
  const gdouble a = overlay ? set->alpha : 1.0;
  DecentError gpu;
  gpu.message[0] = '\0';
  /* on the device that scored the frame when it can, else on the CPU */
  if (!decent_frame_path_draw (&self->path, self->model, f->frame, &f->scored_as, self->map,
          max_error, a, overlay, &gpu))
    GST_WARNING_OBJECT (self, "frame %" G_GUINT64_FORMAT " could not be drawn on",
        self->frame_count);
  if (gpu.message[0])
    GST_WARNING_OBJECT (self, "drawing on the GPU failed (%s); drew on the CPU", gpu.message);
}

/* Asks upstream for a key frame (an event began).  Streaming, no lock. */
static void
request_key_unit (GstDecentAnomaly *self, GstClockTime running_time)
{
  gst_pad_push_event (GST_BASE_TRANSFORM_SINK_PAD (GST_BASE_TRANSFORM (self)),
      gst_video_event_new_upstream_force_key_unit (running_time, TRUE, ++self->keyunit_count));
}

/* The frame's region begins and ends.  Streaming, no lock held. */
static void
post_region_changes (GstDecentAnomaly *self, const FrameSettings *set, const FrameState *f)
{
  for (guint i = 0; i < f->n_region_changes; i++) {
    const DecentRegionChange *c = &f->region_changes[i];
    if (c->change == DECENT_EVENT_BEGAN)
      GST_INFO_OBJECT (self, "region event %" G_GUINT64_FORMAT " begins at frame %"
          G_GUINT64_FORMAT, c->event.id, c->event.start_frame);
    announce_event (self, region_structure_new (self, c, self->frame_count, f->running_time),
        set->post, TRUE);
  }
}

/* Posts the score and event messages; may ask for a key frame.  Streaming, no lock held. */
static void
post_frame_messages (GstDecentAnomaly *self, const FrameSettings *set, const FrameState *f)
{
  if (set->post_frames && f->scored)
    post_structure (self, score_structure_new (self, f));
  /* nested: the frame's begin before its places', their ends before its end */
  if (f->change != DECENT_EVENT_BEGAN)
    post_region_changes (self, set, f);
  if (f->change == DECENT_EVENT_BEGAN) {
    GST_INFO_OBJECT (self, "anomaly event begins at frame %" G_GUINT64_FORMAT,
        self->events.start_frame);
    announce_event (self, event_structure_new (self, "begin", self->frame_count,
        f->running_time, self->last_score), set->post, TRUE);
    if (set->keyunit)
      request_key_unit (self, f->running_time);
  } else if (f->change == DECENT_EVENT_ENDED) {
    GST_INFO_OBJECT (self, "anomaly event ends after %" G_GUINT64_FORMAT " frames",
        decent_events_frames (&self->events));
    announce_event (self, event_structure_new (self, "end", self->frame_count,
        f->running_time, self->last_score), set->post, TRUE);
  }
  if (f->change == DECENT_EVENT_BEGAN)
    post_region_changes (self, set, f);
}

/* The steps above, in order; flagged-only drops unflagged frames.  Streaming thread;
 * swap_pending_model takes swap_lock, snapshot_settings the object lock. */
static GstFlowReturn
gst_decent_anomaly_transform_frame_ip (GstVideoFilter *filter, GstVideoFrame *frame)
{
  GstDecentAnomaly *self = GST_DECENT_ANOMALY (filter);
  FrameSettings set;
  FrameState f = { .frame = frame };

  g_mutex_lock (&self->start_lock); /* a start() under way ends first */
  g_mutex_unlock (&self->start_lock);
  /* a flush that only the pipeline downstream saw (sent upstream from a
   * sink) stops without a flush-stop on the sink pad: its held ends go
   * ahead of the first frame after it */
  GstPad *src = GST_BASE_TRANSFORM_SRC_PAD (GST_BASE_TRANSFORM (self));
  if (decent_event_pairs_holding (&self->pairs) && !GST_PAD_IS_FLUSHING (src))
    decent_event_pairs_send_held (&self->pairs, src);
  swap_pending_model (self);
  if (self->shared)
    adopt_shared_model (self);
  if (!self->model) {
    g_mutex_lock (&self->swap_lock);
    const gboolean started = self->started;
    g_mutex_unlock (&self->swap_lock);
    if (!started) /* start() failed, and said why: the pad is going down */
      return GST_FLOW_FLUSHING;
    GST_ELEMENT_ERROR (self, CORE, STATE_CHANGE, ("No model is loaded."), (NULL));
    return GST_FLOW_ERROR;
  }
  snapshot_settings (self, &set);
  apply_settings (self, &set);
  begin_frame (self, &set, &f);
  if (f.scored) {
    float score;
    if (!setup_path (self, &set, &f))
      return GST_FLOW_ERROR;
    pace_from_timestamps (self, &f);
    if (!run_model (self, &set, &f, &score))
      return GST_FLOW_ERROR;
    keep_result (self, &set, &f, score);
  }
  /* a changed threshold applies to carried results too, and to their places */
  f.flagged = !self->result_invalid && self->last_score > f.threshold;
  if (!f.scored && self->have_result) {
    /* a carried flagged result is a flagged frame of the open event too: its
     * frames and last flagged time count it, as the meta and flagged-only do
     * (events open and close on scored frames only); so are its hot places
     * for their region events */
    if (f.flagged)
      decent_events_carry (&self->events, self->frame_count, f.running_time);
    if (!self->result_invalid)
      decent_regions_carry (&self->regions, self->frame_count, f.running_time);
    if (f.threshold != self->hot_threshold)
      find_hot (self, f.threshold);
  }
  attach_meta (self, &set, &f);
  if (set.mode != GST_DECENT_MODE_PASSTHROUGH)
    draw_heatmap (self, &set, &f);
  post_frame_messages (self, &set, &f);
  self->last_running_time = f.running_time;
  self->frame_count++;
  /* (no gap event for a dropped frame: an encoder downstream keeps every
   * gap that comes before its first frame, and a normal scene can go for
   * days without one; sinks after flagged-only take async=false instead) */
  return set.flagged_only && !f.flagged ? GST_BASE_TRANSFORM_FLOW_DROPPED : GST_FLOW_OK;
}

/* GstVideoFilter's, which maps the frame and calls transform_frame_ip. */
static GstFlowReturn (*video_filter_transform_ip) (GstBaseTransform *trans, GstBuffer *buffer);

/* A buffer too small for a frame of the caps (an empty GAP buffer, a broken
 * source), or whose GstVideoMeta describes memory it does not have, passes
 * on unscored, without meta, said once in words: GstVideoFilter says only
 * "code not implemented" for a short one, and maps, and the overlay writes,
 * where a lying meta points (past the buffer: helper-69).  Streaming
 * thread. */
static GstFlowReturn
gst_decent_anomaly_transform_ip (GstBaseTransform *trans, GstBuffer *buffer)
{
  GstDecentAnomaly *self = GST_DECENT_ANOMALY (trans);
  gchar *why = NULL;
  if (GST_VIDEO_FILTER (trans)->negotiated
      && !decent_buffer_layout_fits (buffer, &GST_VIDEO_FILTER (trans)->in_info, &why)) {
    if (self->short_buffers++ == 0)
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("A buffer that does not hold the video frame it should was passed on unscored; "
              "later ones are counted in the log."), ("%s", why));
    else
      GST_WARNING_OBJECT (self, "%" G_GUINT64_FORMAT " buffers not holding a frame passed on "
          "(%s)", self->short_buffers, why);
    g_free (why);
    return GST_FLOW_OK;
  }
  return video_filter_transform_ip (trans, buffer);
}

/* Downstream's answer to upstream's allocation query, less GstVideoCropMeta:
 * the frame is scored and drawn on whole, so a crop left to a meta (what
 * videocrop does when downstream takes one) would have the uncropped
 * picture scored and the overlay drawn over it (helper-70); without the
 * meta, upstream crops the pixels themselves. */
static gboolean
gst_decent_anomaly_propose_allocation (GstBaseTransform *trans, GstQuery *decide_query,
    GstQuery *query)
{
  if (!GST_BASE_TRANSFORM_CLASS (gst_decent_anomaly_parent_class)->propose_allocation (trans,
          decide_query, query))
    return FALSE;
  guint index;
  while (gst_query_find_allocation_meta (query, GST_VIDEO_CROP_META_API_TYPE, &index))
    gst_query_remove_nth_allocation_meta (query, index);
  return TRUE;
}

/* ---- properties ------------------------------------------------------- */

static void
gst_decent_anomaly_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  GstDecentAnomaly *self = GST_DECENT_ANOMALY (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_LOCATION: {
      gchar *path = g_value_dup_string (value);
      g_free (self->model_location);
      self->model_location = path;
      const guint serial = ++self->location_serial;
      DecentDevice device = self->device;
      gchar *request = g_strdup (path);
      GST_OBJECT_UNLOCK (self);
      GST_DEBUG_OBJECT (self, "model-location set to %s (set %u)", request, serial);
      if (request && *request)
        request_load (self, request, device, serial); /* only while started */
      else {
        gboolean shared;
        if (drop_loads (self, serial, &shared))
          GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
              ("An empty model-location loads nothing; the model in use goes on scoring."),
              ("%s; set model-location to a model file to load another (the next start needs "
                  "one)", shared ? "a reload of the shared model already asked for still "
                  "takes place" : "a load asked for before it is dropped"));
      }
      g_free (request);
      return;
    }
    case PROP_DEVICE: {
      const gboolean changed = (gint) self->device != g_value_get_enum (value);
      self->device = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      if (changed)
        warn_device_at_next_load (self, g_value_get_enum (value));
      return;
    }
    case PROP_THRESHOLD:
      self->threshold_prop = g_value_get_double (value);
      break;
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_OVERLAY_ALPHA:
      self->overlay_alpha = g_value_get_double (value);
      break;
    case PROP_HEATMAP_MAX:
      self->heatmap_max = g_value_get_double (value);
      break;
    case PROP_FLAGGED_ONLY:
      self->flagged_only = g_value_get_boolean (value);
      break;
    case PROP_INFERENCE_INTERVAL:
      self->inference_interval = g_value_get_uint (value);
      break;
    case PROP_THREADS: {
      const guint threads = g_value_get_uint (value);
      const gboolean changed = threads != self->threads;
      self->threads = threads;
      GST_OBJECT_UNLOCK (self);
      g_mutex_lock (&self->swap_lock);
      const gboolean started = self->started, shared = self->running_shared;
      g_mutex_unlock (&self->swap_lock);
      /* an own engine takes it at the next frame; a shared one keeps its
       * own until it starts again */
      if (started && changed && shared)
        warn_engine_needs_restart (self, pspec->name);
      else if (started && changed)
        warn_threads_over_cores (self, threads);
      return;
    }
    case PROP_ROI: {
      DecentRoi roi;
      gchar *why = NULL;
      const gchar *text = g_value_get_string (value);
      if (decent_roi_parse (text, &roi, &why)) {
        /* the same rectangle again changes nothing (a path rebuilt for it
         * would end open region events and start the still gate again) */
        if (memcmp (&roi, &self->roi, sizeof roi) != 0)
          self->roi_changed = TRUE;
        self->roi = roi;
        g_free (self->roi_text);
        self->roi_text = g_strdup (text ? text : "");
        g_clear_pointer (&self->roi_error, g_free);
      } else {
        /* set while stopped, the warning may reach nobody (gst-launch
         * parses properties before there is a bus; a stopped pipeline's bus
         * drops messages): kept until a valid roi, and start() refuses to
         * run with it.  While running, the warning says it. */
        if (GST_STATE (self) < GST_STATE_PAUSED) {
          g_free (self->roi_error);
          self->roi_error = g_strdup (why);
        }
        GST_OBJECT_UNLOCK (self);
        GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("Invalid roi; keeping the previous one."),
            ("%s", why));
        g_free (why);
        return;
      }
      break;
    }
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    case PROP_MESSAGE_MODE:
      self->messages = g_value_get_enum (value);
      break;
    case PROP_EVENT_MIN_FRAMES:
      self->event_min_frames = g_value_get_uint (value);
      break;
    case PROP_EVENT_GAP:
      self->event_gap = g_value_get_uint (value);
      break;
    case PROP_REGION_EVENTS:
      self->region_events = g_value_get_boolean (value);
      break;
    case PROP_FORCE_KEYUNIT:
      self->force_keyunit = g_value_get_boolean (value);
      break;
    case PROP_ATTACH_HEATMAP:
      self->attach_heatmap = g_value_get_boolean (value);
      break;
    case PROP_SCORE_MODE:
      self->score_mode = g_value_get_enum (value);
      break;
    case PROP_MODEL_INSTANCE_ID:
    case PROP_BATCH_SIZE:
    case PROP_BATCH_TIMEOUT: {
      gboolean changed;
      if (prop_id == PROP_MODEL_INSTANCE_ID) {
        const gchar *id = g_value_get_string (value);
        changed = g_strcmp0 (id && *id ? id : NULL, self->model_instance_id
            && *self->model_instance_id ? self->model_instance_id : NULL) != 0;
        g_free (self->model_instance_id);
        self->model_instance_id = g_value_dup_string (value);
      } else if (prop_id == PROP_BATCH_SIZE) {
        changed = self->batch_size != g_value_get_uint (value);
        self->batch_size = g_value_get_uint (value);
      } else {
        changed = self->batch_timeout_us != g_value_get_uint64 (value);
        self->batch_timeout_us = g_value_get_uint64 (value);
      }
      /* batching without an id is never used: not "at the next start" */
      const gboolean unused = prop_id != PROP_MODEL_INSTANCE_ID
          && (!self->model_instance_id || !*self->model_instance_id);
      GST_OBJECT_UNLOCK (self);
      g_mutex_lock (&self->swap_lock);
      const gboolean started = self->started;
      g_mutex_unlock (&self->swap_lock);
      if (started && changed && unused)
        GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
            ("%s is not used without model-instance-id; each frame is scored as it comes.",
                pspec->name), ("batch-size and batch-timeout batch the frames of elements "
                "that share a model: give them the same model-instance-id"));
      else if (started && changed)
        warn_engine_needs_restart (self, pspec->name);
      return;
    }
    case PROP_STILL_GATE:
      self->still_gate = g_value_get_boolean (value);
      break;
    case PROP_SECOND_MODEL_LOCATION: {
      g_free (self->second_location);
      self->second_location = g_value_dup_string (value);
      self->second_serial++;
      GST_OBJECT_UNLOCK (self);
      g_mutex_lock (&self->swap_lock);
      const gboolean started = self->started;
      g_mutex_unlock (&self->swap_lock);
      if (started)
        warn_second_needs_restart (self);
      return;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_decent_anomaly_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstDecentAnomaly *self = GST_DECENT_ANOMALY (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_LOCATION: g_value_set_string (value, self->model_location); break;
    case PROP_DEVICE: g_value_set_enum (value, self->device); break;
    case PROP_THRESHOLD: g_value_set_double (value, self->threshold_prop); break;
    case PROP_MODE: g_value_set_enum (value, self->mode); break;
    case PROP_OVERLAY_ALPHA: g_value_set_double (value, self->overlay_alpha); break;
    case PROP_HEATMAP_MAX: g_value_set_double (value, self->heatmap_max); break;
    case PROP_FLAGGED_ONLY: g_value_set_boolean (value, self->flagged_only); break;
    case PROP_INFERENCE_INTERVAL: g_value_set_uint (value, self->inference_interval); break;
    case PROP_THREADS: g_value_set_uint (value, self->threads); break;
    case PROP_ROI: g_value_set_string (value, self->roi_text); break;
    case PROP_POST_MESSAGES: g_value_set_boolean (value, self->post_messages); break;
    case PROP_MESSAGE_MODE: g_value_set_enum (value, self->messages); break;
    case PROP_EVENT_MIN_FRAMES: g_value_set_uint (value, self->event_min_frames); break;
    case PROP_EVENT_GAP: g_value_set_uint (value, self->event_gap); break;
    case PROP_REGION_EVENTS: g_value_set_boolean (value, self->region_events); break;
    case PROP_FORCE_KEYUNIT: g_value_set_boolean (value, self->force_keyunit); break;
    case PROP_ATTACH_HEATMAP: g_value_set_boolean (value, self->attach_heatmap); break;
    case PROP_SCORE_MODE: g_value_set_enum (value, self->score_mode); break;
    case PROP_MODEL_INSTANCE_ID: g_value_set_string (value, self->model_instance_id); break;
    case PROP_BATCH_SIZE: g_value_set_uint (value, self->batch_size); break;
    case PROP_BATCH_TIMEOUT: g_value_set_uint64 (value, self->batch_timeout_us); break;
    case PROP_SECOND_MODEL_LOCATION: g_value_set_string (value, self->second_location); break;
    case PROP_STILL_GATE: g_value_set_boolean (value, self->still_gate); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_decent_anomaly_finalize (GObject *object)
{
  GstDecentAnomaly *self = GST_DECENT_ANOMALY (object);
  join_loader (self); /* already done by stop(), unless the loader finalizes us */
  g_free (self->model_location);
  gst_caps_replace (&self->refused_caps, NULL);
  g_free (self->roi_text);
  g_free (self->roi_error);
  g_free (self->request_path);
  g_free (self->model_instance_id);
  g_free (self->second_location);
  decent_second_model_clear (&self->second); /* empty after stop() */
  drop_model (self);
  decent_sharer_leave (self->shared); /* NULL after stop() */
  decent_model_free (self->pending_model);
  decent_model_free (self->pending_companion);
  g_free (self->pending_path);
  g_free (self->model_path);
  g_free (self->sender_path);
  g_free (self->map);
  g_free (self->scratch_map);
  g_free (self->hot_sat);
  g_free (self->hot_means);
  g_free (self->still_map);
  decent_frame_path_clear (&self->path);
  g_mutex_clear (&self->swap_lock);
  decent_event_pairs_clear (&self->pairs);
  g_mutex_clear (&self->start_lock);
  G_OBJECT_CLASS (gst_decent_anomaly_parent_class)->finalize (object);
}

static void
gst_decent_anomaly_init (GstDecentAnomaly *self)
{
  self->device = DECENT_DEVICE_AUTO;
  self->threshold_prop = DEFAULT_THRESHOLD;
  self->mode = DEFAULT_MODE;
  self->overlay_alpha = DEFAULT_ALPHA;
  self->inference_interval = DEFAULT_INTERVAL;
  self->post_messages = TRUE;
  self->messages = DEFAULT_MESSAGES;
  self->event_min_frames = DEFAULT_MIN_FRAMES;
  self->event_gap = DEFAULT_GAP;
  self->region_events = DEFAULT_REGION_EVENTS;
  self->roi_text = g_strdup ("");
  self->score_mode = DEFAULT_SCORE_MODE;
  self->scoring_asked = -1;
  self->batch_size = DEFAULT_BATCH_SIZE;
  self->batch_timeout_us = DEFAULT_BATCH_TIMEOUT_US;
  self->still_gate = TRUE;
  self->last_still = -1.0;
  g_mutex_init (&self->swap_lock);
  decent_event_pairs_init (&self->pairs);
  g_mutex_init (&self->start_lock);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  /* GstVideoFilter handles QoS: a late frame (a display sink behind) would
   * be dropped before it is scored, silently, and never counted or passed
   * on; a detector scores every frame unless asked (qos=true) */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}

/* Stopping (PAUSED to READY) waits for the streaming thread, which may be
 * waiting on a shared engine for other sharers' frames: it is hurried
 * first, as at a flush. */
static GstStateChangeReturn
gst_decent_anomaly_change_state (GstElement *element, GstStateChange transition)
{
  GstDecentAnomaly *self = GST_DECENT_ANOMALY (element);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    hurry_shared (self, TRUE);
  const GstStateChangeReturn ret =
      GST_ELEMENT_CLASS (gst_decent_anomaly_parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY && ret == GST_STATE_CHANGE_FAILURE)
    hurry_shared (self, FALSE); /* still running: its batches wait as before */
  return ret;
}

#define RW (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)
#define RW_PLAYING (RW | GST_PARAM_MUTABLE_PLAYING)
/* also driven by a GstControlSource over stream time (before_transform) */
#define RW_CONTROLLABLE (RW_PLAYING | GST_PARAM_CONTROLLABLE)

static void
gst_decent_anomaly_class_init (GstDecentAnomalyClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  gobject_class->set_property = gst_decent_anomaly_set_property;
  gobject_class->get_property = gst_decent_anomaly_get_property;
  gobject_class->finalize = gst_decent_anomaly_finalize;

  g_object_class_install_property (gobject_class, PROP_MODEL_LOCATION,
      g_param_spec_string ("model-location", "Model location",
          "Model file written by decent-train. Changing it while playing loads the new model "
          "in the background and swaps it in between two frames (message "
          "\"decentanomaly-model\")", NULL, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_enum ("device", "Device",
          "Where the model runs, when it is loaded: auto picks the GPU when one is usable, "
          "else the CPU, and logs which and why",
          GST_TYPE_DECENT_DEVICE, DECENT_DEVICE_AUTO, RW));
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "Threshold",
          "Score above which a frame is flagged; below 0 (-1) uses the threshold calibrated in "
          "the model file", -1.0, G_MAXDOUBLE, DEFAULT_THRESHOLD, RW_CONTROLLABLE));
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode", "What is drawn on the frames", GST_TYPE_DECENT_MODE,
          DEFAULT_MODE, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_OVERLAY_ALPHA,
      g_param_spec_double ("overlay-alpha", "Overlay alpha",
          "Opacity of the heatmap in overlay mode", 0.0, 1.0, DEFAULT_ALPHA, RW_CONTROLLABLE));
  g_object_class_install_property (gobject_class, PROP_HEATMAP_MAX,
      g_param_spec_double ("heatmap-max", "Heatmap maximum",
          "Per-pixel error drawn in the hottest colour; 0 means twice the threshold", 0.0,
          G_MAXDOUBLE, 0.0, RW_CONTROLLABLE));
  g_object_class_install_property (gobject_class, PROP_FLAGGED_ONLY,
      g_param_spec_boolean ("flagged-only", "Flagged only",
          "Drop every frame that is not flagged, so that only anomalous frames go downstream "
          "(give the sink after it async=false: while nothing is flagged it gets no frame "
          "to preroll on)",
          FALSE, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_INFERENCE_INTERVAL,
      g_param_spec_uint ("inference-interval", "Inference interval",
          "Score every Nth frame (1 = every frame); the others carry the last result", 1, 10000,
          DEFAULT_INTERVAL, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_uint ("threads", "Threads", "CPU threads for scoring (0: OMP_NUM_THREADS "
          "if set, else one per core); several pipelines or cameras on one machine can share "
          "the cores", 0,
          DECENT_MAX_THREADS, 0,
          RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_ROI,
      g_param_spec_string ("roi", "Region of interest",
          "Score only this region, \"x,y,width,height\" in frame pixels (clipped to the frame); "
          "empty scores the whole frame", "", RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post element messages on the bus (see message-mode)", TRUE, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MESSAGE_MODE,
      g_param_spec_enum ("message-mode", "Message mode",
          "Which messages to post: \"decentanomaly\" per scored frame and/or "
          "\"decentanomaly-event\" when an event begins and ends", GST_TYPE_DECENT_MESSAGES,
          DEFAULT_MESSAGES, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_EVENT_MIN_FRAMES,
      g_param_spec_uint ("event-min-frames", "Event minimum frames",
          "Consecutive flagged scored frames that open an event", 1, 100000, DEFAULT_MIN_FRAMES,
          RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_EVENT_GAP,
      g_param_spec_uint ("event-gap", "Event gap",
          "Consecutive unflagged scored frames that close an event", 1, 100000, DEFAULT_GAP,
          RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_REGION_EVENTS,
      g_param_spec_boolean ("region-events", "Region events",
          "Also post \"decentanomaly-region\" when an event of one place begins and ends "
          "(score modes local and normalized: each hot window of the map is a place; the "
          "event sizes are event-min-frames and event-gap), so that an object that appears "
          "while another place is anomalous is told apart", DEFAULT_REGION_EVENTS,
          RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_FORCE_KEYUNIT,
      g_param_spec_boolean ("force-keyunit", "Force key unit",
          "Ask upstream for a key frame when an event begins, so that a recording starts "
          "cleanly", FALSE, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_ATTACH_HEATMAP,
      g_param_spec_boolean ("attach-heatmap", "Attach heatmap",
          "Put the per-pixel map of the score mode (model resolution) into the buffer "
          "metadata", FALSE, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SCORE_MODE,
      g_param_spec_enum ("score-mode", "Score mode",
          "How a frame's error map becomes its score, each with its own threshold calibrated "
          "by decent-train: local (default) finds objects of about local-area of the frame "
          "without diluting them by the whole frame; mean is the paper's score; normalized "
          "divides each pixel's error by what is normal there (docs/method.md)",
          GST_TYPE_DECENT_SCORE_MODE, DEFAULT_SCORE_MODE, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MODEL_INSTANCE_ID,
      g_param_spec_string ("model-instance-id", "Model instance id",
          "Elements of one process with the same id share one loaded model and score their "
          "frames together in batches (batch-size, batch-timeout); they must name the same "
          "model-location and device. A new model-location on one of them while playing "
          "replaces the model of all. Empty: a model of its own", NULL,
          RW | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size",
          "With model-instance-id: frames of the sharers scored in one call, at most (the "
          "first sharer's value counts)", 1, DECENT_SHARED_MAX_BATCH, DEFAULT_BATCH_SIZE,
          RW | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_BATCH_TIMEOUT,
      g_param_spec_uint64 ("batch-timeout", "Batch timeout",
          "With model-instance-id: microseconds a frame waits at most for the other sharers' "
          "frames before its batch is scored (the first sharer's value counts)", 0,
          DECENT_SHARED_MAX_TIMEOUT_US, DEFAULT_BATCH_TIMEOUT_US,
          RW | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SECOND_MODEL_LOCATION,
      g_param_spec_string ("second-model-location", "Second model location",
          "A second model that scores every frame too (e.g. one latent cell, latent-side=0, "
          "beside model-location's grid of cells): each model's score and map relative to its "
          "own calibrated threshold, averaged, so that a frame is flagged when the two together "
          "find it anomalous. Scores, threshold and heatmap stay in model-location's units. Read "
          "when the element starts; never shared. Empty: the companion model-location's file "
          "carries (decent-train's default), or none", NULL,
          RW | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_STILL_GATE,
      g_param_spec_boolean ("still-gate", "Still gate",
          "With score-mode=local and models that decent-train calibrated a still gate for "
          "(still-lag): also flag a frame when something new stays put where the picture is "
          "otherwise still (a left bag), which people walking by do not do; its score, "
          "relative to its own threshold, is the per-frame message's still-score. Flags only "
          "add: a frame is flagged when either score is over its threshold, and the frame's map "
          "takes the gate's in. It needs still-lag frames of history, in the seconds of the "
          "model's calibration footage when the model and the caps have a framerate, and "
          "starts again after new caps, a new roi, a new inference-interval, a seek, or a "
          "change of the frames' pace that lasts 10 s",
          TRUE, RW | GST_PARAM_MUTABLE_PLAYING));

  GstCaps *caps = gst_caps_from_string (GST_VIDEO_CAPS_MAKE (GST_DECENT_VIDEO_FORMATS));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
  gst_caps_unref (caps);
  gst_element_class_set_static_metadata (element_class, "Decentralization anomaly detector",
      "Filter/Analyzer/Video",
      "Scores frames by the reconstruction error of an autoencoder trained on normal footage "
      "with the latent decentralization loss; flags, overlays and reports anomalies",
      "gst-decent developers");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_decent_anomaly_change_state);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_decent_anomaly_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_decent_anomaly_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_decent_anomaly_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_decent_anomaly_query);
  trans_class->before_transform = GST_DEBUG_FUNCPTR (gst_decent_anomaly_before_transform);
  trans_class->propose_allocation = GST_DEBUG_FUNCPTR (gst_decent_anomaly_propose_allocation);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_decent_anomaly_set_info);
  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR (gst_decent_anomaly_transform_frame_ip);
  video_filter_transform_ip = trans_class->transform_ip; /* GstVideoFilter's */
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_decent_anomaly_transform_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_DECENT_DEVICE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_DECENT_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_DECENT_MESSAGES, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_DECENT_SCORE_MODE, 0);
}
