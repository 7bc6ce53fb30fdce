/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public frame-path and reconstruction calls on the CPU backend: frames
 * are checked before anything else and every refusal says why; the CPU
 * backend says it has no frame path; reconstructions come back as 8-bit
 * frames whose error agrees with the score. */
#include "decent.h"
#include "testutil.h"

#include <limits.h>
#include <string.h>

int
main (void)
{
  DecentConfig cfg;
  DecentError err = { { 0 } };
  decent_config_init (&cfg, 16, 12, 3);
  cfg.device = DECENT_DEVICE_CPU;
  cfg.base_channels = 8;
  cfg.max_channels = 32;
  DecentModel *m = decent_model_new (&cfg, &err);
  REQUIRE (m, "%s", err.message);
  CHECK (!decent_model_has_frame_path (m), "the CPU backend converts no frames itself");

  uint8_t buf[64 * 48 * 3];
  memset (buf, 90, sizeof buf);
  DecentFrame f = { .format = DECENT_FRAME_RGB, .width = 64, .height = 48, .data = { buf },
    .stride = { 64 * 3 }, .roi_x = 0, .roi_y = 0, .roi_width = 64, .roi_height = 48 };
  float score = -1;
  static const uint8_t lut[768];

  struct { const char *what; DecentFrame f; const char *expect; } bad[] = {
    { "region outside", f, "lies outside" },
    { "no plane", f, "no data" },
    { "unknown format", f, "unknown frame format" },
    { "zero size", f, "outside 1..16384" },
    /* x + width overflows an int: it wrapped negative and passed */
    { "region past INT_MAX", f, "lies outside" },
  };
  bad[0].f.roi_width = 65;
  bad[1].f.data[0] = NULL;
  bad[2].f.format = (DecentFrameFormat) 42;
  bad[3].f.width = 0;
  bad[4].f.roi_x = 10;
  bad[4].f.roi_width = INT_MAX;
  DecentFrame narrow = f;
  narrow.stride[0] = 64 * 3 - 1;
  CHECK (decent_model_score_frame (m, &narrow, &score, NULL, &err) < 0
             && strstr (err.message, "stride (191)"), "short stride: \"%s\"", err.message);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err.message[0] = 0;
    CHECK (decent_model_score_frame (m, &bad[i].f, &score, NULL, &err) < 0, "%s accepted",
        bad[i].what);
    CHECK (strstr (err.message, bad[i].expect), "%s: message \"%s\"", bad[i].what, err.message);
  }
  DecentFrame i420 = f;
  i420.format = DECENT_FRAME_I420; /* three planes needed */
  CHECK (decent_model_score_frame (m, &i420, &score, NULL, &err) < 0
             && strstr (err.message, "plane 1"), "I420 without chroma planes: \"%s\"", err.message);
  CHECK (decent_model_score_frame (m, &f, &score, NULL, &err) < 0
             && strstr (err.message, "no frame path"), "valid frame on CPU: \"%s\"", err.message);
  float map[64 * 48] = { 0 }; /* an error map at model size */
  CHECK (decent_model_draw_heatmap (m, &f, map, lut, 1.0f, 0.5f, &err) < 0
             && strstr (err.message, "no frame path"), "draw on CPU: \"%s\"", err.message);
  CHECK (decent_model_draw_heatmap (m, &f, map, lut, 1.0f, 1.5f, &err) < 0
             && strstr (err.message, "alpha"), "alpha 1.5: \"%s\"", err.message);
  CHECK (decent_model_draw_heatmap (m, &f, NULL, lut, 1.0f, 0.5f, &err) < 0
             && strstr (err.message, "error map"), "no map: \"%s\"", err.message);
  CHECK (decent_model_score_frame (NULL, &f, &score, NULL, &err) < 0, "no model accepted");

  /* reconstructions: 8-bit, and their error matches the score */
  const int n = 3;
  const size_t px = 16 * 12 * 3;
  uint8_t frames[3 * 16 * 12 * 3], recon[3 * 16 * 12 * 3];
  uint64_t s = 7;
  for (size_t i = 0; i < sizeof frames; i++)
    frames[i] = (uint8_t) (tu_rand (&s) & 0xff);
  float scores[3];
  REQUIRE (decent_model_score (m, frames, n, scores, NULL, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_reconstruct (m, frames, n, recon, &err) == 0, "%s", err.message);
  for (int i = 0; i < n; i++) {
    double e = 0;
    for (size_t k = 0; k < px; k++) {
      double d = ((double) recon[i * px + k] - frames[i * px + k]) / 127.5;
      e += d * d;
    }
    e /= px;
    /* rounding the reconstruction to 8 bits moves each value by < 0.5/127.5 */
    CHECK (fabs (e - scores[i]) < 0.01 * scores[i] + 1e-4, "image %d: error of the 8-bit "
        "reconstruction %g, score %g", i, e, scores[i]);
  }
  CHECK (decent_model_reconstruct (m, frames, 0, recon, &err) < 0
             && strstr (err.message, "at least one"), "n = 0: \"%s\"", err.message);
  decent_model_free (m);
  return tu_finish ("frame_api");
}
