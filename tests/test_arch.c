/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The paper's two architectures: tensor shapes and parameter counts, worked
 * out by hand from the paper's description; and the rule for other sizes. */
#include "arch.h"
#include "decent.h"
#include "testutil.h"

static void
check_stage (const DecentArch *a, int i, int in_c, int out_c, int in_hw, int out_hw, int k)
{
  const DecentStage *s = &a->stages[i];
  CHECK (s->in_c == in_c && s->out_c == out_c, "stage %d channels %d->%d, want %d->%d", i,
      s->in_c, s->out_c, in_c, out_c);
  CHECK (s->in_h == in_hw && s->in_w == in_hw && s->out_h == out_hw && s->out_w == out_hw,
      "stage %d size %dx%d->%dx%d, want %d->%d", i, s->in_w, s->in_h, s->out_w, s->out_h, in_hw,
      out_hw);
  CHECK (s->kernel == k && s->stride == 2, "stage %d kernel %d stride %d", i, s->kernel, s->stride);
}

int
main (void)
{
  DecentArch a;
  char why[256];

  /* 28x28x1: three 5x5 stride-2 convs 64/128/256, 28 -> 14 -> 7 -> 4 */
  REQUIRE (decent_arch_build (&a, 28, 28, 1, 64, 512, why, sizeof why) == 0, "%s", why);
  CHECK (a.n_stages == 6, "28x28 has %d stages", a.n_stages);
  check_stage (&a, 0, 1, 64, 28, 14, 5);
  check_stage (&a, 1, 64, 128, 14, 7, 5);
  check_stage (&a, 2, 128, 256, 7, 4, 5);
  check_stage (&a, 3, 256, 128, 4, 7, 5);
  check_stage (&a, 4, 128, 64, 7, 14, 5);
  check_stage (&a, 5, 64, 1, 14, 28, 5);
  CHECK (decent_arch_latent_dim (&a) == 4096, "latent %d", decent_arch_latent_dim (&a));
  /* weights 25*(64 + 64*128 + 128*256) per side, tanh biases 256 + 1,
   * BatchNorm gamma+beta on 64, 128 (encoder) and 128, 64 (decoder) */
  long w28 = 25L * (1 * 64 + 64 * 128 + 128 * 256);
  long p28 = 2 * w28 + 256 + 1 + 2 * (64 + 128) + 2 * (128 + 64);
  CHECK ((long) decent_arch_param_count (&a) == p28, "28x28 params %zu, want %ld",
      decent_arch_param_count (&a), p28);
  CHECK (p28 == 2052225, "hand count %ld", p28); /* 1,025,600 weights per side */
  CHECK (decent_arch_buffer_count (&a) == 2 * (64 + 128 + 128 + 64), "buffers %zu",
      decent_arch_buffer_count (&a));
  CHECK (a.stages[2].act == DECENT_ACT_TANH && a.stages[5].act == DECENT_ACT_TANH
             && a.stages[0].act == DECENT_ACT_BN_LEAKY && a.stages[4].act == DECENT_ACT_BN_LEAKY,
      "activations");

  /* 256x256x3: eight 4x4 stride-2 convs, 64 doubling to 512 */
  REQUIRE (decent_arch_build (&a, 256, 256, 3, 64, 512, why, sizeof why) == 0, "%s", why);
  CHECK (a.n_stages == 16, "256x256 has %d stages", a.n_stages);
  int ch[9] = { 3, 64, 128, 256, 512, 512, 512, 512, 512 };
  for (int i = 0; i < 8; i++) {
    check_stage (&a, i, ch[i], ch[i + 1], 256 >> i, 128 >> i, 4);
    check_stage (&a, 15 - i, ch[i + 1], ch[i], 128 >> i, 256 >> i, 4);
  }
  CHECK (decent_arch_latent_dim (&a) == 512, "latent %d", decent_arch_latent_dim (&a));
  long w256 = 16L * (3 * 64 + 64 * 128 + 128 * 256 + 256 * 512 + 4L * 512 * 512);
  long bn256 = 2L * (64 + 128 + 256 + 512 * 4) + 2L * (512 * 4 + 256 + 128 + 64);
  long p256 = 2 * w256 + 512 + 3 + bn256;
  CHECK ((long) decent_arch_param_count (&a) == p256, "256x256 params %zu, want %ld",
      decent_arch_param_count (&a), p256);

  /* other sizes: every decoder stage undoes its encoder stage exactly */
  int sizes[][3] = { { 64, 48, 1 }, { 100, 75, 3 }, { 320, 240, 3 }, { 17, 9, 1 }, { 4, 4, 1 } };
  for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
    REQUIRE (decent_arch_build (&a, sizes[t][0], sizes[t][1], sizes[t][2], 64, 512, why,
                 sizeof why) == 0 || sizes[t][0] == 4,
        "%dx%d: %s", sizes[t][0], sizes[t][1], why);
    if (sizes[t][0] == 4) {
      CHECK (decent_arch_build (&a, 4, 4, 1, 64, 512, why, sizeof why) < 0, "4x4 has no layer");
      continue;
    }
    int n = a.n_stages / 2;
    const DecentStage *first = &a.stages[0], *last = &a.stages[a.n_stages - 1];
    CHECK (first->in_w == sizes[t][0] && first->in_h == sizes[t][1] && last->out_w == sizes[t][0]
               && last->out_h == sizes[t][1] && last->out_c == sizes[t][2],
        "%dx%d does not come back to its size", sizes[t][0], sizes[t][1]);
    for (int i = 0; i < n; i++) {
      const DecentStage *e = &a.stages[i], *d = &a.stages[a.n_stages - 1 - i];
      CHECK (e->out_h == (e->in_h + 1) / 2 && e->out_w == (e->in_w + 1) / 2, "halving");
      CHECK (d->in_c == e->out_c && d->out_c == e->in_c && d->out_h == e->in_h
                 && d->out_w == e->in_w,
          "decoder %d mirrors encoder %d", a.n_stages - 1 - i, i);
      /* both convolution size equations hold with the chosen padding */
      CHECK ((e->in_h + e->pad_t + e->pad_b - e->kernel) / 2 + 1 == e->out_h,
          "conv height equation");
      CHECK ((d->in_w - 1) * 2 + d->kernel - d->pad_l - d->pad_r == d->out_w,
          "deconv width equation");
    }
  }
  CHECK (decent_arch_build (&a, 28, 28, 2, 64, 512, why, sizeof why) < 0, "2 channels refused");
  CHECK (decent_arch_build (&a, 3, 28, 1, 64, 512, why, sizeof why) < 0, "3 pixels refused");
  CHECK (decent_arch_build (&a, 28, 28, 1, 64, 32, why, sizeof why) < 0, "max < base refused");
  return tu_finish ("arch");
}
