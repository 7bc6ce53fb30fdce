/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_collapse.c — decent_model_encode and decent_model_measure_collapse on
 * models whose answer is known: a plain autoencoder (lambda 0) trained on
 * discs at random places reconstructs them where they are, so its
 * reconstructions spread across inputs like the inputs; a model whose
 * encoder ends in a constant (DECENT_FAULT_COLLAPSE) has one saturated code
 * and draws one picture.  Also the codes' range, that chunking
 * does not change them, the counts against a brute-force count, and
 * refused inputs. */
#include "decent.h"
#include "testutil.h"

#include <string.h>

enum { W = 16, H = 16, N = 160 };

static DecentModel *
trained (float lambda, const uint8_t *frames, int epochs)
{
  DecentConfig cfg;
  DecentError err;
  decent_config_init (&cfg, W, H, 1);
  cfg.device = DECENT_DEVICE_CPU;
  cfg.lambda = lambda;
  cfg.batch_size = 16;
  cfg.base_channels = 16;
  cfg.max_channels = 64;
  cfg.learning_rate = 1e-3f;
  DecentModel *m = decent_model_new (&cfg, &err);
  REQUIRE (m != NULL, "%s", err.message);
  REQUIRE (decent_model_train (m, frames, N, epochs, NULL, NULL, &err) == 0, "%s", err.message);
  return m;
}

/* distinct sign patterns by comparing every pair: the slow, obvious count */
static int
brute_patterns (const float *codes, int n, int d)
{
  int distinct = 0;
  for (int i = 0; i < n; i++) {
    int seen = 0;
    for (int j = 0; j < i && !seen; j++) {
      int same = 1;
      for (int k = 0; k < d && same; k++)
        same = (codes[(size_t) i * d + k] > 0) == (codes[(size_t) j * d + k] > 0);
      seen = same;
    }
    distinct += !seen;
  }
  return distinct;
}

int
main (void)
{
  uint64_t s = 7;
  uint8_t *frames = malloc ((size_t) N * W * H);
  for (int i = 0; i < N; i++)
    tu_make_image (frames + (size_t) i * W * H, W, H, 0, &s);

  DecentModel *plain = trained (0.0f, frames, 20);
  /* the encoder's last layer made constant after every step (fault
   * injection, docs/errors.md): every code is the same saturated vector */
  setenv ("DECENT_FAULT_COLLAPSE", "1", 1);
  DecentModel *collapsed = trained (0.0f, frames, 2);
  unsetenv ("DECENT_FAULT_COLLAPSE");
  DecentCollapse a, b;
  DecentError err;
  REQUIRE (decent_model_measure_collapse (plain, frames, N, &a, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_measure_collapse (collapsed, frames, N, &b, &err) == 0, "%s",
      err.message);
  printf ("plain: inputs %.2f recon %.2f ratio %.3f saturated %.3f patterns %d of %d (d %d)\n",
      a.input_spread, a.recon_spread, a.spread_ratio, a.saturated, a.sign_patterns, a.frames,
      a.latent_dim);
  printf ("collapsed: inputs %.2f recon %.2f ratio %.3f saturated %.3f patterns %d\n",
      b.input_spread, b.recon_spread, b.spread_ratio, b.saturated, b.sign_patterns);
  CHECK (a.frames == N && a.latent_dim > 0, "frames %d d %d", a.frames, a.latent_dim);
  CHECK (fabs (a.input_spread - b.input_spread) < 1e-9 && a.input_spread > 10,
      "the inputs' spread is the data's: %g vs %g", a.input_spread, b.input_spread);
  CHECK (a.spread_ratio > DECENT_COLLAPSED_SPREAD, "plain autoencoder follows its inputs: %g",
      a.spread_ratio);
  CHECK (b.spread_ratio >= 0 && b.spread_ratio < 1e-3, "one code, one picture: ratio %g",
      b.spread_ratio);
  CHECK (b.saturated == 1.0 && a.saturated < 0.5, "saturated codes %g vs plain %g", b.saturated,
      a.saturated);
  CHECK (a.sign_patterns == N && b.sign_patterns == 1, "sign patterns: plain %d, collapsed %d",
      a.sign_patterns, b.sign_patterns);

  /* the codes: in (-1, 1), the counts match a brute-force count, and
   * encoding in one call (chunked inside) equals encoding one frame alone */
  const int d = a.latent_dim;
  float *codes = malloc ((size_t) N * d * sizeof (float)), one[4096];
  REQUIRE (d <= 4096, "d %d", d);
  REQUIRE (decent_model_encode (plain, frames, N, codes, &err) == 0, "%s", err.message);
  int in_range = 1, saturated = 0;
  for (size_t k = 0; k < (size_t) N * d; k++) {
    in_range &= codes[k] > -1.0f && codes[k] < 1.0f;
    saturated += fabsf (codes[k]) > 0.99f;
  }
  CHECK (in_range, "codes outside (-1, 1)");
  CHECK (fabs ((double) saturated / ((double) N * d) - a.saturated) < 1e-12, "saturated %d",
      saturated);
  CHECK (brute_patterns (codes, N, d) == a.sign_patterns, "patterns %d vs brute force %d",
      a.sign_patterns, brute_patterns (codes, N, d));
  REQUIRE (decent_model_encode (plain, frames + (size_t) 100 * W * H, 1, one, &err) == 0, "%s",
      err.message);
  CHECK (memcmp (one, codes + (size_t) 100 * d, d * sizeof (float)) == 0,
      "frame 100 alone gives the code it had in a batch of %d", N);

  /* identical frames: no spread to compare with, one pattern */
  uint8_t *same = malloc ((size_t) 4 * W * H);
  for (int i = 0; i < 4; i++)
    memcpy (same + (size_t) i * W * H, frames, W * H);
  REQUIRE (decent_model_measure_collapse (plain, same, 4, &a, &err) == 0, "%s", err.message);
  CHECK (a.input_spread == 0 && a.spread_ratio == -1 && a.sign_patterns == 1,
      "identical frames: spread %g ratio %g patterns %d", a.input_spread, a.spread_ratio,
      a.sign_patterns);

  /* refused: with a reason */
  err.message[0] = '\0';
  CHECK (decent_model_measure_collapse (plain, frames, 1, &a, &err) < 0
             && strstr (err.message, "at least 2"), "one frame: %s", err.message);
  CHECK (decent_model_measure_collapse (NULL, frames, N, &a, &err) < 0, "no model");
  CHECK (decent_model_measure_collapse (plain, NULL, N, &a, &err) < 0, "no frames");
  CHECK (decent_model_measure_collapse (plain, frames, N, NULL, &err) < 0, "no result");
  CHECK (decent_model_encode (plain, frames, 0, codes, &err) < 0, "no frames to encode");
  CHECK (decent_model_encode (plain, frames, N, NULL, &err) < 0, "no room for codes");

  free (same);
  free (codes);
  free (frames);
  decent_model_free (plain);
  decent_model_free (collapsed);
  return tu_finish ("collapse");
}
