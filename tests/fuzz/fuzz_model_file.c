/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the model-file parser (formats 1 and 2, sections
 * included; the checksums are bypassed in fuzz builds) must reject or accept
 * any bytes without crashing, leaking or tripping a sanitizer; an accepted
 * file scores, its still gate, if any, gates, and its companion, if any,
 * builds again and scores. */
#include <stdlib.h>

#include "model_internal.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  DecentError err;
  DecentModel *m = decent_model_parse ("fuzz.dcnt", data, size, DECENT_DEVICE_CPU, &err);
  if (m) {
    /* an accepted file must also score */
    DecentConfig cfg;
    decent_model_get_config (m, &cfg);
    size_t bytes = (size_t) cfg.width * cfg.height * cfg.channels;
    if (bytes <= 64 * 64 * 3) {
      uint8_t *frame = calloc (1, bytes);
      float *map = calloc ((size_t) cfg.width * cfg.height, sizeof (float));
      float score;
      decent_model_score (m, frame, 1, &score, map, &err);
      DecentStillGate *g = decent_still_gate_new (m, &err);
      /* paced faster than any file's frames (1e-4 s): every frame but few held */
      if (g && size % 2)
        decent_still_gate_set_pace (g, size % 4 == 1 ? 1e-6 : 100.0, &err);
      for (int i = 0; g && i < 3; i++) {
        frame[0] = (uint8_t) (i * 90);
        decent_still_gate_push (g, frame, map, &score, &err);
      }
      decent_still_gate_free (g);
      free (map);
      free (frame);
    }
    /* a companion accepted with the file must build again (and score) */
    DecentModel *c = decent_model_has_companion (m)
        ? decent_model_companion_new (m, DECENT_DEVICE_CPU, &err) : NULL;
    if (decent_model_has_companion (m) && !c)
      abort ();
    if (c) {
      decent_model_get_config (c, &cfg);
      size_t cb = (size_t) cfg.width * cfg.height * cfg.channels;
      if (cb <= 64 * 64 * 3) {
        uint8_t *frame = calloc (1, cb);
        float score;
        decent_model_score (c, frame, 1, &score, NULL, &err);
        free (frame);
      }
      decent_model_free (c);
    }
    decent_model_free (m);
  }
  return 0;
}
