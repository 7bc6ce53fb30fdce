/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* idx.h — reading gzip-compressed IDX files (MNIST / Fashion-MNIST). */
#ifndef DECENT_IDX_H
#define DECENT_IDX_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint8_t *data;   /* count * rows * cols bytes (images) or count bytes (labels) */
  int count, rows, cols;
} IdxData;

/* Returns 0, or -1 with a message naming the file in err. */
int idx_read (const char *path, IdxData *out, char *err, size_t errlen);
void idx_free (IdxData *d);

#endif
