/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpu_kernels.c — element-wise loops of a CPU training step (see header). */
#include "cpu_kernels.h"

#include <math.h>

double
decent_cpu_reconstruction (const float *x, const float *y, int n, int channels,
    size_t plane, float *scores, float *grad, float *maps)
{
  const size_t pixels = plane * (size_t) channels;
  const float gscale = 2.0f / ((float) n * (float) pixels);
  double total = 0.0;

#pragma omp parallel for reduction(+ : total) schedule(static)
  for (int i = 0; i < n; i++) {
    const float *xi = x + (size_t) i * pixels;
    const float *yi = y + (size_t) i * pixels;
    double sum = 0.0;
    for (size_t k = 0; k < pixels; k++) {
      float d = yi[k] - xi[k];
      sum += (double) d * d;
    }
    if (grad) {
      float *gi = grad + (size_t) i * pixels;
      for (size_t k = 0; k < pixels; k++)
        gi[k] = gscale * (yi[k] - xi[k]);
    }
    if (maps) {
      float *mi = maps + (size_t) i * plane;
      for (size_t p = 0; p < plane; p++)
        mi[p] = 0.0f;
      for (int c = 0; c < channels; c++)
        for (size_t p = 0; p < plane; p++) {
          float d = yi[c * plane + p] - xi[c * plane + p];
          mi[p] += d * d;
        }
      for (size_t p = 0; p < plane; p++)
        mi[p] /= (float) channels;
    }
    double score = sum / (double) pixels;
    if (scores)
      scores[i] = (float) score;
    total += score;
  }
  return total / n;
}

double
decent_cpu_decentral (const float *f, int n, int d, const float *c, float lambda,
    float *grad, float *mean)
{
  double spread = 0.0;
  const float gscale = -2.0f * lambda / (float) n;

#pragma omp parallel for reduction(+ : spread) schedule(static)
  for (int i = 0; i < n; i++) {
    const float *fi = f + (size_t) i * d;
    float *gi = grad ? grad + (size_t) i * d : NULL;
    double sum = 0.0;
    for (int j = 0; j < d; j++) {
      float v = fi[j] - (c ? c[j] : 0.0f);
      sum += (double) v * v;
      if (gi)
        gi[j] = gscale * v;
    }
    spread += sum;
  }
  if (mean) {
#pragma omp parallel for schedule(static)
    for (int j = 0; j < d; j++) {
      double s = 0.0;
      for (int i = 0; i < n; i++)
        s += f[(size_t) i * d + j];
      mean[j] = (float) (s / n);
    }
  }
  return (double) d - spread / n;
}

void
decent_cpu_running_stats (float *rmean, float *rvar, const float *mean, const float *var,
    int channels, size_t count, float momentum)
{
  const float unbias = count > 1 ? (float) count / (float) (count - 1) : 1.0f;
  for (int c = 0; c < channels; c++) {
    rmean[c] = (1.0f - momentum) * rmean[c] + momentum * mean[c];
    rvar[c] = (1.0f - momentum) * rvar[c] + momentum * var[c] * unbias;
  }
}

void
decent_cpu_adam (float *p, const float *g, float *m, float *v, size_t count, float lr,
    float beta1, float beta2, float eps, uint64_t t)
{
  const float c1 = 1.0f / (1.0f - powf (beta1, (float) t));
  const float c2 = 1.0f / (1.0f - powf (beta2, (float) t));

#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < count; i++) {
    float gi = g[i];
    float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr * (mi * c1) / (sqrtf (vi * c2) + eps);
  }
}

void
decent_cpu_accumulate (float *dst, const float *src, size_t count)
{
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < count; i++)
    dst[i] += src[i];
}

void
decent_cpu_tanh_backward (float *grad, const float *y, size_t count)
{
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < count; i++)
    grad[i] *= 1.0f - y[i] * y[i];
}
