/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decent-bench — engine throughput on this machine, side by side with the
 * machine's single-precision matrix-multiply throughput measured in the same
 * run (oneDNN sgemm, all cores), so that the fractions are comparable across
 * noisy shared machines.
 *
 *   decent-bench [--seconds S] [--quick] [--mnist-only]   (28x28 model only)
 *   decent-bench --device cuda [--seconds S] [--save-default PATH]
 *
 * On the GPU the figures are TFLOP/s (no sgemm reference): the paper models,
 * the plugin's former default (128x96x3, latent 8x6, 16..128 channels), and the
 * frame path on 1080p NV12
 * frames (upload, convert, score, draw the heatmap, download), which is what
 * decentanomaly does per frame.  --save-default writes the default-geometry
 * model used, for a pipeline benchmark.
 */
#include "decent.h"
#include "model_internal.h" /* the implementations chosen, for the report */

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double
sgemm_gflops (double seconds)
{
  const int n = 1024;
  float *a = malloc (sizeof (float) * n * n), *b = malloc (sizeof (float) * n * n),
        *c = malloc (sizeof (float) * n * n);
  for (int i = 0; i < n * n; i++) {
    a[i] = (float) (i % 7) * 0.1f;
    b[i] = (float) (i % 5) * 0.1f;
  }
  dnnl_sgemm ('N', 'N', n, n, n, 1.0f, a, n, b, n, 0.0f, c, n); /* warm up */
  double best = 0, t_end = now () + seconds;
  while (now () < t_end) {
    double t0 = now ();
    dnnl_sgemm ('N', 'N', n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double g = 2.0 * n * n * n / (now () - t0) / 1e9;
    if (g > best)
      best = g;
  }
  free (a);
  free (b);
  free (c);
  return best;
}

static uint8_t *
random_frames (size_t bytes)
{
  uint8_t *p = malloc (bytes);
  uint64_t s = 99;
  for (size_t i = 0; i < bytes; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    p[i] = (uint8_t) (s >> 56);
  }
  return p;
}

static DecentDevice bench_device = DECENT_DEVICE_CPU;

/* latent_side 0: the paper's architecture; otherwise the plugin's video
 * former default (decent-train: latent side 6, 16..128 channels) */
static DecentModel *
make_model (int w, int h, int c, int latent_side)
{
  DecentConfig cfg;
  DecentError err;
  decent_config_init (&cfg, w, h, c);
  cfg.device = bench_device;
  if (latent_side) {
    cfg.latent_side = latent_side;
    cfg.base_channels = 16;
    cfg.max_channels = 128;
  }
  DecentModel *m = decent_model_new (&cfg, &err);
  if (!m) {
    fprintf (stderr, "decent-bench: %s\n", err.message);
    exit (1);
  }
  return m;
}

static DecentModel *
make (int w, int h, int c)
{
  return make_model (w, h, c, 0);
}

/* images per second of train steps (train != 0) or scoring, batch n */
static double
measure (DecentModel *m, int train, int n, double seconds)
{
  DecentInfo info;
  DecentError err;
  decent_model_describe (m, &info);
  size_t fb = (size_t) info.width * info.height * info.channels;
  uint8_t *frames = random_frames (fb * n);
  float *scores = malloc (sizeof (float) * n);
  int warm = 2, done = 0;
  double t0 = 0;
  for (;;) {
    int rc = train ? decent_model_train_step (m, frames, n, NULL, &err)
                   : decent_model_score (m, frames, n, scores, NULL, &err);
    if (rc < 0) {
      fprintf (stderr, "decent-bench: %s\n", err.message);
      exit (1);
    }
    if (warm > 0 && --warm == 0) {
      t0 = now ();
      continue;
    }
    if (warm == 0) {
      done++;
      if (now () - t0 >= seconds && done >= 2)
        break;
    }
  }
  double rate = (double) done * n / (now () - t0);
  free (frames);
  free (scores);
  return rate;
}

static void
report (const char *what, DecentModel *m, int train, int n, double seconds, double peak)
{
  DecentInfo info;
  decent_model_describe (m, &info);
  double rate = measure (m, train, n, seconds);
  double flops = train ? info.flops_train : info.flops_forward;
  double gflops = rate * flops / 1e9;
  printf ("%-34s batch %3d  %9.1f images/s  %7.1f GFLOP/s  %5.1f %% of sgemm\n", what, n, rate,
      gflops, 100.0 * gflops / peak);
  fflush (stdout);
}

static void
report_gpu (const char *what, DecentModel *m, int train, int n, double seconds)
{
  DecentInfo info;
  decent_model_describe (m, &info);
  double rate = measure (m, train, n, seconds);
  double flops = train ? info.flops_train : info.flops_forward;
  printf ("%-34s batch %3d  %9.1f images/s  %7.2f TFLOP/s\n", what, n, rate, rate * flops / 1e12);
  fflush (stdout);
}

/* frames/s of the per-frame work of decentanomaly with the frame path:
 * score a 1080p NV12 frame, then draw its heatmap over it */
static void
report_frame_path (DecentModel *m, double seconds, int draw)
{
  const int w = 1920, h = 1080;
  DecentError err;
  uint8_t *buf = random_frames ((size_t) w * h * 3 / 2);
  DecentFrame f = { .format = DECENT_FRAME_NV12, .width = w, .height = h,
    .data = { buf, buf + (size_t) w * h }, .stride = { w, w },
    .roi_width = w, .roi_height = h };
  static uint8_t lut[768];
  DecentConfig cfg;
  decent_model_get_config (m, &cfg);
  float score, *map = calloc ((size_t) cfg.width * cfg.height, sizeof (float));
  int done = 0;
  double t0 = 0;
  for (int k = -2; ; k++) {
    if (k == 0)
      t0 = now ();
    if (decent_model_score_frame (m, &f, &score, draw ? map : NULL, &err) < 0
        || (draw && decent_model_draw_heatmap (m, &f, map, lut, 0.05f, 0.5f, &err) < 0)) {
      fprintf (stderr, "decent-bench: %s\n", err.message);
      exit (1);
    }
    if (k >= 0 && ++done >= 2 && now () - t0 >= seconds)
      break;
  }
  DecentInfo info;
  decent_model_describe (m, &info);
  double rate = done / (now () - t0);
  printf ("%-34s           %9.1f frames/s  %7.2f TFLOP/s\n",
      draw ? "1080p NV12 frame path, score+draw" : "1080p NV12 frame path, score", rate,
      rate * info.flops_forward / 1e12);
  free (buf);
  free (map);
}

static int
main_gpu (double seconds, const char *save_path)
{
  if (!decent_device_available (DECENT_DEVICE_CUDA)) {
    printf ("decent-bench: no GPU: %s\n", decent_device_describe (DECENT_DEVICE_CUDA));
    return 77;
  }
  bench_device = DECENT_DEVICE_CUDA;
  printf ("decent-bench: CUDA backend on %s\n", decent_device_describe (DECENT_DEVICE_CUDA));
  DecentModel *m28 = make (28, 28, 1);
  report_gpu ("28x28x1 train", m28, 1, 64, seconds);
  report_gpu ("28x28x1 train", m28, 1, 512, seconds);
  report_gpu ("28x28x1 score", m28, 0, 64, seconds);
  decent_model_free (m28);

  DecentModel *mdef = make_model (128, 96, 3, 6);
  DecentInfo info;
  decent_model_describe (mdef, &info);
  printf ("128x96x3 model: %.1f MFLOP forward\n", info.flops_forward / 1e6);
  report_gpu ("128x96x3 (former default) train", mdef, 1, 64, seconds);
  report_gpu ("128x96x3 (former default) score (one frame)", mdef, 0, 1, seconds);
  report_gpu ("128x96x3 (former default) score", mdef, 0, 64, seconds);
  report_frame_path (mdef, seconds, 0);
  report_frame_path (mdef, seconds, 1);
  DecentError err;
  if (save_path && decent_model_save (mdef, save_path, &err) < 0) {
    fprintf (stderr, "decent-bench: %s\n", err.message);
    return 1;
  }
  decent_model_free (mdef);

  DecentModel *m256 = make (256, 256, 3);
  report_gpu ("256x256x3 train", m256, 1, 16, seconds);
  report_gpu ("256x256x3 train", m256, 1, 64, seconds);
  report_gpu ("256x256x3 score (one frame)", m256, 0, 1, seconds);
  report_gpu ("256x256x3 score", m256, 0, 32, seconds);
  printf ("implementation: %s\n", decent_model_implementation (m256));
  decent_model_free (m256);
  return 0;
}

int
main (int argc, char **argv)
{
  double seconds = 3.0;
  int quick = 0, mnist_only = 0, gpu = 0;
  const char *save_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--seconds") && i + 1 < argc)
      seconds = atof (argv[++i]);
    else if (!strcmp (argv[i], "--device") && i + 1 < argc)
      gpu = !strcmp (argv[++i], "cuda");
    else if (!strcmp (argv[i], "--save-default") && i + 1 < argc)
      save_path = argv[++i];
    else if (!strcmp (argv[i], "--quick"))
      quick = 1;
    else if (!strcmp (argv[i], "--mnist-only"))
      mnist_only = 1;
    else {
      fprintf (stderr, "usage: decent-bench [--seconds S] [--quick] [--mnist-only] "
                       "[--device cpu|cuda] [--save-default PATH]\n");
      return 2;
    }
  }
  if (quick)
    seconds = 0.5;
  if (gpu)
    return main_gpu (seconds, save_path);
  printf ("decent-bench: oneDNN CPU backend, %d threads\n", omp_get_max_threads ());
  double peak = sgemm_gflops (seconds);
  printf ("%-34s %s %.1f GFLOP/s (1024^3, best of %.0f s)\n", "sgemm reference", "", peak,
      seconds);

  DecentModel *m28 = make (28, 28, 1);
  DecentInfo info;
  decent_model_describe (m28, &info);
  printf ("28x28x1 model: %llu parameters, %.1f MFLOP forward, %.1f MFLOP per training image\n",
      (unsigned long long) info.parameters, info.flops_forward / 1e6, info.flops_train / 1e6);
  report ("28x28x1 train", m28, 1, 64, seconds, peak);
  report ("28x28x1 score", m28, 0, 64, seconds, peak);
  decent_model_free (m28);
  if (mnist_only)
    return 0;

  /* the former video default, one frame a call (an element of its own) against the
   * batches a shared engine (model-instance-id) scores: what batching gains */
  DecentModel *mdef = make_model (128, 96, 3, 6);
  decent_model_describe (mdef, &info);
  printf ("128x96x3 (former default) model: %.1f MFLOP forward\n", info.flops_forward / 1e6);
  report ("128x96x3 (former default) score", mdef, 0, 1, seconds, peak);
  report ("128x96x3 (former default) score", mdef, 0, 4, seconds, peak);
  report ("128x96x3 (former default) score", mdef, 0, 16, seconds, peak);
  decent_model_free (mdef);

  DecentModel *m256 = make (256, 256, 3);
  decent_model_describe (m256, &info);
  printf ("256x256x3 model: %llu parameters, %.1f MFLOP forward\n",
      (unsigned long long) info.parameters, info.flops_forward / 1e6);
  report ("256x256x3 score (one frame)", m256, 0, 1, seconds, peak);
  report ("256x256x3 score", m256, 0, 8, seconds, peak);
  if (!quick)
    report ("256x256x3 train", m256, 1, 16, seconds, peak);
  decent_model_free (m256);
  return 0;
}
