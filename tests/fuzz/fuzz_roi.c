/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the roi property parser and clipping. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "roi.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = malloc (size + 1);
  memcpy (text, data, size);
  text[size] = '\0';
  DecentRoi roi, clipped;
  gchar *why = NULL;
  if (decent_roi_parse (text, &roi, &why)) {
    if (decent_roi_clip (&roi, 1920, 1080, &clipped)
        && (clipped.x + clipped.width > 1920 || clipped.y + clipped.height > 1080
            || clipped.width < 1 || clipped.height < 1))
      abort (); /* a clipped region must lie inside the frame */
  } else if (!why) {
    abort (); /* a refusal must say why */
  }
  g_free (why);
  free (text);
  return 0;
}
