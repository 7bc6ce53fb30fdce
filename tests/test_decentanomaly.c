/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decentanomaly: formats and meta, messages and events, flagged-only,
 * overlay vs passthrough, inference-interval, roi, meta through converters,
 * bad model files, caps changes and model swaps while playing. */
#include <gst/app/gstappsink.h>
#include <gst/controller/controller.h>

#include "decent/decentmeta.h"
#include "plugin_util.h"

/* The frame pattern: TRUE = noise (flagged). */
static GstBuffer *
push_pull (GstHarness *h, gboolean noisy, guint64 i)
{
  fail_unless_equals_int (gst_harness_push (h, gray_frame (noisy, i)), GST_FLOW_OK);
  return gst_harness_try_pull (h);
}

/* Pushes the pattern (X: noise, flagged; .: calm) and drops what comes out. */
static void
push_pattern (GstHarness *h, const char *seq)
{
  for (guint i = 0; seq[i]; i++)
    gst_buffer_unref (push_pull (h, seq[i] == 'X', i));
}

GST_START_TEST (test_formats_carry_meta)
{
  const gchar *formats[] = { "RGB", "BGR", "RGBx", "BGRx", "RGBA", "BGRA", "GRAY8", "I420",
    "NV12", "YUY2", "Y444" };
  for (guint f = 0; f < G_N_ELEMENTS (formats); f++) {
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=3 pattern=snow ! "
        "video/x-raw,format=%s,width=70,height=46 ! decentanomaly model-location=\"%s\" ! "
        "appsink name=sink sync=false", formats[f], tm.path);
    GstElement *pipe = gst_parse_launch (desc, NULL);
    g_free (desc);
    GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
    gst_element_set_state (pipe, GST_STATE_PLAYING);
    guint n = 0;
    GstSample *sample;
    while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
      GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (gst_sample_get_buffer (sample));
      fail_unless (m != NULL, "%s: no meta", formats[f]);
      fail_unless (isfinite (m->score) && m->score > 0, "%s: score %g", formats[f], m->score);
      fail_unless_equals_uint64 (m->frame_number, n);
      gst_sample_unref (sample);
      n++;
    }
    fail_unless_equals_int (n, 3);
    gst_element_set_state (pipe, GST_STATE_NULL);
    gst_object_unref (sink);
    gst_object_unref (pipe);
  }
}
GST_END_TEST;

GST_START_TEST (test_frame_messages)
{
  GstHarness *h = model_harness ("message-mode=all");
  GstBus *bus = harness_bus (h);
  gst_buffer_unref (push_pull (h, FALSE, 0));
  gst_buffer_unref (push_pull (h, TRUE, 1));

  for (int i = 0; i < 2; i++) {
    GstMessage *msg = next_element_message (bus, "decentanomaly");
    fail_unless (msg != NULL, "no message for frame %d", i);
    const GstStructure *s = gst_message_get_structure (msg);
    guint64 ts, rt, st, dur, utc, frame;
    gdouble score, thr, norm;
    gboolean flagged;
    fail_unless (gst_structure_get (s, "timestamp", G_TYPE_UINT64, &ts, "running-time",
        G_TYPE_UINT64, &rt, "stream-time", G_TYPE_UINT64, &st, "duration", G_TYPE_UINT64, &dur,
        "utc-time", G_TYPE_UINT64, &utc, "frame", G_TYPE_UINT64, &frame, "score",
        G_TYPE_DOUBLE, &score, "threshold", G_TYPE_DOUBLE, &thr, "normalized-score",
        G_TYPE_DOUBLE, &norm, "flagged", G_TYPE_BOOLEAN, &flagged, NULL));
    fail_unless (gst_structure_has_field_typed (s, "utc", G_TYPE_STRING));
    fail_unless_equals_uint64 (frame, i);
    fail_unless_equals_uint64 (ts, i * GST_SECOND / 30);
    fail_unless_equals_uint64 (rt, ts);
    fail_unless_equals_uint64 (dur, GST_SECOND / 30);
    fail_unless (utc > 1600000000ull * GST_SECOND, "utc-time %" G_GUINT64_FORMAT, utc);
    fail_unless (fabs (score - (i ? tm.noise_score : tm.calm_score)) < 1e-6 * score,
        "frame %d score %g", i, score);
    fail_unless (fabs (thr - tm.threshold) < 1e-9 && fabs (norm - score / thr) < 1e-9);
    fail_unless_equals_int (flagged, i == 1);
    gst_message_unref (msg);
  }
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

GST_START_TEST (test_events_hysteresis)
{
  GstHarness *h = model_harness ("message-mode=events event-min-frames=3 event-gap=4");
  GstBus *bus = harness_bus (h);
  /* one noisy frame alone opens nothing; then 5 flagged frames, a one-frame
   * gap inside, then calm frames */
  push_pattern (h, "..X...XXXX.X......");

  GstMessage *begin = next_element_message (bus, "decentanomaly-event");
  GstMessage *end = next_element_message (bus, "decentanomaly-event");
  fail_unless (begin && end, "expected a begin and an end message");
  fail_unless (next_element_message (bus, "decentanomaly-event") == NULL, "a third event");
  fail_unless (next_element_message (bus, "decentanomaly") == NULL, "per-frame message posted");
  const GstStructure *b = gst_message_get_structure (begin), *e = gst_message_get_structure (end);
  fail_unless_equals_string (gst_structure_get_string (b, "type"), "begin");
  fail_unless_equals_string (gst_structure_get_string (e, "type"), "end");
  guint64 ev_frame, ev_rt, frames, rt;
  gdouble peak;
  fail_unless (gst_structure_get (b, "event-frame", G_TYPE_UINT64, &ev_frame, "running-time",
      G_TYPE_UINT64, &rt, NULL));
  fail_unless_equals_uint64 (ev_frame, 6);         /* the first of the run */
  fail_unless_equals_uint64 (rt, 8 * GST_SECOND / 30); /* posted on the third */
  fail_unless (gst_structure_get (e, "event-running-time", G_TYPE_UINT64, &ev_rt, "frames",
      G_TYPE_UINT64, &frames, "peak-score", G_TYPE_DOUBLE, &peak, NULL));
  fail_unless_equals_uint64 (ev_rt, 6 * GST_SECOND / 30);
  fail_unless_equals_uint64 (frames, 6);           /* frames 6..11 */
  fail_unless (fabs (peak - tm.noise_score) < 1e-6 * peak, "peak %g", peak);
  gst_message_unref (begin);
  gst_message_unref (end);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* message-mode changed inside an event: the bus gets an end whose begin it
 * got, whatever the mode is when the event ends, and no end whose begin it
 * did not get (before, the first event's end was lost and the second's
 * posted alone). */
GST_START_TEST (test_event_pairs_kept_on_the_bus)
{
  GstHarness *h = model_harness ("message-mode=events event-min-frames=2 event-gap=2");
  GstBus *bus = harness_bus (h);
  GstElement *scorer = gst_harness_find_element (h, "decentanomaly");
  push_pattern (h, "XXX");             /* begins, posted */
  g_object_set (scorer, "message-mode", 0 /* none */, NULL);
  push_pattern (h, "...XXX");          /* ends; a second event begins, unposted */
  g_object_set (scorer, "message-mode", 1 /* events */, NULL);
  push_pattern (h, "...");             /* the second ends */
  g_object_set (scorer, "post-messages", FALSE, NULL);
  g_object_set (scorer, "post-messages", TRUE, NULL);
  GString *seen = g_string_new (NULL);
  GstMessage *msg;
  while ((msg = next_element_message (bus, "decentanomaly-event"))) {
    guint64 frame;
    fail_unless (gst_structure_get_uint64 (gst_message_get_structure (msg), "event-frame",
        &frame));
    g_string_append_printf (seen, "%s %" G_GUINT64_FORMAT "; ",
        gst_structure_get_string (gst_message_get_structure (msg), "type"), frame);
    gst_message_unref (msg);
  }
  fail_unless_equals_string (seen->str, "begin 0; end 0; ");
  g_string_free (seen, TRUE);
  gst_object_unref (scorer);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* With inference-interval, events open and close on scored frames, and
 * the frames between that carry a flagged result belong to the event as
 * they do to the meta and flagged-only: scored frames 0, 3, 6 are noise
 * (frames 7 and 8 carry 6's flag), 9 and 12 calm; the event ends at 12
 * with frames 0..8 (its end said frame 6 and 7 frames before). */
GST_START_TEST (test_event_counts_carried_frames)
{
  GstHarness *h = model_harness ("message-mode=events inference-interval=3 "
      "event-min-frames=2 event-gap=2");
  GstBus *bus = harness_bus (h);
  push_pattern (h, "XXXXXXXXX......");
  GstMessage *begin = next_element_message (bus, "decentanomaly-event");
  GstMessage *end = next_element_message (bus, "decentanomaly-event");
  fail_unless (begin && end, "expected a begin and an end message");
  const GstStructure *e = gst_message_get_structure (end);
  fail_unless_equals_string (gst_structure_get_string (e, "type"), "end");
  guint64 frames, frame, last;
  fail_unless (gst_structure_get (e, "frames", G_TYPE_UINT64, &frames, "frame", G_TYPE_UINT64,
      &frame, "last-flagged-running-time", G_TYPE_UINT64, &last, NULL));
  fail_unless_equals_uint64 (frame, 12);
  fail_unless_equals_uint64 (frames, 9);
  fail_unless_equals_uint64 (last, 8 * GST_SECOND / 30);
  gst_message_unref (begin);
  gst_message_unref (end);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* An event still open at end of stream ends then, about the last frame
 * seen (frame 6 of 0..6, not 7, which never came), with its running time
 * (score-mode=mean: no places; region ends take the same frame,
 * last_frame_seen). */
GST_START_TEST (test_event_ended_at_eos)
{
  GstHarness *h = model_harness ("message-mode=events event-min-frames=3");
  GstBus *bus = harness_bus (h);
  push_pattern (h, "..XXXX.");
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  guint ends = 0;
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *st = gst_message_get_structure (msg);
    guint64 frame, rt, last;
    if (g_strcmp0 (gst_structure_get_string (st, "type"), "end") == 0) {
      /* the last frame seen, and its time (not the last flagged one's) */
      fail_unless (gst_structure_get (st, "frame", G_TYPE_UINT64, &frame, "running-time",
          G_TYPE_UINT64, &rt, "last-flagged-running-time", G_TYPE_UINT64, &last, NULL));
      fail_unless_equals_uint64 (frame, 6);
      fail_unless_equals_uint64 (rt, 6 * GST_SECOND / 30);
      fail_unless_equals_uint64 (last, 5 * GST_SECOND / 30);
      ends++;
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (ends, 1);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* A new stream (concat, a playlist) while an event is open: the event ends
 * ahead of the new stream's stream-start, with the last stream's last
 * frame; the new stream's flagged frames begin an event of their own (one
 * event took both streams' frames before). */
GST_START_TEST (test_event_ended_at_new_stream)
{
  GstHarness *h = model_harness ("message-mode=events event-min-frames=3 event-gap=5");
  GstBus *bus = harness_bus (h);
  push_pattern (h, "..XXXX");
  GstEvent *e;
  while ((e = gst_harness_try_pull_event (h)))
    gst_event_unref (e);
  fail_unless (gst_harness_push_event (h, gst_event_new_stream_start ("the-next-stream")));
  /* downstream: the end, then the new stream */
  e = gst_harness_try_pull_event (h);
  fail_unless (e && GST_EVENT_TYPE (e) == GST_EVENT_CUSTOM_DOWNSTREAM, "%s",
      e ? GST_EVENT_TYPE_NAME (e) : "no event");
  fail_unless_equals_string (gst_structure_get_string (gst_event_get_structure (e), "type"),
      "end");
  gst_event_unref (e);
  e = gst_harness_try_pull_event (h);
  fail_unless (e && GST_EVENT_TYPE (e) == GST_EVENT_STREAM_START, "%s",
      e ? GST_EVENT_TYPE_NAME (e) : "no event");
  gst_event_unref (e);
  push_pattern (h, "XXX");
  guint begins = 0, ends = 0;
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *st = gst_message_get_structure (msg);
    const gchar *type = gst_structure_get_string (st, "type");
    guint64 frame, event_frame, frames;
    fail_unless (gst_structure_get (st, "frame", G_TYPE_UINT64, &frame, "event-frame",
        G_TYPE_UINT64, &event_frame, NULL));
    if (g_strcmp0 (type, "begin") == 0) {
      fail_unless_equals_uint64 (event_frame, begins ? 6 : 2);
      begins++;
    } else if (g_strcmp0 (type, "end") == 0) {
      fail_unless (gst_structure_get (st, "frames", G_TYPE_UINT64, &frames, NULL));
      fail_unless_equals_uint64 (frame, 5); /* the first stream's last frame */
      fail_unless_equals_uint64 (frames, 4);
      ends++;
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (begins, 2);
  fail_unless_equals_int (ends, 1);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* A grey frame with noise in the 5x5 squares at the top left (a) and the
 * bottom right (b). */
static GstBuffer *
patch_frame (gboolean a, gboolean b, guint64 index)
{
  GstBuffer *buf = gray_frame (FALSE, index);
  guint8 noise[MW * MH];
  fill_noise (noise, sizeof noise, 7);
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (int y = 0; y < 5; y++)
    for (int x = 0; x < 5; x++) {
      if (a)
        map.data[(1 + y) * MW + 1 + x] = noise[y * MW + x];
      if (b)
        map.data[(10 + y) * MW + 10 + x] = noise[(8 + y) * MW + 8 + x];
    }
  gst_buffer_unmap (buf, &map);
  return buf;
}

/* The local score of one frame, by the engine. */
static float
local_score (DecentModel *m, GstBuffer *buf)
{
  GstMapInfo map;
  float score = 0;
  DecentError err = { { 0 } };
  gst_buffer_map (buf, &map, GST_MAP_READ);
  fail_unless (decent_model_score_mode (m, DECENT_SCORE_LOCAL, map.data, 1, &score, NULL, &err)
      == 0, "%s", err.message);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  return score;
}

/* Anomaly-region ROI metas of a frame (flagged frames only carry them). */
static guint
region_metas (GstBuffer *buf)
{
  guint places = 0;
  gpointer state = NULL;
  GstMeta *meta;
  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)))
    places += ((GstVideoRegionOfInterestMeta *) meta)->roi_type
        == g_quark_from_string ("anomaly-region");
  return places;
}

/* Region events: a place that becomes anomalous while another place's event
 * is open begins an event of its own, where it is; the frame has one. */
GST_START_TEST (test_region_events)
{
  DecentModel *m = load_model (tm.path, NULL, NULL);
  const float calm = local_score (m, patch_frame (FALSE, FALSE, 0));
  const float a = local_score (m, patch_frame (TRUE, FALSE, 0));
  const float b = local_score (m, patch_frame (FALSE, TRUE, 0));
  decent_model_free (m);
  fail_unless (a > calm && b > calm, "the patches score %g and %g, grey %g", a, b, calm);
  gchar *props = g_strdup_printf ("score-mode=local threshold=%.9g event-min-frames=3 "
      "event-gap=4", 0.5 * (calm + MIN (a, b)));
  GstHarness *h = anomaly_harness (tm.path, props);
  g_free (props);
  GstBus *bus = harness_bus (h);
  /* a alone from frame 2, b joins at 8 (a's event is open), both leave at 14 */
  for (guint64 i = 0; i < 24; i++) {
    GstBuffer *out = NULL;
    fail_unless_equals_int (gst_harness_push (h, patch_frame (i >= 2 && i < 14,
                i >= 8 && i < 14, i)), GST_FLOW_OK);
    out = gst_harness_pull (h);
    /* a flagged frame names its hot places as ROI metas */
    const guint places = region_metas (out);
    fail_unless ((places > 0) == (i >= 2 && i < 14), "frame %" G_GUINT64_FORMAT ": %u places",
        i, places);
    gst_buffer_unref (out);
  }
  gst_harness_push_event (h, gst_event_new_eos ());

  /* the bus in order: the frame's begin before its places', their ends before its end */
  GString *order = g_string_new (NULL);
  GPtrArray *regions = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_message_unref);
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *st = gst_message_get_structure (msg);
    const gboolean region = gst_structure_has_name (st, "decentanomaly-region");
    if (region || gst_structure_has_name (st, "decentanomaly-event"))
      g_string_append_printf (order, "%s%s ", region ? "region-" : "",
          gst_structure_get_string (st, "type"));
    if (region)
      g_ptr_array_add (regions, msg);
    else
      gst_message_unref (msg);
  }
  fail_unless_equals_string (order->str,
      "begin region-begin region-begin region-end region-end end ");
  g_string_free (order, TRUE);
  struct { const gchar *type; guint64 id, frame, start; gboolean top_left; } want[] = {
    { "begin", 1, 4, 2, TRUE }, { "begin", 2, 10, 8, FALSE },
    { "end", 1, 17, 2, TRUE }, { "end", 2, 17, 8, FALSE } };
  for (guint k = 0; k < G_N_ELEMENTS (want); k++) {
    const GstStructure *st = gst_message_get_structure (g_ptr_array_index (regions, k));
    guint64 id, frame, start;
    gint x, y, w, hh;
    fail_unless (gst_structure_get (st, "id", G_TYPE_UINT64, &id, "frame", G_TYPE_UINT64,
        &frame, "region-frame", G_TYPE_UINT64, &start, "x", G_TYPE_INT, &x, "y", G_TYPE_INT,
        &y, "width", G_TYPE_INT, &w, "height", G_TYPE_INT, &hh, NULL));
    fail_unless_equals_string (gst_structure_get_string (st, "type"), want[k].type);
    fail_unless_equals_uint64 (id, want[k].id);
    fail_unless_equals_uint64 (frame, want[k].frame);
    fail_unless_equals_uint64 (start, want[k].start);
    /* the region lies at its patch: its centre in the patch's quarter of the frame */
    const gint cx = x + w / 2, cy = y + hh / 2;
    fail_unless (w > 0 && hh > 0 && (want[k].top_left ? cx < 8 && cy < 8 : cx >= 8 && cy >= 8),
        "region %" G_GUINT64_FORMAT " at %d,%d %dx%d", id, x, y, w, hh);
    if (g_str_equal (want[k].type, "end")) {
      guint64 frames;
      fail_unless (gst_structure_get_uint64 (st, "frames", &frames));
      fail_unless_equals_uint64 (frames, 14 - want[k].start);
    }
  }
  g_ptr_array_unref (regions);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* A new stream while a place's event is open: downstream, the place's end,
 * then the frame's, then the new stream's stream-start (as at EOS). */
GST_START_TEST (test_regions_ended_at_new_stream)
{
  DecentModel *m = load_model (tm.path, NULL, NULL);
  const float calm = local_score (m, patch_frame (FALSE, FALSE, 0));
  const float a = local_score (m, patch_frame (TRUE, FALSE, 0));
  decent_model_free (m);
  gchar *props = g_strdup_printf ("score-mode=local threshold=%.9g event-min-frames=3 "
      "event-gap=4", 0.5 * (calm + a));
  GstHarness *h = anomaly_harness (tm.path, props);
  g_free (props);
  for (guint64 i = 0; i < 6; i++) {
    fail_unless_equals_int (gst_harness_push (h, patch_frame (i >= 2, FALSE, i)), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
  }
  GstEvent *e;
  while ((e = gst_harness_try_pull_event (h)))
    gst_event_unref (e);
  fail_unless (gst_harness_push_event (h, gst_event_new_stream_start ("the-next-stream")));
  GString *order = g_string_new (NULL);
  while ((e = gst_harness_try_pull_event (h))) {
    const GstStructure *st = gst_event_get_structure (e);
    if (GST_EVENT_TYPE (e) == GST_EVENT_CUSTOM_DOWNSTREAM)
      g_string_append_printf (order, "%s%s ",
          gst_structure_has_name (st, "decentanomaly-region") ? "region-" : "",
          gst_structure_get_string (st, "type"));
    else
      g_string_append_printf (order, "%s ", GST_EVENT_TYPE_NAME (e));
    gst_event_unref (e);
  }
  fail_unless_equals_string (order->str, "region-end end stream-start ");
  g_string_free (order, TRUE);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A place's event lasts through caps and a roi that keep the scored
 * rectangle (a camera that lowers its framerate at night, the whole frame
 * named as roi); a roi that moves it ends the event where it was found and
 * the place begins again on the new grid. */
GST_START_TEST (test_region_kept_through_same_place)
{
  DecentModel *m = load_model (tm.path, NULL, NULL);
  const float calm = local_score (m, patch_frame (FALSE, FALSE, 0));
  const float a = local_score (m, patch_frame (TRUE, FALSE, 0));
  decent_model_free (m);
  gchar *props = g_strdup_printf ("score-mode=local threshold=%.9g event-min-frames=2 "
      "event-gap=4", 0.5 * (calm + a));
  GstHarness *h = anomaly_harness (tm.path, props);
  g_free (props);
  GstBus *bus = harness_bus (h);
  GstElement *scorer = gst_harness_find_element (h, "decentanomaly");
  for (guint64 i = 0; i < 16; i++) {
    if (i == 4) /* another framerate only */
      gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=16,height=16,"
          "framerate=15/1");
    if (i == 7) /* the whole frame, named */
      g_object_set (scorer, "roi", "0,0,16,16", NULL);
    if (i == 10) /* the left half: the grid moves */
      g_object_set (scorer, "roi", "0,0,8,16", NULL);
    fail_unless_equals_int (gst_harness_push (h, patch_frame (TRUE, FALSE, i)), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
  }
  GString *seen = g_string_new (NULL);
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *st = gst_message_get_structure (msg);
    guint64 id, frame;
    gint width;
    if (gst_structure_has_name (st, "decentanomaly-region")) {
      fail_unless (gst_structure_get (st, "id", G_TYPE_UINT64, &id, "frame", G_TYPE_UINT64,
          &frame, "width", G_TYPE_INT, &width, NULL));
      g_string_append_printf (seen, "%s %" G_GUINT64_FORMAT " at %" G_GUINT64_FORMAT "%s; ",
          gst_structure_get_string (st, "type"), id, frame, width <= 8 ? "" : " wide");
    }
    gst_message_unref (msg);
  }
  /* one place's event from frame 1 to the roi that moves the grid, then the
   * patch again, stretched, on the left half's grid (as one place or more) */
  fail_unless (g_str_has_prefix (seen->str, "begin 1 at 1; end 1 at 10; begin 2 at 11; "),
      "%s", seen->str);
  g_string_free (seen, TRUE);
  gst_object_unref (scorer);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* Places stay nested in their frame event on the bus: a place that
 * begins, after message-mode is turned on, inside a frame event whose
 * begin was not posted is not posted either (helper-87: it was, alone);
 * the next event is posted whole. */
GST_START_TEST (test_places_nested_on_the_bus)
{
  DecentModel *m = load_model (tm.path, NULL, NULL);
  const float calm = local_score (m, patch_frame (FALSE, FALSE, 0));
  const float a = local_score (m, patch_frame (TRUE, FALSE, 0));
  const float b = local_score (m, patch_frame (FALSE, TRUE, 0));
  decent_model_free (m);
  gchar *props = g_strdup_printf ("score-mode=local threshold=%.9g event-min-frames=2 "
      "event-gap=3 message-mode=none", 0.5 * (calm + MIN (a, b)));
  GstHarness *h = anomaly_harness (tm.path, props);
  g_free (props);
  GstBus *bus = harness_bus (h);
  GstElement *scorer = gst_harness_find_element (h, "decentanomaly");
  /* a from frame 0 (unposted); messages on at 3; b joins at 4; calm at 8;
   * a again from 12 */
  for (guint64 i = 0; i < 20; i++) {
    if (i == 3)
      g_object_set (scorer, "message-mode", 1 /* events */, NULL);
    const gboolean pa = i < 8 || i >= 12, pb = i >= 4 && i < 8;
    fail_unless_equals_int (gst_harness_push (h, patch_frame (pa, pb, i)), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
  }
  GString *seen = g_string_new (NULL);
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *st = gst_message_get_structure (msg);
    if (gst_structure_has_name (st, "decentanomaly-region")
        || gst_structure_has_name (st, "decentanomaly-event"))
      g_string_append_printf (seen, "%s%s ",
          gst_structure_has_name (st, "decentanomaly-region") ? "region-" : "",
          gst_structure_get_string (st, "type"));
    gst_message_unref (msg);
  }
  fail_unless_equals_string (seen->str, "begin region-begin ");
  g_string_free (seen, TRUE);
  gst_object_unref (scorer);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* A threshold changed between scored frames applies to the places of the
 * carried result too: flagged exactly when they have one. */
GST_START_TEST (test_carried_regions_follow_threshold)
{
  DecentModel *m = load_model (tm.path, NULL, NULL);
  const float calm = local_score (m, patch_frame (FALSE, FALSE, 0));
  const float a = local_score (m, patch_frame (TRUE, FALSE, 0));
  decent_model_free (m);
  GstHarness *h = anomaly_harness (tm.path, "score-mode=local threshold=100 "
      "inference-interval=4");
  GstElement *scorer = gst_harness_find_element (h, "decentanomaly");
  for (guint64 i = 0; i < 8; i++) {
    if (i == 1)
      g_object_set (scorer, "threshold", 0.5 * (calm + a), NULL);
    if (i == 3)
      g_object_set (scorer, "threshold", 100.0, NULL);
    fail_unless_equals_int (gst_harness_push (h, patch_frame (TRUE, FALSE, i)), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull (h);
    GstDecentAnomalyMeta *meta = gst_buffer_get_decent_anomaly_meta (out);
    const gboolean want = i == 1 || i == 2;  /* frame 0 scored at 100, 4 scored again */
    fail_unless (meta && meta->flagged == want && meta->scored == (i % 4 == 0),
        "frame %" G_GUINT64_FORMAT ": flagged %d", i, meta ? meta->flagged : -1);
    fail_unless ((region_metas (out) > 0) == want, "frame %" G_GUINT64_FORMAT ": %u places",
        i, region_metas (out));
    gst_buffer_unref (out);
  }
  gst_object_unref (scorer);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_flagged_only)
{
  GstHarness *h = model_harness ("flagged-only=true");
  const char *seq = "X..XX.X...";
  guint expected = 0;
  for (guint i = 0; seq[i]; i++) {
    fail_unless_equals_int (gst_harness_push (h, gray_frame (seq[i] == 'X', i)), GST_FLOW_OK);
    expected += seq[i] == 'X';
  }
  fail_unless_equals_int (gst_harness_buffers_received (h), expected);
  for (guint k = 0; k < expected; k++) {
    GstBuffer *b = gst_harness_pull (h);
    GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
    fail_unless (m && m->flagged);
    gst_buffer_unref (b);
  }
  gst_harness_teardown (h);
}
GST_END_TEST;

static gboolean
same_pixels (GstBuffer *a, GstBuffer *b)
{
  GstMapInfo ma, mb;
  gst_buffer_map (a, &ma, GST_MAP_READ);
  gst_buffer_map (b, &mb, GST_MAP_READ);
  gboolean same = ma.size == mb.size && memcmp (ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return same;
}

GST_START_TEST (test_overlay_changes_pixels)
{
  const gchar *modes[] = { "passthrough", "overlay", "heatmap" };
  for (int k = 0; k < 3; k++) {
    gchar *props = g_strdup_printf ("mode=%s", modes[k]);
    GstHarness *h = model_harness (props);
    g_free (props);
    GstBuffer *in = gray_frame (TRUE, 0);
    GstBuffer *ref = gst_buffer_copy_deep (in);
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull (h);
    fail_unless_equals_int (same_pixels (out, ref), k == 0);
    gst_buffer_unref (out);
    gst_buffer_unref (ref);
    gst_harness_teardown (h);
  }
}
GST_END_TEST;

GST_START_TEST (test_inference_interval)
{
  GstHarness *h = model_harness ("inference-interval=3 message-mode=all");
  GstBus *bus = harness_bus (h);
  /* noise only on frames the interval skips: results are carried */
  const char *seq = "..X.X..XX";
  for (guint i = 0; seq[i]; i++) {
    GstBuffer *b = push_pull (h, seq[i] == 'X', i);
    GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
    fail_unless (m != NULL);
    fail_unless_equals_int (m->scored, i % 3 == 0);
    fail_unless_equals_uint64 (m->scored_frame_number, i - i % 3);
    fail_unless_equals_int (m->flagged, FALSE); /* frames 0, 3, 6 are calm */
    gst_buffer_unref (b);
  }
  guint messages = 0;
  GstMessage *msg;
  while ((msg = next_element_message (bus, "decentanomaly"))) {
    messages++;
    gst_message_unref (msg);
  }
  fail_unless_equals_int (messages, 3);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* 32x16 GRAY8: noise in the left half, grey in the right */
static GstBuffer *
half_noise_frame (void)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, 32 * 16, NULL);
  GstMapInfo map;
  guint8 noise[MW * MH];
  fill_noise (noise, sizeof noise, 1);
  gst_buffer_map (b, &map, GST_MAP_WRITE);
  for (int y = 0; y < 16; y++) {
    memcpy (map.data + y * 32, noise + y * 16, 16);
    memset (map.data + y * 32 + 16, 128, 16);
  }
  gst_buffer_unmap (b, &map);
  return b;
}

GST_START_TEST (test_roi)
{
  const gchar *rois[] = { "16,0,16,16", "0,0,16,16" };
  for (int k = 0; k < 2; k++) {
    gchar *props = g_strdup_printf ("roi=%s", rois[k]);
    GstHarness *h = model_harness (props);
    g_free (props);
    gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=32,height=16,framerate=30/1");
    fail_unless_equals_int (gst_harness_push (h, half_noise_frame ()), GST_FLOW_OK);
    GstBuffer *b = gst_harness_pull (h);
    GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
    fail_unless (m != NULL);
    /* the region is exactly model-sized, so its score is exact */
    gdouble want = k == 0 ? tm.calm_score : tm.noise_score;
    fail_unless (fabs (m->score - want) < 1e-6 * want, "roi %s: score %g, want %g", rois[k],
        m->score, want);
    fail_unless_equals_int (m->flagged, k == 1);
    fail_unless_equals_int (m->roi_x, k == 0 ? 16 : 0);
    fail_unless_equals_int (m->roi_width, 16);
    gst_buffer_unref (b);
    gst_harness_teardown (h);
  }
  /* an invalid roi is refused and the previous one kept */
  GstElement *e = gst_element_factory_make ("decentanomaly", NULL);
  g_object_set (e, "roi", "1,2,3,4", NULL);
  g_object_set (e, "roi", "1,2,oops", NULL);
  gchar *roi;
  g_object_get (e, "roi", &roi, NULL);
  fail_unless_equals_string (roi, "1,2,3,4");
  g_free (roi);
  gst_object_unref (e);
}
GST_END_TEST;

/* The first warning on bus (NULL: none), as "message | debug". */
static gchar *
first_warning (GstBus *bus)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  if (!msg)
    return NULL;
  gchar *text = message_text (msg);
  gst_message_unref (msg);
  return text;
}

/* The warnings of a pipeline run to its end, one per line. */
static gchar *
warnings_of_run (const gchar *desc)
{
  GstElement *pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL);
  GstBus *bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  GString *all = g_string_new (NULL);
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
        GST_MESSAGE_WARNING | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    fail_unless (msg != NULL, "timed out");
    const GstMessageType type = GST_MESSAGE_TYPE (msg);
    if (type == GST_MESSAGE_WARNING) {
      gchar *text = message_text (msg);
      g_string_append_printf (all, "%s\n", text);
      g_free (text);
    }
    fail_if (type == GST_MESSAGE_ERROR, "an error");
    gst_message_unref (msg);
    if (type == GST_MESSAGE_EOS)
      break;
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  return g_string_free (all, FALSE);
}

/* Two decentanomaly in a row (two regions of one camera): the getter gives
 * the nearer one's meta, the last added; both stay on the buffer, in the
 * order they were added. */
GST_START_TEST (test_chained_elements_meta)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! video/x-raw,width=32,height=24,"
      "format=GRAY8 ! decentanomaly model-location=\"%s\" roi=0,0,16,12 ! decentanomaly "
      "model-location=\"%s\" roi=8,8,16,16 ! appsink name=sink sync=false", tm.path, tm.path);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  guint n = 0;
  GstSample *sample;
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    GstBuffer *b = gst_sample_get_buffer (sample);
    GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
    fail_unless (m && m->roi_x == 8 && m->roi_width == 16, "the getter gave roi %u,%u %ux%u",
        m ? m->roi_x : 0, m ? m->roi_y : 0, m ? m->roi_width : 0, m ? m->roi_height : 0);
    gpointer state = NULL;
    GstMeta *each;
    guint x[2], k = 0;
    while ((each = gst_buffer_iterate_meta_filtered (b, &state,
                GST_DECENT_ANOMALY_META_API_TYPE)) && k < 2)
      x[k++] = ((GstDecentAnomalyMeta *) each)->roi_x;
    fail_unless (k == 2 && x[0] == 0 && x[1] == 8
        && gst_buffer_get_n_meta (b, GST_DECENT_ANOMALY_META_API_TYPE) == 2, "%u metas", k);
    /* the same through the getters that bindings can call */
    fail_unless_equals_int (gst_buffer_get_n_decent_anomaly_meta (b), 2);
    GstDecentAnomalyMeta *first = gst_buffer_get_nth_decent_anomaly_meta (b, 0),
                         *second = gst_buffer_get_nth_decent_anomaly_meta (b, 1);
    fail_unless (first && first->roi_x == 0 && first->roi_width == 16 && second == m
        && gst_buffer_get_nth_decent_anomaly_meta (b, 2) == NULL);
    gst_sample_unref (sample);
    n++;
  }
  fail_unless_equals_int (n, 2);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipe);
}
GST_END_TEST;

/* batch-size and batch-timeout batch the frames of sharers only: set on an
 * element of its own they are said not to be used (they were ignored
 * silently). */
GST_START_TEST (test_batching_without_sharers_said)
{
  const gchar *with[] = { "batch-size=4", "batch-timeout=500000",
    "batch-size=4 model-instance-id=batch-said" };
  for (guint k = 0; k < G_N_ELEMENTS (with); k++) {
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! video/x-raw,width=32,"
        "height=24 ! decentanomaly model-location=\"%s\" %s ! fakesink", tm.path, with[k]);
    gchar *warnings = warnings_of_run (desc);
    g_free (desc);
    const gboolean said = strstr (warnings, "not used without model-instance-id") != NULL;
    fail_unless (said == (k < 2), "%s: %s", with[k], warnings);
    g_free (warnings);
  }
}
GST_END_TEST;

/* More threads than cores are said at start; an empty model-location set
 * while playing is said (the model in use goes on); a model message keeps
 * its location for a path that is not UTF-8 (shown as a display name; a
 * structure string must be UTF-8, and GStreamer dropped the field). */
GST_START_TEST (test_settings_said)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! video/x-raw,width=32,height=24 "
      "! decentanomaly model-location=\"%s\" threads=%u ! fakesink", tm.path,
      g_get_num_processors () + 1);
  gchar *warnings = warnings_of_run (desc);
  g_free (desc);
  fail_unless (strstr (warnings, "is more than the") && strstr (warnings, "cores"), "%s",
      warnings);
  g_free (warnings);

  desc = g_strdup_printf ("videotestsrc is-live=true ! video/x-raw,width=32,height=24,"
      "framerate=30/1 ! decentanomaly name=d model-location=\"%s\" score-mode=mean ! "
      "appsink name=sink max-buffers=2 drop=true", tm.path);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  GstElement *d = gst_bin_get_by_name (GST_BIN (pipe), "d");
  GstBus *bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  fail_unless (gst_element_get_state (pipe, NULL, NULL, 30 * GST_SECOND)
      == GST_STATE_CHANGE_SUCCESS);
  /* paused, a load is asked for and done (a model that says 777 where
   * tm says nothing), then an empty location: the load is dropped, and
   * playing again keeps the model in use */
  TestModel other = { g_strdup (tm.dir), NULL, 0, 0, 0 };
  test_model_make (&other, "other-777.dcnt", 777.0f);
  gst_element_set_state (pipe, GST_STATE_PAUSED);
  g_object_set (d, "model-location", other.path, NULL);
  g_usleep (3 * G_USEC_PER_SEC); /* (the load is done: a pending model to drop) */
  g_object_set (d, "model-location", "", NULL);
  gboolean said = FALSE;
  GstMessage *w;
  while (!said && (w = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_WARNING))) {
    gchar *text = message_text (w);
    said = strstr (text, "empty model-location loads nothing") != NULL
           && strstr (text, "a load asked for before it is dropped") != NULL;
    g_free (text);
    gst_message_unref (w);
  }
  fail_unless (said, "an empty model-location was not said");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (guint i = 0; i < 30; i++) { /* (a swap, had one been left, within a second) */
    GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    fail_unless (sample != NULL);
    const GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (
        gst_sample_get_buffer (sample));
    fail_unless (m && m->threshold == G_MAXDOUBLE, "frame %u: threshold %g", i, m->threshold);
    gst_sample_unref (sample);
  }
  gst_object_unref (sink);
  unlink (other.path); /* (its folder is tm's) */
  g_free (other.dir);
  g_free (other.path);
  gchar *odd = g_build_filename (tm.dir, "caf\xe9.dcnt", NULL);
  g_object_set (d, "model-location", odd, NULL);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND, GST_MESSAGE_ELEMENT);
  while (msg && !gst_structure_has_name (gst_message_get_structure (msg),
             "decentanomaly-model")) {
    gst_message_unref (msg);
    msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND, GST_MESSAGE_ELEMENT);
  }
  fail_unless (msg != NULL, "no model message");
  const GstStructure *st = gst_message_get_structure (msg);
  const gchar *location = gst_structure_get_string (st, "location");
  fail_unless_equals_string (gst_structure_get_string (st, "status"), "failed");
  fail_unless (location && g_utf8_validate (location, -1, NULL)
      && g_str_has_suffix (location, "caf\xef\xbf\xbd.dcnt"), "location %s", location);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  g_free (odd);
  gst_object_unref (bus);
  gst_object_unref (d);
  gst_object_unref (pipe);
}
GST_END_TEST;

/* A camera that changes its resolution does not stop the pipeline: a roi
 * that new caps leave outside the frame is a warning, the whole frame is
 * scored meanwhile, and the roi applies again once the frame has room for
 * it (before: "Cannot feed this video to the model", the stream stopped).
 * A malformed roi set while playing is a warning only: the element starts
 * again with the roi it kept (before: "Invalid roi" at the next start,
 * over a value the property no longer showed). */
GST_START_TEST (test_roi_outside_after_new_caps)
{
  GstHarness *h = model_harness ("roi=20,0,8,8");
  GstBus *bus = harness_bus (h);
  const gchar *wide = "video/x-raw,format=GRAY8,width=32,height=16,framerate=30/1";
  const guint want_x[] = { 20, 0, 20 }, want_w[] = { 8, 16, 8 };
  for (guint k = 0; k < 3; k++) {
    gst_harness_set_src_caps_str (h, k == 1 ? GRAY_CAPS : wide);
    fail_unless_equals_int (gst_harness_push (h, k == 1 ? gray_frame (TRUE, k)
        : half_noise_frame ()), GST_FLOW_OK);
    GstBuffer *b = gst_harness_pull (h);
    GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
    fail_unless (m != NULL && isfinite (m->score), "caps %u: no score", k);
    fail_unless (m->roi_x == want_x[k] && m->roi_width == want_w[k] && m->roi_height
        == (k == 1 ? 16u : 8u), "caps %u: region %u,%u %ux%u", k, m->roi_x, m->roi_y,
        m->roi_width, m->roi_height);
    gst_buffer_unref (b);
    gchar *warning = first_warning (bus);
    fail_unless ((warning != NULL) == (k == 1), "caps %u: warning %s", k, warning);
    if (warning)
      fail_unless (strstr (warning, "roi lies outside the frame")
          && strstr (warning, "roi 20,0,8x8, frame 16x16"), "%s", warning);
    g_free (warning);
  }
  harness_bus_teardown (h, bus);

  /* while playing, a malformed roi is a warning, and a restart runs with
   * the roi kept; while stopped (a stopped pipeline's bus drops the
   * warning), the start refuses it */
  gchar *desc = g_strdup_printf ("videotestsrc ! video/x-raw,width=32,height=24 ! "
      "decentanomaly name=d model-location=\"%s\" threshold=1 roi=0,0,8,8 ! fakesink", tm.path);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL);
  GstElement *d = gst_bin_get_by_name (GST_BIN (pipe), "d");
  GstBus *pbus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  fail_unless (gst_element_get_state (pipe, NULL, NULL, 30 * GST_SECOND)
      == GST_STATE_CHANGE_SUCCESS);
  g_object_set (d, "roi", "1,2,three,4", NULL);
  gchar *roi = NULL;
  g_object_get (d, "roi", &roi, NULL);
  fail_unless_equals_string (roi, "0,0,8,8");
  g_free (roi);
  gchar *warning = first_warning (pbus);
  fail_unless (warning && strstr (warning, "Invalid roi"), "%s", warning);
  g_free (warning);
  gst_element_set_state (pipe, GST_STATE_READY);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  fail_unless (gst_element_get_state (pipe, NULL, NULL, 30 * GST_SECOND)
      == GST_STATE_CHANGE_SUCCESS, "a restart after a malformed roi set while playing");
  GstMessage *error = gst_bus_pop_filtered (pbus, GST_MESSAGE_ERROR);
  fail_unless (error == NULL, "an error after a malformed roi set while playing");
  gst_element_set_state (pipe, GST_STATE_NULL);
  g_object_set (d, "roi", "1,2,oops", NULL);
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE
      || gst_element_get_state (pipe, NULL, NULL, 30 * GST_SECOND) == GST_STATE_CHANGE_FAILURE,
      "started with a malformed roi set while stopped");
  error = gst_bus_pop_filtered (pbus, GST_MESSAGE_ERROR);
  fail_unless (error != NULL, "no error for a malformed roi set while stopped");
  gchar *text = message_text (error);
  fail_unless (strstr (text, "Invalid roi"), "%s", text);
  g_free (text);
  gst_message_unref (error);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pbus);
  gst_object_unref (d);
  gst_object_unref (pipe);
  g_free (desc);
}
GST_END_TEST;

/* The first frame that reaches appsink "sink" of a pipeline description
 * (the pipeline is stopped again; the sample keeps its buffer). */
static GstSample *
first_sample (const gchar *desc)
{
  GstElement *pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL, "%s", desc);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  fail_unless (sample != NULL, "no frame from %s", desc);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  return sample;
}

/* Through videoconvert and videoscale the meta stays, its region scaled
 * with the frame (64x48 -> 32x20), and a flagged frame's
 * GstVideoRegionOfInterestMeta too. */
GST_START_TEST (test_meta_survives_converters)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! video/x-raw,format=I420,"
      "width=64,height=48 ! decentanomaly model-location=\"%s\" attach-heatmap=true "
      "roi=8,4,32,24 threshold=1e-9 ! videoconvert ! videoscale ! "
      "video/x-raw,format=RGB,width=32,height=20 ! appsink name=sink sync=false", tm.path);
  GstSample *sample = first_sample (desc);
  g_free (desc);
  GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (gst_sample_get_buffer (sample));
  fail_unless (m != NULL, "meta lost in videoconvert/videoscale");
  fail_unless (isfinite (m->score) && m->heatmap && m->heatmap_width == MW
      && m->heatmap_height == MH);
  fail_unless (m->flagged);
  /* 8,4 32x24 of 64x48, in 32x20 */
  fail_unless (m->roi_x == 4 && m->roi_y == 1 && m->roi_width == 16 && m->roi_height == 10,
      "region %u,%u %ux%u after videoscale", m->roi_x, m->roi_y, m->roi_width, m->roi_height);
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_get_video_region_of_interest_meta (gst_sample_get_buffer (sample));
  fail_unless (roi != NULL, "no region-of-interest meta on a flagged frame");
  fail_unless_equals_string (g_quark_to_string (roi->roi_type), "anomaly");
  fail_unless (roi->x == 4 && roi->y == 1 && roi->w == 16 && roi->h == 10,
      "roi meta %u,%u %ux%u", roi->x, roi->y, roi->w, roi->h);
  gst_sample_unref (sample);

  /* straight from the element, the region meta carries the scores (1.22's
   * videoscale keeps region metas' places, not their parameters) */
  GstHarness *h = anomaly_harness (tm.path, "threshold=1e-9");
  GstBuffer *out = gst_harness_push_and_pull (h, gray_frame (TRUE, 0));
  m = gst_buffer_get_decent_anomaly_meta (out);
  roi = gst_buffer_get_video_region_of_interest_meta (out);
  fail_unless (m && m->flagged && roi);
  GstStructure *param = gst_video_region_of_interest_meta_get_param (roi, "decent-anomaly");
  gdouble score = 0, threshold = 0;
  fail_unless (param && gst_structure_get_double (param, "score", &score)
      && gst_structure_get_double (param, "threshold", &threshold)
      && fabs (score - m->score) < 1e-12 && fabs (threshold - m->threshold) < 1e-12);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* threshold and overlay-alpha are controllable: a control source over
 * stream time sets them for each frame (here: no frame flagged in the
 * first second, every frame in the next; the meta carries the threshold in
 * force). */
GST_START_TEST (test_threshold_controlled_over_time)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=20 ! video/x-raw,format=I420,"
      "width=64,height=48,framerate=10/1 ! decentanomaly name=a model-location=\"%s\" ! "
      "appsink name=sink sync=false", tm.path);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  GstElement *a = gst_bin_get_by_name (GST_BIN (pipe), "a");
  GstControlSource *cs = gst_interpolation_control_source_new ();
  g_object_set (cs, "mode", GST_INTERPOLATION_MODE_NONE, NULL);
  GstTimedValueControlSource *tv = GST_TIMED_VALUE_CONTROL_SOURCE (cs);
  fail_unless (gst_timed_value_control_source_set (tv, 0, 1e9));
  fail_unless (gst_timed_value_control_source_set (tv, GST_SECOND, 1e-9));
  fail_unless (gst_object_add_control_binding (GST_OBJECT (a),
      gst_direct_control_binding_new_absolute (GST_OBJECT (a), "threshold", cs)));
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (guint i = 0; i < 20; i++) {
    GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    fail_unless (sample != NULL, "frame %u missing", i);
    GstDecentAnomalyMeta *m =
        gst_buffer_get_decent_anomaly_meta (gst_sample_get_buffer (sample));
    fail_unless (m != NULL);
    const gdouble want = i < 10 ? 1e9 : 1e-9;
    fail_unless (m->threshold == want && m->flagged == (i >= 10),
        "frame %u: threshold %g, flagged %d; the control source gives %g", i, m->threshold,
        m->flagged, want);
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (cs);
  gst_object_unref (sink);
  gst_object_unref (a);
  gst_object_unref (pipe);
}
GST_END_TEST;

/* Scaled down, the meta's region keeps at least a pixel and stays inside
 * the frame (helper-62: 63,47 1x1 of 64x48 became 31,23 0x0 at 32x24, and
 * 1,1 63x47 became 0,0 0x0 at 1x1); elsewhere it is rounded down as
 * GStreamer's region meta is. */
GST_START_TEST (test_meta_region_scaled_down_keeps_a_pixel)
{
  const struct {
    const gchar *roi;
    gint w, h;
    guint x, y, rw, rh;
  } rows[] = {
    { "63,47,1,1", 32, 24, 31, 23, 1, 1 },
    { "10,10,3,3", 16, 12, 2, 2, 1, 1 },
    { "1,1,63,47", 1, 1, 0, 0, 1, 1 },
    { "8,4,32,24", 32, 20, 4, 1, 16, 10 },
  };
  for (guint k = 0; k < G_N_ELEMENTS (rows); k++) {
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=1 ! video/x-raw,format=I420,"
        "width=64,height=48 ! decentanomaly model-location=\"%s\" roi=%s ! videoscale ! "
        "video/x-raw,width=%d,height=%d ! appsink name=sink sync=false", tm.path, rows[k].roi,
        rows[k].w, rows[k].h);
    GstSample *sample = first_sample (desc);
    g_free (desc);
    GstDecentAnomalyMeta *m =
        gst_buffer_get_decent_anomaly_meta (gst_sample_get_buffer (sample));
    fail_unless (m != NULL, "roi %s: meta lost in videoscale", rows[k].roi);
    fail_unless (m->roi_x == rows[k].x && m->roi_y == rows[k].y
        && m->roi_width == rows[k].rw && m->roi_height == rows[k].rh,
        "roi %s of 64x48 at %dx%d: %u,%u %ux%u, not %u,%u %ux%u", rows[k].roi, rows[k].w,
        rows[k].h, m->roi_x, m->roi_y, m->roi_width, m->roi_height, rows[k].x, rows[k].y,
        rows[k].rw, rows[k].rh);
    gst_sample_unref (sample);
  }
}
GST_END_TEST;

static gchar *
error_of_pipeline (const gchar *location)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! decentanomaly "
      "model-location=\"%s\" ! fakesink", location);
  gchar *text = pipeline_error (desc);
  g_free (desc);
  return text;
}

GST_START_TEST (test_bad_model_files)
{
  gchar *missing = g_build_filename (tm.dir, "missing.dcnt", NULL);
  gchar *text = error_of_pipeline (missing);
  fail_unless (text && strstr (text, missing) && strstr (text, "No such file"), "%s", text);
  g_free (text);

  gchar *corrupt = g_build_filename (tm.dir, "corrupt.dcnt", NULL);
  gchar *data;
  gsize len;
  fail_unless (g_file_get_contents (tm.path, &data, &len, NULL));
  data[len / 2] ^= 0x40;
  fail_unless (g_file_set_contents (corrupt, data, (gssize) len, NULL));
  text = error_of_pipeline (corrupt);
  fail_unless (text && strstr (text, corrupt) && strstr (text, "corrupted"), "%s", text);
  g_free (text);
  fail_unless (g_file_set_contents (corrupt, data, 100, NULL));
  text = error_of_pipeline (corrupt);
  fail_unless (text && strstr (text, corrupt) && strstr (text, "truncated"), "%s", text);
  g_free (text);
  g_free (data);
  g_free (corrupt);
  g_free (missing);
}
GST_END_TEST;

GST_START_TEST (test_resolution_change)
{
  GstHarness *h = model_harness (NULL);
  GstBuffer *b = push_pull (h, TRUE, 0);
  GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
  fail_unless (m && m->flagged);
  gst_buffer_unref (b);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=64,height=48,framerate=30/1");
  GstBuffer *big = gst_buffer_new_allocate (NULL, 64 * 48 * 3 / 2, NULL);
  gst_buffer_memset (big, 0, 100, 64 * 48 * 3 / 2);
  fail_unless_equals_int (gst_harness_push (h, big), GST_FLOW_OK);
  b = gst_harness_pull (h);
  m = gst_buffer_get_decent_anomaly_meta (b);
  fail_unless (m && isfinite (m->score) && m->roi_width == 64 && m->roi_height == 48);
  gst_buffer_unref (b);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_model_swap_while_playing)
{
  TestModel other_model = { g_strdup (tm.dir), NULL, 0, 0, 0 };
  test_model_make (&other_model, "other_model.dcnt", 12345.0f);
  /* the element's threshold follows the model: no threshold property */
  GstHarness *h = anomaly_harness (tm.path, NULL);
  GstBus *bus = harness_bus (h);

  /* uncalibrated: nothing is flagged, and the meta says so consistently
   * (score under the threshold, normalized 0) */
  GstBuffer *b = push_pull (h, TRUE, 0);
  const GstDecentAnomalyMeta *uncalibrated = gst_buffer_get_decent_anomaly_meta (b);
  fail_unless (uncalibrated->threshold == G_MAXDOUBLE && uncalibrated->normalized_score == 0.0
      && !uncalibrated->flagged && uncalibrated->score > 0, "threshold %g, normalized %g",
      uncalibrated->threshold, uncalibrated->normalized_score);
  gst_buffer_unref (b);
  GstElement *element = gst_harness_find_element (h, "decentanomaly");
  g_object_set (element, "model-location", other_model.path, NULL);

  guint pushed = 1, swapped_at = 0;
  gint64 deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  while (!swapped_at && g_get_monotonic_time () < deadline) {
    b = push_pull (h, FALSE, pushed++);
    fail_unless (b != NULL, "a frame was dropped during the swap");
    if (gst_buffer_get_decent_anomaly_meta (b)->threshold == 12345.0)
      swapped_at = pushed - 1;
    gst_buffer_unref (b);
    g_usleep (1000);
  }
  fail_unless (swapped_at > 0, "the new model never took effect");
  fail_unless_equals_int (gst_harness_buffers_received (h), pushed);
  GstMessage *msg = next_element_message (bus, "decentanomaly-model");
  fail_unless (msg != NULL);
  const GstStructure *s = gst_message_get_structure (msg);
  fail_unless_equals_string (gst_structure_get_string (s, "status"), "loaded");
  fail_unless_equals_string (gst_structure_get_string (s, "location"), other_model.path);
  guint64 frame;
  fail_unless (gst_structure_get_uint64 (s, "frame", &frame));
  fail_unless_equals_uint64 (frame, swapped_at);
  gst_message_unref (msg);

  /* a broken file keeps the current model and says why */
  gchar *bad = g_build_filename (tm.dir, "bad.dcnt", NULL);
  fail_unless (g_file_set_contents (bad, "not a model", -1, NULL));
  g_object_set (element, "model-location", bad, NULL);
  msg = wait_element_message (bus, "decentanomaly-model", 20);
  fail_unless (msg != NULL);
  fail_unless_equals_string (gst_structure_get_string (gst_message_get_structure (msg),
          "status"), "failed");
  gst_message_unref (msg);
  b = push_pull (h, FALSE, pushed);
  fail_unless (gst_buffer_get_decent_anomaly_meta (b)->threshold == 12345.0);
  gst_buffer_unref (b);
  g_free (bad);
  gst_object_unref (element);

  harness_bus_teardown (h, bus);
  g_free (other_model.dir);
  g_free (other_model.path);
}
GST_END_TEST;


/* A model calibrated in every mode (as decent-train writes them), on grey
 * frames and noise frames mixed. */
static gchar *
calibrated_model (void)
{
  return calibrated_test_model (tm.dir, MW, MH, "modes.dcnt", FALSE);
}

GST_START_TEST (test_score_modes)
{
  gchar *path = calibrated_model ();
  DecentModel *m = load_model (path, NULL, NULL);
  DecentError err;
  const gchar *names[] = { "mean", "local", "normalized" };
  for (int k = 0; k < 3; k++) {
    /* local is the default */
    gchar *props = g_strdup_printf ("message-mode=all%s%s", k == 1 ? "" : " score-mode=",
        k == 1 ? "" : names[k]);
    GstHarness *h = anomaly_harness (path, props);
    g_free (props);
    GstBus *bus = harness_bus (h);
    GstBuffer *b = push_pull (h, TRUE, 0);
    GstDecentAnomalyMeta *meta = gst_buffer_get_decent_anomaly_meta (b);
    /* the engine's score of the same model pixels, in the same mode */
    guint8 noise[MW * MH];
    fill_noise (noise, sizeof noise, 1);
    float want;
    DecentCalibration cal;
    fail_unless (decent_model_score_mode (m, (DecentScoreMode) k, noise, 1, &want, NULL, &err)
        == 0, "%s", err.message);
    decent_model_get_mode_calibration (m, (DecentScoreMode) k, &cal);
    fail_unless (meta && meta->score_mode == k, "%s: meta mode %d", names[k],
        meta ? meta->score_mode : -1);
    fail_unless (fabs (meta->score - want) < 1e-5 * fabs (want), "%s: score %g, want %g",
        names[k], meta->score, want);
    fail_unless (fabs (meta->threshold - cal.threshold) < 1e-6 * cal.threshold,
        "%s: threshold %g, calibrated %g", names[k], meta->threshold, cal.threshold);
    GstMessage *msg = next_element_message (bus, "decentanomaly");
    fail_unless (msg != NULL);
    fail_unless_equals_string (gst_structure_get_string (gst_message_get_structure (msg),
            "score-mode"), names[k]);
    gst_message_unref (msg);
    gst_buffer_unref (b);
    harness_bus_teardown (h, bus);
  }
  decent_model_free (m);
  g_free (path);
}
GST_END_TEST;

/* A model with the mean's threshold only (an older gst-decent's) is scored
 * in mean mode, with a warning that says why. */
GST_START_TEST (test_score_mode_fallback)
{
  TestModel old = { g_strdup (tm.dir), NULL, 0, 0, 0 };
  test_model_make (&old, "old.dcnt", 0.5f);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 pattern=snow ! " GRAY_CAPS " ! "
      "decentanomaly model-location=\"%s\" ! appsink name=sink sync=false", old.path);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  fail_unless (sample != NULL);
  GstDecentAnomalyMeta *meta = gst_buffer_get_decent_anomaly_meta (gst_sample_get_buffer (sample));
  fail_unless (meta && meta->score_mode == DECENT_SCORE_MEAN && meta->threshold == 0.5f,
      "mode %d, threshold %g", meta ? meta->score_mode : -1, meta ? meta->threshold : -1);
  gst_sample_unref (sample);
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *w = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (w != NULL, "no warning about the score mode");
  GError *e;
  gchar *dbg;
  gst_message_parse_warning (w, &e, &dbg);
  fail_unless (strstr (e->message, "score-mode=local") && strstr (dbg, "no threshold"),
      "%s | %s", e->message, dbg);
  g_error_free (e);
  g_free (dbg);
  gst_message_unref (w);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  g_free (old.dir);
  g_free (old.path);
}
GST_END_TEST;

/* gst-launch sets properties before there is a bus: a malformed roi stops
 * the pipeline at start with a message, instead of being ignored. */
GST_START_TEST (test_roi_malformed_at_launch)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! decentanomaly "
      "model-location=\"%s\" roi=10:10:50:50 ! fakesink", tm.path);
  gchar *text = pipeline_error (desc);
  fail_unless (text && strstr (text, "Invalid roi") && strstr (text, "10:10:50:50"), "%s", text);
  g_free (text);
  g_free (desc);
  /* a number out of range is named for what it is */
  desc = g_strdup_printf ("videotestsrc num-buffers=2 ! decentanomaly model-location=\"%s\" "
      "roi=0,0,4294967295,8 ! fakesink", tm.path);
  text = pipeline_error (desc);
  fail_unless (text && strstr (text, "its width, 4294967295, is out of range 0..65535"), "%s",
      text);
  g_free (text);
  g_free (desc);
  /* a valid roi after it replaces the refused one (no double free, no leak) */
  desc = g_strdup_printf ("videotestsrc num-buffers=2 ! decentanomaly model-location=\"%s\" "
      "roi=abc roi=0,0,8,8 ! fakesink", tm.path);
  text = pipeline_error (desc);
  fail_unless (text == NULL, "%s", text);
  g_free (desc);
}
GST_END_TEST;

/* Changing the threshold property while playing chooses the score mode
 * again: a model with the mean's threshold only scores in local mode while a
 * threshold is set, and falls back to mean (with a warning) once it is -1. */
GST_START_TEST (test_threshold_change_rechooses_mode)
{
  TestModel old = { g_strdup (tm.dir), NULL, 0, 0, 0 };
  test_model_make (&old, "old.dcnt", 0.5f);
  GstHarness *h = anomaly_harness (old.path, "threshold=0.9");
  GstBuffer *b = push_pull (h, TRUE, 0);
  fail_unless_equals_int (gst_buffer_get_decent_anomaly_meta (b)->score_mode, DECENT_SCORE_LOCAL);
  gst_buffer_unref (b);
  GstElement *e = gst_harness_find_element (h, "decentanomaly");
  g_object_set (e, "threshold", -1.0, NULL);
  b = push_pull (h, TRUE, 1);
  GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (b);
  fail_unless (m->score_mode == DECENT_SCORE_MEAN && m->threshold == 0.5f
      && fabs (m->score - old.noise_score) < 1e-6 * old.noise_score,
      "mode %d threshold %g score %g", m->score_mode, m->threshold, m->score);
  gst_buffer_unref (b);
  gst_object_unref (e);
  gst_harness_teardown (h);
  g_free (old.dir);
  g_free (old.path);
}
GST_END_TEST;

/* A BYTES segment (filesrc, appsrc by default) has no times: no CRITICAL,
 * and the messages leave the time fields out. */
GST_START_TEST (test_bytes_segment)
{
  GstHarness *h = model_harness ("message-mode=all");
  GstBus *bus = harness_bus (h);
  GstSegment seg;
  gst_segment_init (&seg, GST_FORMAT_BYTES);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  gst_buffer_unref (push_pull (h, TRUE, 0));
  GstMessage *msg = next_element_message (bus, "decentanomaly");
  fail_unless (msg != NULL);
  const GstStructure *st = gst_message_get_structure (msg);
  fail_if (gst_structure_has_field (st, "running-time")
      || gst_structure_has_field (st, "stream-time"), "%" GST_PTR_FORMAT, st);
  fail_unless (gst_structure_has_field (st, "score"));
  gst_message_unref (msg);
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

static gdouble
mean_abs_change (GstBuffer *a, GstBuffer *b, gint x0, gint x1)
{
  GstMapInfo ma, mb;
  gst_buffer_map (a, &ma, GST_MAP_READ);
  gst_buffer_map (b, &mb, GST_MAP_READ);
  gdouble sum = 0;
  for (gint y = 0; y < 16; y++)
    for (gint x = x0; x < x1; x++)
      sum += abs ((gint) ma.data[y * 32 + x] - (gint) mb.data[y * 32 + x]);
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return sum / (16.0 * (x1 - x0));
}

/* The overlay is blended in proportion to the error: where the map is low
 * the frame stays about as it was, where it is high the heatmap shows. */
GST_START_TEST (test_overlay_in_proportion)
{
  for (int heatmap = 0; heatmap < 2; heatmap++) {
    gchar *props = g_strdup_printf ("mode=%s overlay-alpha=1 heatmap-max=%.17g",
        heatmap ? "heatmap" : "overlay", 4 * tm.noise_score);
    GstHarness *h = model_harness (props);
    g_free (props);
    gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=32,height=16,framerate=30/1");
    /* noise on the left, grey on the right; scored whole (mean mode) */
    GstBuffer *in = half_noise_frame ();
    GstBuffer *ref = gst_buffer_copy_deep (in);
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull (h);
    const gdouble left = mean_abs_change (out, ref, 2, 14), right = mean_abs_change (out, ref,
        18, 30);
    GST_INFO ("%s: change left %g, right %g", heatmap ? "heatmap" : "overlay", left, right);
    if (heatmap)
      /* the heatmap replaces the region everywhere */
      fail_unless (right > 20, "heatmap: the grey half changed by %g only", right);
    else
      fail_unless (left > 4 * right && right < 15, "overlay: left %g, right %g", left, right);
    gst_buffer_unref (out);
    gst_buffer_unref (ref);
    gst_harness_teardown (h);
  }
}
GST_END_TEST;

/* A model of tm's size with every mode calibrated and a still gate (lag 3)
 * calibrated on grey footage that barely changes, frame_seconds apart
 * (0: unknown); in tm.dir as name. */
static gchar *
still_gate_model_paced (const gchar *name, float frame_seconds)
{
  gchar *path = calibrated_test_model (tm.dir, MW, MH, name, FALSE);
  DecentError err = { { 0 } };
  DecentModel *m = decent_model_load (path, DECENT_DEVICE_CPU, &err);
  fail_unless (m != NULL, "%s", err.message);
  guint8 frames[20 * MW * MH];
  for (guint i = 0; i < sizeof frames; i++)
    frames[i] = (guint8) (127 + (i * 7 + i / (MW * MH)) % 3);
  DecentStillSettings s;
  decent_still_settings_init (&s);
  s.lag = 3;
  s.frame_seconds = frame_seconds;
  const int blocks[] = { 20 };
  fail_unless (decent_model_calibrate_still (m, &s, frames, blocks, 1, 0.995f, 3.0f, &err) == 0,
      "%s", err.message);
  fail_unless (decent_model_save (m, path, &err) == 0, "%s", err.message);
  decent_model_free (m);
  return path;
}

static gchar *
still_gate_model (void)
{
  return still_gate_model_paced ("still.dcnt", 0.0f);
}

/* The next per-frame message ("decentanomaly"); counts the places that
 * began (region events) on the way. */
static GstMessage *
frame_message_counting (GstBus *bus, guint *region_begins)
{
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *st = gst_message_get_structure (msg);
    if (gst_structure_has_name (st, "decentanomaly"))
      return msg;
    if (gst_structure_has_name (st, "decentanomaly-region")
        && g_strcmp0 (gst_structure_get_string (st, "type"), "begin") == 0)
      (*region_begins)++;
    gst_message_unref (msg);
  }
  return NULL;
}

/* Scores 4 grey frames, then 8 of one noise picture (something new that
 * stays put), message-mode=all: each frame's score, normalized score,
 * flag and still score (-1: none in the message); region_begins (may be
 * NULL): how many places began. */
static void
still_run_regions (const gchar *path, const gchar *props, gdouble *score, gdouble *norm,
    gboolean *flagged, gdouble *still, guint *region_begins)
{
  gchar *all = g_strdup_printf ("message-mode=all %s", props);
  GstHarness *h = anomaly_harness (path, all);
  g_free (all);
  GstBus *bus = harness_bus (h);
  guint begins = 0;
  for (guint i = 0; i < 12; i++) {
    gst_buffer_unref (gst_harness_push_and_pull (h, gray_frame (i >= 4, i)));
    GstMessage *msg = frame_message_counting (bus, &begins);
    fail_unless (msg != NULL, "no message for frame %u", i);
    const GstStructure *st = gst_message_get_structure (msg);
    fail_unless (gst_structure_get (st, "score", G_TYPE_DOUBLE, &score[i], "normalized-score",
        G_TYPE_DOUBLE, &norm[i], "flagged", G_TYPE_BOOLEAN, &flagged[i], NULL));
    if (!gst_structure_get_double (st, "still-score", &still[i]))
      still[i] = -1;
    gst_message_unref (msg);
  }
  gst_harness_push_event (h, gst_event_new_eos ());
  frame_message_counting (bus, &begins); /* the rest */
  if (region_begins)
    *region_begins = begins;
  harness_bus_teardown (h, bus);
}

static void
still_run (const gchar *path, const gchar *props, gdouble *score, gdouble *norm,
    gboolean *flagged, gdouble *still)
{
  still_run_regions (path, props, score, norm, flagged, still, NULL);
}

/* still-gate: the still score is in the messages once lag frames are
 * there; the frame's score is the larger of its own and the still score in
 * its units, so a thing that stays put is flagged even where the threshold
 * is set above every score of its own; still-gate=false and a model without
 * a gate leave the scores alone. */
GST_START_TEST (test_still_gate)
{
  gchar *path = still_gate_model ();
  GstElement *e = gst_element_factory_make ("decentanomaly", NULL);
  gboolean on;
  g_object_get (e, "still-gate", &on, NULL);
  fail_unless (on, "still-gate is on by default");
  gst_object_unref (e);
  DecentModel *m = decent_model_load (path, DECENT_DEVICE_CPU, NULL);
  DecentCalibration local;
  decent_model_get_mode_calibration (m, DECENT_SCORE_LOCAL, &local);
  decent_model_free (m);

  gdouble plain[12], pnorm[12], pstill[12], score[12], norm[12], still[12];
  gboolean pflag[12], flag[12];
  still_run (path, "still-gate=false", plain, pnorm, pflag, pstill);
  gdouble top = 0;
  for (guint i = 0; i < 12; i++) {
    fail_unless (pstill[i] < 0, "frame %u: a still score with still-gate=false", i);
    top = MAX (top, plain[i]);
  }
  /* a threshold over every score of the frames themselves */
  gchar *props = g_strdup_printf ("threshold=%.17g", 1.5 * top);
  guint places = 0, own_places = 1;
  still_run_regions (path, props, score, norm, flag, still, &places);
  g_free (props);
  guint only_still = 0;
  for (guint i = 0; i < 12; i++) {
    /* history: frames 0..2; the noise is new from frame 4, still from 7 */
    fail_unless ((i < 3) == (still[i] < 0), "frame %u: still score %g", i, still[i]);
    const gdouble as_score = still[i] >= 0 ? still[i] * local.threshold : 0;
    fail_unless (fabs (score[i] - MAX (plain[i], as_score)) <= 1e-6 * MAX (score[i], 1e-9),
        "frame %u: score %g, its own %g, still %g in its units", i, score[i], plain[i],
        as_score);
    fail_unless (flag[i] == (score[i] > 1.5 * top), "frame %u: flag", i);
    only_still += flag[i];
    if (i < 7)
      fail_if (flag[i], "frame %u flagged before the noise stayed put", i);
  }
  fail_unless (only_still >= 4, "the noise that stays put flagged in %u of 5 frames",
      only_still);
  /* the gate's map is in the frame's map: the thing it found has a place,
   * which the frame's own map alone (still-gate=false, the same threshold)
   * does not give */
  fail_unless (places >= 1, "frames flagged by the still gate began %u places", places);
  props = g_strdup_printf ("threshold=%.17g still-gate=false", 1.5 * top);
  still_run_regions (path, props, plain, pnorm, pflag, pstill, &own_places);
  g_free (props);
  fail_unless (own_places == 0, "%u places without the gate", own_places);

  /* a model without a gate scores as with still-gate=false */
  gchar *plain_path = calibrated_test_model (tm.dir, MW, MH, "nogate.dcnt", FALSE);
  gdouble with[12], onorm[12], ostill[12], without[12], fnorm[12], fstill[12];
  gboolean oflag[12], fflag[12];
  still_run (plain_path, "", with, onorm, oflag, ostill);
  still_run (plain_path, "still-gate=false", without, fnorm, fflag, fstill);
  for (guint i = 0; i < 12; i++)
    fail_unless (ostill[i] < 0 && with[i] == without[i] && oflag[i] == fflag[i],
        "frame %u without a gate: still %g, score %g against %g", i, ostill[i], with[i],
        without[i]);
  g_free (plain_path);
  g_free (path);
}
GST_END_TEST;

/* A gate calibrated at another framerate keeps its lag in seconds: lag 3
 * at 15 frames/s is 6 frames of the 30 frames/s stream (every other frame
 * taken, the others keep its result), at 60 frames/s 2 frames; a gate of
 * unknown pace counts frames (3). */
GST_START_TEST (test_still_gate_pace)
{
  const struct { const gchar *name; float seconds; guint first; } runs[] = {
    { "still15.dcnt", 1.0f / 15, 6 }, { "still60.dcnt", 1.0f / 60, 2 },
    { "still0.dcnt", 0.0f, 3 },
  };
  for (guint k = 0; k < G_N_ELEMENTS (runs); k++) {
    gchar *path = still_gate_model_paced (runs[k].name, runs[k].seconds);
    gdouble score[12], norm[12], still[12];
    gboolean flag[12];
    still_run (path, "", score, norm, flag, still);
    for (guint i = 0; i < 12; i++)
      fail_unless ((i < runs[k].first) == (still[i] < 0), "%s, frame %u: still score %g",
          runs[k].name, i, still[i]);
    if (k == 0) /* frames not taken repeat the one before */
      for (guint i = runs[k].first + 1; i < 12; i += 2)
        fail_unless (still[i] == still[i - 1], "frame %u: %g after %g", i, still[i],
            still[i - 1]);
    g_free (path);
  }
}
GST_END_TEST;

/* The still scores (-1: none) of n frames of caps with these timestamps:
 * noise that stays put from frame 4; from frame roi_at on (0: never) with
 * another roi. */
static void
still_run_pts (const gchar *path, const gchar *caps, const GstClockTime *pts, guint n,
    guint roi_at, gdouble *still)
{
  GstHarness *h = anomaly_harness (path, "message-mode=all");
  gst_harness_set_src_caps_str (h, caps);
  GstBus *bus = harness_bus (h);
  guint begins = 0;
  for (guint i = 0; i < n; i++) {
    if (roi_at && i == roi_at) {
      GstElement *e = gst_harness_find_element (h, "decentanomaly");
      g_object_set (e, "roi", "0,0,12,12", NULL);
      gst_object_unref (e);
    }
    GstBuffer *b = gray_frame (i >= 4, i);
    GST_BUFFER_PTS (b) = pts[i];
    GST_BUFFER_DURATION (b) = GST_CLOCK_TIME_NONE;
    gst_buffer_unref (gst_harness_push_and_pull (h, b));
    GstMessage *msg = frame_message_counting (bus, &begins);
    fail_unless (msg != NULL, "no message for frame %u", i);
    if (!gst_structure_get_double (gst_message_get_structure (msg), "still-score", &still[i]))
      still[i] = -1;
    gst_message_unref (msg);
  }
  harness_bus_teardown (h, bus);
}

/* still_run_pts with timestamps step apart (GST_CLOCK_TIME_NONE: none). */
static void
still_run_timed_roi (const gchar *path, const gchar *caps, GstClockTime step, guint n,
    guint roi_at, gdouble *still)
{
  GstClockTime *pts = g_new (GstClockTime, n);
  for (guint i = 0; i < n; i++)
    pts[i] = GST_CLOCK_TIME_IS_VALID (step) ? i * step : GST_CLOCK_TIME_NONE;
  still_run_pts (path, caps, pts, n, roi_at, still);
  g_free (pts);
}

static void
still_run_timed (const gchar *path, const gchar *caps, GstClockTime step, guint n,
    gdouble *still)
{
  still_run_timed_roi (path, caps, step, n, 0, still);
}

/* Where the caps give no framerate, or one the timestamps belie, the
 * scored frames' timestamps pace the gate from the tenth frame on (the
 * median of nine intervals; the gate starts again): a gate calibrated at
 * 15 frames/s with lag 3 then compares frames 6 apart in a stream 1/30 s
 * apart, its history full 6 frames after the tenth.  Before, the caps'
 * pace: none (frames counted: lag 3) or 60 frames/s (lag 12, not full by
 * the tenth).  Without timestamps frames stay counted.  The measured pace
 * outlives a new roi. */
GST_START_TEST (test_still_gate_pace_from_timestamps)
{
  gchar *path = still_gate_model_paced ("still15t.dcnt", 1.0f / 15);
  const gchar *caps0 = "video/x-raw,format=GRAY8,width=16,height=16,framerate=0/1";
  gdouble still[20];
  still_run_timed (path, caps0, GST_SECOND / 30, 20, still);
  for (guint i = 0; i < 20; i++)
    fail_unless ((still[i] >= 0) == ((i >= 3 && i < 9) || i >= 15),
        "no framerate, 1/30 s apart, frame %u: still score %g", i, still[i]);
  still_run_timed (path, "video/x-raw,format=GRAY8,width=16,height=16,framerate=60/1",
      GST_SECOND / 30, 20, still);
  for (guint i = 0; i < 20; i++)
    fail_unless ((still[i] >= 0) == (i >= 15),
        "60/1 in the caps, 1/30 s apart, frame %u: still score %g", i, still[i]);
  /* the caps right within a quarter: no restart */
  still_run_timed (path, GRAY_CAPS, GST_SECOND / 27, 20, still);
  for (guint i = 0; i < 20; i++)
    fail_unless ((still[i] >= 0) == (i >= 6), "30/1 in the caps, 1/27 s apart, frame %u: "
        "still score %g", i, still[i]);
  still_run_timed (path, caps0, GST_CLOCK_TIME_NONE, 20, still);
  for (guint i = 0; i < 20; i++)
    fail_unless ((still[i] >= 0) == (i >= 3), "no framerate, no timestamps, frame %u: "
        "still score %g", i, still[i]);
  /* timestamps 1 us apart are no camera's pace: frames stay counted (taken
   * at their word, the gate would take one frame in 66667 and never fill) */
  still_run_timed (path, caps0, GST_USECOND, 20, still);
  for (guint i = 0; i < 20; i++)
    fail_unless ((still[i] >= 0) == (i >= 3), "no framerate, 1 us apart, frame %u: "
        "still score %g", i, still[i]);
  /* nor are caps of 100000 frames/s, without timestamps to say otherwise:
   * frames counted (the gate took one frame in 10000: helper-72) */
  still_run_timed (path, "video/x-raw,format=GRAY8,width=16,height=16,framerate=100000/1",
      GST_CLOCK_TIME_NONE, 20, still);
  for (guint i = 0; i < 20; i++)
    fail_unless ((still[i] >= 0) == (i >= 3), "100000/1 in the caps, no timestamps, frame %u: "
        "still score %g", i, still[i]);
  /* a new roi starts the gates again, at the pace measured (6 frames), not
   * at the caps' until it is measured again */
  gdouble moved[30];
  still_run_timed_roi (path, "video/x-raw,format=GRAY8,width=16,height=16,framerate=60/1",
      GST_SECOND / 30, 30, 20, moved);
  for (guint i = 0; i < 30; i++)
    fail_unless ((moved[i] >= 0) == ((i >= 15 && i < 20) || i >= 26),
        "60/1 in the caps, 1/30 s apart, a new roi at frame 20, frame %u: still score %g", i,
        moved[i]);
  g_free (path);
}
GST_END_TEST;

/* A camera that halves its rate while it streams (many do at night): the
 * gate calibrated at 15 frames/s with lag 3 compares frames 6 apart while
 * they come 1/30 s apart as the caps say, and 3 apart once they have come
 * 1/15 s apart for DECENT_PACE_CONFIRM_SECONDS: the window that began at
 * frame 18 (0.6 s) is the first of the new pace, and the first to end 10 s
 * after it ends at frame 171 (10.73 s), which restarts the gate (full
 * again 3 frames later).  A rate that wavers every 12 frames keeps the
 * pace, and the gate full. */
GST_START_TEST (test_still_gate_follows_pace_changes)
{
  gchar *path = still_gate_model_paced ("still15c.dcnt", 1.0f / 15);
  enum { N = 200 };
  GstClockTime pts[N];
  gdouble still[N];
  for (guint i = 0; i < N; i++)
    pts[i] = i <= 20 ? i * GST_SECOND / 30 : pts[i - 1] + GST_SECOND / 15;
  still_run_pts (path, GRAY_CAPS, pts, N, 0, still);
  for (guint i = 0; i < N; i++)
    fail_unless ((still[i] >= 0) == ((i >= 6 && i < 171) || i >= 174),
        "30/1 in the caps, 1/15 s apart from frame 20, frame %u: still score %g", i, still[i]);
  for (guint i = 0; i < N; i++)
    pts[i] = i ? pts[i - 1] + ((i / 12) % 2 ? GST_SECOND / 15 : GST_SECOND / 30) : 0;
  still_run_pts (path, GRAY_CAPS, pts, N, 0, still);
  for (guint i = 0; i < N; i++)
    fail_unless ((still[i] >= 0) == (i >= 6),
        "30/1 in the caps, 1/30 and 1/15 s apart by turns, frame %u: still score %g", i,
        still[i]);
  g_free (path);
}
GST_END_TEST;

static Suite *
decentanomaly_suite (void)
{
  Suite *s = suite_create ("decentanomaly");
  TCase *tc = suite_add_case (s, "general", 120, test_model_setup, test_model_teardown);
  tcase_add_test (tc, test_formats_carry_meta);
  tcase_add_test (tc, test_frame_messages);
  tcase_add_test (tc, test_events_hysteresis);
  tcase_add_test (tc, test_event_pairs_kept_on_the_bus);
  tcase_add_test (tc, test_event_ended_at_eos);
  tcase_add_test (tc, test_event_ended_at_new_stream);
  tcase_add_test (tc, test_event_counts_carried_frames);
  tcase_add_test (tc, test_region_events);
  tcase_add_test (tc, test_regions_ended_at_new_stream);
  tcase_add_test (tc, test_region_kept_through_same_place);
  tcase_add_test (tc, test_places_nested_on_the_bus);
  tcase_add_test (tc, test_carried_regions_follow_threshold);
  tcase_add_test (tc, test_flagged_only);
  tcase_add_test (tc, test_settings_said);
  tcase_add_test (tc, test_chained_elements_meta);
  tcase_add_test (tc, test_batching_without_sharers_said);
  tcase_add_test (tc, test_overlay_changes_pixels);
  tcase_add_test (tc, test_inference_interval);
  tcase_add_test (tc, test_roi);
  tcase_add_test (tc, test_meta_survives_converters);
  tcase_add_test (tc, test_meta_region_scaled_down_keeps_a_pixel);
  tcase_add_test (tc, test_threshold_controlled_over_time);
  tcase_add_test (tc, test_bad_model_files);
  tcase_add_test (tc, test_resolution_change);
  tcase_add_test (tc, test_model_swap_while_playing);
  tcase_add_test (tc, test_score_modes);
  tcase_add_test (tc, test_score_mode_fallback);
  tcase_add_test (tc, test_roi_malformed_at_launch);
  tcase_add_test (tc, test_roi_outside_after_new_caps);
  tcase_add_test (tc, test_overlay_in_proportion);
  tcase_add_test (tc, test_threshold_change_rechooses_mode);
  tcase_add_test (tc, test_bytes_segment);
  tcase_add_test (tc, test_still_gate);
  tcase_add_test (tc, test_still_gate_pace);
  tcase_add_test (tc, test_still_gate_pace_from_timestamps);
  tcase_add_test (tc, test_still_gate_follows_pace_changes);
  return s;
}

GST_CHECK_MAIN (decentanomaly);
