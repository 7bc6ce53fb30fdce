/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decent-train under hostile conditions: buffers without caps, interlaced
 * caps, a frame store bounded by max-memory, a pause while training, resume
 * with changed settings, unwritable model locations found before frames are
 * collected, a model kept when its final write fails, stale temporaries,
 * non-UTF-8 and long paths; and settings at their extremes (holdout with 3
 * frames, max-frames=1, a huge frame-stride, batch sizes), caps changes
 * mid-stream, EOS twice, a flush while training and a READY/PLAYING cycle. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsrc.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "plugin_util.h"

/* ---- running a pipeline and recording what it said ---------------------- */

typedef struct {
  gchar *error;           /* "message | debug" of the first error */
  GQuark domain;
  gint code;
  GPtrArray *warnings;    /* "message | debug" of every warning */
  gboolean eos, started, canceled, written, started_before_error;
  guint frames, held, epoch_messages, last_epoch;
  gchar *complete_text;   /* the progress COMPLETE text */
  gchar *start_text;      /* the progress START text */
} Run;

typedef void (*RunHook) (GstElement *pipe, GstMessage *msg, gpointer data);

static void
run_clear (Run *r)
{
  g_free (r->error);
  g_free (r->complete_text);
  g_free (r->start_text);
  if (r->warnings)
    g_ptr_array_unref (r->warnings);
  memset (r, 0, sizeof *r);
}

/* An empty Run, ready to record into. */
static void
run_init (Run *r)
{
  memset (r, 0, sizeof *r);
  r->warnings = g_ptr_array_new_with_free_func (g_free);
}

/* Records one message; TRUE when it ends the run (EOS or an error). */
static gboolean
record (GstMessage *msg, Run *r)
{
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      if (!r->error) {
        GError *err = NULL;
        gst_message_parse_error (msg, &err, NULL);
        r->error = message_text (msg);
        r->domain = err->domain;
        r->code = err->code;
        r->started_before_error = r->started;
        g_error_free (err);
      }
      return TRUE;
    case GST_MESSAGE_WARNING:
      g_ptr_array_add (r->warnings, message_text (msg));
      return FALSE;
    case GST_MESSAGE_EOS:
      r->eos = TRUE;
      return TRUE;
    case GST_MESSAGE_PROGRESS: {
      GstProgressType type;
      gchar *code, *text;
      gst_message_parse_progress (msg, &type, &code, &text);
      r->started |= type == GST_PROGRESS_TYPE_START;
      r->canceled |= type == GST_PROGRESS_TYPE_CANCELED;
      if (type == GST_PROGRESS_TYPE_COMPLETE) {
        g_free (r->complete_text);
        r->complete_text = g_strdup (text);
      } else if (type == GST_PROGRESS_TYPE_START) {
        g_free (r->start_text);
        r->start_text = g_strdup (text);
      }
      g_free (code);
      g_free (text);
      return FALSE;
    }
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *s = gst_message_get_structure (msg);
      if (!gst_structure_has_name (s, "decent-train"))
        return FALSE;
      const gchar *status = gst_structure_get_string (s, "status");
      if (g_str_equal (status, "training")) {
        r->epoch_messages++;
        gst_structure_get_uint (s, "epoch", &r->last_epoch);
      } else if (g_str_equal (status, "written")) {
        r->written = TRUE;
        fail_unless (gst_structure_get (s, "frames", G_TYPE_UINT, &r->frames, "held-out",
                G_TYPE_UINT, &r->held, NULL));
      }
      return FALSE;
    }
    default:
      return FALSE;
  }
}

/* Plays pipe until EOS or an error; feed (may be NULL) runs once it plays,
 * hook on every message. */
static void
run_pipeline (GstElement *pipe, void (*feed) (GstElement *, gpointer), RunHook hook,
    gpointer data, Run *r)
{
  run_init (r);
  GstBus *bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  if (feed)
    feed (pipe, data);
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, 60 * GST_SECOND);
    fail_unless (msg != NULL, "the pipeline neither ended nor failed within 60 s");
    if (hook)
      hook (pipe, msg, data);
    gboolean end = record (msg, r);
    gst_message_unref (msg);
    if (end)
      break;
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
}

static GstElement *
parse (const gchar *desc)
{
  GError *perr = NULL;
  GstElement *pipe = gst_parse_launch (desc, &perr);
  fail_unless (pipe != NULL && perr == NULL, "%s: %s", desc, perr ? perr->message : "?");
  return pipe;
}

static void
run_desc (const gchar *desc, Run *r)
{
  GstElement *pipe = parse (desc);
  run_pipeline (pipe, NULL, NULL, NULL, r);
  gst_object_unref (pipe);
}

/* "videotestsrc N frames 32x32 ! decent-train at 16x16x1" plus extra (one
 * model with the latent of 8x6 cells: what these tests were written for) */
static gchar *
train_desc (const gchar *location, guint frames, const gchar *extra)
{
  return g_strdup_printf ("videotestsrc num-buffers=%u ! video/x-raw,width=32,height=32 ! "
      "decent-train name=t min-steps=0 model-location=\"%s\" width=16 height=16 channels=1 "
      "epochs=2 companion=false latent-side=6 %s",
      frames, location, extra ? extra : "");
}

/* Runs train_desc (location, frames, extra) to the end. */
static void
run_train (const gchar *location, guint frames, const gchar *extra, Run *r)
{
  gchar *desc = train_desc (location, frames, extra);
  run_desc (desc, r);
  g_free (desc);
}

/* The same, with model-location set as bytes (it may not be UTF-8). */
static void
run_at_location (const gchar *location, guint frames, const gchar *extra, Run *r)
{
  gchar *desc = train_desc ("unset", frames, extra);
  GstElement *pipe = parse (desc);
  GstElement *t = gst_bin_get_by_name (GST_BIN (pipe), "t");
  g_object_set (t, "model-location", location, NULL);
  gst_object_unref (t);
  run_pipeline (pipe, NULL, NULL, NULL, r);
  gst_object_unref (pipe);
  g_free (desc);
}

static guint
count_warnings (const Run *r, const gchar *needle)
{
  guint n = 0;
  for (guint i = 0; i < r->warnings->len; i++)
    n += strstr (g_ptr_array_index (r->warnings, i), needle) != NULL;
  return n;
}

static const gchar *
find_warning (const Run *r, const gchar *needle)
{
  for (guint i = 0; i < r->warnings->len; i++)
    if (strstr (g_ptr_array_index (r->warnings, i), needle))
      return g_ptr_array_index (r->warnings, i);
  return NULL;
}

/* appsrc: n GRAY8 16x16 frames (noise with distinct seeds), then EOS */
static void
push_gray_frames (GstElement *src, guint from, guint n)
{
  for (guint i = from; i < from + n; i++) {
    GstBuffer *b = gst_buffer_new_allocate (NULL, MW * MH, NULL);
    GstMapInfo map;
    gst_buffer_map (b, &map, GST_MAP_WRITE);
    fill_noise (map.data, MW * MH, i + 7);
    gst_buffer_unmap (b, &map);
    GST_BUFFER_PTS (b) = i * GST_SECOND / 30;
    GST_BUFFER_DURATION (b) = GST_SECOND / 30;
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), b), GST_FLOW_OK);
  }
}

/* ---- item 3: buffers without caps ---------------------------------------- */

static void
feed_uncapped (GstElement *pipe, gpointer data)
{
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  for (int i = 0; i < 3; i++)
    gst_app_src_push_buffer (GST_APP_SRC (src), gst_buffer_new_allocate (NULL, 256, NULL));
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  gst_object_unref (src);
}

GST_START_TEST (test_buffers_without_caps)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  const gchar *sources[] = {
    "fakesrc num-buffers=5 sizetype=fixed sizemax=256 filltype=zero",
    "appsrc name=src format=time",
  };
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++) {
    gchar *desc = g_strdup_printf ("%s ! decent-train min-steps=0 model-location=\"%s\" width=16 "
        "height=16 channels=1 epochs=1", sources[i], model);
    GstElement *pipe = parse (desc);
    Run r;
    run_pipeline (pipe, i == 1 ? feed_uncapped : NULL, NULL, NULL, &r);
    fail_unless (r.error && strstr (r.error, "without video caps")
        && strstr (r.error, "videoconvert"), "%s: %s", sources[i], r.error);
    fail_unless (r.domain == GST_CORE_ERROR && r.code == GST_CORE_ERROR_NEGOTIATION, "%s",
        r.error);
    fail_if (g_file_test (model, G_FILE_TEST_EXISTS));
    run_clear (&r);
    gst_object_unref (pipe);
    g_free (desc);
  }

  /* the flow return itself */
  gchar *desc = g_strdup_printf ("decent-train min-steps=0 model-location=\"%s\" width=16 height=16 "
      "channels=1", model);
  GstHarness *h = gst_harness_new_parse (desc);
  GstBus *bus = harness_bus (h);
  GstSegment seg;
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, 0)), GST_FLOW_NOT_NEGOTIATED);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message");
  gst_message_unref (msg);
  harness_bus_teardown (h, bus);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* caps that promise more bytes than the buffers carry */
GST_START_TEST (test_buffers_too_small)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  gchar *desc = g_strdup_printf ("fakesrc num-buffers=5 sizetype=fixed sizemax=100 "
      "filltype=zero ! " GRAY_CAPS " ! decent-train min-steps=0 model-location=\"%s\" width=16 "
      "height=16 channels=1 epochs=1", model);
  Run r;
  run_desc (desc, &r);
  /* each such frame is skipped (one warning); with none left, nothing to train */
  fail_unless (r.warnings->len == 1, "%u warnings", r.warnings->len);
  const gchar *w = g_ptr_array_index (r.warnings, 0);
  fail_unless (strstr (w, "Could not read a video frame") && strstr (w, "100-byte buffer")
      && strstr (w, "GRAY8 16x16"), "%s", w);
  fail_unless (r.error && strstr (r.error, "No frames to train on")
      && strstr (r.error, "all 5 buffers were too small"), "%s", r.error);
  fail_if (g_file_test (model, G_FILE_TEST_EXISTS));
  run_clear (&r);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* ---- item 7: interlaced caps --------------------------------------------- */

static void
feed_gray (GstElement *pipe, gpointer data)
{
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  push_gray_frames (src, 0, GPOINTER_TO_UINT (data));
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  gst_object_unref (src);
}

GST_START_TEST (test_interlaced_refused)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  const gchar *modes[] = { "interleaved", "mixed", "alternate" };
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++) {
    gchar *desc = g_strdup_printf ("appsrc name=src format=time caps=\"" GRAY_CAPS
        ",interlace-mode=%s\" ! decent-train min-steps=0 model-location=\"%s\" width=16 height=16 "
        "channels=1 epochs=1", modes[i], model);
    GstElement *pipe = parse (desc);
    Run r;
    run_pipeline (pipe, feed_gray, NULL, GUINT_TO_POINTER (10), &r);
    fail_unless (r.error && strstr (r.error, "Interlaced video is not supported")
        && strstr (r.error, "deinterlace"), "%s: %s", modes[i], r.error);
    fail_if (r.started, "%s: training started", modes[i]);
    fail_if (g_file_test (model, G_FILE_TEST_EXISTS));
    run_clear (&r);
    gst_object_unref (pipe);
    g_free (desc);
  }
  g_free (model);
}
GST_END_TEST;

/* ---- item 4: the frame store is bounded by max-memory -------------------- */

GST_START_TEST (test_max_memory_keeps_what_fits)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  /* 16x16x1 = 256 bytes a frame: 10 fit in 2560 */
  Run r;
  run_train (model, 30, "epochs=1 holdout=0.5 max-memory=2560", &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (r.eos && r.written);
  fail_unless_equals_int (count_warnings (&r, "max-memory"), 1);
  const gchar *w = find_warning (&r, "max-memory");
  fail_unless (strstr (w, "2560") && strstr (w, "10 frames"), "%s", w);
  fail_unless_equals_int (r.frames + r.held, 10);
  fail_unless_equals_int (r.held, 5);
  DecentInfo info;
  decent_model_free (load_model (model, &info, NULL));
  fail_unless_equals_int (info.epochs, 1);
  run_clear (&r);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_max_memory_below_one_frame)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=3 ! video/x-raw,width=32,height=32 "
      "! decent-train min-steps=0 model-location=\"%s\" width=1024 height=1024 channels=3 "
      "max-memory=1000000", model);
  Run r;
  run_desc (desc, &r);
  fail_unless (r.error && strstr (r.error, "max-memory") && strstr (r.error, "3145728")
      && strstr (r.error, "1000000"), "%s", r.error);
  fail_unless (r.domain == GST_RESOURCE_ERROR && r.code == GST_RESOURCE_ERROR_SETTINGS);
  fail_if (r.started_before_error);
  run_clear (&r);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* The largest geometry (1024x1024x3, 3 MiB a frame: the old 4 GiB array
 * overflowed after 1366 of them) stops at the limit with one warning. */
GST_START_TEST (test_max_memory_large_frames)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  gchar *desc = g_strdup_printf ("appsrc name=src format=time caps=\"" GRAY_CAPS "\" ! "
      "decent-train min-steps=0 model-location=\"%s\" width=1024 height=1024 channels=3 "
      "max-memory=7000000 companion=false", model);
  GstElement *pipe = parse (desc);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  GstBus *bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  push_gray_frames (src, 0, 4); /* no EOS: nothing is trained at this size */
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_WARNING | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no warning at the limit");
  fail_unless (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING);
  gchar *text = message_text (msg);
  fail_unless (strstr (text, "max-memory=7000000") && strstr (text, "2 frames"), "%s", text);
  g_free (text);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING | GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "a second warning or an error");
  fail_if (g_file_test (model, G_FILE_TEST_EXISTS));
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_max_memory_default)
{
  GstElement *e = gst_element_factory_make ("decent-train", NULL);
  GParamSpec *spec = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "max-memory");
  fail_unless (spec != NULL && G_PARAM_SPEC_VALUE_TYPE (spec) == G_TYPE_UINT64);
  guint64 v = 0;
  g_object_get (e, "max-memory", &v, NULL);
  const guint64 ram = (guint64) sysconf (_SC_PHYS_PAGES) * (guint64) sysconf (_SC_PAGESIZE);
  fail_unless (v > 0 && v <= ram / 4 && v <= (G_GUINT64_CONSTANT (4) << 30), "%" G_GUINT64_FORMAT,
      v);
  /* the default geometry's frames (12 KiB) fit many times */
  fail_unless (v >= 64 * 64 * 3 * 1000);
  gst_object_unref (e);
}
GST_END_TEST;

/* ---- item 5: a pause does not cancel training ---------------------------- */

GST_START_TEST (test_pause_during_training)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  gchar *desc = train_desc (model, 20, "epochs=12 batch-size=8");
  GstElement *pipe = parse (desc);
  GstBus *bus = gst_element_get_bus (pipe);
  Run r;
  run_init (&r);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  gboolean paused = FALSE, resumed = FALSE;
  guint epochs_while_paused = 0;
  gint64 resume_at = 0;
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, paused && !resumed ? 20 * GST_MSECOND
        : 60 * GST_SECOND);
    if (!msg) {
      fail_unless (paused && !resumed, "the pipeline neither ended nor failed within 60 s");
    } else {
      guint before = r.epoch_messages;
      gboolean end = record (msg, &r);
      gst_message_unref (msg);
      fail_if (r.canceled, "training was canceled by PLAYING -> PAUSED (after epoch %u)",
          r.last_epoch);
      if (paused && !resumed)
        epochs_while_paused += r.epoch_messages - before;
      if (end)
        break;
      if (!paused && r.epoch_messages >= 1) {
        /* pause while training runs (epoch 1 of 12 is done) */
        fail_if (gst_element_set_state (pipe, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE);
        paused = TRUE;
        resume_at = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
      }
    }
    /* resume once training was seen going on while paused */
    if (paused && !resumed && (epochs_while_paused > 0 || g_get_monotonic_time () >= resume_at)) {
      fail_if (gst_element_set_state (pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
      resumed = TRUE;
    }
  }
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (paused && resumed && r.eos && r.written, "paused %d resumed %d eos %d written %d",
      paused, resumed, r.eos, r.written);
  fail_unless (epochs_while_paused > 0, "training did not go on while paused");
  DecentInfo info;
  decent_model_free (load_model (model, &info, NULL));
  fail_unless_equals_int (info.epochs, 12);
  fail_unless_equals_int (r.last_epoch, 12);
  gst_element_set_state (pipe, GST_STATE_NULL);
  run_clear (&r);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* ---- item 10: resume with changed settings ------------------------------- */

/* A 16x16x1 checkpoint trained for `epochs` with the engine's defaults
 * (lambda 0.01, learning rate 2e-4, loss 13, batch 64, seed 1). */
static void
write_checkpoint (const gchar *path, int epochs)
{
  DecentConfig cfg;
  DecentError err = { { 0 } };
  decent_config_init (&cfg, MW, MH, 1);
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *m = decent_model_new (&cfg, &err);
  fail_unless (m != NULL, "%s", err.message);
  guint8 *frames = g_malloc (20 * MW * MH);
  fill_noise (frames, 20 * MW * MH, 3);
  fail_unless (decent_model_train (m, frames, 20, epochs, NULL, NULL, &err) == 0, "%s",
      err.message);
  fail_unless (decent_model_save (m, path, &err) == 0, "%s", err.message);
  decent_model_free (m);
  g_free (frames);
}

GST_START_TEST (test_resume_with_changed_settings)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  gchar *checkpoint = g_strconcat (model, ".checkpoint", NULL);
  write_checkpoint (checkpoint, 2);
  Run r;
  run_train (model, 20, "resume=true epochs=3 lambda=0.5 learning-rate=0.001 "
      "loss=centre batch-size=8 seed=7", &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (r.written && r.eos);
  const gchar *w = find_warning (&r, "lambda");
  fail_unless (w != NULL, "no warning about the checkpoint's settings");
  const gchar *expect[] = { "lambda 0.01 (property: 0.5)", "learning-rate 0.0002 (property: 0.001)",
    "loss decentralization (property: centre)", "batch-size 64 (property: 8)",
    "seed 1 (property: 7)", "checkpoint's", "resume=false" };
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    fail_unless (strstr (w, expect[i]) != NULL, "'%s' missing in: %s", expect[i], w);
  fail_unless_equals_int (count_warnings (&r, "(property: 0.5)"), 1);
  /* the checkpoint's settings were used */
  DecentInfo info;
  DecentModel *m = load_model (model, &info, NULL);
  DecentConfig cfg;
  decent_model_get_config (m, &cfg);
  decent_model_free (m);
  fail_unless_equals_int (info.epochs, 3);
  fail_unless (fabsf (cfg.lambda - 0.01f) < 1e-9f && cfg.batch_size == 64);
  run_clear (&r);

  /* the same settings (the engine's, which wrote the checkpoint): no
   * warning about them (one says so few steps train little) */
  const gchar *same[] = { "latent-side=0", /* as written */
    "latent-side=6" /* other words for the same layers at 16x16: the file keeps 0 */ };
  for (guint k = 0; k < G_N_ELEMENTS (same); k++) {
    write_checkpoint (checkpoint, 2);
    gchar *props = g_strdup_printf ("resume=true epochs=3 lambda=0.01 batch-size=64 %s "
        "base-channels=64 max-channels=512 local-surround=0", same[k]);
    run_train (model, 20, props, &r);
    g_free (props);
    fail_unless (r.error == NULL && r.written, "%s", r.error);
    for (guint i = 0; i < r.warnings->len; i++)
      fail_if (strstr (g_ptr_array_index (r.warnings, i), "settings"), "%s: %s", same[k],
          (const gchar *) g_ptr_array_index (r.warnings, i));
    run_clear (&r);
  }
  /* a latent grid that is another architecture is named (at 16x16 the
   * paper's rule stops at 4x4; a side of 2 takes one layer more), with the
   * checkpoint's channels, not the properties', deciding */
  write_checkpoint (checkpoint, 2);
  run_train (model, 20, "resume=true epochs=3 latent-side=2", &r);
  fail_unless (r.error == NULL, "%s", r.error);
  w = find_warning (&r, "latent-side");
  fail_unless (w != NULL && strstr (w, "(property: 2)"), "no warning about latent-side 2");
  run_clear (&r);
  write_checkpoint (checkpoint, 2);
  run_train (model, 20, "resume=true epochs=3 latent-side=4", &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (find_warning (&r, "latent-side") == NULL, "latent-side 4 builds the same layers");
  run_clear (&r);
  g_free (checkpoint);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_resume_nothing_left_to_train)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  gchar *checkpoint = g_strconcat (model, ".checkpoint", NULL);
  for (guint epochs = 1; epochs <= 2; epochs++) {
    write_checkpoint (checkpoint, 2);
    gchar *extra = g_strdup_printf ("resume=true epochs=%u", epochs);
    Run r;
    run_train (model, 20, extra, &r);
    fail_unless (r.error == NULL, "%s", r.error);
    const gchar *w = find_warning (&r, "othing more");
    fail_unless (w != NULL, "epochs=%u: no warning that nothing more is trained", epochs);
    gchar *done = g_strdup_printf ("epochs=%u", epochs);
    fail_unless (strstr (w, "2 epochs") && strstr (w, done), "%s", w);
    g_free (done);
    fail_unless_equals_int (r.epoch_messages, 0);
    /* calibrated and written from the checkpoint as it is */
    fail_unless (r.written && r.eos);
    DecentInfo info;
    DecentCalibration cal;
    decent_model_free (load_model (model, &info, &cal));
    fail_unless_equals_int (info.epochs, 2);
    fail_unless (cal.threshold > 0);
    run_clear (&r);
    g_free (extra);
  }
  /* resume reads the checkpoint whether or not this run keeps one (it once
   * trained anew with checkpoint=false), and the checkpoint it went on
   * from is gone once the model is written */
  write_checkpoint (checkpoint, 2);
  Run r;
  run_train (model, 20, "resume=true checkpoint=false epochs=2", &r);
  fail_unless (r.error == NULL && r.written, "%s", r.error);
  fail_unless (find_warning (&r, "othing more") != NULL, "checkpoint=false: not resumed");
  fail_unless_equals_int (r.epoch_messages, 0);
  fail_if (g_file_test (checkpoint, G_FILE_TEST_EXISTS), "the used checkpoint is left");
  run_clear (&r);
  g_free (checkpoint);
  g_free (model);
}
GST_END_TEST;

/* The start's message of a resumed run says what is left to train, not
 * the epochs asked for (it said "for 3 epochs" of a checkpoint with 2
 * done, and "for 2 epochs" before the warning that nothing more is
 * trained); min-steps that asks for more epochs than epochs has them
 * trained, and no warning says that nothing more is (one did). */
GST_START_TEST (test_resume_start_says_epochs_left)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  gchar *checkpoint = g_strconcat (model, ".checkpoint", NULL);
  /* 20 frames, 16 trained on in one batch of the checkpoint's 64: one
   * step an epoch */
  const struct {
    const gchar *extra, *said[3];
    guint epochs_trained, epochs_after;
    gboolean nothing_more;
  } cases[] = {
    { "resume=false epochs=2", { "for 2 epochs of 1 steps", NULL }, 2, 2, FALSE },
    { "resume=true epochs=3", { "for 1 more epoch of 1 steps, to epoch 3",
        ": resuming from ", "after epoch 2" }, 1, 3, FALSE },
    { "resume=true epochs=2", { "Nothing more to train: ", "already has 2 epochs (epochs=2, "
        "min-steps=0)", "calibrating its model on 16 frames (4 held out)" }, 0, 2, TRUE },
    { "resume=true epochs=2 min-steps=4", { "for 2 more epochs of 1 steps, to epoch 4",
        "after epoch 2", NULL }, 2, 4, FALSE },
    /* (and the companion still trains, after the calibration: its 2 epochs) */
    { "resume=true epochs=2 companion=true", { "Nothing more to train: ",
        "(4 held out), then training its companion", NULL }, 2, 2, TRUE },
  };
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++) {
    write_checkpoint (checkpoint, 2);
    Run r;
    run_train (model, 20, cases[k].extra, &r);
    fail_unless (r.error == NULL && r.written, "%s: %s", cases[k].extra, r.error);
    fail_unless (r.start_text != NULL, "%s: no start message", cases[k].extra);
    for (guint i = 0; i < G_N_ELEMENTS (cases[k].said) && cases[k].said[i]; i++)
      fail_unless (strstr (r.start_text, cases[k].said[i]) != NULL, "%s: \"%s\" not in the "
          "start message \"%s\"", cases[k].extra, cases[k].said[i], r.start_text);
    fail_unless_equals_int (r.epoch_messages, cases[k].epochs_trained);
    fail_unless ((find_warning (&r, "othing more") != NULL) == cases[k].nothing_more,
        "%s: a warning that nothing more is trained: %s", cases[k].extra,
        cases[k].nothing_more ? "none" : find_warning (&r, "othing more"));
    DecentInfo info;
    decent_model_free (load_model (model, &info, NULL));
    fail_unless_equals_int (info.epochs, cases[k].epochs_after);
    run_clear (&r);
  }
  g_free (checkpoint);
  g_free (model);
}
GST_END_TEST;

/* ---- item 11: unwritable locations found at start, models kept ----------- */

GST_START_TEST (test_unwritable_found_at_start)
{
  gchar *folder = g_build_filename (dir, "sub", NULL);
  g_mkdir (folder, 0755);
  gchar *missing = g_build_filename (dir, "no", "m.dcnt", NULL);
  gchar *ro = g_build_filename (dir, "ro", NULL);
  g_mkdir (ro, 0555);
  gchar *in_ro = g_build_filename (ro, "m.dcnt", NULL);
  /* a FIFO would be replaced by a plain file (a device too: /dev/null) */
  gchar *fifo = g_build_filename (dir, "fifo", NULL);
  fail_unless (mkfifo (fifo, 0600) == 0);
  /* a link to a folder that does not exist: its model could never be written */
  gchar *dangling = g_build_filename (dir, "dangling", NULL);
  fail_unless (symlink ("nowhere/m.dcnt", dangling) == 0);
  const gchar *cases[][2] = {
    { folder, "Is a directory" },
    { missing, "No such file or directory" },
    { in_ro, "Permission denied" },
    { fifo, "not a regular file" },
    { dangling, "nowhere: No such file or directory" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    if (i == 2 && geteuid () == 0)
      continue; /* root writes anywhere; test_faults covers a read-only mount */
    Run r;
    /* a live source that never ends: only a check at start can end this */
    gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! video/x-raw,width=32,height=32,"
        "framerate=100/1 ! decent-train min-steps=0 model-location=\"%s\" width=16 height=16 channels=1 "
        "epochs=1", cases[i][0]);
    run_desc (desc, &r);
    fail_unless (r.error && strstr (r.error, cases[i][0]) && strstr (r.error, cases[i][1]),
        "%s", r.error);
    fail_unless (r.domain == GST_RESOURCE_ERROR && r.code == GST_RESOURCE_ERROR_OPEN_WRITE,
        "%s", r.error);
    fail_if (r.started_before_error, "frames were collected and trained first: %s", r.error);
    run_clear (&r);
    g_free (desc);
  }
  /* the probe left nothing behind */
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  while ((name = g_dir_read_name (d)))
    fail_unless (g_str_equal (name, "sub") || g_str_equal (name, "ro")
            || g_str_equal (name, "fifo") || g_str_equal (name, "dangling"),
        "%s left behind", name);
  g_dir_close (d);
  GStatBuf st;
  fail_unless (g_lstat (fifo, &st) == 0 && S_ISFIFO (st.st_mode), "the FIFO was replaced");
  fail_unless (g_unlink (fifo) == 0 && g_unlink (dangling) == 0);
  g_free (fifo);
  g_free (dangling);
  g_free (in_ro);
  g_free (ro);
  g_free (missing);
  g_free (folder);
}
GST_END_TEST;

typedef struct {
  gchar *from, *to;
  gboolean moved;
} MoveAway;

/* Moves the model's folder away once training runs, so that the final
 * write fails after a finished training run. */
static void
move_folder_when_training (GstElement *pipe, GstMessage *msg, gpointer data)
{
  MoveAway *mv = data;
  const GstStructure *s = gst_message_get_structure (msg);
  if (!mv->moved && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
      && gst_structure_has_name (s, "decent-train")) {
    fail_unless (g_rename (mv->from, mv->to) == 0);
    mv->moved = TRUE;
  }
}

/* The folder removed while training: the run is kept in the temporary
 * folder, with checkpoints too (before, the first checkpoint that could not
 * be written stopped the run and lost it). */
GST_START_TEST (test_final_write_fails_model_kept)
{
  const gchar *variants[] = { "epochs=5 checkpoint=false", "epochs=5" };
  for (guint k = 0; k < 2; k++) {
    gchar *sub = g_build_filename (dir, k ? "sub1" : "sub0", NULL);
    gchar *gone = g_build_filename (dir, k ? "gone1" : "gone0", NULL);
    g_mkdir (sub, 0755);
    gchar *model = g_build_filename (sub, "m.dcnt", NULL);
    gchar *desc = train_desc (model, 20, variants[k]);
    GstElement *pipe = parse (desc);
    MoveAway mv = { sub, gone, FALSE };
    Run r;
    run_pipeline (pipe, NULL, move_folder_when_training, &mv, &r);
    fail_unless (mv.moved);
    fail_unless (r.error && strstr (r.error, "Could not write the model file")
        && strstr (r.error, model), "%s: %s", variants[k], r.error);
    fail_unless (count_substrings (r.error, "unchanged") <= 1, "%s", r.error);
    gchar *kept = rescued_path (r.error);
    fail_unless (kept != NULL, "%s: the trained model was not kept: %s", variants[k], r.error);
    fail_unless (g_str_has_prefix (kept, g_get_tmp_dir ()), "%s", kept);
    DecentInfo info;
    DecentCalibration cal;
    decent_model_free (load_model (kept, &info, &cal));
    fail_unless_equals_int (info.epochs, 5);
    fail_unless (cal.threshold > 0);
    fail_unless (g_unlink (kept) == 0);
    g_free (kept);
    run_clear (&r);
    gst_object_unref (pipe);
    g_free (desc);
    g_free (model);
    g_free (gone);
    g_free (sub);
  }
}
GST_END_TEST;

/* ---- item 12: stale temporaries ------------------------------------------ */

static GPtrArray *info_lines;

static void
capture_info (GstDebugCategory *cat, GstDebugLevel level, const gchar *file,
    const gchar *function, gint line, GObject *object, GstDebugMessage *message, gpointer data)
{
  if (level == GST_LEVEL_INFO && g_str_equal (gst_debug_category_get_name (cat), "decent-train"))
    g_ptr_array_add (info_lines, g_strdup (gst_debug_message_get (message)));
}

/* a file named name in dir, holding text (a dead writer's temporary: the
 * first bytes of a model file, or nothing) */
static gchar *
touch_with (const gchar *name, const gchar *text)
{
  gchar *path = g_build_filename (dir, name, NULL);
  fail_unless (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static gchar *
touch (const gchar *name)
{
  return touch_with (name, "DECENTAE and half a model");
}

GST_START_TEST (test_stale_temporaries_removed)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  gchar *stale_model = touch ("m.dcnt.tmp-AbC123");
  gchar *stale_checkpoint = touch ("m.dcnt.checkpoint.tmp-x9Y8z7");
  gchar *stale_finished = touch ("m.dcnt.finished.tmp-Fn1sh3");
  gchar *live = touch ("m.dcnt.tmp-LiVe00");
  gchar *other_model = touch ("other.dcnt.tmp-Zz0000");
  gchar *not_ours = touch ("m.dcnt.tmp-short");
  gchar *empty = touch_with ("m.dcnt.tmp-Empty0", "");
  /* the user's, named so by chance: it stays (helper-78: deleted, unsaid) */
  gchar *users = touch_with ("m.dcnt.tmp-Backup", "notes of the night shift");
  /* a writer that is still alive holds its temporary locked */
  int fd = open (live, O_RDWR);
  fail_unless (fd >= 0 && flock (fd, LOCK_EX) == 0);

  info_lines = g_ptr_array_new_with_free_func (g_free);
  gst_debug_set_active (TRUE);
  gst_debug_set_threshold_for_name ("decent-train", GST_LEVEL_INFO);
  gst_debug_add_log_function (capture_info, NULL, NULL);
  Run r;
  run_train (model, 20, "epochs=1", &r);
  gst_debug_remove_log_function (capture_info);
  gst_debug_set_threshold_for_name ("decent-train", GST_LEVEL_WARNING);
  fail_unless (r.error == NULL && r.written, "%s", r.error);
  fail_if (g_file_test (stale_model, G_FILE_TEST_EXISTS), "stale model temporary kept");
  fail_if (g_file_test (stale_checkpoint, G_FILE_TEST_EXISTS), "stale checkpoint temporary kept");
  fail_if (g_file_test (stale_finished, G_FILE_TEST_EXISTS), "stale finished-model temporary kept");
  fail_unless (g_file_test (live, G_FILE_TEST_EXISTS), "a live writer's temporary was removed");
  fail_unless (g_file_test (other_model, G_FILE_TEST_EXISTS));
  fail_unless (g_file_test (not_ours, G_FILE_TEST_EXISTS));
  fail_if (g_file_test (empty, G_FILE_TEST_EXISTS), "an empty stale temporary kept");
  fail_unless (g_file_test (users, G_FILE_TEST_EXISTS), "a file of other bytes was removed");
  /* logged at INFO, one line each, nothing on the bus */
  guint logged = 0;
  for (guint i = 0; i < info_lines->len; i++) {
    const gchar *l = g_ptr_array_index (info_lines, i);
    if (strstr (l, "stale temporary"))
      logged++;
    fail_if (strstr (l, "stale temporary") && !strstr (l, "AbC123") && !strstr (l, "x9Y8z7")
        && !strstr (l, "Fn1sh3") && !strstr (l, "Empty0"), "%s", l);
  }
  fail_unless_equals_int (logged, 4);
  for (guint i = 0; i < r.warnings->len; i++) /* (one says so few steps train little) */
    fail_if (strstr (g_ptr_array_index (r.warnings, i), "temporar"), "%s",
        (const gchar *) g_ptr_array_index (r.warnings, i));
  g_ptr_array_unref (info_lines);
  close (fd);
  run_clear (&r);
  g_free (users);
  g_free (empty);
  g_free (not_ours);
  g_free (other_model);
  g_free (live);
  g_free (stale_checkpoint);
  g_free (stale_finished);
  g_free (stale_model);
  g_free (model);
}
GST_END_TEST;

/* ---- item 14: non-UTF-8 and long paths ----------------------------------- */

GST_START_TEST (test_non_utf8_and_long_paths)
{
  /* a folder name that is not UTF-8, missing */
  gchar *missing = g_build_filename (dir, "caf\xe9-gone", "m.dcnt", NULL);
  Run r;
  run_at_location (missing, 20, NULL, &r);
  fail_unless (r.error && strstr (r.error, "caf\xef\xbf\xbd-gone") /* U+FFFD */
      && strstr (r.error, "No such file or directory"), "%s", r.error);
  fail_unless (g_utf8_validate (r.error, -1, NULL));
  run_clear (&r);

  /* the same folder, existing: trained and written, messages in UTF-8 */
  gchar *folder = g_path_get_dirname (missing);
  fail_unless (g_mkdir (folder, 0755) == 0);
  run_at_location (missing, 20, NULL, &r);
  fail_unless (r.error == NULL && r.written, "%s", r.error);
  fail_unless (g_file_test (missing, G_FILE_TEST_EXISTS));
  fail_unless (r.complete_text && g_utf8_validate (r.complete_text, -1, NULL)
      && strstr (r.complete_text, "caf\xef\xbf\xbd-gone"), "%s", r.complete_text);
  run_clear (&r);

  /* a long path (three 200-byte folder names) whose folder is missing: the
   * reason is not cut off */
  gchar *a = g_strnfill (200, 'a'), *b = g_strnfill (200, 'b'), *c = g_strnfill (200, 'c');
  gchar *longpath = g_build_filename (dir, a, b, c, "m.dcnt", NULL);
  run_at_location (longpath, 20, NULL, &r);
  fail_unless (r.error && strstr (r.error, longpath)
      && strstr (r.error, "No such file or directory"), "%s", r.error);
  run_clear (&r);
  g_free (longpath);
  g_free (a);
  g_free (b);
  g_free (c);
  g_free (folder);
  g_free (missing);
}
GST_END_TEST;

/* ---- settings at their extremes ------------------------------------------ */

GST_START_TEST (test_holdout_with_three_frames)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  Run r;
  run_train (model, 3, "holdout=0.5", &r);
  fail_unless (r.error == NULL && r.written, "%s", r.error);
  fail_unless_equals_int (r.frames, 3);
  fail_unless_equals_int (r.held, 0);
  /* the threshold comes from the training frames: say so */
  const gchar *w = find_warning (&r, "held out");
  fail_unless (w && strstr (w, "holdout=0.5") && strstr (w, "3 frames"), "%s",
      w ? w : "no warning");
  DecentCalibration cal;
  decent_model_free (load_model (model, NULL, &cal));
  fail_unless_equals_int (cal.count, 3);
  run_clear (&r);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_too_few_frames_kept)
{
  gchar *model = marker ("m.dcnt");
  const gchar *extra[] = { "max-frames=1", "frame-stride=100000" };
  const gchar *expect[] = { "1 of 30 frames", "1 of 30 frames" };
  for (guint i = 0; i < G_N_ELEMENTS (extra); i++) {
    Run r;
    run_train (model, 30, extra[i], &r);
    fail_unless (r.error && strstr (r.error, "Too few frames") && strstr (r.error, expect[i])
        && strstr (r.error, extra[i]), "%s: %s", extra[i], r.error);
    assert_marker (model);
    run_clear (&r);
  }
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_batch_size_extremes)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  /* a batch larger than the frames: one step an epoch; batch 2 with 3
   * frames: one step (the odd frame is left out) */
  const gchar *extra[] = { "batch-size=65536 epochs=1 holdout=0",
    "batch-size=2 epochs=2 holdout=0" };
  const guint frames[] = { 20, 3 }, steps[] = { 1, 2 };
  for (guint i = 0; i < G_N_ELEMENTS (extra); i++) {
    Run r;
    run_train (model, frames[i], extra[i], &r);
    fail_unless (r.error == NULL && r.written, "%s: %s", extra[i], r.error);
    fail_unless_equals_int (r.frames, frames[i]);
    DecentInfo info;
    decent_model_free (load_model (model, &info, NULL));
    fail_unless_equals_int (info.steps, steps[i]);
    run_clear (&r);
  }
  g_free (model);
}
GST_END_TEST;

/* caps change to another format and resolution between frames */
static void
feed_two_formats (GstElement *pipe, gpointer data)
{
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  push_gray_frames (src, 0, 6);
  GstCaps *caps = gst_caps_from_string ("video/x-raw,format=RGB,width=40,height=30,"
      "framerate=30/1");
  gst_app_src_set_caps (GST_APP_SRC (src), caps);
  gst_caps_unref (caps);
  for (guint i = 6; i < 12; i++) {
    GstBuffer *b = gst_buffer_new_allocate (NULL, 40 * 30 * 3, NULL);
    GstMapInfo map;
    gst_buffer_map (b, &map, GST_MAP_WRITE);
    fill_noise (map.data, map.size, i);
    gst_buffer_unmap (b, &map);
    GST_BUFFER_PTS (b) = i * GST_SECOND / 30;
    gst_app_src_push_buffer (GST_APP_SRC (src), b);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  gst_object_unref (src);
}

GST_START_TEST (test_caps_change_mid_stream)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  gchar *desc = g_strdup_printf ("appsrc name=src format=time caps=\"" GRAY_CAPS "\" ! "
      "decent-train min-steps=0 model-location=\"%s\" width=16 height=16 channels=1 epochs=1 holdout=0.5",
      model);
  GstElement *pipe = parse (desc);
  Run r;
  run_pipeline (pipe, feed_two_formats, NULL, NULL, &r);
  fail_unless (r.error == NULL && r.written && r.eos, "%s", r.error);
  fail_unless_equals_int (r.frames + r.held, 12);
  run_clear (&r);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* ---- EOS twice, a flush while training, a READY/PLAYING cycle ------------ */

static GstHarness *
train_harness (const gchar *model, const gchar *extra, GstBus **bus)
{
  gchar *desc = g_strdup_printf ("decent-train name=t model-location=\"%s\" width=16 "
      "height=16 channels=1 %s", model, extra);
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  *bus = harness_bus (h);
  gst_harness_set_src_caps_str (h, GRAY_CAPS);
  return h;
}

static void
push_frames (GstHarness *h, guint from, guint n)
{
  for (guint i = from; i < from + n; i++) {
    GstBuffer *b = gray_frame (FALSE, i);
    GstMapInfo map;
    gst_buffer_map (b, &map, GST_MAP_WRITE);
    fill_noise (map.data, map.size, i + 11);
    gst_buffer_unmap (b, &map);
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
  }
}

static void
drain (GstBus *bus, Run *r)
{
  GstMessage *msg;
  while ((msg = gst_bus_pop (bus))) {
    record (msg, r);
    gst_message_unref (msg);
  }
}

static guint
count_written (GstBus *bus, Run *r)
{
  guint n = 0;
  GstMessage *msg;
  while ((msg = gst_bus_pop (bus))) {
    gboolean was = r->written;
    r->written = FALSE;
    record (msg, r);
    n += r->written;
    r->written |= was;
    gst_message_unref (msg);
  }
  return n;
}

GST_START_TEST (test_eos_twice)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  GstBus *bus;
  GstHarness *h = train_harness (model, "epochs=1", &bus);
  push_frames (h, 0, 20);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  Run r;
  run_init (&r);
  fail_unless_equals_int (count_written (bus, &r), 1);
  GStatBuf st1, st2;
  fail_unless (g_stat (model, &st1) == 0);
  /* the second is refused; nothing is trained or written again */
  fail_if (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (count_written (bus, &r), 0);
  fail_unless (g_stat (model, &st2) == 0 && st1.st_ino == st2.st_ino);
  fail_unless (r.error == NULL, "%s", r.error);
  run_clear (&r);
  harness_bus_teardown (h, bus);
  g_free (model);
}
GST_END_TEST;

static gpointer
push_eos (gpointer h)
{
  return GINT_TO_POINTER (gst_harness_push_event (h, gst_event_new_eos ()));
}

GST_START_TEST (test_flush_while_training)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  gchar *checkpoint = g_strconcat (model, ".checkpoint", NULL);
  GstBus *bus;
  GstHarness *h = train_harness (model, "epochs=200 batch-size=8", &bus);
  push_frames (h, 0, 20);
  GThread *eos = g_thread_new ("eos", push_eos, h);
  /* wait for training to run */
  GstMessage *msg;
  for (;;) {
    msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_ELEMENT);
    fail_unless (msg != NULL, "training did not start");
    gboolean training = gst_structure_has_name (gst_message_get_structure (msg), "decent-train");
    gst_message_unref (msg);
    if (training)
      break;
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_if (GPOINTER_TO_INT (g_thread_join (eos)), "the EOS went through a flushed training");
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  Run r;
  run_init (&r);
  drain (bus, &r);
  fail_unless (r.canceled && !r.written && r.last_epoch < 200, "canceled %d written %d epoch %u",
      r.canceled, r.written, r.last_epoch);
  fail_if (g_file_test (model, G_FILE_TEST_EXISTS));
  fail_unless (g_file_test (checkpoint, G_FILE_TEST_EXISTS));
  run_clear (&r);

  /* data after the flush: the collection starts anew (a flushing seek feeds
   * the footage again), training starts again at the next EOS, with the
   * settings of the start: a change is refused until the element stops */
  GstElement *t = gst_bin_get_by_name (GST_BIN (h->element), "t");
  g_object_set (t, "epochs", 1, NULL);
  guint epochs;
  g_object_get (t, "epochs", &epochs, NULL);
  gst_object_unref (t);
  fail_unless_equals_int (epochs, 200);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  gchar *said = msg ? message_text (msg) : NULL;
  fail_unless (said && strstr (said, "epochs stays 200"), "%s", said);
  g_free (said);
  gst_message_unref (msg);
  GstSegment seg;
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  push_frames (h, 20, 10);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  run_init (&r);
  drain (bus, &r);
  fail_unless (r.error == NULL && r.written, "%s", r.error);
  fail_unless_equals_int (r.frames + r.held, 10);
  fail_unless (g_file_test (model, G_FILE_TEST_EXISTS));
  run_clear (&r);
  harness_bus_teardown (h, bus);
  g_free (checkpoint);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_ready_cycle_starts_afresh)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  GstBus *bus;
  GstHarness *h = train_harness (model, "epochs=1 holdout=0.5", &bus);
  push_frames (h, 0, 3);
  /* stopped without EOS, then played again: the 3 frames are gone */
  fail_unless (gst_element_set_state (h->element, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_element_set_state (h->element, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_harness_push_event (h, gst_event_new_stream_start ("again")));
  gst_harness_set_src_caps_str (h, GRAY_CAPS);
  push_frames (h, 3, 20);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  Run r;
  run_init (&r);
  drain (bus, &r);
  fail_unless (r.error == NULL && r.written, "%s", r.error);
  fail_unless_equals_int (r.frames + r.held, 20);
  run_clear (&r);
  harness_bus_teardown (h, bus);
  g_free (model);
}
GST_END_TEST;

static Suite *
train_hardening_suite (void)
{
  Suite *s = suite_create ("decent-train hardening");
  TCase *tc = suite_add_case (s, "general", 300, temp_dir_setup, temp_dir_teardown);
  tcase_add_test (tc, test_buffers_without_caps);
  tcase_add_test (tc, test_buffers_too_small);
  tcase_add_test (tc, test_interlaced_refused);
  tcase_add_test (tc, test_max_memory_keeps_what_fits);
  tcase_add_test (tc, test_max_memory_below_one_frame);
  tcase_add_test (tc, test_max_memory_large_frames);
  tcase_add_test (tc, test_max_memory_default);
  tcase_add_test (tc, test_pause_during_training);
  tcase_add_test (tc, test_resume_with_changed_settings);
  tcase_add_test (tc, test_resume_nothing_left_to_train);
  tcase_add_test (tc, test_resume_start_says_epochs_left);
  tcase_add_test (tc, test_unwritable_found_at_start);
  tcase_add_test (tc, test_final_write_fails_model_kept);
  tcase_add_test (tc, test_stale_temporaries_removed);
  tcase_add_test (tc, test_non_utf8_and_long_paths);
  tcase_add_test (tc, test_holdout_with_three_frames);
  tcase_add_test (tc, test_too_few_frames_kept);
  tcase_add_test (tc, test_batch_size_extremes);
  tcase_add_test (tc, test_caps_change_mid_stream);
  tcase_add_test (tc, test_eos_twice);
  tcase_add_test (tc, test_flush_while_training);
  tcase_add_test (tc, test_ready_cycle_starts_afresh);
  return s;
}

GST_CHECK_MAIN (train_hardening);
