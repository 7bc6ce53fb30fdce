/* decent-bench — engine throughput on this machine, side by side with the
 * machine's single-precision matrix-multiply throughput measured in the same
 * run (oneDNN sgemm, all cores), so that the fractions are comparable across
 * noisy shared machines.
 *
 *   decent-bench [--seconds S] [--quick] [--mnist-only]   (28x28 model only)
 */
#include "decent.h"

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

static DecentModel *
make (int w, int h, int c)
{
  DecentConfig cfg;
  DecentError err;
  decent_config_init (&cfg, w, h, c);
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *m = decent_model_new (&cfg, &err);
  if (!m) {
    fprintf (stderr, "decent-bench: %s\n", err.message);
    exit (1);
  }
  return m;
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

int
main (int argc, char **argv)
{
  double seconds = 3.0;
  int quick = 0, mnist_only = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--seconds") && i + 1 < argc)
      seconds = atof (argv[++i]);
    else if (!strcmp (argv[i], "--quick"))
      quick = 1;
    else if (!strcmp (argv[i], "--mnist-only"))
      mnist_only = 1;
    else {
      fprintf (stderr, "usage: decent-bench [--seconds S] [--quick] [--mnist-only]\n");
      return 2;
    }
  }
  if (quick)
    seconds = 0.5;
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
