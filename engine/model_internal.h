/* model_internal.h — the DecentModel struct, shared by model.c and
 * model_file.c; not installed. */
#ifndef DECENT_MODEL_INTERNAL_H
#define DECENT_MODEL_INTERNAL_H

#include "arch.h"
#include "backend.h"
#include "decent.h"

struct DecentModel {
  DecentConfig cfg;
  DecentArch arch;
  const DecentBackendOps *ops;
  DecentBackend *be;
  float *centre;            /* running centre c of loss (9), latent_dim floats */
  uint64_t centre_batches;  /* mini-batches averaged into the centre */
  uint64_t steps;           /* Adam steps taken */
  uint32_t epochs;          /* epochs completed by decent_model_train */
  uint64_t fault_nan_step;  /* fault injection: this step's loss becomes NaN (0: never) */
  DecentCalibration cal;
  uint64_t rng;             /* shuffling state */
  float *xbuf;              /* normalised NCHW input of the current batch */
  size_t xbuf_images;
  uint8_t *gather;          /* a shuffled mini-batch of frames */
};


/* Builds a model from a validated config; params/buffers/centre (may be
 * NULL) replace the random initialisation. */
DecentModel *decent_model_build (const DecentConfig *cfg, const float *params,
                                 const float *buffers, const float *centre, DecentError *err);

/* Parses a model file already in memory; path names it in messages. */
DecentModel *decent_model_parse (const char *path, const uint8_t *data, size_t len,
                                 DecentDevice device, DecentError *err);

/* Host copies of the backend's parameters and buffers (caller frees). */
int decent_model_fetch_params (DecentModel *m, float **params, float **buffers,
                               DecentError *err);

/* Test hook: the loss and the gradient of every parameter (canonical order)
 * for one batch of already-normalised NCHW input, changing nothing but the
 * parameters, which are replaced first when params is not NULL. */
int decent_model_gradients_f32 (DecentModel *m, const float *x, int n, const float *params,
                                DecentLossTerms *terms, float *grads, DecentError *err);

/* Scores and reconstructions (NCHW, model scale) of already-normalised
 * NCHW input. */
int decent_model_reconstruct_f32 (DecentModel *m, const float *x, int n, float *scores,
                                  float *recon, DecentError *err);

/* Names of the backend implementations of the most recently built plan. */
const char *decent_model_implementation (DecentModel *m);

#endif
