/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* model.c — backend-neutral model code: configuration, initialisation,
 * input normalisation, the training schedule, the running centre of loss
 * (9), scoring and threshold calibration. */
#include "model_internal.h"
#include "registry.h"

#include "frame_layout.h"
#include "localscore.h"
#include "random.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCORE_CHUNK 64

/* ---- random numbers: random.h's splitmix64, Box-Muller ----------------- */

static double
rng_normal (uint64_t *s)
{
  double u = rng_uniform (s), v = rng_uniform (s);
  return sqrt (-2.0 * log (u)) * cos (6.283185307179586 * v);
}

/* ---- configuration ---------------------------------------------------- */

void
decent_config_init (DecentConfig *cfg, int width, int height, int channels)
{
  if (!cfg)
    return;
  memset (cfg, 0, sizeof *cfg);
  cfg->width = width;
  cfg->height = height;
  cfg->channels = channels;
  cfg->base_channels = 64;
  cfg->max_channels = 512;
  cfg->loss = DECENT_LOSS_DECENTRALIZATION;
  cfg->lambda = 0.01f;
  cfg->learning_rate = 2e-4f;
  cfg->beta1 = 0.5f;
  cfg->beta2 = 0.999f;
  cfg->adam_eps = 1e-8f;
  cfg->init_std = 0.02f;
  cfg->input_scale = 1.0f / 127.5f;
  cfg->input_offset = -1.0f;
  cfg->bn_momentum = 0.1f;
  cfg->bn_eps = 1e-5f;
  cfg->batch_size = 64;
  cfg->seed = 1;
  cfg->device = DECENT_DEVICE_AUTO;
  cfg->latent_side = 0;
  cfg->local_area = 0.01f;
  cfg->local_contrast = 0.1f;
  cfg->local_surround = 0.0f;
}

static int
finite_in (float v, float lo, float hi)
{
  return isfinite (v) && v >= lo && v <= hi;
}

int
decent_config_same_architecture (const DecentConfig *a, const DecentConfig *b)
{
  if (!a || !b)
    return 0;
  DecentArch x, y;
  char why[256];
  if (decent_arch_build_latent (&x, a->width, a->height, a->channels, a->base_channels,
          a->max_channels, a->latent_side, why, sizeof why) < 0
      || decent_arch_build_latent (&y, b->width, b->height, b->channels, b->base_channels,
             b->max_channels, b->latent_side, why, sizeof why) < 0)
    return 0;
  if (x.n_stages != y.n_stages || x.latent_stage != y.latent_stage)
    return 0;
  for (int i = 0; i < x.n_stages; i++) {
    const DecentStage *s = &x.stages[i], *t = &y.stages[i];
    if (s->kind != t->kind || s->in_c != t->in_c || s->out_c != t->out_c || s->out_w != t->out_w
        || s->out_h != t->out_h || s->kernel != t->kernel || s->stride != t->stride)
      return 0;
  }
  return 1;
}

int
decent_config_validate (const DecentConfig *cfg, DecentError *err)
{
  if (!cfg)
    return decent_fail (err, "no configuration given");
  DecentArch arch;
  char why[256];
  if (decent_arch_build_latent (&arch, cfg->width, cfg->height, cfg->channels,
          cfg->base_channels, cfg->max_channels, cfg->latent_side, why, sizeof why) < 0)
    return decent_fail (err, "%s", why);
  if (!finite_in (cfg->local_area, 1e-6f, 1.0f))
    return decent_fail (err, "local area must be a fraction of the frame in (0, 1], not %g",
        cfg->local_area);
  if (!finite_in (cfg->local_contrast, 1e-6f, 100.0f))
    return decent_fail (err, "local contrast must be in (0, 100], not %g", cfg->local_contrast);
  if (!finite_in (cfg->local_surround, 0.0f, DECENT_MAX_SURROUND))
    return decent_fail (err, "local surround must be in [0, %g], not %g", DECENT_MAX_SURROUND,
        cfg->local_surround);
  if (cfg->loss != DECENT_LOSS_DECENTRALIZATION && cfg->loss != DECENT_LOSS_CENTRE)
    return decent_fail (err, "loss must be 13 (decentralization) or 9 (centre), not %d", cfg->loss);
  if (!finite_in (cfg->lambda, 0.0f, 1e6f))
    return decent_fail (err, "lambda must be a finite value >= 0, not %g", cfg->lambda);
  if (!finite_in (cfg->learning_rate, 1e-12f, 10.0f))
    return decent_fail (err, "learning rate must be in (0, 10], not %g", cfg->learning_rate);
  if (!finite_in (cfg->beta1, 0.0f, 0.999999f) || !finite_in (cfg->beta2, 0.0f, 0.999999f))
    return decent_fail (err, "Adam betas must be in [0, 1), not %g and %g", cfg->beta1, cfg->beta2);
  if (!finite_in (cfg->adam_eps, 1e-30f, 1.0f))
    return decent_fail (err, "Adam epsilon must be in (0, 1], not %g", cfg->adam_eps);
  if (!finite_in (cfg->init_std, 0.0f, 10.0f))
    return decent_fail (err, "initial weight deviation must be in [0, 10], not %g", cfg->init_std);
  if (!finite_in (cfg->input_scale, 1e-9f, 1e3f) || !finite_in (cfg->input_offset, -1e3f, 1e3f))
    return decent_fail (err, "input scale %g / offset %g are invalid", cfg->input_scale,
        cfg->input_offset);
  if (!finite_in (cfg->bn_momentum, 0.0f, 1.0f) || !finite_in (cfg->bn_eps, 1e-12f, 1.0f))
    return decent_fail (err, "batch norm momentum %g / epsilon %g are invalid", cfg->bn_momentum,
        cfg->bn_eps);
  if (cfg->batch_size < 2 || cfg->batch_size > 65536)
    return decent_fail (err, "batch size must be 2..65536, not %d", cfg->batch_size);
  if (cfg->device != DECENT_DEVICE_AUTO && cfg->device != DECENT_DEVICE_CPU
      && cfg->device != DECENT_DEVICE_CUDA)
    return decent_fail (err, "unknown device %d", cfg->device);
  /* bounds on what a model may ask for, before anything is allocated: a
   * file's header cannot make the loader (or training) take gigabytes */
  const uint64_t working = decent_arch_working_set_bytes (&arch);
  if (working > DECENT_MAX_WORKING_SET_BYTES)
    return decent_fail (err, "a %dx%dx%d model with %d..%d channels needs %llu MiB per image "
                             "for its activations; the limit is %llu MiB", cfg->width,
        cfg->height, cfg->channels, cfg->base_channels, cfg->max_channels,
        (unsigned long long) (working >> 20),
        (unsigned long long) (DECENT_MAX_WORKING_SET_BYTES >> 20));
  const uint64_t floats = (uint64_t) decent_arch_param_count (&arch)
                          + decent_arch_buffer_count (&arch) + decent_arch_latent_dim (&arch);
  if (floats * sizeof (float) > DECENT_MAX_PARAMETER_BYTES)
    return decent_fail (err, "a %dx%dx%d model with %d..%d channels has %llu parameters "
                             "(%llu MiB); the limit is %llu MiB", cfg->width, cfg->height,
        cfg->channels, cfg->base_channels, cfg->max_channels,
        (unsigned long long) decent_arch_param_count (&arch),
        (unsigned long long) (floats * sizeof (float) >> 20),
        (unsigned long long) (DECENT_MAX_PARAMETER_BYTES >> 20));
  return 0;
}

/* ---- devices ---------------------------------------------------------- */

/* ---- construction ----------------------------------------------------- */

void
decent_model_free (DecentModel *m)
{
  if (!m)
    return;
  if (m->be)
    m->ops->destroy (m->be);
  free (m->centre);
  free (m->normal_mean);
  free (m->normal_sd);
  free (m->normal_div);
  free (m->still_start);
  free (m->companion);
  free (m->sat);
  free (m->map_chunk);
  free (m->xbuf);
  free (m->gather);
  free (m);
}

static void
init_params (const DecentArch *arch, const DecentConfig *cfg, float *p, float *b)
{
  uint64_t s = cfg->seed;
  DecentStageOffsets off[DECENT_MAX_STAGES];
  decent_arch_offsets (arch, off, NULL);
  for (int i = 0; i < arch->n_stages; i++) {
    const DecentStage *st = &arch->stages[i];
    const DecentStageOffsets *o = &off[i];
    const size_t nw = decent_arch_weights_count (st);
    for (size_t k = 0; k < nw; k++)
      p[o->weights + k] = (float) (cfg->init_std * rng_normal (&s));
    for (int c = 0; c < st->out_c; c++) {
      if (o->bias != DECENT_NO_OFFSET)
        p[o->bias + c] = 0.0f;
    }
    if (o->gamma != DECENT_NO_OFFSET) {
      for (int c = 0; c < st->out_c; c++) /* gamma ~ N(1, std), as DCGAN/OCGAN */
        p[o->gamma + c] = (float) (1.0 + cfg->init_std * rng_normal (&s));
      for (int c = 0; c < st->out_c; c++) {
        p[o->beta + c] = 0.0f;
        b[o->running_mean + c] = 0.0f;
        b[o->running_var + c] = 1.0f;
      }
    }
  }
}

DecentModel *
decent_model_build (const DecentConfig *cfg, const float *params, const float *buffers,
    const float *centre, DecentError *err)
{
  if (decent_config_validate (cfg, err) < 0)
    return NULL;
  const DecentBackendOps *ops = decent_registry_pick (cfg->device, err);
  if (!ops)
    return NULL;
  DecentModel *m = calloc (1, sizeof *m);
  if (!m) {
    decent_fail (err, "out of memory for a model");
    return NULL;
  }
  m->cfg = *cfg;
  m->ops = ops;
  /* fault injection for tests (docs/errors.md): DECENT_FAULT_NAN_STEP=N makes
   * the loss of training step N not finite */
  const char *fault = getenv ("DECENT_FAULT_NAN_STEP");
  m->fault_nan_step = fault ? strtoull (fault, NULL, 10) : 0;
  /* DECENT_FAULT_NAN_SCORE=N: the Nth image scored (from 1, the load's
   * probe not counted) and every later one score NaN */
  fault = getenv ("DECENT_FAULT_NAN_SCORE");
  m->fault_nan_score = fault ? strtoull (fault, NULL, 10) : 0;
  /* DECENT_FAULT_COLLAPSE=1: after every training step the encoder's last
   * layer outputs tanh(3) whatever its input, a model collapsed for sure
   * (the collapse measures and warnings are tested with it) */
  fault = getenv ("DECENT_FAULT_COLLAPSE");
  m->fault_collapse = fault && strcmp (fault, "1") == 0;
  m->rng = cfg->seed ^ 0x5DEECE66Dull;
  char why[256];
  if (decent_arch_build_latent (&m->arch, cfg->width, cfg->height, cfg->channels,
          cfg->base_channels, cfg->max_channels, cfg->latent_side, why, sizeof why) < 0) {
    decent_fail (err, "%s", why);
    goto fail;
  }
  const size_t np = decent_arch_param_count (&m->arch);
  const size_t nb = decent_arch_buffer_count (&m->arch);
  const int d = decent_arch_latent_dim (&m->arch);
  m->centre = calloc ((size_t) d, sizeof (float));
  float *p = params ? NULL : malloc (np * sizeof (float));
  float *b = params ? NULL : malloc (nb * sizeof (float) + 1);
  if (!m->centre || (!params && (!p || !b))) {
    free (p);
    free (b);
    decent_fail (err, "out of memory for %zu parameters", np);
    goto fail;
  }
  if (centre)
    memcpy (m->centre, centre, (size_t) d * sizeof (float));
  if (!params)
    init_params (&m->arch, cfg, p, b);
  m->be = ops->create (&m->arch, cfg->bn_eps, err);
  int rc = m->be ? ops->set_params (m->be, params ? params : p, params ? buffers : b, err) : -1;
  free (p);
  free (b);
  if (rc < 0)
    goto fail;
  return m;
fail:
  decent_model_free (m);
  return NULL;
}

DecentModel *
decent_model_new (const DecentConfig *cfg, DecentError *err)
{
  return decent_model_build (cfg, NULL, NULL, NULL, err);
}

int
decent_model_fetch_params (DecentModel *m, float **params, float **buffers, DecentError *err)
{
  size_t np = decent_arch_param_count (&m->arch), nb = decent_arch_buffer_count (&m->arch);
  *params = malloc (np * sizeof (float));
  *buffers = malloc (nb * sizeof (float) + 1);
  if (!*params || !*buffers || m->ops->get_params (m->be, *params, *buffers, err) < 0) {
    free (*params);
    free (*buffers);
    *params = *buffers = NULL;
    return err && err->message[0] ? -1 : decent_fail (err, "out of memory for parameters");
  }
  return 0;
}

/* ---- input ------------------------------------------------------------ */

static size_t
frame_bytes (const DecentModel *m)
{
  return (size_t) m->cfg.width * m->cfg.height * m->cfg.channels;
}

/* 8-bit HWC frames to scaled NCHW floats in m->xbuf. */
int
decent_model_normalise (DecentModel *m, const uint8_t *frames, int n, DecentError *err)
{
  const size_t plane = (size_t) m->cfg.width * m->cfg.height;
  const int ch = m->cfg.channels;
  if ((size_t) n > m->xbuf_images) {
    float *nb = realloc (m->xbuf, (size_t) n * plane * ch * sizeof (float));
    if (!nb)
      return decent_fail (err, "out of memory for a batch of %d frames", n);
    m->xbuf = nb;
    m->xbuf_images = (size_t) n;
  }
  const float scale = m->cfg.input_scale, offset = m->cfg.input_offset;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; i++) {
    const uint8_t *src = frames + (size_t) i * plane * ch;
    float *dst = m->xbuf + (size_t) i * plane * ch;
    for (int c = 0; c < ch; c++)
      for (size_t p = 0; p < plane; p++)
        dst[c * plane + p] = src[p * ch + c] * scale + offset;
  }
  return 0;
}

static void
step_params (const DecentModel *m, DecentStepParams *sp, int update)
{
  memset (sp, 0, sizeof *sp);
  sp->loss = m->cfg.loss;
  sp->lambda = m->cfg.lambda;
  sp->centre = m->centre;
  sp->update = update;
  sp->lr = m->cfg.learning_rate;
  sp->beta1 = m->cfg.beta1;
  sp->beta2 = m->cfg.beta2;
  sp->adam_eps = m->cfg.adam_eps;
  sp->t = m->steps + 1;
  sp->bn_momentum = m->cfg.bn_momentum;
}

/* ---- training --------------------------------------------------------- */

/* DECENT_FAULT_COLLAPSE: zero weights and a bias of 3 in the encoder's last
 * layer, so that every code is the same saturated vector. */
static int
inject_collapse (DecentModel *m, DecentError *err)
{
  const size_t np = decent_arch_param_count (&m->arch), nb = decent_arch_buffer_count (&m->arch);
  float *p = malloc (np * sizeof (float)), *b = malloc (nb * sizeof (float) + 1);
  int rc = -1;
  if (!p || !b)
    decent_fail (err, "out of memory for the parameters");
  else if (m->ops->get_params (m->be, p, b, err) == 0) {
    DecentStageOffsets off[DECENT_MAX_STAGES];
    decent_arch_offsets (&m->arch, off, NULL);
    const DecentStage *lat = &m->arch.stages[m->arch.latent_stage];
    const DecentStageOffsets *o = &off[m->arch.latent_stage];
    memset (p + o->weights, 0, decent_arch_weights_count (lat) * sizeof (float));
    for (int c = 0; c < lat->out_c; c++)
      p[o->bias + c] = 3.0f;
    rc = m->ops->set_params (m->be, p, b, err);
  }
  free (p);
  free (b);
  return rc;
}

int
decent_model_train_step (DecentModel *m, const uint8_t *frames, int n, DecentLossTerms *out,
    DecentError *err)
{
  if (!m || !frames)
    return decent_fail (err, "train step: no model or no frames");
  if (n < 2)
    return decent_fail (err, "train step: batch norm needs at least 2 frames, got %d", n);
  if (decent_model_normalise (m, frames, n, err) < 0)
    return -1;
  const int d = decent_arch_latent_dim (&m->arch);
  float *mean = m->cfg.loss == DECENT_LOSS_CENTRE ? malloc ((size_t) d * sizeof (float)) : NULL;
  if (m->cfg.loss == DECENT_LOSS_CENTRE && !mean)
    return decent_fail (err, "out of memory for the latent mean");
  DecentStepParams sp;
  DecentLossTerms terms;
  step_params (m, &sp, 1);
  if (m->fault_nan_step && m->steps + 1 == m->fault_nan_step)
    m->xbuf[0] = NAN; /* injected fault: the backend must refuse this step */
  int rc = m->ops->train_step (m->be, m->xbuf, n, &sp, &terms, NULL, mean, err);
  if (rc == 0 && m->fault_collapse)
    rc = inject_collapse (m, err);
  if (rc == 0) {
    m->steps++;
    if (mean) {
      /* (11): the centre is the running mean of the mini-batch latent means */
      m->centre_batches++;
      const float w = 1.0f / (float) m->centre_batches;
      for (int j = 0; j < d; j++)
        m->centre[j] += w * (mean[j] - m->centre[j]);
    }
    if (out)
      *out = terms;
  }
  free (mean);
  return rc;
}

int
decent_model_train (DecentModel *m, const uint8_t *frames, int n, int epochs,
    DecentEpochCallback cb, void *user, DecentError *err)
{
  if (!m || !frames)
    return decent_fail (err, "train: no model or no frames");
  if (n < 2)
    return decent_fail (err, "train: need at least 2 frames, got %d", n);
  if (epochs < 1)
    return decent_fail (err, "train: epochs must be at least 1, got %d", epochs);
  const size_t fb = frame_bytes (m);
  const int bs = m->cfg.batch_size < n ? m->cfg.batch_size : n;
  int *order = malloc ((size_t) n * sizeof (int));
  uint8_t *gather = realloc (m->gather, (size_t) bs * fb);
  if (!order || !gather) {
    free (order);
    return decent_fail (err, "out of memory for shuffling %d frames", n);
  }
  m->gather = gather;
  for (int i = 0; i < n; i++)
    order[i] = i;

  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  int rc = 0;
  for (int e = 0; e < epochs && rc == 0; e++) {
    for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
      int j = (int) (rng_next (&m->rng) % (uint64_t) (i + 1));
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    DecentLossTerms sum = { 0 }, step;
    int batches = 0;
    for (int start = 0; start + 2 <= n; start += bs) {
      int count = n - start < bs ? n - start : bs;
      for (int k = 0; k < count; k++)
        memcpy (gather + (size_t) k * fb, frames + (size_t) order[start + k] * fb, fb);
      if ((rc = decent_model_train_step (m, gather, count, &step, err)) < 0)
        break;
      sum.total += step.total;
      sum.reconstruction += step.reconstruction;
      sum.decentral += step.decentral;
      batches++;
    }
    if (rc < 0 || batches == 0)
      break;
    m->epochs++;
    sum.total /= batches;
    sum.reconstruction /= batches;
    sum.decentral /= batches;
    clock_gettime (CLOCK_MONOTONIC, &t1);
    double elapsed = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    if (cb && cb (e + 1, epochs, &sum, elapsed, user))
      break;
  }
  free (order);
  return rc;
}

int
decent_model_gradients_f32 (DecentModel *m, const float *x, int n, const float *params,
    DecentLossTerms *terms, float *grads, DecentError *err)
{
  if (!m || !x || n < 2)
    return decent_fail (err, "gradients: need a model and at least 2 images");
  if (params) {
    float *p, *b;
    if (decent_model_fetch_params (m, &p, &b, err) < 0)
      return -1;
    int rc = m->ops->set_params (m->be, params, b, err);
    free (p);
    free (b);
    if (rc < 0)
      return -1;
  }
  DecentStepParams sp;
  step_params (m, &sp, 0);
  return m->ops->train_step (m->be, x, n, &sp, terms, grads, NULL, err);
}

/* ---- scoring ---------------------------------------------------------- */

/* Scoring in chunks with two in flight (backends with score_submit): chunk
 * k+1 is normalised on the CPU while chunk k computes on the device. */
static int
score_pipelined (DecentModel *m, const uint8_t *frames, int n, float *scores, float *maps,
    DecentError *err)
{
  const size_t fb = frame_bytes (m), plane = (size_t) m->cfg.width * m->cfg.height;
  const int chunks = (n + SCORE_CHUNK - 1) / SCORE_CHUNK;
  int in_slot[2] = { -1, -1 }; /* the chunk each slot holds */
  int rc = 0;
#define CHUNK_SIZE(k) ((k) == chunks - 1 ? n - (k) * SCORE_CHUNK : SCORE_CHUNK)
#define COLLECT(slot, e)                                                                  \
  m->ops->score_collect (m->be, CHUNK_SIZE (in_slot[slot]), slot,                         \
      scores + (size_t) in_slot[slot] * SCORE_CHUNK,                                      \
      maps ? maps + (size_t) in_slot[slot] * SCORE_CHUNK * plane : NULL, e)
  for (int k = 0; k < chunks && rc == 0; k++) {
    const int slot = k % 2, count = CHUNK_SIZE (k);
    if ((rc = decent_model_normalise (m, frames + (size_t) k * SCORE_CHUNK * fb, count, err)) < 0)
      break;
    if (in_slot[slot] >= 0 && (rc = COLLECT (slot, err)) < 0)
      break;
    in_slot[slot] = -1;
    if ((rc = m->ops->score_submit (m->be, m->xbuf, count, slot, maps != NULL, err)) < 0)
      break;
    in_slot[slot] = k;
  }
  /* the last two in order; after a failure, drained with the first message kept */
  for (int k = 0; k < chunks; k++) {
    const int slot = k % 2;
    if (in_slot[slot] != k)
      continue;
    DecentError ignored;
    if (COLLECT (slot, rc == 0 ? err : &ignored) < 0)
      rc = -1;
    in_slot[slot] = -1;
  }
#undef COLLECT
#undef CHUNK_SIZE
  return rc;
}

static int
score_images (DecentModel *m, const uint8_t *frames, int n, float *scores, float *maps,
    DecentError *err)
{
  if (m->ops->score_submit && m->ops->score_collect && n > SCORE_CHUNK)
    return score_pipelined (m, frames, n, scores, maps, err);
  const size_t fb = frame_bytes (m), plane = (size_t) m->cfg.width * m->cfg.height;
  for (int start = 0; start < n; start += SCORE_CHUNK) {
    int count = n - start < SCORE_CHUNK ? n - start : SCORE_CHUNK;
    if (decent_model_normalise (m, frames + (size_t) start * fb, count, err) < 0)
      return -1;
    if (m->ops->score (m->be, m->xbuf, count, scores + start,
            maps ? maps + (size_t) start * plane : NULL, NULL, err) < 0)
      return -1;
  }
  return 0;
}

/* Fault injection (DECENT_FAULT_NAN_SCORE): n images just scored. */
static void
inject_nan_scores (DecentModel *m, int n, float *scores, float *maps)
{
  const size_t plane = (size_t) m->cfg.width * m->cfg.height;
  for (int i = 0; i < n; i++) {
    if (!m->fault_nan_score || ++m->images_scored < m->fault_nan_score)
      continue;
    scores[i] = NAN;
    if (maps)
      for (size_t p = 0; p < plane; p++)
        maps[(size_t) i * plane + p] = NAN;
  }
}

int
decent_model_set_score_batch_stats (DecentModel *m, int on, DecentError *err)
{
  if (!m)
    return decent_fail (err, "batch statistics: no model");
  if (!m->ops->set_score_batch_stats)
    return decent_fail (err, "the %s backend scores with BatchNorm's running statistics only",
        m->ops->name);
  return m->ops->set_score_batch_stats (m->be, on != 0, err);
}

int
decent_model_score (DecentModel *m, const uint8_t *frames, int n, float *scores, float *maps,
    DecentError *err)
{
  if (!m || !frames || !scores)
    return decent_fail (err, "score: no model, frames or place for the scores");
  if (n < 1)
    return decent_fail (err, "score: need at least one frame, got %d", n);
  if (score_images (m, frames, n, scores, maps, err) < 0)
    return -1;
  inject_nan_scores (m, n, scores, maps);
  return 0;
}

int
decent_model_check_finite (DecentModel *m, DecentError *err)
{
  const int w = m->cfg.width, h = m->cfg.height, ch = m->cfg.channels;
  const size_t fb = frame_bytes (m);
  uint8_t *frames = malloc (2 * fb);
  float scores[2];
  if (!frames)
    return decent_fail (err, "out of memory for a probe frame");
  /* mid-grey, and a pattern with edges of every strength */
  memset (frames, 128, fb);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < ch; c++)
        frames[fb + ((size_t) y * w + x) * ch + c] = (uint8_t) (x * 37 + y * 11 + c * 101);
  const size_t plane = (size_t) w * h;
  float *maps = malloc (2 * plane * sizeof (float)), *one = malloc (plane * sizeof (float));
  /* one at a time: the one-frame plan is the one a stream scores with, so
   * the probe leaves no plan of its own in the cache */
  int rc = maps && one ? score_images (m, frames, 1, scores, maps, err)
                       : decent_fail (err, "out of memory for a probe frame");
  if (rc == 0)
    rc = score_images (m, frames + fb, 1, scores + 1, maps + plane, err);
  free (frames);
  if (rc == 0 && (!isfinite (scores[0]) || !isfinite (scores[1])))
    rc = decent_fail (err, "it scores %g on a mid-grey image and %g on a test pattern",
        scores[0], scores[1]);
  /* and in every score mode it can score in (stored statistics included) */
  for (int mode = 1; mode < DECENT_SCORE_MODES && rc == 0; mode++) {
    if (mode == DECENT_SCORE_NORMALIZED && !m->normal_div)
      continue;
    for (int i = 0; i < 2 && rc == 0; i++) {
      float s;
      memcpy (one, maps + (size_t) i * plane, plane * sizeof (float));
      rc = decent_model_score_map (m, (DecentScoreMode) mode, one, &s, err);
      if (rc == 0 && !isfinite (s))
        rc = decent_fail (err, "in score mode %s it scores %g on the %s",
            decent_score_mode_name ((DecentScoreMode) mode), s,
            i ? "test pattern" : "mid-grey image");
    }
  }
  free (maps);
  free (one);
  return rc;
}

int
decent_model_reconstruct_f32 (DecentModel *m, const float *x, int n, float *scores, float *recon,
    DecentError *err)
{
  if (!m || !x || !scores || !recon || n < 1)
    return decent_fail (err, "reconstruct: need a model, images and room for the results");
  return m->ops->score (m->be, x, n, scores, NULL, recon, err);
}

int
decent_model_reconstruct (DecentModel *m, const uint8_t *frames, int n, uint8_t *out,
    DecentError *err)
{
  if (!m || !frames || !out)
    return decent_fail (err, "reconstruct: no model, frames or place for the output");
  if (n < 1)
    return decent_fail (err, "reconstruct: need at least one frame, got %d", n);
  const size_t plane = (size_t) m->cfg.width * m->cfg.height;
  const int ch = m->cfg.channels;
  float *recon = malloc ((size_t) SCORE_CHUNK * plane * ch * sizeof (float));
  float scores[SCORE_CHUNK];
  if (!recon)
    return decent_fail (err, "out of memory for reconstructions");
  int rc = 0;
  for (int start = 0; start < n && rc == 0; start += SCORE_CHUNK) {
    int count = n - start < SCORE_CHUNK ? n - start : SCORE_CHUNK;
    if ((rc = decent_model_normalise (m, frames + (size_t) start * plane * ch, count, err)) < 0
        || (rc = m->ops->score (m->be, m->xbuf, count, scores, NULL, recon, err)) < 0)
      break;
    /* back through the input scaling to 8-bit HWC */
    for (int i = 0; i < count; i++)
      for (int c = 0; c < ch; c++)
        for (size_t p = 0; p < plane; p++) {
          float v = (recon[((size_t) i * ch + c) * plane + p] - m->cfg.input_offset)
                    / m->cfg.input_scale;
          v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
          out[((size_t) (start + i) * plane + p) * ch + c] = (uint8_t) (v + 0.5f);
        }
  }
  free (recon);
  return rc;
}

int
decent_model_has_frame_path (const DecentModel *m)
{
  return m && m->ops->score_frame && m->ops->draw_frame;
}

static int
check_frame (const DecentFrame *f, DecentError *err)
{
  if (!f)
    return decent_fail (err, "no frame given");
  const DecentFrameLayout *l = decent_frame_layout ((int) f->format);
  if (!l)
    return decent_fail (err, "unknown frame format %d", (int) f->format);
  if (f->width < 1 || f->height < 1 || f->width > 16384 || f->height > 16384)
    return decent_fail (err, "frame size %dx%d is outside 1..16384", f->width, f->height);
  for (int k = 0; k < l->planes; k++) {
    const int row = decent_frame_row_bytes (l, k, f->width);
    if (!f->data[k] || f->stride[k] < row)
      return decent_fail (err, "frame plane %d has no data or a stride (%d) below its row of "
                               "%d bytes", k, f->stride[k], row);
  }
  /* (compared without a sum that could overflow) */
  if (f->roi_x < 0 || f->roi_y < 0 || f->roi_width < 1 || f->roi_height < 1
      || f->roi_x > f->width || f->roi_width > f->width - f->roi_x
      || f->roi_y > f->height || f->roi_height > f->height - f->roi_y)
    return decent_fail (err, "region %d,%d %dx%d lies outside the %dx%d frame", f->roi_x,
        f->roi_y, f->roi_width, f->roi_height, f->width, f->height);
  return 0;
}

int
decent_model_score_frame (DecentModel *m, const DecentFrame *frame, float *score, float *map,
    DecentError *err)
{
  if (!m || !score)
    return decent_fail (err, "score frame: no model or no place for the score");
  if (check_frame (frame, err) < 0)
    return -1;
  if (!decent_model_has_frame_path (m))
    return decent_fail (err, "the %s backend has no frame path; convert frames and use "
                             "decent_model_score", m->ops->name);
  if (m->ops->score_frame (m->be, frame, m->cfg.input_scale, m->cfg.input_offset, score, map,
          err) < 0)
    return -1;
  inject_nan_scores (m, 1, score, map);
  return 0;
}

int
decent_model_draw_heatmap (DecentModel *m, DecentFrame *frame, const float *map,
    const uint8_t lut[768], float max_error, float alpha, DecentError *err)
{
  if (!m || !map || !lut)
    return decent_fail (err, "draw heatmap: no model, error map or colour map");
  if (check_frame (frame, err) < 0)
    return -1;
  if (!isfinite (max_error) || !isfinite (alpha) || alpha < 0.0f || alpha > 1.0f)
    return decent_fail (err, "draw heatmap: max error %g / alpha %g are invalid", max_error,
        alpha);
  if (!decent_model_has_frame_path (m))
    return decent_fail (err, "the %s backend has no frame path", m->ops->name);
  return m->ops->draw_frame (m->be, frame, map, lut, max_error, alpha, err);
}

/* ---- score modes ------------------------------------------------------ */

const char *
decent_score_mode_name (DecentScoreMode mode)
{
  switch (mode) {
    case DECENT_SCORE_MEAN: return "mean";
    case DECENT_SCORE_LOCAL: return "local";
    case DECENT_SCORE_NORMALIZED: return "normalized";
  }
  return "unknown";
}

static int
check_mode (const DecentModel *m, DecentScoreMode mode, DecentError *err)
{
  if ((unsigned) mode >= DECENT_SCORE_MODES)
    return decent_fail (err, "unknown score mode %d", (int) mode);
  if (mode == DECENT_SCORE_NORMALIZED && !m->normal_div)
    return decent_fail (err, "score mode normalized needs the normal errors of this model "
                             "(decent_model_learn_normal; decent-train stores them)");
  return 0;
}

int
decent_model_score_map (DecentModel *m, DecentScoreMode mode, float *map, float *score,
    DecentError *err)
{
  if (!m || !map || !score)
    return decent_fail (err, "score map: no model, map or place for the score");
  if (check_mode (m, mode, err) < 0)
    return -1;
  const int w = m->cfg.width, h = m->cfg.height;
  const size_t plane = (size_t) w * h;
  if (mode == DECENT_SCORE_MEAN) {
    *score = decent_map_mean (map, plane);
    return 0;
  }
  if (!m->sat && !(m->sat = malloc ((size_t) (w + 1) * (h + 1) * sizeof (double))))
    return decent_fail (err, "out of memory for a %dx%d score table", w + 1, h + 1);
  if (mode == DECENT_SCORE_LOCAL) {
    /* every pixel that clearly differs counts about fully, however much: a
     * small object is not outweighed by one high-contrast passer-by */
    const float t = m->cfg.local_contrast;
    for (size_t p = 0; p < plane; p++) {
      /* a NaN stays NaN, so that the score says the map is broken (not 0) */
      const float v = map[p];
      const float e = v > 0.0f ? sqrtf (v) : isnan (v) ? v : 0.0f;
      map[p] = isinf (e) ? 1.0f : e / (e + t); /* (inf / inf is no score) */
    }
  } else {
    for (size_t p = 0; p < plane; p++)
      map[p] = (map[p] - m->normal_mean[p]) / m->normal_div[p];
  }
  int ww, wh;
  decent_local_window (w, h, m->cfg.local_area, &ww, &wh);
  *score = decent_local_max (map, w, h, ww, wh,
      mode == DECENT_SCORE_LOCAL ? m->cfg.local_surround : 0.0f, m->sat);
  return 0;
}

/* The squared-error maps of up to SCORE_CHUNK frames in m->map_chunk. */
static float *
chunk_maps (DecentModel *m, DecentError *err)
{
  const size_t plane = (size_t) m->cfg.width * m->cfg.height;
  if (!m->map_chunk && !(m->map_chunk = malloc ((size_t) SCORE_CHUNK * plane * sizeof (float))))
    decent_fail (err, "out of memory for %d error maps", SCORE_CHUNK);
  return m->map_chunk;
}

int
decent_model_score_mode (DecentModel *m, DecentScoreMode mode, const uint8_t *frames, int n,
    float *scores, float *maps, DecentError *err)
{
  if (!m || !frames || !scores)
    return decent_fail (err, "score: no model, frames or place for the scores");
  if (check_mode (m, mode, err) < 0)
    return -1;
  if (mode == DECENT_SCORE_MEAN)
    return decent_model_score (m, frames, n, scores, maps, err);
  if (n < 1)
    return decent_fail (err, "score: need at least one frame, got %d", n);
  const size_t fb = frame_bytes (m), plane = (size_t) m->cfg.width * m->cfg.height;
  float *tmp = maps ? NULL : chunk_maps (m, err);
  if (!maps && !tmp)
    return -1;
  for (int start = 0; start < n; start += SCORE_CHUNK) {
    const int count = n - start < SCORE_CHUNK ? n - start : SCORE_CHUNK;
    float *mp = maps ? maps + (size_t) start * plane : tmp;
    if (decent_model_score (m, frames + (size_t) start * fb, count, scores + start, mp, err) < 0)
      return -1;
    for (int i = 0; i < count; i++)
      if (decent_model_score_map (m, mode, mp + (size_t) i * plane, scores + start + i, err) < 0)
        return -1;
  }
  return 0;
}

int
decent_model_set_normal (DecentModel *m, const float *mean, const float *sd, DecentError *err)
{
  const size_t plane = (size_t) m->cfg.width * m->cfg.height;
  float *mu = malloc (plane * sizeof (float)), *s = malloc (plane * sizeof (float));
  float *div = malloc (plane * sizeof (float));
  if (!mu || !s || !div) {
    free (mu);
    free (s);
    free (div);
    return decent_fail (err, "out of memory for the normal errors");
  }
  double sd_sum = 0.0;
  for (size_t p = 0; p < plane; p++) {
    /* bounded far above any squared error of a scaled input: a hostile file's
     * 3e38 would turn every standardised score into infinities */
    if (!isfinite (mean[p]) || !isfinite (sd[p]) || mean[p] < 0.0f || sd[p] < 0.0f
        || mean[p] > 1e6f || sd[p] > 1e6f) {
      free (mu);
      free (s);
      free (div);
      return decent_fail (err, "normal error statistics at pixel %zu are invalid (mean %g, "
          "spread %g; each must be finite, 0 to 1e6: an input_scale over about 1e3 makes "
          "errors beyond that)", p, mean[p], sd[p]);
    }
    sd_sum += sd[p];
  }
  /* a floor of 5 % of the mean deviation: where nothing ever moved, sd is
   * about 0 and any change would be infinitely unusual */
  const float sd_floor = (float) (0.05 * sd_sum / (double) plane) + 1e-12f;
  for (size_t p = 0; p < plane; p++) {
    mu[p] = mean[p];
    s[p] = sd[p];
    div[p] = sd[p] + sd_floor;
  }
  free (m->normal_mean);
  free (m->normal_sd);
  free (m->normal_div);
  m->normal_mean = mu;
  m->normal_sd = s;
  m->normal_div = div;
  return 0;
}

int
decent_model_learn_normal (DecentModel *m, const uint8_t *frames, int n, DecentError *err)
{
  if (!m || !frames)
    return decent_fail (err, "learn normal: no model or no frames");
  if (n < 2)
    return decent_fail (err, "learn normal: need at least 2 frames, got %d", n);
  const size_t fb = frame_bytes (m), plane = (size_t) m->cfg.width * m->cfg.height;
  float *tmp = chunk_maps (m, err), *scores = malloc (SCORE_CHUNK * sizeof (float));
  double *sum = calloc (2 * plane, sizeof (double));
  float *mean = malloc (2 * plane * sizeof (float));
  int rc = -1;
  if (!tmp || !scores || !sum || !mean) {
    if (tmp)
      decent_fail (err, "out of memory for the normal errors");
    goto out;
  }
  for (int start = 0; start < n; start += SCORE_CHUNK) {
    const int count = n - start < SCORE_CHUNK ? n - start : SCORE_CHUNK;
    if (decent_model_score (m, frames + (size_t) start * fb, count, scores, tmp, err) < 0)
      goto out;
    for (int i = 0; i < count; i++)
      for (size_t p = 0; p < plane; p++) {
        const double e = tmp[(size_t) i * plane + p];
        sum[p] += e;
        sum[plane + p] += e * e;
      }
  }
  float *sd = mean + plane;
  for (size_t p = 0; p < plane; p++) {
    const double mu = sum[p] / n;
    mean[p] = (float) mu;
    sd[p] = (float) sqrt (fmax (0.0, sum[plane + p] / n - mu * mu));
  }
  rc = decent_model_set_normal (m, mean, sd, err);
out:
  free (scores);
  free (sum);
  free (mean);
  return rc;
}

int
decent_model_has_normal (const DecentModel *m)
{
  return m && m->normal_div;
}

static int
cmp_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

/* The threshold at a quantile of normal scores s (sorted here), raised to
 * their mean + sigmas standard deviations when that is higher, with their
 * statistics.  A few dozen held-out frames cannot show a rare normal frame;
 * the tail of a normal law fitted to them guards against it.  The expected
 * false-alarm rate is the larger of that tail's probability and
 * (above + 1) / (n + 1): a new frame as interchangeable with the n
 * held-out ones as they are with each other is as likely as any of them to
 * be the highest of all n + 1, so a threshold at their maximum is passed by
 * about one frame in n + 1, whatever law the scores follow; fewer than that
 * is more than n frames can show.  Consecutive video frames are not
 * interchangeable, so even this is a floor (the normal law's tail alone
 * claimed 0.13 % where unseen footage had 0.3-2 % flagged). */
int
decent_calibration_from (float *s, int n, float quantile, float sigmas, DecentCalibration *cal,
    DecentError *err)
{
  qsort (s, (size_t) n, sizeof (float), cmp_float);
  double sum = 0, sq = 0;
  for (int i = 0; i < n; i++) {
    if (!isfinite (s[i]))
      return decent_fail (err, "calibrate: a held-out frame scored %g; the model is broken",
          s[i]);
    sum += s[i];
    sq += (double) s[i] * s[i];
  }
  /* linear interpolation between order statistics */
  double pos = quantile * (n - 1);
  int lo = (int) floor (pos);
  int hi = lo + 1 < n ? lo + 1 : lo;
  double thr = s[lo] + (pos - lo) * (s[hi] - s[lo]);
  const double mean = sum / n, sd = sqrt (fmax (0.0, sq / n - mean * mean));
  if (sigmas > 0 && mean + sigmas * sd > thr)
    thr = mean + sigmas * sd;
  /* standardised scores (normalized) of footage reconstructed better than
   * the training's can all lie below 0: the smallest positive threshold
   * flags no more of them, and keeps score / threshold and the file's
   * rule (a threshold >= 0) */
  if (!(thr > 0))
    thr = 1e-6;
  int above = 0;
  for (int i = 0; i < n; i++)
    above += s[i] > (float) thr;
  /* P(Z > z) of a standard normal law */
  const double tail = sd > 0 ? 0.5 * erfc ((thr - mean) / sd / sqrt (2.0)) : 0.0;
  cal->threshold = (float) thr;
  cal->quantile = quantile;
  cal->mean = (float) mean;
  cal->stddev = (float) sd;
  cal->min = s[0];
  cal->max = s[n - 1];
  cal->count = (uint32_t) n;
  cal->false_alarm_rate = (float) fmax (tail, (above + 1.0) / (n + 1.0));
  return 0;
}

static int
check_calibration_args (DecentModel *m, const uint8_t *frames, int n, float quantile,
    DecentError *err)
{
  if (!m || !frames)
    return decent_fail (err, "calibrate: no model or no frames");
  if (n < 1)
    return decent_fail (err, "calibrate: need at least one held-out frame");
  if (!(quantile > 0.0f && quantile <= 1.0f))
    return decent_fail (err, "calibrate: quantile must be in (0, 1], not %g", quantile);
  return 0;
}

int
decent_model_calibrate_mode (DecentModel *m, DecentScoreMode mode, const uint8_t *frames, int n,
    float quantile, DecentError *err)
{
  if (check_calibration_args (m, frames, n, quantile, err) < 0 || check_mode (m, mode, err) < 0)
    return -1;
  float *s = malloc ((size_t) n * sizeof (float));
  if (!s)
    return decent_fail (err, "out of memory for %d scores", n);
  DecentCalibration cal;
  int rc = decent_model_score_mode (m, mode, frames, n, s, NULL, err);
  if (rc == 0 && (rc = decent_calibration_from (s, n, quantile, 0.0f, &cal, err)) == 0)
    m->cal[mode] = cal;
  free (s);
  return rc;
}

int
decent_model_calibrate (DecentModel *m, const uint8_t *frames, int n, float quantile,
    DecentError *err)
{
  return decent_model_calibrate_mode (m, DECENT_SCORE_MEAN, frames, n, quantile, err);
}

int
decent_model_calibrate_all (DecentModel *m, const uint8_t *frames, int n, float quantile,
    float sigmas, DecentError *err)
{
  if (check_calibration_args (m, frames, n, quantile, err) < 0)
    return -1;
  if (!(sigmas >= 0.0f && sigmas <= 100.0f))
    return decent_fail (err, "calibrate: sigmas must be in [0, 100], not %g", sigmas);
  const size_t fb = frame_bytes (m), plane = (size_t) m->cfg.width * m->cfg.height;
  const int modes = m->normal_div ? DECENT_SCORE_MODES : DECENT_SCORE_NORMALIZED;
  float *s = malloc ((size_t) n * modes * sizeof (float)), *tmp = chunk_maps (m, err);
  if (!s || !tmp) {
    free (s);
    return tmp ? decent_fail (err, "out of memory for %d scores", n) : -1;
  }
  /* one forward pass; each mode reduces its copy of the same maps */
  float *one = malloc (plane * sizeof (float));
  int rc = one ? 0 : decent_fail (err, "out of memory for an error map");
  for (int start = 0; start < n && rc == 0; start += SCORE_CHUNK) {
    const int count = n - start < SCORE_CHUNK ? n - start : SCORE_CHUNK;
    rc = decent_model_score (m, frames + (size_t) start * fb, count, s + start, tmp, err);
    for (int i = 0; i < count && rc == 0; i++)
      for (int mode = 1; mode < modes && rc == 0; mode++) {
        memcpy (one, tmp + (size_t) i * plane, plane * sizeof (float));
        rc = decent_model_score_map (m, (DecentScoreMode) mode, one,
            s + (size_t) mode * n + start + i, err);
      }
  }
  DecentCalibration cal[DECENT_SCORE_MODES];
  for (int mode = 0; mode < modes && rc == 0; mode++)
    rc = decent_calibration_from (s + (size_t) mode * n, n, quantile, sigmas, &cal[mode], err);
  for (int mode = 0; mode < modes && rc == 0; mode++)
    m->cal[mode] = cal[mode];
  free (one);
  free (s);
  return rc;
}

int
decent_model_get_calibration (const DecentModel *m, DecentCalibration *out)
{
  return decent_model_get_mode_calibration (m, DECENT_SCORE_MEAN, out);
}

int
decent_model_get_mode_calibration (const DecentModel *m, DecentScoreMode mode,
    DecentCalibration *out)
{
  if (!m || !out || (unsigned) mode >= DECENT_SCORE_MODES)
    return -1;
  *out = m->cal[mode];
  return 0;
}

int
decent_model_set_mode_threshold (DecentModel *m, DecentScoreMode mode, float threshold,
    DecentError *err)
{
  if (!m)
    return decent_fail (err, "set threshold: no model");
  if ((unsigned) mode >= DECENT_SCORE_MODES)
    return decent_fail (err, "unknown score mode %d", (int) mode);
  if (!isfinite (threshold) || threshold < 0.0f)
    return decent_fail (err, "threshold must be a finite value >= 0, not %g", threshold);
  /* as the other functions of that mode: it cannot score without them */
  if (mode == DECENT_SCORE_NORMALIZED && threshold > 0.0f && !decent_model_has_normal (m))
    return decent_fail (err, "score-mode normalized needs the normal errors "
        "(decent_model_learn_normal) before a threshold");
  m->cal[mode].threshold = threshold;
  return 0;
}

int
decent_model_set_threshold (DecentModel *m, float threshold, DecentError *err)
{
  return decent_model_set_mode_threshold (m, DECENT_SCORE_MEAN, threshold, err);
}

int
decent_model_get_config (const DecentModel *m, DecentConfig *out)
{
  if (!m || !out)
    return -1;
  *out = m->cfg;
  return 0;
}

int
decent_model_describe (const DecentModel *m, DecentInfo *info)
{
  if (!m || !info)
    return -1;
  const DecentArch *a = &m->arch;
  const DecentStage *ls = &a->stages[a->latent_stage];
  memset (info, 0, sizeof *info);
  info->width = a->width;
  info->height = a->height;
  info->channels = a->channels;
  info->encoder_layers = a->n_stages / 2;
  info->kernel = a->stages[0].kernel;
  info->stride = a->stages[0].stride;
  info->latent_width = ls->out_w;
  info->latent_height = ls->out_h;
  info->latent_channels = ls->out_c;
  info->latent_dim = decent_arch_latent_dim (a);
  info->parameters = decent_arch_param_count (a);
  info->flops_forward = decent_arch_forward_flops (a);
  /* backward data and backward weights each cost about one forward */
  info->flops_train = 3.0 * info->flops_forward;
  info->backend = m->ops->name;
  info->loss = m->cfg.loss;
  info->lambda = m->cfg.lambda;
  info->steps = m->steps;
  info->epochs = m->epochs;
  return 0;
}

char *
decent_model_describe_string (const DecentModel *m)
{
  if (!m)
    return NULL;
  DecentInfo info;
  decent_model_describe (m, &info);
  size_t cap = 4096 + 160 * (size_t) m->arch.n_stages, len = 0;
  char *s = malloc (cap);
  if (!s)
    return NULL;
#define ADD(...) len += (size_t) snprintf (s + len, cap - len, __VA_ARGS__)
  ADD ("model %dx%dx%d, backend %s, loss (%d) lambda %g, %d steps\n", info.width, info.height,
      info.channels, info.backend, (int) info.loss, info.lambda, (int) info.steps);
  for (int i = 0; i < m->arch.n_stages; i++) {
    const DecentStage *st = &m->arch.stages[i];
    ADD ("  %-6s %2dx%d/2  %4d x %4d x %4d -> %4d x %4d x %4d  %s\n",
        st->kind == DECENT_STAGE_CONV ? "conv" : "deconv", st->kernel, st->kernel, st->in_w,
        st->in_h, st->in_c, st->out_w, st->out_h, st->out_c,
        st->act == DECENT_ACT_TANH ? "+bias, tanh" : "BatchNorm, LeakyReLU(0.2)");
  }
  ADD ("latent %d x %d x %d = %d units; %llu parameters; %.1f MFLOP forward, %.1f MFLOP per "
       "training image\n",
      info.latent_width, info.latent_height, info.latent_channels, info.latent_dim,
      (unsigned long long) info.parameters, info.flops_forward / 1e6, info.flops_train / 1e6);
  for (int k = 0; k < DECENT_SCORE_MODES; k++) {
    const DecentCalibration *c = &m->cal[k];
    if (c->threshold > 0)
      ADD ("score-mode %s: threshold %g (from %u held-out normal scores: mean %g, sd %g, "
           "max %g; expected false alarms %.2g %% of frames)\n", decent_score_mode_name (k),
          c->threshold, c->count, c->mean, c->stddev, c->max, 100.0 * c->false_alarm_rate);
    else
      ADD ("score-mode %s: not calibrated\n", decent_score_mode_name (k));
  }
  if (m->normal_div)
    ADD ("per-pixel normal errors stored\n");
#undef ADD
  return s;
}

const char *
decent_model_implementation (DecentModel *m)
{
  return m && m->ops->implementation ? m->ops->implementation (m->be) : "";
}
