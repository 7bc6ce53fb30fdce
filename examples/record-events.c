/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* record-events — records a clip around every anomaly event: the seconds
 * before it (kept in a leaky queue) and the seconds after it, one file per
 * event through splitmuxsink.  It also reads GstDecentAnomalyMeta from every
 * frame (a pad probe) and the event messages from the bus.
 *
 *   record-events --model M --input FILE [--before 3] [--after 3] [--out DIR]
 *
 * Pipeline:
 *   filesrc ! decodebin ! videoconvert ! decentanomaly ! tee
 *     tee. ! queue ! fakesink                             (keeps the clock going)
 *     tee. ! queue leaky=downstream max-size-time=BEFORE  (blocked between events)
 *          ! videoconvert ! jpegenc ! splitmuxsink muxer=matroskamux
 * On "begin" the block is lifted, so the queued seconds go out first; once
 * the stream passes the event's end plus AFTER seconds the queue is blocked
 * again and split-after closes the clip: the next recorded frame starts a new file.  Motion JPEG makes
 * every frame a key frame, so clips start exactly where they should. */
#include <glib/gstdio.h>
#include <errno.h>
#include <gst/gst.h>
#include <stdio.h>
#include <unistd.h>

#include <gst/decent/decentmeta.h> /* as an application includes it */
#include "example-common.h"

typedef struct {
  GstElement *pipe, *splitmux;
  GstElement *gate_queue; /* leaky between clips, not while recording */
  GstPad *gate;           /* the leaky queue's src pad */
  guint event_frames;     /* frames from an event's first flagged frame to its begin:
                           * (event-min-frames - 1) x inference-interval */
  gulong block_id;
  GstClockTime after;
  GstClockTime before;
  GstClockTime stop_at;   /* running time at which to block again; NONE while recording on */
  GstClockTime resume_at; /* the oldest frame a new clip takes */
  GstBuffer *held;        /* the first frame after a clip, kept for the next clip */
  GstClockTime held_at;   /* its running time */
  gboolean recording;
  guint clips;
  guint64 frames, flagged;
  gint gate_full_said;    /* atomic: gate_full warned */
  GMutex lock;
} App;

static GstPadProbeReturn
block_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
  return GST_PAD_PROBE_OK; /* stay blocked; the leaky queue drops the oldest frames */
}

/* Runs on every frame that reaches the recorder (after the block, if
 * any): stops after the tail.  The frame that ends a clip has passed the
 * block already and cannot wait at it: it is kept, and goes first into the
 * next clip if that clip reaches back to it (two events close together
 * lost it between their clips). */
static GstPadProbeReturn
tail_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
  App *app = user;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  /* (running times, as the messages': helper-60's files whose timestamps
   * begin at 100 s lost --after) */
  const GstClockTime t = example_segment_time (pad, GST_BUFFER_PTS (buf), TRUE);
  g_mutex_lock (&app->lock);
  gboolean stop = app->recording && GST_CLOCK_TIME_IS_VALID (app->stop_at)
      && GST_CLOCK_TIME_IS_VALID (t) && t >= app->stop_at;
  if (stop) {
    /* the next key frame, the first of the next clip, opens a new file */
    g_signal_emit_by_name (app->splitmux, "split-after");
    app->recording = FALSE;
    gst_util_set_object_arg (G_OBJECT (app->gate_queue), "leaky", "downstream");
    app->block_id = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM, block_cb, NULL,
        NULL);
    gst_buffer_replace (&app->held, buf);
    app->held_at = t;
  }
  /* the frame that was held at the blocked pad is older than the clip; and
   * outside a recording (the gate opened for the end of the stream) no
   * frame goes to a clip */
  gboolean stale = (GST_CLOCK_TIME_IS_VALID (t) && t < app->resume_at) || !app->recording;
  GstBuffer *first = NULL;
  if (!stop && !stale && app->held) {
    /* the clip's first frame: the one kept is older, and goes before it */
    if (app->held_at >= app->resume_at && app->held_at < t)
      first = g_steal_pointer (&app->held);
    gst_buffer_replace (&app->held, NULL);
  }
  g_mutex_unlock (&app->lock);
  if (first) /* (this probe lets it through: recording, and no frame kept now) */
    gst_pad_push (pad, first);
  return stop || stale ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* A kept frame is of the stream as it was: new caps, a new segment or
 * stream, a flush or the end make it no frame of the next clip. */
static GstPadProbeReturn
gate_event_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
  App *app = user;
  switch (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info))) {
    case GST_EVENT_CAPS:
    case GST_EVENT_SEGMENT:
    case GST_EVENT_STREAM_START:
    case GST_EVENT_FLUSH_START:
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_EOS:
      g_mutex_lock (&app->lock);
      gst_buffer_replace (&app->held, NULL);
      g_mutex_unlock (&app->lock);
      break;
    default:
      break;
  }
  return GST_PAD_PROBE_OK;
}

/* The raw frames the gate queue keeps at most, whatever --before asks: an
 * hour of --before kept an hour of raw video (helper-80: 757 MB for a
 * minute at 640x480; about 330 GB at 1080p).  Reached, --before is cut
 * short, said once (gate_full). */
#define GATE_MAX_BYTES (1024u * 1024u * 1024u)

static void
gate_full (GstElement *queue, gpointer data)
{
  App *app = data;
  guint64 time = 0, max_time = 0;
  g_object_get (queue, "current-level-time", &time, "max-size-time", &max_time, NULL);
  /* the queue's time bound is --before, the frames to an event's begin and
   * a second (size_gate): below --before and those frames, a clip begins
   * later than asked (full by time, as it should be, it holds more) */
  const guint64 to_begin = max_time > app->before + GST_SECOND
      ? max_time - app->before - GST_SECOND : 0;
  if (time >= app->before + to_begin
      || !g_atomic_int_compare_and_exchange (&app->gate_full_said, 0, 1))
    return;
  g_printerr ("record-events: warning: --before keeps at most %u MiB of raw frames, %.1f s of "
      "this video: clips begin that long before their events\n", GATE_MAX_BYTES >> 20,
      (gdouble) (time > to_begin ? time - to_begin : 0) / GST_SECOND);
}

/* The gate queue's bound from the frame rate: --before, and the frames
 * between an event's first flagged frame and its begin message
 * (event-min-frames - 1 scored frames), and a second more. */
static void
size_gate (App *app, GstCaps *caps)
{
  const GstStructure *st = gst_caps_get_structure (caps, 0);
  gint n = 0, d = 1;
  GstClockTime margin = GST_SECOND;
  if (gst_structure_get_fraction (st, "framerate", &n, &d) && n > 0 && d > 0)
    margin += MIN (gst_util_uint64_scale (app->event_frames, (guint64) d * GST_SECOND,
                       (guint64) n), 60 * GST_SECOND); /* (memory: raw frames) */
  g_object_set (app->gate_queue, "max-size-time", (guint64) (app->before + margin), NULL);
}

/* The end of the stream reaches the gate's queue: open the gate (frames
 * outside a recording are dropped by tail_cb), or the end of the stream
 * would wait behind the blocked pad forever and the program never end.
 * New caps size the queue (size_gate). */
static GstPadProbeReturn
eos_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
  App *app = user;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS) {
    GstCaps *caps;
    gst_event_parse_caps (ev, &caps);
    size_gate (app, caps);
  }
  if (GST_EVENT_TYPE (ev) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&app->lock);
  if (app->block_id)
    gst_pad_remove_probe (app->gate, app->block_id);
  app->block_id = 0;
  g_mutex_unlock (&app->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
meta_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
  App *app = user;
  GstDecentAnomalyMeta *m = gst_buffer_get_decent_anomaly_meta (GST_PAD_PROBE_INFO_BUFFER (info));
  if (m) {
    app->frames++;
    app->flagged += m->flagged;
  }
  return GST_PAD_PROBE_OK;
}

static void
on_event (App *app, const GstStructure *s)
{
  const gchar *type = gst_structure_get_string (s, "type");
  guint64 rt = 0, start = 0;
  gst_structure_get_uint64 (s, "running-time", &rt);
  gst_structure_get_uint64 (s, "event-running-time", &start);
  g_mutex_lock (&app->lock);
  if (g_str_equal (type, "begin")) {
    printf ("event begins at %.2f s (first flagged frame %.2f s)\n", rt / 1e9, start / 1e9);
    app->stop_at = GST_CLOCK_TIME_NONE;
    if (!app->recording) {
      app->clips++;
      /* --before counts from the first flagged frame, event-min-frames
       * before the begin (helper-60: it counted from the begin) */
      app->resume_at = start > app->before ? start - app->before : 0;
      app->recording = TRUE;
      /* no frame of the clip may leak out while the recorder is behind
       * (helper-61: 4 of 49 lost under load): the stream waits instead */
      gst_util_set_object_arg (G_OBJECT (app->gate_queue), "leaky", "no");
      if (app->block_id)
        gst_pad_remove_probe (app->gate, app->block_id);
      app->block_id = 0;
    }
  } else {
    guint64 frames = 0;
    gdouble peak = 0;
    gst_structure_get_uint64 (s, "frames", &frames);
    gst_structure_get_double (s, "peak-score", &peak);
    printf ("event ends at %.2f s: %" G_GUINT64_FORMAT " frames, peak score %.5f\n", rt / 1e9,
        frames, peak);
    app->stop_at = rt + app->after;
  }
  g_mutex_unlock (&app->lock);
}

/* The event messages move the recording gate, in the thread that posts
 * them, before the next frame: read from the main loop, a file decoded
 * faster than real time ran on meanwhile, and the leaky queue dropped
 * frames the clip should have had (helper-60: a clip of --before 2 began
 * 2.2 to 2.7 s before the event, from run to run). */
static GstBusSyncReply
on_sync_message (GstBus *bus, GstMessage *msg, gpointer user)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
      && gst_structure_has_name (gst_message_get_structure (msg), "decentanomaly-event"))
    on_event (user, gst_message_get_structure (msg));
  return GST_BUS_PASS;
}

/* One past the highest clip-NNN.mkv in dir (0 when none). */
static guint
next_clip_index (const gchar *dir)
{
  guint next = 0;
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  while (d && (name = g_dir_read_name (d))) {
    guint n;
    char tail[8];
    if (sscanf (name, "clip-%u.%7s", &n, tail) == 2 && g_str_equal (tail, "mkv") && n >= next
        && n < G_MAXINT)
      next = n + 1;
  }
  if (d)
    g_dir_close (d);
  return next;
}

int
main (int argc, char **argv)
{
  gchar *model = NULL, *input = NULL, *out = g_strdup ("clips");
  gdouble before = 3, after = 3;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model, "Model file", "FILE" },
    { "input", 0, 0, G_OPTION_ARG_FILENAME, &input, "Video file", "FILE" },
    { "before", 0, 0, G_OPTION_ARG_DOUBLE, &before, "Seconds kept before an event (3)", "S" },
    { "after", 0, 0, G_OPTION_ARG_DOUBLE, &after, "Seconds recorded after an event (3)", "S" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Folder for the clips (clips)", "DIR" },
    { NULL } };
  if (!example_parse_options (&argc, &argv, "- record clips around anomaly events", entries,
          &model, &input))
    return 2;
  if (!(before >= 0 && before <= 3600) || !(after >= 0 && after <= 3600)) {
    g_printerr ("record-events: --before and --after want 0 to 3600 seconds\n");
    return 2;
  }
  if (g_mkdir_with_parents (out, 0755) < 0) {
    g_printerr ("record-events: cannot make the folder %s: %s\n", out, g_strerror (errno));
    return 1;
  }
  /* a folder clips cannot be written to is said now, not at the first
   * event (helper-60: a read-only one failed then, and the summary counted
   * a clip that was never written) */
  gchar *probe = g_build_filename (out, ".record-events-XXXXXX", NULL);
  const int probe_fd = g_mkstemp (probe);
  if (probe_fd < 0) {
    g_printerr ("record-events: cannot write clips into %s: %s\n", out, g_strerror (errno));
    g_free (probe);
    return 1;
  }
  close (probe_fd);
  g_unlink (probe);
  g_free (probe);

  /* clips of an earlier run in the folder are kept: numbering goes on
   * (splitmuxsink's index is an int: a folder numbered near its end is
   * refused rather than wrapped to negative names) */
  const guint first = next_clip_index (out);
  if (first > G_MAXINT - 1000000) {
    g_printerr ("record-events: the clips in %s are numbered up to %u already; name another "
        "--out\n", out, first - 1);
    return 1;
  }

  /* paths go in as properties: a quote or '%' in a name reaches the element.
   * The queue keeps --before and a second more, and more at the frame rate
   * (size_gate): an event begins event-min-frames after its first flagged
   * frame, from which --before counts (tail_cb drops what is older) */
  gchar *desc = g_strdup_printf ("filesrc name=src ! decodebin ! videoconvert ! "
      "decentanomaly name=scorer ! tee name=t "
      "t. ! queue ! fakesink sync=false "
      "t. ! queue name=gate leaky=downstream max-size-buffers=0 max-size-bytes=%u "
      "max-size-time=%" G_GUINT64_FORMAT " ! videoconvert ! jpegenc ! "
      "splitmuxsink name=rec muxer=matroskamux", GATE_MAX_BYTES,
      (guint64) ((before + 1) * GST_SECOND));
  App app = { 0 };
  g_mutex_init (&app.lock);
  GError *err = NULL;
  app.pipe = gst_parse_launch (desc, &err);
  g_free (desc);
  /* a pipeline with an error (an element missing: the plugin not found) is
   * not run */
  if (!app.pipe || err) {
    g_printerr ("record-events: %s\n", err ? err->message : "cannot build the pipeline");
    if (app.pipe)
      gst_object_unref (app.pipe);
    g_clear_error (&err);
    return 1;
  }
  gchar *pattern = example_location_pattern (out, "clip-%03d.mkv");
  const gboolean set = example_set_path (app.pipe, "src", "location", input)
                       && example_set_path (app.pipe, "scorer", "model-location", model)
                       && example_set_path (app.pipe, "rec", "location", pattern);
  g_free (pattern);
  if (!set) /* the description names them all: cannot happen, but never run half set */
    return 1;
  app.after = (GstClockTime) (after * GST_SECOND);
  app.before = (GstClockTime) (before * GST_SECOND);
  app.stop_at = GST_CLOCK_TIME_NONE;
  app.splitmux = gst_bin_get_by_name (GST_BIN (app.pipe), "rec");
  GstElement *gate = gst_bin_get_by_name (GST_BIN (app.pipe), "gate");
  GstElement *scorer = gst_bin_get_by_name (GST_BIN (app.pipe), "scorer");
  guint min_frames = 3, interval = 1;
  g_object_get (scorer, "event-min-frames", &min_frames, "inference-interval", &interval, NULL);
  /* (the begin is posted at the min_frames-th flagged frame: helper-83) */
  app.event_frames = (MAX (min_frames, 1) - 1) * MAX (interval, 1);
  app.gate_queue = gate;
  g_signal_connect (gate, "overrun", G_CALLBACK (gate_full), &app);
  app.gate = gst_element_get_static_pad (gate, "src");
  app.block_id = gst_pad_add_probe (app.gate, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM, block_cb,
      NULL, NULL);
  gst_pad_add_probe (app.gate, GST_PAD_PROBE_TYPE_BUFFER, tail_cb, &app, NULL);
  gst_pad_add_probe (app.gate, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_EVENT_FLUSH,
      gate_event_cb, &app, NULL);
  GstPad *gate_in = gst_element_get_static_pad (gate, "sink");
  gst_pad_add_probe (gate_in, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, eos_cb, &app, NULL);
  gst_object_unref (gate_in);
  GstPad *scored = gst_element_get_static_pad (scorer, "src");
  gst_pad_add_probe (scored, GST_PAD_PROBE_TYPE_BUFFER, meta_cb, &app, NULL);
  gst_object_unref (scored);
  /* the recording branch may see no frame for a long time: it must not hold
   * up the pipeline's preroll */
  g_object_set (app.splitmux, "async-handling", TRUE, NULL);
  g_object_set (app.splitmux, "start-index", (gint) first, NULL);

  GstBus *bus = gst_element_get_bus (app.pipe);
  gst_bus_set_sync_handler (bus, on_sync_message, &app, NULL);
  gst_object_unref (bus);
  int rc = example_run (app.pipe, "record-events", NULL, &app);
  if (app.clips == 0) { /* splitmuxsink opened a first file that got no frame */
    gchar *empty = g_strdup_printf ("%s/clip-%03u.mkv", out, first);
    g_unlink (empty);
    g_free (empty);
  }
  /* after an error (a full disk) the clip being written may be cut short */
  printf ("%" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " flagged (from the metadata); "
          "%u clips in %s%s\n", app.frames, app.flagged, app.clips, out,
          rc != 0 && app.clips ? " (stopped by the error above: the last may be incomplete)"
          : "");
  gst_buffer_replace (&app.held, NULL);
  gst_object_unref (app.gate);
  gst_object_unref (gate);
  gst_object_unref (scorer);
  gst_object_unref (app.splitmux);
  gst_object_unref (app.pipe);
  return example_exit_status (rc);
}
