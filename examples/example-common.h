/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* example-common.h — what decent-detect and record-events share: their
 * command line and their bus loop. */
#ifndef DECENT_EXAMPLE_COMMON_H
#define DECENT_EXAMPLE_COMMON_H

#include <gst/gst.h>

/* Parses the command line (entries and GStreamer's options); FALSE, said
 * on stderr, when it fails or --model or --input is missing. */
gboolean example_parse_options (int *argc, char ***argv, const gchar *summary,
    GOptionEntry *entries, gchar **model, gchar **input);

/* Plays pipe until EOS or an error, handing every message to on_message
 * (may be NULL) first, then stops it; prints an error as "program: message"
 * and its debug text, and warnings as "program: warning: message".  A
 * Ctrl-C or a SIGTERM sends the pipeline an EOS, so that its files are
 * finished (a second one quits at once, exit status 128 + the signal, as
 * does the first while the pipeline starts: a FIFO nobody writes blocks).  Returns 0 at EOS, 1 after
 * an error. */
int example_run (GstElement *pipe, const gchar *program,
    void (*on_message) (GstMessage *msg, gpointer user), gpointer user);

/* The program's exit status after example_run returned rc: 128 + the
 * signal (SIGINT: a Ctrl-C, or SIGTERM) when one ended a run that otherwise
 * succeeded, else rc. */
int example_exit_status (int rc);

/* Sets property (a file name) of the element called name in pipe: a path
 * set this way needs no quoting in a pipeline description.  FALSE, said on
 * stderr, when pipe has no such element (a --set name=... renamed it). */
gboolean example_set_path (GstElement *pipe, const gchar *name, const gchar *property,
    const gchar *path);

/* Sets "NAME=VALUE" (a --set) on the element called name in pipe, as
 * gst-launch would parse the value, but never as pipeline text: a value
 * with '!', spaces or quotes is a value.  FALSE, said on stderr, for an
 * unknown or read-only property, a value that does not parse or is out of
 * the property's range, or "name". */
gboolean example_set_property (GstElement *pipe, const gchar *name, const gchar *assignment);

/* Whether a and b (either may be NULL) name one file: the same file where
 * both exist (links, "./"), the same path otherwise.  An output that is an
 * input would be emptied before it is read. */
gboolean example_same_file (const gchar *a, const gchar *b);

/* A buffer time t that reached pad, as running time (running) or stream
 * time in the pad's time segment, as the event messages and the CSV give
 * times: a file's timestamps may begin at 100 s (MPEG-TS, an edit list),
 * its stream and running time at 0.  t as it is without a time segment;
 * GST_CLOCK_TIME_NONE outside the segment. */
GstClockTime example_segment_time (GstPad *pad, GstClockTime t, gboolean running);

/* dir "/" file_format as a printf-style location (multifilesink,
 * splitmuxsink): every '%' of dir doubled, so that a folder named
 * "a%s" is written to, not read as a format.  Caller frees. */
gchar *example_location_pattern (const gchar *dir, const gchar *file_format);

#endif
