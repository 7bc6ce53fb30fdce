/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpu_kernels.h — the element-wise arithmetic of a training step on the CPU
 * (loss terms and their gradients, running statistics, Adam).  oneDNN does
 * the convolutions, batch norm and activations; these are the few loops
 * around them, parallel with OpenMP.  All arrays are plain (NCHW / flat). */
#ifndef DECENT_CPU_KERNELS_H
#define DECENT_CPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Per image: mean over its `pixels` values of (y - x)^2 into scores[i] (may be
 * NULL).  When grad is not NULL it receives d(mean of scores)/dy = 2(y - x) /
 * (n * pixels).  When maps is not NULL it receives the per-pixel error
 * averaged over channels (n * plane values).  Returns the mean of scores. */
double decent_cpu_reconstruction (const float *x, const float *y, int n, int channels,
                                  size_t plane, float *scores, float *grad, float *maps);

/* Decentralization term d - (1/n) sum_i ||f_i - c||^2 over n latents of d
 * values (c may be NULL: the origin), its gradient times lambda into grad
 * (may be NULL) and the batch mean of f into mean (may be NULL). */
double decent_cpu_decentral (const float *f, int n, int d, const float *c, float lambda,
                             float *grad, float *mean);

/* running = (1 - momentum) running + momentum batch, with the batch variance
 * made unbiased over count values per channel. */
void decent_cpu_running_stats (float *rmean, float *rvar, const float *mean,
                               const float *var, int channels, size_t count, float momentum);

/* Adam with bias correction, step t >= 1. */
void decent_cpu_adam (float *p, const float *g, float *m, float *v, size_t count, float lr,
                      float beta1, float beta2, float eps, uint64_t t);

/* Through tanh: grad[i] *= 1 - y[i]^2, y the tanh output. */
void decent_cpu_tanh_backward (float *grad, const float *y, size_t count);

/* dst[i] += src[i] */
void decent_cpu_accumulate (float *dst, const float *src, size_t count);

#endif
