/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arch.h — the network's shape, derived from the input geometry by the
 * paper's rule (see docs/method.md).  Backend-neutral. */
#ifndef DECENT_ARCH_H
#define DECENT_ARCH_H

#include <stddef.h>
#include <stdint.h>

#define DECENT_MAX_LAYERS 12          /* per side */
#define DECENT_MAX_STAGES (2 * DECENT_MAX_LAYERS)

typedef enum {
  DECENT_STAGE_CONV,   /* encoder: convolution */
  DECENT_STAGE_DECONV, /* decoder: transposed convolution */
} DecentStageKind;

typedef enum {
  DECENT_ACT_BN_LEAKY, /* BatchNorm then LeakyReLU(0.2) */
  DECENT_ACT_TANH,     /* last layer of each side: bias then tanh */
} DecentActKind;

/* One conv or transposed conv with what follows it.  Spatial sizes are the
 * op's input (in_*) and output (out_*); padding is the same for a conv and the
 * transposed conv that mirrors it. */
typedef struct {
  DecentStageKind kind;
  DecentActKind act;
  int in_c, out_c;
  int in_h, in_w, out_h, out_w;
  int kernel, stride;
  int pad_t, pad_l, pad_b, pad_r;
  int has_bias; /* only the layers without BatchNorm */
} DecentStage;

typedef struct {
  int width, height, channels;
  int n_stages; /* 2 * encoder layers */
  int latent_stage; /* index of the encoder's last stage */
  DecentStage stages[DECENT_MAX_STAGES];
} DecentArch;

/* Builds the architecture; returns 0, or -1 with a reason in err. */
int decent_arch_build(DecentArch *arch, int width, int height, int channels,
                      int base_channels, int max_channels, char *err, size_t errlen);
/* The same with the halving stopped once the smaller side is at most
 * latent_side (0: the paper's rule). */
int decent_arch_build_latent(DecentArch *arch, int width, int height, int channels,
                             int base_channels, int max_channels, int latent_side, char *err,
                             size_t errlen);

/* Trainable parameters in canonical order: per stage, weights (o,i,kh,kw;
 * for a transposed conv o is its output channel), bias, gamma, beta.
 * Buffers (not trained): per BN stage running mean then running variance. */
size_t decent_arch_weights_count(const DecentStage *s);
size_t decent_arch_param_count(const DecentArch *arch);
/* Where each stage's parameters sit in that order: offsets into the
 * parameters (weights, bias, gamma, beta) and the buffers (running mean,
 * running variance), DECENT_NO_OFFSET for what a stage does not have.  The
 * one walk over the layout: everything else asks this.  out (may be NULL)
 * gets n_stages entries, *buffers (may be NULL) the buffer count; returns
 * the parameter count. */
#define DECENT_NO_OFFSET ((size_t) -1)
typedef struct {
  size_t weights, bias, gamma, beta;
  size_t running_mean, running_var;
} DecentStageOffsets;
size_t decent_arch_offsets(const DecentArch *arch, DecentStageOffsets *out, size_t *buffers);
size_t decent_arch_buffer_count(const DecentArch *arch);
int decent_arch_latent_dim(const DecentArch *arch);
double decent_arch_forward_flops(const DecentArch *arch);
/* Bytes of one image's forward pass: the input and every stage's output,
 * float32 (what scoring one frame holds at once, besides the parameters). */
uint64_t decent_arch_working_set_bytes(const DecentArch *arch);

#endif
