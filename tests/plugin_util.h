/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin_util.h — models and frames for the element tests.  A small
 * randomly initialised model scores a flat grey frame and a noise frame
 * differently; the tests set the threshold between the two, so which frames
 * are flagged is known exactly. */
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
/* A new, untrained 16x16x1 model with 8 base channels, on the CPU. */
static inline DecentModel *
small_test_model (void)
{
  DecentConfig cfg;
  DecentError err = { { 0 } };
  decent_config_init (&cfg, MW, MH, 1);
  cfg.base_channels = 8;
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *m = decent_model_new (&cfg, &err);
  fail_unless (m != NULL, "%s", err.message);
  return m;
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

static inline void
test_model_clear (TestModel *tm)
{
  gchar *cmd = g_strdup_printf ("rm -rf '%s'", tm->dir);
  fail_unless (system (cmd) == 0);
  g_free (cmd);
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

/* Runs a pipeline to EOS or an error; returns "message | debug" of the
 * error (caller frees), or NULL at EOS. */
static inline gchar *
pipeline_error (const gchar *desc)
{
  GError *perr = NULL;
  GstElement *pipe = gst_parse_launch (desc, &perr);
  fail_unless (pipe != NULL, "%s", perr ? perr->message : desc);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless (msg != NULL, "timed out: %s", desc);
  gchar *text = NULL;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err;
    gchar *dbg;
    gst_message_parse_error (msg, &err, &dbg);
    text = g_strdup_printf ("%s | %s", err->message, dbg);
    g_error_free (err);
    g_free (dbg);
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  return text;
}

#define GRAY_CAPS "video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1"

#endif
