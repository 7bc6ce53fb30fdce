/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* error.c — decent_fail, the one way engine code reports a failure.  Kept
 * apart from the model code so that backends depend on it without
 * depending on the model. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages name a file and then say what is wrong with it.  One that does
 * not fit (a path longer than PATH_MAX) loses its middle, so that the
 * reason at its end survives. */
int
decent_fail (DecentError *err, const char *fmt, ...)
{
  if (!err)
    return -1;
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (NULL, 0, fmt, ap);
  va_end (ap);
  char *full = n >= 0 ? malloc ((size_t) n + 1) : NULL;
  va_start (ap, fmt);
  if (!full) { /* out of memory: what fits */
    vsnprintf (err->message, sizeof err->message, fmt, ap);
    va_end (ap);
    return -1;
  }
  vsnprintf (full, (size_t) n + 1, fmt, ap);
  va_end (ap);
  const size_t len = (size_t) n, cap = sizeof err->message;
  if (len < cap) {
    memcpy (err->message, full, len + 1);
  } else {
    static const char cut[] = "\xe2\x80\xa6"; /* U+2026, where the middle was */
    size_t head = 512, from = len - (cap - 1 - head - (sizeof cut - 1));
    /* whole UTF-8 sequences on both sides of the cut */
    while (head > 0 && ((unsigned char) full[head] & 0xC0) == 0x80)
      head--;
    while (from < len && ((unsigned char) full[from] & 0xC0) == 0x80)
      from++;
    memcpy (err->message, full, head);
    memcpy (err->message + head, cut, sizeof cut - 1);
    memcpy (err->message + head + sizeof cut - 1, full + from, len - from + 1);
  }
  free (full);
  return -1;
}
