/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shownname.c — how a file name appears in messages. */
#include "shownname.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

gchar *
decent_shown_name (const gchar *path)
{
  gchar *display = g_filename_display_name (path ? path : "");
  char *printable = decent_printable_text (display, strlen (display));
  if (!printable) /* out of memory */
    return display;
  gchar *shown = g_strdup (printable);
  free (printable);
  g_free (display);
  return shown;
}

gchar *
decent_shown_setting (const gchar *value, guint max_chars)
{
  gchar *shown = decent_shown_name (value); /* (not UTF-8: escaped as a name's bytes are) */
  if (g_utf8_strlen (shown, -1) <= (glong) max_chars)
    return shown;
  gchar *head = g_utf8_substring (shown, 0, max_chars);
  g_free (shown);
  gchar *cut = g_strconcat (head, "…", NULL);
  g_free (head);
  return cut;
}
