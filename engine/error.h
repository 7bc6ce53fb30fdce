/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* error.h — how engine code fails: a message in DecentError, and -1. */
#ifndef DECENT_ERROR_H
#define DECENT_ERROR_H

#include "decent.h"

/* Writes a message into err (may be NULL) and returns -1.  A message longer
 * than DecentError holds loses its middle, so that the reason at its end
 * survives. */
int decent_fail (DecentError *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* text (len bytes) as printable UTF-8 (caller frees; NULL when out of
 * memory): bytes that are not UTF-8 as U+FFFD, control characters (C0, DEL,
 * C1) as escapes such as \n or \x1b, line separators and bidirectional
 * overrides as \u2028 or \u202e, and a backslash as \\, so that a file name
 * in a message can neither forge nor reorder a line of the log nor drive
 * the terminal that prints it. */
char *decent_printable_text (const char *text, size_t len);

#endif
