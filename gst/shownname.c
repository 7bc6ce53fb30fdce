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
