/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decent-train: a real end-to-end run (learn one videotestsrc pattern, then
 * decentanomaly scores another clearly higher), progress and element
 * messages, EOS only after the model is written, and failures that leave an
 * existing model file alone. */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include "decent/decentmeta.h"
#include "plugin_util.h"

typedef struct {
  guint progress_start, progress_continue, progress_complete, epochs_seen;
  gboolean written_before_eos, file_existed_at_eos, eos;
  gchar *error;
  gchar warning[4096]; /* the warnings' texts, one a line (cut), "" for none */
  guint warnings;
} RunResult;

static void
run_pipeline_of (GstElement *pipe, const gchar *model, RunResult *r)
{
  memset (r, 0, sizeof *r);
  GstBus *bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  gboolean written = FALSE;
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, 120 * GST_SECOND);
    fail_unless (msg != NULL, "pipeline timed out");
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_PROGRESS) {
      GstProgressType type;
      gst_message_parse_progress (msg, &type, NULL, NULL);
      r->progress_start += type == GST_PROGRESS_TYPE_START;
      r->progress_continue += type == GST_PROGRESS_TYPE_CONTINUE;
      r->progress_complete += type == GST_PROGRESS_TYPE_COMPLETE;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      const GstStructure *s = gst_message_get_structure (msg);
      if (gst_structure_has_name (s, "decent-train")) {
        const gchar *status = gst_structure_get_string (s, "status");
        if (g_str_equal (status, "training")) {
          guint epoch;
          gdouble loss, rec, dec;
          guint64 eta;
          fail_unless (gst_structure_get (s, "epoch", G_TYPE_UINT, &epoch, "loss",
              G_TYPE_DOUBLE, &loss, "reconstruction", G_TYPE_DOUBLE, &rec, "decentralization",
              G_TYPE_DOUBLE, &dec, "eta", G_TYPE_UINT64, &eta, NULL));
          fail_unless (isfinite (loss) && loss > 0);
          r->epochs_seen = epoch;
        } else if (g_str_equal (status, "written")) {
          written = TRUE;
        }
      }
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      r->eos = TRUE;
      r->written_before_eos = written;
      r->file_existed_at_eos = model && g_file_test (model, G_FILE_TEST_EXISTS);
      gst_message_unref (msg);
      break;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      r->error = message_text (msg);
      gst_message_unref (msg);
      break;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      gchar *text = message_text (msg);
      g_strlcat (r->warning, text, sizeof r->warning);
      g_strlcat (r->warning, "\n", sizeof r->warning);
      g_free (text);
      r->warnings++;
    }
    gst_message_unref (msg);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
}

static void
run_pipeline (const gchar *desc, const gchar *model, RunResult *r)
{
  GError *perr = NULL;
  GstElement *pipe = gst_parse_launch (desc, &perr);
  fail_unless (pipe != NULL, "%s", perr ? perr->message : "?");
  run_pipeline_of (pipe, model, r);
}

/* mean score and flagged fraction of a pattern under a model */
static void
score_pattern (const gchar *model, const gchar *pattern, const gchar *mode, gdouble *mean,
    gdouble *flagged)
{
  gchar *desc = g_strdup_printf ("videotestsrc pattern=%s num-buffers=40 ! "
      "video/x-raw,width=96,height=72 ! decentanomaly model-location=\"%s\" score-mode=%s ! "
      "appsink name=sink sync=false", pattern, model, mode);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  GstSample *sample;
  guint n = 0, f = 0;
  gdouble sum = 0;
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (gst_sample_get_buffer (sample));
    fail_unless (m != NULL);
    sum += m->score;
    f += m->flagged;
    n++;
    gst_sample_unref (sample);
  }
  fail_unless_equals_int (n, 40);
  *mean = sum / n;
  *flagged = (gdouble) f / n;
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipe);
}

GST_START_TEST (test_train_then_detect)
{
  gchar *model = g_build_filename (dir, "ball.dcnt", NULL);
  gchar *desc = g_strdup_printf ("videotestsrc pattern=ball num-buffers=240 ! "
      "video/x-raw,width=96,height=72 ! decent-train min-steps=0 model-location=\"%s\" width=24 height=24 "
      "channels=1 epochs=8 learning-rate=0.002 batch-size=32 companion=false", model);
  RunResult r;
  run_pipeline (desc, model, &r);
  g_free (desc);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (r.eos && r.written_before_eos && r.file_existed_at_eos,
      "EOS reached the application before the model was written");
  fail_unless_equals_int (r.progress_start, 1);
  fail_unless_equals_int (r.progress_continue, 8);
  fail_unless_equals_int (r.progress_complete, 1);
  fail_unless_equals_int (r.epochs_seen, 8);

  DecentCalibration cal;
  DecentInfo info;
  DecentModel *m = load_model (model, &info, &cal);
  /* the last 20 % of the footage is held out: 48 of 240 frames */
  fail_unless (cal.threshold > 0 && cal.count == 48, "threshold %g from %u frames", cal.threshold,
      cal.count);
  fail_unless (info.width == 24 && info.channels == 1 && info.steps == 8 * 6, "%u steps",
      (guint) info.steps);
  decent_model_free (m);

  /* each score mode with the threshold decent-train calibrated for it */
  const gchar *modes[] = { "mean", "local", "normalized" };
  for (int k = 0; k < 3; k++) {
    gdouble learned, learned_flagged, other, other_flagged;
    score_pattern (model, "ball", modes[k], &learned, &learned_flagged);
    score_pattern (model, "smpte", modes[k], &other, &other_flagged);
    GST_INFO ("%s: ball %g (%g flagged), smpte %g (%g flagged)", modes[k], learned,
        learned_flagged, other, other_flagged);
    /* the local score is a share of a window, at most 1: no ratio there */
    fail_unless (k == 1 ? other > learned : other > 2 * learned,
        "%s: smpte scores %g, the learned ball %g", modes[k], other, learned);
    fail_unless (other_flagged == 1.0 && learned_flagged <= 0.1, "%s flagged: smpte %g, ball %g",
        modes[k], other_flagged, learned_flagged);
  }
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_no_frames)
{
  gchar *model = marker ("existing.dcnt");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=0 ! decent-train min-steps=0 "
      "model-location=\"%s\"", model);
  RunResult r;
  run_pipeline (desc, NULL, &r);
  fail_unless (r.error && strstr (r.error, "No frames") && strstr (r.error, model), "%s",
      r.error);
  assert_marker (model);
  g_free (r.error);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* Marks the buffers GAP: every other one (counted in *count), or all
 * (count NULL). */
static GstPadProbeReturn
mark_gap (GstPad *pad, GstPadProbeInfo *info, gpointer count)
{
  GstBuffer *buffer = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  if (!count || (*(guint *) count)++ % 2 == 1)
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_GAP);
  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  return GST_PAD_PROBE_OK;
}

/* GAP buffers stand in for lost footage: they are not collected (a lost
 * camera's black picture learnt as normal would never be flagged), and
 * footage of little or nothing else is an error that says so. */
GST_START_TEST (test_gap_buffers_not_collected)
{
  for (guint k = 0; k < 3; k++) {
    /* every other buffer GAP of 100; all of 100; every other of 2 (one frame kept) */
    const gboolean all = k == 1;
    gchar *model = g_strdup_printf ("%s/gap-%u.dcnt", dir, k);
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=%u ! video/x-raw,width=32,height=32 "
        "! decent-train name=t min-steps=0 model-location=\"%s\" width=16 height=16 channels=1 "
        "epochs=1 companion=false holdout=0.2", k == 2 ? 2 : 100, model);
    GstElement *pipe = gst_parse_launch (desc, NULL);
    fail_unless (pipe != NULL);
    GstElement *train = gst_bin_get_by_name (GST_BIN (pipe), "t");
    GstPad *pad = gst_element_get_static_pad (train, "sink");
    guint count = 0;
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, mark_gap, all ? NULL : &count, NULL);
    gst_object_unref (pad);
    gst_object_unref (train);
    RunResult r;
    run_pipeline_of (pipe, model, &r);
    if (k == 0) {
      fail_unless (r.error == NULL && r.eos && r.written_before_eos, "%s", r.error);
      DecentCalibration cal;
      DecentModel *m = load_model (model, NULL, &cal);
      /* 50 frames collected, the last 20 % of them held out */
      fail_unless_equals_int (cal.count, 10);
      decent_model_free (m);
    } else {
      /* the reason names the GAP buffers (not max-frames or frame-stride) */
      fail_unless (r.error && strstr (r.error, all ? "No frames" : "Too few frames")
          && strstr (r.error, all ? "all 100 buffers were flagged GAP"
              : "1 GAP buffers not collected") && !strstr (r.error, "raise max-frames"),
          "%s", r.error);
      fail_if (g_file_test (model, G_FILE_TEST_EXISTS));
      g_free (r.error);
    }
    g_free (desc);
    g_free (model);
  }
}
GST_END_TEST;

/* model-location naming a file that is no model (the footage being trained
 * on, a link to notes: a slip of the name) is refused at start and the file
 * left as it was (helper-69: it was replaced by the model, unsaid); so is
 * one named as its checkpoint (helper-70: deleted once the model was
 * written); an empty file (mktemp's) is written over. */
GST_START_TEST (test_other_files_not_replaced)
{
  const gchar footage[] = "RIFF\x10\0\0\0AVI LIST";
  gchar *avi = g_build_filename (dir, "footage.avi", NULL);
  gchar *notes = g_build_filename (dir, "notes.txt", NULL);
  gchar *link = g_build_filename (dir, "link.dcnt", NULL);
  gchar *empty = g_build_filename (dir, "empty.dcnt", NULL);
  gchar *ck = g_build_filename (dir, "ck.dcnt", NULL);
  gchar *ck_notes = g_build_filename (dir, "ck.dcnt.checkpoint", NULL);
  fail_unless (g_file_set_contents (ck_notes, "notes", -1, NULL));
  fail_unless (g_file_set_contents (avi, footage, sizeof footage, NULL));
  fail_unless (g_file_set_contents (notes, "notes", -1, NULL));
  fail_unless (symlink ("notes.txt", link) == 0);
  fail_unless (g_file_set_contents (empty, "", 0, NULL));
  const gchar *paths[] = { avi, link, ck, empty };
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++) {
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=20 ! video/x-raw,width=32,height=32 "
        "! decent-train min-steps=0 model-location=\"%s\" width=16 height=16 channels=1 "
        "epochs=1 companion=false", paths[i]);
    RunResult r;
    run_pipeline (desc, paths[i], &r);
    if (i < 3) {
      const gchar *said[] = { "footage.avi holds something other than a gst-decent model",
        "notes.txt holds something other than a gst-decent model",
        "ck.dcnt.checkpoint holds something other than a gst-decent model" };
      fail_unless (r.error && strstr (r.error, "Could not write the model file")
          && strstr (r.error, said[i]) && strstr (r.error, "left as it is"), "%s", r.error);
    } else {
      fail_unless (r.error == NULL && r.written_before_eos, "%s", r.error);
    }
    g_free (r.error);
      g_free (desc);
  }
  gchar *data = NULL;
  gsize len = 0;
  fail_unless (g_file_get_contents (avi, &data, &len, NULL));
  fail_unless (len == sizeof footage && memcmp (data, footage, len) == 0, "the footage changed");
  g_free (data);
  fail_unless (g_file_get_contents (notes, &data, NULL, NULL));
  fail_unless_equals_string (data, "notes");
  g_free (data);
  fail_unless (g_file_test (link, G_FILE_TEST_IS_SYMLINK));
  fail_unless (g_file_get_contents (ck_notes, &data, NULL, NULL));
  fail_unless_equals_string (data, "notes");
  g_free (data);
  fail_if (g_file_test (ck, G_FILE_TEST_EXISTS));
  DecentModel *m = load_model (empty, NULL, NULL);
  decent_model_free (m);
  g_free (avi);
  g_free (notes);
  g_free (link);
  g_free (empty);
  g_free (ck);
  g_free (ck_notes);
}
GST_END_TEST;

/* At the fifth buffer, puts notes under the checkpoint's and the finished
 * model's names (data: the model's path). */
static GstPadProbeReturn
notes_beside (GstPad *pad, GstPadProbeInfo *info, gpointer model)
{
  static guint seen;
  if (++seen == 5) {
    gchar *ck = g_strconcat (model, ".checkpoint", NULL);
    gchar *fin = g_strconcat (model, ".finished", NULL);
    fail_unless (g_file_set_contents (ck, "notes", -1, NULL)
        && g_file_set_contents (fin, "notes", -1, NULL));
    g_free (ck);
    g_free (fin);
  }
  return GST_PAD_PROBE_OK;
}

/* A file of something else put under the checkpoint's or the finished
 * model's name while the run collects is left as it is at the end, said
 * (helper-71: deleted once the model was written, unsaid). */
GST_START_TEST (test_leftover_names_taken_meanwhile)
{
  gchar *model = g_build_filename (dir, "meanwhile.dcnt", NULL);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=20 ! video/x-raw,width=32,height=32 "
      "! decent-train name=t min-steps=0 model-location=\"%s\" width=16 height=16 channels=1 "
      "epochs=1 companion=false checkpoint=false", model);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstElement *train = gst_bin_get_by_name (GST_BIN (pipe), "t");
  GstPad *pad = gst_element_get_static_pad (train, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, notes_beside, model, NULL);
  gst_object_unref (pad);
  gst_object_unref (train);
  RunResult r;
  run_pipeline_of (pipe, model, &r);
  fail_unless (r.error == NULL && r.written_before_eos, "%s", r.error);
  fail_unless (strstr (r.warning, "A file beside the model was left as it is")
      && strstr (r.warning, "meanwhile.dcnt.checkpoint holds something other"), "%s",
      r.warning);
  for (guint k = 0; k < 2; k++) {
    gchar *path = g_strconcat (model, k ? ".finished" : ".checkpoint", NULL), *data = NULL;
    fail_unless (g_file_get_contents (path, &data, NULL, NULL), "%s went", path);
    fail_unless_equals_string (data, "notes");
    g_free (data);
    g_free (path);
  }
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* Gives every other buffer a GstVideoMeta whose rows are 4 times longer
 * than the buffer holds (counted in *count). */
static GstPadProbeReturn
lying_meta (GstPad *pad, GstPadProbeInfo *info, gpointer count)
{
  if ((*(guint *) count)++ % 2 == 0)
    return GST_PAD_PROBE_OK;
  GstBuffer *buffer = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GstVideoMeta *old = gst_buffer_get_video_meta (buffer);
  if (old)
    gst_buffer_remove_meta (buffer, (GstMeta *) old);
  gsize offsets[GST_VIDEO_MAX_PLANES] = { 0 };
  gint strides[GST_VIDEO_MAX_PLANES] = { 4 * 32 };
  gst_buffer_add_video_meta_full (buffer, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_GRAY8, 32,
      32, 1, offsets, strides);
  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  return GST_PAD_PROBE_OK;
}

/* A buffer whose GstVideoMeta describes memory it does not have is skipped,
 * said once, and the others train (it was mapped as the meta said and read
 * past the buffer: helper-69). */
GST_START_TEST (test_lying_video_meta_skipped)
{
  gchar *model = g_strdup_printf ("%s/lying-meta.dcnt", dir);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=100 ! "
      "video/x-raw,format=GRAY8,width=32,height=32 ! decent-train name=t min-steps=0 "
      "model-location=\"%s\" width=16 height=16 channels=1 epochs=1 companion=false "
      "holdout=0.2", model);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL);
  GstElement *train = gst_bin_get_by_name (GST_BIN (pipe), "t");
  GstPad *pad = gst_element_get_static_pad (train, "sink");
  guint count = 0;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, lying_meta, &count, NULL);
  gst_object_unref (pad);
  gst_object_unref (train);
  RunResult r;
  run_pipeline_of (pipe, model, &r);
  fail_unless (r.error == NULL && r.eos && r.written_before_eos, "%s", r.error);
  fail_unless (strstr (r.warning, "Could not read a video frame")
      && strstr (r.warning, "the buffer's video meta puts plane 0 of GRAY8 32x32 at offset 0 "
          "with rows of 128 bytes"), "%s", r.warning);
  DecentCalibration cal;
  DecentModel *m = load_model (model, NULL, &cal);
  fail_unless_equals_int (cal.count, 10); /* 50 frames collected, 20 % held out */
  decent_model_free (m);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* An error while collecting (here caps that turn interlaced) ends the run:
 * the end of the stream that the source still sends after its flow error
 * trains nothing and leaves the model file as it was (helper-66: it trained
 * on the frames before the error and replaced the file). */
GST_START_TEST (test_error_while_collecting_trains_nothing)
{
  gchar *model = marker ("interlaced.dcnt");
  gchar *desc = g_strdup_printf ("appsrc name=src format=time caps=\"%s\" ! decent-train "
      "model-location=\"%s\" width=16 height=16 channels=1 latent-side=6 companion=false "
      "epochs=1 min-steps=0", GRAY_CAPS, model);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (guint i = 0; i < 30; i++)
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), gray_frame (TRUE, i)),
        GST_FLOW_OK);
  GstCaps *interlaced = gst_caps_from_string (GRAY_CAPS ",interlace-mode=mixed");
  gst_app_src_set_caps (GST_APP_SRC (src), interlaced);
  gst_caps_unref (interlaced);
  /* appsrc sends the refused caps again before each buffer: one error says it */
  for (guint i = 30; i < 33; i++)
    gst_app_src_push_buffer (GST_APP_SRC (src), gray_frame (TRUE, i));
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  GstBus *bus = gst_element_get_bus (pipe);
  gchar *error = NULL;
  guint interlaced_errors = 0;
  gboolean written = FALSE, eos = FALSE;
  /* after the error, long enough for 30 frames of 16x16 to train */
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, (error ? 5 : 120) * GST_SECOND);
    if (!msg) {
      fail_unless (error != NULL, "timed out");
      break;
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      gchar *text = message_text (msg);
      interlaced_errors += strstr (text, "Interlaced") != NULL;
      if (!error)
        error = text;
      else
        g_free (text);
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS)
      eos = TRUE;
    else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      const gchar *status = gst_structure_get_string (gst_message_get_structure (msg), "status");
      written |= status && g_str_equal (status, "written");
    }
    gst_message_unref (msg);
    if (eos)
      break;
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  fail_unless (error && strstr (error, "Interlaced"), "%s", error);
  fail_unless_equals_int (interlaced_errors, 1);
  fail_if (written || eos, "trained after the error (written %d, EOS %d)", written, eos);
  assert_marker (model);
  g_free (error);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_unwritable_location)
{
  gchar *model = marker ("existing.dcnt");
  if (geteuid () != 0) {
    gchar *cmd = g_strdup_printf ("chmod a-w '%s'", dir);
    fail_unless (system (cmd) == 0);
    g_free (cmd);
  }
  /* as root a read-only folder is writable: a missing folder fails for everyone */
  gchar *target = geteuid () != 0 ? g_strdup (model) : g_build_filename (dir, "no", "m.dcnt", NULL);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=20 ! video/x-raw,width=32,height=32 "
      "! decent-train min-steps=0 model-location=\"%s\" width=16 height=16 channels=1 epochs=1", target);
  RunResult r;
  run_pipeline (desc, NULL, &r);
  fail_unless (r.error && strstr (r.error, "Could not write") && strstr (r.error, target), "%s",
      r.error);
  /* found at start, not after collecting and training */
  fail_unless_equals_int (r.progress_start, 0);
  assert_marker (model);
  g_free (r.error);
  g_free (desc);
  g_free (target);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_properties)
{
  GstElement *e = gst_element_factory_make ("decent-train", NULL);
  fail_unless (e != NULL);
  gint w, h, c, latent, cw, ch;
  guint epochs, min_steps;
  gdouble lambda, holdout, surround;
  gboolean companion;
  g_object_get (e, "width", &w, "height", &h, "channels", &c, "epochs", &epochs, "lambda",
      &lambda, "latent-side", &latent, "min-steps", &min_steps, "holdout", &holdout,
      "companion", &companion, "companion-width", &cw, "companion-height", &ch,
      "local-surround", &surround, NULL);
  /* the video defaults of docs/method.md */
  fail_unless (w == 192 && h == 144 && c == 3 && epochs == 0 && lambda == 0.0 && latent == 9
      && min_steps == 500 && fabs (holdout - 0.2) < 1e-12 && companion && cw == 0 && ch == 0
      && surround == 0.5);
  gst_object_unref (e);
}
GST_END_TEST;


/* Runs appsrc (16x16 GRAY8, n frames: grey, or noise from frame `noise_from`
 * on) ! decent-train <props> to the end; returns the warnings ("message |
 * debug", one per line) and counts the training messages, those with a
 * held-out loss and those with collapse measures in their ranges. */
typedef struct {
  gchar *error;
  GString *warnings;
  guint training, with_held_out, with_collapse;
  guint companion_epochs; /* training messages of the companion model */
  gboolean companion;     /* the written (or calibrated) message says it has one */
  gdouble last_spread;
  gchar *status;
} AppRun;

/* TRUE: each noise frame its own noise (default: the same one every time) */
static gboolean varied_noise;
/* from this frame on, the caps say 15 frames/s instead of 30 */
static guint half_rate_from = G_MAXUINT;
/* other caps than GRAY_CAPS (NULL: those), and other timestamps than
 * gray_frame's 1/30 s apart (0: those) */
static const gchar *app_caps;
static GstClockTime app_step;
/* called once with the decent-train element after this many frames are
 * pushed (G_MAXUINT: never) */
static guint poke_at = G_MAXUINT;
static void (*poke) (GstElement *train);

static GstBuffer *
app_frame (gboolean noisy, guint i)
{
  GstBuffer *b = gray_frame (noisy, i);
  if (app_step) {
    GST_BUFFER_PTS (b) = i * app_step;
    GST_BUFFER_DURATION (b) = app_step;
  }
  if (noisy && varied_noise) {
    GstMapInfo map;
    gst_buffer_map (b, &map, GST_MAP_WRITE);
    fill_noise (map.data, map.size, i + 1);
    gst_buffer_unmap (b, &map);
  }
  return b;
}

static void
run_appsrc (const gchar *model, const gchar *props, guint n, guint noise_from, AppRun *r)
{
  memset (r, 0, sizeof *r);
  r->warnings = g_string_new (NULL);
  /* one model with the latent of 8x6 cells (what these tests were written
   * for), unless the test is about the companion */
  gchar *desc = g_strdup_printf ("appsrc name=src format=time caps=\"%s\" ! "
      "decent-train name=train model-location=\"%s\" width=16 height=16 channels=1 latent-side=6 "
      "%s %s",
      app_caps ? app_caps : GRAY_CAPS, model, strstr (props, "companion") ? "" : "companion=false",
      props);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  fail_unless (pipe != NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (guint i = 0; i < n; i++) {
    if (i == half_rate_from) {
      GstCaps *slower = gst_caps_from_string (
          "video/x-raw,format=GRAY8,width=16,height=16,framerate=15/1");
      gst_app_src_set_caps (GST_APP_SRC (src), slower);
      gst_caps_unref (slower);
    }
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src),
        app_frame (i >= noise_from, i)), GST_FLOW_OK);
    if (i + 1 == poke_at) {
      GstElement *train = gst_bin_get_by_name (GST_BIN (pipe), "train");
      poke (train);
      gst_object_unref (train);
    }
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  GstBus *bus = gst_element_get_bus (pipe);
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, 120 * GST_SECOND);
    fail_unless (msg != NULL, "timed out");
    const GstMessageType type = GST_MESSAGE_TYPE (msg);
    if (type == GST_MESSAGE_WARNING || type == GST_MESSAGE_ERROR) {
      gchar *text = message_text (msg);
      if (type == GST_MESSAGE_ERROR)
        r->error = text;
      else {
        g_string_append_printf (r->warnings, "%s\n", text);
        g_free (text);
      }
    } else if (type == GST_MESSAGE_ELEMENT) {
      const GstStructure *st = gst_message_get_structure (msg);
      const gchar *status = gst_structure_get_string (st, "status");
      if (gst_structure_has_name (st, "decent-train") && status) {
        if (g_str_equal (status, "training")) {
          r->training++;
          r->companion_epochs += g_strcmp0 (gst_structure_get_string (st, "model"),
              "companion") == 0;
          r->with_held_out += gst_structure_has_field (st, "held-out-loss");
          gdouble spread, saturated;
          gint patterns;
          if (gst_structure_get (st, "reconstruction-spread", G_TYPE_DOUBLE, &spread,
                  "saturated-codes", G_TYPE_DOUBLE, &saturated, "sign-patterns", G_TYPE_INT,
                  &patterns, NULL)) {
            r->with_collapse += spread >= 0 && saturated >= 0 && saturated <= 1
                && patterns >= 1;
            r->last_spread = spread;
          }
        } else {
          g_free (r->status);
          r->status = g_strdup (status);
          gst_structure_get_boolean (st, "companion", &r->companion);
        }
      }
    }
    const gboolean done = type == GST_MESSAGE_EOS || type == GST_MESSAGE_ERROR;
    gst_message_unref (msg);
    if (done)
      break;
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (pipe);
}

static void
app_run_clear (AppRun *r)
{
  g_free (r->error);
  g_free (r->status);
  g_string_free (r->warnings, TRUE);
}

static DecentCalibration
calibration_of (const gchar *model, DecentScoreMode mode, DecentInfo *info)
{
  DecentCalibration cal;
  DecentModel *m = load_model (model, info, NULL);
  decent_model_get_mode_calibration (m, mode, &cal);
  decent_model_free (m);
  return cal;
}

/* Held-out footage is contiguous: with one block it is the end of the
 * footage (here: the noise), with two blocks half of it comes from the
 * middle (grey).  Never every k-th frame. */
GST_START_TEST (test_held_out_blocks)
{
  gchar *model = g_build_filename (dir, "blocks.dcnt", NULL);
  AppRun r;
  run_appsrc (model, "epochs=2 min-steps=0 holdout=0.2 threshold-sigmas=0", 50, 40, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  const DecentCalibration tail = calibration_of (model, DECENT_SCORE_MEAN, NULL);
  app_run_clear (&r);
  run_appsrc (model, "epochs=2 min-steps=0 holdout=0.2 holdout-blocks=2 threshold-sigmas=0",
      50, 40, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  const DecentCalibration two = calibration_of (model, DECENT_SCORE_MEAN, NULL);
  /* 10 held-out frames vouch for no rarer false alarm than 1 in 11 */
  const DecentCalibration local = calibration_of (model, DECENT_SCORE_LOCAL, NULL);
  fail_unless (local.count == 10 && local.false_alarm_rate >= 1.0f / 11 - 1e-6f,
      "%u frames: expected rate %g", local.count, local.false_alarm_rate);
  fail_unless (strstr (r.warnings->str, "Calibrated on few frames")
      && strstr (r.warnings->str, "1 frame in 11"), "%s", r.warnings->str);
  app_run_clear (&r);
  GST_INFO ("one block: min %g max %g; two blocks: min %g max %g", tail.min, tail.max,
      two.min, two.max);
  fail_unless (tail.count == 10 && two.count == 10);
  /* one block: only noise frames; two: grey ones too, which score far lower */
  fail_unless (tail.min > 2 * two.min, "held-out minimum %g (one block) and %g (two)",
      tail.min, two.min);
  fail_unless (fabs (two.max - tail.max) < 0.5 * tail.max, "both hold noise: %g, %g",
      tail.max, two.max);
  g_free (model);
}
GST_END_TEST;

/* 100 held-out frames can vouch for a rate under 1 %: no warning, and the
 * written rate is (frames above + 1) / 101 */
GST_START_TEST (test_enough_calibration_frames)
{
  gchar *model = g_build_filename (dir, "enough.dcnt", NULL);
  AppRun r;
  varied_noise = TRUE;
  run_appsrc (model, "epochs=1 min-steps=0 holdout=0.2 threshold-sigmas=0", 500, 0, &r);
  varied_noise = FALSE;
  fail_unless (r.error == NULL, "%s", r.error);
  fail_if (strstr (r.warnings->str, "Calibrated on few frames"), "%s", r.warnings->str);
  const DecentCalibration local = calibration_of (model, DECENT_SCORE_LOCAL, NULL);
  /* the 0.995 quantile of 100 different scores lies between the two
   * highest: 1 frame above it, (1 + 1) / 101, or the normal law's tail
   * above it when that is more */
  const double tail = 0.5 * erfc ((local.threshold - local.mean) / local.stddev / sqrt (2.0));
  const double rate = local.false_alarm_rate;
  fail_unless (local.count == 100 && local.max > local.threshold
      && fabs (rate - fmax (tail, 2.0 / 101)) < 1e-5, "%u frames: rate %g (normal tail %g)",
      local.count, rate, tail);
  app_run_clear (&r);
  g_free (model);
}
GST_END_TEST;

/* Steps as well as epochs: min-steps adds epochs; epochs=0 stops by itself
 * once the held-out error stops falling; every epoch reports the held-out
 * error; too few steps are said. */
GST_START_TEST (test_training_budget)
{
  gchar *model = g_build_filename (dir, "budget.dcnt", NULL);
  AppRun r;
  DecentInfo info;
  /* 16 training frames in batches of 16: one step an epoch */
  run_appsrc (model, "epochs=2 min-steps=25 batch-size=16", 20, 1000, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  calibration_of (model, DECENT_SCORE_MEAN, &info);
  fail_unless (info.epochs == 25 && info.steps == 25, "%u epochs, %u steps", info.epochs,
      (guint) info.steps);
  fail_unless (r.training == 25 && r.with_held_out == 25, "%u messages, %u with held-out loss",
      r.training, r.with_held_out);
  fail_if (strstr (r.warnings->str, "barely trained") == NULL, "%s", r.warnings->str);
  app_run_clear (&r);

  run_appsrc (model, "epochs=0 patience=3 min-steps=0 batch-size=16", 20, 1000, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  calibration_of (model, DECENT_SCORE_MEAN, &info);
  fail_unless (info.epochs >= 4 && info.epochs < 1000, "stopped after %u epochs", info.epochs);
  fail_unless (r.training == info.epochs && r.with_held_out == info.epochs);
  app_run_clear (&r);

  /* two epochs of a fresh model: its held-out error is still falling */
  run_appsrc (model, "epochs=2 min-steps=0 batch-size=4", 20, 1000, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (strstr (r.warnings->str, "still falling") != NULL, "%s", r.warnings->str);
  app_run_clear (&r);

  /* epochs=0 needs held-out frames */
  run_appsrc (model, "epochs=0 holdout=0", 20, 1000, &r);
  fail_unless (r.error && strstr (r.error, "held-out"), "%s", r.error);
  app_run_clear (&r);
  g_free (model);
}
GST_END_TEST;

/* augment-zoom trains on other frames than the footage (a run with it
 * differs from the same run without, which repeats exactly); the held-out
 * frames are scored as they are. */
GST_START_TEST (test_augment_zoom)
{
  gchar *model = g_build_filename (dir, "zoom.dcnt", NULL);
  const gchar *props[] = { "epochs=2 min-steps=0 batch-size=4",
    "epochs=2 min-steps=0 batch-size=4", "epochs=2 min-steps=0 batch-size=4 augment-zoom=3" };
  gdouble mean[3];
  varied_noise = TRUE;
  for (int i = 0; i < 3; i++) {
    AppRun r;
    DecentInfo info;
    run_appsrc (model, props[i], 24, 0, &r);
    fail_unless (r.error == NULL, "%s: %s", props[i], r.error);
    fail_unless (r.training == 2, "%s: %u epoch messages", props[i], r.training);
    mean[i] = calibration_of (model, DECENT_SCORE_MEAN, &info).mean;
    app_run_clear (&r);
  }
  varied_noise = FALSE;
  fail_unless (mean[0] == mean[1], "the same run twice: held-out mean %g, then %g", mean[0],
      mean[1]);
  fail_unless (mean[2] != mean[0], "augment-zoom=3 changed nothing (held-out mean %g)", mean[2]);
  GstElement *e = gst_element_factory_make ("decent-train", NULL);
  gdouble zoom;
  g_object_get (e, "augment-zoom", &zoom, NULL);
  fail_unless (zoom == 1.0, "augment-zoom defaults to %g", zoom);
  gst_object_unref (e);
  g_free (model);
}
GST_END_TEST;

/* Every epoch posts the collapse measures (their values on a plain model
 * are test_collapse's); a model whose reconstructions do not depend on the
 * input (made so by DECENT_FAULT_COLLAPSE) is warned about. */
GST_START_TEST (test_collapse_measures)
{
  gchar *model = g_build_filename (dir, "collapse.dcnt", NULL);
  AppRun r;
  varied_noise = TRUE; /* measures need frames that differ */
  run_appsrc (model, "epochs=3 min-steps=0 batch-size=8", 40, 10, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (r.training == 3 && r.with_collapse == 3, "%u messages, %u with collapse measures",
      r.training, r.with_collapse);
  app_run_clear (&r);

  g_setenv ("DECENT_FAULT_COLLAPSE", "1", TRUE);
  run_appsrc (model, "epochs=2 min-steps=0 batch-size=8", 40, 10, &r);
  g_unsetenv ("DECENT_FAULT_COLLAPSE");
  varied_noise = FALSE;
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (r.with_collapse == 2 && r.last_spread < 0.01, "%u, spread %g", r.with_collapse,
      r.last_spread);
  fail_unless (strstr (r.warnings->str, "The model has collapsed") != NULL
      && strstr (r.warnings->str, "1 sign patterns") != NULL, "%s", r.warnings->str);
  app_run_clear (&r);
  g_free (model);
}
GST_END_TEST;

/* calibrate-only: another recording calibrates an existing model without
 * training it; a missing model is an error before any frame. */
GST_START_TEST (test_calibrate_only)
{
  gchar *model = g_build_filename (dir, "calib.dcnt", NULL);
  AppRun r;
  run_appsrc (model, "epochs=3 min-steps=0", 30, 1000, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  DecentInfo before, after;
  const DecentCalibration grey = calibration_of (model, DECENT_SCORE_LOCAL, &before);
  app_run_clear (&r);
  /* a noisy recording: every threshold rises, nothing is trained */
  run_appsrc (model, "calibrate-only=true width=64", 12, 0, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless_equals_string (r.status, "calibrated");
  fail_unless_equals_int (r.training, 0);
  const DecentCalibration noisy = calibration_of (model, DECENT_SCORE_LOCAL, &after);
  fail_unless (noisy.count == 12 && noisy.threshold > grey.threshold, "threshold %g -> %g",
      grey.threshold, noisy.threshold);
  fail_unless (after.steps == before.steps && after.width == 16, "the model was changed");
  /* 12 frames: calibrated, and said to be few; width=64 said not to be used */
  fail_unless (strstr (r.warnings->str, "Calibrated on few frames") != NULL, "%s",
      r.warnings->str);
  fail_unless (strstr (r.warnings->str, "calibrate-only calibrates the model at its own size")
      && strstr (r.warnings->str, "16x16x1 frames; width=64"), "%s", r.warnings->str);
  app_run_clear (&r);

  /* one frame is not a calibration: an error, the model as it was */
  run_appsrc (model, "calibrate-only=true", 1, 0, &r);
  fail_unless (r.error && strstr (r.error, "Too few frames to calibrate on"), "%s", r.error);
  fail_unless (calibration_of (model, DECENT_SCORE_LOCAL, &after).threshold == noisy.threshold);
  app_run_clear (&r);
  /* 60 identical frames: enough of them, but no variation to learn from */
  run_appsrc (model, "calibrate-only=true", 60, 1000, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (strstr (r.warnings->str, "Every calibration frame scored the same") != NULL,
      "%s", r.warnings->str);
  /* (width, height and channels as the model's: nothing to say) */
  fail_if (strstr (r.warnings->str, "at its own size"), "%s", r.warnings->str);
  app_run_clear (&r);

  gchar *missing = g_build_filename (dir, "missing.dcnt", NULL);
  run_appsrc (missing, "calibrate-only=true", 3, 0, &r);
  fail_unless (r.error && strstr (r.error, "calibrate-only") && strstr (r.error, "missing.dcnt")
      && strstr (r.error, "train one first"), "%s", r.error);
  fail_if (g_file_test (missing, G_FILE_TEST_EXISTS));
  app_run_clear (&r);
  /* none, but a finished model waiting for its companion: named */
  gchar *waiting = g_strconcat (missing, ".finished", NULL);
  fail_unless (g_file_set_contents (waiting, "a model", -1, NULL));
  run_appsrc (missing, "calibrate-only=true", 3, 0, &r);
  fail_unless (r.error && strstr (r.error, "A finished model waits in")
      && strstr (r.error, "missing.dcnt.finished"), "%s", r.error);
  app_run_clear (&r);
  unlink (waiting);
  g_free (waiting);
  /* a file that is there but no model: its reason, not "train one first"
   * (found before anything is collected: it is no model to replace) */
  gchar *text = g_build_filename (dir, "notes.dcnt", NULL);
  fail_unless (g_file_set_contents (text, "not a model", -1, NULL));
  run_appsrc (text, "calibrate-only=true", 3, 0, &r);
  fail_unless (r.error && strstr (r.error, "notes.dcnt holds something other than a gst-decent "
      "model, and it was left as it is") && !strstr (r.error, "train one first"), "%s", r.error);
  app_run_clear (&r);
  unlink (text);
  g_free (text);
  g_free (missing);
  g_free (model);
}
GST_END_TEST;


/* Settings asked for while a run collects (or trains) are refused with a
 * warning, the value unchanged: the run trains and writes with the settings
 * it started with.  The same value again is no change and not said; once
 * stopped, a setting takes. */
static gchar *other_location;

static void
change_settings (GstElement *train)
{
  g_object_set (train, "epochs", 7, "model-location", other_location, "latent-side", 6, NULL);
  guint epochs;
  gchar *location;
  g_object_get (train, "epochs", &epochs, "model-location", &location, NULL);
  fail_unless_equals_int (epochs, 2);
  fail_if (g_str_equal (location, other_location), "model-location changed while collecting");
  g_free (location);
}

static void
count_notify (guint *count)
{
  (*count)++;
}

GST_START_TEST (test_settings_fixed_while_running)
{
  gchar *model = g_build_filename (dir, "fixed.dcnt", NULL);
  other_location = g_build_filename (dir, "elsewhere.dcnt", NULL);
  AppRun r;
  poke = change_settings;
  poke_at = 10;
  run_appsrc (model, "epochs=2 min-steps=0 holdout=0", 20, 1000, &r);
  poke_at = G_MAXUINT;
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless_equals_int (r.training, 2);
  fail_unless (g_file_test (model, G_FILE_TEST_IS_REGULAR), "not written where it started");
  fail_if (g_file_test (other_location, G_FILE_TEST_EXISTS), "written where it was asked later");
  gchar *shown = g_strdup_printf ("model-location stays \"%s\"", model);
  fail_unless (strstr (r.warnings->str, "settings cannot change until it stops; "
      "epochs stays 2") && strstr (r.warnings->str, shown), "%s", r.warnings->str);
  g_free (shown);
  fail_if (strstr (r.warnings->str, "latent-side"), "the same value was refused: %s",
      r.warnings->str);
  app_run_clear (&r);

  /* after the run, in READY, a setting takes (and is notified: a refused
   * one is not), and the next start checks the settings of then: a
   * location in no folder fails it; the failed start leaves them free */
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=20 ! video/x-raw,width=32,height=32 "
      "! decent-train name=t model-location=\"%s\" width=16 height=16 channels=1 epochs=1 "
      "min-steps=0 companion=false", model);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  GstElement *train = gst_bin_get_by_name (GST_BIN (pipe), "t");
  guint notified = 0;
  g_signal_connect_swapped (train, "notify::epochs", G_CALLBACK (count_notify), &notified);
  GstBus *bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  g_object_set (train, "epochs", 7, NULL); /* (trained, still PLAYING) */
  fail_unless_equals_int (notified, 0);
  gst_element_set_state (pipe, GST_STATE_READY);
  g_object_set (train, "epochs", 7, NULL);
  guint epochs;
  g_object_get (train, "epochs", &epochs, NULL);
  fail_unless_equals_int (epochs, 7);
  fail_unless_equals_int (notified, 1);
  gchar *nowhere = g_build_filename (dir, "no-such-folder", "m.dcnt", NULL);
  g_object_set (train, "model-location", nowhere, NULL);
  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  gchar *error = msg ? message_text (msg) : NULL;
  fail_unless (error && strstr (error, "no-such-folder"), "%s", error);
  g_free (error);
  gst_message_unref (msg);
  g_object_set (train, "epochs", 3, NULL);
  g_object_get (train, "epochs", &epochs, NULL);
  fail_unless_equals_int (epochs, 3);
  gst_element_set_state (pipe, GST_STATE_NULL);
  g_free (nowhere);
  gst_object_unref (bus);
  gst_object_unref (train);
  gst_object_unref (pipe);
  g_free (other_location);
  g_free (model);
}
GST_END_TEST;

/* The local-mode calibration of path's companion, with its geometry. */
static DecentCalibration
companion_calibration (const gchar *path, DecentConfig *cfg)
{
  DecentError err = { { 0 } };
  DecentModel *m = load_model (path, NULL, NULL);
  DecentModel *c = decent_model_companion_new (m, DECENT_DEVICE_CPU, &err);
  fail_unless (c != NULL, "%s", err.message);
  DecentCalibration cal;
  decent_model_get_mode_calibration (c, DECENT_SCORE_LOCAL, &cal);
  decent_model_get_config (c, cfg);
  decent_model_free (c);
  decent_model_free (m);
  return cal;
}

/* companion=true: after the model, a one-cell model of companion-width x
 * companion-height is trained on the same frames (its epochs said as the
 * companion's, its warnings too), calibrated on the same held-out block
 * and stored in the same file; calibrate-only calibrates both. */
GST_START_TEST (test_companion)
{
  gchar *model = g_build_filename (dir, "pair.dcnt", NULL);
  AppRun r;
  varied_noise = TRUE;
  run_appsrc (model, "epochs=2 min-steps=0 companion=true companion-width=8 "
      "companion-height=12", 40, 20, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless_equals_string (r.status, "written");
  fail_unless (r.companion && r.companion_epochs == 2 && r.training == 4,
      "companion %d, %u of %u training messages the companion's", r.companion,
      r.companion_epochs, r.training);
  fail_unless (strstr (r.warnings->str, "The companion model had only") != NULL, "%s",
      r.warnings->str);
  app_run_clear (&r);
  DecentConfig cfg;
  const DecentCalibration first = companion_calibration (model, &cfg);
  fail_unless (cfg.width == 8 && cfg.height == 12 && cfg.channels == 1 && cfg.latent_side == 0,
      "companion %dx%dx%d, latent side %d", cfg.width, cfg.height, cfg.channels,
      cfg.latent_side);
  fail_unless (first.count == 8 && first.threshold > 0, "%u frames, threshold %g", first.count,
      first.threshold);

  /* grey footage: both thresholds fall, nothing is trained, the pair stays */
  const DecentCalibration model_before = calibration_of (model, DECENT_SCORE_LOCAL, NULL);
  run_appsrc (model, "calibrate-only=true", 30, 1000, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (g_strcmp0 (r.status, "calibrated") == 0 && r.companion && r.training == 0);
  app_run_clear (&r);
  const DecentCalibration again = companion_calibration (model, &cfg);
  const DecentCalibration model_after = calibration_of (model, DECENT_SCORE_LOCAL, NULL);
  fail_unless (again.count == 30 && again.threshold < first.threshold,
      "companion: %u frames, threshold %g -> %g", again.count, first.threshold,
      again.threshold);
  fail_unless (model_after.count == 30 && model_after.threshold < model_before.threshold,
      "model: threshold %g -> %g", model_before.threshold, model_after.threshold);
  varied_noise = FALSE;

  /* a frame fits max-memory, it and its companion's copy do not: said at
   * once, the file as it was */
  run_appsrc (model, "companion=true companion-width=16 companion-height=16 max-memory=300",
      5, 1000, &r);
  fail_unless (r.error && strstr (r.error, "does not fit in max-memory")
      && strstr (r.error, "companion"), "%s", r.error);
  fail_unless (companion_calibration (model, &cfg).count == 30);
  app_run_clear (&r);
  g_free (model);
}
GST_END_TEST;

/* A checkpoint is looked at before any frame: one that resume=true cannot
 * use is an error then, not after the collection; resume=false says it
 * replaces it. */
/* local-surround goes into the model (and its local calibration), 0.5 by
 * default; 0 writes a model that scores each window by its mean. */
GST_START_TEST (test_local_surround_stored)
{
  const struct { const gchar *props; gfloat want; } runs[] = {
    { "epochs=1 min-steps=0", 0.5f }, { "epochs=1 min-steps=0 local-surround=0.25", 0.25f },
    { "epochs=1 min-steps=0 local-surround=0", 0.0f } };
  for (guint i = 0; i < G_N_ELEMENTS (runs); i++) {
    gchar *model = g_build_filename (dir, "surround.dcnt", NULL);
    AppRun r;
    run_appsrc (model, runs[i].props, 10, 1000, &r);
    fail_unless (r.error == NULL, "%s", r.error);
    app_run_clear (&r);
    DecentModel *m = load_model (model, NULL, NULL);
    DecentConfig cfg;
    decent_model_get_config (m, &cfg);
    decent_model_free (m);
    fail_unless (cfg.local_surround == runs[i].want, "%s: surround %g", runs[i].props,
        cfg.local_surround);
    if (runs[i].want == 0.0f) {
      /* calibrate-only keeps the model's, and says that the property is not used */
      run_appsrc (model, "calibrate-only=true", 10, 1000, &r);
      fail_unless (r.error == NULL, "%s", r.error);
      fail_unless (strstr (r.warnings->str, "local-surround is not used")
          && strstr (r.warnings->str, "local-surround=0, and local-surround=0.5"), "%s",
          r.warnings->str);
      app_run_clear (&r);
      m = load_model (model, NULL, NULL);
      decent_model_get_config (m, &cfg);
      decent_model_free (m);
      fail_unless (cfg.local_surround == 0.0f, "calibrated: surround %g", cfg.local_surround);
    }
    unlink (model);
    g_free (model);
  }
}
GST_END_TEST;

/* Resumed from a checkpoint of another surround, the model keeps the
 * checkpoint's (the resume warning names it) and its companion, trained
 * now, scores the same way (helper-88: it took the property's). */
GST_START_TEST (test_resumed_companion_scores_as_checkpoint)
{
  /* from a checkpoint (epochs left to train), then from a finished model
   * waiting for its companion (helper-89) */
  const struct { const gchar *suffix, *props, *warning; } from[] = {
    { ".checkpoint", "resume=true epochs=2 min-steps=0 companion=true companion-width=8 "
      "companion-height=8", "local-surround 0 (property: 0.5)" },
    { ".finished", "resume=true epochs=1 min-steps=0 companion=true companion-width=8 "
      "companion-height=8", "finished model's local score settings" } };
  gchar *model = g_build_filename (dir, "resumed.dcnt", NULL);
  for (guint k = 0; k < G_N_ELEMENTS (from); k++) {
    gchar *leftover = g_strconcat (model, from[k].suffix, NULL);
    AppRun r;
    unlink (model);
    run_appsrc (leftover, "epochs=1 min-steps=0 local-surround=0", 10, 1000, &r);
    fail_unless (r.error == NULL, "%s", r.error);
    app_run_clear (&r);
    run_appsrc (model, from[k].props, 10, 1000, &r);
    fail_unless (r.error == NULL, "%s", r.error);
    fail_unless (strstr (r.warnings->str, from[k].warning) != NULL, "%s", r.warnings->str);
    app_run_clear (&r);
    DecentError err = { { 0 } };
    DecentModel *m = load_model (model, NULL, NULL);
    DecentModel *c = decent_model_companion_new (m, DECENT_DEVICE_CPU, &err);
    fail_unless (c != NULL, "%s", err.message);
    DecentConfig a, b;
    decent_model_get_config (m, &a);
    decent_model_get_config (c, &b);
    fail_unless (a.local_surround == 0.0f && b.local_surround == 0.0f,
        "%s: model %g, companion %g", from[k].suffix, a.local_surround, b.local_surround);
    decent_model_free (c);
    decent_model_free (m);
    g_free (leftover);
  }
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_checkpoint_found_at_start)
{
  gchar *model = g_build_filename (dir, "ck.dcnt", NULL);
  gchar *checkpoint = g_strconcat (model, ".checkpoint", NULL);
  AppRun r;
  /* a 24x24 "checkpoint" for a 16x16 run, then a corrupt one */
  gchar *other = g_build_filename (dir, "other.dcnt", NULL);
  run_appsrc (other, "epochs=1 min-steps=0", 10, 1000, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  app_run_clear (&r);
  DecentError err;
  DecentModel *m = load_model (other, NULL, NULL);
  DecentConfig cfg;
  decent_model_get_config (m, &cfg);
  decent_model_free (m);
  cfg.width = cfg.height = 24;
  m = decent_model_new (&cfg, &err);
  fail_unless (m && decent_model_save (m, checkpoint, &err) == 0, "%s", err.message);
  decent_model_free (m);
  run_appsrc (model, "resume=true epochs=1 min-steps=0", 10, 1000, &r);
  fail_unless (r.error && strstr (r.error, "Cannot resume") && strstr (r.error, "24x24x1")
      && strstr (r.error, "found at start"), "%s", r.error);
  fail_unless_equals_int (r.training, 0);
  app_run_clear (&r);
  /* a damaged checkpoint (the magic, then nothing a model has) */
  fail_unless (g_file_set_contents (checkpoint, "DECENTAE and no model", -1, NULL));
  run_appsrc (model, "resume=true epochs=1 min-steps=0", 10, 1000, &r);
  fail_unless (r.error && strstr (r.error, "Cannot resume") && strstr (r.error, "checkpoint"),
      "%s", r.error);
  app_run_clear (&r);
  /* a file of something else under the checkpoint's name is not ours to
   * replace or delete (helper-70), with or without resume */
  fail_unless (g_file_set_contents (checkpoint, "not a model", -1, NULL));
  for (gint resume = 0; resume < 2; resume++) {
    run_appsrc (model, resume ? "resume=true epochs=1 min-steps=0" : "epochs=1 min-steps=0", 10,
        1000, &r);
    fail_unless (r.error && strstr (r.error, "holds something other than a gst-decent model"),
        "%s", r.error);
    app_run_clear (&r);
  }
  fail_unless (g_file_set_contents (checkpoint, "DECENTAE and no model", -1, NULL));
  /* resume=false: trained anew, and said */
  run_appsrc (model, "epochs=1 min-steps=0", 10, 1000, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (strstr (r.warnings->str, "checkpoint exists") != NULL, "%s", r.warnings->str);
  app_run_clear (&r);
  g_free (other);
  g_free (checkpoint);
  g_free (model);
}
GST_END_TEST;

/* calibrate-only collects frames at the size of the model it found at
 * start; if that file is replaced by another geometry before the end of the
 * stream, the run fails and the new file is left alone. */
GST_START_TEST (test_calibrate_only_model_replaced)
{
  gchar *model = g_build_filename (dir, "swap.dcnt", NULL);
  AppRun r;
  run_appsrc (model, "epochs=1 min-steps=0", 10, 1000, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  app_run_clear (&r);
  gchar *desc = g_strdup_printf ("appsrc name=src format=time caps=\"" GRAY_CAPS "\" ! "
      "decent-train model-location=\"%s\" calibrate-only=true", model);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  /* width, height and channels were left unset: nothing to say of them,
   * although the model (16x16x1) is not decent-train's default size */
  GstBus *early = gst_element_get_bus (pipe);
  GstMessage *w = gst_bus_pop_filtered (early, GST_MESSAGE_WARNING);
  while (w) {
    gchar *text = message_text (w);
    fail_if (strstr (text, "at its own size"), "%s", text);
    g_free (text);
    gst_message_unref (w);
    w = gst_bus_pop_filtered (early, GST_MESSAGE_WARNING);
  }
  gst_object_unref (early);
  for (guint i = 0; i < 6; i++)
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), gray_frame (FALSE, i)),
        GST_FLOW_OK);
  /* another model takes the file's place: 32x32 */
  DecentConfig cfg;
  DecentError err;
  decent_config_init (&cfg, 32, 32, 1);
  cfg.base_channels = 4;
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *m = decent_model_new (&cfg, &err);
  fail_unless (m && decent_model_save (m, model, &err) == 0, "%s", err.message);
  decent_model_free (m);
  gchar *before;
  gsize before_len;
  fail_unless (g_file_get_contents (model, &before, &before_len, NULL));
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR, "no error");
  GError *e;
  gchar *dbg;
  gst_message_parse_error (msg, &e, &dbg);
  fail_unless (strstr (dbg, "32x32x1") && strstr (dbg, "model changed"), "%s", dbg);
  g_error_free (e);
  g_free (dbg);
  gst_message_unref (msg);
  gchar *after;
  gsize after_len;
  fail_unless (g_file_get_contents (model, &after, &after_len, NULL));
  fail_unless (after_len == before_len && memcmp (before, after, after_len) == 0,
      "the replacement was written over");
  g_free (before);
  g_free (after);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (pipe);
  g_free (model);
}
GST_END_TEST;

/* still-lag calibrates the still gate on the held-out blocks, each with a
 * history of its own; still-lag=0 writes none; held-out footage too short
 * for the lag is a warning, and the model is written without a gate. */
GST_START_TEST (test_still_gate_calibration)
{
  gchar *model = g_build_filename (dir, "still.dcnt", NULL);
  /* the stream is 30 frames/s: the gate records the time between the
   * frames it was calibrated on, frame-stride of them */
  const struct { const gchar *props; gint count; gboolean warned; gint lag; float seconds; }
  runs[] = {
    { "still-lag=4", 10 - 4, FALSE, 4, 1.0f / 30 },
    { "still-lag=4 holdout-blocks=2", 10 - 2 * 4, FALSE, 4, 1.0f / 30 },
    { "still-lag=0", -1, FALSE, 0, 0 },
    { "still-lag=10", -1, TRUE, 0, 0 },
    { "still-lag=2 frame-stride=2", 5 - 2, FALSE, 2, 2.0f / 30 },
  };
  for (guint k = 0; k < G_N_ELEMENTS (runs); k++) {
    gchar *props = g_strdup_printf ("epochs=2 min-steps=0 holdout=0.2 still-tolerance=6 "
        "still-memory=50 %s", runs[k].props);
    AppRun r;
    varied_noise = TRUE;
    run_appsrc (model, props, 50, 25, &r);
    varied_noise = FALSE;
    g_free (props);
    fail_unless (r.error == NULL, "%s", r.error);
    fail_unless (r.status && g_str_equal (r.status, "written"), "%s: %s", runs[k].props,
        r.status);
    fail_unless (runs[k].warned == (strstr (r.warnings->str, "still gate was not calibrated")
        != NULL), "%s: %s", runs[k].props, r.warnings->str);
    DecentModel *m = load_model (model, NULL, NULL);
    DecentStillSettings st;
    DecentCalibration cal;
    const int has = decent_model_get_still (m, &st, &cal);
    decent_model_free (m);
    if (runs[k].count < 0) {
      fail_unless (has == 0, "%s: a still gate", runs[k].props);
    } else {
      fail_unless (has == 1 && (gint) cal.count == runs[k].count && cal.threshold > 0,
          "%s: gate %d, %u frames, threshold %g", runs[k].props, has, cal.count, cal.threshold);
      fail_unless (st.lag == runs[k].lag && st.tolerance == 6.0f && st.memory == 50.0f
          && st.smooth == 5 && fabsf (st.frame_seconds - runs[k].seconds) < 1e-6f,
          "%s: lag %d, %g s between frames", runs[k].props, st.lag, st.frame_seconds);
    }
    app_run_clear (&r);
  }
  g_free (model);
}
GST_END_TEST;

/* Three recordings in a row (concat): the still gate is calibrated on runs
 * of footage cut where each recording began, as decentanomaly's gate
 * forgets its history at a stream-start (before, the jump from one
 * recording to the next was calibrated as normal change).  60 frames,
 * streams from frames 20 and 40, still-lag=5: held out (holdout=0.5) are
 * frames 30-59, runs of 10 and 20, 5 + 15 gated frames (25 uncut); with
 * nothing held out, runs of 20, 20, 20: 45 (55 uncut). */
GST_START_TEST (test_still_gate_cut_at_stream_start)
{
  gchar *model = g_build_filename (dir, "concat.dcnt", NULL);
  const struct { const gchar *props; guint count; } runs[] = {
    { "holdout=0.5", 5 + 15 },
    { "holdout=0", 15 + 15 + 15 },
    /* collected frames 0-29, streams from 10 and 20: 5 + 5 + 5 (25 uncut) */
    { "holdout=0 frame-stride=2", 5 + 5 + 5 },
    /* blocks 15-29 (cut at 20) and 45-59: 0 + 5 + 10 (20 uncut) */
    { "holdout=0.5 holdout-blocks=2", 5 + 10 },
    /* blocks 10-19, 30-39, 50-59, each ending where a stream begins: 15 */
    { "holdout=0.5 holdout-blocks=3", 5 + 5 + 5 },
    /* frames 0-29 kept, a stream from 20; the third begins past them */
    { "holdout=0 max-frames=30", 15 + 5 },
    /* the model written above, calibrated again on the 60 frames */
    { "calibrate-only=true", 15 + 15 + 15 },
  };
  for (guint k = 0; k < G_N_ELEMENTS (runs); k++) {
    GString *desc = g_string_new (NULL);
    g_string_append_printf (desc, "concat name=c ! decent-train model-location=\"%s\" "
        "width=32 height=32 channels=1 epochs=1 min-steps=0 companion=false still-lag=5 %s",
        model, runs[k].props);
    for (guint i = 0; i < 3; i++)
      g_string_append_printf (desc, " videotestsrc num-buffers=20 pattern=snow ! "
          "video/x-raw,format=GRAY8,width=32,height=32,framerate=30/1 ! c.");
    RunResult r;
    run_pipeline (desc->str, model, &r);
    fail_unless (r.error == NULL, "%s: %s", runs[k].props, r.error);
    /* (calibrate-only says "calibrated", not "written") */
    fail_unless (r.eos && (r.written_before_eos || strstr (runs[k].props, "calibrate-only")),
        "%s: not written", runs[k].props);
    DecentModel *m = load_model (model, NULL, NULL);
    DecentCalibration cal;
    fail_unless (decent_model_get_still (m, NULL, &cal) == 1, "%s: no still gate",
        runs[k].props);
    fail_unless (cal.count == runs[k].count, "%s: the gate calibrated on %u frames, not %u",
        runs[k].props, cal.count, runs[k].count);
    decent_model_free (m);
    g_free (r.error);
    g_string_free (desc, TRUE);
  }
  g_free (model);
}
GST_END_TEST;

/* The still gate's running mean starts again at a stream-start in the
 * calibration, as decentanomaly's gate does: the recordings ball, smpte,
 * ball (streams from frames 20 and 40; a short still-memory, so that the
 * mean of the still smpte picture is far from where the gate begins) give
 * the model the calibration of the engine's, told which runs begin
 * streams, computed here on the same frames (a tee writes them); going on
 * with the mean would calibrate the third recording over the smpte
 * picture's mean.  Held out in two blocks, frames 15-29 and 45-59: the
 * stream from 20 begins a run, and the one from 40, in the training frames
 * between the blocks, begins the second block.  Two recordings of 30
 * frames (smpte, ball) in two blocks: the stream from 30 begins right
 * after the first block ends (helper-59: it was missed there). */
GST_START_TEST (test_still_gate_mean_starts_again_at_stream_start)
{
  gchar *model = g_build_filename (dir, "streams.dcnt", NULL);
  gchar *raw = g_build_filename (dir, "streams.gray", NULL);
  const struct {
    const gchar *props;
    guint recordings, frames;
    guint n_runs;
    int first[3], runs[3];
    guint8 starts[3];
    guint count;
  } rows[] = {
    { "holdout=0", 3, 20, 3, { 0, 20, 40 }, { 20, 20, 20 }, { 0, 1, 1 }, 15 + 15 + 15 },
    { "holdout=0.5 holdout-blocks=2", 3, 20, 3, { 15, 20, 45 }, { 5, 10, 15 }, { 0, 1, 1 },
      0 + 5 + 10 },
    { "holdout=0.5 holdout-blocks=2", 2, 30, 2, { 15, 45 }, { 15, 15 }, { 0, 1 }, 10 + 10 },
  };
  for (guint k = 0; k < G_N_ELEMENTS (rows); k++) {
    GString *desc = g_string_new (NULL);
    g_string_append_printf (desc, "concat name=c ! tee name=t ! queue ! decent-train "
        "model-location=\"%s\" width=32 height=32 channels=1 epochs=1 min-steps=0 "
        "companion=false still-lag=5 still-memory=2 %s t. ! queue ! filesink "
        "location=\"%s\"", model, rows[k].props, raw);
    const gchar *patterns[] = { "ball", "smpte", "ball" };
    for (guint i = 0; i < rows[k].recordings; i++)
      g_string_append_printf (desc, " videotestsrc num-buffers=%u pattern=%s ! "
          "video/x-raw,format=GRAY8,width=32,height=32,framerate=30/1 ! c.", rows[k].frames,
          patterns[i + 3 - rows[k].recordings]);
    RunResult r;
    run_pipeline (desc->str, model, &r);
    fail_unless (r.error == NULL && r.eos && r.written_before_eos, "%s: %s", rows[k].props,
        r.error);
    gchar *frames;
    gsize len;
    fail_unless (g_file_get_contents (raw, &frames, &len, NULL));
    fail_unless_equals_int ((gint) len, 60 * 32 * 32);
    /* the held-out runs, one after the other, as the calibration has them */
    guint8 *held = g_malloc (len);
    gsize at = 0;
    for (guint i = 0; i < rows[k].n_runs; i++) {
      memcpy (held + at, frames + rows[k].first[i] * 32 * 32, rows[k].runs[i] * 32 * 32);
      at += rows[k].runs[i] * 32 * 32;
    }

    DecentModel *m = load_model (model, NULL, NULL);
    DecentStillSettings st;
    DecentCalibration stored, cut, on;
    fail_unless (decent_model_get_still (m, &st, &stored) == 1, "%s: no still gate",
        rows[k].props);
    DecentError err = { { 0 } };
    const guint8 none[] = { 0, 0, 0 };
    fail_unless (decent_model_calibrate_still_streams (m, &st, held, rows[k].runs, none,
        (int) rows[k].n_runs, 0.995f, 3.0f, &err) == 0, "%s", err.message);
    decent_model_get_still (m, NULL, &on);
    fail_unless (decent_model_calibrate_still_streams (m, &st, held, rows[k].runs,
        rows[k].starts, (int) rows[k].n_runs, 0.995f, 3.0f, &err) == 0, "%s", err.message);
    decent_model_get_still (m, NULL, &cut);
    fail_unless (stored.count == rows[k].count && cut.count == rows[k].count,
        "%s: %u and %u frames, not %u", rows[k].props, stored.count, cut.count, rows[k].count);
    fail_unless (fabsf (stored.mean - cut.mean) <= 1e-4f * cut.mean
        && fabsf (stored.threshold - cut.threshold) <= 1e-4f * cut.threshold,
        "%s: the model's gate: mean %g, threshold %g; started again at each stream: %g, %g "
        "(going on: %g, %g)", rows[k].props, stored.mean, stored.threshold, cut.mean,
        cut.threshold, on.mean, on.threshold);
    fail_unless (fabsf (on.mean - cut.mean) > 1e-2f * cut.mean, "%s: the recordings do not "
        "tell the mean going on (%g) from starting again (%g)", rows[k].props, on.mean,
        cut.mean);
    decent_model_free (m);
    g_free (held);
    g_free (frames);
    g_string_free (desc, TRUE);
  }
  g_free (raw);
  g_free (model);
}
GST_END_TEST;

static GstPadProbeReturn
drop_later_stream_starts (GstPad *pad, GstPadProbeInfo *info, gpointer seen)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START && ++*(guint *) seen > 1)
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}

/* A camera that changes resolution mid-stream sends new caps and no
 * stream-start.  decentanomaly's still gate starts again at new caps, so the
 * calibration must cut its runs there too: the same frames give the same
 * still gate whether a stream-start comes with the new caps or not
 * (helper-62: threshold 1.0098 from 58 frames without it, 1.0265 from 56
 * with it).  90 frames of the ball at 64x48, then 30 of smpte at 80x60,
 * the last half held out: the change lies in the held-out block. */
GST_START_TEST (test_still_gate_cut_at_new_caps)
{
  DecentCalibration cal[2];
  for (guint k = 0; k < 2; k++) {
    gchar *model = g_strdup_printf ("%s/caps-cut-%u.dcnt", dir, k);
    gchar *desc = g_strdup_printf ("concat name=c ! decent-train name=t "
        "model-location=\"%s\" width=32 height=24 channels=1 epochs=1 min-steps=0 "
        "companion=false still-lag=2 holdout=0.5 videotestsrc num-buffers=90 pattern=ball ! "
        "video/x-raw,format=GRAY8,width=64,height=48,framerate=10/1 ! c. videotestsrc "
        "num-buffers=30 pattern=smpte ! video/x-raw,format=GRAY8,width=80,height=60,"
        "framerate=10/1 ! c.", model);
    GstElement *pipe = gst_parse_launch (desc, NULL);
    fail_unless (pipe != NULL);
    guint seen = 0;
    if (k == 1) { /* the second run: new caps alone */
      GstElement *train = gst_bin_get_by_name (GST_BIN (pipe), "t");
      GstPad *pad = gst_element_get_static_pad (train, "sink");
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, drop_later_stream_starts,
          &seen, NULL);
      gst_object_unref (pad);
      gst_object_unref (train);
    }
    RunResult r;
    run_pipeline_of (pipe, model, &r);
    fail_unless (r.error == NULL && r.eos && r.written_before_eos, "%s", r.error);
    fail_unless (k == 0 || seen == 2, "%u stream-starts", seen);
    DecentModel *m = load_model (model, NULL, NULL);
    fail_unless (decent_model_get_still (m, NULL, &cal[k]) == 1, "run %u: no still gate", k);
    decent_model_free (m);
    g_free (desc);
    g_free (model);
  }
  fail_unless (cal[0].count == cal[1].count && cal[0].mean == cal[1].mean
      && cal[0].threshold == cal[1].threshold, "with a stream-start: threshold %g, mean %g "
      "from %u frames; new caps alone: %g, %g from %u", cal[0].threshold, cal[0].mean,
      cal[0].count, cal[1].threshold, cal[1].mean, cal[1].count);
}
GST_END_TEST;

/* Recordings shorter than still-lag, one after another: no run of the
 * footage leaves a frame to calibrate the gate on, whatever is held out, and
 * the warning says so (before, it asked to hold out more footage). */
GST_START_TEST (test_still_gate_short_recordings_said)
{
  gchar *model = g_build_filename (dir, "short.dcnt", NULL);
  GString *desc = g_string_new (NULL);
  g_string_append_printf (desc, "concat name=c ! decent-train model-location=\"%s\" "
      "width=32 height=32 channels=1 epochs=1 min-steps=0 companion=false still-lag=10 "
      "holdout=0.5", model);
  for (guint i = 0; i < 12; i++)
    g_string_append (desc, " videotestsrc num-buffers=9 pattern=snow ! "
        "video/x-raw,format=GRAY8,width=32,height=32,framerate=30/1 ! c.");
  GstElement *pipe = gst_parse_launch (desc->str, NULL);
  fail_unless (pipe != NULL);
  GstBus *bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  gchar *warning = NULL;
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
        GST_MESSAGE_WARNING | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    fail_unless (msg != NULL, "pipeline timed out");
    const GstMessageType type = GST_MESSAGE_TYPE (msg);
    if (type == GST_MESSAGE_WARNING && !warning) {
      gchar *text = message_text (msg);
      if (strstr (text, "still gate was not calibrated"))
        warning = text;
      else
        g_free (text);
    }
    fail_if (type == GST_MESSAGE_ERROR, "an error");
    gst_message_unref (msg);
    if (type == GST_MESSAGE_EOS)
      break;
  }
  fail_unless (warning && strstr (warning, "cut where each of its 12 streams began")
      && strstr (warning, "longest run has 9 frames"), "%s", warning ? warning : "no warning");
  g_free (warning);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_string_free (desc, TRUE);
  g_free (model);
}
GST_END_TEST;

/* A framerate that changes while collecting leaves the still gate's pace
 * unknown, with a warning: the frames are not one time apart. */
GST_START_TEST (test_still_gate_framerate_change)
{
  gchar *model = g_build_filename (dir, "twofps.dcnt", NULL);
  AppRun r;
  varied_noise = TRUE;
  half_rate_from = 30;
  run_appsrc (model, "epochs=1 min-steps=0 still-lag=2", 60, 0, &r);
  half_rate_from = G_MAXUINT;
  varied_noise = FALSE;
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (strstr (r.warnings->str, "changed while collecting")
      && strstr (r.warnings->str, "0.0333333 s apart"), "no warning about the framerate "
      "change: %s", r.warnings->str);
  app_run_clear (&r);
  DecentModel *m = load_model (model, NULL, NULL);
  DecentStillSettings st;
  fail_unless (decent_model_get_still (m, &st, NULL) == 1 && st.frame_seconds == 0.0f,
      "the gate's pace: %g s", st.frame_seconds);
  decent_model_free (m);
  g_free (model);
}
GST_END_TEST;

/* The gate's pace comes from the timestamps where the caps give no
 * framerate (RTSP cameras often do not), and where they belie the caps'
 * framerate, with a warning then. */
GST_START_TEST (test_still_gate_pace_from_timestamps)
{
  const struct { const gchar *caps; gboolean warned; } runs[] = {
    { "video/x-raw,format=GRAY8,width=16,height=16,framerate=0/1", FALSE },
    { GRAY_CAPS, TRUE },
  };
  gchar *model = g_build_filename (dir, "timed.dcnt", NULL);
  for (guint k = 0; k < G_N_ELEMENTS (runs); k++) {
    AppRun r;
    varied_noise = TRUE;
    app_caps = runs[k].caps;
    app_step = GST_SECOND / 10;
    run_appsrc (model, "epochs=1 min-steps=0 still-lag=2", 40, 0, &r);
    app_caps = NULL;
    app_step = 0;
    varied_noise = FALSE;
    fail_unless (r.error == NULL, "%s", r.error);
    fail_unless (runs[k].warned == (strstr (r.warnings->str, "do not keep the caps' framerate")
        && strstr (r.warnings->str, "0.1 s apart (the median interval), not 0.0333333 s")),
        "%s: %s", runs[k].caps, r.warnings->str);
    app_run_clear (&r);
    DecentModel *m = load_model (model, NULL, NULL);
    DecentStillSettings st;
    fail_unless (decent_model_get_still (m, &st, NULL) == 1
        && fabsf (st.frame_seconds - 0.1f) < 1e-6f, "%s: the gate's pace %g s", runs[k].caps,
        st.frame_seconds);
    decent_model_free (m);
  }
  g_free (model);
}
GST_END_TEST;

/* A still gate that cannot fit the model (lag 100 at 1024 x 1024: 404 MiB
 * of history) is said when collecting starts, not after the training. */
GST_START_TEST (test_still_gate_too_big_said_at_start)
{
  gchar *model = g_build_filename (dir, "big.dcnt", NULL);
  gchar *desc = g_strdup_printf ("appsrc name=src format=time caps=\"" GRAY_CAPS "\" ! "
      "decent-train model-location=\"%s\" width=1024 height=1024 channels=1 still-lag=100",
      model);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  GstBus *bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PAUSED); /* READY -> PAUSED: collecting starts */
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      GST_MESSAGE_WARNING | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING, "no warning");
  gchar *text = message_text (msg);
  fail_unless (strstr (text, "still gate will not be calibrated") && strstr (text, "MiB"), "%s",
      text);
  g_free (text);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  fail_if (g_file_test (model, G_FILE_TEST_EXISTS), "nothing was trained");
  g_free (model);
}
GST_END_TEST;

static Suite *
decenttrain_suite (void)
{
  Suite *s = suite_create ("decent-train");
  TCase *tc = suite_add_case (s, "general", 300, temp_dir_setup, temp_dir_teardown);
  tcase_add_test (tc, test_train_then_detect);
  tcase_add_test (tc, test_no_frames);
  tcase_add_test (tc, test_gap_buffers_not_collected);
  tcase_add_test (tc, test_lying_video_meta_skipped);
  tcase_add_test (tc, test_other_files_not_replaced);
  tcase_add_test (tc, test_leftover_names_taken_meanwhile);
  tcase_add_test (tc, test_error_while_collecting_trains_nothing);
  tcase_add_test (tc, test_unwritable_location);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_held_out_blocks);
  tcase_add_test (tc, test_enough_calibration_frames);
  tcase_add_test (tc, test_still_gate_cut_at_stream_start);
  tcase_add_test (tc, test_still_gate_mean_starts_again_at_stream_start);
  tcase_add_test (tc, test_still_gate_cut_at_new_caps);
  tcase_add_test (tc, test_still_gate_short_recordings_said);
  tcase_add_test (tc, test_still_gate_framerate_change);
  tcase_add_test (tc, test_still_gate_pace_from_timestamps);
  tcase_add_test (tc, test_still_gate_too_big_said_at_start);
  tcase_add_test (tc, test_still_gate_calibration);
  tcase_add_test (tc, test_training_budget);
  tcase_add_test (tc, test_augment_zoom);
  tcase_add_test (tc, test_collapse_measures);
  tcase_add_test (tc, test_calibrate_only);
  tcase_add_test (tc, test_settings_fixed_while_running);
  tcase_add_test (tc, test_companion);
  tcase_add_test (tc, test_local_surround_stored);
  tcase_add_test (tc, test_resumed_companion_scores_as_checkpoint);
  tcase_add_test (tc, test_checkpoint_found_at_start);
  tcase_add_test (tc, test_calibrate_only_model_replaced);
  return s;
}

GST_CHECK_MAIN (decenttrain);
