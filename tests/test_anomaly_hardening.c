/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decentanomaly under hostile conditions: caps changes between scored
 * frames, models whose scores are not finite, a FIFO as model file,
 * interlaced video, hot-reload storms, long and non-UTF-8 paths, frames
 * without timestamps; and the frame path itself (framepath.c) with
 * interlaced formats, mismatched frames and non-finite maps. */
#include <glib/gstdio.h>
#include <sys/stat.h>

#include <gst/app/gstappsink.h>

#include "decent/decentmeta.h"
#include "frame_layout.h"
#include "bufferlayout.h"
#include "framepath.h"
#include "pacemeter.h"
#include "plugin_util.h"
#include "testutil.h"

/* The error of videotestsrc ! decentanomaly model-location=path ! fakesink. */
static gchar *
error_for_location (const gchar *path, const gchar *props, gint timeout_s)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=3 ! video/x-raw,width=32,height=24 ! "
      "decentanomaly name=d %s ! fakesink", props ? props : "");
  GstElement *pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  fail_unless (pipe != NULL);
  GstElement *d = gst_bin_get_by_name (GST_BIN (pipe), "d");
  g_object_set (d, "model-location", path, NULL);
  gst_object_unref (d);
  gchar *text = run_to_end (pipe, timeout_s, path);
  gst_object_unref (pipe);
  return text;
}

/* A copy of the test model whose every parameter is 1e30: finite, with a
 * valid checksum, but its scores are not finite. */
static gchar *
huge_weights_model (void)
{
  gchar *data;
  gsize len;
  fail_unless (g_file_get_contents (tm.path, &data, &len, NULL));
  guint64 params = 0;
  for (int i = 0; i < 8; i++)
    params |= (guint64) (guint8) data[48 + i] << (8 * i);
  fail_unless (params > 0 && 176 + 4 * params + 4 <= len);
  const float huge = 1e30f;
  for (guint64 i = 0; i < params; i++)
    memcpy (data + 176 + 4 * i, &huge, 4);
  guint32 c = tu_crc32 ((const guint8 *) data, len - 4);
  for (int i = 0; i < 4; i++)
    data[len - 4 + i] = (gchar) (c >> (8 * i));
  gchar *path = g_build_filename (tm.dir, "huge.dcnt", NULL);
  fail_unless (g_file_set_contents (path, data, (gssize) len, NULL));
  g_free (data);
  return path;
}

/* ---- 1: caps change between scored frames ------------------------------ */

GST_START_TEST (test_caps_change_unscored_overlay)
{
  GstHarness *h = model_harness ("inference-interval=5 mode=overlay");
  for (guint i = 0; i < 2; i++) {
    fail_unless_equals_int (gst_harness_push (h, gray_frame (TRUE, i)), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
  }
  /* frame 2 is not due for scoring, but the path for the new size is not
   * built yet: it must be scored (and drawn) at the new size */
  gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=64,height=48,framerate=30/1");
  for (guint i = 2; i < 5; i++) {
    GstBuffer *big = gst_buffer_new_allocate (NULL, 64 * 48, NULL);
    gst_buffer_memset (big, 0, 128, 64 * 48);
    GST_BUFFER_PTS (big) = i * GST_SECOND / 30;
    fail_unless_equals_int (gst_harness_push (h, big), GST_FLOW_OK);
    GstBuffer *b = gst_harness_pull (h);
    GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
    fail_unless (m != NULL);
    fail_unless_equals_int (m->scored, i == 2);
    fail_unless_equals_uint64 (m->scored_frame_number, 2);
    fail_unless (m->roi_width == 64 && m->roi_height == 48, "roi %ux%u", m->roi_width,
        m->roi_height);
    fail_unless (fabs (m->score - tm.calm_score) < 1e-6 * tm.calm_score, "score %g", m->score);
    gst_buffer_unref (b);
  }
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A flush (a seek) between scored frames: the frame after it is scored,
 * not given the result of a frame from before the seek. */
GST_START_TEST (test_flush_scores_next_frame)
{
  GstHarness *h = model_harness ("inference-interval=5");
  for (guint i = 0; i < 2; i++) { /* frame 1, noisy, carries frame 0's calm result */
    fail_unless_equals_int (gst_harness_push (h, gray_frame (i == 1, i)), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  fail_unless_equals_int (gst_harness_push (h, gray_frame (TRUE, 2)), GST_FLOW_OK);
  GstBuffer *b = gst_harness_pull (h);
  GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
  fail_unless (m != NULL);
  fail_unless (m->scored && m->scored_frame_number == 2 && m->flagged, "scored %d, frame %"
      G_GUINT64_FORMAT ", flagged %d", m->scored, m->scored_frame_number, m->flagged);
  fail_unless (fabs (m->score - tm.noise_score) < 1e-6 * tm.noise_score, "score %g", m->score);
  gst_buffer_unref (b);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A flush starting while the frame that begins (or ends) an event is
 * scored: the flush drops that begin (or end) on its way downstream. */
typedef struct {
  GstHarness *h;
  const gchar *type; /* "begin" or "end" */
  gboolean from_sink; /* the flush sent upstream, as a sink's seek would */
  gboolean done;
} FlushAt;

static GstPadProbeReturn
flush_at_event (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  FlushAt *at = data;
  GstEvent *e = GST_PAD_PROBE_INFO_EVENT (info);
  const GstStructure *s = GST_EVENT_TYPE (e) == GST_EVENT_CUSTOM_DOWNSTREAM
      ? gst_event_get_structure (e) : NULL;
  if (!at->done && s && gst_structure_has_name (s, "decentanomaly-event")
      && !g_strcmp0 (gst_structure_get_string (s, "type"), at->type)) {
    at->done = TRUE; /* as a seek from another thread would, at this moment */
    if (at->from_sink)
      gst_harness_push_upstream_event (at->h, gst_event_new_flush_start ());
    else
      gst_harness_push_event (at->h, gst_event_new_flush_start ());
  }
  return GST_PAD_PROBE_OK;
}

/* Downstream, every end follows its begin and every begin has its end by
 * the end of stream: a begin or end dropped by a flush left decentpublish
 * an end without a begin, or a begin whose end never came (helper-74); an
 * end dropped by a flush that came from downstream, whose flush-stop never
 * reaches the sink pad, was held until the stream stopped (helper-75). */
GST_START_TEST (test_events_stay_paired_across_flushes)
{
  const gchar *types[] = { "begin", "end", "end", "end" };
  for (guint k = 0; k < G_N_ELEMENTS (types); k++) {
    const gboolean from_sink = k >= 2;
    const guint frames_after = k == 3 ? 0 : 4; /* k = 3: the end of stream next */
    GstHarness *h = model_harness ("event-min-frames=1 event-gap=1");
    GstElement *e = gst_harness_find_element (h, "decentanomaly");
    GstPad *src = gst_element_get_static_pad (e, "src");
    FlushAt at = { h, types[k], from_sink, FALSE };
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, flush_at_event, &at, NULL);
    /* k = 0: the begin at frame 1 is dropped; k = 1: the end at frame 2 */
    guint64 i = 0;
    for (; i < 6 && !at.done; i++) {
      const GstFlowReturn ret = gst_harness_push (h, gray_frame (i == 1, i));
      if (ret == GST_FLOW_OK)
        gst_buffer_unref (gst_harness_pull (h));
      else
        fail_unless_equals_int (ret, GST_FLOW_FLUSHING);
    }
    fail_unless (at.done, "no %s to flush at", types[k]);
    if (from_sink)
      fail_unless (gst_harness_push_upstream_event (h, gst_event_new_flush_stop (TRUE)));
    else
      fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
    GstSegment segment;
    gst_segment_init (&segment, GST_FORMAT_TIME);
    fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
    for (guint j = 0; j < frames_after; j++, i++) { /* and a whole event after the seek */
      fail_unless_equals_int (gst_harness_push (h, gray_frame (j == 1, i)), GST_FLOW_OK);
      gst_buffer_unref (gst_harness_pull (h));
    }
    fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
    GHashTable *open = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, NULL);
    guint begins = 0, ends = 0;
    GstEvent *ev;
    while ((ev = gst_harness_try_pull_event (h))) {
      const GstStructure *s = GST_EVENT_TYPE (ev) == GST_EVENT_CUSTOM_DOWNSTREAM
          ? gst_event_get_structure (ev) : NULL;
      guint64 first = 0;
      if (s && gst_structure_has_name (s, "decentanomaly-event")
          && gst_structure_get_uint64 (s, "event-frame", &first)) {
        const gboolean begin = !g_strcmp0 (gst_structure_get_string (s, "type"), "begin");
        gpointer key = GUINT_TO_POINTER ((guint) first + 1);
        if (begin) {
          begins++;
          fail_if (g_hash_table_contains (open, key), "%s: two begins of event %" G_GUINT64_FORMAT,
              types[k], first);
          g_hash_table_add (open, key);
        } else {
          ends++;
          fail_unless (g_hash_table_remove (open, key), "%s flushed: an end of event %"
              G_GUINT64_FORMAT " without its begin", types[k], first);
        }
      }
      gst_event_unref (ev);
    }
    fail_unless (g_hash_table_size (open) == 0, "case %u, %s flushed%s: %u begins without an "
        "end", k, types[k], from_sink ? " from the sink" : "", g_hash_table_size (open));
    /* the event after the seek, and the one whose end was held over the flush */
    const guint pairs = k == 0 || !frames_after ? 1 : 2;
    fail_unless (begins == pairs && ends == pairs, "%s flushed%s: %u begins, %u ends", types[k],
        from_sink ? " from the sink" : "", begins, ends);
    g_hash_table_destroy (open);
    gst_object_unref (src);
    gst_object_unref (e);
    gst_harness_teardown (h);
  }
}
GST_END_TEST;


/* A second flush from downstream starting while the end held over the
 * first is sent: the end is held again, not lost (helper-79: decentpublish
 * then kept a begin without an end until the stream stopped). */
typedef struct {
  GstHarness *h;
  guint ends_seen;
} Reflush;

static GstPadProbeReturn
reflush_at_held_end (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Reflush *at = data;
  GstEvent *e = GST_PAD_PROBE_INFO_EVENT (info);
  const GstStructure *s = GST_EVENT_TYPE (e) == GST_EVENT_CUSTOM_DOWNSTREAM
      ? gst_event_get_structure (e) : NULL;
  if (s && gst_structure_has_name (s, "decentanomaly-event")
      && !g_strcmp0 (gst_structure_get_string (s, "type"), "end")) {
    at->ends_seen++;
    /* 1st end: flushed (held); 2nd: the held one sent again at the next frame */
    if (at->ends_seen <= 2)
      gst_harness_push_upstream_event (at->h, gst_event_new_flush_start ());
  }
  return GST_PAD_PROBE_OK;
}

/* the end of a flush that came from downstream, and a new segment */
static void
stop_flush_from_sink (GstHarness *h)
{
  fail_unless (gst_harness_push_upstream_event (h, gst_event_new_flush_stop (TRUE)));
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
}

GST_START_TEST (test_held_end_survives_a_second_flush)
{
  GstHarness *h = model_harness ("event-min-frames=1 event-gap=1");
  GstElement *e = gst_harness_find_element (h, "decentanomaly");
  GstPad *src = gst_element_get_static_pad (e, "src");
  Reflush at = { h, 0 };
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, reflush_at_held_end, &at, NULL);
  guint64 i = 0;
  for (; i < 6 && at.ends_seen < 1; i++) {
    if (gst_harness_push (h, gray_frame (i == 1, i)) == GST_FLOW_OK)
      gst_buffer_unref (gst_harness_pull (h));
  }
  fail_unless_equals_int (at.ends_seen, 1);
  stop_flush_from_sink (h);
  /* the next frame sends the held end, and a second flush starts meanwhile */
  if (gst_harness_push (h, gray_frame (FALSE, i++)) == GST_FLOW_OK)
    gst_buffer_unref (gst_harness_pull (h));
  fail_unless_equals_int (at.ends_seen, 2);
  stop_flush_from_sink (h);
  for (guint j = 0; j < 3; j++, i++) {
    fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, i)), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  guint begins = 0, ends = 0;
  GstEvent *ev;
  while ((ev = gst_harness_try_pull_event (h))) {
    const GstStructure *s = GST_EVENT_TYPE (ev) == GST_EVENT_CUSTOM_DOWNSTREAM
        ? gst_event_get_structure (ev) : NULL;
    if (s && gst_structure_has_name (s, "decentanomaly-event"))
      (*(g_strcmp0 (gst_structure_get_string (s, "type"), "begin") ? &ends : &begins))++;
    gst_event_unref (ev);
  }
  fail_unless (begins == 1 && ends == 1, "downstream got %u begins and %u ends", begins, ends);
  gst_object_unref (src);
  gst_object_unref (e);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* ---- 2: non-finite scores ---------------------------------------------- */

GST_START_TEST (test_nonfinite_model_refused)
{
  gchar *huge = huge_weights_model ();
  const gchar *modes[] = { "mode=overlay message-mode=all", "mode=passthrough message-mode=all" };
  for (int k = 0; k < 2; k++) {
    gchar *text = error_for_location (huge, modes[k], 60);
    fail_unless (text && strstr (text, huge) && strstr (text, "non-finite scores")
        && strstr (text, "retrain"), "%s: %s", modes[k], text);
    g_free (text);
  }
  g_free (huge);
}
GST_END_TEST;

GST_START_TEST (test_nonfinite_frames)
{
  /* the engine's fault hook: the 3rd image scored after loading, and every
   * later one, scores NaN with a NaN map */
  g_setenv ("DECENT_FAULT_NAN_SCORE", "3", TRUE);
  GstHarness *h = model_harness ("mode=overlay message-mode=all event-min-frames=1 "
      "attach-heatmap=true");
  g_unsetenv ("DECENT_FAULT_NAN_SCORE");
  GstBus *bus = harness_bus (h);

  /* frames 0 and 1 score normally (1 is noise: flagged), then NaN */
  for (guint i = 0; i < 8; i++) {
    fail_unless_equals_int (gst_harness_push (h, gray_frame (i == 1, i)), GST_FLOW_OK);
    GstBuffer *b = gst_harness_pull (h);
    GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
    fail_unless (m != NULL);
    fail_unless (isfinite (m->score) && isfinite (m->normalized_score), "frame %u: score %g",
        i, m->score);
    fail_unless (m->heatmap != NULL);
    for (guint p = 0; p < MW * MH; p++)
      fail_unless (isfinite (m->heatmap[p]), "frame %u: heatmap[%u] = %g", i, p, m->heatmap[p]);
    if (i < 2) {
      fail_unless (m->scored && m->scored_frame_number == i);
    } else {
      /* carried: the last finite result, not scored, not flagged */
      fail_unless_equals_int (m->scored, FALSE);
      fail_unless_equals_uint64 (m->scored_frame_number, 1);
      fail_unless (fabs (m->score - tm.noise_score) < 1e-6 * tm.noise_score, "frame %u: %g", i,
          m->score);
      fail_unless_equals_int (m->flagged, FALSE);
    }
    gst_buffer_unref (b);
  }
  /* one warning, not one per frame; messages only for the two finite
   * frames, and never a NaN */
  GstMessage *msg;
  guint warnings = 0, frames = 0;
  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      GError *err;
      gchar *dbg;
      gst_message_parse_warning (msg, &err, &dbg);
      fail_unless (strstr (err->message, "non-finite") && strstr (dbg, tm.path), "%s | %s",
          err->message, dbg);
      g_error_free (err);
      g_free (dbg);
      warnings++;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      const GstStructure *s = gst_message_get_structure (msg);
      gdouble score, norm, peak;
      if (gst_structure_has_name (s, "decentanomaly")) {
        fail_unless (gst_structure_get_double (s, "score", &score)
            && gst_structure_get_double (s, "normalized-score", &norm));
        fail_unless (isfinite (score) && isfinite (norm));
        frames++;
      } else if (gst_structure_has_name (s, "decentanomaly-event")) {
        fail_unless (gst_structure_get_double (s, "score", &score)
            && gst_structure_get_double (s, "peak-score", &peak));
        fail_unless (isfinite (score) && isfinite (peak));
      }
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (warnings, 1);
  fail_unless_equals_int (frames, 2);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* A buffer whose GstVideoMeta describes memory it does not have (rows 4
 * times longer than the buffer holds, a negative stride from its start, the
 * whole frame's meta on half a frame) passes on unscored and untouched,
 * said once: GstVideoFilter mapped it as the meta said, and the overlay
 * read and wrote past the buffer (helper-69: a crash; ASan: a heap
 * overflow in gst_video_frame_copy).  A frame whose meta tells the truth,
 * with rows longer than the caps' default, is scored. */
GST_START_TEST (test_lying_video_meta)
{
  GstHarness *h = model_harness ("message-mode=all mode=overlay");
  GstBus *bus = harness_bus (h);
  const gsize frame = MW * MH;
  struct { gsize size, offset; gint stride; } lies[] = {
    { frame, 0, MW * 4 }, { frame, 0, -MW }, { frame / 2, 0, MW }, { frame, frame, MW },
  };
  for (guint i = 0; i <= G_N_ELEMENTS (lies); i++) {
    const gboolean truth = i == G_N_ELEMENTS (lies);
    const gsize size = truth ? 2 * frame : lies[i].size;
    const gsize offset = truth ? 0 : lies[i].offset;
    const gint stride = truth ? 2 * MW : lies[i].stride;
    GstBuffer *b = gst_buffer_new_allocate (NULL, size, NULL);
    gst_buffer_memset (b, 0, 77, size);
    GST_BUFFER_PTS (b) = i * GST_SECOND / 30;
    gsize offsets[GST_VIDEO_MAX_PLANES] = { offset };
    gint strides[GST_VIDEO_MAX_PLANES] = { stride };
    gst_buffer_add_video_meta_full (b, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_GRAY8, MW, MH,
        1, offsets, strides);
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull (h);
    GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (out);
    fail_unless ((m != NULL) == truth, "buffer %u: meta %p", i, m);
    if (!truth) { /* untouched: not drawn on */
      GstMapInfo map;
      fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
      for (gsize k = 0; k < map.size; k++)
        fail_unless_equals_int (map.data[k], 77);
      gst_buffer_unmap (out, &map);
    }
    gst_buffer_unref (out);
  }
  GstMessage *msg;
  guint warnings = 0;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING | GST_MESSAGE_ERROR))) {
    gchar *text = message_text (msg);
    fail_unless (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING
        && strstr (text, "does not hold the video frame it should")
        && strstr (text, "the buffer's video meta puts plane 0 of GRAY8 16x16 at offset 0 with "
            "rows of 64 bytes (16 rows of 16 bytes), outside the 256-byte buffer"), "%s", text);
    g_free (text);
    warnings++;
    gst_message_unref (msg);
  }
  fail_unless_equals_int (warnings, 1);
  harness_bus_teardown (h, bus);

  /* a plane across two memory blocks is mapped from the first alone; odd
   * YUY2's last chroma lies past 2 × width bytes (helper-70) */
  GstVideoInfo info;
  gchar *why = NULL;
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, 16, 16);
  GstBuffer *split = gst_buffer_new ();
  gst_buffer_append_memory (split, gst_allocator_alloc (NULL, 128, NULL));
  gst_buffer_append_memory (split, gst_allocator_alloc (NULL, 128, NULL));
  gsize offsets[GST_VIDEO_MAX_PLANES] = { 0 };
  gint strides[GST_VIDEO_MAX_PLANES] = { 16 };
  gst_buffer_add_video_meta_full (split, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_GRAY8, 16,
      16, 1, offsets, strides);
  fail_if (decent_buffer_layout_fits (split, &info, &why));
  fail_unless (strstr (why, "outside the 128-byte memory block that holds its start"), "%s", why);
  g_clear_pointer (&why, g_free);
  gst_buffer_unref (split);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_YUY2, 33, 25);
  for (gint tight = 0; tight < 2; tight++) {
    strides[0] = tight ? 66 : 68;
    GstBuffer *yuy2 = gst_buffer_new_allocate (NULL, (gsize) strides[0] * 25, NULL);
    gst_buffer_add_video_meta_full (yuy2, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_YUY2, 33,
        25, 1, offsets, strides);
    fail_unless (decent_buffer_layout_fits (yuy2, &info, &why) == !tight, "stride %d: %s",
        strides[0], why);
    g_clear_pointer (&why, g_free);
    gst_buffer_unref (yuy2);
  }
}
GST_END_TEST;

/* The sink answers the allocation query: it takes GstVideoMeta and
 * GstVideoCropMeta (as a display sink does). */
static GstPadProbeReturn
offer_crop_meta (GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
  GstQuery *q = GST_PAD_PROBE_INFO_QUERY (info);
  if (GST_QUERY_TYPE (q) != GST_QUERY_ALLOCATION)
    return GST_PAD_PROBE_OK;
  gst_query_add_allocation_meta (q, GST_VIDEO_META_API_TYPE, NULL);
  gst_query_add_allocation_meta (q, GST_VIDEO_CROP_META_API_TYPE, NULL);
  return GST_PAD_PROBE_HANDLED;
}

/* videocrop before decentanomaly, with a sink that takes crop metas: the
 * frames decentanomaly scores are cropped, not whole frames with a crop
 * meta it would ignore (helper-70: the uncropped picture was scored and
 * drawn on) */
GST_START_TEST (test_crop_meta_not_offered)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! "
      "videocrop left=16 top=8 ! decentanomaly model-location=\"%s\" mode=overlay ! "
      "appsink name=sink", tm.path);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  fail_unless (pipe != NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM | GST_PAD_PROBE_TYPE_PUSH,
      offer_crop_meta, NULL, NULL);
  gst_object_unref (pad);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  guint n = 0;
  GstSample *sample;
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    GstBuffer *b = gst_sample_get_buffer (sample);
    GstVideoInfo info;
    fail_unless (gst_video_info_from_caps (&info, gst_sample_get_caps (sample)));
    fail_unless_equals_int (GST_VIDEO_INFO_WIDTH (&info), 48);
    fail_unless (gst_buffer_get_video_crop_meta (b) == NULL, "a crop left to a meta");
    GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
    fail_unless (m && m->scored);
    GstVideoMeta *vm = gst_buffer_get_video_meta (b);
    fail_unless (!vm || (vm->width == 48 && vm->height == 40), "meta %ux%u", vm->width,
        vm->height);
    gst_sample_unref (sample);
    n++;
  }
  fail_unless_equals_int (n, 2);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipe);
}
GST_END_TEST;

/* A buffer too small for a frame of the caps (an empty GAP buffer, a short
 * one) passes on unscored and without meta, said once in words (helper-66:
 * GstVideoFilter's "code not implemented"); the next frame is scored. */
GST_START_TEST (test_short_buffers_said)
{
  GstHarness *h = model_harness ("message-mode=all");
  GstBus *bus = harness_bus (h);
  GstBuffer *empty_gap = gst_buffer_new ();
  GST_BUFFER_FLAG_SET (empty_gap, GST_BUFFER_FLAG_GAP);
  GST_BUFFER_PTS (empty_gap) = 0;
  GstBuffer *shorter = gst_buffer_new_allocate (NULL, MW * MH - 1, NULL);
  GST_BUFFER_PTS (shorter) = GST_SECOND / 30;
  GstBuffer *in[] = { empty_gap, shorter, gray_frame (FALSE, 2) };
  for (guint i = 0; i < G_N_ELEMENTS (in); i++) {
    fail_unless_equals_int (gst_harness_push (h, in[i]), GST_FLOW_OK);
    GstBuffer *b = gst_harness_pull (h);
    GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
    fail_unless ((m != NULL) == (i == 2), "buffer %u: meta %p", i, m);
    fail_unless (i < 2 || (m->scored && m->frame_number == 0), "the frame after them");
    gst_buffer_unref (b);
  }
  GstMessage *msg;
  guint warnings = 0, scored = 0;
  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      gchar *text = message_text (msg);
      fail_unless (strstr (text, "does not hold the video frame it should")
          && strstr (text, "a 0-byte buffer (flagged GAP) where GRAY8 16x16 takes 256 bytes"),
          "%s", text);
      g_free (text);
      warnings++;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
               && gst_structure_has_name (gst_message_get_structure (msg), "decentanomaly"))
      scored++;
    gst_message_unref (msg);
  }
  fail_unless_equals_int (warnings, 1);
  fail_unless_equals_int (scored, 1);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* ---- 6: a FIFO as model file ------------------------------------------- */

/* threshold=0 flags every frame: the normalized score must say "above"
 * (it read 0, "far below", on flagged frames), in the meta and the message */
GST_START_TEST (test_zero_threshold_normalized)
{
  GstHarness *h = model_harness ("threshold=0 message-mode=all");
  GstBus *bus = harness_bus (h);
  fail_unless_equals_int (gst_harness_push (h, gray_frame (TRUE, 0)), GST_FLOW_OK);
  GstBuffer *b = gst_harness_pull (h);
  GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
  fail_unless (m && m->flagged && m->score > 0 && m->normalized_score > 1.0, "%g / %g",
      m ? m->score : 0, m ? m->normalized_score : 0);
  gst_buffer_unref (b);
  GstMessage *msg;
  gboolean seen = FALSE;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *st = gst_message_get_structure (msg);
    gdouble norm = 0;
    if (gst_structure_has_name (st, "decentanomaly")) {
      fail_unless (gst_structure_get_double (st, "normalized-score", &norm) && norm > 1.0,
          "message: normalized-score %g", norm);
      seen = TRUE;
    }
    gst_message_unref (msg);
  }
  fail_unless (seen, "no decentanomaly message");
  harness_bus_teardown (h, bus);
  fail_unless (gst_decent_anomaly_normalized_score (0.5, 0.25) == 2.0);
  fail_unless (gst_decent_anomaly_normalized_score (0.0, 0.0) == 0.0);
  fail_unless (gst_decent_anomaly_normalized_score (NAN, 1.0) == 0.0);
  /* never infinite: over a subnormal threshold the largest double; and
   * G_MAXDOUBLE, the threshold where nothing is flagged, gives 0 */
  fail_unless (gst_decent_anomaly_normalized_score (0.5, 1e-320) == G_MAXDOUBLE);
  fail_unless (gst_decent_anomaly_normalized_score (0.5, G_MAXDOUBLE) == 0.0);
}
GST_END_TEST;

/* The heatmap getter answers for the map as made: sizes written over by an
 * application (fields are writable from bindings) cannot make it read past
 * the map, and a size whose value count overflows is refused. */
GST_START_TEST (test_meta_heatmap_bounds)
{
  GstBuffer *b = gst_buffer_new ();
  const gfloat map[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
  GstDecentAnomalyMeta *m = gst_buffer_add_decent_anomaly_meta (b, 1.0, 0.5, TRUE, map, 4, 3);
  guint n = 0;
  const gfloat *got = gst_decent_anomaly_meta_get_heatmap (m, &n);
  fail_unless (got && n == 12 && got[11] == 12.0f);
  m->heatmap_width = 4000;
  fail_unless (gst_decent_anomaly_meta_get_heatmap (m, &n) == NULL && n == 0);
  m->heatmap_width = 4;
  /* a copy carries the map and its size */
  GstBuffer *c = gst_buffer_copy_deep (b);
  GstDecentAnomalyMeta *mc = gst_buffer_get_decent_anomaly_meta (c);
  fail_unless (mc && gst_decent_anomaly_meta_get_heatmap (mc, &n) && n == 12);
  gst_buffer_unref (c);
  /* a copy made after the sizes were written over copies no map (it read
   * width x height values from a map of 12) */
  m->heatmap_width = m->heatmap_height = 1000;
  c = gst_buffer_copy (b);
  mc = gst_buffer_get_decent_anomaly_meta (c);
  fail_unless (mc && mc->score == 1.0 && gst_decent_anomaly_meta_get_heatmap (mc, &n) == NULL
      && n == 0 && mc->heatmap_width == 0);
  gst_buffer_unref (c);
  gst_buffer_unref (b);
  b = gst_buffer_new ();
  ASSERT_CRITICAL (m = gst_buffer_add_decent_anomaly_meta (b, 1.0, 0.5, TRUE, map, 65536,
          65536));
  fail_unless (m == NULL);
  gst_buffer_unref (b);
}
GST_END_TEST;

GST_START_TEST (test_fifo_model)
{
  gchar *fifo = g_build_filename (tm.dir, "fifo.dcnt", NULL);
  fail_unless (mkfifo (fifo, 0600) == 0);
  gint64 t0 = g_get_monotonic_time ();
  gchar *text = error_for_location (fifo, NULL, 10);
  fail_unless (text && strstr (text, fifo) && strstr (text, "is not a regular file"), "%s", text);
  fail_unless (g_get_monotonic_time () - t0 < 10 * G_TIME_SPAN_SECOND);
  g_free (text);

  /* as a hot reload: a failed status message, the old model stays */
  GstHarness *h = model_harness (NULL);
  GstBus *bus = harness_bus (h);
  fail_unless_equals_int (gst_harness_push (h, gray_frame (TRUE, 0)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  GstElement *e = gst_harness_find_element (h, "decentanomaly");
  g_object_set (e, "model-location", fifo, NULL);
  GstMessage *msg = wait_element_message (bus, "decentanomaly-model", 10);
  fail_unless (msg != NULL, "no decentanomaly-model message for the FIFO");
  const GstStructure *s = gst_message_get_structure (msg);
  fail_unless_equals_string (gst_structure_get_string (s, "status"), "failed");
  fail_unless (strstr (gst_structure_get_string (s, "reason"), "is not a regular file"));
  gst_message_unref (msg);
  fail_unless_equals_int (gst_harness_push (h, gray_frame (TRUE, 1)), GST_FLOW_OK);
  GstBuffer *b = gst_harness_pull (h);
  fail_unless (gst_buffer_get_decent_anomaly_meta (b)->flagged);
  gst_buffer_unref (b);
  gst_object_unref (e);
  harness_bus_teardown (h, bus);
  g_unlink (fifo);
  g_free (fifo);
}
GST_END_TEST;

/* ---- 7: interlaced video ----------------------------------------------- */

GST_START_TEST (test_interlaced_refused)
{
  gchar *desc = g_strdup_printf ("decentanomaly model-location=\"%s\"", tm.path);
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  GstBus *bus = harness_bus (h);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1,interlace-mode=interleaved");
  fail_unless (gst_harness_push (h, gray_frame (FALSE, 0)) != GST_FLOW_OK);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error for interlaced caps");
  GError *err;
  gchar *dbg;
  gst_message_parse_error (msg, &err, &dbg);
  fail_unless (strstr (err->message, "Interlaced video is not supported")
      && strstr (err->message, "deinterlace"), "%s", err->message);
  fail_if (strstr (err->message, "roi") || (dbg && strstr (dbg, "roi")), "%s | %s",
      err->message, dbg);
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);
  /* the harness sends the refused caps again before each buffer: said once */
  for (guint i = 0; i < 3; i++)
    fail_unless (gst_harness_push (h, gray_frame (FALSE, 0)) != GST_FLOW_OK);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "the refusal was posted again");
  /* caps it takes, then the interlaced ones again: said again (helper-68) */
  gst_harness_set_src_caps_str (h, GRAY_CAPS);
  fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, 0)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1,interlace-mode=interleaved");
  fail_unless (gst_harness_push (h, gray_frame (FALSE, 0)) != GST_FLOW_OK);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "interlaced caps after progressive ones: no error");
  gst_message_unref (msg);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* The next warning on bus, which must say `said`. */
static void
expect_warning (GstBus *bus, const gchar *said)
{
  GstMessage *w = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  gchar *text = w ? message_text (w) : NULL;
  fail_unless (text && strstr (text, said), "want a warning that says \"%s\", got %s", said,
      text);
  g_free (text);
  gst_message_unref (w);
}

/* model-instance-id, batch-size and batch-timeout choose the engine at
 * start: a change while started is said (it was read back as set and did
 * nothing: helper-67); the value already set, or an empty id for none,
 * says nothing.  So is a new device, which waits for the next model load
 * (helper-68). */
GST_START_TEST (test_engine_settings_said_while_started)
{
  gchar *desc = g_strdup_printf ("decentanomaly model-location=\"%s\"", tm.path);
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  GstBus *bus = harness_bus (h);
  gst_harness_set_src_caps_str (h, GRAY_CAPS);
  fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, 0)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  GstElement *e = gst_harness_find_element (h, "decentanomaly");
  guint size = 0;
  g_object_get (e, "batch-size", &size, NULL);
  g_object_set (e, "batch-size", size, "model-instance-id", "", "threshold", 2.0, NULL);
  fail_if (gst_bus_have_pending (bus), "a warning for a value already set");
  g_object_set (e, "batch-size", size + 1, NULL);
  gst_object_unref (e);
  /* (without model-instance-id it is never used: said so, not "at the
   * next start", which then said that: helper-86) */
  expect_warning (bus, "batch-size is not used without model-instance-id");
  fail_if (gst_bus_have_pending (bus), "more than one warning");
  /* threads is taken at the next frame: more than the cores is said as at
   * start (it was not: 1 frame a second, unsaid), and threads=0 says nothing */
  e = gst_harness_find_element (h, "decentanomaly");
  g_object_set (e, "threads", g_get_num_processors () + 1, NULL);
  expect_warning (bus, "is more than the");
  g_object_set (e, "threads", 0, NULL);
  gst_object_unref (e);
  fail_if (gst_bus_have_pending (bus), "a warning for threads=0");
  /* device is read at each model load: the device the model runs on, by
   * its name rather than auto, is no change; another waits for the next
   * load and says so */
  e = gst_harness_find_element (h, "decentanomaly");
  const gboolean gpu = decent_device_available (DECENT_DEVICE_CUDA);
  g_object_set (e, "device", gpu ? DECENT_DEVICE_CUDA : DECENT_DEVICE_CPU, NULL);
  fail_if (gst_bus_have_pending (bus), "a warning for the device the model runs on");
  g_object_set (e, "device", gpu ? DECENT_DEVICE_CPU : DECENT_DEVICE_CUDA, NULL);
  gst_object_unref (e);
  expect_warning (bus, "device takes effect when a model is loaded again");
  harness_bus_teardown (h, bus);

  /* a shared engine keeps its device until every sharer stops; where the
   * element runs is recorded for set_property, which must not look at the
   * model or the sharer that a swap or stop frees meanwhile (helper-72) */
  desc = g_strdup_printf ("decentanomaly model-location=\"%s\" model-instance-id=dev-said",
      tm.path);
  h = gst_harness_new_parse (desc);
  g_free (desc);
  bus = harness_bus (h);
  gst_harness_set_src_caps_str (h, GRAY_CAPS);
  fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, 0)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  e = gst_harness_find_element (h, "decentanomaly");
  g_object_set (e, "device", gpu ? DECENT_DEVICE_CPU : DECENT_DEVICE_CUDA, NULL);
  expect_warning (bus, "device cannot change while the engine of model-instance-id is shared");
  /* a shared engine keeps its threads until it starts again: said */
  g_object_set (e, "threads", 1, NULL);
  expect_warning (bus, "threads takes effect when the element starts again");
  /* stopped: nothing runs, so nothing to say */
  gst_element_set_state (e, GST_STATE_NULL);
  g_object_set (e, "device", gpu ? DECENT_DEVICE_CUDA : DECENT_DEVICE_CPU, NULL);
  /* (state changes were posted: filtered) */
  GstMessage *w = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  gchar *text = w ? message_text (w) : NULL;
  fail_if (w != NULL, "a warning while stopped: %s", text);
  gst_object_unref (e);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* The frame path on its own: interlaced formats are refused with a true
 * reason, a frame of another format is not drawn on, and non-finite map
 * values are drawn as the coolest (NaN, -inf) and hottest (+inf) colour. */
GST_START_TEST (test_frame_path_reasons_and_nonfinite_maps)
{
  DecentFramePath p = { 0 };
  GstVideoInfo info;
  DecentRoi whole = { FALSE, 0, 0, 0, 0 }, outside = { TRUE, 40, 0, 8, 8 };
  gchar *why = NULL;

  gst_video_info_set_interlaced_format (&info, GST_VIDEO_FORMAT_I420,
      GST_VIDEO_INTERLACE_MODE_INTERLEAVED, 32, 32);
  info.fps_n = 30;
  fail_if (decent_frame_path_setup (&p, &info, &whole, MW, MH, 1, &why));
  fail_unless (why && strstr (why, "interlaced") && !strstr (why, "roi"), "%s", why);
  g_clear_pointer (&why, g_free);

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, 32, 32);
  fail_if (decent_frame_path_setup (&p, &info, &outside, MW, MH, 1, &why));
  fail_unless (why && strstr (why, "roi") && strstr (why, "outside"), "%s", why);
  g_clear_pointer (&why, g_free);

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, MW, MH);
  fail_unless (decent_frame_path_setup (&p, &info, &whole, MW, MH, 1, &why), "%s", why);
  gfloat map[MW * MH];
  const gfloat special[3] = { NAN, INFINITY, -INFINITY };
  for (int k = 0; k < 3; k++) {
    for (int i = 0; i < MW * MH; i++)
      map[i] = special[k];
    GstBuffer *buf = gst_buffer_new_allocate (NULL, MW * MH, NULL);
    gst_buffer_memset (buf, 0, 128, MW * MH);
    GstVideoFrame frame;
    fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_READWRITE));
    fail_unless (decent_frame_path_draw_heatmap (&p, &frame, map, 1.0, 1.0, FALSE));
    const guint8 *y = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
    for (int i = 0; i < MW * MH; i++)
      fail_unless (k == 1 ? y[i] > 200 : y[i] < 20, "value %g drawn as luma %u", special[k], y[i]);
    gst_video_frame_unmap (&frame);
    gst_buffer_unref (buf);
  }
  /* a frame of another size than the path was built for */
  GstVideoInfo big;
  gst_video_info_set_format (&big, GST_VIDEO_FORMAT_GRAY8, 64, 48);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, big.size, NULL);
  gst_buffer_memset (buf, 0, 128, big.size);
  GstVideoFrame frame;
  fail_unless (gst_video_frame_map (&frame, &big, buf, GST_MAP_READWRITE));
  fail_if (decent_frame_path_draw_heatmap (&p, &frame, map, 1.0, 1.0, FALSE));
  fail_unless (decent_frame_path_to_model (&p, &frame) == NULL);
  const guint8 *y = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
  for (gsize i = 0; i < big.size; i++)
    fail_unless (y[i] == 128, "a mismatched frame was drawn on");
  gst_video_frame_unmap (&frame);
  gst_buffer_unref (buf);
  decent_frame_path_clear (&p);
}
GST_END_TEST;

/* Packed 4:2:2 of odd width: the last pair's chroma lies past width × 2
 * bytes, and is blended too (opacity 1: every byte of the row, up to the
 * last V, is the heatmap's), as in a semi-planar format. */
GST_START_TEST (test_overlay_odd_width_packed)
{
  const GstVideoFormat formats[] = { GST_VIDEO_FORMAT_YUY2, GST_VIDEO_FORMAT_UYVY,
    GST_VIDEO_FORMAT_NV12 };
  enum { W = 5, H = 4 };
  for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
    for (int proportional = 0; proportional < 2; proportional++) {
      DecentFramePath p = { 0 };
      DecentRoi whole = { FALSE, 0, 0, 0, 0 };
      GstVideoInfo info;
      gchar *why = NULL;
      gst_video_info_set_format (&info, formats[f], W, H);
      fail_unless (decent_frame_path_setup (&p, &info, &whole, MW, MH, 1, &why), "%s", why);
      gfloat map[MW * MH];
      for (int i = 0; i < MW * MH; i++)
        map[i] = INFINITY; /* the hottest colour, opacity 1 */
      GstBuffer *buf = gst_buffer_new_allocate (NULL, info.size, NULL);
      gst_buffer_memset (buf, 0, 128, info.size);
      GstVideoFrame frame, scratch;
      fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_READWRITE));
      fail_unless (decent_frame_path_draw_heatmap (&p, &frame, map, 1.0, 1.0, proportional));
      fail_unless (gst_video_frame_map (&scratch, &info, p.scratch, GST_MAP_READ));
      const gint last_plane = GST_VIDEO_FRAME_N_PLANES (&frame) - 1;
      const gint row = last_plane ? 2 * ((W + 1) / 2) : 4 * ((W + 1) / 2); /* bytes */
      const gint rows = last_plane ? (H + 1) / 2 : H;
      const guint8 *got = GST_VIDEO_FRAME_PLANE_DATA (&frame, last_plane);
      const guint8 *heat = GST_VIDEO_FRAME_PLANE_DATA (&scratch, last_plane);
      const gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, last_plane);
      /* the luma of the pair's missing pixel is padding */
      const gint padding = last_plane ? -1 : (gint) GST_VIDEO_FRAME_COMP_POFFSET (&frame, 0) + 2 * W;
      for (gint y = 0; y < rows; y++)
        for (gint x = 0; x < row; x++)
          fail_unless (x == padding
                  || (got[y * stride + x] == heat[y * stride + x] && heat[y * stride + x] != 128),
              "%s (proportional %d): byte %d of row %d is %u, the heatmap's %u",
              gst_video_format_to_string (formats[f]), proportional, x, y,
              got[y * stride + x], heat[y * stride + x]);
      gst_video_frame_unmap (&scratch);
      gst_video_frame_unmap (&frame);
      gst_buffer_unref (buf);
      decent_frame_path_clear (&p);
    }
}
GST_END_TEST;

/* Drawn on a frame of fill bytes: the frame's bytes of every plane after
 * decent_frame_path_draw_heatmap with a gradient map over roi (caller
 * frees), and the drawn region in *drawn. */
static guint8 *
draw_on_fill (GstVideoFormat format, gint w, gint h, const DecentRoi *roi, guint8 fill,
    gboolean proportional, gsize *size, DecentRoi *drawn)
{
  DecentFramePath p = { 0 };
  GstVideoInfo info;
  gchar *why = NULL;
  gst_video_info_set_format (&info, format, w, h);
  fail_unless (decent_frame_path_setup (&p, &info, roi, MW, MH, 1, &why), "%s", why);
  gfloat map[MW * MH];
  for (int i = 0; i < MW * MH; i++)
    map[i] = (gfloat) i / (MW * MH); /* every opacity from 0 to about 1 */
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  gst_buffer_memset (buf, 0, fill, info.size);
  GstVideoFrame frame;
  fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_READWRITE));
  fail_unless (decent_frame_path_draw_heatmap (&p, &frame, map, 1.0, 1.0, proportional));
  gst_video_frame_unmap (&frame);
  *size = info.size;
  *drawn = p.drawn;
  guint8 *out = g_malloc (info.size);
  gst_buffer_extract (buf, 0, out, info.size);
  gst_buffer_unref (buf);
  decent_frame_path_clear (&p);
  return out;
}

/* A roi at odd coordinates, drawn in every format: nothing outside it
 * changes, but the chroma samples it shares (at most a pixel each side),
 * and in heatmap mode what is drawn does not depend on the frame under it.
 * Before, heatmap mode wiped the roi's rows across the whole frame (the
 * converter writes whole rows of the scratch: 17 of 19 formats), and an
 * odd x left a column of bytes the converter never set (valgrind;
 * helper-58's hostile run). */
GST_START_TEST (test_draw_stays_in_an_odd_roi)
{
  /* every format decentanomaly takes (GST_DECENT_VIDEO_FORMATS) */
  const GstVideoFormat formats[] = { GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR,
    GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_xBGR,
    GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_ARGB, GST_VIDEO_FORMAT_ABGR,
    GST_VIDEO_FORMAT_GRAY8, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_YV12, GST_VIDEO_FORMAT_NV12,
    GST_VIDEO_FORMAT_NV21, GST_VIDEO_FORMAT_Y42B, GST_VIDEO_FORMAT_Y444, GST_VIDEO_FORMAT_YUY2,
    GST_VIDEO_FORMAT_UYVY };
  const DecentRoi rois[] = { { TRUE, 31, 23, 20, 20 }, { TRUE, 30, 22, 20, 20 },
    { TRUE, 1, 1, 3, 3 }, { TRUE, 60, 40, 20, 20 } /* past the frame's corner */ };
  const gint sizes[][2] = { { 64, 48 }, { 63, 47 } }; /* odd: padding after the last pair */
  for (guint z = 0; z < G_N_ELEMENTS (sizes); z++)
  for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
    for (guint r = 0; r < G_N_ELEMENTS (rois); r++)
      for (int proportional = 0; proportional < 2; proportional++) {
        const gint W = sizes[z][0], H = sizes[z][1];
        const gchar *name = gst_video_format_to_string (formats[f]);
        gsize size;
        DecentRoi drawn;
        guint8 *dark = draw_on_fill (formats[f], W, H, &rois[r], 0x20, proportional, &size,
            &drawn);
        guint8 *light = draw_on_fill (formats[f], W, H, &rois[r], 0xd0, proportional, &size,
            &drawn);
        DecentRoi clipped;
        fail_unless (decent_roi_clip (&rois[r], W, H, &clipped));
        /* drawn: the roi widened by at most one pixel each side */
        fail_unless (drawn.x <= clipped.x && drawn.x >= clipped.x - 1 && drawn.y <= clipped.y
            && drawn.y >= clipped.y - 1 && drawn.x + drawn.width >= clipped.x + clipped.width
            && drawn.x + drawn.width <= clipped.x + clipped.width + 1
            && drawn.y + drawn.height >= clipped.y + clipped.height
            && drawn.y + drawn.height <= clipped.y + clipped.height + 1,
            "%s: roi %d,%d %dx%d drawn at %d,%d %dx%d", name, clipped.x, clipped.y,
            clipped.width, clipped.height, drawn.x, drawn.y, drawn.width, drawn.height);
        GstVideoInfo info;
        gst_video_info_set_format (&info, formats[f], W, H);
        GstBuffer *wrap = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY, dark, size, 0,
            size, NULL, NULL);
        GstVideoFrame frame;
        fail_unless (gst_video_frame_map (&frame, &info, wrap, GST_MAP_READ));
        /* which bytes belong to pixels of the drawn region: every pixel
         * inside it, whatever the plane, with its padding (BGRx's x) */
        guint8 *inside = g_malloc0 (size);
        for (guint pl = 0; pl < GST_VIDEO_FRAME_N_PLANES (&frame); pl++) {
          gint comps[GST_VIDEO_MAX_COMPONENTS];
          gst_video_format_info_component (info.finfo, pl, comps);
          for (gint k = 0; k < GST_VIDEO_MAX_COMPONENTS && comps[k] >= 0; k++) {
            const gint c = comps[k];
            const guint ws = GST_VIDEO_FORMAT_INFO_W_SUB (info.finfo, c),
                        hs = GST_VIDEO_FORMAT_INFO_H_SUB (info.finfo, c);
            const gint pstride = info.finfo->pixel_stride[c];
            for (gint y = drawn.y; y < drawn.y + drawn.height; y++)
              for (gint x = drawn.x; x < drawn.x + drawn.width; x++)
                memset (inside + info.offset[pl] + (gsize) (y >> hs) * info.stride[pl]
                    + (gsize) (x >> ws) * pstride, 1, pstride);
          }
        }
        gst_video_frame_unmap (&frame);
        gst_buffer_unref (wrap);
        for (gsize i = 0; i < size; i++) {
          if (!inside[i])
            fail_unless (dark[i] == 0x20 && light[i] == 0xd0, "%s %dx%d, roi %d,%d "
                "(proportional %d): byte %zu outside the drawn region changed (%u, %u)", name,
                W, H, rois[r].x, rois[r].y, proportional, i, dark[i], light[i]);
          else if (!proportional)
            fail_unless (dark[i] == light[i], "%s %dx%d, roi %d,%d: byte %zu of the heatmap "
                "depends on the frame under it (%u over 0x20, %u over 0xd0)", name, W, H,
                rois[r].x, rois[r].y, i, dark[i], light[i]);
        }
        g_free (inside);
        g_free (dark);
        g_free (light);
      }
}
GST_END_TEST;

/* ---- 9: hot-reload storms ---------------------------------------------- */

typedef struct {
  GMutex lock;
  GCond cond;
  gboolean hold, holding;
} Gate;

/* Holds the loader thread inside its first warning (the failed load of a
 * bad file) until the test opens the gate: every set while it waits lands
 * during one load. */
static GstBusSyncReply
gate_sync (GstBus *bus, GstMessage *msg, gpointer data)
{
  Gate *g = data;
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_WARNING)
    return GST_BUS_PASS;
  g_mutex_lock (&g->lock);
  g->holding = TRUE;
  g_cond_broadcast (&g->cond);
  while (g->hold)
    g_cond_wait (&g->cond, &g->lock);
  g->holding = FALSE;
  g_mutex_unlock (&g->lock);
  return GST_BUS_PASS;
}

static volatile gint loads_logged;

static void
count_loads (GstDebugCategory *category, GstDebugLevel level, const gchar *file,
    const gchar *function, gint line, GObject *object, GstDebugMessage *message, gpointer data)
{
  if (g_str_equal (gst_debug_category_get_name (category), "decentanomaly")
      && g_str_has_prefix (gst_debug_message_get (message), "loaded "))
    g_atomic_int_inc (&loads_logged);
}

/* engine/frame_layout.h, the one table of frame layouts, against
 * GStreamer's own description of each format it names: every name maps
 * back to its row, the planes and bytes per pixel agree, and formats the
 * engine has no layout for are -1. */
GST_START_TEST (test_frame_layout_table)
{
  for (int f = 0; f < DECENT_FRAME_FORMATS; f++) {
    const DecentFrameLayout *l = decent_frame_layout (f);
    gchar **names = g_strsplit (l->gst_names, " ", -1);
    fail_unless (names[0] != NULL, "format %d has no name", f);
    for (gchar **n = names; *n; n++) {
      const GstVideoFormat v = gst_video_format_from_string (*n);
      fail_unless (v != GST_VIDEO_FORMAT_UNKNOWN, "%s is not a GStreamer format", *n);
      fail_unless_equals_int (decent_frame_path_engine_format (v), f);
      const GstVideoFormatInfo *info = gst_video_format_get_info (v);
      fail_unless_equals_int (GST_VIDEO_FORMAT_INFO_N_PLANES (info), l->planes);
      fail_unless_equals_int (GST_VIDEO_FORMAT_INFO_PSTRIDE (info, 0), l->pixel_bytes);
      fail_unless (GST_VIDEO_FORMAT_INFO_IS_YUV (info) == (l->chroma != DECENT_CHROMA_NONE),
          "%s: YUV or not", *n);
      if (l->red >= 0) /* packed RGB: where GStreamer puts R, G and B */
        fail_unless (GST_VIDEO_FORMAT_INFO_POFFSET (info, GST_VIDEO_COMP_R) == (guint) l->red
            && GST_VIDEO_FORMAT_INFO_POFFSET (info, GST_VIDEO_COMP_G) == (guint) l->green
            && GST_VIDEO_FORMAT_INFO_POFFSET (info, GST_VIDEO_COMP_B) == (guint) l->blue,
            "%s: byte offsets of R, G, B", *n);
    }
    g_strfreev (names);
  }
  fail_unless_equals_int (decent_frame_path_engine_format (GST_VIDEO_FORMAT_YV12), -1);
  fail_unless_equals_int (decent_frame_path_engine_format (GST_VIDEO_FORMAT_NV21), -1);
  fail_unless_equals_int (decent_frame_path_engine_format (GST_VIDEO_FORMAT_UNKNOWN), -1);
  fail_unless (decent_frame_layout (DECENT_FRAME_FORMATS) == NULL
      && decent_frame_layout (-1) == NULL);
}
GST_END_TEST;

/* threads of this process named after the loader (comm is cut to 15 bytes) */
static guint
loader_threads (void)
{
  guint n = 0;
  GDir *d = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *tid;
  while (d && (tid = g_dir_read_name (d))) {
    gchar *path = g_strdup_printf ("/proc/self/task/%s/comm", tid), *comm = NULL;
    if (g_file_get_contents (path, &comm, NULL, NULL) && g_str_has_prefix (comm, "decent-model"))
      n++;
    g_free (comm);
    g_free (path);
  }
  if (d)
    g_dir_close (d);
  return n;
}

GST_START_TEST (test_reload_storm)
{
  TestModel a = { g_strdup (tm.dir), NULL, 0, 0, 0 }, b = { g_strdup (tm.dir), NULL, 0, 0, 0 };
  test_model_make (&a, "a.dcnt", 111.0f);
  test_model_make (&b, "b.dcnt", 222.0f);
  gchar *bad = g_build_filename (tm.dir, "bad.dcnt", NULL);
  fail_unless (g_file_set_contents (bad, "not a model", -1, NULL));

  GstHarness *h = anomaly_harness (tm.path, NULL);
  GstBus *bus = gst_bus_new ();
  Gate gate;
  g_mutex_init (&gate.lock);
  g_cond_init (&gate.cond);
  gate.hold = TRUE;
  gate.holding = FALSE;
  gst_bus_set_sync_handler (bus, gate_sync, &gate, NULL);
  gst_element_set_bus (h->element, bus);
  fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, 0)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));

  gst_debug_set_threshold_for_name ("decentanomaly", GST_LEVEL_INFO);
  gst_debug_add_log_function (count_loads, NULL, NULL);
  g_atomic_int_set (&loads_logged, 0);
  GstElement *e = gst_harness_find_element (h, "decentanomaly");
  g_object_set (e, "model-location", bad, NULL);
  g_mutex_lock (&gate.lock);
  gint64 deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  while (!gate.holding && g_get_monotonic_time () < deadline)
    g_cond_wait_until (&gate.cond, &gate.lock, deadline);
  g_mutex_unlock (&gate.lock);
  fail_unless (gate.holding, "the bad file's load never failed");

  guint peak = 0;
  for (int i = 0; i < 400; i++) {
    g_object_set (e, "model-location", i % 2 ? b.path : a.path, NULL);
    if (i % 8 == 0)
      peak = MAX (peak, loader_threads ());
  }
  peak = MAX (peak, loader_threads ());
  g_mutex_lock (&gate.lock);
  gate.hold = FALSE;
  g_cond_broadcast (&gate.cond);
  g_mutex_unlock (&gate.lock);

  /* the last path set (b) is the model in the end */
  guint pushed = 1;
  gboolean on_b = FALSE;
  deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  while (!on_b && g_get_monotonic_time () < deadline) {
    GstBuffer *out = (gst_harness_push (h, gray_frame (FALSE, pushed++)), gst_harness_pull (h));
    on_b = gst_buffer_get_decent_anomaly_meta (out)->threshold == 222.0;
    gst_buffer_unref (out);
    peak = MAX (peak, loader_threads ());
    g_usleep (2000);
  }
  fail_unless (on_b, "the last model set never took effect");
  g_usleep (200000);
  for (int i = 0; i < 3; i++) {
    GstBuffer *out = (gst_harness_push (h, gray_frame (FALSE, pushed++)), gst_harness_pull (h));
    fail_unless (gst_buffer_get_decent_anomaly_meta (out)->threshold == 222.0);
    gst_buffer_unref (out);
  }
  gst_debug_remove_log_function (count_loads);
  gst_debug_set_threshold_for_name ("decentanomaly", GST_LEVEL_FIXME);

  guint loaded = 0;
  GstMessage *msg;
  while ((msg = next_element_message (bus, "decentanomaly-model"))) {
    const GstStructure *s = gst_message_get_structure (msg);
    if (g_str_equal (gst_structure_get_string (s, "status"), "loaded")) {
      fail_unless_equals_string (gst_structure_get_string (s, "location"), b.path);
      loaded++;
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (loaded, 1);
  fail_unless (loads_logged >= 1 && loads_logged <= 2, "%d models loaded for 400 changes",
      loads_logged);
  fail_unless (peak <= 1, "%u loader threads at once", peak);

  gst_object_unref (e);
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  g_mutex_clear (&gate.lock);
  g_cond_clear (&gate.cond);
  g_free (bad);
  g_free (a.dir);
  g_free (a.path);
  g_free (b.dir);
  g_free (b.path);
}
GST_END_TEST;

/* Two threads setting model-location at once: the set made last could ask
 * for its load first, and the other set's load then replaced its model, so
 * that the property named one file and the other scored.  The log line a
 * set writes before asking holds the first set there until the second has
 * asked. */
typedef struct {
  GMutex lock;
  GCond cond;
  GThread *held; /* the thread whose set waits */
  gboolean holding, released;
} SetGate;

static SetGate set_gate;

static void
hold_first_set (GstDebugCategory *category, GstDebugLevel level, const gchar *file,
    const gchar *function, gint line, GObject *object, GstDebugMessage *message, gpointer data)
{
  if (!g_str_equal (gst_debug_category_get_name (category), "decentanomaly")
      || !g_str_has_prefix (gst_debug_message_get (message), "model-location set to "))
    return;
  g_mutex_lock (&set_gate.lock);
  if (g_thread_self () == set_gate.held) {
    set_gate.holding = TRUE;
    g_cond_broadcast (&set_gate.cond);
    while (!set_gate.released)
      g_cond_wait (&set_gate.cond, &set_gate.lock);
  }
  g_mutex_unlock (&set_gate.lock);
}

static gpointer
set_location (gpointer data)
{
  GstElement *e = data;
  g_object_set (e, "model-location", g_object_get_data (G_OBJECT (e), "first"), NULL);
  return NULL;
}

/* Sets e's model-location to path from another thread, and returns that
 * thread once its set is held between the set and its request. */
static GThread *
hold_a_set (GstElement *e, const gchar *path)
{
  g_mutex_init (&set_gate.lock);
  g_cond_init (&set_gate.cond);
  set_gate.holding = set_gate.released = FALSE;
  gst_debug_set_threshold_for_name ("decentanomaly", GST_LEVEL_DEBUG);
  gst_debug_add_log_function (hold_first_set, NULL, NULL);
  g_object_set_data (G_OBJECT (e), "first", (gpointer) path);
  g_mutex_lock (&set_gate.lock);
  GThread *setter = set_gate.held = g_thread_new ("set-a", set_location, e);
  const gint64 until = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  while (!set_gate.holding && g_get_monotonic_time () < until)
    g_cond_wait_until (&set_gate.cond, &set_gate.lock, until);
  const gboolean held = set_gate.holding;
  g_mutex_unlock (&set_gate.lock);
  fail_unless (held, "the first set wrote no log line");
  return setter;
}

/* Lets hold_a_set's set ask for its load, and waits for it. */
static void
release_the_set (GThread *setter)
{
  g_mutex_lock (&set_gate.lock);
  set_gate.released = TRUE;
  g_cond_broadcast (&set_gate.cond);
  g_mutex_unlock (&set_gate.lock);
  g_thread_join (setter);
  gst_debug_remove_log_function (hold_first_set);
  gst_debug_set_threshold_for_name ("decentanomaly", GST_LEVEL_FIXME);
  g_mutex_clear (&set_gate.lock);
  g_cond_clear (&set_gate.cond);
}

static void
assert_location (GstElement *e, const gchar *path)
{
  gchar *named = NULL;
  g_object_get (e, "model-location", &named, NULL);
  fail_unless_equals_string (named, path);
  g_free (named);
}

GST_START_TEST (test_concurrent_locations_end_on_the_named_model)
{
  TestModel a = { g_strdup (tm.dir), NULL, 0, 0, 0 }, b = { g_strdup (tm.dir), NULL, 0, 0, 0 };
  test_model_make (&a, "ca.dcnt", 111.0f);
  test_model_make (&b, "cb.dcnt", 222.0f);
  GstHarness *h = anomaly_harness (tm.path, NULL);
  GstElement *e = gst_harness_find_element (h, "decentanomaly");
  guint pushed = 0;
  fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, pushed++)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));

  GThread *setter = hold_a_set (e, a.path);
  g_object_set (e, "model-location", b.path, NULL); /* made last, asks first */
  release_the_set (setter);
  assert_location (e, b.path);
  /* scored with b once its load ends, and with nothing else after */
  gdouble got = 0;
  const gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  while (got != 222.0 && g_get_monotonic_time () < deadline) {
    GstBuffer *out = (gst_harness_push (h, gray_frame (FALSE, pushed++)), gst_harness_pull (h));
    got = gst_buffer_get_decent_anomaly_meta (out)->threshold;
    gst_buffer_unref (out);
    g_usleep (5000);
  }
  g_usleep (300000);
  for (int i = 0; i < 3; i++) {
    GstBuffer *out = (gst_harness_push (h, gray_frame (FALSE, pushed++)), gst_harness_pull (h));
    got = gst_buffer_get_decent_anomaly_meta (out)->threshold;
    gst_buffer_unref (out);
    fail_unless (got == 222.0, "model-location names cb.dcnt (threshold 222), the model "
        "scoring has threshold %g", got);
  }
  gst_object_unref (e);
  gst_harness_teardown (h);
  g_free (a.dir);
  g_free (a.path);
  g_free (b.dir);
  g_free (b.path);
}
GST_END_TEST;


/* An older set held between its set and its request while the element
 * starts on a newer one asks for nothing when it comes after start()
 * (helper-79: the file it named replaced the one start() loaded). */
GST_START_TEST (test_older_set_after_start_asks_nothing)
{
  TestModel a = { g_strdup (tm.dir), NULL, 0, 0, 0 }, b = { g_strdup (tm.dir), NULL, 0, 0, 0 };
  test_model_make (&a, "sa.dcnt", 111.0f);
  test_model_make (&b, "sb.dcnt", 222.0f);
  GstElement *e = gst_element_factory_make ("decentanomaly", NULL);
  g_object_set (e, "model-location", tm.path, NULL);
  GThread *setter = hold_a_set (e, a.path);
  g_object_set (e, "model-location", b.path, NULL); /* the newest; not started: start() reads it */
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  gst_harness_set_src_caps_str (h, GRAY_CAPS);
  fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, 0)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  release_the_set (setter);
  assert_location (e, b.path);
  g_usleep (500000); /* a load the older set asked for would have ended */
  for (int i = 1; i < 5; i++) {
    GstBuffer *out = (gst_harness_push (h, gray_frame (FALSE, i)), gst_harness_pull (h));
    const gdouble got = gst_buffer_get_decent_anomaly_meta (out)->threshold;
    gst_buffer_unref (out);
    fail_unless (got == 222.0, "model-location names sb.dcnt (threshold 222), the model "
        "scoring has threshold %g", got);
    g_usleep (100000);
  }
  gst_harness_teardown (h);
  gst_object_unref (e);
  g_free (a.dir);
  g_free (a.path);
  g_free (b.dir);
  g_free (b.path);
}
GST_END_TEST;

/* stop() waits for a load in flight: no thread and no model outlive it */
GST_START_TEST (test_reload_then_stop)
{
  for (int round = 0; round < 5; round++) {
    GstHarness *h = anomaly_harness (tm.path, NULL);
    fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, 0)), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
    GstElement *e = gst_harness_find_element (h, "decentanomaly");
    for (int i = 0; i < 20; i++)
      g_object_set (e, "model-location", tm.path, NULL);
    gst_object_unref (e);
    gst_harness_teardown (h);
    fail_unless_equals_int (loader_threads (), 0);
  }
}
GST_END_TEST;

/* Sets late_property to late_path from inside start(), on its thread, once
 * it has loaded (or joined the engine of) the file it read: a set from
 * another thread at that moment.  late_bus: given to the element first. */
static const gchar *late_property = "model-location", *late_path;
static GstBus *late_bus;
static volatile gint late_set;

static void
set_location_in_start (GstDebugCategory *category, GstDebugLevel level, const gchar *file,
    const gchar *function, gint line, GObject *object, GstDebugMessage *message, gpointer data)
{
  if (object && g_str_equal (gst_debug_category_get_name (category), "decentanomaly")
      && (g_str_equal (function, "load_model") || g_str_equal (function, "start_shared"))
      && g_atomic_int_compare_and_exchange (&late_set, 0, 1)) {
    if (late_bus)
      gst_element_set_bus (GST_ELEMENT (object), late_bus);
    g_object_set (object, late_property, late_path, NULL);
  }
}

/* Whether h's frames come to be scored with the model of threshold thr
 * (within 10 s). */
static gboolean
harness_scores_with (GstHarness *h, gdouble thr)
{
  gboolean on = FALSE;
  const gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  for (guint i = 1; !on && g_get_monotonic_time () < deadline; i++) {
    fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, i)), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull (h);
    on = gst_buffer_get_decent_anomaly_meta (out)->threshold == thr;
    gst_buffer_unref (out);
    g_usleep (2000);
  }
  return on;
}

/* A harness of decentanomaly on path (props: more properties, or NULL)
 * whose start() is given late_property = late_path, past its first frame. */
static GstHarness *
start_with_late_set (const gchar *path, const gchar *props)
{
  g_atomic_int_set (&late_set, 0);
  gst_debug_set_threshold_for_name ("decentanomaly", GST_LEVEL_INFO);
  gst_debug_add_log_function (set_location_in_start, NULL, NULL);
  GstHarness *h = anomaly_harness (path, props);
  fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, 0)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  gst_debug_remove_log_function (set_location_in_start);
  gst_debug_set_threshold_for_name ("decentanomaly", GST_LEVEL_FIXME);
  fail_unless (g_atomic_int_get (&late_set), "start() logged no load");
  return h;
}

/* A model-location set while start() loads the file it read is the model
 * in use once the element runs, shared or not (it found the element not
 * started and loaded nothing: the property named a file never used). */
GST_START_TEST (test_location_set_during_start)
{
  TestModel a = { g_strdup (tm.dir), NULL, 0, 0, 0 }, b = { g_strdup (tm.dir), NULL, 0, 0, 0 };
  test_model_make (&a, "a.dcnt", 111.0f);
  test_model_make (&b, "b.dcnt", 222.0f);
  late_path = b.path;
  for (int shared = 0; shared < 2; shared++) {
    GstHarness *h = start_with_late_set (a.path, shared ? "model-instance-id=late" : NULL);
    GstElement *e = gst_harness_find_element (h, "decentanomaly");
    gchar *location = NULL;
    g_object_get (e, "model-location", &location, NULL);
    fail_unless_equals_string (location, b.path);
    fail_unless (harness_scores_with (h, 222.0), "%s: model-location names %s, but %s scores on",
        shared ? "shared" : "own model", b.path, a.path);
    g_free (location);
    gst_object_unref (e);
    gst_harness_teardown (h);
  }

  /* shared, joining an id whose model another sharer replaced meanwhile
   * (start() renames model-location to the file in use): a set during
   * start() is not renamed over, and it is loaded */
  TestModel c = { g_strdup (tm.dir), NULL, 0, 0, 0 };
  test_model_make (&c, "c.dcnt", 333.0f);
  GstHarness *other = anomaly_harness (a.path, "model-instance-id=missed");
  fail_unless_equals_int (gst_harness_push (other, gray_frame (FALSE, 0)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (other));
  GstElement *oe = gst_harness_find_element (other, "decentanomaly");
  g_object_set (oe, "model-location", b.path, NULL);
  gst_object_unref (oe);
  fail_unless (harness_scores_with (other, 222.0), "the other sharer did not reload");
  late_path = c.path;
  GstHarness *h = start_with_late_set (a.path, "model-instance-id=missed");
  GstElement *e = gst_harness_find_element (h, "decentanomaly");
  gchar *location = NULL;
  g_object_get (e, "model-location", &location, NULL);
  fail_unless_equals_string (location, c.path);
  g_free (location);
  gst_object_unref (e);
  fail_unless (harness_scores_with (h, 333.0), "model-location names %s, but it is not used",
      c.path);
  gst_harness_teardown (h);
  gst_harness_teardown (other);
  g_free (c.dir);
  g_free (c.path);

  /* second-model-location is read at start only: one set then is said to
   * wait for the next start, as one set while running is */
  late_property = "second-model-location";
  late_path = b.path; /* (c's is freed) */
  late_bus = gst_bus_new ();
  h = start_with_late_set (a.path, NULL);
  gboolean said = FALSE;
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (late_bus, GST_MESSAGE_WARNING))) {
    GError *warning = NULL;
    gst_message_parse_warning (msg, &warning, NULL);
    said |= strstr (warning->message, "second-model-location takes effect when the element "
        "starts again") != NULL;
    g_error_free (warning);
    gst_message_unref (msg);
  }
  fail_unless (said, "a second-model-location set during start() was not said");
  harness_bus_teardown (h, late_bus);
  late_bus = NULL;
  late_property = "model-location";
  g_free (a.dir);
  g_free (a.path);
  g_free (b.dir);
  g_free (b.path);
}
GST_END_TEST;

/* ---- 14: long, non-UTF-8 and control-character paths --------------- */

GST_START_TEST (test_long_and_non_utf8_paths)
{
  GString *longp = g_string_new (tm.dir);
  while (longp->len < 3980)
    g_string_append (longp, "/ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
  g_string_append (longp, "/model.dcnt");
  fail_unless (longp->len >= 4000 && longp->len < 4096);
  gchar *text = error_for_location (longp->str, NULL, 30);
  fail_unless (text && strstr (text, "No such file or directory"), "%.300s…", text);
  fail_unless (strstr (text, longp->str + longp->len - 200), "the path's end is not named");
  g_free (text);
  g_string_free (longp, TRUE);

  gchar *odd = g_build_filename (tm.dir, "mod\xff\xfe-\xe9t\xe9.dcnt", NULL);
  text = error_for_location (odd, NULL, 30);
  fail_unless (text && g_utf8_validate (text, -1, NULL), "%s", text);
  fail_unless (strstr (text, "No such file or directory") && strstr (text, "-\xef\xbf\xbd"),
      "%s", text);
  g_free (text);
  g_free (odd);

  /* control characters are escaped, in the element's part and the engine's */
  gchar *forged = g_build_filename (tm.dir, "m\nERROR forged\x1b[2J.dcnt", NULL);
  text = error_for_location (forged, NULL, 30);
  fail_unless (text && strstr (text, "m\\nERROR forged\\x1b[2J.dcnt")
      && !strstr (text, "m\nERROR") && !strchr (text, '\x1b'), "%s", text);
  g_free (text);
  g_free (forged);
}
GST_END_TEST;

/* ---- 15: frames without timestamps ------------------------------------- */

/* The pace meter (gst/pacemeter.c) under hostile timestamps: repeated ones
 * are left out, one going back or missing starts it again, and the median
 * shrugs off a late frame. */
GST_START_TEST (test_pace_meter_timestamps)
{
  DecentPaceMeter m;
  gdouble seconds = -1;
  decent_pace_meter_reset (&m);
  GstClockTime t = 0;
  guint done = 0;
  for (guint i = 0; i < 30 && !done; i++) {
    /* every timestamp twice; frame 5 comes 0.5 s late */
    const GstClockTime pts = t + (i == 5 ? GST_SECOND / 2 : 0);
    if (decent_pace_meter_add (&m, pts, &seconds))
      done = i;
    else
      fail_if (decent_pace_meter_add (&m, pts, &seconds), "frame %u: a repeat counted", i);
    t = pts + GST_SECOND / 10;
  }
  fail_unless (done == 9 && fabs (seconds - 0.1) < 1e-9, "done at %u, %g s", done, seconds);
  /* the next window: its own nine intervals */
  guint next = 0;
  for (guint i = 1; i <= 2 * DECENT_PACE_INTERVALS && !next; i++, t += GST_SECOND / 20)
    if (decent_pace_meter_add (&m, t, &seconds))
      next = i;
  fail_unless (next == DECENT_PACE_INTERVALS && fabs (seconds - 0.05) < 1e-9,
      "the second window ended at %u, %g s", next, seconds);
  /* going back starts again */
  decent_pace_meter_reset (&m);
  for (guint i = 0; i < 5; i++)
    decent_pace_meter_add (&m, GST_SECOND + i * GST_SECOND / 25, &seconds);
  fail_if (decent_pace_meter_add (&m, 0, &seconds), "back in time");
  gboolean got = FALSE;
  for (guint i = 1; i <= DECENT_PACE_INTERVALS; i++)
    got = decent_pace_meter_add (&m, i * GST_SECOND / 25, &seconds);
  fail_unless (got && fabs (seconds - 0.04) < 1e-9, "after a restart: %d, %g s", got, seconds);
  /* every third frame without a timestamp: no interval across it, and the
   * others measured (before, each such frame started the meter again, and a
   * caps' framerate far off was never corrected) */
  decent_pace_meter_reset (&m);
  guint measured_at = 0;
  for (guint i = 0; i < 40 && !measured_at; i++)
    if (decent_pace_meter_add (&m, i % 3 == 2 ? GST_CLOCK_TIME_NONE : i * GST_SECOND / 30,
            &seconds))
      measured_at = i;
  /* intervals 0-1, 3-4, 6-7, ...: the ninth ends at frame 25 */
  fail_unless (measured_at == 25 && fabs (seconds - 1.0 / 30) < 1e-9,
      "every third frame unstamped: measured at %u, %g s", measured_at, seconds);
  GstClockTime v[] = { 5, 1, 4, 2, 3 };
  fail_unless (decent_pace_median (v, 5) == 3.0 / GST_SECOND, "median");
}
GST_END_TEST;

/* Feeds frames `step` apart from *t on until a window gives a verdict other
 * than WAIT, or `frames` have come; the frames fed go to *fed. */
static DecentPaceVerdict
follow_until (DecentPaceMeter *m, GstClockTime *t, GstClockTime step, guint frames,
    gdouble in_use, gboolean trusted, gdouble *seconds, guint *fed)
{
  DecentPaceVerdict v = DECENT_PACE_WAIT;
  for (*fed = 0; *fed < frames && v == DECENT_PACE_WAIT; (*fed)++, *t += step)
    v = decent_pace_meter_follow (m, *t, in_use, trusted, 3600.0, seconds);
  return v;
}

/* The caps' pace gives way to the first window that belies it; a measured
 * one only to another that lasts DECENT_PACE_CONFIRM_SECONDS (a camera that
 * halves its rate at night), never to one that wavers (frames dropped
 * now and then), nor to timestamps no camera keeps. */
GST_START_TEST (test_pace_meter_follows)
{
  DecentPaceMeter m;
  gdouble s = 0;
  guint fed;
  GstClockTime t = 0;
  decent_pace_meter_reset (&m);
  fail_unless_equals_int (follow_until (&m, &t, GST_SECOND / 10, 100, 0.04, FALSE, &s, &fed),
      DECENT_PACE_CHANGED);
  fail_unless (fed == 10 && fabs (s - 0.1) < 1e-9, "caps' 0.04 s: %u frames, %g s", fed, s);
  fail_unless_equals_int (follow_until (&m, &t, GST_SECOND / 11, 100, 0.1, TRUE, &s, &fed),
      DECENT_PACE_HOLDS); /* 10 % off */
  /* 25 frames a second, then 12.5 from here: WAIT for 10 s of the new pace */
  decent_pace_meter_reset (&m);
  t = 0;
  fail_unless_equals_int (follow_until (&m, &t, GST_SECOND / 25, 100, 0.04, TRUE, &s, &fed),
      DECENT_PACE_HOLDS);
  const GstClockTime switched = t;
  fail_unless_equals_int (follow_until (&m, &t, GST_SECOND * 2 / 25, 1000, 0.04, TRUE, &s,
      &fed), DECENT_PACE_CHANGED);
  const gdouble after = (gdouble) (t - GST_SECOND * 2 / 25 - switched) / GST_SECOND;
  fail_unless (fabs (s - 0.08) < 1e-9 && after >= DECENT_PACE_CONFIRM_SECONDS - 0.1
      && after <= DECENT_PACE_CONFIRM_SECONDS + 2 * DECENT_PACE_INTERVALS * 0.08,
      "12.5 frames/s after 25: %g s after the switch, %g s", after, s);
  /* alternating 12 frames at 25/s and 12 at 12.5/s for a minute: no change */
  decent_pace_meter_reset (&m);
  t = 0;
  for (guint i = 0; i < 60 * 25; i++) {
    fail_if (decent_pace_meter_follow (&m, t, 0.04, TRUE, 3600.0, &s) == DECENT_PACE_CHANGED,
        "a wavering pace changed the pace in use at frame %u (%g s)", i, s);
    t += (i / 12) % 2 ? GST_SECOND * 2 / 25 : GST_SECOND / 25;
  }
  /* a second of implausible timestamps in a change forgets it */
  decent_pace_meter_reset (&m);
  t = 0;
  fail_unless_equals_int (follow_until (&m, &t, GST_SECOND / 5, 30, 0.04, TRUE, &s, &fed),
      DECENT_PACE_WAIT);
  fail_unless (m.pending > 0, "the other pace is pending");
  fail_unless_equals_int (follow_until (&m, &t, GST_USECOND, 30, 0.04, TRUE, &s, &fed),
      DECENT_PACE_IMPLAUSIBLE);
  fail_unless (m.pending == 0 && s < DECENT_PACE_MIN_SECONDS, "implausible: %g s", s);
  /* 1 s apart: a median over max_seconds is no pace either */
  fail_unless_equals_int (follow_until (&m, &t, GST_SECOND, 8, 0.04, FALSE, &s, &fed),
      DECENT_PACE_WAIT);
  fail_unless_equals_int (decent_pace_meter_follow (&m, t, 0.04, FALSE, 0.5, &s),
      DECENT_PACE_IMPLAUSIBLE);
  fail_unless (fabs (s - 1.0) < 1e-9, "1 s apart: %g s", s);
  /* a change pending since 1000 s, a frame without a timestamp, then
   * timestamps from 5 s on (a restart without a flush): the new time line
   * waits its own 10 s (pts - pending_since wrapped around and confirmed
   * it at once: helper-72) */
  decent_pace_meter_reset (&m);
  t = 1000 * GST_SECOND;
  fail_unless_equals_int (follow_until (&m, &t, GST_SECOND / 5, 30, 0.04, TRUE, &s, &fed),
      DECENT_PACE_WAIT);
  fail_unless (m.pending > 0, "the other pace is pending");
  fail_unless_equals_int (decent_pace_meter_follow (&m, GST_CLOCK_TIME_NONE, 0.04, TRUE, 3600.0,
      &s), DECENT_PACE_WAIT);
  t = 5 * GST_SECOND;
  fail_unless_equals_int (follow_until (&m, &t, GST_SECOND / 5, 40, 0.04, TRUE, &s, &fed),
      DECENT_PACE_WAIT);
  fail_unless_equals_int (follow_until (&m, &t, GST_SECOND / 5, 100, 0.04, TRUE, &s, &fed),
      DECENT_PACE_CHANGED);
  fail_unless (t >= 15 * GST_SECOND, "confirmed at %g s", (gdouble) t / GST_SECOND);
}
GST_END_TEST;

GST_START_TEST (test_no_timestamps)
{
  GstHarness *h = model_harness ("message-mode=all event-min-frames=1 event-gap=1");
  GstBus *bus = harness_bus (h);
  for (guint i = 0; i < 3; i++) {
    GstBuffer *in = gray_frame (i == 1, i);
    GST_BUFFER_PTS (in) = GST_BUFFER_DURATION (in) = GST_CLOCK_TIME_NONE;
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
  }
  const gchar *time_fields[] = { "timestamp", "stream-time", "running-time", "duration",
    "event-running-time", "last-flagged-running-time" };
  guint frames = 0, events = 0;
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, "decentanomaly")) {
      frames++;
      fail_unless (gst_structure_has_field (s, "frame") && gst_structure_has_field (s, "utc"));
    } else if (gst_structure_has_name (s, "decentanomaly-event")) {
      events++;
      fail_unless (gst_structure_has_field (s, "event-frame"));
    }
    for (guint k = 0; k < G_N_ELEMENTS (time_fields); k++)
      fail_if (gst_structure_has_field (s, time_fields[k]), "%s has %s: %" GST_PTR_FORMAT,
          gst_structure_get_name (s), time_fields[k], s);
    gst_message_unref (msg);
  }
  fail_unless_equals_int (frames, 3);
  fail_unless_equals_int (events, 2); /* begin on frame 1, end on frame 2 */
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* A sink downstream that is late (a display on a loaded machine) sends
 * QoS: every frame is still scored and passed on (GstVideoFilter's QoS
 * dropped the late ones before they were scored, silently: frame numbers,
 * events and flagged-only lost them); qos=true asks for the skipping. */
GST_START_TEST (test_qos_skips_no_frame)
{
  for (int qos = 0; qos <= 1; qos++) {
    GstHarness *h = model_harness (qos ? "qos=true" : NULL);
    /* frames up to 10 s of running time are late */
    fail_unless (gst_harness_push_upstream_event (h,
            gst_event_new_qos (GST_QOS_TYPE_UNDERFLOW, 2.0, 10 * GST_SECOND, 0)));
    for (guint i = 0; i < 3; i++)
      fail_unless_equals_int (gst_harness_push (h, gray_frame (i == 1, i)), GST_FLOW_OK);
    guint n = 0;
    GstBuffer *b;
    while ((b = gst_harness_try_pull (h))) {
      GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
      fail_unless (m && m->scored && m->frame_number == n && m->flagged == (n == 1));
      gst_buffer_unref (b);
      n++;
    }
    fail_unless_equals_int (n, qos ? 0 : 3);
    gst_harness_teardown (h);
  }
}
GST_END_TEST;

static Suite *
anomaly_hardening_suite (void)
{
  Suite *s = suite_create ("anomaly_hardening");
  TCase *tc = suite_add_case (s, "general", 120, test_model_setup, test_model_teardown);
  tcase_add_test (tc, test_caps_change_unscored_overlay);
  tcase_add_test (tc, test_flush_scores_next_frame);
  tcase_add_test (tc, test_events_stay_paired_across_flushes);
  tcase_add_test (tc, test_nonfinite_model_refused);
  tcase_add_test (tc, test_nonfinite_frames);
  tcase_add_test (tc, test_short_buffers_said);
  tcase_add_test (tc, test_lying_video_meta);
  tcase_add_test (tc, test_crop_meta_not_offered);
  tcase_add_test (tc, test_engine_settings_said_while_started);
  tcase_add_test (tc, test_interlaced_refused);
  tcase_add_test (tc, test_frame_path_reasons_and_nonfinite_maps);
  tcase_add_test (tc, test_overlay_odd_width_packed);
  tcase_add_test (tc, test_draw_stays_in_an_odd_roi);
  tcase_add_test (tc, test_frame_layout_table);
  tcase_add_test (tc, test_reload_storm);
  tcase_add_test (tc, test_concurrent_locations_end_on_the_named_model);
  tcase_add_test (tc, test_held_end_survives_a_second_flush);
  tcase_add_test (tc, test_older_set_after_start_asks_nothing);
  tcase_add_test (tc, test_reload_then_stop);
  tcase_add_test (tc, test_location_set_during_start);
  tcase_add_test (tc, test_long_and_non_utf8_paths);
  tcase_add_test (tc, test_no_timestamps);
  tcase_add_test (tc, test_qos_skips_no_frame);
  tcase_add_test (tc, test_pace_meter_timestamps);
  tcase_add_test (tc, test_pace_meter_follows);
  tcase_add_test (tc, test_zero_threshold_normalized);
  tcase_add_test (tc, test_meta_heatmap_bounds);
  /* before the fix, open() of a FIFO never returned */
  TCase *fifo = suite_add_case (s, "fifo", 30, test_model_setup, test_model_teardown);
  tcase_add_test (fifo, test_fifo_model);
  return s;
}

GST_CHECK_MAIN (anomaly_hardening);
