/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decent-detect — scores a video file with decentanomaly from a given
 * second on, writes the heatmap overlay as a video and every flagged frame
 * as a JPEG, and prints a summary read from the element's bus messages:
 * frames flagged, each event with its times, and alarms per hour.
 *
 *   decent-detect --model M [--second-model M2] --input FILE [--start S]
 *                 [--overlay OUT.avi] [--flagged-dir DIR] [--csv F] [--events-csv F]
 *                 [--raw WxH [--fps N]] [--set property=value ...]
 *
 * --raw reads FILE as packed RGB frames (no container) of that size;
 * --set passes a property to the scoring decentanomaly (score-mode=...);
 * --second-model is its second-model-location (a model of another geometry
 * scoring beside M; without it, the companion M carries, if any).
 *
 * The same without seeking, with gst-launch alone:
 *   gst-launch-1.0 filesrc location=FILE ! decodebin ! videoconvert ! tee name=t \
 *     t. ! queue ! decentanomaly model-location=M mode=overlay ! videoconvert ! \
 *          avenc_mpeg4 ! avimux ! filesink location=OUT.avi \
 *     t. ! queue ! decentanomaly model-location=M flagged-only=true ! videoconvert ! \
 *          jpegenc ! multifilesink async=false location=DIR/frame-%05d.jpg
 * (async=false: that branch may see no frame at all, and must not hold up
 * the pipeline's preroll)
 */
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>

#include "example-common.h"

typedef struct {
  guint64 frames, flagged, events, regions;
  gdouble max_score, threshold;
  GstClockTime first_time, last_time; /* stream times of the frames scored */
  GString *event_lines;               /* "begin - end" per event */
  FILE *csv, *events_csv;
  GstElement *scorer;                 /* the decentanomaly whose messages count */
  gint buffers;                       /* frames that reached it (atomic: streaming) */
  gboolean no_video;                  /* an error says the input has no video stream */
  gboolean avi_overlay;               /* --overlay goes through avimux */
  gboolean not_negotiated;            /* an error says caps could not be agreed */
} Summary;

/* A time field of a message, or NONE when the frame had no timestamp. */
static GstClockTime
time_field (const GstStructure *st, const gchar *name)
{
  guint64 t;
  return gst_structure_get_uint64 (st, name, &t) ? t : GST_CLOCK_TIME_NONE;
}

static gchar *
format_seconds (GstClockTime t)
{
  return GST_CLOCK_TIME_IS_VALID (t) ? g_strdup_printf ("%.1f s", (gdouble) t / GST_SECOND)
                                     : g_strdup ("?");
}

/* An event message's --events-csv row (type with prefix, its first frame
 * from first_field, the frame posted at, the peak); returns the type. */
static const gchar *
event_row (Summary *s, const GstStructure *st, const gchar *prefix, const gchar *first_field,
    gdouble *peak)
{
  const gchar *type = gst_structure_get_string (st, "type");
  guint64 frame = 0, first = 0;
  gst_structure_get_uint64 (st, "frame", &frame);
  gst_structure_get_uint64 (st, first_field, &first);
  gst_structure_get_double (st, "peak-score", peak);
  if (s->events_csv)
    fprintf (s->events_csv, "%s%s,%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%.9g\n", prefix,
        type ? type : "unknown", first, frame, *peak);
  return type;
}

static void
count_message (GstMessage *msg, Summary *s)
{
  const GstStructure *st = gst_message_get_structure (msg);
  if (gst_structure_has_name (st, "decentanomaly")) {
    gboolean flagged = FALSE;
    gdouble score = 0, norm = 0;
    guint64 frame = 0;
    gst_structure_get_boolean (st, "flagged", &flagged);
    gst_structure_get_double (st, "score", &score);
    gst_structure_get_double (st, "normalized-score", &norm);
    gst_structure_get_double (st, "threshold", &s->threshold);
    gst_structure_get_uint64 (st, "frame", &frame);
    GstClockTime t = time_field (st, "stream-time");
    if (GST_CLOCK_TIME_IS_VALID (t)) {
      if (!GST_CLOCK_TIME_IS_VALID (s->first_time))
        s->first_time = t;
      s->last_time = t;
    }
    s->frames++;
    s->flagged += flagged;
    s->max_score = MAX (s->max_score, score);
    if (s->csv) { /* (no threshold, the largest double: an empty field) */
      gchar threshold[G_ASCII_DTOSTR_BUF_SIZE] = "";
      if (s->threshold < G_MAXDOUBLE)
        g_snprintf (threshold, sizeof threshold, "%.9g", s->threshold);
      fprintf (s->csv, "%" G_GUINT64_FORMAT ",%.3f,%.9g,%s,%.6g,%d\n", frame,
          GST_CLOCK_TIME_IS_VALID (t) ? (gdouble) t / GST_SECOND : -1.0, score, threshold,
          norm, flagged);
    }
  } else if (gst_structure_has_name (st, "decentanomaly-event")) {
    gdouble peak = 0;
    const gchar *type = event_row (s, st, "", "event-frame", &peak);
    GstClockTime begin = time_field (st, "event-running-time");
    /* a table row per event: its number and start at the begin, the rest at the end */
    if (g_strcmp0 (type, "begin") == 0) {
      s->events++;
      gchar *b = format_seconds (begin);
      g_string_append_printf (s->event_lines, "  %5" G_GUINT64_FORMAT "  %9s", s->events, b);
      g_free (b);
    } else if (g_strcmp0 (type, "end") == 0) {
      gchar *e = format_seconds (time_field (st, "last-flagged-running-time"));
      guint64 frames = 0;
      gst_structure_get_uint64 (st, "frames", &frames);
      g_string_append_printf (s->event_lines, "  %9s  %6" G_GUINT64_FORMAT "  %10.5f\n", e,
          frames, peak);
      g_free (e);
    }
  } else if (gst_structure_has_name (st, "decentanomaly-region")) {
    /* one place's event: written as region-begin / region-end, counted */
    gdouble peak = 0;
    s->regions += g_strcmp0 (event_row (s, st, "region-", "region-frame", &peak), "begin") == 0;
  }
}

/* example_run's on_message: counts the scorer's messages, and notes an
 * error that means the input has no video (a type not found, or a stream
 * that decodebin could not link: audio only). */
static void
on_message (GstMessage *msg, gpointer user)
{
  Summary *s = user;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err;
    gchar *dbg;
    gst_message_parse_error (msg, &err, &dbg);
    s->no_video |= err->domain == GST_STREAM_ERROR
                   && (err->code == GST_STREAM_ERROR_TYPE_NOT_FOUND
                       || (dbg && strstr (dbg, "not-linked")));
    s->not_negotiated |= dbg && strstr (dbg, "not-negotiated");
    g_error_free (err);
    g_free (dbg);
  }
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
      && GST_MESSAGE_SRC (msg) == GST_OBJECT (s->scorer))
    count_message (msg, s);
}

/* Counts the frames that reach the scorer, whatever messages it posts. */
static GstPadProbeReturn
count_frame (GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
  g_atomic_int_inc (&((Summary *) user)->buffers);
  return GST_PAD_PROBE_OK;
}

/* Drops frames before --start, in stream time as the CSV and the summary
 * give it: a file whose timestamps begin at 100 s (MPEG-TS, an edit list)
 * starts its stream time at 0 (helper-60: the raw timestamp was compared,
 * and nothing was dropped). */
static GstPadProbeReturn
drop_before_start (GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime start = *(GstClockTime *) user;
  const GstClockTime t = example_segment_time (pad, GST_BUFFER_PTS (buf), FALSE);
  return GST_CLOCK_TIME_IS_VALID (t) && t < start ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* Closes a CSV (may be NULL); FALSE, said on stderr, when any of it was
 * not written. */
static gboolean
close_csv (FILE *f, const gchar *path)
{
  if (!f)
    return TRUE;
  const gboolean failed = ferror (f);
  errno = 0;
  /* a failed write leaves its bytes buffered: closing tries them again and
   * says why (a full disk) */
  if (fclose (f) != 0 || failed) {
    g_printerr ("decent-detect: could not write %s: %s\n", path,
        errno ? g_strerror (errno) : "a write failed");
    return FALSE;
  }
  return TRUE;
}

/* Whether base is a name multifilesink gives a flagged frame:
 * frame-NNNNN.jpg (or more digits past 99999). */
static gboolean
is_frame_name (const gchar *base)
{
  if (!base || !g_str_has_prefix (base, "frame-") || !g_str_has_suffix (base, ".jpg"))
    return FALSE;
  const gsize digits = strlen (base) - strlen ("frame-") - strlen (".jpg");
  if (digits < 5)
    return FALSE;
  for (gsize i = 0; i < digits; i++)
    if (!g_ascii_isdigit (base[strlen ("frame-") + i]))
      return FALSE;
  return TRUE;
}

/* Whether folder holds a flagged frame's file already. */
static gboolean
holds_frames (const gchar *folder)
{
  GDir *d = g_dir_open (folder, 0, NULL);
  gboolean found = FALSE;
  const gchar *name;
  while (d && !found && (name = g_dir_read_name (d)))
    found = is_frame_name (name);
  if (d)
    g_dir_close (d);
  return found;
}

int
main (int argc, char **argv)
{
  gchar *model = NULL, *second = NULL, *input = NULL, *overlay = NULL, *flagged_dir = NULL;
  gchar *csv = NULL, *events_csv = NULL, *raw = NULL, **props = NULL;
  gint fps = 10;
  gdouble start = 0;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model, "Model file (from decent-train)", "FILE" },
    { "second-model", 0, 0, G_OPTION_ARG_FILENAME, &second, "A second model scoring beside "
      "it (decentanomaly's second-model-location)", "FILE" },
    { "input", 0, 0, G_OPTION_ARG_FILENAME, &input, "Video file to score", "FILE" },
    { "start", 0, 0, G_OPTION_ARG_DOUBLE, &start, "Start at this second", "S" },
    { "overlay", 0, 0, G_OPTION_ARG_FILENAME, &overlay, "Write the overlay video here (AVI; "
      "Matroska if named .mkv)",
      "FILE" },
    { "flagged-dir", 0, 0, G_OPTION_ARG_FILENAME, &flagged_dir, "Write flagged frames here",
      "DIR" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Write every scored frame as CSV "
      "(frame,seconds,score,threshold,normalized,flagged)", "FILE" },
    { "events-csv", 0, 0, G_OPTION_ARG_FILENAME, &events_csv, "Write every event message as "
      "CSV (type,event-frame,frame,peak; region-begin and region-end are one place's)",
      "FILE" },
    { "raw", 0, 0, G_OPTION_ARG_STRING, &raw, "The input is packed RGB frames of this size, "
      "without a container", "WxH" },
    { "fps", 0, 0, G_OPTION_ARG_INT, &fps, "Frame rate of --raw input (10)", "N" },
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &props, "A property of the scoring "
      "decentanomaly, e.g. --set score-mode=mean (repeatable)", "NAME=VALUE" },
    { NULL } };
  if (!example_parse_options (&argc, &argv, "- score a video with decentanomaly", entries, &model,
          &input))
    return 2;
  if (!(start >= 0) || start > 1e9) { /* NaN too: it would drop every frame */
    g_printerr ("decent-detect: --start wants a second from 0 on, not %g\n", start);
    return 2;
  }
  gint raw_w = 0, raw_h = 0, parsed = 0;
  if (raw && (sscanf (raw, "%dx%d%n", &raw_w, &raw_h, &parsed) != 2 || raw[parsed]
                 || raw_w < 1 || raw_h < 1 || fps < 1
                 || (gint64) raw_w * raw_h * 3 > G_MAXINT)) { /* rawvideoparse's sizes are ints */
    g_printerr ("decent-detect: --raw wants WIDTHxHEIGHT (a frame of at most 2 GB) and --fps a "
        "positive rate\n");
    return 2;
  }
  GStatBuf st;
  const gint64 frame_bytes = (gint64) raw_w * raw_h * 3;
  if (raw && g_stat (input, &st) == 0 && S_ISREG (st.st_mode) && st.st_size % frame_bytes)
    g_printerr ("decent-detect: warning: %s is not a whole number of %dx%d RGB frames: its "
        "last %" G_GINT64_FORMAT " bytes are not scored\n", input, raw_w, raw_h,
        (gint64) (st.st_size % frame_bytes));
  /* an output that is an input, or another output, would be emptied or
   * written twice over */
  const struct { const gchar *option, *path; } outputs[] = { { "--csv", csv },
    { "--events-csv", events_csv }, { "--overlay", overlay } },
    inputs[] = { { "--input", input }, { "--model", model }, { "--second-model", second } };
  for (guint o = 0; o < G_N_ELEMENTS (outputs); o++) {
    for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
      if (example_same_file (outputs[o].path, inputs[i].path)) {
        g_printerr ("decent-detect: %s %s is the file of %s: it would be overwritten\n",
            outputs[o].option, outputs[o].path, inputs[i].option);
        return 2;
      }
    for (guint k = 0; k < o; k++)
      if (example_same_file (outputs[o].path, outputs[k].path)) {
        g_printerr ("decent-detect: %s and %s name one file, %s\n", outputs[k].option,
            outputs[o].option, outputs[o].path);
        return 2;
      }
  }
  /* the flagged frames, frame-00000.jpg on, would replace an output of
   * that name in their folder, and mix with an earlier run's frames, which
   * the summary would not count (helper-80; detect.sh refuses them too) */
  if (flagged_dir) {
    for (guint o = 0; o < G_N_ELEMENTS (outputs); o++) {
      gchar *folder = outputs[o].path ? g_path_get_dirname (outputs[o].path) : NULL;
      gchar *base = outputs[o].path ? g_path_get_basename (outputs[o].path) : NULL;
      const gboolean clash = folder && is_frame_name (base)
                             && example_same_file (folder, flagged_dir);
      g_free (folder);
      g_free (base);
      if (clash) {
        g_printerr ("decent-detect: %s %s is named as a flagged frame in --flagged-dir: a "
            "flagged frame would replace it\n", outputs[o].option, outputs[o].path);
        return 2;
      }
    }
    if (holds_frames (flagged_dir)) {
      g_printerr ("decent-detect: --flagged-dir %s holds frames of an earlier run; empty it or "
          "name another folder\n", flagged_dir);
      return 2;
    }
  }
  /* paths and --set values go in as properties, never into the
   * description: a quote, '%' or '!' must reach the element as it is */
  GString *desc = g_string_new (NULL);
  if (raw)
    /* packed rows: rawvideoparse pads each row to 4 bytes unless told
     * (helper-60: 63-pixel rows were read skewed, 9 frames of 10) */
    g_string_append_printf (desc, "filesrc name=src ! rawvideoparse width=%d height=%d "
        "format=rgb framerate=%d/1 plane-strides=<%d> frame-size=%d ! ", raw_w, raw_h, fps,
        raw_w * 3, raw_w * raw_h * 3);
  else
    g_string_append (desc, "filesrc name=src ! decodebin ! ");
  g_string_append_printf (desc, "videoconvert ! tee name=t t. ! queue ! decentanomaly "
      "name=scorer mode=%s message-mode=all ! videoconvert ! ",
      overlay ? "overlay" : "passthrough");
  /* an AVI file has one frame rate, and avimux takes 16 to 4096 pixels a
   * side: other input (caps framerate=0/1) is written to Matroska, by its
   * name (helper-80), as JPEG frames, whose timestamps survive (avenc_mpeg4
   * gave every frame one bogus time, which AVI ignores: helper-82) */
  gchar *lower = overlay ? g_ascii_strdown (overlay, -1) : NULL;
  const gboolean mkv = lower && g_str_has_suffix (lower, ".mkv");
  g_free (lower);
  if (overlay)
    g_string_append_printf (desc, "%s ! filesink name=overlay",
        mkv ? "jpegenc ! matroskamux" : "avenc_mpeg4 bitrate=4000000 ! avimux");
  else
    g_string_append (desc, "fakesink");
  if (flagged_dir)
    g_string_append (desc, " t. ! queue ! decentanomaly name=flagger "
        "flagged-only=true post-messages=false ! videoconvert ! jpegenc ! "
        "multifilesink name=frames async=false");
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc->str, &err);
  g_string_free (desc, TRUE);
  /* a pipeline with an error (an unknown --set property) is not run */
  if (!pipe || err) {
    g_printerr ("decent-detect: %s\n", err ? err->message : "cannot build the pipeline");
    if (pipe)
      gst_object_unref (pipe);
    return 1;
  }
  if (!example_set_path (pipe, "src", "location", input)
      || !example_set_path (pipe, "scorer", "model-location", model)
      || (second && !example_set_path (pipe, "scorer", "second-model-location", second))
      || (overlay && !example_set_path (pipe, "overlay", "location", overlay))) {
    gst_object_unref (pipe);
    return 1;
  }
  /* --set: the scoring element's, and the flagged frames' one's alike */
  for (gchar **p = props; p && *p; p++)
    if (!example_set_property (pipe, "scorer", *p)
        || (flagged_dir && !example_set_property (pipe, "flagger", *p))) {
      gst_object_unref (pipe);
      return 2;
    }
  if (flagged_dir) {
    if (g_mkdir_with_parents (flagged_dir, 0755) < 0) {
      g_printerr ("decent-detect: cannot make the folder %s: %s\n", flagged_dir,
          g_strerror (errno));
      gst_object_unref (pipe);
      return 1;
    }
    gchar *pattern = example_location_pattern (flagged_dir, "frame-%05d.jpg");
    const gboolean set = example_set_path (pipe, "flagger", "model-location", model)
                         && (!second || example_set_path (pipe, "flagger",
                                            "second-model-location", second))
                         && example_set_path (pipe, "frames", "location", pattern);
    g_free (pattern);
    if (!set) {
      gst_object_unref (pipe);
      return 1;
    }
  }
  Summary sum = { 0 };
  sum.avi_overlay = overlay && !mkv;
  sum.scorer = gst_bin_get_by_name (GST_BIN (pipe), "scorer");
  sum.first_time = sum.last_time = GST_CLOCK_TIME_NONE;
  sum.event_lines = g_string_new (NULL);
  if (csv && !(sum.csv = fopen (csv, "w"))) {
    g_printerr ("decent-detect: cannot write %s: %s\n", csv, g_strerror (errno));
    return 1;
  }
  if (events_csv && !(sum.events_csv = fopen (events_csv, "w"))) {
    g_printerr ("decent-detect: cannot write %s: %s\n", events_csv, g_strerror (errno));
    return 1;
  }
  if (sum.csv)
    fprintf (sum.csv, "frame,seconds,score,threshold,normalized,flagged\n");
  if (sum.events_csv)
    fprintf (sum.events_csv, "type,event_frame,frame,peak\n");

  /* frames before --start are dropped before the tee (decoding is cheap;
   * a seek would leave avimux without a segment) */
  GstElement *tee = gst_bin_get_by_name (GST_BIN (pipe), "t");
  GstPad *tee_sink = gst_element_get_static_pad (tee, "sink");
  GstClockTime start_ts = (GstClockTime) (start * GST_SECOND);
  gst_pad_add_probe (tee_sink, GST_PAD_PROBE_TYPE_BUFFER, drop_before_start, &start_ts, NULL);
  gst_object_unref (tee_sink);
  gst_object_unref (tee);
  GstPad *scorer_sink = gst_element_get_static_pad (sum.scorer, "sink");
  gst_pad_add_probe (scorer_sink, GST_PAD_PROBE_TYPE_BUFFER, count_frame, &sum, NULL);
  gst_object_unref (scorer_sink);

  int rc = example_run (pipe, "decent-detect", on_message, &sum);
  gst_object_unref (sum.scorer);
  gst_object_unref (pipe);
  /* a CSV that could not be written (a full disk) fails the run */
  const gboolean frames_kept = close_csv (sum.csv, csv);
  if (!close_csv (sum.events_csv, events_csv) || !frames_kept)
    rc = 1;
  if (rc == 1 && g_atomic_int_get (&sum.buffers) == 0 && sum.no_video)
    g_printerr ("decent-detect: no frame reached the scorer: is %s a video?\n", input);
  if (rc == 1 && sum.avi_overlay && sum.not_negotiated)
    g_printerr ("decent-detect: an AVI overlay takes a fixed frame rate and 16 to 4096 pixels "
        "a side; for other input, name the overlay OUT.mkv\n");
  if (rc == 0 && g_atomic_int_get (&sum.buffers) == 0) {
    /* no threshold or score to report: say why instead of zeros */
    if (start > 0)
      g_printerr ("decent-detect: no frame was scored: --start %.1f s is past the end of %s\n",
          start, input);
    else
      g_printerr ("decent-detect: no frame was scored: %s has no video frames\n", input);
    rc = 1;
  }
  if (rc == 0) {
    /* the footage's duration: one frame period past the last frame scored */
    gdouble seconds = GST_CLOCK_TIME_IS_VALID (sum.first_time)
        ? (gdouble) (sum.last_time - sum.first_time) / GST_SECOND
              + (sum.frames > 1 ? (gdouble) (sum.last_time - sum.first_time) / GST_SECOND
                                      / (sum.frames - 1) : 0.0)
        : 0.0;
    if (sum.frames == 0) /* --set message-mode or post-messages: no per-frame messages */
      printf ("scored %d frames from %.1f s; the scorer posted no per-frame messages "
              "(message-mode or post-messages), so scores and flags are not summed up\n",
          g_atomic_int_get (&sum.buffers), start);
    else {
      /* the largest double: the model has no calibrated threshold */
      gchar *threshold = sum.threshold < G_MAXDOUBLE ? g_strdup_printf ("%.5f", sum.threshold)
          : g_strdup ("none (the model is not calibrated)");
      printf ("scored %" G_GUINT64_FORMAT " frames from %.1f s: %" G_GUINT64_FORMAT
              " flagged (%.1f %%) in %" G_GUINT64_FORMAT " events; threshold %s, "
              "highest score %.5f\n", sum.frames, start, sum.flagged,
          100.0 * sum.flagged / sum.frames, sum.events, threshold, sum.max_score);
      g_free (threshold);
    }
    if (sum.events)
      printf ("  event       from         to  frames  peak score\n%s", sum.event_lines->str);
    if (sum.regions)
      printf ("%" G_GUINT64_FORMAT " region events (a place anomalous on its own: "
              "decentanomaly-region)\n", sum.regions);
    if (seconds > 0)
      printf ("%.1f s of footage: %.0f alarms an hour\n", seconds,
          sum.events * 3600.0 / seconds);
  }
  g_string_free (sum.event_lines, TRUE);
  g_strfreev (props);
  return example_exit_status (rc);
}
