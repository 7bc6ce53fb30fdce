/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decentanomaly's model-instance-id: streams that share one engine get the
 * scores that elements of their own give (bit for bit on the CPU), each its
 * own, in order, whatever the other streams' caps, content and length; a
 * stream that ends or is removed does not hold the others back; a sharer
 * that names another model is refused; a hot reload reaches every sharer,
 * and no frame is lost.  Scores are read from the per-frame messages. */
#include <gst/app/app.h>

#include "plugin_util.h"

/* A 16x16 grey model with its own initial weights (untrained: the scores
 * differ from frame to frame and from model to model, which is all these
 * tests need). */
static gchar *
make_model (const gchar *name, guint64 seed)
{
  DecentConfig cfg;
  DecentError err = { { 0 } };
  decent_config_init (&cfg, MW, MH, 1);
  cfg.base_channels = 8;
  cfg.seed = seed;
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *m = decent_model_new (&cfg, &err);
  fail_unless (m != NULL, "%s", err.message);
  gchar *path = g_build_filename (dir, name, NULL);
  fail_unless (decent_model_save (m, path, &err) == 0, "%s", err.message);
  decent_model_free (m);
  return path;
}

/* Per stream (element name): scores by frame number, in the order posted. */
typedef struct {
  GHashTable *scores;  /* name -> GArray of double */
  GHashTable *frames;  /* name -> GArray of guint64 */
  GHashTable *loaded;  /* name -> frame at which a hot reload was adopted (+1) */
  gchar *error;
} Run;

static void
run_clear (Run *r)
{
  g_hash_table_unref (r->scores);
  g_hash_table_unref (r->frames);
  g_hash_table_unref (r->loaded);
  g_free (r->error);
}

static GArray *
array_of (GHashTable *t, const gchar *name, guint size)
{
  GArray *a = g_hash_table_lookup (t, name);
  if (!a) {
    a = g_array_new (FALSE, FALSE, size);
    g_hash_table_insert (t, g_strdup (name), a);
  }
  return a;
}

/* Files one bus message in r; TRUE at EOS or an error. */
static gboolean
note_message (Run *r, GstMessage *msg)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    r->error = message_text (msg);
    return TRUE;
  }
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS)
    return TRUE;
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT)
    return FALSE;
  const GstStructure *s = gst_message_get_structure (msg);
  const gchar *name = GST_OBJECT_NAME (GST_MESSAGE_SRC (msg));
  guint64 frame = 0;
  if (gst_structure_has_name (s, "decentanomaly")) {
    gdouble score = 0;
    fail_unless (gst_structure_get_uint64 (s, "frame", &frame));
    fail_unless (gst_structure_get_double (s, "score", &score));
    g_array_append_val (array_of (r->scores, name, sizeof (gdouble)), score);
    g_array_append_val (array_of (r->frames, name, sizeof (guint64)), frame);
  } else if (gst_structure_has_name (s, "decentanomaly-model")
             && g_str_equal (gst_structure_get_string (s, "status"), "loaded")) {
    fail_unless (gst_structure_get_uint64 (s, "frame", &frame));
    g_hash_table_insert (r->loaded, g_strdup (name), GSIZE_TO_POINTER (frame + 1));
  }
  return FALSE;
}

static void
run_init (Run *r)
{
  r->scores = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) g_array_unref);
  r->frames = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) g_array_unref);
  r->loaded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r->error = NULL;
}

/* What a test does after each message while a pipeline plays. */
typedef void (*AfterMessage) (Run *r, gpointer data);

/* Plays a built pipeline to EOS or an error, keeping every message in r
 * (those of an earlier start are dropped); after (may be NULL) runs after
 * each message.  The pipeline is left playing or at its end. */
static void
play_to_end (GstElement *pipe, Run *r, AfterMessage after, gpointer data)
{
  run_init (r);
  GstBus *bus = gst_element_get_bus (pipe);
  gst_bus_set_flushing (bus, TRUE);
  gst_bus_set_flushing (bus, FALSE);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, 120 * GST_SECOND);
    fail_unless (msg != NULL, "nothing within 120 s");
    const gboolean end = note_message (r, msg);
    gst_message_unref (msg);
    if (after)
      after (r, data);
    if (end)
      break;
  }
  gst_object_unref (bus);
}

/* Plays desc to EOS or an error, keeping every message. */
static void
run_pipeline (const gchar *desc, Run *r)
{
  GError *perr = NULL;
  GstElement *pipe = gst_parse_launch (desc, &perr);
  /* a missing element is a "recoverable" error: a pipeline comes back */
  fail_unless (pipe != NULL && perr == NULL, "%s", perr ? perr->message : desc);
  play_to_end (pipe, r, NULL, NULL);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
}

/* Three streams, unlike in caps, content and length, each into its own
 * decentanomaly (d0, d1, d2); props go to all three. */
/* run_pipeline, and the seconds it took */
static gdouble
timed_run (const gchar *desc, Run *r)
{
  const gint64 t0 = g_get_monotonic_time ();
  run_pipeline (desc, r);
  return (g_get_monotonic_time () - t0) / 1e6;
}

/* A pipeline for a test to run beside, set to state (not waited for) */
static GstElement *
beside (const gchar *desc, GstState state)
{
  GstElement *pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL, "%s", desc);
  fail_unless (gst_element_set_state (pipe, state) != GST_STATE_CHANGE_FAILURE, "%s", desc);
  return pipe;
}

static void
stop_and_unref (GstElement *pipe)
{
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
}

static gchar *
three_streams (const gchar *model, const gchar *props)
{
  return g_strdup_printf (
      "videotestsrc pattern=ball num-buffers=40 ! video/x-raw,format=I420,width=64,height=48 "
      "! decentanomaly name=d0 model-location=%s threshold=1 message-mode=all %s ! fakesink "
      "videotestsrc pattern=smpte horizontal-speed=3 num-buffers=25 ! "
      "video/x-raw,format=GRAY8,width=32,height=32 ! decentanomaly name=d1 model-location=%s "
      "threshold=1 message-mode=all %s ! fakesink "
      "videotestsrc pattern=ball motion=sweep num-buffers=60 ! "
      "video/x-raw,format=RGB,width=320,height=240 ! decentanomaly name=d2 model-location=%s "
      "threshold=1 message-mode=all %s ! fakesink", model, props, model, props, model, props);
}

/* Fails unless the streams of a and b have the same frames, in order 0..n-1,
 * with the same scores bit for bit; returns how many frames in all. */
static guint
assert_same_streams (const Run *a, const Run *b, const gchar *what)
{
  guint total = 0;
  GHashTableIter it;
  gpointer key, value;
  fail_unless_equals_int (g_hash_table_size (a->scores), g_hash_table_size (b->scores));
  g_hash_table_iter_init (&it, a->scores);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    GArray *sa = value, *sb = g_hash_table_lookup (b->scores, key);
    GArray *fb = g_hash_table_lookup (b->frames, key);
    fail_unless (sb != NULL, "%s: no scores from %s", what, (gchar *) key);
    fail_unless_equals_int (sa->len, sb->len);
    for (guint i = 0; i < sb->len; i++) {
      fail_unless_equals_uint64 (g_array_index (fb, guint64, i), i);
      fail_unless (g_array_index (sa, gdouble, i) == g_array_index (sb, gdouble, i),
          "%s: %s frame %u scored %.9g, on its own %.9g", what, (gchar *) key, i,
          g_array_index (sb, gdouble, i), g_array_index (sa, gdouble, i));
    }
    total += sb->len;
  }
  return total;
}

GST_START_TEST (test_sharers_score_as_independent_elements)
{
  gchar *model = make_model ("a.dcnt", 3);
  gchar *own = three_streams (model, "");
  Run alone, batched, single;
  run_pipeline (own, &alone);
  fail_unless (alone.error == NULL, "%s", alone.error);
  const guint n = assert_same_streams (&alone, &alone, "own models");
  fail_unless_equals_int (n, 40 + 25 + 60);

  gchar *shared = three_streams (model, "model-instance-id=cams batch-size=16");
  run_pipeline (shared, &batched);
  fail_unless (batched.error == NULL, "%s", batched.error);
  fail_unless_equals_int (assert_same_streams (&alone, &batched, "batch-size=16"), n);

  gchar *one = three_streams (model, "model-instance-id=cams batch-size=1");
  run_pipeline (one, &single);
  fail_unless (single.error == NULL, "%s", single.error);
  fail_unless_equals_int (assert_same_streams (&alone, &single, "batch-size=1"), n);

  /* the scores differ between streams: a result sent to the wrong stream
   * would have been seen above */
  GArray *s0 = g_hash_table_lookup (alone.scores, "d0"), *s1 = g_hash_table_lookup (alone.scores,
      "d1");
  fail_unless (g_array_index (s0, gdouble, 5) != g_array_index (s1, gdouble, 5));
  run_clear (&alone);
  run_clear (&batched);
  run_clear (&single);
  g_free (own);
  g_free (shared);
  g_free (one);
  g_free (model);
}
GST_END_TEST;

static void
count_shared_companions (GstDebugCategory *category, GstDebugLevel level, const gchar *file,
    const gchar *function, gint line, GObject *object, GstDebugMessage *message,
    gpointer data)
{
  const gchar *text = gst_debug_message_get (message);
  if (!g_strcmp0 (gst_debug_category_get_name (category), "decentanomaly") && text
      && strstr (text, "one for every sharer of the engine"))
    g_atomic_int_inc ((gint *) data);
}

/* A model file with a companion (decent-train companion=true's pair):
 * the sharers score as elements of their own do, bit for bit, with the
 * companion taking part; the companion is built once for the engine and
 * scored under its lock (each sharer built its own: 23 MiB a stream,
 * helper-74). */
GST_START_TEST (test_sharers_of_a_pair_score_as_independent_elements)
{
  gchar *fpath = calibrated_test_model (dir, MW, MH, "pf.dcnt", FALSE);
  gchar *cpath = calibrated_test_model (dir, 24, 16, "ps.dcnt", FALSE);
  DecentModel *m = load_model (fpath, NULL, NULL), *c = load_model (cpath, NULL, NULL);
  DecentError err = { { 0 } };
  fail_unless (decent_model_set_companion (m, c, &err) == 0, "%s", err.message);
  gchar *pair = g_build_filename (dir, "pair.dcnt", NULL);
  fail_unless (decent_model_save (m, pair, &err) == 0, "%s", err.message);
  decent_model_free (c);
  decent_model_free (m);
  Run first_alone, alone, batched;
  gchar *plain = three_streams (fpath, "score-mode=local");
  run_pipeline (plain, &first_alone);
  gchar *own = three_streams (pair, "score-mode=local");
  run_pipeline (own, &alone);
  fail_unless (alone.error == NULL, "%s", alone.error);
  gchar *shared = three_streams (pair, "score-mode=local model-instance-id=pair batch-size=16");
  gint borrowed = 0;
  gst_debug_set_threshold_for_name ("decentanomaly", GST_LEVEL_INFO);
  gst_debug_add_log_function (count_shared_companions, &borrowed, NULL);
  run_pipeline (shared, &batched);
  gst_debug_remove_log_function (count_shared_companions);
  gst_debug_unset_threshold_for_name ("decentanomaly");
  fail_unless_equals_int (g_atomic_int_get (&borrowed), 3); /* each sharer the engine's */
  fail_unless (batched.error == NULL, "%s", batched.error);
  const guint n = assert_same_streams (&alone, &batched, "a pair, batch-size=16");
  fail_unless_equals_int (n, 40 + 25 + 60);
  /* the companion took part: the pair's scores are not the first model's */
  GArray *p0 = g_hash_table_lookup (alone.scores, "d0"),
         *f0 = g_hash_table_lookup (first_alone.scores, "d0");
  fail_unless (p0 && f0 && g_array_index (p0, gdouble, 5) != g_array_index (f0, gdouble, 5),
      "the companion did not take part");
  run_clear (&first_alone);
  run_clear (&alone);
  run_clear (&batched);
  g_free (plain);
  g_free (own);
  g_free (shared);
  g_free (pair);
  g_free (cpath);
  g_free (fpath);
}
GST_END_TEST;

/* Stops a pipeline (once: NULL again changes nothing). */
static void
remove_once (Run *r, gpointer pipeline)
{
  gst_element_set_state (GST_ELEMENT (pipeline), GST_STATE_NULL);
}

/* A stream that has ended, one whose pipeline is removed while the other
 * plays, and one that fails, no longer count as sharers the scheduler waits
 * for: with a batch-timeout of 1 s, waiting for them would take minutes. */
GST_START_TEST (test_ended_and_removed_sharers_do_not_stall)
{
  gchar *model = make_model ("a.dcnt", 3);
  gchar *desc = g_strdup_printf (
      "videotestsrc num-buffers=3 ! video/x-raw,format=GRAY8,width=16,height=16 ! "
      "decentanomaly name=short model-location=%s model-instance-id=s batch-timeout=1000000 "
      "threshold=1 message-mode=all ! fakesink "
      "videotestsrc pattern=ball num-buffers=80 ! video/x-raw,format=GRAY8,width=16,height=16 "
      "! decentanomaly name=long model-location=%s model-instance-id=s batch-timeout=1000000 "
      "threshold=1 message-mode=all ! fakesink", model, model);
  Run r;
  const gdouble took = timed_run (desc, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless_equals_int (((GArray *) g_hash_table_lookup (r.scores, "long"))->len, 80);
  fail_unless (took < 30, "80 frames took %.1f s: the ended stream held the batches back", took);
  run_clear (&r);

  /* removal: a second pipeline shares the id, plays a little, is set to
   * NULL (its element released) while the first goes on */
  gchar *other_desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1 ! decentanomaly "
      "model-location=%s model-instance-id=s batch-timeout=1000000 ! fakesink", model);
  GstElement *other = beside (other_desc, GST_STATE_PLAYING);
  g_usleep (300000);
  /* and a sharer whose stream fails (interlaced caps, refused once it has
   * joined): the error is its own, the engine goes on */
  gchar *bad_desc = g_strdup_printf ("videotestsrc ! "
      "video/x-raw,format=GRAY8,width=16,height=16,interlace-mode=interleaved ! decentanomaly "
      "model-location=%s model-instance-id=s ! fakesink", model);
  gchar *bad_error = pipeline_error (bad_desc);
  fail_unless (bad_error && strstr (bad_error, "Interlaced"), "%s",
      bad_error ? bad_error : "no error");
  g_free (bad_error);
  g_free (bad_desc);
  gchar *long_desc = g_strdup_printf ("videotestsrc pattern=ball num-buffers=120 ! "
      "video/x-raw,format=GRAY8,width=16,height=16 ! decentanomaly name=long "
      "model-location=%s model-instance-id=s threshold=1 message-mode=all ! fakesink", model);
  GstElement *pipe = gst_parse_launch (long_desc, NULL);
  fail_unless (pipe != NULL);
  const gint64 t0 = g_get_monotonic_time ();
  play_to_end (pipe, &r, remove_once, other); /* after its first message: the live sharer goes */
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless_equals_int (((GArray *) g_hash_table_lookup (r.scores, "long"))->len, 120);
  fail_unless ((g_get_monotonic_time () - t0) / 1e6 < 60, "the removed sharer held it back");
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  gst_object_unref (other);
  run_clear (&r);
  g_free (long_desc);
  g_free (other_desc);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* Sharers chained in one streaming thread (never queued together), and a
 * sharer whose pipeline is paused, do not make every batch wait for
 * batch-timeout (1 s here): 60 frames end well within a minute. */
GST_START_TEST (test_chained_and_paused_sharers_do_not_stall)
{
  gchar *model = make_model ("a.dcnt", 3);
  gchar *paused_desc = g_strdup_printf ("videotestsrc ! "
      "video/x-raw,format=GRAY8,width=16,height=16 ! decentanomaly model-location=%s "
      "model-instance-id=c batch-timeout=1000000 ! fakesink", model);
  GstElement *paused = beside (paused_desc, GST_STATE_PAUSED);
  fail_unless (gst_element_get_state (paused, NULL, NULL, 30 * GST_SECOND)
      == GST_STATE_CHANGE_SUCCESS, "the paused sharer did not preroll");
  gchar *desc = g_strdup_printf ("videotestsrc pattern=ball num-buffers=60 ! "
      "video/x-raw,format=GRAY8,width=16,height=16 ! decentanomaly name=first "
      "model-location=%s model-instance-id=c batch-timeout=1000000 threshold=1 "
      "message-mode=all ! decentanomaly name=second model-location=%s model-instance-id=c "
      "batch-timeout=1000000 threshold=1 message-mode=all ! fakesink", model, model);
  Run r;
  const gdouble took = timed_run (desc, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless_equals_int (((GArray *) g_hash_table_lookup (r.scores, "first"))->len, 60);
  fail_unless_equals_int (((GArray *) g_hash_table_lookup (r.scores, "second"))->len, 60);
  fail_unless (took < 15, "60 chained frames took %.1f s: batches waited for sharers that "
      "could not send", took);
  stop_and_unref (paused);
  run_clear (&r);
  g_free (desc);
  g_free (paused_desc);
  g_free (model);
}
GST_END_TEST;

/* Seconds that 100 full-speed frames of a sharer of model-instance-id id
 * take beside slow_desc (a pipeline of that id, playing since 1.2 s before,
 * so that its pace is known); every frame must be scored. */
static gdouble
beside_a_slow_sharer (const gchar *model, const gchar *id, const gchar *slow_desc)
{
  GstElement *slow = beside (slow_desc, GST_STATE_PLAYING);
  g_usleep (1200000);
  gchar *desc = g_strdup_printf ("videotestsrc pattern=ball num-buffers=100 ! "
      "video/x-raw,format=GRAY8,width=16,height=16 ! decentanomaly name=fast "
      "model-location=%s model-instance-id=%s batch-timeout=100000 threshold=1 "
      "message-mode=all ! fakesink sync=false", model, id);
  Run r;
  const gdouble took = timed_run (desc, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless_equals_int (((GArray *) g_hash_table_lookup (r.scores, "fast"))->len, 100);
  stop_and_unref (slow);
  run_clear (&r);
  g_free (desc);
  return took;
}

/* A live 5 fps sharer takes 200 ms between its frames, longer than
 * batch-timeout (100 ms): the full-speed sharer's batches do not wait for
 * it (100 frames would take about 10 s if they did). */
GST_START_TEST (test_slow_sharer_does_not_throttle_the_others)
{
  gchar *model = make_model ("a.dcnt", 3);
  gchar *slow_desc = g_strdup_printf ("videotestsrc is-live=true num-buffers=100 ! "
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=5/1 ! decentanomaly "
      "model-location=%s model-instance-id=slow batch-timeout=100000 threshold=1 ! "
      "fakesink", model);
  const gdouble took = beside_a_slow_sharer (model, "slow", slow_desc);
  fail_unless (took < 5, "100 frames took %.1f s beside a 5 fps sharer", took);
  g_free (slow_desc);
  g_free (model);
}
GST_END_TEST;

/* A sharer held up downstream (a sink taking 80 ms a frame) comes back
 * within batch-timeout (100 ms), but far slower than a full-speed sharer:
 * the fast one's batches do not wait for it (100 frames took about 8 s, at
 * the slow one's pace, when they did: 5.6 s with a slow one of 200 frames,
 * which then ended). */
GST_START_TEST (test_sharer_slowed_downstream_does_not_throttle_the_others)
{
  gchar *model = make_model ("a.dcnt", 3);
  gchar *slow_desc = g_strdup_printf ("videotestsrc is-live=true num-buffers=600 ! "
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1 ! queue leaky=downstream "
      "max-size-buffers=2 ! decentanomaly model-location=%s model-instance-id=held "
      "batch-timeout=100000 threshold=1 ! identity sleep-time=80000 ! fakesink", model);
  const gdouble took = beside_a_slow_sharer (model, "held", slow_desc);
  fail_unless (took < 4, "100 frames took %.1f s beside a sharer held up downstream", took);
  g_free (slow_desc);
  g_free (model);
}
GST_END_TEST;

/* The latency a live pipeline reports, from the sink's side of a
 * decentanomaly, once it plays; *said: whether the element posted a
 * latency message (that the pipeline must ask again). */
static GstClockTime
reported_latency (const gchar *model, const gchar *props, gboolean *said)
{
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! video/x-raw,format=GRAY8,"
      "width=16,height=16,framerate=10/1 ! decentanomaly name=a model-location=%s %s ! "
      "fakesink name=sink", model, props);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL);
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_element_get_state (pipe, NULL, NULL, 10 * GST_SECOND)
      == GST_STATE_CHANGE_SUCCESS);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  GstQuery *query = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (pad, query), "%s: no latency answer", props);
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency (query, &live, &min, &max);
  fail_unless (live, "%s: not live", props);
  gst_query_unref (query);
  *said = FALSE;
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_LATENCY))) {
    *said |= g_str_equal (GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), "a");
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  g_free (desc);
  return min;
}

/* A sharer's frame may wait batch-timeout for the other sharers': the
 * element says so in the latency, so that sinks that sync to the clock do
 * not drop the frames that waited (helper-62: 27 of 150 frames at 25
 * frames/s beside a 5 frames/s sharer, batch-timeout=250000; with the
 * latency and a queue before the sink, none).  An element of its own adds
 * nothing.  A sharer posts a latency message when it starts, so that a
 * pipeline that plays already asks again (helper-64). */
GST_START_TEST (test_shared_batch_wait_is_latency)
{
  gchar *model = make_model ("a.dcnt", 3);
  gboolean own_said, shared_said;
  const GstClockTime own = reported_latency (model, "", &own_said);
  const GstClockTime shared =
      reported_latency (model, "model-instance-id=lat batch-timeout=250000", &shared_said);
  fail_unless (!own_said && shared_said, "latency messages of the element: %d of its own, %d "
      "shared (a sharer starting in a pipeline that plays must make it ask again)", own_said,
      shared_said);
  fail_unless (own == 100 * GST_MSECOND, "an element of its own: %" GST_TIME_FORMAT
      " (the source's frame, 100 ms)", GST_TIME_ARGS (own));
  fail_unless (shared == own + 250 * GST_MSECOND, "a sharer with batch-timeout=250000: %"
      GST_TIME_FORMAT ", not %" GST_TIME_FORMAT " + 250 ms", GST_TIME_ARGS (shared),
      GST_TIME_ARGS (own));
  g_free (model);
}
GST_END_TEST;

/* Two sharers driven in turn by one application thread (a frame into A,
 * its result out, then B): their frames never come together, so the
 * scheduler must not wait batch-timeout (100 ms) for the other one at
 * every frame (200 frames would take 20 s). */
GST_START_TEST (test_sharers_taking_turns_do_not_wait)
{
  gchar *model = make_model ("a.dcnt", 3);
  GstElement *pipe[2];
  GstAppSrc *src[2];
  GstAppSink *sink[2];
  for (guint k = 0; k < 2; k++) {
    gchar *desc = g_strdup_printf ("appsrc name=src format=time caps=" GRAY_CAPS " ! "
        "decentanomaly model-location=%s model-instance-id=t batch-timeout=100000 "
        "threshold=1 ! appsink name=sink sync=false", model);
    pipe[k] = gst_parse_launch (desc, NULL);
    fail_unless (pipe[k] != NULL);
    src[k] = GST_APP_SRC (gst_bin_get_by_name (GST_BIN (pipe[k]), "src"));
    sink[k] = GST_APP_SINK (gst_bin_get_by_name (GST_BIN (pipe[k]), "sink"));
    gst_element_set_state (pipe[k], GST_STATE_PLAYING);
    g_free (desc);
  }
  const gint64 t0 = g_get_monotonic_time ();
  for (guint i = 0; i < 100; i++)
    for (guint k = 0; k < 2; k++) {
      fail_unless (gst_app_src_push_buffer (src[k], gray_frame (i % 2, i)) == GST_FLOW_OK);
      GstSample *sample = gst_app_sink_try_pull_sample (sink[k], 30 * GST_SECOND);
      fail_unless (sample != NULL, "no result for frame %u of stream %u", i, k);
      gst_sample_unref (sample);
    }
  const gdouble took = (g_get_monotonic_time () - t0) / 1e6;
  fail_unless (took < 5, "200 frames in turn took %.1f s: batches waited for the sharer "
      "that could not send", took);
  for (guint k = 0; k < 2; k++) {
    gst_element_set_state (pipe[k], GST_STATE_NULL);
    gst_object_unref (src[k]);
    gst_object_unref (sink[k]);
    gst_object_unref (pipe[k]);
  }
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_sharer_of_another_model_is_refused)
{
  gchar *a = make_model ("a.dcnt", 3), *b = make_model ("b.dcnt", 4);
  gchar *desc = g_strdup_printf (
      "videotestsrc num-buffers=3 ! video/x-raw,format=GRAY8,width=16,height=16 ! "
      "decentanomaly model-location=%s model-instance-id=x ! fakesink "
      "videotestsrc num-buffers=3 ! video/x-raw,format=GRAY8,width=16,height=16 ! "
      "decentanomaly model-location=%s model-instance-id=x ! fakesink", a, b);
  gchar *text = pipeline_error (desc);
  fail_unless (text != NULL, "two models under one model-instance-id played");
  fail_unless (strstr (text, "model-instance-id \"x\" is in use with model"), "%s", text);
  g_free (text);
  g_free (desc);

  /* the same model with other batch settings: it plays, with a warning
   * that says which settings the engine runs with */
  desc = g_strdup_printf (
      "videotestsrc num-buffers=3 ! video/x-raw,format=GRAY8,width=16,height=16 ! "
      "decentanomaly model-location=%s model-instance-id=y batch-size=4 threshold=1 ! fakesink "
      "videotestsrc num-buffers=3 ! video/x-raw,format=GRAY8,width=16,height=16 ! "
      "decentanomaly model-location=%s model-instance-id=y batch-size=8 threshold=1 ! fakesink",
      a, a);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL);
  GstBus *bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  gchar *warning = NULL;
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, 60 * GST_SECOND);
    fail_unless (msg != NULL);
    const GstMessageType t = GST_MESSAGE_TYPE (msg);
    if (t == GST_MESSAGE_WARNING && !warning) {
      warning = message_text (msg);
      if (!strstr (warning, "runs with")) /* another warning: not the one looked for */
        g_clear_pointer (&warning, g_free);
    }
    fail_if (t == GST_MESSAGE_ERROR, "other batch settings made an error");
    gst_message_unref (msg);
    if (t == GST_MESSAGE_EOS)
      break;
  }
  fail_unless (warning && strstr (warning, "model-instance-id \"y\" runs with batch-size="),
      "%s", warning ? warning : "no warning");
  g_free (warning);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (a);
  g_free (b);
}
GST_END_TEST;

static GstPadProbeReturn
hold_frames (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  return GST_PAD_PROBE_OK; /* a blocking probe: its stream stops here */
}

static GstPadProbeReturn
count_frames (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  g_atomic_int_inc ((gint *) data);
  return GST_PAD_PROBE_OK;
}

/* Asserts that no frame leaves w (counted in *frames) for 50 ms: its
 * streaming thread waits on the engine. */
static void
assert_waiting (gint *frames, const gchar *when)
{
  const gint before = g_atomic_int_get (frames);
  g_usleep (G_USEC_PER_SEC / 20);
  fail_unless (g_atomic_int_get (frames) == before, "%s: w did not wait for s's frame", when);
}

/* Seconds a flushing seek of pipe to 0 takes. */
static gdouble
seek_seconds (GstElement *pipe)
{
  const gint64 t0 = g_get_monotonic_time ();
  fail_unless (gst_element_seek_simple (pipe, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH, 0));
  return (g_get_monotonic_time () - t0) / 1e6;
}

/* A sharer whose frame waits on the engine for another sharer's (which
 * stalls: batch-timeout=1 s, and it sent a frame every 10 ms) is flushed by
 * a seek, then stopped: each is done at once, not after the rest of the
 * second that its streaming thread waited before. */
GST_START_TEST (test_flush_and_stop_do_not_wait_for_a_batch)
{
  gchar *a = make_model ("a.dcnt", 3);
  gchar *stalled_desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=100/1 ! decentanomaly name=s "
      "model-location=%s model-instance-id=hurry batch-size=2 batch-timeout=1000000 "
      "threshold=1 ! fakesink", a);
  gchar *seeking_desc = g_strdup_printf ("videotestsrc ! "
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=100/1 ! decentanomaly name=w "
      "model-location=%s model-instance-id=hurry batch-size=2 batch-timeout=1000000 "
      "threshold=1 ! fakesink", a);
  GstElement *stalled = gst_parse_launch (stalled_desc, NULL);
  GstElement *seeking = gst_parse_launch (seeking_desc, NULL);
  fail_unless (stalled && seeking);
  gst_element_set_state (stalled, GST_STATE_PLAYING);
  gst_element_set_state (seeking, GST_STATE_PLAYING);
  fail_unless (gst_element_get_state (seeking, NULL, NULL, 30 * GST_SECOND)
      == GST_STATE_CHANGE_SUCCESS);
  g_usleep (G_USEC_PER_SEC / 2); /* both stream: each frame of w waits for one of s */
  GstElement *s = gst_bin_get_by_name (GST_BIN (stalled), "s");
  GstPad *pad = gst_element_get_static_pad (s, "sink");
  GstElement *w = gst_bin_get_by_name (GST_BIN (seeking), "w");
  GstPad *out = gst_element_get_static_pad (w, "src");
  gint frames = 0;
  gst_pad_add_probe (out, GST_PAD_PROBE_TYPE_BUFFER, count_frames, &frames, NULL);
  gulong held = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BLOCK | GST_PAD_PROBE_TYPE_BUFFER,
      hold_frames, NULL, NULL);
  g_usleep (G_USEC_PER_SEC / 10); /* w's next frame waits for s's, up to 1 s */
  assert_waiting (&frames, "before the seek");
  const gdouble seek = seek_seconds (seeking);
  /* s streams again, and w's frames wait for its frames again; then s stalls */
  gst_pad_remove_probe (pad, held);
  g_usleep (G_USEC_PER_SEC / 2);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BLOCK | GST_PAD_PROBE_TYPE_BUFFER, hold_frames,
      NULL, NULL);
  g_usleep (G_USEC_PER_SEC / 10);
  assert_waiting (&frames, "before the stop");
  const gint64 t0 = g_get_monotonic_time ();
  fail_unless (gst_element_set_state (seeking, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  const gdouble stop = (g_get_monotonic_time () - t0) / 1e6;
  fail_unless (seek < 0.5 && stop < 0.5, "a seek took %.3f s and a stop %.3f s", seek, stop);
  gst_element_set_state (seeking, GST_STATE_NULL);
  gst_element_set_state (stalled, GST_STATE_NULL);
  gst_object_unref (pad);
  gst_object_unref (s);
  gst_object_unref (out);
  gst_object_unref (w);
  gst_object_unref (seeking);
  gst_object_unref (stalled);
  g_free (stalled_desc);
  g_free (seeking_desc);
  g_free (a);
}
GST_END_TEST;

/* Reference: model m's scores of the first n frames of the ball stream. */
static GArray *
ball_scores (const gchar *model, guint n)
{
  gchar *desc = g_strdup_printf ("videotestsrc pattern=ball num-buffers=%u ! "
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=100/1 ! decentanomaly name=r "
      "model-location=%s threshold=1 message-mode=all ! fakesink", n, model);
  Run r;
  run_pipeline (desc, &r);
  fail_unless (r.error == NULL, "%s", r.error);
  GArray *s = g_array_ref (g_hash_table_lookup (r.scores, "r"));
  run_clear (&r);
  g_free (desc);
  return s;
}

/* Two live sharers s0 and s1 of id, n frames of the ball each, at 100 fps. */
static GstElement *
two_live_sharers (guint n, const gchar *model, const gchar *id)
{
  gchar *desc = g_strdup_printf (
      "videotestsrc pattern=ball is-live=true num-buffers=%u ! "
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=100/1 ! decentanomaly name=s0 "
      "model-location=%s model-instance-id=%s threshold=1 message-mode=all ! fakesink "
      "videotestsrc pattern=ball is-live=true num-buffers=%u ! "
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=100/1 ! decentanomaly name=s1 "
      "model-location=%s model-instance-id=%s threshold=1 message-mode=all ! fakesink",
      n, model, id, n, model, id);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL);
  g_free (desc);
  return pipe;
}

/* Reloads asked for once s0 has scored 30 frames (about 0.3 s in, frames
 * still coming): first (may be NULL) to first_to, then then to then_to. */
typedef struct {
  GstElement *first, *then;
  const gchar *first_to, *then_to;
  gboolean asked;
} Reloads;

static void
reload_at_frame_30 (Run *r, gpointer data)
{
  Reloads *re = data;
  GArray *seen = g_hash_table_lookup (r->scores, "s0");
  if (re->asked || !seen || seen->len < 30)
    return;
  if (re->first)
    g_object_set (re->first, "model-location", re->first_to, NULL);
  g_object_set (re->then, "model-location", re->then_to, NULL);
  re->asked = TRUE;
}

/* Two live sharers; model-location set on one of them while they play: both
 * adopt the new model (a "decentanomaly-model" message with the frame), every
 * frame before it scored by the old model and every frame from it by the
 * new one, no frame missing. */
GST_START_TEST (test_hot_reload_reaches_every_sharer)
{
  const guint n = 150;
  gchar *a = make_model ("a.dcnt", 3), *b = make_model ("b.dcnt", 4);
  GArray *ref_a = ball_scores (a, n), *ref_b = ball_scores (b, n);
  GstElement *pipe = two_live_sharers (n, a, "r");
  GstElement *s0 = gst_bin_get_by_name (GST_BIN (pipe), "s0");
  Run r;
  Reloads re = { .then = s0, .then_to = b };
  play_to_end (pipe, &r, reload_at_frame_30, &re);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (re.asked);
  for (guint k = 0; k < 2; k++) {
    const gchar *name = k ? "s1" : "s0";
    const guint at = GPOINTER_TO_SIZE (g_hash_table_lookup (r.loaded, name));
    fail_unless (at > 0, "%s never adopted the new model", name);
    const guint switched = at - 1;
    fail_unless (switched > 0 && switched < n, "%s switched at frame %u", name, switched);
    GArray *s = g_hash_table_lookup (r.scores, name), *f = g_hash_table_lookup (r.frames, name);
    fail_unless_equals_int (s->len, n);
    for (guint i = 0; i < n; i++) {
      fail_unless_equals_uint64 (g_array_index (f, guint64, i), i);
      const gdouble want = g_array_index (i < switched ? ref_a : ref_b, gdouble, i);
      fail_unless (g_array_index (s, gdouble, i) == want, "%s frame %u (switch at %u): %.9g, "
          "not %.9g", name, i, switched, g_array_index (s, gdouble, i), want);
    }
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (s0);
  gst_object_unref (pipe);
  run_clear (&r);
  g_array_unref (ref_a);
  g_array_unref (ref_b);
  g_free (a);
  g_free (b);
}
GST_END_TEST;

/* The model-location of an element, as a new string. */
static gchar *
location_of (GstElement *e)
{
  gchar *v = NULL;
  g_object_get (e, "model-location", &v, NULL);
  return v;
}

/* A model slower to load than make_model's: 64x64x3, 32 base channels. */
static gchar *
make_big_model (void)
{
  DecentConfig cfg;
  DecentError err = { { 0 } };
  decent_config_init (&cfg, 64, 64, 3);
  cfg.base_channels = 32;
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *m = decent_model_new (&cfg, &err);
  fail_unless (m != NULL, "%s", err.message);
  gchar *big = g_build_filename (dir, "big.dcnt", NULL);
  fail_unless (decent_model_save (m, big, &err) == 0, "%s", err.message);
  decent_model_free (m);
  return big;
}

/* Asserts that both sharers of two_live_sharers name path. */
static void
both_name (GstElement *pipe, const gchar *path, const gchar *when)
{
  for (guint k = 0; k < 2; k++) {
    GstElement *e = gst_bin_get_by_name (GST_BIN (pipe), k ? "s1" : "s0");
    gchar *loc = location_of (e);
    fail_unless (g_strcmp0 (loc, path) == 0, "%s: %s names %s, not %s", when,
        GST_OBJECT_NAME (e), loc, path);
    g_free (loc);
    gst_object_unref (e);
  }
}

/* Reloads asked for on two sharers in quick succession once s0 has scored
 * 30 frames: s1's of first_to (make_big_model's, slower to load), then
 * s0's of then_to.  Both sharers end naming named, their last 20 frames
 * scored by the model in scored_by (why: what the assertion says). */
static void
two_reloads (const gchar *id, const gchar *a, const gchar *first_to, const gchar *then_to,
    const gchar *named, const gchar *scored_by, const gchar *why)
{
  const guint n = 200;
  GArray *ref = ball_scores (scored_by, n);
  GstElement *pipe = two_live_sharers (n, a, id);
  GstElement *s0 = gst_bin_get_by_name (GST_BIN (pipe), "s0");
  GstElement *s1 = gst_bin_get_by_name (GST_BIN (pipe), "s1");
  Run r;
  Reloads re = { .first = s1, .first_to = first_to, .then = s0, .then_to = then_to };
  play_to_end (pipe, &r, reload_at_frame_30, &re);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (re.asked);
  both_name (pipe, named, "after both reloads");
  for (guint k = 0; k < 2; k++) {
    const gchar *name = k ? "s1" : "s0";
    GArray *sc = g_hash_table_lookup (r.scores, name);
    fail_unless_equals_int (sc->len, n);
    for (guint i = n - 20; i < n; i++)
      fail_unless (g_array_index (sc, gdouble, i) == g_array_index (ref, gdouble, i),
          "%s frame %u not scored by %s", name, i, why);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (s0);
  gst_object_unref (s1);
  gst_object_unref (pipe);
  run_clear (&r);
  g_array_unref (ref);
}

/* Reloads asked for on two sharers in quick succession, the first of a
 * model that takes longer to load: the one asked for last is what both end
 * on, whichever load ends first, and both say so in model-location. */
GST_START_TEST (test_last_reload_wins_across_sharers)
{
  gchar *a = make_model ("a.dcnt", 3), *b = make_model ("b.dcnt", 4);
  gchar *big = make_big_model ();
  two_reloads ("w", a, big, b, b, b, "the last model asked for");
  g_free (a);
  g_free (b);
  g_free (big);
}
GST_END_TEST;

/* While a sharer reloads: a paused sharer's model-location names the new
 * file at once; a sharer that was stopped (READY) then, restarted with its
 * old model-location, joins on the new model: no error, a "loaded"
 * message, model-location updated, the new model's scores. */
GST_START_TEST (test_sharer_that_missed_a_reload_rejoins)
{
  gchar *a = make_model ("a.dcnt", 3), *b = make_model ("b.dcnt", 4);
  const guint n = 20;
  GArray *ref_b = ball_scores (b, n);
  gchar *live_desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1 ! decentanomaly name=live "
      "model-location=%s model-instance-id=m threshold=1 ! fakesink", a);
  gchar *late_desc = g_strdup_printf ("videotestsrc pattern=ball num-buffers=%u ! "
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=100/1 ! decentanomaly name=late "
      "model-location=%s model-instance-id=m threshold=1 message-mode=all ! fakesink", n, a);
  gchar *paused_desc = g_strdup_printf ("videotestsrc ! "
      "video/x-raw,format=GRAY8,width=16,height=16 ! decentanomaly name=p model-location=%s "
      "model-instance-id=m threshold=1 ! fakesink", a);
  GstElement *live = gst_parse_launch (live_desc, NULL), *late = gst_parse_launch (late_desc,
      NULL), *paused = gst_parse_launch (paused_desc, NULL);
  fail_unless (live && late && paused);
  GstBus *live_bus = gst_element_get_bus (live);
  gst_element_set_state (live, GST_STATE_PLAYING);
  gst_element_set_state (late, GST_STATE_PAUSED); /* a sharer, then stopped */
  gst_element_set_state (paused, GST_STATE_PAUSED);
  fail_unless (gst_element_get_state (late, NULL, NULL, 30 * GST_SECOND)
      == GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_element_get_state (paused, NULL, NULL, 30 * GST_SECOND)
      == GST_STATE_CHANGE_SUCCESS);
  gst_element_set_state (late, GST_STATE_READY);
  GstElement *e = gst_bin_get_by_name (GST_BIN (live), "live");
  g_object_set (e, "model-location", b, NULL);
  GstMessage *loaded = wait_element_message (live_bus, "decentanomaly-model", 30);
  fail_unless (loaded != NULL, "the live sharer did not adopt the new model");
  gst_message_unref (loaded);
  GstElement *pe = gst_bin_get_by_name (GST_BIN (paused), "p");
  gchar *ploc = location_of (pe);
  fail_unless_equals_string (ploc, b);
  g_free (ploc);
  gst_object_unref (pe);

  Run r;
  play_to_end (late, &r, NULL, NULL);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (g_hash_table_lookup (r.loaded, "late") != NULL, "no decentanomaly-model message");
  GstElement *le = gst_bin_get_by_name (GST_BIN (late), "late");
  gchar *loc = location_of (le);
  fail_unless_equals_string (loc, b);
  g_free (loc);
  GArray *sc = g_hash_table_lookup (r.scores, "late");
  fail_unless_equals_int (sc->len, n);
  for (guint i = 0; i < n; i++)
    fail_unless (g_array_index (sc, gdouble, i) == g_array_index (ref_b, gdouble, i),
        "frame %u not scored by the current model", i);
  gst_element_set_state (late, GST_STATE_NULL);
  gst_element_set_state (paused, GST_STATE_NULL);
  gst_element_set_state (live, GST_STATE_NULL);
  gst_object_unref (paused);
  g_free (paused_desc);
  gst_object_unref (le);
  gst_object_unref (e);
  gst_object_unref (live_bus);
  gst_object_unref (late);
  gst_object_unref (live);
  run_clear (&r);
  g_array_unref (ref_b);
  g_free (live_desc);
  g_free (late_desc);
  g_free (a);
  g_free (b);
}
GST_END_TEST;

/* Reloads asked for on two sharers in quick succession, the later of a file
 * that cannot load (it fails before the earlier one's slower load ends): the
 * earlier model is put in place, being newer than the one in use, but both
 * sharers keep naming the file asked for last, as one element's failed
 * reload does (before, the earlier load renamed them to its own file when
 * it ended, so that a failed later reload left them naming an older one). */
GST_START_TEST (test_earlier_reload_ending_last_keeps_the_last_name)
{
  gchar *a = make_model ("a.dcnt", 3), *big = make_big_model ();
  gchar *missing = g_build_filename (dir, "missing.dcnt", NULL);
  two_reloads ("late-end", a, big, missing, missing, big, "the model that loaded");
  g_free (a);
  g_free (big);
  g_free (missing);
}
GST_END_TEST;

/* A sharer that starts (naming the model in use) after both reloads of the
 * test above were asked for was renamed by neither ticket: it names the
 * file asked for last, as the other sharers do, and keeps naming it when
 * the earlier reload's model is put in place (which it adopts and scores
 * with).  Before, it kept naming a.dcnt, older than the model in use, and
 * a restart would have loaded that; then it was renamed to the earlier
 * reload's model, so that the sharers named two files. */
typedef struct {
  Reloads re;
  GstElement *late;
} ReloadsThenJoin;

static void
reload_then_join (Run *r, gpointer data)
{
  ReloadsThenJoin *j = data;
  const gboolean was = j->re.asked;
  reload_at_frame_30 (r, &j->re);
  if (!was && j->re.asked) /* joins now, in start() */
    fail_unless (gst_element_set_state (j->late, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
}

GST_START_TEST (test_sharer_joining_during_reloads_names_the_last_asked_for)
{
  gchar *a = make_model ("a.dcnt", 3), *big = make_big_model ();
  gchar *missing = g_build_filename (dir, "missing.dcnt", NULL);
  const guint n = 200;
  GstElement *pipe = two_live_sharers (n, a, "join-late");
  GstElement *s0 = gst_bin_get_by_name (GST_BIN (pipe), "s0");
  GstElement *s1 = gst_bin_get_by_name (GST_BIN (pipe), "s1");
  gchar *late_desc = g_strdup_printf ("videotestsrc pattern=ball num-buffers=10 ! "
      "video/x-raw,format=GRAY8,width=16,height=16,framerate=100/1 ! decentanomaly name=late "
      "model-location=%s model-instance-id=join-late threshold=1 message-mode=all ! fakesink",
      a);
  GstElement *late = gst_parse_launch (late_desc, NULL);
  fail_unless (late != NULL);
  GstElement *le = gst_bin_get_by_name (GST_BIN (late), "late");
  Run r;
  ReloadsThenJoin j = { .re = { .first = s1, .first_to = big, .then = s0, .then_to = missing },
    .late = late };
  play_to_end (pipe, &r, reload_then_join, &j);
  fail_unless (r.error == NULL, "%s", r.error);
  fail_unless (j.re.asked);
  run_clear (&r);
  both_name (pipe, missing, "after the later reload failed");
  gchar *loc = location_of (le);
  fail_unless (g_strcmp0 (loc, missing) == 0, "the late sharer (paused) names %s, not %s", loc,
      missing);
  g_free (loc);
  /* it scores with the model put in place (the frame it prerolled with,
   * maybe before, is dropped with the messages of its start) */
  GArray *ref = ball_scores (big, 10);
  play_to_end (late, &r, NULL, NULL);
  fail_unless (r.error == NULL, "%s", r.error);
  GArray *sc = g_hash_table_lookup (r.scores, "late");
  fail_unless (sc != NULL && sc->len >= 9, "the late sharer scored %u frames", sc ? sc->len : 0);
  for (guint i = 0; i < sc->len; i++)
    fail_unless (g_array_index (sc, gdouble, i) == g_array_index (ref, gdouble,
        10 - sc->len + i), "late frame %u not scored by the model put in place",
        10 - sc->len + i);
  g_array_unref (ref);
  run_clear (&r);
  loc = location_of (le);
  fail_unless (g_strcmp0 (loc, missing) == 0, "the late sharer names %s, not %s", loc, missing);
  g_free (loc);
  gst_element_set_state (late, GST_STATE_NULL);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (le);
  gst_object_unref (late);
  gst_object_unref (s0);
  gst_object_unref (s1);
  gst_object_unref (pipe);
  g_free (late_desc);
  g_free (a);
  g_free (big);
  g_free (missing);
}
GST_END_TEST;

/* The first error on the bus within timeout_s, as "message | debug"; NULL: none. */
static gchar *
error_within (GstBus *bus, gint timeout_s)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, timeout_s * GST_SECOND, GST_MESSAGE_ERROR);
  if (!msg)
    return NULL;
  gchar *text = message_text (msg);
  gst_message_unref (msg);
  return text;
}

/* Asserts that the next decentanomaly-model message on bus within 30 s
 * has status want ("loaded", "failed"). */
static void
expect_model_status (GstBus *bus, const gchar *want)
{
  GstMessage *msg = wait_element_message (bus, "decentanomaly-model", 30);
  fail_unless (msg != NULL, "no decentanomaly-model message (want %s)", want);
  fail_unless_equals_string (gst_structure_get_string (gst_message_get_structure (msg),
          "status"), want);
  gst_message_unref (msg);
}

/* Two live pipelines, each a sharer of id on model, playing. */
typedef struct {
  GstElement *pipe[2], *el[2];
  GstBus *bus[2];
} TwoPipelines;

static void
two_pipelines (TwoPipelines *t, const gchar *model, const gchar *id)
{
  for (guint k = 0; k < 2; k++) {
    gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! "
        "video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1 ! decentanomaly name=e "
        "model-location=%s model-instance-id=%s threshold=1 ! fakesink", model, id);
    t->pipe[k] = gst_parse_launch (desc, NULL);
    g_free (desc);
    fail_unless (t->pipe[k] != NULL);
    t->el[k] = gst_bin_get_by_name (GST_BIN (t->pipe[k]), "e");
    t->bus[k] = gst_element_get_bus (t->pipe[k]);
    gst_element_set_state (t->pipe[k], GST_STATE_PLAYING);
    fail_unless (gst_element_get_state (t->pipe[k], NULL, NULL, 30 * GST_SECOND)
        != GST_STATE_CHANGE_FAILURE);
  }
}

static void
two_pipelines_free (TwoPipelines *t)
{
  for (guint k = 0; k < 2; k++) {
    gst_element_set_state (t->pipe[k], GST_STATE_NULL);
    gst_object_unref (t->bus[k]);
    gst_object_unref (t->el[k]);
    gst_object_unref (t->pipe[k]);
  }
}

/* Starts pipe again after a stop, with the messages of before dropped. */
static void
restart (GstElement *pipe, GstBus *bus)
{
  gst_bus_set_flushing (bus, TRUE);
  gst_bus_set_flushing (bus, FALSE);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  fail_unless (gst_element_get_state (pipe, NULL, NULL, 30 * GST_SECOND)
      != GST_STATE_CHANGE_FAILURE, "the stopped sharer could not start again");
}

/* A sharer stopped after a reload failed names the failed file (the engine
 * renamed it); another reload, which loads, is put in place while it is
 * stopped.  It starts again (before, it was refused: "in use with model
 * b.dcnt") on the model in use, and is renamed to it. */
GST_START_TEST (test_sharer_stopped_after_a_failed_reload_starts_again)
{
  gchar *a = make_model ("a.dcnt", 3), *b = make_model ("b.dcnt", 4);
  gchar *missing = g_build_filename (dir, "missing.dcnt", NULL);
  TwoPipelines t;
  two_pipelines (&t, a, "failed-then");
  g_object_set (t.el[0], "model-location", missing, NULL);
  expect_model_status (t.bus[0], "failed");
  gchar *loc = location_of (t.el[1]);
  fail_unless_equals_string (loc, missing);
  g_free (loc);
  gst_element_set_state (t.pipe[1], GST_STATE_READY);
  g_object_set (t.el[0], "model-location", b, NULL);
  expect_model_status (t.bus[0], "loaded");
  restart (t.pipe[1], t.bus[1]);
  expect_model_status (t.bus[1], "loaded");
  gchar *error = error_within (t.bus[1], 1); /* (drops the other messages) */
  fail_unless (error == NULL, "%s", error);
  loc = location_of (t.el[1]);
  fail_unless_equals_string (loc, b);
  g_free (loc);
  two_pipelines_free (&t);
  g_free (a);
  g_free (b);
  g_free (missing);
}
GST_END_TEST;

/* A sharer stopped (so it missed the reloads after), then a reload that
 * loads and one that fails asked for on the other: it starts again on the
 * model in use, and names the failed file, as the other sharer does (before,
 * it was renamed to the model in use, and the two named different files:
 * stopped and started again together, they would not start on one). */
GST_START_TEST (test_sharer_that_missed_reloads_names_the_last_asked_for)
{
  gchar *a = make_model ("a.dcnt", 3), *b = make_model ("b.dcnt", 4);
  gchar *missing = g_build_filename (dir, "missing.dcnt", NULL);
  TwoPipelines t;
  two_pipelines (&t, a, "missed-then");
  gst_element_set_state (t.pipe[1], GST_STATE_READY);
  g_object_set (t.el[0], "model-location", b, NULL);
  expect_model_status (t.bus[0], "loaded");
  g_object_set (t.el[0], "model-location", missing, NULL);
  expect_model_status (t.bus[0], "failed");
  gchar *loc = location_of (t.el[1]);
  fail_unless_equals_string (loc, a); /* stopped: not renamed */
  g_free (loc);
  restart (t.pipe[1], t.bus[1]);
  GstMessage *msg = wait_element_message (t.bus[1], "decentanomaly-model", 30);
  fail_unless (msg != NULL, "no decentanomaly-model message");
  const GstStructure *st = gst_message_get_structure (msg);
  fail_unless_equals_string (gst_structure_get_string (st, "status"), "loaded");
  fail_unless_equals_string (gst_structure_get_string (st, "location"), b);
  gst_message_unref (msg);
  for (guint k = 0; k < 2; k++) {
    loc = location_of (t.el[k]);
    fail_unless (g_strcmp0 (loc, missing) == 0, "sharer %u names %s, not %s", k, loc, missing);
    g_free (loc);
  }
  two_pipelines_free (&t);
  g_free (a);
  g_free (b);
  g_free (missing);
}
GST_END_TEST;

static void
count_notify (GObject *obj, GParamSpec *pspec, gpointer data)
{
  g_atomic_int_inc ((gint *) data);
}

/* A reload asked for on one sharer that stops at once, alone, while
 * another sharer of the id goes on: the load is finished for the other,
 * which adopts the file it names (helper-74: it named the new file and
 * scored with the old model for good, without a word). */
GST_START_TEST (test_reload_outlives_the_sharer_that_asked)
{
  gchar *a = make_model ("a.dcnt", 3), *big = make_big_model ();
  GstElement *pipe[2];
  for (guint k = 0; k < 2; k++) {
    gchar *desc = g_strdup_printf ("videotestsrc pattern=ball is-live=true ! "
        "video/x-raw,format=GRAY8,width=16,height=16,framerate=100/1 ! decentanomaly name=s "
        "model-location=%s model-instance-id=outlive threshold=1 ! fakesink", a);
    pipe[k] = gst_parse_launch (desc, NULL);
    g_free (desc);
    fail_unless (pipe[k] != NULL);
    fail_unless (gst_element_set_state (pipe[k], GST_STATE_PLAYING)
        != GST_STATE_CHANGE_FAILURE);
    fail_unless (gst_element_get_state (pipe[k], NULL, NULL, 30 * GST_SECOND)
        != GST_STATE_CHANGE_FAILURE);
  }
  GstBus *bus = gst_element_get_bus (pipe[1]);
  GstElement *asking = gst_bin_get_by_name (GST_BIN (pipe[0]), "s");
  g_object_set (asking, "model-location", big, NULL);
  gst_element_set_state (pipe[0], GST_STATE_NULL); /* before the load is done */
  gst_object_unref (asking);
  GstMessage *loaded = NULL;
  for (gint64 end = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND; !loaded
       && g_get_monotonic_time () < end;) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, GST_SECOND, GST_MESSAGE_ELEMENT);
    if (!msg)
      continue;
    const GstStructure *st = gst_message_get_structure (msg);
    if (gst_structure_has_name (st, "decentanomaly-model")
        && !g_strcmp0 (gst_structure_get_string (st, "status"), "loaded"))
      loaded = gst_message_ref (msg);
    gst_message_unref (msg);
  }
  fail_unless (loaded != NULL, "the other sharer never adopted the reload");
  fail_unless (strstr (gst_structure_get_string (gst_message_get_structure (loaded),
              "location"), "big.dcnt"), "it adopted another file");
  gst_message_unref (loaded);
  GstElement *other = gst_bin_get_by_name (GST_BIN (pipe[1]), "s");
  gchar *loc = location_of (other);
  fail_unless_equals_string (loc, big);
  g_free (loc);
  gst_object_unref (other);
  gst_element_set_state (pipe[1], GST_STATE_NULL);
  gst_object_unref (bus);
  for (guint k = 0; k < 2; k++)
    gst_object_unref (pipe[k]);
  g_free (big);
  g_free (a);
}
GST_END_TEST;

/* A reload asked for on one sharer names its file on every sharer at once,
 * so that they start again together whatever became of the load: cut short
 * by a stop (before, the other sharer kept the old file and the restart was
 * refused with "in use with model a.dcnt"), or failed (the restart says
 * why: the file is missing).  A sharer that starts while the id scores with
 * the old model and names the file that failed joins on the model in use. */
GST_START_TEST (test_reload_cut_short_by_a_stop)
{
  gchar *a = make_model ("a.dcnt", 3), *big = make_big_model ();
  gchar *missing = g_build_filename (dir, "missing.dcnt", NULL);
  GstElement *pipe = two_live_sharers (100000, a, "cut");
  GstElement *s0 = gst_bin_get_by_name (GST_BIN (pipe), "s0");
  GstBus *bus = gst_element_get_bus (pipe);
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_element_get_state (pipe, NULL, NULL, 30 * GST_SECOND)
      != GST_STATE_CHANGE_FAILURE);
  GstMessage *scored = wait_element_message (bus, "decentanomaly", 30);
  fail_unless (scored != NULL, "no frame scored");
  gst_message_unref (scored);
  g_object_set (s0, "model-location", big, NULL);
  both_name (pipe, big, "asked for");
  gst_element_set_state (pipe, GST_STATE_READY);
  both_name (pipe, big, "stopped");
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  gchar *error = error_within (bus, 1);
  fail_unless (error == NULL, "restarted after a reload cut short: %s", error);
  both_name (pipe, big, "restarted");

  /* a reload that fails leaves the sharers scoring with big, naming missing
   * (the other sharer says so: notify::model-location) */
  gst_bus_set_flushing (bus, TRUE);
  gst_bus_set_flushing (bus, FALSE);
  GstElement *s1 = gst_bin_get_by_name (GST_BIN (pipe), "s1");
  gint notified = 0;
  g_signal_connect (s1, "notify::model-location", G_CALLBACK (count_notify), &notified);
  g_object_set (s0, "model-location", missing, NULL);
  GstMessage *warning = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, GST_MESSAGE_WARNING);
  fail_unless (warning != NULL, "no warning for the missing file");
  gst_message_unref (warning);
  both_name (pipe, missing, "failed reload");
  GstMessage *next = wait_element_message (bus, "decentanomaly", 30);
  fail_unless (next != NULL);
  gst_message_unref (next);
  g_usleep (200000); /* s1's next frames */
  fail_unless (g_atomic_int_get (&notified) == 1, "s1 notified %d times of its new name",
      g_atomic_int_get (&notified));
  g_signal_handlers_disconnect_by_data (s1, &notified);
  gst_object_unref (s1);
  gchar *late_desc = g_strdup_printf ("videotestsrc num-buffers=3 ! "
      "video/x-raw,format=GRAY8,width=16,height=16 ! decentanomaly name=late "
      "model-location=%s model-instance-id=cut threshold=1 ! fakesink", missing);
  GstElement *late = gst_parse_launch (late_desc, NULL);
  fail_unless (late != NULL);
  Run r;
  play_to_end (late, &r, NULL, NULL);
  fail_unless (r.error == NULL, "a late sharer naming the failed file: %s", r.error);
  run_clear (&r);
  GstElement *le = gst_bin_get_by_name (GST_BIN (late), "late");
  gchar *late_loc = location_of (le);
  fail_unless_equals_string (late_loc, missing); /* as the others name it */
  g_free (late_loc);
  gst_object_unref (le);
  gst_element_set_state (late, GST_STATE_NULL);
  gst_object_unref (late);
  gst_element_set_state (pipe, GST_STATE_READY);
  gst_bus_set_flushing (bus, TRUE);
  gst_bus_set_flushing (bus, FALSE);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  error = error_within (bus, 10);
  fail_unless (error && strstr (error, "No such file"), "restarted after a failed reload: %s",
      error);
  g_free (error);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (s0);
  gst_object_unref (pipe);
  g_free (late_desc);
  g_free (missing);
  g_free (big);
  g_free (a);
}
GST_END_TEST;

static Suite *
shared_engine_suite (void)
{
  Suite *s = suite_create ("shared_engine");
  TCase *tc = suite_add_case (s, "general", 240, temp_dir_setup, temp_dir_teardown);
  tcase_add_test (tc, test_sharers_score_as_independent_elements);
  tcase_add_test (tc, test_sharers_of_a_pair_score_as_independent_elements);
  tcase_add_test (tc, test_ended_and_removed_sharers_do_not_stall);
  tcase_add_test (tc, test_chained_and_paused_sharers_do_not_stall);
  tcase_add_test (tc, test_slow_sharer_does_not_throttle_the_others);
  tcase_add_test (tc, test_sharer_slowed_downstream_does_not_throttle_the_others);
  tcase_add_test (tc, test_sharers_taking_turns_do_not_wait);
  tcase_add_test (tc, test_sharer_of_another_model_is_refused);
  tcase_add_test (tc, test_flush_and_stop_do_not_wait_for_a_batch);
  tcase_add_test (tc, test_hot_reload_reaches_every_sharer);
  tcase_add_test (tc, test_last_reload_wins_across_sharers);
  tcase_add_test (tc, test_earlier_reload_ending_last_keeps_the_last_name);
  tcase_add_test (tc, test_sharer_joining_during_reloads_names_the_last_asked_for);
  tcase_add_test (tc, test_sharer_that_missed_a_reload_rejoins);
  tcase_add_test (tc, test_reload_cut_short_by_a_stop);
  tcase_add_test (tc, test_reload_outlives_the_sharer_that_asked);
  tcase_add_test (tc, test_shared_batch_wait_is_latency);
  tcase_add_test (tc, test_sharer_stopped_after_a_failed_reload_starts_again);
  tcase_add_test (tc, test_sharer_that_missed_reloads_names_the_last_asked_for);
  return s;
}

GST_CHECK_MAIN (shared_engine);
