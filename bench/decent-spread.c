/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decent-spread — whether a model's reconstructions follow their inputs:
 * the per-pixel standard deviation across frames of the reconstructions
 * g(f(x)) against that of the inputs x, in grey levels.  A decoder that draws
 * one template for every input (docs/method.md) has a spread near 0.
 *
 *   decent-spread MODEL FRAMES
 *
 * FRAMES: packed 8-bit frames at the model's geometry (width x height x
 * channels bytes each, e.g. gst-launch-1.0 … ! videoscale !
 * video/x-raw,format=RGB,width=128,height=96 ! filesink). */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>

#include "decent.h"

/* mean over pixels and channels of the standard deviation across frames */
static double
spread (const uint8_t *frames, size_t n, size_t bytes)
{
  double total = 0.0;
  for (size_t p = 0; p < bytes; p++) {
    double s = 0.0, sq = 0.0;
    for (size_t i = 0; i < n; i++) {
      const double v = frames[i * bytes + p];
      s += v;
      sq += v * v;
    }
    const double mean = s / n, var = sq / n - mean * mean;
    total += var > 0 ? sqrt (var) : 0.0;
  }
  return total / bytes;
}

int
main (int argc, char **argv)
{
  if (argc != 3) {
    fprintf (stderr, "usage: decent-spread MODEL FRAMES\n");
    return 2;
  }
  DecentError err;
  DecentModel *m = decent_model_load (argv[1], DECENT_DEVICE_CPU, &err);
  if (!m) {
    fprintf (stderr, "decent-spread: %s\n", err.message);
    return 1;
  }
  DecentConfig cfg;
  decent_model_get_config (m, &cfg);
  const size_t bytes = (size_t) cfg.width * cfg.height * cfg.channels;
  FILE *f = fopen (argv[2], "rb");
  if (!f) {
    perror (argv[2]);
    return 1;
  }
  fseek (f, 0, SEEK_END);
  const long len = ftell (f);
  fseek (f, 0, SEEK_SET);
  const size_t n = len > 0 ? (size_t) len / bytes : 0;
  uint8_t *x = malloc (n * bytes + 1), *y = malloc (n * bytes + 1);
  if (n < 2 || !x || !y || fread (x, bytes, n, f) != n) {
    fprintf (stderr, "decent-spread: %s holds fewer than 2 frames of %dx%dx%d\n", argv[2],
        cfg.width, cfg.height, cfg.channels);
    return 1;
  }
  fclose (f);
  if (decent_model_reconstruct (m, x, (int) n, y, &err) < 0) {
    fprintf (stderr, "decent-spread: %s\n", err.message);
    return 1;
  }
  const double in = spread (x, n, bytes), out = spread (y, n, bytes);
  printf ("frames %zu inputs %.3f reconstructions %.3f ratio %.4f\n", n, in, out,
      in > 0 ? out / in : 0.0);
  free (x);
  free (y);
  decent_model_free (m);
  return 0;
}
