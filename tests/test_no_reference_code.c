/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CPU backend runs optimised oneDNN kernels, never oneDNN's reference
 * (naive loop) implementations, for the paper's models and common sizes,
 * in training and in scoring one frame. */
#include "model_internal.h"
#include "testutil.h"

#include <string.h>

static void
check_geometry (int w, int h, int c, int batch)
{
  DecentConfig cfg;
  DecentError err = { { 0 } };
  decent_config_init (&cfg, w, h, c);
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *m = decent_model_new (&cfg, &err);
  REQUIRE (m, "%s", err.message);
  size_t fb = (size_t) w * h * c;
  uint8_t *frames = calloc (fb, (size_t) batch);
  REQUIRE (decent_model_train_step (m, frames, batch, NULL, &err) == 0, "%s", err.message);
  const char *impl = decent_model_implementation (m);
  CHECK (impl[0] && !strstr (impl, "ref:"), "%dx%dx%d training uses: %s", w, h, c,
      impl);
  float score;
  REQUIRE (decent_model_score (m, frames, 1, &score, NULL, &err) == 0, "%s", err.message);
  impl = decent_model_implementation (m);
  CHECK (impl[0] && !strstr (impl, "ref:"), "%dx%dx%d scoring uses: %s", w, h, c,
      impl);
  free (frames);
  decent_model_free (m);
}

int
main (void)
{
  check_geometry (28, 28, 1, 8);
  check_geometry (64, 64, 3, 4);
  check_geometry (96, 64, 1, 4);
  check_geometry (128, 128, 3, 2);
  return tu_finish ("no_reference_code");
}
