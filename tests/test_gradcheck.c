/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finite-difference check of every parameter tensor's gradient: for each
 * layer type (conv, transposed conv, batch norm scale and shift, biases
 * before tanh), through LeakyReLU and tanh, for loss (13) and loss (9). */
#include "arch.h"
#include "model_internal.h"
#include "testutil.h"

#include <string.h>

#ifndef STEP
#define STEP 1e-3 /* larger steps cross the curvature of batch norm over tiny batches */
#endif

typedef struct {
  const char *what;
  int stage;
  size_t offset, count;
} Tensor;

static int
list_tensors (const DecentArch *a, Tensor *t)
{
  int n = 0;
  size_t o = 0;
  for (int i = 0; i < a->n_stages; i++) {
    const DecentStage *s = &a->stages[i];
    const char *kind = s->kind == DECENT_STAGE_CONV ? "conv weights" : "deconv weights";
    t[n++] = (Tensor) { kind, i, o, decent_arch_weights_count (s) };
    o += decent_arch_weights_count (s);
    if (s->has_bias) {
      t[n++] = (Tensor) { "bias", i, o, (size_t) s->out_c };
      o += s->out_c;
    }
    if (s->act == DECENT_ACT_BN_LEAKY) {
      t[n++] = (Tensor) { "batchnorm gamma", i, o, (size_t) s->out_c };
      o += s->out_c;
      t[n++] = (Tensor) { "batchnorm beta", i, o, (size_t) s->out_c };
      o += s->out_c;
    }
  }
  return n;
}

static double
loss_at (DecentModel *m, const float *x, int n, const float *p)
{
  DecentLossTerms terms;
  DecentError err = { { 0 } };
  REQUIRE (decent_model_gradients_f32 (m, x, n, p, &terms, NULL, &err) == 0, "%s", err.message);
  return terms.total;
}

/* Compares the directional derivative along dir with the central difference. */
static void
check_direction (DecentModel *m, const float *x, int n, const float *p0, const float *g,
    const Tensor *t, const float *dir, const char *label, const char *case_name)
{
  size_t np = decent_arch_param_count (&m->arch);
  float *p = malloc (np * sizeof (float));
  double analytic = 0, dnorm = 0, gnorm = 0;
  for (size_t k = 0; k < t->count; k++) {
    analytic += (double) g[t->offset + k] * dir[k];
    dnorm += (double) dir[k] * dir[k];
    gnorm += (double) g[t->offset + k] * g[t->offset + k];
  }
  dnorm = sqrt (dnorm);
  gnorm = sqrt (gnorm);
  const double h = STEP / dnorm;
  memcpy (p, p0, np * sizeof (float));
  for (size_t k = 0; k < t->count; k++)
    p[t->offset + k] = p0[t->offset + k] + (float) (h * dir[k]);
  double lp = loss_at (m, x, n, p);
  for (size_t k = 0; k < t->count; k++)
    p[t->offset + k] = p0[t->offset + k] - (float) (h * dir[k]);
  double lm = loss_at (m, x, n, p);
  double numeric = (lp - lm) / (2 * h);
  double tol = 0.03 * gnorm * dnorm + 1e-5 * dnorm;
  CHECK (fabs (numeric - analytic) <= tol,
      "%s: stage %d %s along %s: analytic %.6g, finite difference %.6g (tolerance %.3g)",
      case_name, t->stage, t->what, label, analytic, numeric, tol);
  CHECK (gnorm > 0, "%s: stage %d %s has an all-zero gradient", case_name, t->stage, t->what);
  free (p);
}

static void
run_case (const char *case_name, int w, int h, int c, DecentLoss loss, float lambda)
{
  DecentConfig cfg;
  DecentError err = { { 0 } };
  decent_config_init (&cfg, w, h, c);
  cfg.base_channels = 4;
  cfg.max_channels = 8;
  cfg.init_std = 0.3f;
  cfg.loss = loss;
  cfg.lambda = lambda;
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *m = decent_model_new (&cfg, &err);
  REQUIRE (m, "model: %s", err.message);

  uint64_t s = 42;
  const int n = 4;
  const size_t pix = (size_t) w * h * c;
  float *x = malloc (n * pix * sizeof (float));
  for (size_t i = 0; i < n * pix; i++)
    x[i] = (float) (2 * tu_uniform (&s) - 1);
  const int d = decent_arch_latent_dim (&m->arch);
  for (int j = 0; j < d; j++) /* a non-zero centre, so that (9) differs from (13) */
    m->centre[j] = loss == DECENT_LOSS_CENTRE ? (float) (tu_uniform (&s) - 0.5) : 0.0f;

  size_t np = decent_arch_param_count (&m->arch);
  float *p0, *b0;
  REQUIRE (decent_model_fetch_params (m, &p0, &b0, &err) == 0, "%s", err.message);
  float *g = malloc (np * sizeof (float));
  DecentLossTerms terms;
  REQUIRE (decent_model_gradients_f32 (m, x, n, NULL, &terms, g, &err) == 0, "%s", err.message);
  CHECK (isfinite (terms.total) && terms.reconstruction > 0, "%s: loss %g", case_name, terms.total);
  CHECK (fabs (terms.total - (terms.reconstruction + lambda * terms.decentral)) < 1e-6,
      "%s: total %.9g is not reconstruction + lambda * decentral", case_name, terms.total);

  Tensor t[4 * DECENT_MAX_STAGES];
  int nt = list_tensors (&m->arch, t);
  for (int i = 0; i < nt; i++) {
    float *dir = malloc (t[i].count * sizeof (float));
    for (size_t k = 0; k < t[i].count; k++)
      dir[k] = g[t[i].offset + k];
    check_direction (m, x, n, p0, g, &t[i], dir, "the gradient", case_name);
    for (size_t k = 0; k < t[i].count; k++)
      dir[k] = (float) (2 * tu_uniform (&s) - 1);
    check_direction (m, x, n, p0, g, &t[i], dir, "a random direction", case_name);
    free (dir);
  }
  /* a few single entries of the first and last weights, among those with at
   * least half the tensor's largest gradient: a finite difference of the
   * fp32 forward carries rounding of about 1e-7 of the loss over the step,
   * which would swamp an entry with a tiny gradient */
  for (int which = 0; which < 2; which++) {
    Tensor one = t[which ? nt - 2 : 0];
    float gmax = 0;
    for (size_t k = 0; k < one.count; k++)
      gmax = fmaxf (gmax, fabsf (g[one.offset + k]));
    for (int k = 0; k < 3; k++) {
      size_t idx;
      do
        idx = one.offset + (size_t) (tu_rand (&s) % one.count);
      while (fabsf (g[idx]) < 0.5f * gmax);
      Tensor single = { one.what, one.stage, idx, 1 };
      float dir = 1.0f;
      check_direction (m, x, n, p0, g, &single, &dir, "one entry", case_name);
    }
  }
  free (p0);
  free (b0);
  free (g);
  free (x);
  decent_model_free (m);
}

int
main (void)
{
  /* small rule: 5x5 kernels, two layers per side */
  run_case ("loss 13, 16x16x1", 16, 16, 1, DECENT_LOSS_DECENTRALIZATION, 0.5f);
  run_case ("loss 9, 16x16x1", 16, 16, 1, DECENT_LOSS_CENTRE, 0.5f);
  run_case ("plain autoencoder, 12x16x3", 12, 16, 3, DECENT_LOSS_DECENTRALIZATION, 0.0f);
  /* large rule: 4x4 kernels down to 1x1, six layers per side */
  run_case ("loss 13, 64x64x3", 64, 64, 3, DECENT_LOSS_DECENTRALIZATION, 0.5f);
  return tu_finish ("gradcheck");
}
