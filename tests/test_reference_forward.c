/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network's arithmetic pinned down by a plain reference: a forward pass
 * written from the definitions (cross-correlation with zero padding; the
 * transposed convolution scatters input pixel (ih, iw) to output (ih*s - pad
 * + kh, iw*s - pad + kw) with weights (out, in, kh, kw), no kernel flip;
 * BatchNorm with running statistics; LeakyReLU 0.2; bias then tanh) must
 * give the backend's reconstructions.  The CUDA backend relies on exactly
 * this convention (a transposed convolution is cuDNN's backward-data with
 * the filter (in, out, kh, kw)), so this test fixes it where every machine
 * can check it.  Geometries cover both padding rules, one-sided padding and
 * odd sides. */
#include "arch.h"
#include "model_internal.h"
#include "testutil.h"

#include <string.h>

static void
reference_stage (const DecentStage *s, const float *in, float *out, const float **p,
    const float **b, float eps)
{
  const float *w = *p;
  *p += decent_arch_weights_count (s);
  const float *bias = NULL, *gamma = NULL, *beta = NULL;
  if (s->has_bias) {
    bias = *p;
    *p += s->out_c;
  }
  if (s->act == DECENT_ACT_BN_LEAKY) {
    gamma = *p;
    beta = *p + s->out_c;
    *p += 2 * (size_t) s->out_c;
  }
  const size_t out_plane = (size_t) s->out_h * s->out_w, in_plane = (size_t) s->in_h * s->in_w;
  const int k = s->kernel;
  memset (out, 0, sizeof (float) * out_plane * s->out_c);
  for (int o = 0; o < s->out_c; o++)
    for (int i = 0; i < s->in_c; i++)
      for (int kh = 0; kh < k; kh++)
        for (int kw = 0; kw < k; kw++) {
          const float wv = w[(((size_t) o * s->in_c + i) * k + kh) * k + kw];
          if (s->kind == DECENT_STAGE_CONV) {
            for (int oh = 0; oh < s->out_h; oh++)
              for (int ow = 0; ow < s->out_w; ow++) {
                int ih = oh * s->stride - s->pad_t + kh, iw = ow * s->stride - s->pad_l + kw;
                if (ih >= 0 && ih < s->in_h && iw >= 0 && iw < s->in_w)
                  out[o * out_plane + (size_t) oh * s->out_w + ow] +=
                      wv * in[i * in_plane + (size_t) ih * s->in_w + iw];
              }
          } else {
            for (int ih = 0; ih < s->in_h; ih++)
              for (int iw = 0; iw < s->in_w; iw++) {
                int oh = ih * s->stride - s->pad_t + kh, ow = iw * s->stride - s->pad_l + kw;
                if (oh >= 0 && oh < s->out_h && ow >= 0 && ow < s->out_w)
                  out[o * out_plane + (size_t) oh * s->out_w + ow] +=
                      wv * in[i * in_plane + (size_t) ih * s->in_w + iw];
              }
          }
        }
  for (int o = 0; o < s->out_c; o++) {
    float *y = out + o * out_plane;
    for (size_t q = 0; q < out_plane; q++) {
      if (s->act == DECENT_ACT_BN_LEAKY) {
        float rm = (*b)[o], rv = (*b)[s->out_c + o];
        float v = (y[q] - rm) / sqrtf (rv + eps) * gamma[o] + beta[o];
        y[q] = v > 0 ? v : 0.2f * v;
      } else {
        y[q] = tanhf (y[q] + bias[o]);
      }
    }
  }
  if (s->act == DECENT_ACT_BN_LEAKY)
    *b += 2 * (size_t) s->out_c;
}

static void
check_geometry (int w, int h, int c, int base, int max, uint64_t *seed)
{
  DecentConfig cfg;
  DecentError err = { { 0 } };
  decent_config_init (&cfg, w, h, c);
  cfg.base_channels = base;
  cfg.max_channels = max;
  cfg.device = DECENT_DEVICE_CPU;
  DecentArch arch;
  char why[256];
  REQUIRE (decent_arch_build (&arch, w, h, c, base, max, why, sizeof why) == 0, "%s", why);
  const size_t np = decent_arch_param_count (&arch), nb = decent_arch_buffer_count (&arch);
  float *p = malloc (np * sizeof (float)), *b = malloc ((nb + 1) * sizeof (float));
  for (size_t i = 0; i < np; i++)
    p[i] = (float) (0.3 * (2 * tu_uniform (seed) - 1));
  /* running statistics away from (0, 1), so that they matter */
  for (int i = 0, o = 0; i < arch.n_stages; i++) {
    const DecentStage *s = &arch.stages[i];
    if (s->act != DECENT_ACT_BN_LEAKY)
      continue;
    for (int k = 0; k < s->out_c; k++) {
      b[o + k] = (float) (0.2 * (2 * tu_uniform (seed) - 1));
      b[o + s->out_c + k] = (float) (0.5 + tu_uniform (seed));
    }
    o += 2 * s->out_c;
  }
  DecentModel *m = decent_model_build (&cfg, p, b, NULL, &err);
  REQUIRE (m, "%s", err.message);

  const int n = 2;
  const size_t px = (size_t) w * h * c;
  float *x = malloc (n * px * sizeof (float)), *recon = malloc (n * px * sizeof (float));
  float scores[2];
  for (size_t i = 0; i < n * px; i++)
    x[i] = (float) (2 * tu_uniform (seed) - 1);
  REQUIRE (decent_model_reconstruct_f32 (m, x, n, scores, recon, &err) == 0, "%s", err.message);

  size_t biggest = px;
  for (int i = 0; i < arch.n_stages; i++) {
    const DecentStage *s = &arch.stages[i];
    size_t sz = (size_t) s->out_c * s->out_h * s->out_w;
    biggest = sz > biggest ? sz : biggest;
  }
  float *a = malloc (biggest * sizeof (float)), *t = malloc (biggest * sizeof (float));
  double worst = 0, score_err = 0;
  for (int img = 0; img < n; img++) {
    memcpy (a, x + img * px, px * sizeof (float));
    const float *pp = p, *bb = b;
    for (int i = 0; i < arch.n_stages; i++) {
      reference_stage (&arch.stages[i], a, t, &pp, &bb, cfg.bn_eps);
      float *swap = a;
      a = t;
      t = swap;
    }
    double sq = 0;
    for (size_t k = 0; k < px; k++) {
      worst = fmax (worst, fabs ((double) a[k] - recon[img * px + k]));
      sq += ((double) a[k] - x[img * px + k]) * ((double) a[k] - x[img * px + k]);
    }
    score_err = fmax (score_err, fabs (sq / px - scores[img]) / (sq / px));
  }
  CHECK (worst <= 1e-4, "%dx%dx%d: reconstruction differs from the reference by %g", w, h, c,
      worst);
  CHECK (score_err <= 1e-4, "%dx%dx%d: score differs from the reference by %g (relative)", w, h,
      c, score_err);
  printf ("  %dx%dx%d (%d layers): max difference %.2e, score %.2e\n", w, h, c, arch.n_stages / 2,
      worst, score_err);
  free (a);
  free (t);
  free (x);
  free (recon);
  free (p);
  free (b);
  decent_model_free (m);
}

int
main (void)
{
  uint64_t seed = 11;
  check_geometry (28, 28, 1, 8, 32, &seed);  /* small rule, paper shape */
  check_geometry (17, 9, 1, 4, 16, &seed);   /* small rule, odd sides */
  check_geometry (64, 64, 3, 4, 16, &seed);  /* large rule */
  check_geometry (67, 65, 3, 4, 8, &seed);   /* large rule, one-sided padding */
  return tu_finish ("reference_forward");
}
