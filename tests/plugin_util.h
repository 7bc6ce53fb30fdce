/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin_util.h — models and frames for the element tests.  A small
 * randomly initialised model scores a flat grey frame and a noise frame
 * differently; the tests set the threshold between the two, so which frames
 * are flagged is known exactly.  Also what the element tests share besides:
 * running pipelines and harnesses, reading their messages, and the fixtures
 * (a temporary folder, or a test model, for each test). */
#ifndef DECENT_PLUGIN_UTIL_H
#define DECENT_PLUGIN_UTIL_H

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <unistd.h>
#include <gst/video/video.h>
#include <string.h>

#include "decent.h"

#define MW 16
#define MH 16

typedef struct {
  gchar *dir, *path;
  gdouble calm_score, noise_score, threshold;
} TestModel;

static inline void
fill_noise (guint8 *p, gsize n, guint32 seed)
{
  for (gsize i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    p[i] = (guint8) (seed >> 24);
  }
}

/* Writes a 16x16x1 model; frames that are flat grey score calm_score,
 * frames of noise noise_score (both exactly, at model size, GRAY8). */
/* A new, untrained width x height x 1 model with 8 base channels, on the CPU. */
static inline DecentModel *
sized_test_model (gint width, gint height)
{
  DecentConfig cfg;
  DecentError err = { { 0 } };
  decent_config_init (&cfg, width, height, 1);
  cfg.base_channels = 8;
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *m = decent_model_new (&cfg, &err);
  fail_unless (m != NULL, "%s", err.message);
  return m;
}

/* The same at 16x16. */
static inline DecentModel *
small_test_model (void)
{
  return sized_test_model (MW, MH);
}

/* A new sized_test_model, calibrated in
 * every mode (as decent-train writes them) on flat grey and noise frames
 * mixed, with their normal errors learnt unless without_normal; saved in dir
 * under name (caller frees the path). */
static inline gchar *
calibrated_test_model (const gchar *dir, gint width, gint height, const gchar *name,
    gboolean without_normal)
{
  DecentError err = { { 0 } };
  DecentModel *m = sized_test_model (width, height);
  const gsize plane = (gsize) width * height;
  guint8 *frames = g_malloc (8 * plane);
  for (int i = 0; i < 8; i++) {
    if (i % 2)
      fill_noise (frames + i * plane, plane, i);
    else
      memset (frames + i * plane, 128, plane);
  }
  if (!without_normal)
    fail_unless (decent_model_learn_normal (m, frames, 8, &err) == 0, "%s", err.message);
  fail_unless (decent_model_calibrate_all (m, frames, 8, 0.5f, 0.0f, &err) == 0, "%s",
      err.message);
  g_free (frames);
  gchar *path = g_build_filename (dir, name, NULL);
  fail_unless (decent_model_save (m, path, &err) == 0, "%s", err.message);
  decent_model_free (m);
  return path;
}

static inline void
test_model_make (TestModel *tm, const gchar *name, float calibrated_threshold)
{
  DecentError err = { { 0 } };
  DecentModel *m = small_test_model ();
  guint8 calm[MW * MH], noise[MW * MH];
  memset (calm, 128, sizeof calm);
  fill_noise (noise, sizeof noise, 1);
  float s[2];
  fail_unless (decent_model_score (m, calm, 1, &s[0], NULL, &err) == 0, "%s", err.message);
  fail_unless (decent_model_score (m, noise, 1, &s[1], NULL, &err) == 0, "%s", err.message);
  fail_unless (s[1] > 1.5 * s[0], "noise %g does not score above grey %g", s[1], s[0]);
  tm->calm_score = s[0];
  tm->noise_score = s[1];
  tm->threshold = 0.5 * (s[0] + s[1]);
  if (calibrated_threshold >= 0)
    decent_model_set_threshold (m, calibrated_threshold, &err);
  if (!tm->dir)
    tm->dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
  tm->path = g_build_filename (tm->dir, name, NULL);
  fail_unless (decent_model_save (m, tm->path, &err) == 0, "%s", err.message);
  decent_model_free (m);
}

/* Removes a folder and all in it, read-only parts included. */
static inline void
remove_tree (const gchar *path)
{
  gchar *cmd = g_strdup_printf ("chmod -R u+w '%s'; rm -rf '%s'", path, path);
  fail_unless (system (cmd) == 0);
  g_free (cmd);
}

static inline void
test_model_clear (TestModel *tm)
{
  remove_tree (tm->dir);
  g_free (tm->dir);
  g_free (tm->path);
  memset (tm, 0, sizeof *tm);
}

/* A GRAY8 frame at model size: flat grey, or noise. */
static inline GstBuffer *
gray_frame (gboolean noisy, guint64 index)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, MW * MH, NULL);
  GstMapInfo map;
  gst_buffer_map (b, &map, GST_MAP_WRITE);
  if (noisy)
    fill_noise (map.data, MW * MH, 1);
  else
    memset (map.data, 128, MW * MH);
  gst_buffer_unmap (b, &map);
  GST_BUFFER_PTS (b) = index * GST_SECOND / 30;
  GST_BUFFER_DURATION (b) = GST_SECOND / 30;
  return b;
}

/* "message | debug" of an error or a warning message (caller frees). */
static inline gchar *
message_text (GstMessage *msg)
{
  GError *err = NULL;
  gchar *dbg = NULL;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING)
    gst_message_parse_warning (msg, &err, &dbg);
  else
    gst_message_parse_error (msg, &err, &dbg);
  gchar *text = g_strdup_printf ("%s | %s", err->message, dbg ? dbg : "(no debug text)");
  g_error_free (err);
  g_free (dbg);
  return text;
}

/* Plays a built pipeline to EOS or an error, then stops it; returns
 * "message | debug" of the error (caller frees), or NULL at EOS; fails after
 * timeout_s (what names the pipeline in that failure). */
static inline gchar *
run_to_end (GstElement *pipe, gint timeout_s, const gchar *what)
{
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, timeout_s * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless (msg != NULL, "no error and no EOS within %d s: %s", timeout_s, what);
  gchar *text = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR ? message_text (msg) : NULL;
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  return text;
}

/* Runs a pipeline to EOS or an error; returns "message | debug" of the
 * error (caller frees), or NULL at EOS. */
static inline gchar *
pipeline_error (const gchar *desc)
{
  GError *perr = NULL;
  GstElement *pipe = gst_parse_launch (desc, &perr);
  fail_unless (pipe != NULL, "%s", perr ? perr->message : desc);
  gchar *text = run_to_end (pipe, 120, desc);
  gst_object_unref (pipe);
  return text;
}

#define GRAY_CAPS "video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1"

/* Loads a model on the CPU (fails if it cannot); info and cal (may be NULL)
 * receive its description and calibration. */
static inline DecentModel *
load_model (const gchar *path, DecentInfo *info, DecentCalibration *cal)
{
  DecentError err = { { 0 } };
  DecentModel *m = decent_model_load (path, DECENT_DEVICE_CPU, &err);
  fail_unless (m != NULL, "%s", err.message);
  if (info)
    decent_model_describe (m, info);
  if (cal)
    decent_model_get_calibration (m, cal);
  return m;
}

/* "the trained model was kept at PATH (" → PATH (caller frees), or NULL. */
static inline gchar *
rescued_path (const gchar *text)
{
  const gchar *p = strstr (text, "kept at ");
  if (!p)
    return NULL;
  p += strlen ("kept at ");
  return g_strndup (p, strcspn (p, " "));
}

/* Gives a harness's element a bus of its own, to read its messages from. */
static inline GstBus *
harness_bus (GstHarness *h)
{
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  return bus;
}

/* Tears down a harness and the bus harness_bus gave it (queued messages hold
 * the element, which holds the bus: they are dropped first). */
static inline void
harness_bus_teardown (GstHarness *h, GstBus *bus)
{
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

/* The next element message of that name on the bus, or NULL; pops the
 * element messages before it. */
static inline GstMessage *
next_element_message (GstBus *bus, const gchar *name)
{
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    if (gst_structure_has_name (gst_message_get_structure (msg), name))
      return msg;
    gst_message_unref (msg);
  }
  return NULL;
}

/* Waits up to timeout_s for an element message of that name. */
static inline GstMessage *
wait_element_message (GstBus *bus, const gchar *name, gint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  GstMessage *msg;
  while (!(msg = next_element_message (bus, name)) && g_get_monotonic_time () < deadline)
    g_usleep (5000);
  return msg;
}

/* How many times needle stands in s (not overlapping). */
static inline guint
count_substrings (const gchar *s, const gchar *needle)
{
  guint n = 0;
  for (const gchar *p = s; p && (p = strstr (p, needle)); p += strlen (needle))
    n++;
  return n;
}

/* A test case of suite s with its timeout and per-test fixture. */
static inline TCase *
suite_add_case (Suite *s, const gchar *name, gint timeout_s, SFun setup, SFun teardown)
{
  TCase *tc = tcase_create (name);
  tcase_set_timeout (tc, timeout_s);
  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);
  return tc;
}

/* ---- fixtures: a temporary folder, or a test model, for each test ------- */

/* The folder a test works in, made anew for each test by temp_dir_setup. */
static G_GNUC_UNUSED gchar *dir;

/* Fixture: a new, empty temporary folder at dir. */
static inline void
temp_dir_setup (void)
{
  dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
}

/* Fixture: removes dir and all in it. */
static inline void
temp_dir_teardown (void)
{
  remove_tree (dir);
  g_clear_pointer (&dir, g_free);
}

/* A file in dir that stands for an existing model: the model files' magic,
 * then "previous model" (decent-train refuses to replace a file that does
 * not begin as a model does). */
#define MARKER_TEXT "DECENTAE previous model"
static inline gchar *
marker (const gchar *name)
{
  gchar *path = g_build_filename (dir, name, NULL);
  fail_unless (g_file_set_contents (path, MARKER_TEXT, -1, NULL));
  return path;
}

/* Fails unless the file marker wrote is still there, unchanged. */
static inline void
assert_marker (const gchar *path)
{
  gchar *data = NULL;
  fail_unless (g_file_get_contents (path, &data, NULL, NULL), "%s is gone", path);
  fail_unless_equals_string (data, MARKER_TEXT);
  g_free (data);
}

/* The model decentanomaly's tests score with, made anew for each test by
 * test_model_setup (in a temporary folder of its own, tm.dir). */
static G_GNUC_UNUSED TestModel tm;

/* Fixture: tm, a new test model without a calibrated threshold. */
static inline void
test_model_setup (void)
{
  test_model_make (&tm, "model.dcnt", -1);
}

/* Fixture: removes tm and its folder. */
static inline void
test_model_teardown (void)
{
  test_model_clear (&tm);
}

/* A harness of decentanomaly with the model at path and props (may be NULL),
 * fed GRAY_CAPS. */
static inline GstHarness *
anomaly_harness (const gchar *path, const gchar *props)
{
  gchar *desc = g_strdup_printf ("decentanomaly model-location=\"%s\" %s", path,
      props ? props : "");
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  gst_harness_set_src_caps_str (h, GRAY_CAPS);
  return h;
}

/* The same with tm, scored in mean mode at tm's threshold; extra_props (may
 * be NULL) are more properties. */
static inline GstHarness *
model_harness (const gchar *extra_props)
{
  gchar *props = g_strdup_printf ("score-mode=mean threshold=%.17g %s", tm.threshold,
      extra_props ? extra_props : "");
  GstHarness *h = anomaly_harness (tm.path, props);
  g_free (props);
  return h;
}

#endif
