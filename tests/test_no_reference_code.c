/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CPU backend runs optimised oneDNN kernels, never oneDNN's reference
 * (naive loop) implementations, for the paper's models and common sizes,
 * in training and in scoring one frame. */
#include "model_internal.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static DecentModel *
cpu_model (int w, int h, int c, float lambda)
{
  DecentConfig cfg;
  DecentError err = { { 0 } };
  decent_config_init (&cfg, w, h, c);
  cfg.device = DECENT_DEVICE_CPU;
  cfg.lambda = lambda;
  DecentModel *m = decent_model_new (&cfg, &err);
  REQUIRE (m, "%s", err.message);
  return m;
}

static void
check_geometry (int w, int h, int c, int batch)
{
  DecentError err = { { 0 } };
  DecentModel *m = cpu_model (w, h, c, 0.01f);
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

/* Gradients (allocated here, *np of them) and scores of one model under a
 * choice of oneDNN code. */
static float *
run_once (int w, int h, int c, int batch, const char *skip, size_t *np, float *scores,
    char *impl, size_t impl_size)
{
  if (skip)
    setenv ("DECENT_ONEDNN_SKIP", skip, 1);
  else
    unsetenv ("DECENT_ONEDNN_SKIP");
  DecentError err = { { 0 } };
  DecentModel *m = cpu_model (w, h, c, 0.5f);
  *np = decent_arch_param_count (&m->arch);
  float *grads = malloc (*np * sizeof (float));
  const size_t pix = (size_t) w * h * c;
  float *x = malloc (pix * batch * sizeof (float));
  uint64_t s = 7;
  for (size_t i = 0; i < pix * batch; i++)
    x[i] = (float) (2 * tu_uniform (&s) - 1);
  DecentLossTerms terms;
  REQUIRE (decent_model_gradients_f32 (m, x, batch, NULL, &terms, grads, &err) == 0, "%s",
      err.message);
  snprintf (impl, impl_size, "%s", decent_model_implementation (m));
  uint8_t *frames = malloc (pix * batch);
  for (size_t i = 0; i < pix * batch; i++)
    frames[i] = (uint8_t) (tu_rand (&s) & 255);
  REQUIRE (decent_model_score (m, frames, batch, scores, NULL, &err) == 0, "%s", err.message);
  free (frames);
  free (x);
  decent_model_free (m);
  unsetenv ("DECENT_ONEDNN_SKIP");
  return grads;
}

/* Where oneDNN's jit code refuses a shape (machines without AVX-512), a pass
 * runs on its GEMM code in plain layout, with reorders around it: with the
 * jit code skipped everywhere, every pass takes that path, and must give
 * what the jit code gives. */
static void
check_gemm_path (int w, int h, int c, int batch)
{
  float s0[8], s1[8];
  char impl0[4096], impl1[4096];
  size_t np, np1;
  REQUIRE (batch <= 8, "at most 8 images, not %d", batch);
  float *g0 = run_once (w, h, c, batch, NULL, &np, s0, impl0, sizeof impl0);
  float *g1 = run_once (w, h, c, batch, "jit:", &np1, s1, impl1, sizeof impl1);
  CHECK (strstr (impl1, "gemm") && !strstr (impl1, "jit:") && !strstr (impl1, "ref:"),
      "%dx%dx%d with jit code skipped uses: %s", w, h, c, impl1);
  double gmax = 0, dmax = 0;
  for (size_t k = 0; k < np; k++) {
    gmax = fmax (gmax, fabs (g0[k]));
    dmax = fmax (dmax, fabs (g0[k] - g1[k]));
  }
  CHECK (gmax > 0 && dmax <= 1e-4 * gmax, "%dx%dx%d: gradients differ by %g (largest %g)", w,
      h, c, dmax, gmax);
  for (int i = 0; i < batch; i++)
    CHECK (fabs (s0[i] - s1[i]) <= 1e-5 * fabs (s0[i]) + 1e-7,
        "%dx%dx%d: score %d is %.8g with jit code, %.8g without", w, h, c, i, s0[i], s1[i]);
  free (g0);
  free (g1);
}

int
main (void)
{
  check_geometry (28, 28, 1, 8);
  check_geometry (64, 64, 3, 4);
  check_geometry (96, 64, 1, 4);
  check_geometry (128, 128, 3, 2);
  check_gemm_path (28, 28, 1, 4);
  check_gemm_path (128, 96, 3, 4);
  return tu_finish ("no_reference_code");
}
