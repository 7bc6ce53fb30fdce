/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* collapse.c — decent_model_encode and the collapse measures.  They exist
 * because a decentralization term that outweighs the reconstruction error
 * saturates every tanh unit the same way for every input, and the decoder
 * then draws one template (docs/method.md): the loss still falls and the
 * AUROC can still rise, so only these measures show it. */
#include "model_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 64
#define SATURATED 0.99f

int
decent_model_encode (DecentModel *m, const uint8_t *frames, int n, float *codes,
    DecentError *err)
{
  if (!m || !frames || !codes || n < 1)
    return decent_fail (err, "encode: need a model, at least one frame and room for the codes");
  if (!m->ops->encode)
    return decent_fail (err, "encode: the %s backend cannot give codes", m->ops->name);
  const size_t fb = (size_t) m->cfg.width * m->cfg.height * m->cfg.channels;
  const size_t d = (size_t) decent_arch_latent_dim (&m->arch);
  for (int start = 0; start < n; start += CHUNK) {
    const int count = n - start < CHUNK ? n - start : CHUNK;
    if (decent_model_normalise (m, frames + start * fb, count, err) < 0
        || m->ops->encode (m->be, m->xbuf, count, codes + start * d, NULL, err) < 0)
      return -1;
  }
  return 0;
}

static int
compare_u64 (const void *a, const void *b)
{
  const uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return (x > y) - (x < y);
}

/* FNV-1a over the sign bits of one code: equal patterns, equal hashes; two
 * different ones collide with odds of about 2^-64. */
static uint64_t
sign_hash (const float *code, size_t d)
{
  uint64_t h = 1469598103934665603ull;
  for (size_t k = 0; k < d; k += 8) {
    unsigned byte = 0;
    for (size_t b = 0; b < 8 && k + b < d; b++)
      byte |= (unsigned) (code[k + b] > 0.0f) << b;
    h = (h ^ byte) * 1099511628211ull;
  }
  return h;
}

/* mean over positions of the standard deviation across n samples */
static double
mean_sd (const double *sum, const double *sq, size_t len, int n)
{
  double total = 0.0;
  for (size_t p = 0; p < len; p++) {
    const double mean = sum[p] / n, var = sq[p] / n - mean * mean;
    total += var > 0 ? sqrt (var) : 0.0;
  }
  return total / (double) len;
}

int
decent_model_measure_collapse (DecentModel *m, const uint8_t *frames, int n,
    DecentCollapse *out, DecentError *err)
{
  if (!m || !frames || !out)
    return decent_fail (err, "collapse: need a model, frames and room for the result");
  if (n < 2)
    return decent_fail (err, "collapse: need at least 2 frames to see a spread, got %d", n);
  if (!m->ops->encode)
    return decent_fail (err, "collapse: the %s backend cannot give codes", m->ops->name);
  const int ch = m->cfg.channels;
  const size_t plane = (size_t) m->cfg.width * m->cfg.height, fb = plane * ch;
  const size_t d = (size_t) decent_arch_latent_dim (&m->arch);
  double *acc = calloc (4 * fb, sizeof (double)); /* sums and squares: inputs, outputs */
  float *codes = malloc (CHUNK * d * sizeof (float));
  float *recon = malloc (CHUNK * fb * sizeof (float));
  uint64_t *hashes = malloc ((size_t) n * sizeof (uint64_t));
  int rc = -1;
  if (!acc || !codes || !recon || !hashes) {
    decent_fail (err, "collapse: out of memory for %d frames", n);
    goto done;
  }
  double *xs = acc, *xq = acc + fb, *rs = acc + 2 * fb, *rq = acc + 3 * fb;
  uint64_t saturated = 0;
  const double scale = m->cfg.input_scale, offset = m->cfg.input_offset;
  for (int start = 0; start < n; start += CHUNK) {
    const int count = n - start < CHUNK ? n - start : CHUNK;
    const uint8_t *chunk = frames + (size_t) start * fb;
    if (decent_model_normalise (m, chunk, count, err) < 0
        || m->ops->encode (m->be, m->xbuf, count, codes, recon, err) < 0)
      goto done;
    for (int i = 0; i < count; i++) {
      const float *code = codes + (size_t) i * d;
      for (size_t k = 0; k < d; k++)
        saturated += fabsf (code[k]) > SATURATED;
      hashes[start + i] = sign_hash (code, d);
      /* inputs are HWC bytes, reconstructions NCHW floats: both as grey levels at (c, p) */
      for (int c = 0; c < ch; c++)
        for (size_t p = 0; p < plane; p++) {
          const size_t at = (size_t) c * plane + p;
          const double x = chunk[((size_t) i * plane + p) * ch + c];
          const double r = (recon[(size_t) i * fb + at] - offset) / scale;
          xs[at] += x;
          xq[at] += x * x;
          rs[at] += r;
          rq[at] += r * r;
        }
    }
  }
  qsort (hashes, (size_t) n, sizeof *hashes, compare_u64);
  int patterns = 1;
  for (int i = 1; i < n; i++)
    patterns += hashes[i] != hashes[i - 1];
  memset (out, 0, sizeof *out);
  out->frames = n;
  out->latent_dim = (int) d;
  out->input_spread = mean_sd (xs, xq, fb, n);
  out->recon_spread = mean_sd (rs, rq, fb, n);
  out->spread_ratio = out->input_spread > 1e-9 ? out->recon_spread / out->input_spread : -1.0;
  out->saturated = (double) saturated / ((double) n * (double) d);
  out->sign_patterns = patterns;
  rc = isfinite (out->recon_spread) ? 0
       : decent_fail (err, "collapse: the reconstructions are not finite");
done:
  free (acc);
  free (codes);
  free (recon);
  free (hashes);
  return rc;
}
