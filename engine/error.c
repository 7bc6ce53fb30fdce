/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* error.c — decent_fail, the one way engine code reports a failure.  Kept
 * apart from the model code so that backends depend on it without
 * depending on the model. */
#include "error.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at s (of n bytes), 0 if none. */
static size_t
utf8_sequence (const unsigned char *s, size_t n)
{
  if (s[0] < 0x80)
    return 1;
  size_t len = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
             : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
  if (!len || len > n)
    return 0;
  for (size_t i = 1; i < len; i++)
    if ((s[i] & 0xC0) != 0x80)
      return 0;
  /* no overlong forms, surrogates or code points past U+10FFFF */
  if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F)
      || (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
    return 0;
  return len;
}

/* Writes c, a control character, as a visible escape at o; returns its
 * length. */
static size_t
escape_control (char *o, unsigned c)
{
  const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
  if (named) {
    memcpy (o, named, 2);
    return 2;
  }
  return (size_t) sprintf (o, "\\x%02x", c);
}

/* Whether the 3-byte sequence s is a line or paragraph separator (U+2028,
 * U+2029) or a bidirectional override or isolate (U+202A..U+202E,
 * U+2066..U+2069): they break or reorder a line as a viewer shows it. */
static int
reorders_lines (const unsigned char *s)
{
  return s[0] == 0xE2 && ((s[1] == 0x80 && s[2] >= 0xA8 && s[2] <= 0xAE)
                             || (s[1] == 0x81 && s[2] >= 0xA6 && s[2] <= 0xA9));
}

/* A path's bytes may be in the locale's encoding; U+0085 shows as \x85. */
char *
decent_printable_text (const char *text, size_t len)
{
  /* the longest output per input byte: "\x1b" for one byte */
  char *out = len <= (SIZE_MAX - 1) / 4 ? malloc (4 * len + 1) : NULL, *o = out;
  if (!out)
    return NULL;
  for (size_t i = 0; i < len;) {
    const unsigned char *s = (const unsigned char *) text + i;
    const size_t k = utf8_sequence (s, len - i);
    if (k == 1 && (s[0] < 0x20 || s[0] == 0x7f)) {
      o += escape_control (o, s[0]);
    } else if (k == 1 && s[0] == '\\') { /* so that "\n" in a name is not a newline's */
      memcpy (o, "\\\\", 2);
      o += 2;
    } else if (k == 2 && s[0] == 0xC2 && s[1] < 0xA0) {
      o += escape_control (o, s[1]); /* U+0080..U+009F */
    } else if (k == 3 && reorders_lines (s)) {
      const unsigned c = ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
      o += sprintf (o, "\\u%04x", c);
    } else if (k) {
      memcpy (o, s, k);
      o += k;
    } else {
      memcpy (o, "\xef\xbf\xbd", 3);
      o += 3;
    }
    i += k ? k : 1;
  }
  *o = '\0';
  return out;
}

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
  char *valid = decent_printable_text (full, (size_t) n);
  if (valid) {
    free (full);
    full = valid;
  }
  const size_t len = strlen (full), cap = sizeof err->message;
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
