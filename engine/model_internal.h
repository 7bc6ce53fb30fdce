/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
  uint64_t fault_nan_score; /* fault injection: from this scored image on, NaN (0: never) */
  int fault_collapse;       /* fault injection: the encoder's last layer made constant */
  uint64_t images_scored;   /* images scored through the API, for fault_nan_score */
  DecentCalibration cal[DECENT_SCORE_MODES]; /* per score mode; threshold 0: none */
  float *normal_mean;       /* per-pixel mean of the normal squared error, or NULL */
  float *normal_sd;         /*   and its standard deviation (decent_model_learn_normal) */
  float *normal_div;        /* what NORMALIZED divides by: sd plus a floor */
  DecentStillSettings still; /* the still gate (stillgate.c), when still_start is set */
  DecentCalibration still_cal; /*   its threshold and the held-out still scores */
  float *still_start;       /*   the mean normal gated map, or NULL: no gate */
  uint8_t *companion;       /* a companion model's file bytes ('PAIR'), or NULL */
  size_t companion_len;
  double *sat;              /* summed-area table of one map, for the local scores */
  float *map_chunk;         /* maps of a chunk of frames, for scores that need them */
  uint64_t rng;             /* shuffling state */
  float *xbuf;              /* normalised NCHW input of the current batch */
  size_t xbuf_images;
  uint8_t *gather;          /* a shuffled mini-batch of frames */
};


/* Builds a model from a validated config; params/buffers/centre (may be
 * NULL) replace the random initialisation. */
DecentModel *decent_model_build (const DecentConfig *cfg, const float *params,
                                 const float *buffers, const float *centre, DecentError *err);

/* Parses a model file already in memory; path names it in messages.  The
 * same parser as decent_model_load, which reads the file in pieces. */
DecentModel *decent_model_parse (const char *path, const uint8_t *data, size_t len,
                                 DecentDevice device, DecentError *err);

/* n 8-bit HWC frames at model geometry to scaled NCHW floats in m->xbuf
 * (grown as needed). */
int decent_model_normalise (DecentModel *m, const uint8_t *frames, int n, DecentError *err);

/* Scores a mid-grey image and a test pattern; -1, with what they scored,
 * when either score is not finite (a model that cannot score anything). */
int decent_model_check_finite (DecentModel *m, DecentError *err);

/* ---- tagged sections of the model file (format version 2) -------------
 *
 * After the body (parameters, BatchNorm statistics, centre) come zero or
 * more sections, each u32 tag, u32 reserved (0), u64 payload bytes, the
 * payload; then the file's CRC-32.  Readers skip tags they do not know, so
 * a newer writer's data does not stop an older reader.
 *
 * To store something new in the model file: keep it in struct DecentModel,
 * write a DecentSectionIO for it and add it to builtin_sections[] in
 * model_file.c.  save() is called by decent_model_save for every model;
 * load() by the loader once the file's checksums have been verified and the
 * model is built, before the model is checked and returned.  A file holding
 * a known tag twice, or a payload over max_bytes, is refused as corrupted. */
#define DECENT_SECTION_TAG(a, b, c, d)                                          \
  ((uint32_t) (uint8_t) (a) | (uint32_t) (uint8_t) (b) << 8                     \
      | (uint32_t) (uint8_t) (c) << 16 | (uint32_t) (uint8_t) (d) << 24)

typedef struct {
  uint32_t tag;       /* DECENT_SECTION_TAG ('D', 'E', 'T', '1'); 0 ends a table */
  uint64_t max_bytes; /* the largest payload load() accepts */
  /* The payload for this model: *data (malloc'd, freed by the writer) and
   * *len, or *data = NULL for no section.  -1 with a reason fails the save. */
  int (*save) (DecentModel *m, uint8_t **data, size_t *len, DecentError *err);
  /* Takes the payload into the model (copy what is kept).  -1 with a reason
   * refuses the file ("model file F: <reason>"). */
  int (*load) (DecentModel *m, const uint8_t *data, size_t len, DecentError *err);
} DecentSectionIO;

/* Test hook: replaces the table of sections (ended by a tag of 0) used by
 * save and load; NULL restores the built-in one.  Not thread-safe. */
void decent_model_file_set_sections (const DecentSectionIO *table);

/* Takes per-pixel normal error statistics (width * height each) into the
 * model (copies), computing what NORMALIZED divides by. */
int decent_model_set_normal (DecentModel *m, const float *mean, const float *sd,
                             DecentError *err);

/* The threshold at a quantile of normal scores s (n of them, sorted in
 * place), raised to mean + sigmas standard deviations when that is higher,
 * with their statistics (model.c; every calibration uses it). */
int decent_calibration_from (float *s, int n, float quantile, float sigmas,
                             DecentCalibration *cal, DecentError *err);

/* Takes a still gate's settings, calibration and normal mean map (width *
 * height, values in 0..1; copied) into the model. */
int decent_model_set_still (DecentModel *m, const DecentStillSettings *s,
                            const DecentCalibration *cal, const float *start, DecentError *err);

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
