/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* backend.h — the narrow interface between model code and a compute backend.
 *
 * Model code (model.c) owns the architecture, hyper-parameters, the training
 * schedule, the running centre and the file format.  A backend owns the
 * parameters while it runs and does the arithmetic of one step: forward,
 * loss, backward and the Adam update, and scoring.  Tensors that cross this
 * interface are plain float arrays: images NCHW scaled to [-1, 1], parameters
 * and buffers in the canonical order of arch.h, the centre in NCHW order. */
#ifndef DECENT_BACKEND_H
#define DECENT_BACKEND_H

#include "arch.h"
#include "decent.h"
#include "error.h"

typedef struct DecentBackend DecentBackend;



typedef struct {
  DecentLoss loss;
  float lambda;
  const float *centre;   /* latent_dim floats, used by DECENT_LOSS_CENTRE */
  int update;            /* 0: compute only (no Adam, no running statistics) */
  float lr, beta1, beta2, adam_eps;
  uint64_t t;            /* Adam step number, from 1 */
  float bn_momentum;          /* BatchNorm epsilon is fixed at create */
} DecentStepParams;

typedef struct {
  const char *name;
  DecentBackend *(*create) (const DecentArch *arch, float bn_eps, DecentError *err);
  void (*destroy) (DecentBackend *be);
  /* Host <-> backend copies of parameters and BN running statistics. */
  int (*set_params) (DecentBackend *be, const float *params, const float *buffers,
                     DecentError *err);
  int (*get_params) (DecentBackend *be, float *params, float *buffers, DecentError *err);
  /* One mini-batch of n >= 2 images.  grads (may be NULL) receives the
   * gradient of every parameter in canonical order; latent_mean (may be NULL)
   * the batch mean of the latent vectors. */
  int (*train_step) (DecentBackend *be, const float *x, int n, const DecentStepParams *p,
                     DecentLossTerms *terms, float *grads, float *latent_mean,
                     DecentError *err);
  /* Scores n >= 1 images with running statistics; maps (n * plane) and
   * recon (the reconstructions, NCHW like x) may be NULL. */
  int (*score) (DecentBackend *be, const float *x, int n, float *scores, float *maps,
                float *recon, DecentError *err);
  /* The codes f(x) of n >= 1 images (n * latent_dim floats, NCHW per
   * image) with running statistics, as scoring computes them; recon (may be
   * NULL) as in score.  For the collapse measures (collapse.c). */
  int (*encode) (DecentBackend *be, const float *x, int n, float *latents, float *recon,
                 DecentError *err);
  /* Optional (NULL: score only): scoring in two slots, so that the caller
   * prepares batch k+1 while batch k computes.  submit takes its own copy of
   * x and returns at once; collect waits for that slot's results.  A slot
   * must be collected before it is submitted to again. */
  int (*score_submit) (DecentBackend *be, const float *x, int n, int slot, int want_maps,
                       DecentError *err);
  int (*score_collect) (DecentBackend *be, int n, int slot, float *scores, float *maps,
                        DecentError *err);
  /* Optional: on (nonzero), score batches of 2 or more with their own
   * BatchNorm statistics instead of the running ones, as a PyTorch model
   * left in training mode does (a measurement of the paper-fidelity work). */
  int (*set_score_batch_stats) (DecentBackend *be, int on, DecentError *err);
  /* Names of the implementations chosen, for describe and the benchmarks. */
  const char *(*implementation) (DecentBackend *be);
  /* Optional (NULL when the model code does it on the CPU): an 8-bit video
   * frame's region converted, scaled and normalised (value * scale + offset)
   * on the backend's device and scored there; and a heatmap (an error map
   * at model size, given) colour-mapped and blended over a frame's region. */
  int (*score_frame) (DecentBackend *be, const DecentFrame *frame, float scale, float offset,
                      float *score, float *map, DecentError *err);
  int (*draw_frame) (DecentBackend *be, DecentFrame *frame, const float *map,
                     const uint8_t lut[768], float max_error, float alpha, DecentError *err);
} DecentBackendOps;

#endif
