/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decentpublish after decentanomaly: the events it announces downstream
 * become JSON lines (begin, then end, with their frames, scores, region and
 * camera), per-frame records in stream order around them, rotation by size
 * keeps max-files files, an unwritable location is an error at start, a
 * full disk (/dev/full) is one warning while the video goes on, a FIFO is
 * written through (and one without a reader refused at start). */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <gst/check/gstharness.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "plugin_util.h"

static GstHarness *
publish_harness (const gchar *publish_props)
{
  gchar *desc = g_strdup_printf ("decentanomaly name=left model-location=\"%s\" score-mode=mean "
      "threshold=%.17g message-mode=none event-min-frames=3 event-gap=4 ! decentpublish %s",
      tm.path, tm.threshold, publish_props);
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  gst_harness_set_src_caps_str (h, GRAY_CAPS);
  return h;
}

/* Pushes the pattern (X: noise, flagged; .: calm) and pulls every frame. */
static void
push_pattern (GstHarness *h, const gchar *seq)
{
  for (guint i = 0; seq[i]; i++) {
    fail_unless_equals_int (gst_harness_push (h, gray_frame (seq[i] == 'X', i)), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
  }
}

/* The pattern, then the end of stream. */
static void
run_pattern (GstHarness *h, const gchar *seq)
{
  push_pattern (h, seq);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
}

static gchar **
read_lines (const gchar *path, guint *n)
{
  gchar *text = NULL;
  fail_unless (g_file_get_contents (path, &text, NULL, NULL), "no file %s", path);
  g_strchomp (text);
  gchar **lines = *text ? g_strsplit (text, "\n", -1) : g_new0 (gchar *, 1);
  g_free (text);
  *n = g_strv_length (lines);
  return lines;
}

/* read_lines of path, then path and its folder out_dir removed and both
 * names freed. */
static gchar **
take_lines (gchar *out_dir, gchar *path, guint *n)
{
  gchar **lines = read_lines (path, n);
  g_unlink (path);
  g_rmdir (out_dir);
  g_free (path);
  g_free (out_dir);
  return lines;
}

/* "scorers ! decentpublish location=FILE publish_props" fed the pattern and
 * stopped without an end of stream (inside events: their ends are the
 * stop's); FILE's lines (*n of them), the file and its folder removed. */
static gchar **
records_after_stop (const gchar *scorers, const gchar *publish_props, const gchar *seq,
    guint *n)
{
  gchar *out_dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
  gchar *path = g_build_filename (out_dir, "records.jsonl", NULL);
  gchar *desc = g_strdup_printf ("%s ! decentpublish location=\"%s\" %s", scorers, path,
      publish_props);
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  gst_harness_set_src_caps_str (h, GRAY_CAPS);
  push_pattern (h, seq);
  gst_harness_teardown (h);
  return take_lines (out_dir, path, n);
}

/* decentpublish location=path extra, fed the pattern to the end of stream;
 * the file's lines (*n of them). */
static gchar **
publish_pattern (const gchar *path, const gchar *extra, const gchar *seq, guint *n)
{
  gchar *props = g_strdup_printf ("location=\"%s\" %s", path, extra);
  GstHarness *h = publish_harness (props);
  run_pattern (h, seq);
  gst_harness_teardown (h);
  g_free (props);
  return read_lines (path, n);
}

GST_START_TEST (test_events_as_json_lines)
{
  gchar *out_dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
  gchar *path = g_build_filename (out_dir, "events.jsonl", NULL);
  gchar *props = g_strdup_printf ("location=\"%s\" camera=\"gate \\\"2\\\"\"", path);
  guint n;
  gchar **lines = publish_pattern (path, "camera=\"gate \\\"2\\\"\"", "..X...XXXX.X......",
      &n);
  fail_unless_equals_int (n, 2);
  fail_unless (g_str_has_prefix (lines[0], "{\"type\":\"begin\",\"camera\":\"gate \\\"2\\\"\","
          "\"utc\":\"") && g_str_has_suffix (lines[0], "}"), "%s", lines[0]);
  /* the event's first frame is 6; the begin comes with the third flagged one */
  fail_unless (strstr (lines[0], "\"frame\":8,\"event_frame\":6,") != NULL, "%s", lines[0]);
  fail_unless (strstr (lines[0], "\"region\":{\"x\":0,\"y\":0,\"width\":16,\"height\":16}"),
      "%s", lines[0]);
  gchar *peak = g_strdup_printf ("\"peak_score\":%.9g", tm.noise_score);
  fail_unless (strstr (lines[1], "{\"type\":\"end\"") == lines[1] && strstr (lines[1], peak)
      && strstr (lines[1], "\"frames\":6,"), "%s (want %s)", lines[1], peak);
  fail_unless (strstr (lines[0], "\"running_time\":0.266667") != NULL, "%s", lines[0]);
  /* which decentanomaly said it: its name, and its path (the harness's bin) */
  const gchar *named = ",\"element\":\"left\",\"element_path\":\"bin[0-9]+/left\"}$";
  fail_unless (g_regex_match_simple (named, lines[0], 0, 0)
      && g_regex_match_simple (named, lines[1], 0, 0), "%s\n%s", lines[0], lines[1]);
  g_free (peak);
  g_strfreev (lines);

  /* stopped inside an event (no end of stream): the file says it ended */
  g_unlink (path);
  GstHarness *h = publish_harness (props);
  for (guint i = 0; i < 6; i++) {
    fail_unless_equals_int (gst_harness_push (h, gray_frame (i >= 2, i)), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
  }
  gst_harness_teardown (h);
  lines = read_lines (path, &n);
  fail_unless (n == 2 && g_str_has_prefix (lines[0], "{\"type\":\"begin\"")
      && g_str_has_prefix (lines[1], "{\"type\":\"end\"")
      && g_regex_match_simple (",\"stopped\":true,\"element\":\"left\",\"element_path\":"
          "\"bin[0-9]+/left\"}$", lines[1], 0, 0), "%s / %s",
      lines[0], lines[1]);
  g_strfreev (lines);
  g_free (props);
  remove_tree (out_dir);
  g_free (path);
  g_free (out_dir);
}
GST_END_TEST;

/* Region events become region-begin and region-end records with their
 * place; stopped inside them, each open one ends with "stopped", before the
 * frame's event. */
GST_START_TEST (test_region_records)
{
  gchar *scorer = g_strdup_printf ("decentanomaly model-location=\"%s\" score-mode=local "
      "threshold=1e-9 message-mode=none event-min-frames=1 event-gap=2", tm.path);
  guint n;
  gchar **lines = records_after_stop (scorer, "", "XXX", &n);
  g_free (scorer);
  guint begins = 0, stopped = 0;
  for (guint i = 0; i < n; i++) {
    if (strstr (lines[i], "{\"type\":\"region-begin\"")) {
      begins++;
      fail_unless (strstr (lines[i], "\"frame\":0,\"region_frame\":0,") != NULL
          && strstr (lines[i], "\"region\":{\"x\":") != NULL
          && strstr (lines[i], "\"width\":0") == NULL, "%s", lines[i]);
      gchar *id = g_strdup_printf ("\"id\":%u,", begins);
      fail_unless (strstr (lines[i], id) != NULL, "region %u: %s", begins, lines[i]);
      g_free (id);
    } else if (strstr (lines[i], "{\"type\":\"region-end\"")) {
      gchar *id = g_strdup_printf ("\"id\":%u,\"stopped\":true,\"element\":", stopped + 1);
      fail_unless (strstr (lines[i], id) != NULL, "%s", lines[i]);
      g_free (id);
      stopped++;
      fail_unless (i < n - 1, "the frame's end comes last");
    }
  }
  fail_unless (begins > 0 && stopped == begins, "%u region begins, %u stopped ends", begins,
      stopped);
  fail_unless (g_str_has_prefix (lines[0], "{\"type\":\"begin\""), "%s", lines[0]);
  fail_unless (strstr (lines[n - 1], "{\"type\":\"end\"") && strstr (lines[n - 1],
          "\"stopped\":true"), "%s", lines[n - 1]);
  g_strfreev (lines);
}
GST_END_TEST;

/* A model without a calibrated threshold flags nothing: the record's
 * threshold is null (not the largest double, which no reader can tell
 * from a number once printed) and its normalized score 0. */
GST_START_TEST (test_uncalibrated_threshold_null)
{
  gchar *scorer = g_strdup_printf ("decentanomaly model-location=\"%s\" score-mode=mean "
      "message-mode=none", tm.path);
  guint n;
  gchar **lines = records_after_stop (scorer, "per-frame=true", "X", &n);
  g_free (scorer);
  fail_unless (n == 1 && strstr (lines[0], "\"flagged\":false")
      && strstr (lines[0], "\"threshold\":null,\"normalized_score\":0,"), "%s", lines[0]);
  g_strfreev (lines);
}
GST_END_TEST;

/* Two decentanomaly on one stream (one per roi), both inside an event
 * when the pipeline stops: each one's event ends, named by its element
 * (one flag for both lost the second one's end). */
GST_START_TEST (test_two_elements_stopped)
{
  gchar *scorers = g_strdup_printf ("decentanomaly name=a model-location=\"%s\" "
      "score-mode=mean threshold=%.17g message-mode=none event-min-frames=2 event-gap=2 ! "
      "decentanomaly name=b model-location=\"%s\" score-mode=mean threshold=%.17g "
      "message-mode=none event-min-frames=3 event-gap=2", tm.path, tm.threshold, tm.path,
      tm.threshold);
  /* a begins at frame 1, b at frame 2; a ends after two calm frames (4),
   * then both begin again (a at 6, b at 7) and the pipeline stops */
  guint n;
  gchar **lines = records_after_stop (scorers, "", "XXX..XXX", &n);
  g_free (scorers);
  guint stopped_a = 0, stopped_b = 0;
  for (guint i = 0; i < n; i++) {
    stopped_a += strstr (lines[i], "\"stopped\":true,\"element\":\"a\",") != NULL;
    stopped_b += strstr (lines[i], "\"stopped\":true,\"element\":\"b\",") != NULL;
  }
  fail_unless (stopped_a == 1 && stopped_b == 1, "%u and %u stopped ends in %u records",
      stopped_a, stopped_b, n);
  g_strfreev (lines);
}
GST_END_TEST;

/* The value of the string field key ("element_path") in a record; NULL
 * when it has none.  (Paths here hold no quote or backslash.) */
static gchar *
record_string (const gchar *record, const gchar *key)
{
  gchar *field = g_strdup_printf ("\"%s\":\"", key);
  const gchar *at = strstr (record, field);
  const gchar *start = at ? at + strlen (field) : NULL;
  const gchar *end = start ? strchr (start, '"') : NULL;
  g_free (field);
  return end ? g_strndup (start, end - start) : NULL;
}

/* Two decentanomaly of one name, one of them in a bin of its own (as two
 * bins made from one description have): their events are told apart by
 * the element's path. Keyed by the name, the second one's begin took the
 * first one's open event for its own (restarted) one, so that the first
 * one's end was written as the second one's and the second one's end was
 * dropped: begins without ends, in records that named both "det". */
GST_START_TEST (test_same_name_in_two_bins)
{
  gchar *scorers = g_strdup_printf ("decentanomaly name=det model-location=\"%s\" "
      "score-mode=mean threshold=%.17g message-mode=none event-min-frames=2 event-gap=2 ! "
      "( name=inner decentanomaly name=det model-location=\"%s\" score-mode=mean "
      "threshold=%.17g message-mode=none event-min-frames=3 event-gap=2 )", tm.path,
      tm.threshold, tm.path, tm.threshold);
  /* both flag the same frames: their events begin at one frame (0, then
   * 5), the outer one's begins come first, both end at frame 4; stopped
   * inside the second events */
  guint n;
  gchar **lines = records_after_stop (scorers, "", "XXX..XXX", &n);
  g_free (scorers);
  gchar *all = g_strjoinv ("\n", lines);
  guint begins[2] = { 0 }, ends[2] = { 0 }, stopped[2] = { 0 };
  for (guint i = 0; i < n; i++) {
    gchar *path = record_string (lines[i], "element_path");
    fail_unless (path != NULL, "a record without the element's path: %s", lines[i]);
    fail_unless (strstr (lines[i], ",\"element\":\"det\",\"element_path\":\"") != NULL,
        "the name is not kept in \"element\": %s", lines[i]);
    /* 0: the outer one (…/det), 1: the one in bin "inner" (…/inner/det) */
    const guint k = g_str_has_suffix (path, "/inner/det") ? 1 : 0;
    fail_unless (k == 1 || (g_str_has_suffix (path, "/det") && !strstr (path, "inner")),
        "path %s", path);
    begins[k] += g_str_has_prefix (lines[i], "{\"type\":\"begin\"");
    ends[k] += g_str_has_prefix (lines[i], "{\"type\":\"end\"");
    stopped[k] += strstr (lines[i], "\"stopped\":true") != NULL;
    g_free (path);
  }
  for (guint k = 0; k < 2; k++)
    fail_unless (begins[k] == 2 && ends[k] == 2 && stopped[k] == 1, "%s: %u begins, %u ends "
        "(%u at the stop), not 2, 2 (1) in:\n%s", k ? "inner/det" : "det", begins[k], ends[k],
        stopped[k], all);
  g_free (all);
  g_strfreev (lines);
}
GST_END_TEST;

/* A bin renamed inside an event: the end still says the path its begin
 * said (the one at start), so decentpublish pairs them. With the path
 * taken anew for each message, the end named another path, was dropped as
 * an end without its begin, and the stop wrote a "stopped" end instead. */
GST_START_TEST (test_path_kept_through_a_rename)
{
  gchar *out_dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
  gchar *path = g_build_filename (out_dir, "records.jsonl", NULL);
  gchar *props = g_strdup_printf ("location=\"%s\"", path);
  GstHarness *h = publish_harness (props);
  g_free (props);
  push_pattern (h, "XXXX");
  gchar *old_name = gst_object_get_name (GST_OBJECT (h->element));
  fail_unless (gst_object_set_name (GST_OBJECT (h->element), "renamed"));
  push_pattern (h, ".......");
  gst_harness_teardown (h);
  guint n;
  gchar **lines = take_lines (out_dir, path, &n);
  gchar *all = g_strjoinv ("\n", lines);
  gchar *said = g_strdup_printf ("\"element_path\":\"%s/left\"}", old_name);
  fail_unless (n == 2 && g_str_has_prefix (lines[0], "{\"type\":\"begin\"")
      && g_str_has_prefix (lines[1], "{\"type\":\"end\"") && strstr (lines[1], "\"frames\":4,")
      && !strstr (lines[1], "stopped") && g_str_has_suffix (lines[0], said)
      && g_str_has_suffix (lines[1], said), "not a begin and its end of %s:\n%s", said, all);
  g_free (said);
  g_free (all);
  g_free (old_name);
  g_strfreev (lines);
}
GST_END_TEST;

/* decentanomaly's begin or end as a queue between the elements passes it
 * on (or drops it at a flush). */
static void
push_decent_event (GstHarness *h, const gchar *name, const gchar *type, guint64 first,
    guint64 frame, const gchar *element)
{
  GstStructure *s = gst_structure_new (name, "type", G_TYPE_STRING, type, "frame",
      G_TYPE_UINT64, frame, "element", G_TYPE_STRING, element, NULL);
  if (g_str_equal (name, "decentanomaly-region"))
    gst_structure_set (s, "id", G_TYPE_UINT64, first, "region-frame", G_TYPE_UINT64, first,
        NULL);
  else
    gst_structure_set (s, "event-frame", G_TYPE_UINT64, first, NULL);
  fail_unless (gst_harness_push_event (h, gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, s)));
}

/* decentpublish alone, writing to a file of a folder of its own (*out_dir,
 * *path), one calm frame pushed. */
static GstHarness *
publish_alone (gchar **out_dir, gchar **path)
{
  *out_dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
  *path = g_build_filename (*out_dir, "records.jsonl", NULL);
  gchar *desc = g_strdup_printf ("decentpublish location=\"%s\"", *path);
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  gst_harness_set_src_caps_str (h, GRAY_CAPS);
  fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, 0)), GST_FLOW_OK);
  return h;
}

/* publish_alone's harness to the end of stream and stopped: the file's
 * lines (*n of them); the file and its folder removed (and their names
 * freed). */
static gchar **
publish_alone_records (GstHarness *h, gchar *out_dir, gchar *path, guint *n)
{
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  gst_harness_teardown (h);
  return take_lines (out_dir, path, n);
}

/* A queue between decentanomaly and decentpublish throws away the events
 * it holds when a seek flushes it: an end whose begin was dropped is not
 * written (it was: an end without a begin), and an event open before the
 * flush whose end does not come ahead of the next frame or begin is ended
 * there, "flushed" (it stayed open until the stop; helper-75). */
GST_START_TEST (test_records_paired_across_flushes)
{
  gchar *out_dir, *path;
  GstHarness *h = publish_alone (&out_dir, &path);
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  /* event 6 begins, a flush, and its end comes after it (decentanomaly's) */
  push_decent_event (h, "decentanomaly-event", "begin", 6, 6, "a");
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  push_decent_event (h, "decentanomaly-event", "end", 6, 7, "a");
  fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, 8)), GST_FLOW_OK);
  /* event 1 and its place 7 begin; a flush drops their ends in the queue */
  push_decent_event (h, "decentanomaly-event", "begin", 1, 1, "a");
  push_decent_event (h, "decentanomaly-region", "begin", 7, 1, "a");
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  /* event 3's begin was dropped by a flush: its end comes alone */
  push_decent_event (h, "decentanomaly-event", "end", 3, 4, "a");
  fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, 5)), GST_FLOW_OK);
  guint n;
  gchar **lines = publish_alone_records (h, out_dir, path, &n);
  const gchar *want[] = { "\"type\":\"begin\"", "\"type\":\"end\"",
    "\"type\":\"begin\"", "\"type\":\"region-begin\"", "\"type\":\"region-end\"",
    "\"type\":\"end\"" };
  gchar *all = g_strjoinv ("\n", lines);
  fail_unless (n == G_N_ELEMENTS (want), "%u records:\n%s", n, all);
  for (guint i = 0; i < n; i++)
    fail_unless (strstr (lines[i], want[i]), "record %u is not %s:\n%s", i, want[i], all);
  fail_unless (strstr (lines[4], "\"flushed\":true") && strstr (lines[5], "\"flushed\":true")
      && !strstr (lines[1], "\"flushed\""), "%s", all);
  fail_unless (!strstr (all, "\"event_frame\":3"), "an end without its begin:\n%s", all);
  g_free (all);
  g_strfreev (lines);
}
GST_END_TEST;

/* 300 elements' frame events open at once (more than the 256 kept): the
 * oldest are forgotten, and a recent one's end is still written (the
 * newest was forgotten at each begin, its end then dropped as one without
 * a begin: helper-76). */
GST_START_TEST (test_many_open_events_keep_the_newest)
{
  gchar *out_dir, *path;
  GstHarness *h = publish_alone (&out_dir, &path);
  for (guint k = 0; k < 301; k++) { /* 300 begins, then the one before the last's end */
    gchar *name = g_strdup_printf ("e%u", k < 300 ? k : 298);
    push_decent_event (h, "decentanomaly-event", k < 300 ? "begin" : "end", 1, 1, name);
    g_free (name);
  }
  guint n;
  gchar **lines = publish_alone_records (h, out_dir, path, &n);
  guint real_end = 0, stopped = 0;
  for (guint i = 0; i < n; i++) {
    real_end += strstr (lines[i], "\"type\":\"end\"") && strstr (lines[i], "\"e298\"")
        && !strstr (lines[i], "stopped");
    stopped += strstr (lines[i], "\"stopped\":true") != NULL;
  }
  fail_unless (real_end == 1, "event e298's end was not written (%u records)", n);
  fail_unless (stopped == 255, "%u events ended at the stop, not the 255 kept open", stopped);
  g_strfreev (lines);
}
GST_END_TEST;

GST_START_TEST (test_per_frame_and_rotation)
{
  gchar *out_dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
  gchar *path = g_build_filename (out_dir, "frames.jsonl", NULL);
  /* per frame: 10 frame records and the event's two, in stream order */
  guint n;
  gchar **lines = publish_pattern (path, "per-frame=true", "..XXX.....", &n);
  fail_unless_equals_int (n, 12);
  fail_unless (g_str_has_prefix (lines[4], "{\"type\":\"begin\"") /* before frame 4 */
      && strstr (lines[5], "\"type\":\"frame\"") && strstr (lines[5], "\"frame\":4,")
      && strstr (lines[5], "\"flagged\":true"), "%s / %s", lines[4], lines[5]);
  /* the end comes with the fourth calm frame, 8 */
  fail_unless (g_str_has_prefix (lines[9], "{\"type\":\"end\"")
      && strstr (lines[10], "\"frame\":8,"), "%s / %s", lines[9], lines[10]);
  fail_unless (strstr (lines[0], "\"flagged\":false") && strstr (lines[0], "\"scored\":true"));
  g_strfreev (lines);

  /* every record over 1 byte: a rotation before each, two old files kept */
  g_unlink (path);
  g_strfreev (publish_pattern (path, "per-frame=true max-size=1 max-files=2", ".....", &n));
  gchar *one = g_strconcat (path, ".1", NULL), *two = g_strconcat (path, ".2", NULL);
  gchar *three = g_strconcat (path, ".3", NULL);
  fail_unless (g_file_test (one, G_FILE_TEST_EXISTS) && g_file_test (two, G_FILE_TEST_EXISTS)
      && !g_file_test (three, G_FILE_TEST_EXISTS));
  lines = read_lines (one, &n);
  fail_unless (n == 1 && strstr (lines[0], "\"frame\":3,"), "newest rotated: %s", lines[0]);
  g_strfreev (lines);
  lines = read_lines (path, &n);
  fail_unless (n == 1 && strstr (lines[0], "\"frame\":4,"), "the last record: %s", lines[0]);
  g_strfreev (lines);
  /* max-files lowered while running: the files past it that this run
   * rotated into place go at the next rotation, so that max-size ×
   * (max-files + 1) holds (helper-69: they stayed for good); a file named
   * like one that the run did not write stays (helper-70: a logrotate
   * archive was deleted) */
  gchar *four = g_strconcat (path, ".4", NULL);
  fail_unless (g_file_set_contents (four, "{\"archive\":1}\n", -1, NULL));
  gchar *props = g_strdup_printf ("name=p location=\"%s\" per-frame=true max-size=1 "
      "max-files=3", path);
  GstHarness *h = publish_harness (props);
  push_pattern (h, "....");
  fail_unless (g_file_test (three, G_FILE_TEST_EXISTS));
  GstElement *p = gst_bin_get_by_name (GST_BIN (h->element), "p");
  g_object_set (p, "max-files", 1, NULL);
  push_pattern (h, "..");
  fail_unless (g_file_test (one, G_FILE_TEST_EXISTS) && !g_file_test (two, G_FILE_TEST_EXISTS)
      && !g_file_test (three, G_FILE_TEST_EXISTS), "files past max-files=1 stayed");
  g_object_set (p, "max-files", 0, NULL);
  push_pattern (h, "..");
  fail_unless (g_file_test (four, G_FILE_TEST_EXISTS), "a file the run did not write went");
  gst_object_unref (p);
  gst_harness_teardown (h);
  /* lowered for the next run (a restart to free a full disk): the files of
   * records past it go too, the archive stays (helper-71) */
  g_strfreev (publish_pattern (path, "per-frame=true max-size=1 max-files=3", "....", &n));
  fail_unless (g_file_test (three, G_FILE_TEST_EXISTS));
  g_strfreev (publish_pattern (path, "per-frame=true max-size=1 max-files=2", "..", &n));
  fail_unless (g_file_test (two, G_FILE_TEST_EXISTS) && !g_file_test (three, G_FILE_TEST_EXISTS)
      && g_file_test (four, G_FILE_TEST_EXISTS), "after a restart with max-files=2");
  g_free (props);
  g_free (four);

  /* max-files=0: the file starts anew, with the record that crossed the size */
  remove_tree (out_dir);
  g_mkdir (out_dir, 0700);
  lines = publish_pattern (path, "per-frame=true max-size=1 max-files=0", "....", &n);
  fail_unless (n == 1 && strstr (lines[0], "\"frame\":3,") && !g_file_test (one,
          G_FILE_TEST_EXISTS), "max-files=0: %s", lines[0]);
  g_strfreev (lines);
  g_free (one);
  g_free (two);
  g_free (three);
  remove_tree (out_dir);
  g_free (path);
  g_free (out_dir);
}
GST_END_TEST;

/* The file moved away (logrotate without copytruncate) or removed (space
 * freed) while the stream goes on: the records after it go to a new file
 * at location (before, every one went on into the moved file, or into the
 * removed one, where no one could read it: helper-58); removed with its
 * folder, they are dropped with the warning until the folder is back. */
GST_START_TEST (test_file_moved_or_removed)
{
  gchar *out_dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
  gchar *path = g_build_filename (out_dir, "frames.jsonl", NULL);
  gchar *moved = g_strconcat (path, ".old", NULL);
  for (guint how = 0; how < 3; how++) {
    gchar *props = g_strdup_printf ("location=\"%s\" per-frame=true", path);
    GstHarness *h = publish_harness (props);
    g_free (props);
    GstBus *bus = harness_bus (h);
    push_pattern (h, "....");
    if (how == 0)
      fail_unless (g_rename (path, moved) == 0);
    else if (how == 1)
      fail_unless (g_unlink (path) == 0);
    else
      remove_tree (out_dir);
    push_pattern (h, "...");
    if (how == 2) {
      GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
      fail_unless (msg != NULL, "no warning for records that cannot be written");
      gst_message_unref (msg);
      fail_unless (g_mkdir (out_dir, 0700) == 0);
    }
    push_pattern (h, "..");
    fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
    harness_bus_teardown (h, bus);
    guint n;
    gchar **lines = read_lines (path, &n);
    /* the frames after the move (4-8), or after the folder came back (7-8) */
    const guint from = how == 2 ? 7 : 4;
    fail_unless_equals_int (n, 9 - from);
    for (guint i = 0; i < n; i++) {
      gchar *want = g_strdup_printf ("\"frame\":%u,", from + i);
      fail_unless (strstr (lines[i], want) != NULL, "how %u: line %u is %s", how, i, lines[i]);
      g_free (want);
    }
    g_strfreev (lines);
    if (how == 0) {
      lines = read_lines (moved, &n);
      fail_unless_equals_int (n, 4); /* what was written before it moved stays there */
      g_strfreev (lines);
    }
    remove_tree (out_dir);
    g_mkdir (out_dir, 0700);
  }
  remove_tree (out_dir);
  g_free (moved);
  g_free (path);
  g_free (out_dir);
}
GST_END_TEST;

GST_START_TEST (test_unwritable_and_full)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! decentanomaly "
      "model-location=\"%s\" ! decentpublish location=/nonexistent/dir/e.jsonl ! fakesink",
      tm.path);
  gchar *error = pipeline_error (desc);
  fail_unless (error && strstr (error, "Could not open the event file")
      && strstr (error, "/nonexistent/dir/e.jsonl"), "%s", error);
  g_free (error);
  g_free (desc);

  /* a full disk: one warning, every frame still goes through */
  GstHarness *h = publish_harness ("location=/dev/full per-frame=true");
  GstBus *bus = harness_bus (h);
  run_pattern (h, "......");
  GstMessage *w = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (w != NULL, "no warning for a full disk");
  gchar *text = message_text (w);
  fail_unless (strstr (text, "Could not write an event record") && strstr (text, "/dev/full"),
      "%s", text);
  g_free (text);
  gst_message_unref (w);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL, "warned twice");
  harness_bus_teardown (h, bus);
}
GST_END_TEST;

/* A disk that fills at the first record of a run (a file-size limit stands
 * in for it) cuts off that record only: the records of earlier runs in the
 * file are kept (the cut was taken from the stream's position, 0 before its
 * first write, and emptied the file). */
GST_START_TEST (test_full_disk_keeps_earlier_records)
{
  gchar *out_dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
  gchar *path = g_build_filename (out_dir, "e.jsonl", NULL);
  const gchar *earlier = "{\"type\":\"begin\",\"run\":1}\n{\"type\":\"end\",\"run\":1}\n";
  fail_unless (g_file_set_contents (path, earlier, -1, NULL));
  struct rlimit before, limited;
  fail_unless (getrlimit (RLIMIT_FSIZE, &before) == 0);
  limited = before;
  limited.rlim_cur = strlen (earlier) + 40; /* part of one record */
  signal (SIGXFSZ, SIG_IGN);                /* EFBIG instead of death */
  fail_unless (setrlimit (RLIMIT_FSIZE, &limited) == 0);
  gchar *props = g_strdup_printf ("location=\"%s\" per-frame=true", path);
  GstHarness *h = publish_harness (props);
  g_free (props);
  GstBus *bus = harness_bus (h);
  run_pattern (h, "...");
  GstMessage *w = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (w != NULL, "no warning for a full disk");
  gst_message_unref (w);
  harness_bus_teardown (h, bus);
  fail_unless (setrlimit (RLIMIT_FSIZE, &before) == 0);
  gchar *text = NULL;
  fail_unless (g_file_get_contents (path, &text, NULL, NULL));
  fail_unless_equals_string (text, earlier);
  g_free (text);
  g_unlink (path);
  g_rmdir (out_dir);
  g_free (path);
  g_free (out_dir);
}
GST_END_TEST;

/* A FIFO (or stdout piped on) has no position: every record goes through;
 * a FIFO nobody reads is an error at start, not a hang; a rotation that
 * cannot move the file is one warning, and max-size still holds. */
/* Pops every warning on bus, each of which must say a (and b, unless
 * NULL); how many there were. */
static guint
warnings_saying (GstBus *bus, const gchar *a, const gchar *b)
{
  guint n = 0;
  GstMessage *w;
  while ((w = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    gchar *text = message_text (w);
    fail_unless (strstr (text, a) && (!b || strstr (text, b)), "%s", text);
    g_free (text);
    gst_message_unref (w);
    n++;
  }
  return n;
}

GST_START_TEST (test_pipes_and_blocked_rotation)
{
  gchar *out_dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
  gchar *fifo = g_build_filename (out_dir, "events.fifo", NULL);
  fail_unless (mkfifo (fifo, 0600) == 0);
  int reader = g_open (fifo, O_RDONLY | O_NONBLOCK, 0); /* a reader, before the writer */
  fail_unless (reader >= 0);
  gchar *props = g_strdup_printf ("location=\"%s\" per-frame=true", fifo);
  GstHarness *h = publish_harness (props);
  run_pattern (h, ".....");
  gst_harness_teardown (h); /* closes the FIFO: the reader sees its end */
  GString *got = g_string_new (NULL);
  gchar buf[4096];
  gssize r;
  while ((r = read (reader, buf, sizeof buf)) > 0)
    g_string_append_len (got, buf, r);
  close (reader);
  gchar **lines = g_strsplit (g_strchomp (got->str), "\n", -1);
  fail_unless_equals_int (g_strv_length (lines), 5);
  fail_unless (strstr (lines[4], "\"frame\":4,"), "%s", lines[4]);
  g_strfreev (lines);
  g_string_free (got, TRUE);

  /* a reader that goes away: a warning, and the process lives on (SIGPIPE
   * killed it, with no word) */
  reader = g_open (fifo, O_RDONLY | O_NONBLOCK, 0);
  fail_unless (reader >= 0);
  h = publish_harness (props);
  GstBus *pipe_bus = harness_bus (h);
  fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, 0)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  close (reader);
  for (guint i = 1; i < 4; i++) {
    fail_unless_equals_int (gst_harness_push (h, gray_frame (FALSE, i)), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
  }
  GstMessage *broken = gst_bus_pop_filtered (pipe_bus, GST_MESSAGE_WARNING);
  gchar *broken_text = broken ? message_text (broken) : NULL;
  fail_unless (broken_text && strstr (broken_text, "Could not write an event record")
      && strstr (broken_text, g_strerror (EPIPE)), "%s", broken_text);
  g_free (broken_text);
  gst_message_unref (broken);
  harness_bus_teardown (h, pipe_bus);
  g_free (props);

  /* nobody reads it now */
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! decentanomaly "
      "model-location=\"%s\" ! decentpublish location=\"%s\" ! fakesink", tm.path, fifo);
  gchar *error = pipeline_error (desc);
  fail_unless (error && strstr (error, "a FIFO with no reader"), "%s", error);
  g_free (error);
  g_free (desc);

  /* location.1 is a folder: the file cannot be rotated */
  gchar *path = g_build_filename (out_dir, "e.jsonl", NULL), *one = g_strconcat (path, ".1", NULL);
  fail_unless (g_mkdir (one, 0700) == 0);
  props = g_strdup_printf ("location=\"%s\" per-frame=true max-size=1 max-files=1", path);
  h = publish_harness (props);
  GstBus *bus = harness_bus (h);
  run_pattern (h, "......");
  fail_unless_equals_int (warnings_saying (bus, "Could not rotate the event file",
      "starts anew"), 1);
  harness_bus_teardown (h, bus);
  guint n;
  lines = read_lines (path, &n);
  fail_unless (n == 1 && strstr (lines[0], "\"frame\":5,"), "%u lines: %s", n, lines[0]);
  g_strfreev (lines);
  g_free (props);
  /* an older rotated file that cannot move on (a full folder in its way):
   * still one warning, though the newest rotation works each time */
  gchar *two = g_strconcat (path, ".2", NULL), *in_two = g_build_filename (two, "x", NULL);
  g_unlink (path);
  fail_unless (g_rmdir (one) == 0 && g_mkdir_with_parents (in_two, 0700) == 0);
  props = g_strdup_printf ("location=\"%s\" per-frame=true max-size=1 max-files=2", path);
  h = publish_harness (props);
  bus = harness_bus (h);
  run_pattern (h, "......");
  fail_unless_equals_int (warnings_saying (bus, "replaced by the newer file", NULL), 1);
  harness_bus_teardown (h, bus);
  /* neither can move (the newest file starts anew, its records lost): that
   * is what is said (helper-67: only the older one was named) */
  gchar *in_one = g_build_filename (one, "x", NULL);
  g_unlink (path);
  g_unlink (one); /* (a file the rotations above left) */
  fail_unless (g_mkdir_with_parents (in_one, 0700) == 0);
  h = publish_harness (props);
  bus = harness_bus (h);
  run_pattern (h, "......");
  gchar *expected = g_strdup_printf ("renaming %s to %s:", path, one);
  fail_unless_equals_int (warnings_saying (bus, expected, "starts anew"), 1);
  harness_bus_teardown (h, bus);
  g_free (expected);
  g_free (in_one);
  g_free (props);
  g_free (in_two);
  g_free (two);
  g_free (one);
  g_free (path);
  g_free (fifo);
  remove_tree (out_dir);
  g_free (out_dir);
}
GST_END_TEST;

/* A location that holds something else is refused, and left as it was:
 * the model file named by a slip of tab completion had records appended
 * and could not be loaded again (helper-67).  A text file (a log) is
 * appended to (helper-68: a redirected /dev/stdout holds gst-launch's
 * lines; test_examples.sh runs that).  A file in /proc or /sys is refused
 * (helper-69: records went into the host name). */
GST_START_TEST (test_refuses_a_file_of_something_else)
{
  gchar *out_dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
  gchar *model = g_build_filename (out_dir, "m.dcnt", NULL);
  gchar *picture = g_build_filename (out_dir, "frame.jpg", NULL);
  gchar *notes = g_build_filename (out_dir, "notes.log", NULL);
  gchar *bytes = NULL, *after = NULL;
  gsize len = 0, len_after = 0;
  fail_unless (g_file_get_contents (tm.path, &bytes, &len, NULL));
  fail_unless (g_file_set_contents (model, bytes, len, NULL));
  static const gchar jpeg[] = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01";
  fail_unless (g_file_set_contents (picture, jpeg, sizeof jpeg - 1, NULL));
  fail_unless (g_file_set_contents (notes, "camera 4: moved\n", -1, NULL));
  /* (/proc/self/comm: a kernel setting that harms nothing if written) */
  const gchar *files[] = { model, picture, notes, "/proc/self/comm" };
  const gchar *said[] = { "is a gst-decent model file", "is a file that is not text", NULL,
    "is a kernel setting in /proc or /sys" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=3 ! decentanomaly "
        "model-location=\"%s\" ! decentpublish per-frame=true location=\"%s\" ! fakesink",
        tm.path, files[i]);
    gchar *error = pipeline_error (desc);
    if (said[i])
      fail_unless (error && strstr (error, "The event file holds something else")
          && strstr (error, said[i]), "%s", error);
    else
      fail_unless (error == NULL, "%s", error);
    g_free (error);
    g_free (desc);
  }
  fail_unless (g_file_get_contents (model, &after, &len_after, NULL));
  fail_unless (len_after == len && memcmp (after, bytes, len) == 0, "the model was changed");
  g_free (after);
  fail_unless (g_file_get_contents (picture, &after, &len_after, NULL));
  fail_unless (len_after == sizeof jpeg - 1, "the picture was changed");
  g_free (after);
  fail_unless (g_file_get_contents (notes, &after, NULL, NULL));
  fail_unless (g_str_has_prefix (after, "camera 4: moved\n{\"type\":\"frame\""), "%s", after);
  g_free (after);
  g_free (bytes);
  g_free (notes);
  g_free (picture);
  g_free (model);
  remove_tree (out_dir);
  g_free (out_dir);
}
GST_END_TEST;

/* A file of something else put at location while decentpublish runs (a
 * model decent-train wrote there) is not appended to, said once; once it is
 * gone, records go to a new file again (helper-69: records were appended to
 * the model, which could not be loaded again). */
GST_START_TEST (test_replaced_by_something_else)
{
  gchar *out_dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
  gchar *path = g_build_filename (out_dir, "a.jsonl", NULL);
  gchar *copy = g_build_filename (out_dir, "m.dcnt", NULL);
  gchar *bytes = NULL, *after = NULL;
  gsize len = 0, len_after = 0;
  fail_unless (g_file_get_contents (tm.path, &bytes, &len, NULL));
  fail_unless (g_file_set_contents (copy, bytes, len, NULL));
  gchar *props = g_strdup_printf ("location=\"%s\" per-frame=true", path);
  GstHarness *h = publish_harness (props);
  GstBus *bus = harness_bus (h);
  push_pattern (h, "..");
  fail_unless (g_rename (copy, path) == 0); /* the model written over the log */
  push_pattern (h, "...");
  fail_unless (g_file_get_contents (path, &after, &len_after, NULL));
  fail_unless (len_after == len && memcmp (after, bytes, len) == 0, "the model was appended to");
  g_free (after);
  fail_unless_equals_int (warnings_saying (bus, "The event file was replaced by something else",
      "a.jsonl is now a gst-decent model file"), 1);
  fail_unless (g_unlink (path) == 0);
  push_pattern (h, "..");
  guint n = 0;
  gchar **lines = read_lines (path, &n);
  fail_unless_equals_int (n, 2);
  g_strfreev (lines);
  harness_bus_teardown (h, bus);
  g_free (props);
  g_free (bytes);
  g_unlink (path);
  g_free (copy);
  g_free (path);
  remove_tree (out_dir);
  g_free (out_dir);
}
GST_END_TEST;

/* location and the mqtt-* settings are read at start: a change while
 * started is said, once a change (it was read back as set and did nothing:
 * helper-67); the same value again, or a setting read live, says nothing */
GST_START_TEST (test_settings_read_at_start_said)
{
  gchar *out_dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
  gchar *path = g_build_filename (out_dir, "a.jsonl", NULL);
  gchar *other = g_build_filename (out_dir, "b.jsonl", NULL);
  gchar *props = g_strdup_printf ("name=publish location=\"%s\" per-frame=true", path);
  GstHarness *h = publish_harness (props);
  GstBus *bus = harness_bus (h);
  push_pattern (h, "..");
  GstElement *publish = gst_bin_get_by_name (GST_BIN (h->element), "publish");
  fail_unless (publish != NULL);
  g_object_set (publish, "location", path, "per-frame", TRUE, "max-size", (guint64) 1 << 30,
      "mqtt-flush-timeout", 10u, NULL);
  /* the camera records already name: the element's, by name, empty or none */
  g_object_set (publish, "camera", "publish", NULL);
  g_object_set (publish, "camera", "", NULL);
  g_object_set (publish, "camera", NULL, NULL);
  fail_if (gst_bus_have_pending (bus), "a warning for a value already set or read live");
  g_object_set (publish, "location", other, "mqtt-port", 1884, "camera", "renamed", NULL);
  guint warnings = 0;
  GstMessage *w;
  const gchar *names[] = { "location takes effect", "mqtt-port takes effect",
    "camera takes effect" };
  while ((w = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    gchar *text = message_text (w);
    fail_unless (warnings < 3 && strstr (text, names[warnings])
        && strstr (text, "when the element starts again"), "%s", text);
    g_free (text);
    gst_message_unref (w);
    warnings++;
  }
  fail_unless_equals_int (warnings, 3);
  push_pattern (h, ".");
  fail_unless (g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (other, G_FILE_TEST_EXISTS));
  /* the record after the rename names the camera it started with */
  gchar *text = NULL;
  fail_unless (g_file_get_contents (path, &text, NULL, NULL));
  fail_unless (strstr (text, "\"camera\":\"publish\"") && !strstr (text, "renamed"), "%s", text);
  g_free (text);
  gst_object_unref (publish);
  harness_bus_teardown (h, bus);
  g_free (props);
  g_free (other);
  g_free (path);
  remove_tree (out_dir);
  g_free (out_dir);
}
GST_END_TEST;

/* A pipe already full: the writer's end of fifo made full (the reader
 * reads nothing), the reader's descriptor returned. */
static int
full_fifo (const gchar *fifo)
{
  int reader = g_open (fifo, O_RDONLY | O_NONBLOCK, 0);
  fail_unless (reader >= 0);
  fcntl (reader, F_SETPIPE_SZ, 4096); /* (the smallest: fewer bytes to fill) */
  int filler = g_open (fifo, O_WRONLY | O_NONBLOCK, 0);
  fail_unless (filler >= 0);
  static const gchar line[] = "{\"filler\":true}\n";
  while (write (filler, line, sizeof line - 1) > 0)
    ;
  fail_unless (errno == EAGAIN, "%s", g_strerror (errno));
  close (filler);
  return reader;
}

typedef struct {
  GstHarness *h;
  gint64 took_us;
  gint tid; /* the pushing thread's, once it runs */
} TimedPush;

static gpointer
push_one (gpointer data)
{
  TimedPush *p = data;
  g_atomic_int_set (&p->tid, (gint) syscall (SYS_gettid));
  const gint64 t0 = g_get_monotonic_time ();
  gst_harness_push (p->h, gray_frame (FALSE, 0));
  p->took_us = g_get_monotonic_time () - t0;
  return NULL;
}

/* Whether thread tid of this process is in poll(2) now (its syscall file
 * starts with the call's number). */
static gboolean
in_poll (gint tid)
{
  gchar *path = g_strdup_printf ("/proc/self/task/%d/syscall", tid), *text = NULL;
  gboolean polling = FALSE;
  if (g_file_get_contents (path, &text, NULL, NULL)) {
    const long nr = strtol (text, NULL, 10);
#ifdef SYS_poll
    polling = nr == SYS_poll;
#endif
    polling = polling || nr == SYS_ppoll;
  }
  g_free (text);
  g_free (path);
  return polling;
}

/* A reader that stops reading (less, a stopped terminal) held the video
 * up at the full pipe, and a stop never ended (helper-67).  A record now
 * waits for room for the pipe wait (DECENT_PIPE_WAIT_MS here), once a run:
 * then records that do not fit are dropped at once, with one warning, also
 * when the pipe fills again later (a reader reading in bursts held every
 * burst up for a second, helper-68); a stop ends a wait at once. */
GST_START_TEST (test_stalled_pipe_reader)
{
  gchar *out_dir = g_dir_make_tmp ("decent-test-XXXXXX", NULL);
  gchar *fifo = g_build_filename (out_dir, "events.fifo", NULL);
  fail_unless (mkfifo (fifo, 0600) == 0);
  int reader = full_fifo (fifo);
  gchar *props = g_strdup_printf ("location=\"%s\" per-frame=true", fifo);
  g_setenv ("DECENT_PIPE_WAIT_MS", "300", TRUE);
  GstHarness *h = publish_harness (props);
  GstBus *bus = harness_bus (h);
  const gint64 t0 = g_get_monotonic_time ();
  push_pattern (h, "....................");
  const gdouble took = (g_get_monotonic_time () - t0) / 1e6;
  fail_unless (took > 0.25 && took < 10.0, "20 frames took %.2f s (one wait of 0.3 s)", took);
  GstMessage *w = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  gchar *text = w ? message_text (w) : NULL;
  fail_unless (text && strstr (text, "its reader has not read for 300 ms"), "%s", text);
  g_free (text);
  gst_message_unref (w);
  fail_if (gst_bus_have_pending (bus), "more than one warning");
  /* the reader reads again: the records after go through, whole lines */
  gchar buf[65536];
  while (read (reader, buf, sizeof buf) > 0)
    ;
  push_pattern (h, "...");
  GString *got = g_string_new (NULL);
  gssize r;
  while ((r = read (reader, buf, sizeof buf)) > 0)
    g_string_append_len (got, buf, r);
  gchar **lines = g_strsplit (g_strchomp (got->str), "\n", -1);
  fail_unless_equals_int (g_strv_length (lines), 3);
  for (guint i = 0; i < 3; i++) {
    gchar *frame = g_strdup_printf ("\"frame\":%u,", 20 + i);
    fail_unless (lines[i][0] == '{' && strstr (lines[i], frame), "%s", lines[i]);
    g_free (frame);
  }
  g_strfreev (lines);
  g_string_free (got, TRUE);
  /* full again: not waited for, nor said, again */
  int filler = g_open (fifo, O_WRONLY | O_NONBLOCK, 0);
  fail_unless (filler >= 0);
  while (write (filler, "{}\n", 3) > 0)
    ;
  close (filler);
  push_pattern (h, ".....");
  fail_if (gst_bus_have_pending (bus), "the reader's stall was said again");
  harness_bus_teardown (h, bus);
  close (reader);

  /* a stop while a record waits for room (a wait of 10 s): it ends at once,
   * with no warning */
  reader = full_fifo (fifo);
  g_setenv ("DECENT_PIPE_WAIT_MS", "10000", TRUE);
  h = publish_harness (props);
  bus = harness_bus (h);
  TimedPush push = { h, 0, 0 };
  GThread *pusher = g_thread_new ("push", push_one, &push);
  gboolean waiting = FALSE;
  for (guint i = 0; i < 500 && !waiting; i++) { /* (up to 5 s to reach the wait) */
    g_usleep (10000);
    waiting = g_atomic_int_get (&push.tid) && in_poll (g_atomic_int_get (&push.tid));
  }
  fail_unless (waiting, "the record never waited for room");
  gst_element_set_state (h->element, GST_STATE_NULL);
  g_thread_join (pusher);
  fail_unless (push.took_us < 5000000, "the stop waited %.2f s", push.took_us / 1e6);
  fail_if (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) != NULL, "a warning at the stop");
  harness_bus_teardown (h, bus);
  g_unsetenv ("DECENT_PIPE_WAIT_MS");
  close (reader);
  g_free (props);
  g_unlink (fifo);
  g_free (fifo);
  remove_tree (out_dir);
  g_free (out_dir);
}
GST_END_TEST;

/* MQTT settings that cannot work are refused at start with what is wrong
 * (no broker is needed: nothing connects) */
GST_START_TEST (test_mqtt_settings_refused)
{
  gchar *long_id = g_strnfill (70000, 'x');
  /* cut after 80 characters, not bytes, and escaped: "%.80s" split an é in
   * two and GStreamer dropped the whole reason as not UTF-8 (helper-67) */
  GString *accented = g_string_new ("mqtt-client-id=\"a");
  for (guint k = 0; k < 50; k++)
    g_string_append (accented, "\xc3\xa9");
  g_string_append (accented, "\x01\"");
  const gchar *cases[][2] = {
    { long_id, "is not a valid MQTT client id" },
    { "mqtt-ca-file=/nonexistent/ca.pem", "mqtt-ca-file /nonexistent/ca.pem: No such file" },
    { "mqtt-ca-file=\"%s\" mqtt-cert-file=\"%s\"", "mqtt-cert-file and mqtt-key-file "
      "together" }, /* regular files (the model's), a certificate without its key */
    { "camera=\"a\nb\"", "set mqtt-topic, or another camera" }, /* said where it came from */
    { "mqtt-topic=$SYS/x", "belong to the broker" },
    { "mqtt-ca-file=\"%s\"", "not a PEM file" }, /* a regular file (the model) */
    { "camera=\"gate #1\"", "no + or #" },
    { accented->str, "\\x01\" is not a valid MQTT client id" },
    /* a control sequence in a name is shown escaped, not sent to the terminal */
    { "camera=\"cam\x1b[2J\"", "\"decent/cam\\x1b[2J\" cannot be an MQTT topic" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *props = i == 0   ? g_strdup_printf ("mqtt-client-id=%s", cases[i][0])
                   : i == 2 || i == 5 ? g_strdup_printf (cases[i][0], tm.path, tm.path)
                            : g_strdup (cases[i][0]);
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! decentanomaly "
        "model-location=\"%s\" ! decentpublish mqtt-host=127.0.0.1 mqtt-port=9 %s ! fakesink",
        tm.path, props);
    gchar *error = pipeline_error (desc);
    fail_unless (error && strstr (error, "Could not start the MQTT client")
        && strstr (error, cases[i][1]) && g_utf8_validate (error, -1, NULL)
        && !strchr (error, '\x1b'), "case %u: %.300s", i, error);
    /* where the topic came from, only when the topic made from camera is
     * what is wrong (helper-59: it came with every refusal) */
    const gboolean from_camera = strstr (cases[i][0], "camera=") != NULL;
    fail_unless (from_camera == (strstr (error, "set mqtt-topic") != NULL), "case %u: %.300s",
        i, error);
    g_free (error);
    g_free (desc);
    g_free (props);
  }
  /* a key protected by a passphrase: OpenSSL asked for it on the terminal
   * from the network thread, and a stop waited for the answer forever
   * (helper-80); refused at start, in both PEM forms */
  gchar *pem = g_build_filename (tm.dir, "cert.pem", NULL);
  fail_unless (g_file_set_contents (pem, "-----BEGIN CERTIFICATE-----\nMA==\n"
      "-----END CERTIFICATE-----\n", -1, NULL));
  const gchar *keys[] = { "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMA==\n",
    "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n" };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++) {
    gchar *key = g_build_filename (tm.dir, "key.pem", NULL);
    fail_unless (g_file_set_contents (key, keys[i], -1, NULL));
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! decentanomaly "
        "model-location=\"%s\" ! decentpublish mqtt-host=127.0.0.1 mqtt-port=9 "
        "mqtt-ca-file=\"%s\" mqtt-cert-file=\"%s\" mqtt-key-file=\"%s\" ! fakesink", tm.path,
        pem, pem, key);
    gchar *error = pipeline_error (desc);
    fail_unless (error && strstr (error, "mqtt-key-file")
        && strstr (error, "protected by a passphrase"), "key %u: %.300s", i, error);
    g_free (error);
    g_free (desc);
    g_free (key);
  }
  g_free (pem);
  g_string_free (accented, TRUE);
  g_free (long_id);
}
GST_END_TEST;

static Suite *
decentpublish_suite (void)
{
  Suite *s = suite_create ("decentpublish");
  TCase *tc = suite_add_case (s, "general", 120, test_model_setup, test_model_teardown);
  tcase_add_test (tc, test_events_as_json_lines);
  tcase_add_test (tc, test_region_records);
  tcase_add_test (tc, test_two_elements_stopped);
  tcase_add_test (tc, test_same_name_in_two_bins);
  tcase_add_test (tc, test_path_kept_through_a_rename);
  tcase_add_test (tc, test_uncalibrated_threshold_null);
  tcase_add_test (tc, test_per_frame_and_rotation);
  tcase_add_test (tc, test_records_paired_across_flushes);
  tcase_add_test (tc, test_many_open_events_keep_the_newest);
  tcase_add_test (tc, test_file_moved_or_removed);
  tcase_add_test (tc, test_unwritable_and_full);
  tcase_add_test (tc, test_full_disk_keeps_earlier_records);
  tcase_add_test (tc, test_pipes_and_blocked_rotation);
  tcase_add_test (tc, test_stalled_pipe_reader);
  tcase_add_test (tc, test_refuses_a_file_of_something_else);
  tcase_add_test (tc, test_replaced_by_something_else);
  tcase_add_test (tc, test_settings_read_at_start_said);
  tcase_add_test (tc, test_mqtt_settings_refused);
  return s;
}

GST_CHECK_MAIN (decentpublish);
