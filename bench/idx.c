/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* idx.c — gzip IDX reader: big-endian magic 0x0000080N (N dimensions), the
 * dimensions, then unsigned bytes. */
#include "idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int
read_be32 (gzFile f, uint32_t *v)
{
  uint8_t b[4];
  if (gzread (f, b, 4) != 4)
    return -1;
  *v = (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | b[3];
  return 0;
}

int
idx_read (const char *path, IdxData *out, char *err, size_t errlen)
{
  memset (out, 0, sizeof *out);
  gzFile f = gzopen (path, "rb");
  if (!f) {
    snprintf (err, errlen, "cannot open %s: %s", path, strerror (errno));
    return -1;
  }
  uint32_t magic, dims[3] = { 0, 1, 1 };
  if (read_be32 (f, &magic) < 0 || (magic & 0xFFFFFF00u) != 0x800u || (magic & 0xFF) < 1
      || (magic & 0xFF) > 3) {
    snprintf (err, errlen, "%s is not an IDX file of unsigned bytes", path);
    gzclose (f);
    return -1;
  }
  int nd = (int) (magic & 0xFF);
  for (int i = 0; i < nd; i++)
    if (read_be32 (f, &dims[i]) < 0 || dims[i] == 0 || dims[i] > 1000000) {
      snprintf (err, errlen, "%s has a bad dimension", path);
      gzclose (f);
      return -1;
    }
  size_t bytes = (size_t) dims[0] * dims[1] * dims[2];
  out->data = malloc (bytes);
  if (!out->data || gzread (f, out->data, (unsigned) bytes) != (int) bytes) {
    snprintf (err, errlen, "%s is truncated or unreadable", path);
    gzclose (f);
    idx_free (out);
    return -1;
  }
  gzclose (f);
  out->count = (int) dims[0];
  out->rows = (int) dims[1];
  out->cols = (int) dims[2];
  return 0;
}

void
idx_free (IdxData *d)
{
  free (d->data);
  d->data = NULL;
}
