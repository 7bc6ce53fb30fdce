/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* example-common.c — the command line and bus loop of the examples. */
#include "example-common.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Ctrl-C, or SIGTERM (docker stop, systemd, kill): the first ends the
 * stream (an EOS, so that the files are finished and the summary printed),
 * a second one quits at once. */
static volatile sig_atomic_t interrupts, first_signal, started;
static char early_text[256]; /* "PROGRAM: interrupted before the stream started\n" */

/* (SIGINT and SIGTERM are blocked while it runs: sa_mask) */
static void
on_interrupt (int sig)
{
  if (!interrupts)
    first_signal = sig; /* before the count that the main loop reads */
  /* before the pipeline runs (filesrc opening a FIFO that nobody writes
   * blocks the start) there is no stream to end: quit */
  if (++interrupts > 1 || !started) {
    if (!started) {
      const ssize_t w = write (STDERR_FILENO, early_text, strlen (early_text));
      (void) w; /* a failed write: nothing more a signal handler can do */
    }
    _exit (128 + sig);
  }
}

/* The signal that ended the run early, 0 when none did. */
static int
interrupted_by (void)
{
  return interrupts > 0 ? first_signal : 0;
}

int
example_exit_status (int rc)
{
  /* finished cleanly, but not to the end of the input: as a shell counts
   * the signal */
  return rc == 0 && interrupted_by () ? 128 + interrupted_by () : rc;
}

gboolean
example_parse_options (int *argc, char ***argv, const gchar *summary, GOptionEntry *entries,
    gchar **model, gchar **input)
{
  /* a line as it is printed, also into a pipe or the journal (helper-80:
   * record-events' event lines came only at its exit) */
  setvbuf (stdout, NULL, _IOLBF, 0);
  GError *err = NULL;
  GOptionContext *ctx = g_option_context_new (summary);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  gboolean ok = g_option_context_parse (ctx, argc, argv, &err) && *model && *input;
  if (!ok)
    g_printerr ("%s: %s\n", g_get_prgname (),
        err ? err->message : "--model and --input are required (see --help)");
  g_clear_error (&err);
  g_option_context_free (ctx);
  return ok;
}

int
example_run (GstElement *pipe, const gchar *program,
    void (*on_message) (GstMessage *msg, gpointer user), gpointer user)
{
  GstBus *bus = gst_element_get_bus (pipe);
  struct sigaction sa = { 0 };
  g_snprintf (early_text, sizeof early_text, "%s: interrupted before the stream started\n",
      program);
  sa.sa_handler = on_interrupt;
  sigemptyset (&sa.sa_mask);
  sigaddset (&sa.sa_mask, SIGINT);
  sigaddset (&sa.sa_mask, SIGTERM);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  gboolean eos_sent = FALSE;
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  started = 1;
  int rc = 0;
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, 100 * GST_MSECOND);
    if (interrupts && !eos_sent) { /* (messages may come without a pause) */
      g_printerr ("%s: interrupted (%s): finishing the files with what was scored (%s again "
          "quits at once)\n", program, first_signal == SIGTERM ? "SIGTERM" : "Ctrl-C",
          first_signal == SIGTERM ? "a signal" : "Ctrl-C");
      gst_element_send_event (pipe, gst_event_new_eos ());
      eos_sent = TRUE;
    }
    if (!msg)
      continue;
    if (on_message)
      on_message (msg, user);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      GError *err;
      gchar *dbg;
      gst_message_parse_warning (msg, &err, &dbg);
      g_printerr ("%s: warning: %s\n%s%s", program, err->message, dbg ? dbg : "",
          dbg ? "\n" : "");
      g_error_free (err);
      g_free (dbg);
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err;
      gchar *dbg;
      gst_message_parse_error (msg, &err, &dbg);
      g_printerr ("%s: %s\n%s\n", program, err->message, dbg ? dbg : "");
      g_error_free (err);
      g_free (dbg);
      rc = 1;
    }
    gboolean done = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS || rc;
    gst_message_unref (msg);
    if (done)
      break;
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  return rc;
}

gboolean
example_set_path (GstElement *pipe, const gchar *name, const gchar *property, const gchar *path)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipe), name);
  if (!e) {
    g_printerr ("%s: the pipeline has no element \"%s\" to write %s to (do not rename "
        "elements with --set name=...)\n", g_get_prgname (), name, path);
    return FALSE;
  }
  g_object_set (e, property, path, NULL);
  gst_object_unref (e);
  return TRUE;
}

gboolean
example_same_file (const gchar *a, const gchar *b)
{
  if (!a || !b)
    return FALSE;
  struct stat sa, sb;
  if (stat (a, &sa) == 0 && stat (b, &sb) == 0)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  gchar *ca = g_canonicalize_filename (a, NULL), *cb = g_canonicalize_filename (b, NULL);
  const gboolean same = g_str_equal (ca, cb);
  g_free (ca);
  g_free (cb);
  return same;
}

gchar *
example_location_pattern (const gchar *dir, const gchar *file_format)
{
  GString *s = g_string_new (NULL);
  for (const gchar *c = dir; *c; c++) {
    if (*c == '%')
      g_string_append_c (s, '%');
    g_string_append_c (s, *c);
  }
  g_string_append_printf (s, "/%s", file_format);
  return g_string_free (s, FALSE);
}

gboolean
example_set_property (GstElement *pipe, const gchar *name, const gchar *assignment)
{
  const gchar *eq = strchr (assignment, '=');
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipe), name);
  gchar *prop = eq ? g_strndup (assignment, (gsize) (eq - assignment)) : NULL;
  GParamSpec *spec = e && prop ? g_object_class_find_property (G_OBJECT_GET_CLASS (e), prop)
                               : NULL;
  GValue v = G_VALUE_INIT;
  gboolean ok = FALSE;
  if (!eq || eq == assignment || !eq[1])
    g_printerr ("%s: --set wants NAME=VALUE, not \"%s\"\n", g_get_prgname (), assignment);
  else if (!e)
    g_printerr ("%s: the pipeline has no element \"%s\"\n", g_get_prgname (), name);
  else if (!spec || !(spec->flags & G_PARAM_WRITABLE) || g_str_equal (prop, "name"))
    g_printerr ("%s: --set %s: %s has no property \"%s\" that can be set\n", g_get_prgname (),
        assignment, G_OBJECT_TYPE_NAME (e), prop);
  else if (g_str_has_suffix (spec->name, "model-location")) /* (model_location too) */
    /* the programs check their outputs against --model and --second-model
     * (a model named here was written over by --csv: helper-80) */
    g_printerr ("%s: --set %s: give the model with --model%s\n", g_get_prgname (), assignment,
        g_str_equal (spec->name, "model-location") ? "" : " and --second-model");
  else {
    g_value_init (&v, spec->value_type);
    if (!gst_value_deserialize (&v, eq + 1)) {
      g_printerr ("%s: --set %s: \"%s\" is not a value of %s\n", g_get_prgname (), assignment,
          eq + 1, prop);
    } else if (g_param_value_validate (spec, &v)) { /* it had to be changed: out of range */
      GstElementFactory *factory = gst_element_get_factory (e);
      g_printerr ("%s: --set %s: \"%s\" is out of the range of %s (see gst-inspect-1.0 %s)\n",
          g_get_prgname (), assignment, eq + 1, prop, factory ? GST_OBJECT_NAME (factory)
                                            : G_OBJECT_TYPE_NAME (e));
    } else {
      g_object_set_property (G_OBJECT (e), prop, &v);
      ok = TRUE;
    }
  }
  if (G_IS_VALUE (&v))
    g_value_unset (&v);
  g_free (prop);
  if (e)
    gst_object_unref (e);
  return ok;
}

GstClockTime
example_segment_time (GstPad *pad, GstClockTime t, gboolean running)
{
  GstEvent *ev = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  if (ev && GST_CLOCK_TIME_IS_VALID (t)) {
    const GstSegment *seg;
    gst_event_parse_segment (ev, &seg);
    if (seg->format == GST_FORMAT_TIME)
      t = running ? gst_segment_to_running_time (seg, GST_FORMAT_TIME, t)
                  : gst_segment_to_stream_time (seg, GST_FORMAT_TIME, t);
  }
  if (ev)
    gst_event_unref (ev);
  return t;
}
