/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arch.c — the paper's architecture rule for any input geometry.
 *
 * Small inputs (smaller side < 64): 5x5 stride-2 convs, padding 2, until the
 * smaller side is at most 4 (28x28: 28 -> 14 -> 7 -> 4, three layers).
 * Large inputs: 4x4 stride-2 convs, padding 1, until the smaller side is 1
 * (256x256: eight layers).  Channels start at base and double per layer,
 * capped at max.  Each output side is ceil(in / 2).  A latent side N > 0
 * stops the halving once the smaller side is at most N instead, which keeps
 * a grid of latent cells (where things are) for video. */
#include "arch.h"

#include <stdio.h>

#include "decent.h"

static int
next_side (int in)
{
  return (in + 1) / 2;
}

int
decent_arch_build (DecentArch *arch, int width, int height, int channels,
    int base_channels, int max_channels, char *err, size_t errlen)
{
  return decent_arch_build_latent (arch, width, height, channels, base_channels, max_channels,
      0, err, errlen);
}

int
decent_arch_build_latent (DecentArch *arch, int width, int height, int channels,
    int base_channels, int max_channels, int latent_side, char *err, size_t errlen)
{
  if (!arch) {
    snprintf (err, errlen, "no architecture to fill");
    return -1;
  }
  if (width < 4 || height < 4 || width > DECENT_MAX_SIDE || height > DECENT_MAX_SIDE) {
    snprintf (err, errlen, "model size %dx%d is outside 4..%d per side", width, height,
        DECENT_MAX_SIDE);
    return -1;
  }
  if (channels != 1 && channels != 3) {
    snprintf (err, errlen, "model channels must be 1 or 3, not %d", channels);
    return -1;
  }
  if (base_channels < 1 || max_channels < base_channels || max_channels > 4096) {
    snprintf (err, errlen, "channel settings base %d, max %d are invalid (1 <= base <= max <= 4096)",
        base_channels, max_channels);
    return -1;
  }

  int smaller = width < height ? width : height;
  int large = smaller >= 64;
  int kernel = large ? 4 : 5;
  int pad = large ? 1 : 2;
  int stop = large ? 1 : 4;
  if (latent_side < 0 || latent_side > DECENT_MAX_SIDE) {
    snprintf (err, errlen, "latent side %d is outside 0..%d", latent_side, DECENT_MAX_SIDE);
    return -1;
  }
  if (latent_side > 0)
    stop = latent_side;

  DecentStage enc[DECENT_MAX_LAYERS];
  int n = 0, h = height, w = width, c = channels, oc = base_channels;
  while ((h < w ? h : w) > stop) {
    if (n == DECENT_MAX_LAYERS) {
      snprintf (err, errlen, "model size %dx%d needs more than %d layers", width, height,
          DECENT_MAX_LAYERS);
      return -1;
    }
    DecentStage *s = &enc[n];
    s->kind = DECENT_STAGE_CONV;
    s->in_c = c;
    s->out_c = oc;
    s->in_h = h;
    s->in_w = w;
    s->out_h = next_side (h);
    s->out_w = next_side (w);
    s->kernel = kernel;
    s->stride = 2;
    s->pad_t = s->pad_l = pad;
    /* bottom/right padding that makes ceil(in/2) exact */
    s->pad_b = (s->out_h - 1) * 2 + kernel - h - pad;
    s->pad_r = (s->out_w - 1) * 2 + kernel - w - pad;
    h = s->out_h;
    w = s->out_w;
    c = oc;
    oc = oc * 2 > max_channels ? max_channels : oc * 2;
    n++;
  }
  if (n == 0) {
    if (latent_side > 0)
      snprintf (err, errlen, "model size %dx%d is too small for one layer above latent side "
          "%d: its smaller side must be over the latent side (lower latent-side, or raise "
          "width and height)", width, height, latent_side);
    else
      snprintf (err, errlen, "model size %dx%d is too small for one layer (raise width and "
          "height)", width, height);
    return -1;
  }

  arch->width = width;
  arch->height = height;
  arch->channels = channels;
  arch->n_stages = 2 * n;
  arch->latent_stage = n - 1;
  for (int i = 0; i < n; i++) {
    DecentStage *e = &arch->stages[i];
    *e = enc[i];
    e->act = i == n - 1 ? DECENT_ACT_TANH : DECENT_ACT_BN_LEAKY;
    e->has_bias = e->act == DECENT_ACT_TANH;

    /* the decoder mirrors the encoder: stage n + i undoes encoder layer n-1-i */
    const DecentStage *m = &enc[n - 1 - i];
    DecentStage *d = &arch->stages[n + i];
    *d = *m;
    d->kind = DECENT_STAGE_DECONV;
    d->in_c = m->out_c;
    d->out_c = m->in_c;
    d->in_h = m->out_h;
    d->in_w = m->out_w;
    d->out_h = m->in_h;
    d->out_w = m->in_w;
    d->act = i == n - 1 ? DECENT_ACT_TANH : DECENT_ACT_BN_LEAKY;
    d->has_bias = d->act == DECENT_ACT_TANH;
  }
  return 0;
}

size_t
decent_arch_weights_count (const DecentStage *s)
{
  return (size_t) s->out_c * s->in_c * s->kernel * s->kernel;
}

size_t
decent_arch_offsets (const DecentArch *arch, DecentStageOffsets *out, size_t *buffers)
{
  size_t po = 0, bo = 0;
  for (int i = 0; i < arch->n_stages; i++) {
    const DecentStage *s = &arch->stages[i];
    const int bn = s->act == DECENT_ACT_BN_LEAKY;
    DecentStageOffsets o = { DECENT_NO_OFFSET, DECENT_NO_OFFSET, DECENT_NO_OFFSET,
      DECENT_NO_OFFSET, DECENT_NO_OFFSET, DECENT_NO_OFFSET };
    o.weights = po;
    po += decent_arch_weights_count (s);
    if (s->has_bias) {
      o.bias = po;
      po += s->out_c;
    }
    if (bn) {
      o.gamma = po;
      o.beta = po + s->out_c;
      po += 2 * (size_t) s->out_c;
      o.running_mean = bo;
      o.running_var = bo + s->out_c;
      bo += 2 * (size_t) s->out_c;
    }
    if (out)
      out[i] = o;
  }
  if (buffers)
    *buffers = bo;
  return po;
}

size_t
decent_arch_param_count (const DecentArch *arch)
{
  return decent_arch_offsets (arch, NULL, NULL);
}

size_t
decent_arch_buffer_count (const DecentArch *arch)
{
  size_t buffers;
  decent_arch_offsets (arch, NULL, &buffers);
  return buffers;
}

int
decent_arch_latent_dim (const DecentArch *arch)
{
  const DecentStage *s = &arch->stages[arch->latent_stage];
  return s->out_c * s->out_h * s->out_w;
}

double
decent_arch_forward_flops (const DecentArch *arch)
{
  double flops = 0;
  for (int i = 0; i < arch->n_stages; i++) {
    const DecentStage *s = &arch->stages[i];
    /* a conv does one MAC per output pixel per weight; a transposed conv one
     * per input pixel per weight */
    double pixels = s->kind == DECENT_STAGE_CONV ? (double) s->out_h * s->out_w
                                                 : (double) s->in_h * s->in_w;
    flops += 2.0 * pixels * (double) decent_arch_weights_count (s);
  }
  return flops;
}

uint64_t
decent_arch_working_set_bytes (const DecentArch *arch)
{
  uint64_t floats = (uint64_t) arch->width * arch->height * arch->channels;
  for (int i = 0; i < arch->n_stages; i++) {
    const DecentStage *s = &arch->stages[i];
    floats += (uint64_t) s->out_c * s->out_h * s->out_w;
  }
  return floats * sizeof (float);
}
