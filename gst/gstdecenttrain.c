/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstdecenttrain.c — collects normal frames at model resolution and, at
 * end-of-stream, trains the autoencoder in a thread of its own, calibrates
 * every score mode's threshold on held-out footage (contiguous blocks, not
 * frames next to training frames) and writes the model atomically.  With
 * calibrate-only it calibrates an existing model on new footage instead.  The EOS
 * message reaches the application only once the model is written; a state
 * change to READY or NULL, or a flush, stops training after the current
 * epoch without touching an existing model file.  A pause does not. */
#include "gstdecenttrain.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bufferlayout.h"
#include "framestore.h"
#include "shownname.h"

GST_DEBUG_CATEGORY_STATIC (gst_decent_train_debug);
#define GST_CAT_DEFAULT gst_decent_train_debug

enum {
  PROP_0,
  PROP_MODEL_LOCATION,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_CHANNELS,
  PROP_FRAME_STRIDE,
  PROP_MAX_FRAMES,
  PROP_MAX_MEMORY,
  PROP_EPOCHS,
  PROP_BATCH_SIZE,
  PROP_LEARNING_RATE,
  PROP_LAMBDA,
  PROP_LOSS,
  PROP_SEED,
  PROP_DEVICE,
  PROP_HOLDOUT,
  PROP_QUANTILE,
  PROP_CHECKPOINT,
  PROP_RESUME,
  PROP_HOLDOUT_BLOCKS,
  PROP_LATENT_SIDE,
  PROP_BASE_CHANNELS,
  PROP_MAX_CHANNELS,
  PROP_LOCAL_AREA,
  PROP_MIN_STEPS,
  PROP_PATIENCE,
  PROP_CALIBRATE_ONLY,
  PROP_SIGMAS,
  PROP_AUGMENT_ZOOM,
  PROP_STILL_LAG,
  PROP_STILL_TOLERANCE,
  PROP_STILL_MEMORY,
  PROP_COMPANION,
  PROP_COMPANION_WIDTH,
  PROP_COMPANION_HEIGHT,
  PROP_LOCAL_SURROUND,
};

/* The video defaults, chosen on real footage (docs/results.md, "Real
 * footage"): a 4:3 grid of 192x144 with a latent of 12x9 cells (where things
 * are) and a companion of two thirds the size with one latent cell (which
 * finds people near the camera ordinary), 16..128 channels, the plain
 * reconstruction loss (lambda 0: the paper's 0.01 makes the decoder draw
 * one template, docs/method.md), and training until the held-out error
 * stops falling. */
#define DEFAULT_WIDTH 192
#define DEFAULT_HEIGHT 144
#define DEFAULT_CHANNELS 3
#define DEFAULT_LATENT_SIDE 9
#define DEFAULT_BASE_CHANNELS 16
#define DEFAULT_MAX_CHANNELS 128
#define DEFAULT_EPOCHS 0
#define DEFAULT_MIN_STEPS 500
#define DEFAULT_PATIENCE 10
#define DEFAULT_AUGMENT_ZOOM 1.0
#define DEFAULT_BATCH_SIZE 16
#define DEFAULT_MAX_FRAMES 10000
#define DEFAULT_HOLDOUT 0.2
#define DEFAULT_HOLDOUT_BLOCKS 1
#define MAX_HOLDOUT_BLOCKS 1000
#define DEFAULT_QUANTILE 0.995
#define DEFAULT_SIGMAS 3.0
/* the still gate's (decent_still_settings_init) */
#define DEFAULT_STILL_LAG 10
#define DEFAULT_STILL_TOLERANCE 8.0
#define DEFAULT_STILL_MEMORY 100.0
#define DEFAULT_LEARNING_RATE 2e-4
#define DEFAULT_LAMBDA 0.0
#define DEFAULT_LOCAL_AREA 0.01
#define DEFAULT_LOCAL_SURROUND 0.5
/* the companion: the one-cell model of the pair (docs/method.md, "Two
 * models, one score"); its sides 0: two thirds of the model's (128x96 for
 * 192x144), at least 8 */
#define DEFAULT_COMPANION TRUE
#define DEFAULT_COMPANION_WIDTH 0
#define DEFAULT_COMPANION_HEIGHT 0
/* epochs=0 stops here at the latest */
#define AUTO_MAX_EPOCHS 1000
/* fewer optimisation steps than this leave a model of any size half-trained */
#define USEFUL_STEPS 500
#define MAX_MEMORY_CAP (G_GUINT64_CONSTANT (4) << 30)

static guint64 default_max_memory;

G_DEFINE_TYPE_WITH_CODE (GstDecentTrain, gst_decent_train, GST_TYPE_BASE_SINK,
    GST_DEBUG_CATEGORY_INIT (gst_decent_train_debug, "decent-train", 0,
        "decentralization-loss autoencoder training"));
GST_ELEMENT_REGISTER_DEFINE (decent_train, "decent-train", GST_RANK_NONE,
    GST_TYPE_DECENT_TRAIN);

/* A quarter of the memory this process may use (physical memory, or the
 * cgroup v2 limit when that is lower), at most 4 GiB: the engine's
 * activations and the rest of the pipeline need room too. */
static guint64
compute_default_max_memory (void)
{
  long pages = sysconf (_SC_PHYS_PAGES), page = sysconf (_SC_PAGESIZE);
  guint64 ram = pages > 0 && page > 0 ? (guint64) pages * (guint64) page : 0;
  gchar *text = NULL;
  if (g_file_get_contents ("/sys/fs/cgroup/memory.max", &text, NULL, NULL)) {
    gchar *end;
    guint64 limit = g_ascii_strtoull (text, &end, 10);
    if (end != text && limit > 0 && (ram == 0 || limit < ram))
      ram = limit; /* "max" (no limit) parses as nothing */
    g_free (text);
  }
  if (ram == 0)
    ram = G_GUINT64_CONSTANT (1) << 30; /* unknown: assume 1 GiB */
  return MIN (ram / 4, MAX_MEMORY_CAP);
}

static void
set_cancel (GstDecentTrain *self, gboolean cancel)
{
  g_mutex_lock (&self->lock);
  self->cancel = cancel;
  g_mutex_unlock (&self->lock);
}

/* Engine text (it names files as bytes) made fit for a message. */
static gchar *
valid_text (const gchar *text)
{
  return g_utf8_make_valid (text ? text : "", -1);
}

/* ---- the frame store ---------------------------------------------------- */

static void
drop_frames (GstDecentTrain *self)
{
  g_free (self->frames);
  self->frames = NULL;
  self->frames_capacity = 0;
  g_free (self->companion_frames);
  self->companion_frames = NULL;
  self->companion_capacity = 0;
  self->n_frames = 0;
  if (self->intervals)
    g_array_set_size (self->intervals, 0);
  if (self->stream_starts)
    g_array_set_size (self->stream_starts, 0);
  self->last_pts = GST_CLOCK_TIME_NONE;
}

/* ---- collecting ------------------------------------------------------- */

/* The still gate's runs of footage are cut before the next frame: its
 * pictures before are no history for those after, as decentanomaly's gate
 * starts again at a new stream or new caps.  Streaming thread. */
static void
cut_still_runs (GstDecentTrain *self)
{
  const GArray *starts = self->stream_starts;
  if (self->n_frames
      && (starts->len == 0 || g_array_index (starts, guint, starts->len - 1) != self->n_frames))
    g_array_append_val (self->stream_starts, self->n_frames);
}

static gboolean
gst_decent_train_set_caps (GstBaseSink *sink, GstCaps *caps)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (sink);
  GstVideoInfo info;
  const gchar *mode = gst_structure_get_string (gst_caps_get_structure (caps, 0),
      "interlace-mode");
  self->have_caps = FALSE;
  /* the converter to the model's progressive frames takes no fields */
  const gboolean parsed = gst_video_info_from_caps (&info, caps);
  const gboolean interlaced = (mode && !g_str_equal (mode, "progressive"))
      || (parsed && GST_VIDEO_INFO_IS_INTERLACED (&info));
  if (interlaced || !parsed) {
    self->failed = TRUE;
    if (self->refused_caps && gst_caps_is_equal (caps, self->refused_caps))
      return FALSE; /* said already */
    gst_caps_replace (&self->refused_caps, caps);
    if (interlaced)
      GST_ELEMENT_ERROR (self, STREAM, FORMAT,
          ("Interlaced video is not supported; put deinterlace before decent-train."),
          ("caps %" GST_PTR_FORMAT, caps));
    else
      GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Unsupported video format."),
          ("caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  /* a camera that changes resolution or format mid-stream (no stream-start):
   * decentanomaly's gate starts again there, so the calibration cuts too
   * (the first caps come before any frame: nothing to cut) */
  gst_caps_replace (&self->refused_caps, NULL); /* refused again later: said again */
  if (!gst_video_info_is_equal (&self->info, &info))
    cut_still_runs (self);
  self->info = info;
  self->have_caps = TRUE;
  self->path_ready = FALSE; /* frames keep the model geometry; only the input changes */
  self->companion_path_ready = FALSE;
  return TRUE;
}

static GstFlowReturn
gst_decent_train_render (GstBaseSink *sink, GstBuffer *buffer)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (sink);
  if (!self->have_caps) {
    /* fakesrc, or an appsrc without caps: nothing says what the bytes are */
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("decent-train received buffers without video caps."),
        ("Put a decoder and videoconvert before decent-train (for example "
            "\"filesrc ! decodebin ! videoconvert ! decent-train\"); a source such as appsrc "
            "must set video/x-raw caps with format, width, height and framerate"));
    self->failed = TRUE; /* the EOS that follows has nothing more to say */
    return GST_FLOW_NOT_NEGOTIATED;
  }
  /* a GAP buffer stands in for footage a source lost (often a black
   * picture): it is no normal scene, and learning it would make a lost
   * camera look normal to decentanomaly.  Not counted for frame-stride. */
  if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_GAP)) {
    if (self->gap_buffers++ == 0)
      GST_INFO_OBJECT (self, "GAP buffers are not collected");
    return GST_FLOW_OK;
  }
  GST_OBJECT_LOCK (self);
  const guint stride = self->frame_stride, max = self->max_frames, still_lag = self->still_lag;
  const guint64 max_memory = self->max_memory;
  GST_OBJECT_UNLOCK (self);

  if (self->seen++ % stride != 0 || self->n_frames >= max || self->store_full)
    return GST_FLOW_OK;
  const guint64 fb = self->frame_bytes, cfb = self->companion_bytes, rb = fb + cfb;
  /* the store's bound in frames (with the companion's copy): max-memory,
   * no more than max-frames need, and what a pointer can address */
  const guint64 limit = MIN (MIN (max_memory / rb, (guint64) max), (guint64) G_MAXSIZE / 2 / rb);
  if ((guint64) self->n_frames + 1 > limit
      || !decent_frames_reserve (&self->frames, &self->frames_capacity, self->n_frames, fb,
             limit * fb)
      || (cfb && !decent_frames_reserve (&self->companion_frames, &self->companion_capacity,
                     self->n_frames, cfb, limit * cfb))) {
    gboolean out_of_memory = (guint64) self->n_frames + 1 <= limit;
    self->store_full = TRUE;
    self->store_oom = out_of_memory;
    if (out_of_memory)
      GST_ELEMENT_WARNING (self, RESOURCE, NO_SPACE_LEFT,
          ("Out of memory after %u frames; training on the frames kept.", self->n_frames),
          ("%u frames of %dx%dx%d (%" G_GUINT64_FORMAT " bytes) are kept; the next one could "
              "not be allocated. Lower max-memory or max-frames to choose the limit yourself.",
              self->n_frames, self->geometry[0], self->geometry[1], self->geometry[2],
              (guint64) self->n_frames * rb));
    else
      GST_ELEMENT_WARNING (self, RESOURCE, NO_SPACE_LEFT,
          ("The collected frames reached max-memory; training on the %u frames kept.",
              self->n_frames),
          ("max-memory=%" G_GUINT64_FORMAT " bytes holds %u frames of %dx%dx%d (%"
              G_GUINT64_FORMAT " bytes each%s); later frames are ignored. Raise max-memory, or "
              "raise frame-stride to spread the frames over the footage.", max_memory,
              self->n_frames, self->geometry[0], self->geometry[1], self->geometry[2], rb,
              cfb ? ", with the companion's copy" : ""));
    return GST_FLOW_OK;
  }
  if (!self->path_ready) {
    gchar *why = NULL;
    DecentRoi whole = { FALSE, 0, 0, 0, 0 };
    if (!decent_frame_path_setup (&self->path, &self->info, &whole, self->geometry[0],
            self->geometry[1], self->geometry[2], &why)) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Cannot convert this video for training."),
          ("%s", why));
      g_free (why);
      self->failed = TRUE;
      return GST_FLOW_ERROR;
    }
    self->path_ready = TRUE;
  }
  if (cfb && !self->companion_path_ready) {
    gchar *why = NULL;
    DecentRoi whole = { FALSE, 0, 0, 0, 0 };
    if (!decent_frame_path_setup (&self->companion_path, &self->info, &whole,
            self->companion_geometry[0], self->companion_geometry[1], self->geometry[2], &why)) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Cannot convert this video for training."),
          ("the companion model: %s", why));
      g_free (why);
      self->failed = TRUE;
      return GST_FLOW_ERROR;
    }
    self->companion_path_ready = TRUE;
  }
  GstVideoFrame frame;
  gchar *why = NULL;
  /* (a GstVideoMeta is mapped as it says, past the buffer if it lies:
   * helper-69) */
  if (!decent_buffer_layout_fits (buffer, &self->info, &why)
      || !gst_video_frame_map (&frame, &self->info, buffer, GST_MAP_READ)) {
    /* one bad buffer must not cost a long collection: skipped, said once */
    if (self->bad_buffers++ == 0)
      GST_ELEMENT_WARNING (self, STREAM, FAILED,
          ("Could not read a video frame; skipping such frames."),
          ("%s; later ones are counted in the log", why ? why : "the buffer could not be mapped"));
    else
      GST_WARNING_OBJECT (self, "%u unreadable frames skipped", self->bad_buffers);
    g_free (why);
    return GST_FLOW_OK;
  }
  const guint8 *pixels = decent_frame_path_to_model (&self->path, &frame);
  if (pixels)
    memcpy (self->frames + (gsize) self->n_frames * fb, pixels, fb);
  const guint8 *companion = pixels && cfb
      ? decent_frame_path_to_model (&self->companion_path, &frame) : pixels;
  if (companion && cfb)
    memcpy (self->companion_frames + (gsize) self->n_frames * cfb, companion, cfb);
  gst_video_frame_unmap (&frame);
  if (!pixels || !companion) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Cannot convert this video for training."),
        ("the frame could not be scaled to the %s %dx%dx%d", pixels ? "companion's" : "model's",
            pixels ? self->companion_geometry[0] : self->geometry[0],
            pixels ? self->companion_geometry[1] : self->geometry[1], self->geometry[2]));
    self->failed = TRUE;
    return GST_FLOW_ERROR;
  }
  /* the still gate's pace: one spacing of the collected frames (framerate
   * and frame-stride) for all of them, or none */
  const gint fps_n = GST_VIDEO_INFO_FPS_N (&self->info), fps_d = GST_VIDEO_INFO_FPS_D (&self->info);
  const gdouble spacing = fps_n > 0 && fps_d > 0 ? (gdouble) stride * fps_d / fps_n : 0.0;
  if (self->n_frames == 0)
    self->frame_spacing = spacing;
  else if (self->frame_spacing >= 0 && spacing != self->frame_spacing) {
    if (still_lag > 0) {
      gchar *was = self->frame_spacing > 0 ? g_strdup_printf ("%g s apart",
          self->frame_spacing) : g_strdup ("no framerate");
      gchar *now = spacing > 0 ? g_strdup_printf ("%g s apart", spacing)
                               : g_strdup ("no framerate");
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("The framerate or frame-stride changed while collecting; the still gate will "
              "count frames, not seconds."),
          ("frame %u comes with %s after %s: decentanomaly then compares frames still-lag "
              "scored frames apart whatever its framerate", self->n_frames, now, was));
      g_free (was);
      g_free (now);
    }
    self->frame_spacing = -1;
  }
  /* the pace the timestamps keep (one that repeats or goes back: no interval) */
  const GstClockTime pts = GST_BUFFER_PTS (buffer);
  if (GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (self->last_pts)
      && pts > self->last_pts) {
    const GstClockTime interval = pts - self->last_pts;
    g_array_append_val (self->intervals, interval);
  }
  self->last_pts = pts;
  self->n_frames++;
  if (self->n_frames == max)
    GST_INFO_OBJECT (self, "collected max-frames=%u frames; ignoring the rest", max);
  return GST_FLOW_OK;
}

/* ---- training --------------------------------------------------------- */

typedef struct {
  GstDecentTrain *self;
  DecentConfig cfg;
  gchar *location, *checkpoint; /* checkpoint: <location>.checkpoint */
  gchar *finished_path;         /* <location>.finished: a finished model waiting to be
                                 * written (stopped while calibrated or its companion trained) */
  gchar *shown, *shown_checkpoint, *shown_finished; /* the same for messages (UTF-8) */
  gboolean keep_checkpoints;    /* checkpoint=true: written after epochs (train_epochs) */
  gboolean resume, calibrate_only; /* resume reads the checkpoint, kept or not */
  gboolean checkpoint_found;    /* found when the collection started, to resume from */
  gboolean finished_found;      /* a finished model found then, to resume from */
  gboolean resumed;             /* the model came from the checkpoint (or .finished) */
  gboolean finished;            /* ... from <location>.finished: trained and calibrated */
  gboolean wrote_checkpoint;    /* <location>.checkpoint holds this run's epochs */
  gboolean parked;              /* stopped while calibrated or the companion trained: the
                                 * finished model is in <location>.finished, nothing written */
  gboolean memory_full;         /* collecting stopped at max-memory */
  gboolean memory_out;          /* ... or where the memory ran out */
  gchar *park_error;            /* why park_model could not keep the model */
  guint epochs, min_steps, patience; /* epochs 0: until the held-out error stops falling */
  gdouble holdout, quantile, sigmas;
  DecentStillSettings still;    /* still.lag 0: no still gate */
  gdouble zoom;                 /* augment-zoom; 1: none */
  guint blocks;                 /* held-out blocks */
  guint8 *frames;
  gsize frame_bytes;
  const GArray *stream_starts;  /* guint: where the collected frames' streams began */
  /* companion=true (or a pair to calibrate): its configuration and the
   * same frames at its geometry; companion_bytes 0: none */
  DecentConfig companion_cfg;
  guint8 *companion_frames;
  gsize companion_bytes;
  const gchar *part;            /* NULL, or "companion" while that trains: for messages */
  float companion_threshold;    /* its local threshold, for the written message */
  guint n_frames;
  guint64 seen;                 /* for messages: how many came, and the */
  guint stride, max_frames;     /* settings that decided how many were kept */
  guint bad_buffers, gap_buffers; /* ... and what was skipped */
  guint64 max_memory;
  /* results */
  gboolean ok, cancelled;
  gchar *error_text, *error_debug;
  GstResourceError write_error;
  gint64 t_start;
} TrainJob;

/* Messages for a completed epoch.  epochs 0: training until the held-out
 * error stops falling, so no end is known (no eta, no percent). */
static void
report_epoch (GstDecentTrain *self, const gchar *part, guint epoch, guint epochs,
    guint64 steps, const DecentLossTerms *mean, double held_loss,
    const DecentCollapse *collapse, double elapsed, double eta)
{
  GST_INFO_OBJECT (self, "epoch %u/%u (%" G_GUINT64_FORMAT " steps) loss %g (reconstruction "
      "%g, decentralization %g), held-out %g, %.1f s", epoch, epochs, steps, mean->total,
      mean->reconstruction, mean->decentral, held_loss, elapsed);
  GstStructure *s = gst_structure_new ("decent-train", "status", G_TYPE_STRING, "training",
      "epoch", G_TYPE_UINT, epoch, "epochs", G_TYPE_UINT, epochs,
      "steps", G_TYPE_UINT64, steps,
      "loss", G_TYPE_DOUBLE, mean->total,
      "reconstruction", G_TYPE_DOUBLE, mean->reconstruction,
      "decentralization", G_TYPE_DOUBLE, mean->decentral,
      "elapsed", G_TYPE_UINT64, (guint64) (elapsed * GST_SECOND), NULL);
  if (held_loss >= 0)
    gst_structure_set (s, "held-out-loss", G_TYPE_DOUBLE, held_loss, NULL);
  if (collapse && collapse->spread_ratio >= 0)
    gst_structure_set (s, "reconstruction-spread", G_TYPE_DOUBLE, collapse->spread_ratio,
        "saturated-codes", G_TYPE_DOUBLE, collapse->saturated,
        "sign-patterns", G_TYPE_INT, collapse->sign_patterns, NULL);
  if (epochs)
    gst_structure_set (s, "eta", G_TYPE_UINT64, (guint64) (eta * GST_SECOND), NULL);
  if (part) /* the companion's epochs, after the model's */
    gst_structure_set (s, "model", G_TYPE_STRING, part, NULL);
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
  const gchar *word = part ? "Companion epoch" : "Epoch";
  gchar *text = epochs
      ? g_strdup_printf ("%s %u of %u: loss %.5f, %.0f s left", word, epoch, epochs,
          mean->total, eta)
      : g_strdup_printf ("%s %u: loss %.5f, held-out error %.5f", word, epoch, mean->total,
          held_loss);
  GstMessage *progress =
      gst_message_new_progress (GST_OBJECT (self), GST_PROGRESS_TYPE_CONTINUE, "train", text);
  if (epochs)
    gst_structure_set (gst_message_writable_structure (progress), "percent", G_TYPE_INT,
        (gint) (100 * epoch / epochs), NULL);
  gst_element_post_message (GST_ELEMENT (self), progress);
  g_free (text);
}

static int
keep_mean (int epoch, int epochs, const DecentLossTerms *mean, double elapsed, void *user)
{
  *(DecentLossTerms *) user = *mean;
  return 0;
}

/* debug takes engine text or our own; either is made valid UTF-8 */
static void
job_fail (TrainJob *job, GstResourceError code, const gchar *text, const gchar *debug)
{
  job->write_error = code;
  job->error_text = g_strdup (text);
  job->error_debug = valid_text (debug);
}

static const gchar *
loss_name (DecentLoss loss)
{
  GEnumClass *klass = g_type_class_peek (GST_TYPE_DECENT_LOSS);
  GEnumValue *v = klass ? g_enum_get_value (klass, loss) : NULL;
  return v ? v->value_nick : "?";
}

/* Optimisation steps in an epoch of n frames in batches of batch, as
 * decent_model_train takes them (the last partial batch when it has at
 * least 2 frames); at least 1. */
static guint
steps_per_epoch (guint n, guint batch)
{
  const guint bs = MAX (1u, MIN (batch, n));
  return MAX (1u, n / bs + (n % bs >= 2));
}

/* The epoch that training n_train frames in batches of batch (a resumed
 * checkpoint's own size) stops after, counted from the model's first (a
 * resumed checkpoint's epochs count): epochs, or more for min-steps.  With
 * epochs=0, the least it trains. */
static guint
planned_epochs (const TrainJob *job, gint batch, guint n_train)
{
  const guint per_epoch = steps_per_epoch (n_train, (guint) batch);
  const guint64 for_steps = ((guint64) job->min_steps + per_epoch - 1) / per_epoch;
  return (guint) MIN (MAX ((guint64) job->epochs, for_steps), G_MAXUINT);
}

/* resume=true takes the checkpoint's settings: name each one that differs
 * from the properties, and say when nothing is left to train of n_train
 * frames. */
static void
warn_about_checkpoint (TrainJob *job, DecentModel *m, guint n_train)
{
  DecentConfig cfg;
  DecentInfo info;
  decent_model_get_config (m, &cfg);
  decent_model_describe (m, &info);
  const guint last = planned_epochs (job, cfg.batch_size, n_train);
  const DecentConfig *want = &job->cfg;
  GString *diff = g_string_new (NULL);
#define DIFFER(cond, ...) G_STMT_START {                                   \
    if (cond) {                                                            \
      g_string_append (diff, diff->len ? ", " : "");                       \
      g_string_append_printf (diff, __VA_ARGS__);                          \
    }                                                                      \
  } G_STMT_END
  DIFFER (cfg.lambda != want->lambda, "lambda %g (property: %g)", cfg.lambda, want->lambda);
  DIFFER (cfg.learning_rate != want->learning_rate, "learning-rate %g (property: %g)",
      cfg.learning_rate, want->learning_rate);
  DIFFER (cfg.loss != want->loss, "loss %s (property: %s)", loss_name (cfg.loss),
      loss_name (want->loss));
  DIFFER (cfg.batch_size != want->batch_size, "batch-size %d (property: %d)", cfg.batch_size,
      want->batch_size);
  DIFFER (cfg.seed != want->seed, "seed %" G_GUINT64_FORMAT " (property: %" G_GUINT64_FORMAT ")",
      (guint64) cfg.seed, (guint64) want->seed);
  /* a file keeps the side in its canonical form (0 when the paper's rule
   * gives the same layers): named only when the property's side would
   * build other layers with the checkpoint's other settings */
  DecentConfig with_property_side = cfg;
  with_property_side.latent_side = want->latent_side;
  DIFFER (cfg.latent_side != want->latent_side
              && !decent_config_same_architecture (&cfg, &with_property_side),
      "latent-side %d (property: %d)", cfg.latent_side, want->latent_side);
  DIFFER (cfg.base_channels != want->base_channels, "base-channels %d (property: %d)",
      cfg.base_channels, want->base_channels);
  DIFFER (cfg.max_channels != want->max_channels, "max-channels %d (property: %d)",
      cfg.max_channels, want->max_channels);
  DIFFER (cfg.local_area != want->local_area, "local-area %g (property: %g)", cfg.local_area,
      want->local_area);
  DIFFER (cfg.local_surround != want->local_surround, "local-surround %g (property: %g)",
      cfg.local_surround, want->local_surround);
#undef DIFFER
  if (diff->len)
    GST_ELEMENT_WARNING (job->self, RESOURCE, SETTINGS,
        ("Resuming with the checkpoint's settings, not the properties."),
        ("checkpoint %s was trained with %s; the checkpoint's values are used. Set "
            "resume=false (or delete the checkpoint) to train anew with the properties.",
            job->shown_checkpoint, diff->str));
  g_string_free (diff, TRUE);
  /* (min-steps may ask for more epochs than epochs: then they are trained) */
  if (job->epochs > 0 && info.epochs >= last)
    GST_ELEMENT_WARNING (job->self, RESOURCE, SETTINGS,
        ("Nothing more to train: the checkpoint already has the epochs asked for."),
        ("checkpoint %s has %u epochs and epochs=%u: nothing more will be trained; the model "
            "is calibrated and written from the checkpoint as it is. Raise epochs to train "
            "more.", job->shown_checkpoint, info.epochs, job->epochs));
}

/* The model file at path (shown) to resume from (a checkpoint, or a
 * finished model), if it loads and is for cfg's frames; NULL with the
 * reason and what to do in err.  Checked at start and again at the end of
 * the collection (the file may have changed meanwhile). */
static DecentModel *
load_resumable (const gchar *path, const gchar *shown, const DecentConfig *cfg,
    DecentError *err)
{
  DecentModel *m = decent_model_load (path, cfg->device, err);
  if (m) {
    DecentConfig have;
    decent_model_get_config (m, &have);
    if (have.width == cfg->width && have.height == cfg->height
        && have.channels == cfg->channels)
      return m;
    g_snprintf (err->message, sizeof err->message, "%s is for %dx%dx%d frames, this run "
        "collects %dx%dx%d", shown, have.width, have.height, have.channels, cfg->width,
        cfg->height, cfg->channels);
    decent_model_free (m);
  }
  const gsize used = strlen (err->message);
  g_snprintf (err->message + used, sizeof err->message - used, "; delete it or set "
      "resume=false");
  return NULL;
}

/* The companion trained now scores as the resumed model m does (its local
 * window and surround), so that the pair scores alike; TRUE when that
 * differs from what this run's properties asked. */
static gboolean
score_companion_as (TrainJob *job, DecentModel *m)
{
  DecentConfig cfg;
  decent_model_get_config (m, &cfg);
  const gboolean differs = cfg.local_area != job->companion_cfg.local_area
                           || cfg.local_surround != job->companion_cfg.local_surround;
  job->companion_cfg.local_area = cfg.local_area;
  job->companion_cfg.local_surround = cfg.local_surround;
  return differs;
}

/* resume=true with a finished model waiting for its companion (park_model):
 * it is written as it was trained and calibrated; the companion (if any)
 * trains on this run's frames, with the model's still-gate settings so
 * that the pair's gates match. */
static DecentModel *
resume_finished (TrainJob *job, DecentError *err)
{
  DecentModel *m = load_resumable (job->finished_path, job->shown_finished, &job->cfg, err);
  if (!m)
    return NULL;
  job->resumed = TRUE;
  job->finished = TRUE;
  DecentStillSettings still;
  const float pace = job->still.frame_seconds; /* this run's frames, which the companion's are */
  const DecentStillSettings asked = job->still;
  if (decent_model_get_still (m, &still, NULL) == 1) {
    job->still = still;
    job->still.frame_seconds = pace;
  } else {
    job->still.lag = 0;
  }
  /* the companion scores as the finished model does (helper-89: it took
   * this run's local-area and local-surround, unsaid) */
  const DecentConfig asked_scoring = job->companion_cfg;
  if (score_companion_as (job, m) && job->companion_bytes)
    GST_ELEMENT_WARNING (job->self, RESOURCE, SETTINGS,
        ("The companion takes the finished model's local score settings, not this run's."),
        ("%s has local-area=%g local-surround=%g, and this run asks for local-area=%g "
            "local-surround=%g: the pair must score alike", job->shown_finished,
            job->companion_cfg.local_area, job->companion_cfg.local_surround,
            asked_scoring.local_area, asked_scoring.local_surround));
  if (job->companion_bytes && (asked.lag != job->still.lag || asked.tolerance
          != job->still.tolerance || asked.memory != job->still.memory))
    GST_ELEMENT_WARNING (job->self, RESOURCE, SETTINGS,
        ("The companion takes the finished model's still-gate settings, not this run's."),
        ("%s has still-lag=%d still-tolerance=%g still-memory=%g, and this run asks for "
            "still-lag=%d still-tolerance=%g still-memory=%g: the pair's gates must match "
            "(resume=false trains both anew with this run's)", job->shown_finished,
            job->still.lag, job->still.tolerance, job->still.memory, asked.lag,
            asked.tolerance, asked.memory));
  return m;
}

/* What resume_finished took: said after the start's message. */
static void
say_finished_resumed (TrainJob *job, DecentModel *m)
{
  DecentInfo info;
  decent_model_describe (m, &info);
  gchar *msg = job->companion_bytes
      ? g_strdup_printf ("Resuming from %s: its model is finished (%u epochs, calibrated) and "
          "is kept as it is; this run trains its companion only, with its own settings",
          job->shown_finished, info.epochs)
      : g_strdup_printf ("Resuming from %s: its model is finished (%u epochs, calibrated) and "
          "is written as it is; companion=false: nothing to train", job->shown_finished,
          info.epochs);
  gst_element_post_message (GST_ELEMENT (job->self), gst_message_new_progress (
      GST_OBJECT (job->self), GST_PROGRESS_TYPE_CONTINUE, "train", msg));
  g_free (msg);
}

/* Whether resume=true finds a finished model waiting for its companion. */
static gboolean
resumes_finished (const TrainJob *job)
{
  return job->resume && g_file_test (job->finished_path, G_FILE_TEST_IS_REGULAR);
}

/* A new model, or with resume=true a finished model waiting for its
 * companion, or the checkpoint of an interrupted run (job->resumed; what
 * it took is said by run_training, after the start's message). */
static DecentModel *
start_model (TrainJob *job, DecentError *err)
{
  if (resumes_finished (job))
    return resume_finished (job, err);
  if (job->finished_found) /* checked at start, gone since (another run took it): say so */
    GST_ELEMENT_WARNING (job->self, RESOURCE, NOT_FOUND,
        ("The finished model to resume from is gone; %s.", job->resume
            && g_file_test (job->checkpoint, G_FILE_TEST_IS_REGULAR)
            ? "resuming from the checkpoint instead" : "training anew"),
        ("%s was there at start and is not now (did another run resume from it?)",
            job->shown_finished));
  if (!job->resume || !g_file_test (job->checkpoint, G_FILE_TEST_IS_REGULAR)) {
    if (job->checkpoint_found) /* checked at start, gone since: say so */
      GST_ELEMENT_WARNING (job->self, RESOURCE, NOT_FOUND,
          ("The checkpoint to resume from is gone; training anew."),
          ("%s was there at start and is not now", job->shown_checkpoint));
    return decent_model_new (&job->cfg, err);
  }
  DecentModel *m = load_resumable (job->checkpoint, job->shown_checkpoint, &job->cfg, err);
  if (!m)
    return NULL;
  if (decent_model_has_companion (m) == 1) {
    /* (a model file copied there to train on): its companion was trained
     * on other footage; companion=true trains one on this run's, and
     * without, the file would carry a stale one, said as none (helper-78) */
    decent_model_set_companion (m, NULL, NULL);
    if (!job->companion_bytes)
      GST_ELEMENT_WARNING (job->self, RESOURCE, SETTINGS,
          ("The checkpoint carries a companion model; it is left out."),
          ("%s holds a companion trained on other footage, and companion=false: the model is "
              "written without one (companion=true trains one on this run's frames)",
              job->shown_checkpoint));
  }
  /* (the resume warning said the local window and surround are the
   * checkpoint's: helper-88) */
  score_companion_as (job, m);
  DecentInfo info;
  decent_model_describe (m, &info);
  job->resumed = TRUE;
  GST_INFO_OBJECT (job->self, "resuming from %s after epoch %u", job->shown_checkpoint,
      info.epochs);
  return m;
}

/* The mean reconstruction error of the held-out frames: what training
 * should lower, measured on footage it does not learn from; -1 without any. */
static double
held_out_loss (DecentModel *m, const guint8 *held, guint n_held, float *scores)
{
  if (!n_held || decent_model_score (m, held, (int) n_held, scores, NULL, NULL) < 0)
    return -1.0;
  double sum = 0.0;
  for (guint i = 0; i < n_held; i++)
    sum += scores[i];
  return sum / n_held;
}

/* The collapse measures (docs/method.md) on the held-out frames, or on up
 * to 256 training frames without them; spread_ratio -1 when not measured. */
static void
measure_collapse (GstDecentTrain *self, DecentModel *m, const guint8 *held, guint n_held,
    const guint8 *train, guint n_train, DecentCollapse *out)
{
  DecentError err = { { 0 } };
  const gboolean use_held = n_held >= 2;
  if (decent_model_measure_collapse (m, use_held ? held : train,
          (int) (use_held ? n_held : MIN (n_train, 256u)), out, &err) < 0) {
    GST_DEBUG_OBJECT (self, "no collapse measures: %s", err.message);
    out->spread_ratio = -1.0;
  }
}

#define CHECKPOINT_INTERVAL_US (2 * G_USEC_PER_SEC)

/* Epochs one at a time, each followed by its messages, and a checkpoint
 * after the first, at a stop, and otherwise at most every
 * CHECKPOINT_INTERVAL_US: a stopped run loses nothing, a killed one at most
 * that much (an fsync'd file per epoch made epochs of a few frames a
 * hundred times slower: 5 frames, 1000 epochs, 6.5-51 s against 0.49 s;
 * helper-58).  At least epochs epochs and
 * min-steps optimisation steps; epochs=0 trains until the held-out error
 * has not reached a new low for patience epochs.  Warns when it ends with
 * the held-out error still falling or with too few steps.  FALSE on failure
 * or stop. */
static gboolean
train_epochs (TrainJob *job, DecentModel *m, const guint8 *train, guint n_train,
    const guint8 *held, guint n_held)
{
  GstDecentTrain *self = job->self;
  DecentInfo info;
  DecentError err = { { 0 } };
  decent_model_describe (m, &info);
  const guint first = info.epochs;
  DecentConfig cfg; /* a resumed checkpoint trains with its own batch size */
  decent_model_get_config (m, &cfg);
  const guint bs = MIN ((guint) cfg.batch_size, n_train);
  const guint per_epoch = steps_per_epoch (n_train, (guint) cfg.batch_size);
  const gboolean automatic = job->epochs == 0;
  guint last = automatic ? AUTO_MAX_EPOCHS : planned_epochs (job, cfg.batch_size, n_train);
  float *scores = g_new (float, MAX (n_held, 1));
  double best = -1.0, previous_best = -1.0, held_loss = -1.0;
  DecentCollapse collapse = { .spread_ratio = -1.0 };
  guint best_epoch = first;
  gboolean ok = TRUE;
  gint64 last_checkpoint = g_get_monotonic_time ();
  guint e;
  /* augment-zoom: a new zoomed copy of the training frames every epoch,
   * reproducible from the seed and the epoch */
  guint8 *zoomed = job->zoom > 1.0 ? g_try_malloc ((gsize) n_train * job->frame_bytes) : NULL;
  if (job->zoom > 1.0 && !zoomed) {
    gchar *why = g_strdup_printf ("augment-zoom needs a second copy of the %u training frames "
        "(%" G_GSIZE_FORMAT " bytes); lower max-frames or set augment-zoom=1; nothing was "
        "written to %s", n_train, (gsize) n_train * job->frame_bytes, job->shown);
    job_fail (job, GST_RESOURCE_ERROR_NO_SPACE_LEFT, "Not enough memory to augment.", why);
    g_free (why);
    g_free (scores);
    return FALSE;
  }
  for (e = first; e < last; e++) {
    DecentLossTerms mean = { 0 };
    const guint8 *epoch_frames = train;
    if (zoomed) {
      guint64 state = (guint64) cfg.seed * 1000003u + e;
      if (decent_augment_zoom (train, zoomed, (int) n_train, cfg.width, cfg.height, cfg.channels,
              (float) job->zoom, &state, &err) < 0) {
        job_fail (job, GST_RESOURCE_ERROR_FAILED, "Training failed.", err.message);
        ok = FALSE;
        break;
      }
      epoch_frames = zoomed;
    }
    if (decent_model_train (m, epoch_frames, (int) n_train, 1, keep_mean, &mean, &err) < 0) {
      job_fail (job, GST_RESOURCE_ERROR_FAILED, "Training failed.", err.message);
      ok = FALSE;
      break;
    }
    decent_model_describe (m, &info);
    held_loss = held_out_loss (m, held, n_held, scores);
    if (held_loss >= 0 && (best < 0 || held_loss < best)) {
      previous_best = best;
      best = held_loss;
      best_epoch = e + 1;
    }
    if (automatic && n_held && e + 1 - best_epoch >= job->patience
        && info.steps >= job->min_steps)
      last = e + 1; /* no new low for patience epochs: this is the last */
    measure_collapse (self, m, held, n_held, train, n_train, &collapse);
    double elapsed = (g_get_monotonic_time () - job->t_start) / 1e6;
    double eta = elapsed / (e + 1 - first) * (last - e - 1);
    report_epoch (self, job->part, e + 1, automatic ? 0 : last, info.steps, &mean, held_loss,
        &collapse, elapsed, eta);
    g_mutex_lock (&self->lock);
    job->cancelled = self->cancel;
    g_mutex_unlock (&self->lock);
    /* a stop seen after the last epoch too: the run is then not written,
     * and resume=true takes it from the checkpoint (helper-59) */
    const gint64 now = g_get_monotonic_time ();
    const gboolean due = job->cancelled || (e + 1 < last && (e == first
                             || now - last_checkpoint >= CHECKPOINT_INTERVAL_US));
    if (job->keep_checkpoints && due) {
      last_checkpoint = now;
      /* (a link under that name is replaced, not written through onto
       * another model: helper-78) */
      if (decent_model_save_own (m, job->checkpoint, &err) == 0) {
        job->wrote_checkpoint = TRUE;
      } else {
        /* the run itself is sound: it goes on, and the model is written (or
         * kept elsewhere) at its end; only resuming after a stop is lost */
        gchar *reason = valid_text (err.message);
        GST_ELEMENT_WARNING (job->self, RESOURCE, OPEN_WRITE, ("Could not write the training "
                "checkpoint; training goes on without checkpoints."),
            ("%s; after epoch %u: a stop from here cannot be resumed (an older checkpoint "
                "stays where it is)", reason, e + 1));
        g_free (reason);
        job->keep_checkpoints = FALSE;
      }
    }
    if (job->cancelled) {
      GST_WARNING_OBJECT (self, "training stopped after epoch %u%s%s", e + 1,
          job->keep_checkpoints ? "; resume=true continues from " : "",
          job->keep_checkpoints ? job->shown_checkpoint : "");
      ok = FALSE;
      break;
    }
  }
  g_free (scores);
  g_free (zoomed);
  if (!ok)
    return FALSE;
  decent_model_describe (m, &info);
  const gchar *who = job->part ? "The companion model" : "The model";
  if (e > first && info.steps < USEFUL_STEPS)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("%s had only %" G_GUINT64_FORMAT " optimisation steps; it is barely trained.", who,
            info.steps),
        ("%u frames in batches of %u make %u steps an epoch; models need about %u steps "
            "before their scores mean much. Raise min-steps or epochs (epochs=0 trains until "
            "the held-out error stops falling), or collect more frames.", n_train, bs,
            per_epoch, USEFUL_STEPS));
  if (e > first && collapse.spread_ratio >= 0 && collapse.spread_ratio < DECENT_COLLAPSED_SPREAD)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("%s has collapsed: its reconstructions barely depend on the input.", who),
        ("across the %s frames its reconstructions vary by %.2f grey levels against %.2f for "
            "the frames (%.0f %%); %.0f %% of its code values are saturated and they take %d "
            "sign patterns in %d frames. It scores the distance to one learned picture, so "
            "everything that moves looks anomalous. %s (docs/method.md, \"Collapse "
            "measures\").", n_held >= 2 ? "held-out" : "training", collapse.recon_spread,
            collapse.input_spread, 100.0 * collapse.spread_ratio, 100.0 * collapse.saturated,
            collapse.sign_patterns, collapse.frames,
            cfg.lambda > 0 ? "Lower lambda: 0 gives the plain autoencoder"
                           : "Train longer (epochs=0 trains until the held-out error stops "
                             "falling) or on more varied footage"));
  /* still falling: the last epoch set a new low, clearly below the one before */
  if (e > first && best_epoch == e && previous_best > 0 && best < 0.99 * previous_best)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("Training %s ended with the held-out error still falling.",
            job->part ? "the companion model" : "the model"),
        ("the held-out reconstruction error fell from %g to %g in the last epoch (%u); more "
            "epochs would give a better model: raise epochs, or set epochs=0 to train until "
            "it stops falling", previous_best, best, e));
  return TRUE;
}

/* The final write failed after a finished run: keep the model in the
 * temporary folder rather than lose hours of training.  Returns where (for
 * messages), or NULL with why. */
static gchar *
rescue_model (DecentModel *m, const gchar *location, gchar **why)
{
  gchar *base = g_path_get_basename (location);
  if (strlen (base) > 100)
    base[100] = '\0'; /* the name and the writer's suffix stay within NAME_MAX */
  gchar *name = g_strdup_printf ("decent-rescued-%s-XXXXXX", base);
  gchar *path = g_build_filename (g_get_tmp_dir (), name, NULL);
  gchar *shown = decent_shown_name (path);
  gchar *kept = NULL;
  int fd = g_mkstemp (path);
  if (fd < 0) {
    *why = g_strdup_printf ("cannot create %s: %s", shown, g_strerror (errno));
  } else {
    DecentError err = { { 0 } };
    close (fd);
    /* atomically over the empty file that reserved the name */
    if (decent_model_save (m, path, &err) == 0) {
      kept = decent_shown_name (path);
    } else {
      *why = valid_text (err.message);
      g_unlink (path);
    }
  }
  g_free (shown);
  g_free (path);
  g_free (name);
  g_free (base);
  return kept;
}

/* Deletes a checkpoint or finished model a run leaves behind, unless a file
 * of something else was put under its name meanwhile (helper-71: notes
 * named so were deleted at the end of the run, unsaid): that one stays,
 * said. */
static void
remove_leftover (TrainJob *job, const gchar *path)
{
  DecentError other = { { 0 } };
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return;
  if (decent_model_check_destination (path, &other) == 0) {
    g_unlink (path);
    return;
  }
  gchar *reason = valid_text (other.message);
  GST_ELEMENT_WARNING (job->self, RESOURCE, WRITE, ("A file beside the model was left as it is."),
      ("%s; decent-train deletes its own leftovers under that name once it writes the model",
          reason));
  g_free (reason);
}

/* Whether <location>.checkpoint holds this run's epochs (written by it, or
 * resumed from), which the finished model has: of no use once it is
 * written. */
static gboolean
checkpoint_is_this_runs (const TrainJob *job)
{
  return (job->wrote_checkpoint || job->resumed) && !job->finished
         && g_file_test (job->checkpoint, G_FILE_TEST_IS_REGULAR);
}

/* The model did not fit on a full disk, where this run's own checkpoint
 * takes room: deleted when the disk's free blocks say that leaves room
 * enough for the model, which is then written again (helper-78: the
 * finished run was lost, and the checkpoint it could have gone in place of
 * stayed).  Not for a quota, which statvfs does not count, nor a checkpoint
 * with other links, whose blocks would stay (helper-79).  TRUE when the
 * model is written. */
static gboolean
write_in_place_of_checkpoint (TrainJob *job, DecentModel *m, DecentError *err)
{
  struct stat ck, at;
  char *target = decent_model_file_target (job->location);
  gchar *folder = g_path_get_dirname (target ? target : job->location);
  free (target);
  struct statvfs fs;
  const size_t need = strstr (err->message, g_strerror (ENOSPC)) && checkpoint_is_this_runs (job)
      ? decent_model_file_bytes (m) : 0;
  /* on the same disk, and counted in blocks, with two to spare */
  const gboolean room = need > 0 && lstat (job->checkpoint, &ck) == 0 && S_ISREG (ck.st_mode)
      && ck.st_nlink == 1 && stat (folder, &at) == 0 && at.st_dev == ck.st_dev
      && statvfs (folder, &fs) == 0
      && (guint64) fs.f_bavail * fs.f_frsize + (guint64) ck.st_blocks * 512
             >= (guint64) need + 2 * (guint64) fs.f_frsize;
  g_free (folder);
  if (!room || g_unlink (job->checkpoint) != 0)
    return FALSE;
  gchar *reason = valid_text (err->message);
  GST_ELEMENT_WARNING (job->self, RESOURCE, NO_SPACE_LEFT,
      ("The disk is full: the run's checkpoint was deleted to make room for the model."),
      ("%s; %s held epochs the finished model has", reason, job->shown_checkpoint));
  g_free (reason);
  return decent_model_save (m, job->location, err) == 0;
}

static void
fail_keeping_model (TrainJob *job, DecentModel *m, const gchar *text, const gchar *engine_text)
{
  gchar *reason = valid_text (engine_text), *why = NULL;
  gchar *kept = rescue_model (m, job->location, &why);
  /* the engine says it already when it got as far as writing */
  const gchar *unchanged = strstr (reason, "unchanged") ? ""
      : "; any previous model file there is unchanged";
  /* not all is lost: the finished model it resumed from waits still, or
   * this run's last checkpoint goes on from its epoch */
  gchar *resumable = kept ? g_strdup ("")
      : job->finished && g_file_test (job->finished_path, G_FILE_TEST_IS_REGULAR)
      ? g_strdup_printf ("; the finished model stays in %s: resume=true writes it once there "
          "is room", job->shown_finished)
      : checkpoint_is_this_runs (job)
      ? g_strdup_printf ("; the checkpoint of its epochs, %s, is kept: resume=true trains on "
          "from it once there is room", job->shown_checkpoint) : g_strdup ("");
  gchar *debug = kept
      ? g_strdup_printf ("%s%s. The trained model was kept at %s (copy it to %s)", reason,
          unchanged, kept, job->shown)
      : g_strdup_printf ("%s%s. Keeping the trained model elsewhere failed too: %s%s", reason,
          unchanged, why, resumable);
  g_free (resumable);
  job->write_error = GST_RESOURCE_ERROR_OPEN_WRITE;
  job->error_text = g_strdup (text);
  job->error_debug = debug;
  g_free (kept);
  g_free (why);
  g_free (reason);
}

/* The "written" (or "calibrated") message: every mode's threshold with the
 * share of held-out frames above it, the expected false-alarm rate. */
static void
post_written (TrainJob *job, DecentModel *m, const gchar *status, guint n_train, guint n_held)
{
  DecentCalibration cal[DECENT_SCORE_MODES];
  for (int k = 0; k < DECENT_SCORE_MODES; k++)
    decent_model_get_mode_calibration (m, (DecentScoreMode) k, &cal[k]);
  double secs = (g_get_monotonic_time () - job->t_start) / 1e6;
  DecentInfo info;
  decent_model_describe (m, &info);
  const DecentCalibration *local = &cal[DECENT_SCORE_LOCAL];
  DecentCalibration still; /* threshold 0: none */
  decent_model_get_still (m, NULL, &still);
  gst_element_post_message (GST_ELEMENT (job->self),
      gst_message_new_element (GST_OBJECT (job->self),
          gst_structure_new ("decent-train", "status", G_TYPE_STRING, status,
              /* structure strings must be UTF-8: the display name */
              "location", G_TYPE_STRING, job->shown,
              "frames", G_TYPE_UINT, n_train, "held-out", G_TYPE_UINT, n_held,
              "epochs", G_TYPE_UINT, info.epochs, "steps", G_TYPE_UINT64, info.steps,
              "threshold", G_TYPE_DOUBLE, (gdouble) cal[DECENT_SCORE_MEAN].threshold,
              "score-mean", G_TYPE_DOUBLE, (gdouble) cal[DECENT_SCORE_MEAN].mean,
              "score-stddev", G_TYPE_DOUBLE, (gdouble) cal[DECENT_SCORE_MEAN].stddev,
              "threshold-local", G_TYPE_DOUBLE, (gdouble) local->threshold,
              "threshold-normalized", G_TYPE_DOUBLE,
              (gdouble) cal[DECENT_SCORE_NORMALIZED].threshold,
              "expected-false-alarm-rate", G_TYPE_DOUBLE, (gdouble) local->false_alarm_rate,
              "threshold-still", G_TYPE_DOUBLE, (gdouble) still.threshold,
              "still-frames", G_TYPE_UINT, still.count,
              "companion", G_TYPE_BOOLEAN, decent_model_has_companion (m) == 1,
              "companion-threshold-local", G_TYPE_DOUBLE, decent_model_has_companion (m) == 1
                  ? (gdouble) job->companion_threshold : 0.0,
              "elapsed", G_TYPE_UINT64, (guint64) (secs * GST_SECOND), NULL)));
  gchar *gate = still.threshold > 0
      ? g_strdup_printf ("; still gate threshold %g from %u frames", still.threshold, still.count)
      : g_strdup ("; no still gate");
  if (decent_model_has_companion (m)) {
    gchar *with = g_strdup_printf ("%s; with a %dx%d companion model, threshold %g", gate,
        job->companion_cfg.width, job->companion_cfg.height, job->companion_threshold);
    g_free (gate);
    gate = with;
  }
  /* a resumed finished model keeps the calibration of the run that trained it */
  const gchar *frames = g_str_equal (status, "calibrated") ? "normal frames"
                        : job->finished ? "frames of the run that trained it"
                        : n_held ? "held-out frames" : "training frames";
  gchar *msg = g_strdup_printf ("Model %s to %s (score-mode=local threshold %g from %u %s; "
      "expected false alarms: %.2g %% of frames%s)", status, job->shown, local->threshold,
      local->count, frames, 100.0 * local->false_alarm_rate, gate);
  g_free (gate);
  gst_element_post_message (GST_ELEMENT (job->self),
      gst_message_new_progress (GST_OBJECT (job->self), GST_PROGRESS_TYPE_COMPLETE, "train",
          msg));
  g_free (msg);
}

/* A threshold from n normal frames can promise no fewer false alarms than
 * about one frame in n + 1 (decent_calibration_from); below this many it
 * cannot promise 1 % of frames. */
#define CALIBRATION_FRAMES_MIN 99

/* Says (a warning each) what a calibration on this footage cannot tell:
 * frames that all score the same (a still or black picture), whose spread
 * says nothing of normal change, and too few frames for a rare false
 * alarm. */
static void
warn_about_calibration (TrainJob *job, DecentModel *m)
{
  DecentCalibration cal, mean;
  decent_model_get_mode_calibration (m, DECENT_SCORE_LOCAL, &cal); /* decentanomaly's default */
  decent_model_get_calibration (m, &mean);
  if (!(mean.stddev > 0) && mean.count > 1) /* (one frame has no spread to say) */
    GST_ELEMENT_WARNING (job->self, RESOURCE, SETTINGS,
        ("Every calibration frame scored the same; the threshold says nothing of normal "
            "variation."),
        ("%u frames all score %g: a still, blank or frozen picture; calibrate on footage of "
            "the scene as it normally changes", mean.count, mean.threshold));
  if (cal.count < CALIBRATION_FRAMES_MIN)
    GST_ELEMENT_WARNING (job->self, RESOURCE, SETTINGS,
        ("Calibrated on few frames; the threshold is a rough guess."),
        ("%u normal frames: a threshold from them can promise no fewer false alarms than "
            "about 1 frame in %u (%.2g %%) on footage like them (this one expects %.2g %%); "
            "for fewer, calibrate on at least %d normal frames, a few hundred to be sure "
            "(more footage, a larger holdout, or calibrate-only on another recording)",
            cal.count, cal.count + 1, 100.0 / (cal.count + 1.0),
            100.0 * cal.false_alarm_rate, CALIBRATION_FRAMES_MIN));
}

/* The still gate's calibration on normal footage in time order, in runs
 * (DecentStillRun) of frames, each with a history of its own, the running mean
 * begun again where a stream began (decent_frames_split_held_out).
 * Footage too short for its lag, or that never changes, is a warning and
 * the model goes without a gate (a finished run is never lost to it);
 * still-lag=0, or a failure, also drops a gate the model had, whose
 * calibration would not fit the new one. */
static void
calibrate_still (TrainJob *job, DecentModel *m, const guint8 *frames, const GArray *runs)
{
  DecentError err = { { 0 } };
  DecentCalibration cal;
  if (job->still.lag == 0) {
    decent_model_clear_still (m);
    return;
  }
  int *lengths = g_new (int, runs->len);
  guint8 *new_stream = g_new (guint8, runs->len);
  for (guint i = 0; i < runs->len; i++) {
    lengths[i] = g_array_index (runs, DecentStillRun, i).frames;
    new_stream[i] = g_array_index (runs, DecentStillRun, i).new_stream;
  }
  const int rc = decent_model_calibrate_still_streams (m, &job->still, frames, lengths,
      new_stream, (int) runs->len, (float) job->quantile, (float) job->sigmas, &err);
  g_free (new_stream);
  g_free (lengths);
  if (rc < 0) {
    /* err says why */
  } else if (decent_model_get_still (m, NULL, &cal) == 1 && !(cal.max > 1e-6f)) {
    /* nothing rose beyond rounding: any rise at all would be flagged */
    g_snprintf (err.message, sizeof err.message, "its %u calibration frames all scored %g or "
        "less: a picture that never changes (a test pattern, a frozen camera) shows nothing of "
        "normal change; calibrate on footage of the scene as it normally changes", cal.count,
        (double) cal.max);
  } else {
    return;
  }
  decent_model_clear_still (m);
  /* cut where streams began, the runs may be short whatever is held out */
  int longest = 0;
  for (guint i = 0; i < runs->len; i++)
    longest = MAX (longest, g_array_index (runs, DecentStillRun, i).frames);
  gchar *cut = job->stream_starts && job->stream_starts->len
      ? g_strdup_printf ("; the footage is cut where each of its %u streams began, and its "
          "longest run has %d frames: still-lag=%d needs longer recordings",
          job->stream_starts->len + 1, longest, job->still.lag)
      : g_strdup ("");
  GST_ELEMENT_WARNING (job->self, RESOURCE, SETTINGS,
      ("The %s still gate was not calibrated; decentanomaly will flag without it.",
          job->part ? "companion model's" : "model's"), ("%s%s", err.message, cut));
  g_free (cut);
}

/* The companion's failure or stop, said as a warning: the model is
 * written without it.  Takes the reason job_fail left in job. */
static void
companion_lost (TrainJob *job)
{
  if (job->cancelled)
    GST_ELEMENT_WARNING (job->self, RESOURCE, FAILED,
        ("Stopped while training the companion model; the model is written without it."),
        ("the first model had finished, and %s; decentanomaly scores with it alone (train "
            "again for the pair)", job->park_error ? job->park_error
            : "checkpoint=false keeps nothing to resume from"));
  else
    GST_ELEMENT_WARNING (job->self, RESOURCE, FAILED,
        ("The companion model could not be trained; the model is written without it."),
        ("%s %s", job->error_text ? job->error_text : "", job->error_debug
            ? job->error_debug : ""));
  g_clear_pointer (&job->error_text, g_free);
  g_clear_pointer (&job->error_debug, g_free);
  job->write_error = 0;
}

/* The end of the companion's calibration: its still gate on frames (in
 * runs), its threshold for the written message, and c stored in m.  FALSE
 * with job_fail called. */
static gboolean
keep_companion (TrainJob *job, DecentModel *m, DecentModel *c, const guint8 *frames,
    const GArray *runs)
{
  DecentError err = { { 0 } };
  DecentCalibration cal;
  job->part = "companion"; /* its warnings say whose */
  calibrate_still (job, c, frames, runs);
  job->part = NULL;
  decent_model_get_mode_calibration (c, DECENT_SCORE_LOCAL, &cal);
  job->companion_threshold = cal.threshold;
  if (decent_model_set_companion (m, c, &err) == 0)
    return TRUE;
  job_fail (job, GST_RESOURCE_ERROR_FAILED, "Storing the companion failed.", err.message);
  return FALSE;
}

/* A stop while the companion trains (or while the model is calibrated)
 * writes nothing, as a stop while the model trains does, so that a Ctrl-C
 * does not replace the file behind the user's back: the finished,
 * calibrated model goes to <location>.finished (its epochs' checkpoint,
 * older, goes), from which resume=true trains the companion only, or
 * writes it as it is (resume_finished).  FALSE when it cannot be kept
 * there: the model is then written (alone: companion_lost). */
static gboolean
park_model (TrainJob *job, DecentModel *m)
{
  DecentError err = { { 0 } };
  /* resumed from there: it is kept already, whatever checkpoint says */
  if (!job->finished) {
    if (decent_model_save_own (m, job->finished_path, &err) < 0) {
      g_free (job->park_error);
      job->park_error = g_strdup_printf ("%s could not keep it: %s", job->shown_finished,
          err.message);
      return FALSE;
    }
    remove_leftover (job, job->checkpoint); /* its epochs are older than the finished model */
  }
  if (job->companion_bytes)
    GST_ELEMENT_WARNING (job->self, RESOURCE, FAILED,
        ("Stopped while training the companion model; nothing was written."),
        ("the finished model is in %s, and nothing was written to %s: resume=true trains the "
            "companion only and writes both", job->shown_finished, job->shown));
  else
    GST_ELEMENT_WARNING (job->self, RESOURCE, FAILED,
        ("Stopped while calibrating the trained model; nothing was written."),
        ("the finished model is in %s, and nothing was written to %s: resume=true writes it "
            "(with companion=true, once its companion is trained)", job->shown_finished,
            job->shown));
  job->parked = TRUE;
  return TRUE;
}

/* Whether the element was stopped since the last look (job->cancelled). */
static gboolean
stopped_meanwhile (TrainJob *job)
{
  g_mutex_lock (&job->self->lock);
  job->cancelled = job->self->cancel;
  g_mutex_unlock (&job->self->lock);
  return job->cancelled;
}

/* companion=true: a second model of its own geometry with one latent cell
 * (docs/method.md, "Two models, one score"), trained, calibrated and given
 * its still gate on the same frames, collected at its size, split as the
 * model's were; stored in m.  Stopped, m is kept in <location>.finished
 * and nothing is written (park_model); failed (or stopped with
 * checkpoint=false, or where that file cannot be written), m goes without
 * it (a warning): a finished model is never lost to its companion. */
static void
train_companion (TrainJob *job, DecentModel *m, guint n_train, guint n_held)
{
  GstDecentTrain *self = job->self;
  const gsize cfb = job->companion_bytes;
  GArray *runs = decent_still_runs_new ();
  /* the same permutation as the model's frames took: the same n and split */
  decent_frames_split_held_out (job->companion_frames, cfb, job->n_frames, job->holdout,
      MIN (job->blocks, MAX_HOLDOUT_BLOCKS), job->stream_starts, runs);
  const guint8 *train = job->companion_frames,
               *held = job->companion_frames + (gsize) n_train * cfb;
  gchar *msg = g_strdup_printf ("Training the %dx%d companion model (the paper's latent, "
      "latent-side=0) on the same frames", job->companion_cfg.width, job->companion_cfg.height);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_progress (GST_OBJECT (self), GST_PROGRESS_TYPE_CONTINUE, "train", msg));
  g_free (msg);

  DecentError err = { { 0 } };
  /* stopped while the model was calibrated */
  DecentModel *c = stopped_meanwhile (job) ? NULL : decent_model_new (&job->companion_cfg, &err);
  /* no checkpoints of its epochs (a stop keeps the finished model,
   * park_model); its own clock, for its epochs' times */
  const gsize fb = job->frame_bytes;
  const gboolean keep = job->keep_checkpoints;
  const gint64 t_start = job->t_start;
  job->frame_bytes = cfb;
  job->keep_checkpoints = FALSE;
  job->part = "companion";
  job->t_start = g_get_monotonic_time ();
  gboolean ok = FALSE;
  if (job->cancelled)
    ; /* said by companion_lost */
  else if (!c)
    job_fail (job, GST_RESOURCE_ERROR_SETTINGS, "Cannot start training.", err.message);
  else if (train_epochs (job, c, train, n_train, held, n_held))
    ok = TRUE;
  job->frame_bytes = fb;
  job->keep_checkpoints = keep;
  job->part = NULL;
  job->t_start = t_start;
  if (ok && (decent_model_learn_normal (c, train, (int) n_train, &err) < 0
          || decent_model_calibrate_all (c, n_held ? held : train,
                 (int) (n_held ? n_held : n_train), (float) job->quantile,
                 (float) job->sigmas, &err) < 0)) {
    job_fail (job, GST_RESOURCE_ERROR_FAILED, "Calibrating the threshold failed.", err.message);
    ok = FALSE;
  }
  if (ok)
    ok = keep_companion (job, m, c, n_held ? held : train, runs);
  g_array_unref (runs);
  if (!ok && !(job->cancelled && (keep || job->finished) && park_model (job, m)))
    companion_lost (job);
  if (!job->parked)
    job->cancelled = FALSE; /* the model itself is finished and written */
  decent_model_free (c);
}

/* calibrate-only of a model with a companion: the companion gets its
 * thresholds and gate from the same footage at its geometry, in the same
 * runs as the model's gate.  FALSE with
 * job_fail called (the file is then left as it was). */
static gboolean
calibrate_companion (TrainJob *job, DecentModel *m, const GArray *runs)
{
  DecentError err = { { 0 } };
  DecentModel *c = decent_model_companion_new (m, job->cfg.device, &err);
  DecentConfig cfg;
  gboolean ok = FALSE;
  if (c)
    decent_model_get_config (c, &cfg);
  if (!c) {
    job_fail (job, GST_RESOURCE_ERROR_SETTINGS, "Could not load the model to calibrate.",
        err.message);
  } else if (cfg.width != job->companion_cfg.width || cfg.height != job->companion_cfg.height) {
    gchar *why = g_strdup_printf ("%s's companion is now %dx%d; the frames were collected for "
        "%dx%d: the model changed during the run; run again", job->shown, cfg.width, cfg.height,
        job->companion_cfg.width, job->companion_cfg.height);
    job_fail (job, GST_RESOURCE_ERROR_SETTINGS, "Could not load the model to calibrate.", why);
    g_free (why);
  } else if (decent_model_calibrate_all (c, job->companion_frames, (int) job->n_frames,
                 (float) job->quantile, (float) job->sigmas, &err) < 0) {
    job_fail (job, GST_RESOURCE_ERROR_FAILED, "Calibrating the companion's threshold failed.",
        err.message);
  } else {
    ok = keep_companion (job, m, c, job->companion_frames, runs);
  }
  decent_model_free (c);
  return ok;
}

/* After training: the normal errors of the training footage, every
 * mode's threshold from the held-out footage (the training frames without
 * any: optimistic, said), and the still gate.  FALSE with the error
 * posted, the model kept (fail_keeping_model). */
static gboolean
calibrate_model (TrainJob *job, DecentModel *m, const guint8 *train, guint n_train,
    const guint8 *held, guint n_held, const GArray *runs)
{
  GstDecentTrain *self = job->self;
  DecentError err = { { 0 } };
  if (n_held == 0 && job->holdout > 0)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("No frames could be held out; the threshold is calibrated on the training frames."),
        ("holdout=%g of %u frames leaves fewer than 2 to train on or none to hold out; a "
            "threshold from training frames is low (more frames are flagged): collect more "
            "frames, or set decentanomaly's threshold", job->holdout, job->n_frames));
  else if (n_held == 0)
    GST_INFO_OBJECT (self, "holdout=0: calibrating on the training frames");
  if (decent_model_learn_normal (m, train, (int) n_train, &err) < 0
      || decent_model_calibrate_all (m, n_held ? held : train,
             (int) (n_held ? n_held : n_train), (float) job->quantile, (float) job->sigmas,
             &err) < 0) {
    fail_keeping_model (job, m, "Calibrating the threshold failed.", err.message);
    return FALSE;
  }
  calibrate_still (job, m, n_held ? held : train, runs);
  warn_about_calibration (job, m);
  return TRUE;
}

/* calibrate-only: the model at model-location gets every mode's threshold
 * from all the footage collected (another normal recording), nothing is
 * trained, and the model is written back atomically. */
static void
run_calibration (TrainJob *job)
{
  GstDecentTrain *self = job->self;
  DecentError err = { { 0 } };
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_progress (GST_OBJECT (self), GST_PROGRESS_TYPE_START, "train",
          "Calibrating the thresholds"));
  DecentModel *m = decent_model_load (job->location, job->cfg.device, &err);
  DecentConfig cfg;
  if (m)
    decent_model_get_config (m, &cfg);
  if (!m) {
    job_fail (job, GST_RESOURCE_ERROR_SETTINGS, "Could not load the model to calibrate.",
        err.message);
  } else if (decent_model_has_companion (m) != (job->companion_bytes > 0)) {
    gchar *why = g_strdup_printf ("%s carries %s companion model now, and %s when the frames "
        "were collected: the model changed during the run; run again", job->shown,
        job->companion_bytes ? "no" : "a", job->companion_bytes ? "one" : "none");
    job_fail (job, GST_RESOURCE_ERROR_SETTINGS, "Could not load the model to calibrate.", why);
    g_free (why);
  } else if (cfg.width != job->cfg.width || cfg.height != job->cfg.height
             || cfg.channels != job->cfg.channels) {
    /* replaced while the frames were collected at the old one's size */
    gchar *why = g_strdup_printf ("%s is now a %dx%dx%d model; the frames were collected for "
        "%dx%dx%d: the model changed during the run; run again", job->shown, cfg.width,
        cfg.height, cfg.channels, job->cfg.width, job->cfg.height, job->cfg.channels);
    job_fail (job, GST_RESOURCE_ERROR_SETTINGS, "Could not load the model to calibrate.", why);
    g_free (why);
  } else if (job->n_frames < 2) {
    gchar *why = g_strdup_printf ("%u frames kept of %" G_GUINT64_FORMAT "; a threshold needs "
        "at least 2 normal frames (and a few hundred to mean much); %s is unchanged",
        job->n_frames, job->seen, job->shown);
    job_fail (job, GST_RESOURCE_ERROR_FAILED, "Too few frames to calibrate on.", why);
    g_free (why);
  } else if (decent_model_calibrate_all (m, job->frames, (int) job->n_frames,
                 (float) job->quantile, (float) job->sigmas, &err) < 0) {
    job_fail (job, GST_RESOURCE_ERROR_FAILED, "Calibrating the threshold failed.", err.message);
  } else {
    GArray *runs = decent_still_runs_new ();
    decent_still_runs_append (runs, 0, job->n_frames, job->stream_starts);
    calibrate_still (job, m, job->frames, runs);
    warn_about_calibration (job, m);
    const gboolean companion_ok = !job->companion_bytes || calibrate_companion (job, m, runs);
    g_array_unref (runs);
    if (!companion_ok) {
      /* said why */
    } else if (decent_model_save (m, job->location, &err) < 0) {
      job_fail (job, GST_RESOURCE_ERROR_OPEN_WRITE, "Could not write the model file.",
          err.message);
    } else {
      job->ok = TRUE;
      post_written (job, m, "calibrated", 0, job->n_frames);
    }
  }
  if (!job->ok)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_progress (GST_OBJECT (self), GST_PROGRESS_TYPE_ERROR, "train",
            job->error_text));
  decent_model_free (m);
}

/* The start's message: what this run does with m as start_model gave it
 * (NULL: none, an error follows).  A resumed checkpoint's epochs are done:
 * said as the epochs left (it said "for N epochs" of them all, and then
 * warned that nothing more was trained). */
static gchar *
start_text (const TrainJob *job, const DecentModel *m, guint n_train, guint n_held)
{
  if (m && job->finished) /* resume=true beside a finished model: only its companion trains */
    return job->companion_bytes
        ? g_strdup_printf ("Writing the finished model of %s with a companion trained now on "
            "%u frames (%u held out)", job->shown_finished, n_train, n_held)
        : g_strdup_printf ("Writing the finished model of %s as it is (this run's %u frames are "
            "not used)", job->shown_finished, job->n_frames);
  DecentConfig cfg = job->cfg;
  DecentInfo info = { 0 };
  if (m) {
    decent_model_get_config (m, &cfg);
    decent_model_describe (m, &info);
  }
  const guint done = m && job->resumed ? info.epochs : 0;
  gchar *resuming = m && job->resumed ? g_strdup_printf (": resuming from %s after epoch %u",
      job->shown_checkpoint, done) : g_strdup ("");
  gchar *text;
  const guint last = planned_epochs (job, cfg.batch_size, n_train);
  const guint per_epoch = steps_per_epoch (n_train, (guint) cfg.batch_size);
  if (!job->epochs)
    text = g_strdup_printf ("Training on %u frames (%u held out) until the held-out error stops "
        "falling%s", n_train, n_held, resuming);
  else if (m && job->resumed && done >= last)
    text = g_strdup_printf ("Nothing more to train: %s already has %u epochs (epochs=%u, "
        "min-steps=%u); calibrating its model on %u frames (%u held out)%s",
        job->shown_checkpoint, done, job->epochs, job->min_steps, n_train, n_held,
        job->companion_bytes ? ", then training its companion" : "");
  else if (m && job->resumed)
    text = g_strdup_printf ("Training on %u frames (%u held out) for %u more epoch%s of %u "
        "steps, to epoch %u%s", n_train, n_held, last - done, last - done == 1 ? "" : "s",
        per_epoch, last, resuming);
  else
    text = g_strdup_printf ("Training on %u frames (%u held out) for %u epochs of %u steps",
        n_train, n_held, last, per_epoch);
  g_free (resuming);
  return text;
}

static void
run_training (TrainJob *job)
{
  GstDecentTrain *self = job->self;
  const gsize fb = job->frame_bytes;
  DecentError err = { { 0 } };

  if (job->calibrate_only) {
    run_calibration (job);
    return;
  }
  /* contiguous blocks of footage are held out to calibrate the thresholds */
  GArray *runs = decent_still_runs_new ();
  guint n_held = decent_frames_split_held_out (job->frames, fb, job->n_frames, job->holdout,
      MIN (job->blocks, MAX_HOLDOUT_BLOCKS), job->stream_starts, runs);
  guint n_train = job->n_frames - n_held;
  const guint8 *train = job->frames, *held = job->frames + (gsize) n_train * fb;

  /* the model first, so that the start's message says what is left to
   * train of a resumed one (start_model's warnings of files gone or a
   * companion left out come before it); the settings it resumed with are
   * said after it */
  DecentModel *m = start_model (job, &err);
  gchar *msg = start_text (job, m, n_train, n_held);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_progress (GST_OBJECT (self), GST_PROGRESS_TYPE_START, "train", msg));
  g_free (msg);
  if (m && job->finished) {
    say_finished_resumed (job, m);
  } else if (m && job->resumed) {
    warn_about_checkpoint (job, m, n_train);
  }

  if (!m) {
    job_fail (job, GST_RESOURCE_ERROR_SETTINGS, "Cannot start training.", err.message);
  } else if (n_train < 2 && !(job->finished && !job->companion_bytes)) {
    /* (a finished model written as it is needs no more frames) */
    /* what was skipped, which no setting here would have kept */
    GString *skipped = g_string_new (NULL);
    if (job->bad_buffers)
      g_string_append_printf (skipped, "; %u too small for their caps", job->bad_buffers);
    if (job->gap_buffers)
      g_string_append_printf (skipped, "; %u GAP buffers not collected", job->gap_buffers);
    gchar *why = g_strdup_printf ("%u of %" G_GUINT64_FORMAT " frames kept (frame-stride=%u, "
        "max-frames=%u, max-memory=%" G_GUINT64_FORMAT "%s); decent-train needs at least 2: %s",
        job->n_frames, job->seen, job->stride, job->max_frames, job->max_memory, skipped->str,
        job->memory_out ? "the memory ran out while collecting: lower width and height (and "
            "companion-width and companion-height, or set companion=false)"
        : job->memory_full ? (job->companion_bytes ? "raise max-memory (each frame is kept at "
            "the model's size and at the companion's), or set companion=false"
            : "raise max-memory")
        : job->n_frames + job->bad_buffers == job->seen
        ? (job->bad_buffers ? "the other buffers were unreadable: fix the caps or the source"
            : "the stream was that short: give it more footage")
        : "raise max-frames or lower frame-stride");
    job_fail (job, GST_RESOURCE_ERROR_FAILED, "Too few frames to train on.", why);
    g_free (why);
    g_string_free (skipped, TRUE);
  } else if ((!job->finished || job->companion_bytes) && job->epochs == 0 && n_held == 0) {
    /* (a finished model's companion trains as a model would) */
    job_fail (job, GST_RESOURCE_ERROR_SETTINGS, "Cannot train until the held-out error stops "
        "falling without held-out frames.", "epochs=0 needs holdout > 0 and enough frames to "
        "hold some out; set epochs");
  } else if (!job->finished && !train_epochs (job, m, train, n_train, held, n_held)) {
    /* train_epochs said why, or was cancelled */
  } else if (job->finished
             || calibrate_model (job, m, train, n_train, held, n_held, runs)) {
    if (job->companion_bytes)
      train_companion (job, m, n_train, n_held);
    else if (!job->finished && stopped_meanwhile (job) && !(job->keep_checkpoints
                                                              && park_model (job, m))) {
      job->cancelled = FALSE; /* written, since it cannot be kept: never lost */
      GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
          ("Stopped while calibrating the trained model; it is written all the same."),
          ("training had finished, and %s", job->park_error ? job->park_error
              : "checkpoint=false keeps nothing to resume from"));
    }
    if (job->parked)
      ; /* park_model said so: nothing written */
    else if (decent_model_save (m, job->location, &err) < 0
             && !write_in_place_of_checkpoint (job, m, &err))
      fail_keeping_model (job, m, "Could not write the model file.", err.message);
    else
      job->ok = TRUE;
    /* the run is in the model now: a checkpoint or a finished model beside
     * it (this run's, the one it went on from, or an older run's) would only
     * be resumed wrongly later, over this model */
    if (job->ok) {
      remove_leftover (job, job->checkpoint);
      remove_leftover (job, job->finished_path);
    }
  }
  if (job->ok) {
    /* the frames this run trained on: none when a finished model is
     * written as it was, without a companion trained now (none asked for,
     * or it failed); its own threshold says how many calibrated it */
    const gboolean trained_none = job->finished && decent_model_has_companion (m) != 1;
    post_written (job, m, "written", trained_none ? 0 : n_train, trained_none ? 0 : n_held);
  } else {
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_progress (GST_OBJECT (self),
            job->cancelled ? GST_PROGRESS_TYPE_CANCELED : GST_PROGRESS_TYPE_ERROR, "train",
            job->cancelled ? "Training stopped" : job->error_text));
  }
  decent_model_free (m);
  g_array_unref (runs);
}

/* The engine configuration the properties describe; call with the object
 * lock held. */
static void
config_from_properties (GstDecentTrain *self, gint width, gint height, gint channels,
    DecentConfig *cfg)
{
  decent_config_init (cfg, width, height, channels);
  cfg->batch_size = (int) self->batch_size;
  cfg->learning_rate = (float) self->learning_rate;
  cfg->lambda = (float) self->lambda;
  cfg->loss = self->loss;
  cfg->seed = self->seed;
  cfg->device = self->device;
  cfg->latent_side = self->latent_side;
  cfg->base_channels = self->base_channels;
  cfg->max_channels = self->max_channels;
  cfg->local_area = (float) self->local_area;
  cfg->local_surround = (float) self->local_surround;
}

/* Trains (or calibrates) on the streaming thread, which waits for it
 * anyway: the state change to READY and flushes cancel it through
 * self->cancel; FALSE on failure (an error has been posted) or
 * cancellation. */
static gboolean
train_and_save (GstDecentTrain *self)
{
  TrainJob job = { 0 };
  job.self = self;
  GST_OBJECT_LOCK (self);
  if (!self->model_location || !*self->model_location) {
    /* (checked when collecting started, and fixed since: a guard) */
    GST_OBJECT_UNLOCK (self);
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No model file given."),
        ("Set the model-location property: where the trained model is written."));
    return FALSE;
  }
  config_from_properties (self, self->geometry[0], self->geometry[1], self->geometry[2], &job.cfg);
  config_from_properties (self, self->companion_geometry[0], self->companion_geometry[1],
      self->geometry[2], &job.companion_cfg);
  job.companion_cfg.latent_side = 0; /* one cell: the whole frame from one code */
  job.location = g_strdup (self->model_location);
  job.checkpoint = g_strconcat (job.location, ".checkpoint", NULL);
  job.finished_path = g_strconcat (job.location, ".finished", NULL);
  job.keep_checkpoints = self->checkpoint;
  job.resume = self->resume;
  job.checkpoint_found = self->checkpoint_found;
  job.finished_found = self->finished_found;
  job.epochs = self->epochs;
  job.min_steps = self->min_steps;
  job.patience = self->patience;
  job.zoom = self->augment_zoom;
  job.quantile = self->quantile;
  job.sigmas = self->sigmas;
  decent_still_settings_init (&job.still);
  job.still.lag = (int) self->still_lag;
  job.still.tolerance = (float) self->still_tolerance;
  job.still.memory = (float) self->still_memory;
  /* a gate that cannot fit, as said at the start: none, without a second word */
  if (self->still_unfit && job.still.lag > 0
      && decent_still_settings_fit (&job.still, self->geometry[0], self->geometry[1], NULL) < 0)
    job.still.lag = 0;
  /* the companion's, likewise; the model's gate alone would not be used */
  if (self->companion_still_unfit && job.still.lag > 0
      && decent_still_settings_fit (&job.still, self->companion_geometry[0],
             self->companion_geometry[1], NULL) < 0)
    job.still.lag = 0;
  job.stride = self->frame_stride;
  job.max_frames = self->max_frames;
  job.max_memory = self->max_memory;
  GST_OBJECT_UNLOCK (self);
  /* the time between collected frames, so that decentanomaly keeps the
   * gate's lag and memory in seconds at another frame rate (0: no
   * framerate, or more than one, in the caps: frames count as they come) */
  gdouble frame_seconds = self->frame_spacing > 0
      ? CLAMP (self->frame_spacing, DECENT_STILL_MIN_SECONDS, DECENT_STILL_MAX_SECONDS) : 0.0;
  /* what the caps claim is not always the camera's pace: the timestamps
   * (the median interval of the collected frames, pacemeter.h) say it
   * where the caps gave no framerate or one over a quarter off */
  const gdouble measured = self->intervals->len
      ? decent_pace_median ((GstClockTime *) (gpointer) self->intervals->data,
            self->intervals->len) : 0.0;
  if (self->frame_spacing >= 0 && measured >= DECENT_PACE_MIN_SECONDS
      && measured <= DECENT_STILL_MAX_SECONDS
      && (frame_seconds == 0 || fabs (measured - frame_seconds) > 0.25 * frame_seconds)) {
    if (frame_seconds > 0 && job.still.lag > 0) /* (not under the object lock: posts) */
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("The frames' timestamps do not keep the caps' framerate; the still gate is "
              "calibrated to the timestamps."),
          ("collected frames come %g s apart (the median interval), not %g s (framerate "
              "and frame-stride): many of the frames the caps promise did not come (lost "
              "upstream, GAP events), or the source keeps another pace than its caps say",
              measured, frame_seconds));
    else if (frame_seconds == 0)
      GST_INFO_OBJECT (self, "no framerate in the caps; collected frames come %g s apart",
          measured);
    frame_seconds = measured;
  }
  job.still.frame_seconds = (float) frame_seconds;
  job.shown = decent_shown_name (job.location);
  job.shown_checkpoint = decent_shown_name (job.checkpoint);
  job.shown_finished = decent_shown_name (job.finished_path);
  /* the split fixed when collecting started */
  job.holdout = self->holdout_used;
  job.blocks = self->blocks_used;
  job.calibrate_only = self->calibrating;
  job.frames = self->frames;
  job.stream_starts = self->stream_starts;
  job.frame_bytes = self->frame_bytes;
  job.companion_frames = self->companion_frames;
  job.companion_bytes = self->companion_bytes;
  job.n_frames = self->n_frames;
  job.seen = self->seen;
  job.bad_buffers = self->bad_buffers;
  job.gap_buffers = self->gap_buffers;
  job.memory_full = self->store_full && !self->store_oom;
  job.memory_out = self->store_full && self->store_oom;
  job.t_start = g_get_monotonic_time ();

  if (self->failed) {
    /* an error was posted while collecting: the end of the stream that a
     * source may still send (appsrc after a flow error) trains nothing and
     * leaves the model file as it was, as a pipeline stopped on the error
     * would */
    GST_INFO_OBJECT (self, "an error came while collecting: %u frames not trained on",
        job.n_frames);
  } else if (job.n_frames == 0) {
    const gchar *what = job.calibrate_only ? "calibrate" : "train";
    if (self->bad_buffers)
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("No frames to %s on.", what),
          ("all %u buffers were too small for their caps; nothing was written to %s",
              self->bad_buffers, job.shown));
    else if (self->gap_buffers)
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("No frames to %s on.", what),
          ("all %u buffers were flagged GAP (a source's stand-ins for lost footage, not "
              "collected); nothing was written to %s", self->gap_buffers, job.shown));
    else if (self->store_full)
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("No frames to %s on.", what),
          ("not one frame fitted in %s; nothing was written to %s",
              self->store_oom ? "the machine's memory" : "max-memory (raise it)", job.shown));
    else
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("No frames to %s on.", what),
          ("End of stream came before any frame; nothing was written to %s", job.shown));
  } else {
    self->trained = TRUE;
    run_training (&job);
    if (job.ok) {
      drop_frames (self); /* they are in the model now; give the memory back */
      /* taken: a collection after a flush must not miss them as gone */
      self->checkpoint_found = self->finished_found = FALSE;
    } else if (!job.cancelled) {
      if (job.write_error == GST_RESOURCE_ERROR_OPEN_WRITE)
        GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", job.error_text), ("%s",
                job.error_debug));
      else if (job.write_error == GST_RESOURCE_ERROR_SETTINGS)
        GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", job.error_text),
            ("%s; nothing was written to %s", job.error_debug, job.shown));
      else
        GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("%s", job.error_text),
            ("%s; nothing was written to %s", job.error_debug, job.shown));
    }
  }
  g_free (job.error_text);
  g_free (job.error_debug);
  g_free (job.shown);
  g_free (job.shown_checkpoint);
  g_free (job.shown_finished);
  g_free (job.finished_path);
  g_free (job.park_error);
  g_free (job.location);
  g_free (job.checkpoint);
  return job.ok;
}

static gboolean check_checkpoint (GstDecentTrain *self, const gchar *location,
    const DecentConfig *cfg, gboolean resume, gboolean checkpoint);

/* A flush that stopped a training may have left a finished model waiting
 * for its companion, or a checkpoint (park_model): the new collection says
 * what a start says of them (resume=false discards the waiting model) and
 * resume=true takes them.  Streaming thread. */
static void
check_leftovers_after_flush (GstDecentTrain *self)
{
  GST_OBJECT_LOCK (self);
  gchar *location = g_strdup (self->model_location);
  const gboolean checkpoint = self->checkpoint, resume = self->resume;
  const gboolean calibrate_only = self->calibrate_only;
  DecentConfig cfg;
  config_from_properties (self, self->width, self->height, self->channels, &cfg);
  GST_OBJECT_UNLOCK (self);
  self->checkpoint_found = self->finished_found = FALSE;
  if (location && *location && !calibrate_only
      && !check_checkpoint (self, location, &cfg, resume, checkpoint))
    self->failed = TRUE; /* said why */
  g_free (location);
}

static gboolean
gst_decent_train_event (GstBaseSink *sink, GstEvent *event)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (sink);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      /* a flush stops training after the current epoch; frames are kept */
      set_cancel (self, TRUE);
      break;
    case GST_EVENT_STREAM_START:
      /* another recording (concat, a playlist): the still gate's history
       * begins again there, and its timestamps are no pace for the last
       * one's (serialized: the streaming thread's, as render is) */
      cut_still_runs (self);
      self->last_pts = GST_CLOCK_TIME_NONE;
      break;
    case GST_EVENT_FLUSH_STOP:
      /* a flushing seek feeds footage again: start the collection anew, or
       * frames would be kept twice (and held out beside their copies) */
      set_cancel (self, FALSE);
      if (self->n_frames)
        GST_INFO_OBJECT (self, "flush: dropping the %u frames collected", self->n_frames);
      drop_frames (self);
      self->seen = 0;
      self->store_full = FALSE;
      self->store_oom = FALSE;
      self->bad_buffers = self->gap_buffers = 0;
      self->failed = FALSE;
      if (self->trained)
        check_leftovers_after_flush (self);
      self->trained = FALSE;
      break;
    case GST_EVENT_EOS: {
      /* basesink holds its PREROLL_LOCK here.  Training can take hours: let
       * go of it meanwhile, so that PLAYING -> PAUSED completes (asynchronously)
       * instead of blocking, and READY or a flush can come and cancel. */
      GST_BASE_SINK_PREROLL_UNLOCK (sink);
      gboolean ok = train_and_save (self);
      GST_BASE_SINK_PREROLL_LOCK (sink);
      if (!ok) {
        gst_event_unref (event);
        return FALSE;
      }
      break;
    }
    default:
      break;
  }
  return GST_BASE_SINK_CLASS (gst_decent_train_parent_class)->event (sink, event);
}

/* ---- checks before any frame ------------------------------------------ */

/* The engine's checks, and one frame that must fit max-memory. */
static gboolean
check_settings_of (GstDecentTrain *self, const DecentConfig *cfg, guint64 max_memory,
    const gchar *whose)
{
  DecentError err = { { 0 } };
  if (decent_config_validate (cfg, &err) < 0) {
    gchar *reason = valid_text (err.message);
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Invalid training settings."), ("%s%s", whose,
            reason));
    g_free (reason);
    return FALSE;
  }
  const guint64 fb = (guint64) cfg->width * (guint64) cfg->height * (guint64) cfg->channels;
  if (fb > max_memory) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("One frame does not fit in max-memory."),
        ("a %dx%dx%d frame takes %" G_GUINT64_FORMAT " bytes and max-memory=%" G_GUINT64_FORMAT
            "; raise max-memory or lower width, height or channels", cfg->width, cfg->height,
            cfg->channels, fb, max_memory));
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_settings (GstDecentTrain *self, const DecentConfig *cfg, guint64 max_memory)
{
  return check_settings_of (self, cfg, max_memory, "");
}

/* A model that cannot be written fails now, not after hours of training:
 * the target is no folder, its folder exists, and a probe file can be
 * created there (as long a name as the checkpoint's temporaries). */
static gboolean
check_writable (GstDecentTrain *self, const gchar *location, gboolean checkpoint)
{
  gchar *shown = decent_shown_name (location);
  /* the model is written where a link points (decent_model_save); the
   * checkpoint beside the link */
  char *target = decent_model_file_target (location);
  gchar *folder = g_path_get_dirname (target ? target : location);
  gchar *shown_folder = decent_shown_name (folder);
  gchar *why = NULL;
  GStatBuf st;
  DecentError refused = { { 0 } };
  if (g_stat (location, &st) == 0 && S_ISDIR (st.st_mode)) {
    why = g_strdup_printf ("%s is a folder (%s); give a file name", shown, g_strerror (EISDIR));
  } else if (decent_model_check_destination (location, &refused) < 0) {
    why = valid_text (refused.message); /* a loop of links, a device or FIFO */
  } else if (g_stat (folder, &st) != 0) {
    int e = errno;
    why = g_strdup_printf ("cannot write model file %s: its folder %s: %s", shown, shown_folder,
        g_strerror (e));
  } else if (!S_ISDIR (st.st_mode)) {
    why = g_strdup_printf ("cannot write model file %s: %s: %s", shown, shown_folder,
        g_strerror (ENOTDIR));
  } else {
    /* probes named as the writer's temporaries, <name>.tmp-XXXXXX, and
     * locked as they are: one left by a process killed before removing it
     * is a dead writer's temporary, which the next start removes */
    gchar *probes[2] = { g_strconcat (target ? target : location, ".tmp-XXXXXX", NULL),
      checkpoint ? g_strconcat (location, ".checkpoint.tmp-XXXXXX", NULL) : NULL };
    for (int i = 0; i < 2 && probes[i] && !why; i++) {
      int fd = g_mkstemp (probes[i]);
      if (fd < 0) {
        int e = errno;
        gchar *dir = g_path_get_dirname (probes[i]), *shown_dir = decent_shown_name (dir);
        /* (the model's folder is writable when only the checkpoint's is
         * not: a link's target elsewhere; without checkpoints it trains) */
        why = g_strdup_printf ("cannot write %s %s: cannot create a file in %s: %s%s",
            i ? "the checkpoint of" : "model file", shown, shown_dir, g_strerror (e),
            i ? " (checkpoint=false trains without checkpoints)" : "");
        g_free (shown_dir);
        g_free (dir);
      } else {
        flock (fd, LOCK_EX | LOCK_NB); /* (just made: nobody else holds it) */
        g_unlink (probes[i]);
        close (fd);
      }
    }
    g_free (probes[0]);
    g_free (probes[1]);
  }
  const gboolean ok = why == NULL;
  if (why)
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("Could not write the model file."),
        ("%s; found at start, before collecting frames", why));
  g_free (why);
  g_free (shown_folder);
  g_free (folder);
  free (target);
  g_free (shown);
  return ok;
}

/* Temporaries <path>.tmp-XXXXXX of writers that died: logged at INFO, one
 * line each; nothing on the bus (nothing the application must act on). */
static void
remove_stale_temporaries (GstDecentTrain *self, const gchar *path)
{
  char *removed = NULL;
  DecentError err = { { 0 } };
  if (decent_model_remove_stale_temporaries (path, &removed, &err) < 0) {
    gchar *reason = valid_text (err.message);
    GST_WARNING_OBJECT (self, "cannot look for stale temporaries: %s", reason);
    g_free (reason);
  } else if (removed) {
    gchar **names = g_strsplit (removed, "\n", -1);
    for (gchar **n = names; *n; n++) {
      gchar *shown = decent_shown_name (*n);
      GST_INFO_OBJECT (self, "removed stale temporary %s (left by a writer that died)", shown);
      g_free (shown);
    }
    g_strfreev (names);
  }
  free (removed);
}

/* Whether a model file at path can be resumed from (load_resumable).
 * FALSE with an error posted (found at start, before collecting frames). */
static gboolean
resumable_at_start (GstDecentTrain *self, const gchar *path, const gchar *shown,
    const DecentConfig *cfg)
{
  DecentError err = { { 0 } };
  DecentModel *m = load_resumable (path, shown, cfg, &err);
  if (!m) {
    gchar *why = valid_text (err.message);
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Cannot resume training."),
        ("%s (found at start, before collecting frames)", why));
    g_free (why);
  }
  const gboolean ok = m != NULL;
  decent_model_free (m);
  return ok;
}

/* A run's leftovers beside model-location: <location>.finished (a finished
 * model waiting for its companion: park_model) and <location>.checkpoint.
 * resume=true takes the first there, checked now rather than after the
 * whole collection; resume=false trains anew, which is said, and once it
 * writes its model both go.  FALSE (an error posted) when it cannot resume. */
static gboolean
check_checkpoint (GstDecentTrain *self, const gchar *location, const DecentConfig *cfg,
    gboolean resume, gboolean checkpoint)
{
  gchar *path = g_strconcat (location, ".checkpoint", NULL);
  gchar *finished = g_strconcat (location, ".finished", NULL);
  gchar *shown = decent_shown_name (path), *shown_finished = decent_shown_name (finished);
  gboolean ok = TRUE;
  /* (a folder or device of that name is no finished model) */
  const gboolean has_finished = g_file_test (finished, G_FILE_TEST_IS_REGULAR);
  const gboolean has_checkpoint = g_file_test (path, G_FILE_TEST_IS_REGULAR);
  DecentError other = { { 0 } };
  /* a file of something else under either name would be written over or
   * deleted once the model is written (helper-70: notes named so went) */
  if ((has_checkpoint && decent_model_check_destination (path, &other) < 0)
      || (has_finished && decent_model_check_destination (finished, &other) < 0)) {
    gchar *reason = valid_text (other.message);
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("Could not write the model file."),
        ("%s; decent-train keeps its checkpoint and a stopped run's finished model under "
            "those names, and deletes them once it writes the model: move it away", reason));
    g_free (reason);
    ok = FALSE;
  } else if (g_file_test (path, G_FILE_TEST_EXISTS) && !has_checkpoint && checkpoint) {
    /* a folder or device there: every epoch's checkpoint would fail */
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("Could not write the model file."),
        ("cannot write the checkpoint %s: it exists and is not a regular file (a folder?); "
            "move it away, or set checkpoint=false", shown));
    ok = FALSE;
  } else if (resume && has_finished) {
    self->finished_found = TRUE;
    ok = resumable_at_start (self, finished, shown_finished, cfg);
    if (ok && has_checkpoint) /* (a later run stopped while training anew) */
      GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
          ("A checkpoint is beside the finished model; resume=true takes the finished model "
              "and deletes the checkpoint once it writes."),
          ("%s waits to be written, and %s holds a later run's epochs (one with "
              "resume=false, stopped while training anew); to continue that one instead, "
              "move %s away first", shown_finished, shown, shown_finished));
  } else if (resume && has_checkpoint) {
    self->checkpoint_found = TRUE;
    ok = resumable_at_start (self, path, shown, cfg);
  } else if (has_finished) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("A finished model from a stopped run is waiting; this run trains anew and discards "
            "it."),
        ("%s holds a finished model stopped before it was written (while it was "
            "calibrated or its companion trained), and resume=false: set resume=true to write "
            "it instead; it is deleted once this run writes its model, or replaced if this run "
            "is stopped so too", shown_finished));
  } else if (has_checkpoint) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("An interrupted run's checkpoint exists; this run starts anew and replaces it."),
        ("%s exists and resume=false; set resume=true to continue that run instead%s", shown,
            checkpoint ? "" : " (with checkpoint=false it is deleted once this run writes its "
            "model)"));
  }
  g_free (shown);
  g_free (shown_finished);
  g_free (path);
  g_free (finished);
  return ok;
}

/* Whether a finished model waits beside location (park_model). */
static gboolean
finished_waits (const gchar *location)
{
  gchar *finished = g_strconcat (location, ".finished", NULL);
  const gboolean waits = g_file_test (finished, G_FILE_TEST_IS_REGULAR);
  g_free (finished);
  return waits;
}

/* What can be found before any frame, with the settings of this run:
 * checked when each collection starts (READY -> PAUSED), not only at
 * NULL -> READY, since settings may change in READY. */
static gboolean
check_before_collecting (GstDecentTrain *self)
{
  GST_OBJECT_LOCK (self);
  gchar *location = g_strdup (self->model_location);
  const gboolean checkpoint = self->checkpoint, resume = self->resume;
  const gboolean calibrate_only = self->calibrate_only;
  const guint64 max_memory = self->max_memory;
  /* known now, not only once every frame is collected; resumed too, but
   * from a finished model written as it is, which trains nothing
   * (helper-78: said only after the whole collection) */
  const gboolean untimed = self->epochs == 0 && !(self->holdout > 0) && !calibrate_only;
  const gboolean trains_nothing = resume && !self->companion;
  DecentConfig cfg;
  config_from_properties (self, self->width, self->height, self->channels, &cfg);
  GST_OBJECT_UNLOCK (self);
  self->checkpoint_found = self->finished_found = FALSE; /* check_checkpoint says */

  gboolean ok = FALSE;
  if (!location || !*location) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No model file given."),
        ("Set the model-location property: where the trained model is written."));
  } else if (!check_settings (self, &cfg, max_memory)) {
    /* said why */
  } else if (untimed && !(trains_nothing && finished_waits (location))) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Cannot train until the held-out error "
            "stops falling without held-out frames."),
        ("epochs=0 needs holdout > 0 and enough frames to hold some out; set epochs"));
  } else if (cfg.device == DECENT_DEVICE_CUDA && !decent_device_available (DECENT_DEVICE_CUDA)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("device=cuda, but the GPU cannot be used."),
        ("%s. Use device=auto or device=cpu.", decent_device_describe (DECENT_DEVICE_CUDA)));
  } else if (!check_writable (self, location, checkpoint && !calibrate_only)) {
    /* said why (calibrate-only writes no checkpoint: not checked) */
  } else if (!calibrate_only && !check_checkpoint (self, location, &cfg, resume, checkpoint)) {
    /* said why */
  } else {
    /* the model's temporaries lie beside the file it is written to (a
     * link's target), the checkpoint's beside the location */
    gchar *checkpoint_path = g_strconcat (location, ".checkpoint", NULL);
    gchar *finished_path = g_strconcat (location, ".finished", NULL);
    char *target = decent_model_file_target (location);
    remove_stale_temporaries (self, target ? target : location);
    remove_stale_temporaries (self, checkpoint_path);
    remove_stale_temporaries (self, finished_path);
    free (target);
    g_free (checkpoint_path);
    g_free (finished_path);
    GST_INFO_OBJECT (self, "device=%s: training on %s", decent_device_name (cfg.device),
        decent_device_describe (cfg.device));
    ok = TRUE;
  }
  g_free (location);
  return ok;
}

/* calibrate-only: the geometry of the model to calibrate, which must load. */
static gboolean
model_to_calibrate (GstDecentTrain *self, const gchar *location, DecentDevice device,
    DecentConfig *cfg, DecentConfig *companion)
{
  DecentError err = { { 0 } };
  DecentModel *m = location ? decent_model_load (location, device, &err) : NULL;
  if (!m) {
    gchar *shown = decent_shown_name (location);
    gchar *reason = valid_text (location ? err.message : "no model-location");
    /* train one first: only where there is none (not a file it cannot read) */
    gchar *finished = location ? g_strconcat (location, ".finished", NULL) : NULL;
    gchar *shown_finished = decent_shown_name (finished);
    gchar *advice = !location || g_file_test (location, G_FILE_TEST_EXISTS) ? g_strdup ("")
        : g_file_test (finished, G_FILE_TEST_IS_REGULAR)
        ? g_strdup_printf (" A finished model waits in %s: write it first (resume=true).",
            shown_finished)
        : g_strdup (" calibrate-only calibrates an existing model on new footage; train one "
            "first.");
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("calibrate-only: could not load model file \"%s\".", shown), ("%s.%s", reason,
            advice));
    g_free (advice);
    g_free (shown_finished);
    g_free (finished);
    g_free (reason);
    g_free (shown);
    return FALSE;
  }
  decent_model_get_config (m, cfg);
  companion->width = companion->height = 0;
  DecentModel *c = decent_model_has_companion (m)
      ? decent_model_companion_new (m, DECENT_DEVICE_CPU, &err) : NULL;
  const gboolean ok = c || !decent_model_has_companion (m);
  if (c)
    decent_model_get_config (c, companion);
  else if (!ok) {
    gchar *shown = decent_shown_name (location), *reason = valid_text (err.message);
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("calibrate-only: could not load the companion in model file \"%s\".", shown),
        ("%s", reason));
    g_free (reason);
    g_free (shown);
  }
  decent_model_free (c);
  decent_model_free (m);
  return ok;
}

/* Whether set_property refuses changes (refuse_while_running). */
static void
fix_settings (GstDecentTrain *self, gboolean fixed)
{
  GST_OBJECT_LOCK (self);
  self->settings_fixed = fixed;
  GST_OBJECT_UNLOCK (self);
}

/* READY -> PAUSED: a new collection, with the settings of now, which stay
 * until PAUSED -> READY. */
static gboolean
begin_collecting (GstDecentTrain *self)
{
  fix_settings (self, TRUE);
  if (!check_before_collecting (self))
    return FALSE;
  DecentConfig cfg;
  GST_OBJECT_LOCK (self);
  config_from_properties (self, self->width, self->height, self->channels, &cfg);
  const guint64 max_memory = self->max_memory;
  const gdouble holdout = self->holdout;
  const guint blocks = self->holdout_blocks;
  const gboolean calibrate_only = self->calibrate_only, geometry_set = self->geometry_set;
  DecentStillSettings still;
  decent_still_settings_init (&still);
  still.lag = (int) self->still_lag;
  still.tolerance = (float) self->still_tolerance;
  still.memory = (float) self->still_memory;
  gchar *location = g_strdup (self->model_location);
  DecentConfig companion = cfg;
  companion.latent_side = 0;
  companion.width = !self->companion ? 0 : self->companion_width ? self->companion_width
      : MAX (8, (2 * cfg.width + 1) / 3);
  companion.height = !self->companion ? 0 : self->companion_height ? self->companion_height
      : MAX (8, (2 * cfg.height + 1) / 3);
  GST_OBJECT_UNLOCK (self);
  /* frames at the geometry of the model to calibrate (and of its
   * companion), or of the properties */
  const DecentConfig asked = cfg;
  gboolean ok = !calibrate_only
      || model_to_calibrate (self, location, cfg.device, &cfg, &companion);
  g_free (location);
  if (ok && calibrate_only && asked.local_surround != cfg.local_surround)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("calibrate-only keeps the model's local score settings; local-surround is not used."),
        ("the model scores with local-surround=%g, and local-surround=%g is set: train the "
            "model again to change how it scores", cfg.local_surround, asked.local_surround));
  if (ok && calibrate_only && geometry_set
      && (asked.width != cfg.width || asked.height != cfg.height
          || asked.channels != cfg.channels))
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("calibrate-only calibrates the model at its own size; width, height and channels "
            "are not used."),
        ("the model is for %dx%dx%d frames; width=%d height=%d channels=%d were set. "
            "Frames are converted to the model's size, as decentanomaly converts them",
            cfg.width, cfg.height, cfg.channels, asked.width, asked.height, asked.channels));
  /* the properties' geometry was checked before (check_before_collecting);
   * a model to calibrate brings its own, and the companion its own */
  if (!ok || (calibrate_only && !check_settings (self, &cfg, max_memory))
      || (companion.width && !check_settings_of (self, &companion, max_memory,
                                 "the companion model (companion-width, companion-height): ")))
    return FALSE;
  const guint64 fb = (guint64) cfg.width * cfg.height * cfg.channels,
                cfb = (guint64) companion.width * companion.height * cfg.channels;
  if (cfb && fb + cfb > max_memory) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("One frame does not fit in max-memory."),
        ("a %dx%dx%d frame and its %dx%d copy for the companion model take %" G_GUINT64_FORMAT
            " bytes and max-memory=%" G_GUINT64_FORMAT "; raise max-memory or lower the sizes",
            cfg.width, cfg.height, cfg.channels, companion.width, companion.height, fb + cfb,
            max_memory));
    return FALSE;
  }
  self->companion_geometry[0] = companion.width;
  self->companion_geometry[1] = companion.height;
  self->companion_bytes = (gsize) cfb;
  self->companion_path_ready = FALSE;
  self->geometry[0] = cfg.width;
  self->geometry[1] = cfg.height;
  self->geometry[2] = cfg.channels;
  self->frame_bytes = (gsize) cfg.width * cfg.height * cfg.channels;
  /* a gate that cannot fit is said now, not after the whole training */
  DecentError err = { { 0 } };
  self->still_unfit = still.lag > 0
      && decent_still_settings_fit (&still, cfg.width, cfg.height, &err) < 0;
  /* the companion's gate too: without it, decentanomaly uses neither */
  self->companion_still_unfit = !self->still_unfit && still.lag > 0 && companion.width
      && decent_still_settings_fit (&still, companion.width, companion.height, &err) < 0;
  if (self->still_unfit || self->companion_still_unfit)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("The still gate will not be calibrated; decentanomaly will flag without it."),
        ("%s%s (the model is written without a gate)",
            self->companion_still_unfit ? "the companion model's " : "", err.message));
  self->holdout_used = holdout;
  self->blocks_used = blocks;
  self->calibrating = calibrate_only;
  drop_frames (self);
  self->seen = 0;
  self->store_full = FALSE;
  self->store_oom = FALSE;
  self->bad_buffers = 0;
  self->gap_buffers = 0;
  self->failed = FALSE;
  self->trained = FALSE;
  self->path_ready = FALSE;
  self->have_caps = FALSE;
  gst_caps_replace (&self->refused_caps, NULL); /* a new run says it again */
  gst_video_info_init (&self->info); /* no caps yet in this run */
  set_cancel (self, FALSE);
  return TRUE;
}

static GstStateChangeReturn
gst_decent_train_change_state (GstElement *element, GstStateChange transition)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (element);
  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!begin_collecting (self)) {
        fix_settings (self, FALSE);
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* stop training after the current epoch.  Not in basesink's unlock():
       * that comes on PLAYING -> PAUSED too, and a pause must not cancel. */
      set_cancel (self, TRUE);
      break;
    default:
      break;
  }
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS (gst_decent_train_parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY && ret != GST_STATE_CHANGE_FAILURE) {
    drop_frames (self); /* the streaming thread has stopped */
    fix_settings (self, FALSE);
  }
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && ret == GST_STATE_CHANGE_FAILURE)
    fix_settings (self, FALSE);
  return ret;
}

static gboolean
gst_decent_train_stop (GstBaseSink *sink)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (sink);
  drop_frames (self);
  decent_frame_path_clear (&self->path);
  self->path_ready = FALSE;
  decent_frame_path_clear (&self->companion_path);
  self->companion_path_ready = FALSE;
  return TRUE;
}

/* ---- properties ------------------------------------------------------- */

static void gst_decent_train_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec);

/* A value as the warning below shows it: strings (paths) as display names. */
static gchar *
shown_value (const GValue *v)
{
  if (!G_VALUE_HOLDS_STRING (v))
    return g_strdup_value_contents (v);
  const gchar *text = g_value_get_string (v);
  gchar *name = decent_shown_name (text ? text : ""), *shown =
      text ? g_strdup_printf ("\"%s\"", name) : g_strdup ("unset");
  g_free (name);
  return shown;
}

/* A setting asked for from the start of a collection until the element
 * stops (PAUSED -> READY): refused, with a warning, unless it is the value
 * already set.  Some settings are read when collecting starts and others
 * when training starts; taking a change would train with a mix of two
 * runs' settings. */
static void
refuse_while_running (GstDecentTrain *self, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  GValue now = G_VALUE_INIT;
  g_value_init (&now, G_PARAM_SPEC_VALUE_TYPE (pspec));
  gst_decent_train_get_property (G_OBJECT (self), prop_id, &now, pspec);
  if (g_param_values_cmp (pspec, value, &now) != 0) {
    gchar *kept = shown_value (&now), *asked = shown_value (value);
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("decent-train's settings cannot change until it stops; %s stays %s.", pspec->name,
            kept),
        ("%s=%s was asked while it collects, trains or waits after training; set it with the "
            "element in READY or NULL, then start it again", pspec->name, asked));
    g_free (asked);
    g_free (kept);
  }
  g_value_unset (&now);
}

static void
gst_decent_train_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (object);
  GST_OBJECT_LOCK (self);
  if (self->settings_fixed) {
    GST_OBJECT_UNLOCK (self); /* (the warning posts, which takes the lock) */
    refuse_while_running (self, prop_id, value, pspec);
    return;
  }
  gboolean known = TRUE;
  switch (prop_id) {
    case PROP_MODEL_LOCATION:
      g_free (self->model_location);
      self->model_location = g_value_dup_string (value);
      break;
    case PROP_WIDTH: self->width = g_value_get_int (value); self->geometry_set = TRUE; break;
    case PROP_HEIGHT: self->height = g_value_get_int (value); self->geometry_set = TRUE; break;
    case PROP_CHANNELS:
      self->channels = g_value_get_int (value);
      self->geometry_set = TRUE;
      break;
    case PROP_FRAME_STRIDE: self->frame_stride = g_value_get_uint (value); break;
    case PROP_MAX_FRAMES: self->max_frames = g_value_get_uint (value); break;
    case PROP_MAX_MEMORY: self->max_memory = g_value_get_uint64 (value); break;
    case PROP_EPOCHS: self->epochs = g_value_get_uint (value); break;
    case PROP_BATCH_SIZE: self->batch_size = g_value_get_uint (value); break;
    case PROP_LEARNING_RATE: self->learning_rate = g_value_get_double (value); break;
    case PROP_LAMBDA: self->lambda = g_value_get_double (value); break;
    case PROP_LOSS: self->loss = g_value_get_enum (value); break;
    case PROP_SEED: self->seed = g_value_get_uint64 (value); break;
    case PROP_DEVICE: self->device = g_value_get_enum (value); break;
    case PROP_HOLDOUT: self->holdout = g_value_get_double (value); break;
    case PROP_QUANTILE: self->quantile = g_value_get_double (value); break;
    case PROP_CHECKPOINT: self->checkpoint = g_value_get_boolean (value); break;
    case PROP_RESUME: self->resume = g_value_get_boolean (value); break;
    case PROP_HOLDOUT_BLOCKS: self->holdout_blocks = g_value_get_uint (value); break;
    case PROP_LATENT_SIDE: self->latent_side = g_value_get_int (value); break;
    case PROP_BASE_CHANNELS: self->base_channels = g_value_get_int (value); break;
    case PROP_MAX_CHANNELS: self->max_channels = g_value_get_int (value); break;
    case PROP_LOCAL_AREA: self->local_area = g_value_get_double (value); break;
    case PROP_LOCAL_SURROUND: self->local_surround = g_value_get_double (value); break;
    case PROP_MIN_STEPS: self->min_steps = g_value_get_uint (value); break;
    case PROP_PATIENCE: self->patience = g_value_get_uint (value); break;
    case PROP_AUGMENT_ZOOM: self->augment_zoom = g_value_get_double (value); break;
    case PROP_CALIBRATE_ONLY: self->calibrate_only = g_value_get_boolean (value); break;
    case PROP_SIGMAS: self->sigmas = g_value_get_double (value); break;
    case PROP_STILL_LAG: self->still_lag = g_value_get_uint (value); break;
    case PROP_STILL_TOLERANCE: self->still_tolerance = g_value_get_double (value); break;
    case PROP_STILL_MEMORY: self->still_memory = g_value_get_double (value); break;
    case PROP_COMPANION: self->companion = g_value_get_boolean (value); break;
    case PROP_COMPANION_WIDTH: self->companion_width = g_value_get_int (value); break;
    case PROP_COMPANION_HEIGHT: self->companion_height = g_value_get_int (value); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      known = FALSE;
      break;
  }
  GST_OBJECT_UNLOCK (self);
  if (known) /* (G_PARAM_EXPLICIT_NOTIFY: a refused value is no change) */
    g_object_notify_by_pspec (object, pspec);
}

static void
gst_decent_train_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_LOCATION: g_value_set_string (value, self->model_location); break;
    case PROP_WIDTH: g_value_set_int (value, self->width); break;
    case PROP_HEIGHT: g_value_set_int (value, self->height); break;
    case PROP_CHANNELS: g_value_set_int (value, self->channels); break;
    case PROP_FRAME_STRIDE: g_value_set_uint (value, self->frame_stride); break;
    case PROP_MAX_FRAMES: g_value_set_uint (value, self->max_frames); break;
    case PROP_MAX_MEMORY: g_value_set_uint64 (value, self->max_memory); break;
    case PROP_EPOCHS: g_value_set_uint (value, self->epochs); break;
    case PROP_BATCH_SIZE: g_value_set_uint (value, self->batch_size); break;
    case PROP_LEARNING_RATE: g_value_set_double (value, self->learning_rate); break;
    case PROP_LAMBDA: g_value_set_double (value, self->lambda); break;
    case PROP_LOSS: g_value_set_enum (value, self->loss); break;
    case PROP_SEED: g_value_set_uint64 (value, self->seed); break;
    case PROP_DEVICE: g_value_set_enum (value, self->device); break;
    case PROP_HOLDOUT: g_value_set_double (value, self->holdout); break;
    case PROP_QUANTILE: g_value_set_double (value, self->quantile); break;
    case PROP_CHECKPOINT: g_value_set_boolean (value, self->checkpoint); break;
    case PROP_RESUME: g_value_set_boolean (value, self->resume); break;
    case PROP_HOLDOUT_BLOCKS: g_value_set_uint (value, self->holdout_blocks); break;
    case PROP_LATENT_SIDE: g_value_set_int (value, self->latent_side); break;
    case PROP_BASE_CHANNELS: g_value_set_int (value, self->base_channels); break;
    case PROP_MAX_CHANNELS: g_value_set_int (value, self->max_channels); break;
    case PROP_LOCAL_AREA: g_value_set_double (value, self->local_area); break;
    case PROP_LOCAL_SURROUND: g_value_set_double (value, self->local_surround); break;
    case PROP_MIN_STEPS: g_value_set_uint (value, self->min_steps); break;
    case PROP_PATIENCE: g_value_set_uint (value, self->patience); break;
    case PROP_AUGMENT_ZOOM: g_value_set_double (value, self->augment_zoom); break;
    case PROP_CALIBRATE_ONLY: g_value_set_boolean (value, self->calibrate_only); break;
    case PROP_SIGMAS: g_value_set_double (value, self->sigmas); break;
    case PROP_STILL_LAG: g_value_set_uint (value, self->still_lag); break;
    case PROP_STILL_TOLERANCE: g_value_set_double (value, self->still_tolerance); break;
    case PROP_STILL_MEMORY: g_value_set_double (value, self->still_memory); break;
    case PROP_COMPANION: g_value_set_boolean (value, self->companion); break;
    case PROP_COMPANION_WIDTH: g_value_set_int (value, self->companion_width); break;
    case PROP_COMPANION_HEIGHT: g_value_set_int (value, self->companion_height); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_decent_train_finalize (GObject *object)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (object);
  g_free (self->model_location);
  drop_frames (self);
  gst_caps_replace (&self->refused_caps, NULL);
  g_array_unref (self->intervals);
  g_array_unref (self->stream_starts);
  decent_frame_path_clear (&self->path);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (gst_decent_train_parent_class)->finalize (object);
}

static void
gst_decent_train_init (GstDecentTrain *self)
{
  DecentConfig d;
  decent_config_init (&d, DEFAULT_WIDTH, DEFAULT_HEIGHT, DEFAULT_CHANNELS);
  self->width = d.width;
  self->height = d.height;
  self->channels = d.channels;
  self->frame_stride = 1;
  self->intervals = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  self->stream_starts = g_array_new (FALSE, FALSE, sizeof (guint));
  self->last_pts = GST_CLOCK_TIME_NONE;
  self->max_frames = DEFAULT_MAX_FRAMES;
  self->max_memory = default_max_memory;
  self->epochs = DEFAULT_EPOCHS;
  self->min_steps = DEFAULT_MIN_STEPS;
  self->patience = DEFAULT_PATIENCE;
  self->augment_zoom = DEFAULT_AUGMENT_ZOOM;
  self->batch_size = DEFAULT_BATCH_SIZE;
  self->latent_side = DEFAULT_LATENT_SIDE;
  self->base_channels = DEFAULT_BASE_CHANNELS;
  self->max_channels = DEFAULT_MAX_CHANNELS;
  self->local_area = DEFAULT_LOCAL_AREA;
  self->local_surround = DEFAULT_LOCAL_SURROUND;
  self->holdout_blocks = DEFAULT_HOLDOUT_BLOCKS;
  self->learning_rate = DEFAULT_LEARNING_RATE; /* the engine's, as a double */
  self->lambda = DEFAULT_LAMBDA;
  self->loss = d.loss;
  self->seed = d.seed;
  self->device = DECENT_DEVICE_AUTO;
  self->holdout = DEFAULT_HOLDOUT;
  self->quantile = DEFAULT_QUANTILE;
  self->sigmas = DEFAULT_SIGMAS;
  self->still_lag = DEFAULT_STILL_LAG;
  self->still_tolerance = DEFAULT_STILL_TOLERANCE;
  self->still_memory = DEFAULT_STILL_MEMORY;
  self->companion = DEFAULT_COMPANION;
  self->companion_width = DEFAULT_COMPANION_WIDTH;
  self->companion_height = DEFAULT_COMPANION_HEIGHT;
  self->checkpoint = TRUE;
  g_mutex_init (&self->lock);
  /* collecting frames needs no clock: take them as fast as they come */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

#define RW (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY \
    | G_PARAM_EXPLICIT_NOTIFY)

static void
gst_decent_train_class_init (GstDecentTrainClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->set_property = gst_decent_train_set_property;
  gobject_class->get_property = gst_decent_train_get_property;
  gobject_class->finalize = gst_decent_train_finalize;
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_decent_train_change_state);
  default_max_memory = compute_default_max_memory ();

  g_object_class_install_property (gobject_class, PROP_MODEL_LOCATION,
      g_param_spec_string ("model-location", "Model location",
          "Where the trained model is written (atomically: an existing file is replaced whole "
          "or not at all)", NULL, RW));
  g_object_class_install_property (gobject_class, PROP_WIDTH,
      g_param_spec_int ("width", "Model width", "Width frames are scaled to for the model", 8,
          DECENT_MAX_SIDE, DEFAULT_WIDTH, RW));
  g_object_class_install_property (gobject_class, PROP_HEIGHT,
      g_param_spec_int ("height", "Model height", "Height frames are scaled to for the model",
          8, DECENT_MAX_SIDE, DEFAULT_HEIGHT, RW));
  g_object_class_install_property (gobject_class, PROP_CHANNELS,
      g_param_spec_int ("channels", "Model channels", "1 (grey) or 3 (RGB)", 1, 3,
          DEFAULT_CHANNELS, RW));
  g_object_class_install_property (gobject_class, PROP_FRAME_STRIDE,
      g_param_spec_uint ("frame-stride", "Frame stride",
          "Keep every Nth frame (1 = every frame)", 1, 100000, 1, RW));
  g_object_class_install_property (gobject_class, PROP_MAX_FRAMES,
      g_param_spec_uint ("max-frames", "Maximum frames",
          "Frames kept for training; later ones are ignored", 1, 10000000, DEFAULT_MAX_FRAMES,
          RW));
  g_object_class_install_property (gobject_class, PROP_MAX_MEMORY,
      g_param_spec_uint64 ("max-memory", "Maximum memory",
          "Bytes the collected frames may take (width x height x channels each, and the "
          "companion's copy); once the "
          "next frame would not fit, later frames are ignored with one warning and training "
          "uses those kept. Default: a quarter of the memory (physical, or the cgroup limit "
          "when lower), at most 4 GiB", 1, G_MAXUINT64, default_max_memory, RW));
  g_object_class_install_property (gobject_class, PROP_EPOCHS,
      g_param_spec_uint ("epochs", "Epochs",
          "Passes over the collected frames (at least, see min-steps); 0 trains until the "
          "held-out error has not reached a new low for patience epochs", 0, 100000,
          DEFAULT_EPOCHS, RW));
  g_object_class_install_property (gobject_class, PROP_MIN_STEPS,
      g_param_spec_uint ("min-steps", "Minimum steps",
          "Optimisation steps trained at least, in more epochs if needed: few frames make few "
          "steps an epoch, and a model with a few dozen steps has learnt nothing", 0, 10000000,
          DEFAULT_MIN_STEPS, RW));
  g_object_class_install_property (gobject_class, PROP_AUGMENT_ZOOM,
      g_param_spec_double ("augment-zoom", "Augment zoom",
          "Every epoch, train on random crops of the frames scaled back to full size, at up "
          "to this zoom (so that things nearer the camera than in the footage look normal); "
          "1: the frames as they are. Held-out frames are never zoomed", 1.0, 8.0,
          DEFAULT_AUGMENT_ZOOM, RW));
  g_object_class_install_property (gobject_class, PROP_PATIENCE,
      g_param_spec_uint ("patience", "Patience",
          "With epochs=0: stop after this many epochs without a new low of the held-out error",
          1, 10000, DEFAULT_PATIENCE, RW));
  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size", "Frames per optimisation step", 2, 65536,
          DEFAULT_BATCH_SIZE, RW));
  g_object_class_install_property (gobject_class, PROP_LATENT_SIDE,
      g_param_spec_int ("latent-side", "Latent side",
          "Halve the frame only until its smaller side is at most this, keeping a grid of "
          "latent cells (where things are); 0 halves to the paper's rule (one cell at 64 "
          "pixels and more)", 0, DECENT_MAX_SIDE, DEFAULT_LATENT_SIDE, RW));
  g_object_class_install_property (gobject_class, PROP_BASE_CHANNELS,
      g_param_spec_int ("base-channels", "Base channels",
          "Channels of the first convolution, doubling per layer (the paper: 64)", 1, 4096,
          DEFAULT_BASE_CHANNELS, RW));
  g_object_class_install_property (gobject_class, PROP_MAX_CHANNELS,
      g_param_spec_int ("max-channels", "Maximum channels",
          "Cap on the doubling channels (the paper: 512)", 1, 4096, DEFAULT_MAX_CHANNELS, RW));
  g_object_class_install_property (gobject_class, PROP_LOCAL_AREA,
      g_param_spec_double ("local-area", "Local area",
          "Window of decentanomaly's local score modes, a fraction of the frame: about the "
          "smallest object to find", 0.0001, 1.0, DEFAULT_LOCAL_AREA, RW));
  g_object_class_install_property (gobject_class, PROP_LOCAL_SURROUND,
      g_param_spec_double ("local-surround", "Local surround",
          "score-mode=local: each window less this times how much hotter than the frame the "
          "ring around it is, so that error spread wider than the window (passers-by near "
          "the camera) counts less than a thing of its size (0: the window's mean)", 0.0,
          DECENT_MAX_SURROUND, DEFAULT_LOCAL_SURROUND, RW));
  g_object_class_install_property (gobject_class, PROP_LEARNING_RATE,
      g_param_spec_double ("learning-rate", "Learning rate", "Adam learning rate", 1e-12, 10.0,
          DEFAULT_LEARNING_RATE, RW));
  g_object_class_install_property (gobject_class, PROP_LAMBDA,
      g_param_spec_double ("lambda", "Lambda",
          "Weight of the decentralization term (the paper: 0.01); 0, the default for video, "
          "trains a plain autoencoder (docs/method.md says why)", 0.0, 1e6,
          DEFAULT_LAMBDA, RW));
  g_object_class_install_property (gobject_class, PROP_LOSS,
      g_param_spec_enum ("loss", "Loss", "Decentralization loss variant", GST_TYPE_DECENT_LOSS,
          DECENT_LOSS_DECENTRALIZATION, RW));
  g_object_class_install_property (gobject_class, PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed", "Seed of the initial weights and the shuffling", 0,
          G_MAXUINT64, 1, RW));
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_enum ("device", "Device",
          "Where training runs: auto picks the GPU when one is usable, else the CPU, and logs "
          "which and why",
          GST_TYPE_DECENT_DEVICE,
          DECENT_DEVICE_AUTO, RW));
  g_object_class_install_property (gobject_class, PROP_HOLDOUT,
      g_param_spec_double ("holdout", "Held-out fraction",
          "Fraction of the collected footage kept out of training to calibrate the thresholds "
          "and to tell when training stops improving: contiguous blocks (holdout-blocks), the "
          "end of the footage by default, never frames next to training frames", 0.0, 0.5,
          DEFAULT_HOLDOUT, RW));
  g_object_class_install_property (gobject_class, PROP_HOLDOUT_BLOCKS,
      g_param_spec_uint ("holdout-blocks", "Held-out blocks",
          "The held-out footage is this many contiguous blocks, each ending one of as many "
          "equal parts of the footage (1: its end); more blocks see more of a long recording",
          1, MAX_HOLDOUT_BLOCKS, DEFAULT_HOLDOUT_BLOCKS, RW));
  g_object_class_install_property (gobject_class, PROP_CALIBRATE_ONLY,
      g_param_spec_boolean ("calibrate-only", "Calibrate only",
          "Train nothing: calibrate the thresholds of the existing model at model-location on "
          "all the footage collected (another normal recording) and write it back", FALSE, RW));
  g_object_class_install_property (gobject_class, PROP_QUANTILE,
      g_param_spec_double ("threshold-quantile", "Threshold quantile",
          "Quantile of the held-out normal scores that becomes the threshold", 0.5, 1.0,
          DEFAULT_QUANTILE, RW));
  g_object_class_install_property (gobject_class, PROP_SIGMAS,
      g_param_spec_double ("threshold-sigmas", "Threshold sigmas",
          "The threshold is at least the held-out scores' mean plus this many standard "
          "deviations: a few dozen held-out frames cannot show how high normal footage of "
          "another hour scores (0: the quantile alone)", 0.0, 100.0, DEFAULT_SIGMAS, RW));
  g_object_class_install_property (gobject_class, PROP_STILL_LAG,
      g_param_spec_uint ("still-lag", "Still-gate lag",
          "Calibrate the still gate (decentanomaly still-gate): the local map is kept where "
          "the picture is as it was this many collected frames before, so that a new thing "
          "that stays put stands out from people walking by; calibrated on the held-out "
          "blocks as footage, in time order. Counted in collected frames (frame-stride); "
          "the model keeps the time between them when the caps have a framerate, so that "
          "decentanomaly keeps lag and still-memory in seconds at another framerate or "
          "inference-interval (without a framerate, or with a change of it while collecting, "
          "they count frames). 0: no still gate",
          0, DECENT_STILL_MAX_LAG, DEFAULT_STILL_LAG, RW));
  g_object_class_install_property (gobject_class, PROP_STILL_TOLERANCE,
      g_param_spec_double ("still-tolerance", "Still-gate tolerance",
          "Change of the grey level (0-255, averaged over 5x5 pixels of the model's size) "
          "since still-lag frames before that halves the map: smaller ignores more motion",
          0.01, 255.0, DEFAULT_STILL_TOLERANCE, RW));
  g_object_class_install_property (gobject_class, PROP_STILL_MEMORY,
      g_param_spec_double ("still-memory", "Still-gate memory",
          "Frames over which the still gate's running mean of normal maps forgets: a thing "
          "that stays longer becomes part of the scene, slow changes of the light drop out. "
          "Collected frames, kept in seconds as still-lag is",
          1.0, 1e6, DEFAULT_STILL_MEMORY, RW));
  g_object_class_install_property (gobject_class, PROP_COMPANION,
      g_param_spec_boolean ("companion", "Companion model",
          "Also train a companion model with the paper's latent (latent-side=0: one latent cell "
          "when its smaller side is 64 or more, as at 128x96) on the same frames (after the model, about as long again) and store it in "
          "the same file: decentanomaly scores every "
          "frame with both, and flags what both find anomalous (the model finds small things, "
          "the companion finds people near the camera ordinary)",
          DEFAULT_COMPANION, RW));
  g_object_class_install_property (gobject_class, PROP_COMPANION_WIDTH,
      g_param_spec_int ("companion-width", "Companion width",
          "Width frames are scaled to for the companion model (0: two thirds of width, at "
          "least 8; else at least 4, checked at start)", 0,
          DECENT_MAX_SIDE, DEFAULT_COMPANION_WIDTH, RW));
  g_object_class_install_property (gobject_class, PROP_COMPANION_HEIGHT,
      g_param_spec_int ("companion-height", "Companion height",
          "Height frames are scaled to for the companion model (0: two thirds of height, at "
          "least 8; else at least 4, checked at start)", 0,
          DECENT_MAX_SIDE, DEFAULT_COMPANION_HEIGHT, RW));

  g_object_class_install_property (gobject_class, PROP_CHECKPOINT,
      g_param_spec_boolean ("checkpoint", "Checkpoint",
          "Write <model-location>.checkpoint (atomically) after the first epoch, at most every "
          "2 s after, and at a stop; removed once the model is written; a stopped run can then "
          "be resumed", TRUE, RW));
  g_object_class_install_property (gobject_class, PROP_RESUME,
      g_param_spec_boolean ("resume", "Resume",
          "Continue a stopped run: from <model-location>.finished when it exists (the "
          "companion is trained), else from <model-location>.checkpoint (the remaining "
          "epochs are trained); feed the same footage again", FALSE, RW));

  GstCaps *caps = gst_caps_from_string (GST_VIDEO_CAPS_MAKE (GST_DECENT_VIDEO_FORMATS));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
  gst_caps_unref (caps);
  gst_element_class_set_static_metadata (element_class, "Decentralization autoencoder trainer",
      "Sink/Analyzer/Video",
      "Collects normal frames and, at end of stream, trains an anomaly model with the latent "
      "decentralization loss, calibrates its threshold and writes the model file",
      "gst-decent developers");

  sink_class->set_caps = GST_DEBUG_FUNCPTR (gst_decent_train_set_caps);
  sink_class->render = GST_DEBUG_FUNCPTR (gst_decent_train_render);
  sink_class->event = GST_DEBUG_FUNCPTR (gst_decent_train_event);
  sink_class->stop = GST_DEBUG_FUNCPTR (gst_decent_train_stop);
  /* no unlock(): render never blocks, and basesink calls it on a pause too */

  gst_type_mark_as_plugin_api (GST_TYPE_DECENT_LOSS, 0);
}
