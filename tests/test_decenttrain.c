/* decent-train: a real end-to-end run (learn one videotestsrc pattern, then
 * decentanomaly scores another clearly higher), progress and element
 * messages, EOS only after the model is written, and failures that leave an
 * existing model file alone. */
#include <gst/app/gstappsink.h>

#include "decent/decentmeta.h"
#include "plugin_util.h"

static gchar *dir;

static void
setup (void)
{
  dir = g_dir_make_tmp ("decent-train-XXXXXX", NULL);
}

static void
teardown (void)
{
  gchar *cmd = g_strdup_printf ("chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
  fail_unless (system (cmd) == 0);
  g_free (cmd);
  g_free (dir);
}

typedef struct {
  guint progress_start, progress_continue, progress_complete, epochs_seen;
  gboolean written_before_eos, file_existed_at_eos, eos;
  gchar *error;
} RunResult;

static void
run_pipeline (const gchar *desc, const gchar *model, RunResult *r)
{
  memset (r, 0, sizeof *r);
  GError *perr = NULL;
  GstElement *pipe = gst_parse_launch (desc, &perr);
  fail_unless (pipe != NULL, "%s", perr ? perr->message : "?");
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
      GError *err;
      gchar *dbg;
      gst_message_parse_error (msg, &err, &dbg);
      r->error = g_strdup_printf ("%s | %s", err->message, dbg);
      g_error_free (err);
      g_free (dbg);
      gst_message_unref (msg);
      break;
    }
    gst_message_unref (msg);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
}

/* mean score and flagged fraction of a pattern under a model */
static void
score_pattern (const gchar *model, const gchar *pattern, gdouble *mean, gdouble *flagged)
{
  gchar *desc = g_strdup_printf ("videotestsrc pattern=%s num-buffers=40 ! "
      "video/x-raw,width=96,height=72 ! decentanomaly model-location=\"%s\" ! "
      "appsink name=sink sync=false", pattern, model);
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
      "video/x-raw,width=96,height=72 ! decent-train model-location=\"%s\" width=24 height=24 "
      "channels=1 epochs=8 learning-rate=0.002 batch-size=32", model);
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

  DecentError err;
  DecentModel *m = decent_model_load (model, DECENT_DEVICE_CPU, &err);
  fail_unless (m != NULL, "%s", err.message);
  DecentCalibration cal;
  DecentInfo info;
  decent_model_get_calibration (m, &cal);
  decent_model_describe (m, &info);
  fail_unless (cal.threshold > 0 && cal.count == 24, "threshold %g from %u frames", cal.threshold,
      cal.count);
  fail_unless (info.width == 24 && info.channels == 1 && info.steps == 8 * 7);
  decent_model_free (m);

  gdouble learned, learned_flagged, other, other_flagged;
  score_pattern (model, "ball", &learned, &learned_flagged);
  score_pattern (model, "smpte", &other, &other_flagged);
  GST_INFO ("ball %g (%g flagged), smpte %g (%g flagged)", learned, learned_flagged, other,
      other_flagged);
  fail_unless (other > 3 * learned, "smpte scores %g, the learned ball %g", other, learned);
  fail_unless (other_flagged == 1.0 && learned_flagged <= 0.1, "flagged: smpte %g, ball %g",
      other_flagged, learned_flagged);
  g_free (model);
}
GST_END_TEST;

static gchar *
write_marker_model (void)
{
  gchar *path = g_build_filename (dir, "existing.dcnt", NULL);
  fail_unless (g_file_set_contents (path, "previous model", -1, NULL));
  return path;
}

static void
assert_marker_intact (const gchar *path)
{
  gchar *data;
  fail_unless (g_file_get_contents (path, &data, NULL, NULL));
  fail_unless_equals_string (data, "previous model");
  g_free (data);
}

GST_START_TEST (test_no_frames)
{
  gchar *model = write_marker_model ();
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=0 ! decent-train "
      "model-location=\"%s\"", model);
  RunResult r;
  run_pipeline (desc, NULL, &r);
  fail_unless (r.error && strstr (r.error, "No frames") && strstr (r.error, model), "%s",
      r.error);
  assert_marker_intact (model);
  g_free (r.error);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_unwritable_location)
{
  gchar *model = write_marker_model ();
  if (geteuid () != 0) {
    gchar *cmd = g_strdup_printf ("chmod a-w '%s'", dir);
    fail_unless (system (cmd) == 0);
    g_free (cmd);
  }
  /* as root a read-only folder is writable: a missing folder fails for everyone */
  gchar *target = geteuid () != 0 ? g_strdup (model) : g_build_filename (dir, "no", "m.dcnt", NULL);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=20 ! video/x-raw,width=32,height=32 "
      "! decent-train model-location=\"%s\" width=16 height=16 channels=1 epochs=1", target);
  RunResult r;
  run_pipeline (desc, NULL, &r);
  fail_unless (r.error && strstr (r.error, "Could not write") && strstr (r.error, target), "%s",
      r.error);
  /* found at start, not after collecting and training */
  fail_unless_equals_int (r.progress_start, 0);
  assert_marker_intact (model);
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
  gint w, c;
  guint epochs;
  gdouble lambda;
  g_object_get (e, "width", &w, "channels", &c, "epochs", &epochs, "lambda", &lambda, NULL);
  fail_unless (w == 64 && c == 3 && epochs == 20 && fabs (lambda - 0.01) < 1e-12);
  gst_object_unref (e);
}
GST_END_TEST;

static Suite *
decenttrain_suite (void)
{
  Suite *s = suite_create ("decent-train");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 300);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_train_then_detect);
  tcase_add_test (tc, test_no_frames);
  tcase_add_test (tc, test_unwritable_location);
  tcase_add_test (tc, test_properties);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (decenttrain);
