/* gstdecenttrain.c — collects normal frames at model resolution and, at
 * end-of-stream, trains the autoencoder in a thread of its own, calibrates
 * the threshold on held-out frames and writes the model atomically.  The EOS
 * message reaches the application only once the model is written; a state
 * change to READY or NULL stops training after the current epoch without
 * touching an existing model file. */
#include "gstdecenttrain.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

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
};

/* 64x64x3 scores at about 250 frames/s on two CPU cores (docs/plugin.md) */
#define DEFAULT_WIDTH 64
#define DEFAULT_HEIGHT 64
#define DEFAULT_CHANNELS 3
#define DEFAULT_EPOCHS 20
#define DEFAULT_MAX_FRAMES 10000
#define DEFAULT_HOLDOUT 0.1
#define DEFAULT_QUANTILE 0.995
#define DEFAULT_LEARNING_RATE 2e-4
#define DEFAULT_LAMBDA 0.01

G_DEFINE_TYPE_WITH_CODE (GstDecentTrain, gst_decent_train, GST_TYPE_BASE_SINK,
    GST_DEBUG_CATEGORY_INIT (gst_decent_train_debug, "decent-train", 0,
        "decentralization-loss autoencoder training"));
GST_ELEMENT_REGISTER_DEFINE (decent_train, "decent-train", GST_RANK_NONE,
    GST_TYPE_DECENT_TRAIN);

/* ---- collecting ------------------------------------------------------- */

static gboolean
gst_decent_train_set_caps (GstBaseSink *sink, GstCaps *caps)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (sink);
  GstVideoInfo info;
  if (!gst_video_info_from_caps (&info, caps)) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Unsupported video format."),
        ("caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  self->info = info;
  self->path_ready = FALSE; /* frames keep the model geometry; only the input changes */
  return TRUE;
}

static GstFlowReturn
gst_decent_train_render (GstBaseSink *sink, GstBuffer *buffer)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (sink);
  GST_OBJECT_LOCK (self);
  guint stride = self->frame_stride, max = self->max_frames;
  if (self->n_frames == 0 && !self->path_ready) {
    self->geometry[0] = self->width;
    self->geometry[1] = self->height;
    self->geometry[2] = self->channels;
  }
  GST_OBJECT_UNLOCK (self);

  if (self->seen++ % stride != 0 || self->n_frames >= max)
    return GST_FLOW_OK;
  if (!self->path_ready) {
    gchar *why = NULL;
    DecentRoi whole = { FALSE, 0, 0, 0, 0 };
    if (!decent_frame_path_setup (&self->path, &self->info, &whole, self->geometry[0],
            self->geometry[1], self->geometry[2], &why)) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Cannot convert this video for training."),
          ("%s", why));
      g_free (why);
      return GST_FLOW_ERROR;
    }
    self->path_ready = TRUE;
  }
  GstVideoFrame frame;
  if (!gst_video_frame_map (&frame, &self->info, buffer, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Could not read a video frame."), (NULL));
    return GST_FLOW_ERROR;
  }
  const guint8 *pixels = decent_frame_path_to_model (&self->path, &frame);
  gst_video_frame_unmap (&frame);
  if (!pixels)
    return GST_FLOW_ERROR;
  g_byte_array_append (self->frames, pixels, (guint) self->path.model_info.size);
  self->n_frames++;
  if (self->n_frames == max)
    GST_INFO_OBJECT (self, "collected max-frames=%u frames; ignoring the rest", max);
  return GST_FLOW_OK;
}

/* ---- training --------------------------------------------------------- */

typedef struct {
  GstDecentTrain *self;
  DecentConfig cfg;
  gchar *location, *checkpoint; /* checkpoint NULL: none kept */
  gboolean resume;
  guint epochs;
  gdouble holdout, quantile;
  const guint8 *frames;
  guint n_frames;
  /* results */
  gboolean done, ok, cancelled;
  gchar *error_text, *error_debug;
  GstResourceError write_error;
  gint64 t_start;
} TrainJob;

/* Messages for a completed epoch. */
static void
report_epoch (GstDecentTrain *self, guint epoch, guint epochs, const DecentLossTerms *mean,
    double elapsed, double eta)
{
  GST_INFO_OBJECT (self, "epoch %u/%u loss %g (reconstruction %g, decentralization %g), %.1f s",
      epoch, epochs, mean->total, mean->reconstruction, mean->decentral, elapsed);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("decent-train", "status", G_TYPE_STRING, "training",
              "epoch", G_TYPE_UINT, epoch, "epochs", G_TYPE_UINT, epochs,
              "loss", G_TYPE_DOUBLE, mean->total,
              "reconstruction", G_TYPE_DOUBLE, mean->reconstruction,
              "decentralization", G_TYPE_DOUBLE, mean->decentral,
              "elapsed", G_TYPE_UINT64, (guint64) (elapsed * GST_SECOND),
              "eta", G_TYPE_UINT64, (guint64) (eta * GST_SECOND), NULL)));
  gchar *text = g_strdup_printf ("Epoch %u of %u: loss %.5f, %.0f s left", epoch, epochs,
      mean->total, eta);
  GstMessage *progress =
      gst_message_new_progress (GST_OBJECT (self), GST_PROGRESS_TYPE_CONTINUE, "train", text);
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

static void
job_fail (TrainJob *job, GstResourceError code, const gchar *text, const gchar *debug)
{
  job->write_error = code;
  job->error_text = g_strdup (text);
  job->error_debug = g_strdup (debug);
}

/* A new model, or with resume=true the checkpoint of an interrupted run. */
static DecentModel *
start_model (TrainJob *job, DecentError *err)
{
  if (!job->resume || !job->checkpoint || !g_file_test (job->checkpoint, G_FILE_TEST_EXISTS))
    return decent_model_new (&job->cfg, err);
  DecentModel *m = decent_model_load (job->checkpoint, job->cfg.device, err);
  if (!m)
    return NULL;
  DecentConfig cfg;
  decent_model_get_config (m, &cfg);
  if (cfg.width != job->cfg.width || cfg.height != job->cfg.height
      || cfg.channels != job->cfg.channels) {
    g_snprintf (err->message, sizeof err->message, "checkpoint %s is for %dx%dx%d frames, this run collects %dx%dx%d; "
        "delete it or set resume=false", job->checkpoint, cfg.width, cfg.height, cfg.channels,
        job->cfg.width, job->cfg.height, job->cfg.channels);
    decent_model_free (m);
    return NULL;
  }
  DecentInfo info;
  decent_model_describe (m, &info);
  GST_INFO_OBJECT (job->self, "resuming from %s after epoch %u", job->checkpoint, info.epochs);
  return m;
}

/* Epochs one at a time, each followed by its messages and a checkpoint, so
 * that a stopped run loses at most one epoch.  FALSE on failure or stop. */
static gboolean
train_epochs (TrainJob *job, DecentModel *m, const guint8 *train, guint n_train)
{
  GstDecentTrain *self = job->self;
  DecentInfo info;
  DecentError err = { { 0 } };
  decent_model_describe (m, &info);
  const guint first = info.epochs;
  for (guint e = first; e < job->epochs; e++) {
    DecentLossTerms mean = { 0 };
    if (decent_model_train (m, train, (int) n_train, 1, keep_mean, &mean, &err) < 0) {
      job_fail (job, GST_RESOURCE_ERROR_FAILED, "Training failed.", err.message);
      return FALSE;
    }
    double elapsed = (g_get_monotonic_time () - job->t_start) / 1e6;
    double eta = elapsed / (e + 1 - first) * (job->epochs - e - 1);
    report_epoch (self, e + 1, job->epochs, &mean, elapsed, eta);
    if (job->checkpoint && e + 1 < job->epochs
        && decent_model_save (m, job->checkpoint, &err) < 0) {
      job_fail (job, GST_RESOURCE_ERROR_OPEN_WRITE, "Could not write the training checkpoint.",
          err.message);
      return FALSE;
    }
    g_mutex_lock (&self->lock);
    job->cancelled = self->cancel;
    g_mutex_unlock (&self->lock);
    if (job->cancelled) {
      GST_WARNING_OBJECT (self, "training stopped after epoch %u%s%s", e + 1,
          job->checkpoint ? "; resume=true continues from " : "",
          job->checkpoint ? job->checkpoint : "");
      return FALSE;
    }
  }
  return TRUE;
}

static gpointer
train_thread (gpointer data)
{
  TrainJob *job = data;
  GstDecentTrain *self = job->self;
  const gsize fb = (gsize) job->cfg.width * job->cfg.height * job->cfg.channels;
  DecentError err = { { 0 } };

  /* every k-th frame is held out to calibrate the threshold */
  guint every = job->holdout > 0 ? MAX (2u, (guint) (1.0 / job->holdout + 0.5)) : 0;
  guint n_held = every && job->n_frames >= 2 * every ? job->n_frames / every : 0;
  guint n_train = job->n_frames - n_held;
  guint8 *train = g_malloc (fb * MAX (n_train, 1)), *held = g_malloc (fb * MAX (n_held, 1));
  for (guint i = 0, t = 0, h = 0; i < job->n_frames; i++) {
    gboolean out = n_held && i % every == every - 1 && h < n_held;
    memcpy (out ? held + fb * h++ : train + fb * t++, job->frames + fb * i, fb);
  }

  DecentModel *m = NULL;
  gchar *msg = g_strdup_printf ("Training on %u frames (%u held out) for %u epochs", n_train,
      n_held, job->epochs);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_progress (GST_OBJECT (self), GST_PROGRESS_TYPE_START, "train", msg));
  g_free (msg);

  if (n_train < 2) {
    job_fail (job, GST_RESOURCE_ERROR_FAILED, "Too few frames to train on.",
        "decent-train needs at least 2 frames; raise max-frames or lower frame-stride");
  } else if (!(m = start_model (job, &err))) {
    job_fail (job, GST_RESOURCE_ERROR_SETTINGS, "Cannot start training.", err.message);
  } else if (!train_epochs (job, m, train, n_train)) {
    /* train_epochs said why, or was cancelled */
  } else if (!job->cancelled) {
    /* with no held-out frames, calibrate on the training frames (optimistic) */
    if (n_held == 0)
      GST_WARNING_OBJECT (self, "too few frames to hold any out; calibrating on training frames");
    if (decent_model_calibrate (m, n_held ? held : train, (int) (n_held ? n_held : n_train),
            (float) job->quantile, &err) < 0)
      job_fail (job, GST_RESOURCE_ERROR_FAILED, "Calibrating the threshold failed.", err.message);
    else if (decent_model_save (m, job->location, &err) < 0)
      job_fail (job, GST_RESOURCE_ERROR_OPEN_WRITE, "Could not write the model file.",
          err.message);
    else
      job->ok = TRUE;
    if (job->ok && job->checkpoint)
      g_unlink (job->checkpoint);
  }
  if (job->ok) {
    DecentCalibration cal;
    decent_model_get_calibration (m, &cal);
    double secs = (g_get_monotonic_time () - job->t_start) / 1e6;
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new ("decent-train", "status", G_TYPE_STRING, "written",
                "location", G_TYPE_STRING, job->location,
                "frames", G_TYPE_UINT, n_train, "held-out", G_TYPE_UINT, n_held,
                "threshold", G_TYPE_DOUBLE, (gdouble) cal.threshold,
                "score-mean", G_TYPE_DOUBLE, (gdouble) cal.mean,
                "score-stddev", G_TYPE_DOUBLE, (gdouble) cal.stddev,
                "elapsed", G_TYPE_UINT64, (guint64) (secs * GST_SECOND), NULL)));
    msg = g_strdup_printf ("Model written to %s (threshold %g)", job->location, cal.threshold);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_progress (GST_OBJECT (self), GST_PROGRESS_TYPE_COMPLETE, "train", msg));
    g_free (msg);
  } else {
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_progress (GST_OBJECT (self),
            job->cancelled ? GST_PROGRESS_TYPE_CANCELED : GST_PROGRESS_TYPE_ERROR, "train",
            job->cancelled ? "Training stopped" : job->error_text));
  }
  decent_model_free (m);
  g_free (train);
  g_free (held);

  g_mutex_lock (&self->lock);
  job->done = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return NULL;
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
}

/* Runs training in its own thread and waits for it; FALSE on failure (an
 * error has been posted) or cancellation. */
static gboolean
train_and_save (GstDecentTrain *self)
{
  TrainJob job = { 0 };
  job.self = self;
  GST_OBJECT_LOCK (self);
  config_from_properties (self, self->geometry[0], self->geometry[1], self->geometry[2], &job.cfg);
  job.location = g_strdup (self->model_location);
  job.checkpoint = self->checkpoint ? g_strconcat (job.location, ".checkpoint", NULL) : NULL;
  job.resume = self->resume;
  job.epochs = self->epochs;
  job.holdout = self->holdout;
  job.quantile = self->quantile;
  GST_OBJECT_UNLOCK (self);
  job.frames = self->frames->data;
  job.n_frames = self->n_frames;
  job.t_start = g_get_monotonic_time ();

  if (job.n_frames == 0) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("No frames to train on."),
        ("End of stream came before any frame; nothing was written to %s", job.location));
    g_free (job.location);
    g_free (job.checkpoint);
    return FALSE;
  }
  GThread *thread = g_thread_new ("decent-train", train_thread, &job);
  g_mutex_lock (&self->lock);
  while (!job.done)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
  g_thread_join (thread);

  if (!job.ok && !job.cancelled) {
    if (job.write_error == GST_RESOURCE_ERROR_OPEN_WRITE)
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", job.error_text),
          ("%s; any previous model at %s is unchanged", job.error_debug, job.location));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("%s", job.error_text),
          ("%s; nothing was written to %s", job.error_debug, job.location));
  }
  g_free (job.error_text);
  g_free (job.error_debug);
  g_free (job.location);
  g_free (job.checkpoint);
  return job.ok;
}

static gboolean
gst_decent_train_event (GstBaseSink *sink, GstEvent *event)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (sink);
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && !train_and_save (self)) {
    gst_event_unref (event);
    return FALSE;
  }
  return GST_BASE_SINK_CLASS (gst_decent_train_parent_class)->event (sink, event);
}

static gboolean
gst_decent_train_start (GstBaseSink *sink)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (sink);
  GST_OBJECT_LOCK (self);
  gchar *location = g_strdup (self->model_location);
  DecentConfig cfg;
  config_from_properties (self, self->width, self->height, self->channels, &cfg);
  GST_OBJECT_UNLOCK (self);

  DecentError err = { { 0 } };
  gboolean ok = TRUE;
  if (!location || !*location) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No model file given."),
        ("Set the model-location property: where the trained model is written."));
    ok = FALSE;
  } else if (decent_config_validate (&cfg, &err) < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Invalid training settings."), ("%s",
            err.message));
    ok = FALSE;
  } else if (cfg.device == DECENT_DEVICE_CUDA && !decent_device_available (DECENT_DEVICE_CUDA)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("device=cuda, but the GPU cannot be used."),
        ("%s. Use device=auto or device=cpu.", decent_device_describe (DECENT_DEVICE_CUDA)));
    ok = FALSE;
  } else {
    GST_INFO_OBJECT (self, "device=%s: training on %s", decent_device_name (cfg.device),
        decent_device_describe (cfg.device));
  }
  g_free (location);
  g_byte_array_set_size (self->frames, 0);
  self->n_frames = 0;
  self->seen = 0;
  self->path_ready = FALSE;
  g_mutex_lock (&self->lock);
  self->cancel = FALSE;
  g_mutex_unlock (&self->lock);
  return ok;
}

static gboolean
gst_decent_train_stop (GstBaseSink *sink)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (sink);
  g_byte_array_set_size (self->frames, 0);
  self->n_frames = 0;
  decent_frame_path_clear (&self->path);
  self->path_ready = FALSE;
  return TRUE;
}

static gboolean
gst_decent_train_unlock (GstBaseSink *sink)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (sink);
  g_mutex_lock (&self->lock);
  self->cancel = TRUE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_decent_train_unlock_stop (GstBaseSink *sink)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (sink);
  g_mutex_lock (&self->lock);
  self->cancel = FALSE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* ---- properties ------------------------------------------------------- */

static void
gst_decent_train_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_LOCATION:
      g_free (self->model_location);
      self->model_location = g_value_dup_string (value);
      break;
    case PROP_WIDTH: self->width = g_value_get_int (value); break;
    case PROP_HEIGHT: self->height = g_value_get_int (value); break;
    case PROP_CHANNELS: self->channels = g_value_get_int (value); break;
    case PROP_FRAME_STRIDE: self->frame_stride = g_value_get_uint (value); break;
    case PROP_MAX_FRAMES: self->max_frames = g_value_get_uint (value); break;
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
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK (self);
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
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_decent_train_finalize (GObject *object)
{
  GstDecentTrain *self = GST_DECENT_TRAIN (object);
  g_free (self->model_location);
  g_byte_array_unref (self->frames);
  decent_frame_path_clear (&self->path);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
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
  self->max_frames = DEFAULT_MAX_FRAMES;
  self->epochs = DEFAULT_EPOCHS;
  self->batch_size = (guint) d.batch_size;
  self->learning_rate = DEFAULT_LEARNING_RATE; /* the engine's, as a double */
  self->lambda = DEFAULT_LAMBDA;
  self->loss = d.loss;
  self->seed = d.seed;
  self->device = DECENT_DEVICE_AUTO;
  self->holdout = DEFAULT_HOLDOUT;
  self->quantile = DEFAULT_QUANTILE;
  self->checkpoint = TRUE;
  self->frames = g_byte_array_new ();
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  /* collecting frames needs no clock: take them as fast as they come */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

#define RW (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)

static void
gst_decent_train_class_init (GstDecentTrainClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->set_property = gst_decent_train_set_property;
  gobject_class->get_property = gst_decent_train_get_property;
  gobject_class->finalize = gst_decent_train_finalize;

  g_object_class_install_property (gobject_class, PROP_MODEL_LOCATION,
      g_param_spec_string ("model-location", "Model location",
          "Where the trained model is written (atomically: an existing file is replaced whole "
          "or not at all)", NULL, RW));
  g_object_class_install_property (gobject_class, PROP_WIDTH,
      g_param_spec_int ("width", "Model width", "Width frames are scaled to for the model", 8,
          4096, DEFAULT_WIDTH, RW));
  g_object_class_install_property (gobject_class, PROP_HEIGHT,
      g_param_spec_int ("height", "Model height", "Height frames are scaled to for the model",
          8, 4096, DEFAULT_HEIGHT, RW));
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
  g_object_class_install_property (gobject_class, PROP_EPOCHS,
      g_param_spec_uint ("epochs", "Epochs", "Passes over the collected frames", 1, 100000,
          DEFAULT_EPOCHS, RW));
  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size", "Frames per optimisation step", 2, 65536,
          64, RW));
  g_object_class_install_property (gobject_class, PROP_LEARNING_RATE,
      g_param_spec_double ("learning-rate", "Learning rate", "Adam learning rate", 1e-12, 10.0,
          DEFAULT_LEARNING_RATE, RW));
  g_object_class_install_property (gobject_class, PROP_LAMBDA,
      g_param_spec_double ("lambda", "Lambda",
          "Weight of the decentralization term; 0 trains a plain autoencoder", 0.0, 1e6,
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
          "Fraction of the collected frames (every k-th) kept out of training to calibrate the "
          "threshold", 0.0, 0.5, DEFAULT_HOLDOUT, RW));
  g_object_class_install_property (gobject_class, PROP_QUANTILE,
      g_param_spec_double ("threshold-quantile", "Threshold quantile",
          "Quantile of the held-out normal scores that becomes the threshold", 0.5, 1.0,
          DEFAULT_QUANTILE, RW));

  g_object_class_install_property (gobject_class, PROP_CHECKPOINT,
      g_param_spec_boolean ("checkpoint", "Checkpoint",
          "After every epoch write <model-location>.checkpoint (atomically), removed once the "
          "model is written; a stopped run can then be resumed", TRUE, RW));
  g_object_class_install_property (gobject_class, PROP_RESUME,
      g_param_spec_boolean ("resume", "Resume",
          "Continue from <model-location>.checkpoint when it exists: feed the same footage "
          "again, and the remaining epochs are trained", FALSE, RW));

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
  sink_class->start = GST_DEBUG_FUNCPTR (gst_decent_train_start);
  sink_class->stop = GST_DEBUG_FUNCPTR (gst_decent_train_stop);
  sink_class->unlock = GST_DEBUG_FUNCPTR (gst_decent_train_unlock);
  sink_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_decent_train_unlock_stop);

  gst_type_mark_as_plugin_api (GST_TYPE_DECENT_LOSS, 0);
}
