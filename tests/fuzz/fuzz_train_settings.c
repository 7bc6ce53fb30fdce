/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: decent-train's settings as the engine takes them.  Any
 * bytes become a configuration (small geometries, every float field raw,
 * NaN and infinities included); a configuration that validates must build,
 * train a step, learn normal errors, score in every mode and calibrate with
 * any quantile and sigmas, without crashing, leaking or tripping a
 * sanitizer; one that does not validate must be refused with a reason. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decent.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct {
  const uint8_t *p;
  size_t n;
} Input;

static uint32_t
take_u32 (Input *in)
{
  uint32_t v = 0;
  for (int i = 0; i < 4; i++)
    v = v << 8 | (in->n ? (in->n--, *in->p++) : 0);
  return v;
}

static float
take_f32 (Input *in)
{
  uint32_t v = take_u32 (in);
  float f;
  memcpy (&f, &v, 4);
  return f;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  Input in = { data, size };
  DecentConfig cfg;
  /* small geometries: each run builds a model */
  const int w = 4 + (int) (take_u32 (&in) % 37), h = 4 + (int) (take_u32 (&in) % 37);
  decent_config_init (&cfg, w, h, take_u32 (&in) & 1 ? 3 : 1);
  cfg.device = DECENT_DEVICE_CPU;
  cfg.base_channels = (int) (take_u32 (&in) % 9) - 1;  /* -1..7 */
  cfg.max_channels = (int) (take_u32 (&in) % 17) - 1;  /* -1..15 */
  cfg.latent_side = (int) (take_u32 (&in) % 50) - 2;   /* -2..47 */
  cfg.loss = (DecentLoss) (take_u32 (&in) % 16);
  cfg.lambda = take_f32 (&in);
  cfg.learning_rate = take_f32 (&in);
  cfg.beta1 = take_f32 (&in);
  cfg.beta2 = take_f32 (&in);
  cfg.local_area = take_f32 (&in);
  cfg.local_contrast = take_f32 (&in);
  cfg.batch_size = (int) (take_u32 (&in) % 70000) - 2;
  cfg.seed = take_u32 (&in);
  const float quantile = take_f32 (&in), sigmas = take_f32 (&in);

  DecentError err;
  err.message[0] = '\0';
  if (decent_config_validate (&cfg, &err) < 0) {
    if (!err.message[0])
      abort (); /* a refusal always says why */
    return 0;
  }
  DecentModel *m = decent_model_new (&cfg, &err);
  if (!m)
    return 0; /* e.g. out of memory: said, not crashed */
  const size_t fb = (size_t) w * h * cfg.channels;
  uint8_t *frames = malloc (2 * fb);
  for (size_t i = 0; i < 2 * fb; i++)
    frames[i] = in.n ? in.p[i % in.n] : (uint8_t) i;
  DecentLossTerms t;
  decent_model_train_step (m, frames, 2, &t, &err); /* may diverge: a message */
  decent_model_learn_normal (m, frames, 2, &err);
  float scores[2];
  for (int mode = 0; mode < DECENT_SCORE_MODES + 1; mode++)
    decent_model_score_mode (m, (DecentScoreMode) mode, frames, 2, scores, NULL, &err);
  decent_model_calibrate_all (m, frames, 2, quantile, sigmas, &err);
  char *text = decent_model_describe_string (m);
  free (text);
  free (frames);
  decent_model_free (m);
  return 0;
}
