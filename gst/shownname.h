/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shownname.h — how a file name appears in messages. */
#ifndef DECENT_SHOWN_NAME_H
#define DECENT_SHOWN_NAME_H

#include <glib.h>

/* path as messages show it (caller frees): GLib's display name (valid
 * UTF-8), with every control character written as an escape (\n, \x1b), so
 * that a file name cannot forge a line of the log or drive the terminal
 * that prints it.  NULL shows as "". */
gchar *decent_shown_name (const gchar *path);

/* A setting (a topic, a camera name, a client id) as messages show it
 * (caller frees): escaped as decent_shown_name escapes a name (bytes that
 * are not UTF-8 too), and cut after max_chars characters with "…", so that
 * a 64 KB topic is not echoed whole. */
gchar *decent_shown_setting (const gchar *value, guint max_chars);

#endif
