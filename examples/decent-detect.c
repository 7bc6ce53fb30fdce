/* decent-detect — scores a video file with decentanomaly from a given
 * second on, writes the heatmap overlay as a video and every flagged frame
 * as a JPEG, and prints a summary read from the element's bus messages.
 *
 *   decent-detect --model M --input FILE [--start S] [--overlay OUT.avi]
 *                 [--flagged-dir DIR]
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
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  guint64 frames, flagged, events;
  gdouble max_score, threshold;
} Summary;

static void
count_message (GstMessage *msg, Summary *s)
{
  const GstStructure *st = gst_message_get_structure (msg);
  if (gst_structure_has_name (st, "decentanomaly")) {
    gboolean flagged = FALSE;
    gdouble score = 0;
    gst_structure_get_boolean (st, "flagged", &flagged);
    gst_structure_get_double (st, "score", &score);
    gst_structure_get_double (st, "threshold", &s->threshold);
    s->frames++;
    s->flagged += flagged;
    s->max_score = MAX (s->max_score, score);
  } else if (gst_structure_has_name (st, "decentanomaly-event")
      && g_str_equal (gst_structure_get_string (st, "type"), "begin")) {
    s->events++;
  }
}

static GstPadProbeReturn
drop_before_start (GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime start = *(GstClockTime *) user;
  if (GST_BUFFER_PTS_IS_VALID (buf) && GST_BUFFER_PTS (buf) < start)
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}

int
main (int argc, char **argv)
{
  gchar *model = NULL, *input = NULL, *overlay = NULL, *flagged_dir = NULL;
  gdouble start = 0;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model, "Model file (from decent-train)", "FILE" },
    { "input", 0, 0, G_OPTION_ARG_FILENAME, &input, "Video file to score", "FILE" },
    { "start", 0, 0, G_OPTION_ARG_DOUBLE, &start, "Start at this second", "S" },
    { "overlay", 0, 0, G_OPTION_ARG_FILENAME, &overlay, "Write the overlay video here (AVI)",
      "FILE" },
    { "flagged-dir", 0, 0, G_OPTION_ARG_FILENAME, &flagged_dir, "Write flagged frames here",
      "DIR" },
    { NULL } };
  GError *err = NULL;
  GOptionContext *ctx = g_option_context_new ("- score a video with decentanomaly");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err) || !model || !input) {
    g_printerr ("%s\n", err ? err->message : "--model and --input are required (see --help)");
    return 2;
  }
  g_option_context_free (ctx);

  GString *desc = g_string_new (NULL);
  g_string_append_printf (desc, "filesrc location=\"%s\" ! decodebin ! videoconvert ! "
      "tee name=t t. ! queue ! decentanomaly name=scorer model-location=\"%s\" mode=overlay "
      "message-mode=all ! videoconvert ! ", input, model);
  if (overlay)
    g_string_append_printf (desc, "avenc_mpeg4 bitrate=4000000 ! avimux ! filesink "
        "location=\"%s\"", overlay);
  else
    g_string_append (desc, "fakesink");
  if (flagged_dir) {
    g_mkdir_with_parents (flagged_dir, 0755);
    g_string_append_printf (desc, " t. ! queue ! decentanomaly model-location=\"%s\" "
        "flagged-only=true post-messages=false ! videoconvert ! jpegenc ! "
        "multifilesink async=false location=\"%s/frame-%%05d.jpg\"", model, flagged_dir);
  }
  GstElement *pipe = gst_parse_launch (desc->str, &err);
  g_string_free (desc, TRUE);
  if (!pipe) {
    g_printerr ("decent-detect: %s\n", err->message);
    return 1;
  }
  GstBus *bus = gst_element_get_bus (pipe);
  GstElement *scorer = gst_bin_get_by_name (GST_BIN (pipe), "scorer");
  Summary sum = { 0 };
  int rc = 0;

  /* frames before --start are dropped before the tee (decoding is cheap;
   * a seek would leave avimux without a segment) */
  GstElement *tee = gst_bin_get_by_name (GST_BIN (pipe), "t");
  GstPad *tee_sink = gst_element_get_static_pad (tee, "sink");
  GstClockTime start_ts = (GstClockTime) (start * GST_SECOND);
  gst_pad_add_probe (tee_sink, GST_PAD_PROBE_TYPE_BUFFER, drop_before_start, &start_ts, NULL);
  gst_object_unref (tee_sink);
  gst_object_unref (tee);

  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, GST_CLOCK_TIME_NONE);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && GST_MESSAGE_SRC (msg) == GST_OBJECT (scorer))
      count_message (msg, &sum);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      gchar *dbg;
      gst_message_parse_error (msg, &err, &dbg);
      g_printerr ("decent-detect: %s\n%s\n", err->message, dbg ? dbg : "");
      g_free (dbg);
      rc = 1;
    }
    gboolean done = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS || rc;
    gst_message_unref (msg);
    if (done)
      break;
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (scorer);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  if (rc == 0) {
    printf ("scored %" G_GUINT64_FORMAT " frames from %.1f s: %" G_GUINT64_FORMAT
            " flagged (%.1f %%) in %" G_GUINT64_FORMAT " events; threshold %.5f, "
            "highest score %.5f\n", sum.frames, start, sum.flagged,
        sum.frames ? 100.0 * sum.flagged / sum.frames : 0.0, sum.events, sum.threshold,
        sum.max_score);
  }
  return rc;
}
