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
  /* Scores n >= 1 images with running statistics; maps may be NULL. */
  int (*score) (DecentBackend *be, const float *x, int n, float *scores, float *maps,
                DecentError *err);
  /* Names of the implementations chosen, for describe and the benchmarks. */
  const char *(*implementation) (DecentBackend *be);
} DecentBackendOps;

extern const DecentBackendOps decent_backend_cpu;
#ifdef DECENT_HAVE_CUDA
extern const DecentBackendOps decent_backend_cuda;
int decent_cuda_usable (void);
#endif

#endif
