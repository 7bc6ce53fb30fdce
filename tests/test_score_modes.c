/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Score modes: the local window and its maximum on maps whose answer is
 * known; a small object counts in full in the local score and is diluted in
 * the mean; every mode agrees between frames and maps; normal errors,
 * calibration with a normal tail, and all of it through save and load
 * (a file without the sections has only the mean's calibration); the latent
 * side keeps a grid of latent cells and survives the file. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decent.h"
#include "localscore.h"
#include "model_internal.h"
#include "testutil.h"

enum { W = 32, H = 24, N = 24 };

static void
windows_and_maxima (void)
{
  int ww, wh;
  decent_local_window (128, 96, 0.01f, &ww, &wh);
  CHECK (ww == 13 && wh == 10, "1 %% of 128x96: %dx%d", ww, wh);
  decent_local_window (128, 96, 1e-6f, &ww, &wh);
  CHECK (ww == 1 && wh == 1, "tiny area: %dx%d", ww, wh);
  decent_local_window (128, 96, 1.0f, &ww, &wh);
  CHECK (ww == 128 && wh == 96, "whole frame: %dx%d", ww, wh);

  /* a 4x3 block of 1.0 in a map of zeros: the best 4x3 window is it */
  float map[W * H];
  double sat[(W + 1) * (H + 1)];
  memset (map, 0, sizeof map);
  for (int y = 7; y < 10; y++)
    for (int x = 20; x < 24; x++)
      map[y * W + x] = 1.0f;
  CHECK (decent_local_max (map, W, H, 4, 3, 0.0f, sat) == 1.0f, "block found");
  CHECK (fabsf (decent_local_max (map, W, H, 8, 6, 0.0f, sat) - 12.0f / 48.0f) < 1e-6f,
      "a larger window holds a quarter of it");
  CHECK (decent_local_max (map, W, H, W, H, 0.0f, sat) == decent_map_mean (map, W * H),
      "a whole-frame window is the mean");
  /* windows lie inside the map: a block at the corner is found whole */
  memset (map, 0, sizeof map);
  map[0] = 6.0f;
  CHECK (fabsf (decent_local_max (map, W, H, 2, 3, 0.0f, sat) - 1.0f) < 1e-6f, "corner");
  map[5 * W + 5] = NAN;
  CHECK (isnan (decent_local_max (map, W, H, 2, 3, 0.0f, sat)), "NaN is not hidden by the maximum");
}

/* The surround: a window less surround times how much hotter than the map
 * its ring (a quarter of the window on each side) is.  A thing of the
 * window's size keeps its score, a wider one loses it, and a change of the
 * whole map keeps its level; the hot windows agree with the maximum. */
static void
surround_windows (void)
{
  float map[W * H], means[W * H];
  double sat[(W + 1) * (H + 1)];
  DecentWindow win[8];
  /* a 4x3 block of 1.0: its ring (6x5 less the window) is 0, the map's
   * mean 12/768, so the block gains surround times that mean */
  memset (map, 0, sizeof map);
  for (int y = 7; y < 10; y++)
    for (int x = 20; x < 24; x++)
      map[y * W + x] = 1.0f;
  const float compact = decent_local_max (map, W, H, 4, 3, 0.5f, sat);
  CHECK (fabsf (compact - (1.0f + 0.5f * 12.0f / (W * H))) < 1e-6f, "compact block %g", compact);
  CHECK (decent_local_hot_windows (map, W, H, 4, 3, 0.5f, 0.9, win, 8, sat, means) == 1
      && win[0].x == 20 && win[0].y == 7 && win[0].mean == compact, "its hot window %d,%d %g",
      win[0].x, win[0].y, win[0].mean);
  /* a 12x9 block of 1.0 (nine windows): the same plain score, but every
   * window's ring is hot; the best keeps a corner outside the block */
  memset (map, 0, sizeof map);
  for (int y = 6; y < 15; y++)
    for (int x = 10; x < 22; x++)
      map[y * W + x] = 1.0f;
  CHECK (decent_local_max (map, W, H, 4, 3, 0.0f, sat) == 1.0f, "plain: the wide block is 1");
  const float wide = decent_local_max (map, W, H, 4, 3, 0.5f, sat);
  const float corner = 1.0f - 0.5f * (8.0f / 18.0f - 108.0f / (W * H));
  CHECK (fabsf (wide - corner) < 1e-6f && wide < compact, "wide block %g (want %g, below %g)",
      wide, corner, compact);
  CHECK (decent_local_hot_windows (map, W, H, 4, 3, 0.5f, 0.5, win, 8, sat, means) >= 1
      && win[0].mean == wide, "the hottest window is the maximum: %g", win[0].mean);
  /* the whole map at 0.7: ring and map alike, nothing lost */
  for (int i = 0; i < W * H; i++)
    map[i] = 0.7f;
  CHECK (fabsf (decent_local_max (map, W, H, 4, 3, 2.0f, sat) - 0.7f) < 1e-6f,
      "a change of the whole map keeps its level");
  map[3 * W + 3] = NAN;
  CHECK (isnan (decent_local_max (map, W, H, 4, 3, 0.5f, sat)), "NaN is not hidden");
}

/* Hot windows: the places above the threshold, hottest first, never
 * overlapping, the first one the local maximum; none when nothing is hot. */
static void
hot_windows (void)
{
  float map[W * H], means[W * H];
  double sat[(W + 1) * (H + 1)];
  DecentWindow win[8];
  memset (map, 0, sizeof map);
  /* two blocks of 4x3: 1.0 at (20, 7), 0.5 at (2, 15) */
  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 4; x++) {
      map[(7 + y) * W + 20 + x] = 1.0f;
      map[(15 + y) * W + 2 + x] = 0.5f;
    }
  int n = decent_local_hot_windows (map, W, H, 4, 3, 0.0f, 0.2, win, 8, sat, means);
  CHECK (n == 2, "two places, got %d", n);
  CHECK (win[0].x == 20 && win[0].y == 7 && win[0].mean == 1.0f, "hottest first: %d,%d %g",
      win[0].x, win[0].y, win[0].mean);
  CHECK (win[0].mean == decent_local_max (map, W, H, 4, 3, 0.0f, sat), "the first is the maximum");
  CHECK (win[1].x == 2 && win[1].y == 15 && fabsf (win[1].mean - 0.5f) < 1e-6f
      && win[1].width == 4 && win[1].height == 3, "then the other: %d,%d %g", win[1].x,
      win[1].y, win[1].mean);
  /* the threshold is strict, and max is kept */
  CHECK (decent_local_hot_windows (map, W, H, 4, 3, 0.0f, 0.5, win, 8, sat, means) == 1,
      "a window at the threshold is not hot");
  CHECK (decent_local_hot_windows (map, W, H, 4, 3, 0.0f, 0.2, win, 1, sat, means) == 1, "max 1");
  CHECK (decent_local_hot_windows (map, W, H, 4, 3, 0.0f, 1.0, win, 8, sat, means) == 0,
      "nothing above 1.0");
  /* one wide hot band: windows side by side, none overlapping another */
  memset (map, 0, sizeof map);
  for (int x = 0; x < W; x++)
    map[10 * W + x] = 3.0f;
  n = decent_local_hot_windows (map, W, H, 4, 3, 0.0f, 0.5, win, 8, sat, means);
  CHECK (n == 8, "a band of 32 holds 8 windows of 4, got %d", n);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < i; j++)
      CHECK (win[i].x + 4 <= win[j].x || win[j].x + 4 <= win[i].x || win[i].y + 3 <= win[j].y
          || win[j].y + 3 <= win[i].y, "windows %d and %d overlap", i, j);
  /* NaN is never hot; a window larger than the map finds nothing */
  map[10 * W + 5] = NAN;
  n = decent_local_hot_windows (map, W, H, 4, 3, 0.0f, 0.5, win, 8, sat, means);
  for (int i = 0; i < n; i++)
    CHECK (!(win[i].x <= 5 && 5 < win[i].x + 4) && isfinite (win[i].mean),
        "a window over the NaN at %d", win[i].x);
  CHECK (decent_local_hot_windows (map, W, H, W + 1, 3, 0.0f, 0.5, win, 8, sat, means) == 0,
      "too wide a window");
}

/* The point of the local score: the same error in one small place or spread
 * over the frame has the same mean, but only the small place is an object. */
static void
small_object_counts_in_full (DecentModel *m)
{
  float spot[W * H], spread[W * H], s_spot, s_spread, m_spot, m_spread;
  DecentError err;
  int ww, wh;
  decent_local_window (W, H, 0.01f, &ww, &wh);
  /* a squared error of 0.04 (RMS 0.2) on one window; the same total spread
   * over every pixel */
  const float v = 0.04f;
  memset (spot, 0, sizeof spot);
  for (int y = 0; y < wh; y++)
    for (int x = 0; x < ww; x++)
      spot[(5 + y) * W + 9 + x] = v;
  for (int i = 0; i < W * H; i++)
    spread[i] = v * ww * wh / (float) (W * H);
  float a[W * H], b[W * H];
  memcpy (a, spot, sizeof a);
  memcpy (b, spread, sizeof b);
  REQUIRE (decent_model_score_map (m, DECENT_SCORE_MEAN, a, &m_spot, &err) == 0, "%s",
      err.message);
  REQUIRE (decent_model_score_map (m, DECENT_SCORE_MEAN, b, &m_spread, &err) == 0, "%s",
      err.message);
  memcpy (a, spot, sizeof a);
  memcpy (b, spread, sizeof b);
  REQUIRE (decent_model_score_map (m, DECENT_SCORE_LOCAL, a, &s_spot, &err) == 0, "%s",
      err.message);
  REQUIRE (decent_model_score_map (m, DECENT_SCORE_LOCAL, b, &s_spread, &err) == 0, "%s",
      err.message);
  CHECK (fabsf (m_spot - m_spread) < 1e-6f * m_spot, "means %g and %g", m_spot, m_spread);
  /* the spot saturates: e = sqrt(v) against the contrast 0.1; its ring is
   * cold, so the surround (0.5) adds half the map's mean */
  const float e = sqrtf (v), want = e / (e + 0.1f);
  const float with_ring = want * (1.0f + 0.5f * (float) (ww * wh) / (W * H));
  CHECK (fabsf (s_spot - with_ring) < 1e-5f, "local score of the spot %g, want %g", s_spot,
      with_ring);
  CHECK (s_spot > 4 * s_spread, "local: spot %g, spread %g", s_spot, s_spread);
  /* and the map handed back is the saturated one */
  CHECK (fabsf (a[6 * W + 10] - want) < 1e-6f && a[0] == 0.0f, "saturated map");
}

static DecentModel *
small_model (DecentConfig *cfg, uint8_t *frames, DecentError *err)
{
  decent_config_init (cfg, W, H, 1);
  cfg->base_channels = 8;
  cfg->max_channels = 32;
  cfg->latent_side = 6; /* 24 -> 12 -> 6: two layers, latent 8x6 (the paper: three) */
  cfg->local_surround = 0.5f; /* (through the file: its own section) */
  cfg->lambda = 0.0f;
  cfg->batch_size = 8;
  cfg->learning_rate = 2e-3f;
  cfg->device = DECENT_DEVICE_CPU;
  uint64_t s = 11;
  for (int i = 0; i < N; i++)
    tu_make_image (frames + (size_t) i * W * H, W, H, 0, &s);
  DecentModel *m = decent_model_new (cfg, err);
  REQUIRE (m, "%s", err->message);
  REQUIRE (decent_model_train (m, frames, N, 3, NULL, NULL, err) == 0, "%s", err->message);
  return m;
}

static void
modes_agree (DecentModel *m, const uint8_t *frames)
{
  DecentError err;
  float mean[N], direct[N], local[N], maps[N * W * H];
  REQUIRE (decent_model_score (m, frames, N, direct, maps, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_score_mode (m, DECENT_SCORE_MEAN, frames, N, mean, NULL, &err) == 0,
      "%s", err.message);
  CHECK (memcmp (mean, direct, sizeof mean) == 0, "mean mode is decent_model_score");
  float lmaps[N * W * H];
  REQUIRE (decent_model_score_mode (m, DECENT_SCORE_LOCAL, frames, N, local, lmaps, &err) == 0,
      "%s", err.message);
  for (int i = 0; i < N; i++) {
    float s;
    REQUIRE (decent_model_score_map (m, DECENT_SCORE_LOCAL, maps + (size_t) i * W * H, &s,
        &err) == 0, "%s", err.message);
    CHECK (s == local[i] && s > 0.0f && s < 1.0f, "frame %d: %g and %g", i, s, local[i]);
  }
  CHECK (memcmp (lmaps, maps, sizeof lmaps) == 0, "the mode's maps are handed back");
  /* normalized needs normal errors */
  CHECK (decent_model_score_mode (m, DECENT_SCORE_NORMALIZED, frames, N, local, NULL, &err) < 0
             && strstr (err.message, "normal errors"), "%s", err.message);
  CHECK (decent_model_score_mode (m, (DecentScoreMode) 7, frames, N, local, NULL, &err) < 0,
      "an unknown mode is refused");
}

static void
normal_errors_and_calibration (DecentModel *m, const uint8_t *frames)
{
  DecentError err;
  CHECK (!decent_model_has_normal (m), "no normal errors yet");
  /* a threshold of a mode that cannot score yet is refused, as its score */
  CHECK (decent_model_set_mode_threshold (m, DECENT_SCORE_NORMALIZED, 0.5f, &err) < 0
      && strstr (err.message, "normal errors"), "normalized threshold: %s", err.message);
  /* an infinite error is the largest local value (1), not NaN (inf / inf) */
  float inf_map[W * H], inf_score = -1;
  for (int p = 0; p < W * H; p++)
    inf_map[p] = INFINITY;
  REQUIRE (decent_model_score_map (m, DECENT_SCORE_LOCAL, inf_map, &inf_score, &err) == 0,
      "%s", err.message);
  CHECK (inf_score == 1.0f && inf_map[0] == 1.0f, "an infinite map scores %g", inf_score);
  REQUIRE (decent_model_learn_normal (m, frames, N, &err) == 0, "%s", err.message);
  CHECK (decent_model_has_normal (m), "normal errors learned");
  /* standardised on the frames it learned from: each pixel's mean is ~0 */
  float z[N], zmaps[N * W * H];
  REQUIRE (decent_model_score_mode (m, DECENT_SCORE_NORMALIZED, frames, N, z, zmaps, &err) == 0,
      "%s", err.message);
  double per_pixel = 0;
  for (int i = 0; i < N; i++)
    per_pixel += zmaps[(size_t) i * W * H + 5 * W + 7];
  CHECK (fabs (per_pixel / N) < 1e-3, "mean z at a pixel %g", per_pixel / N);

  /* thresholds for every mode; the normal tail lifts them above the quantile */
  REQUIRE (decent_model_calibrate_all (m, frames, N, 0.5f, 0.0f, &err) == 0, "%s", err.message);
  DecentCalibration plain[DECENT_SCORE_MODES], tail[DECENT_SCORE_MODES];
  for (int k = 0; k < DECENT_SCORE_MODES; k++)
    decent_model_get_mode_calibration (m, (DecentScoreMode) k, &plain[k]);
  REQUIRE (decent_model_calibrate_all (m, frames, N, 0.5f, 3.0f, &err) == 0, "%s", err.message);
  for (int k = 0; k < DECENT_SCORE_MODES; k++) {
    decent_model_get_mode_calibration (m, (DecentScoreMode) k, &tail[k]);
    CHECK (plain[k].count == N && plain[k].threshold > 0 && plain[k].threshold <= plain[k].max,
        "mode %d: median threshold %g", k, plain[k].threshold);
    CHECK (fabsf (tail[k].threshold - (tail[k].mean + 3 * tail[k].stddev))
               <= 1e-5f * fabsf (tail[k].threshold) && tail[k].threshold > plain[k].threshold,
        "mode %d: %g is not mean + 3 sd (%g + 3 * %g)", k, tail[k].threshold, tail[k].mean,
        tail[k].stddev);
    /* (above + 1) / (N + 1), more than P(Z > 3) of a normal law for N
     * frames: above is a whole number of the N */
    const double above = tail[k].false_alarm_rate * (N + 1.0) - 1.0;
    CHECK (above > -1e-3 && fabs (above - round (above)) < 1e-3 && above < N,
        "mode %d: false-alarm rate %g", k, tail[k].false_alarm_rate);
  }
  CHECK (decent_model_calibrate_all (m, frames, N, 0.5f, NAN, &err) < 0, "NaN sigmas refused");
}

/* hostile sections: written by a test table, refused by the real reader */
static int hostile_kind;

static void
put32 (uint8_t *p, uint32_t v)
{
  memcpy (p, &v, 4); /* the test machines are little-endian, as the file */
}

static int
hostile_save (DecentModel *m, uint8_t **data, size_t *len, DecentError *err)
{
  const size_t plane = (size_t) m->cfg.width * m->cfg.height;
  if (hostile_kind == 0) { /* NERR with means of 3e38 */
    *len = 8 + 8 * plane;
    uint8_t *p = *data = malloc (*len);
    put32 (p, (uint32_t) m->cfg.width);
    put32 (p + 4, (uint32_t) m->cfg.height);
    for (size_t i = 0; i < 2 * plane; i++) {
      const float v = i < plane ? 3e38f : 0.01f;
      memcpy (p + 8 + 4 * i, &v, 4);
    }
    return 0;
  }
  if (hostile_kind >= 4) { /* SURR: 4 a NaN, 5 above 4, 6 three bytes */
    *len = hostile_kind == 6 ? 3 : 4;
    const float v = hostile_kind == 4 ? NAN : 5.0f;
    *data = malloc (4);
    memcpy (*data, &v, 4);
    return 0;
  }
  /* SCOR: 1 contrast of 1e-38, 2 a NaN false-alarm rate, 3 a mode twice */
  *len = 12 + 2 * 36;
  uint8_t *p = *data = calloc (1, *len);
  const float area = 0.01f, contrast = hostile_kind == 1 ? 1e-38f : 0.1f;
  memcpy (p, &area, 4);
  memcpy (p + 4, &contrast, 4);
  put32 (p + 8, 2);
  for (int k = 0; k < 2; k++) {
    uint8_t *e = p + 12 + 36 * k;
    put32 (e, hostile_kind == 3 ? 1 : (uint32_t) k);
    const float thr = 0.5f, far = hostile_kind == 2 && k == 1 ? NAN : 0.01f;
    memcpy (e + 4, &thr, 4);
    memcpy (e + 32, &far, 4);
  }
  return 0;
}

static void
hostile_sections (DecentModel *m, const char *dir)
{
  char path[160];
  snprintf (path, sizeof path, "%s/hostile.dcnt", dir);
  const char *want[] = { "normal error statistics", "local area", "false-alarm rate",
    "calibrated twice", "local surround nan", "local surround 5", "3 bytes, not 4" };
  const uint32_t tags[] = { DECENT_SECTION_TAG ('N', 'E', 'R', 'R'),
    DECENT_SECTION_TAG ('S', 'C', 'O', 'R'), DECENT_SECTION_TAG ('S', 'U', 'R', 'R') };
  for (hostile_kind = 0; hostile_kind < 7; hostile_kind++) {
    const DecentSectionIO table[] = {
      { tags[hostile_kind == 0 ? 0 : hostile_kind < 4 ? 1 : 2], 1 << 20, hostile_save, NULL },
      { 0, 0, NULL, NULL },
    };
    DecentError err;
    decent_model_file_set_sections (table);
    REQUIRE (decent_model_save (m, path, &err) == 0, "%s", err.message);
    decent_model_file_set_sections (NULL);
    DecentModel *l = decent_model_load (path, DECENT_DEVICE_CPU, &err);
    CHECK (!l && strstr (err.message, want[hostile_kind]), "hostile %d: %s", hostile_kind,
        l ? "loaded" : err.message);
    decent_model_free (l);
  }
}

static void
through_the_file (DecentModel *m, const uint8_t *frames)
{
  DecentError err;
  char dir[] = "/tmp/decent-modes-XXXXXX", path[128], bare[128];
  REQUIRE (mkdtemp (dir), "mkdtemp");
  snprintf (path, sizeof path, "%s/m.dcnt", dir);
  snprintf (bare, sizeof bare, "%s/bare.dcnt", dir);
  REQUIRE (decent_model_save (m, path, &err) == 0, "%s", err.message);
  DecentModel *l = decent_model_load (path, DECENT_DEVICE_CPU, &err);
  REQUIRE (l, "%s", err.message);
  DecentConfig a, b;
  decent_model_get_config (m, &a);
  decent_model_get_config (l, &b);
  CHECK (b.latent_side == 6 && b.local_area == a.local_area
             && b.local_contrast == a.local_contrast && b.local_surround == 0.5f,
      "latent side %d, area %g, contrast %g, surround %g", b.latent_side, b.local_area,
      b.local_contrast, b.local_surround);
  DecentInfo info;
  decent_model_describe (l, &info);
  CHECK (info.latent_width == 8 && info.latent_height == 6, "latent %dx%d",
      info.latent_width, info.latent_height);
  for (int k = 0; k < DECENT_SCORE_MODES; k++) {
    DecentCalibration x, y;
    decent_model_get_mode_calibration (m, (DecentScoreMode) k, &x);
    decent_model_get_mode_calibration (l, (DecentScoreMode) k, &y);
    CHECK (memcmp (&x, &y, sizeof x) == 0, "mode %d's calibration changed", k);
    float s1[N], s2[N];
    REQUIRE (decent_model_score_mode (m, (DecentScoreMode) k, frames, N, s1, NULL, &err) == 0,
        "%s", err.message);
    REQUIRE (decent_model_score_mode (l, (DecentScoreMode) k, frames, N, s2, NULL, &err) == 0,
        "%s", err.message);
    CHECK (memcmp (s1, s2, sizeof s1) == 0, "mode %d scores differ after load", k);
  }
  decent_model_free (l);

  /* a file without the sections: the header's mean calibration only */
  static const DecentSectionIO none[] = { { 0, 0, NULL, NULL } };
  decent_model_file_set_sections (none);
  REQUIRE (decent_model_save (m, bare, &err) == 0, "%s", err.message);
  decent_model_file_set_sections (NULL);
  l = decent_model_load (bare, DECENT_DEVICE_CPU, &err);
  REQUIRE (l, "%s", err.message);
  DecentCalibration c;
  decent_model_get_mode_calibration (l, DECENT_SCORE_MEAN, &c);
  CHECK (c.threshold > 0, "mean calibration kept in the header");
  decent_model_get_mode_calibration (l, DECENT_SCORE_LOCAL, &c);
  CHECK (c.threshold == 0, "no local calibration without its section");
  CHECK (!decent_model_has_normal (l), "no normal errors without their section");
  decent_model_get_config (l, &b);
  CHECK (b.local_surround == 0.0f, "no surround without its section: %g", b.local_surround);
  decent_model_free (l);

  /* saved through a link: the link stays, its target is the model */
  char link_path[160];
  snprintf (link_path, sizeof link_path, "%s/link.dcnt", dir);
  REQUIRE (symlink (path, link_path) == 0, "symlink");
  REQUIRE (decent_model_save (m, link_path, &err) == 0, "%s", err.message);
  struct stat st;
  CHECK (lstat (link_path, &st) == 0 && S_ISLNK (st.st_mode), "the link was replaced");
  l = decent_model_load (path, DECENT_DEVICE_CPU, &err);
  CHECK (l, "the target: %s", err.message);
  decent_model_free (l);

  hostile_sections (m, dir);
  char cmd[160];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK (system (cmd) == 0, "cleanup");
}

/* With batch statistics a frame's score depends on the frames scored with
 * it; the running statistics are left as they were. */
static void
batch_statistics (DecentModel *m, const uint8_t *frames)
{
  DecentError err = { { 0 } };
  const size_t fb = (size_t) W * H;
  uint8_t pair_a[2 * W * H], pair_b[2 * W * H];
  memcpy (pair_a, frames, fb);
  memcpy (pair_a + fb, frames + fb, fb);
  memcpy (pair_b, frames, fb);
  memset (pair_b + fb, 255, fb); /* a white frame beside the same first one */
  float run_a[2], run_b[2], bat_a[2], bat_b[2], again[2];
  REQUIRE (decent_model_score (m, pair_a, 2, run_a, NULL, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_score (m, pair_b, 2, run_b, NULL, &err) == 0, "%s", err.message);
  CHECK (run_a[0] == run_b[0], "running statistics: the first frame's score %g vs %g", run_a[0],
      run_b[0]);
  REQUIRE (decent_model_set_score_batch_stats (m, 1, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_score (m, pair_a, 2, bat_a, NULL, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_score (m, pair_b, 2, bat_b, NULL, &err) == 0, "%s", err.message);
  CHECK (bat_a[0] != run_a[0], "batch statistics change the score (%g)", bat_a[0]);
  CHECK (fabsf (bat_a[0] - bat_b[0]) > 1e-6f * bat_a[0],
      "batch statistics: the first frame's score depends on its batch-mate (%g vs %g)",
      bat_a[0], bat_b[0]);
  REQUIRE (decent_model_set_score_batch_stats (m, 0, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_score (m, pair_a, 2, again, NULL, &err) == 0, "%s", err.message);
  CHECK (again[0] == run_a[0] && again[1] == run_a[1],
      "running statistics untouched: %g %g, were %g %g", again[0], again[1], run_a[0], run_a[1]);
  CHECK (decent_model_set_score_batch_stats (NULL, 1, &err) < 0, "no model refused");
}

/* Footage reconstructed better than the footage the normal errors were
 * learned from standardises below 0 everywhere: its calibration still
 * gives a threshold a model file can hold (a negative one was written, and
 * the file then refused to load), and it flags none of that footage. */
static void
better_than_normal (DecentModel *m, const uint8_t *frames)
{
  DecentError err;
  static uint8_t noisy[N * W * H];
  uint64_t s = 99;
  for (size_t i = 0; i < sizeof noisy; i++) {
    int v = tu_uniform (&s) < 0.5 ? 0 : 255; /* salt and pepper: errors far above theirs */
    noisy[i] = (uint8_t) (v < 0 ? 0 : v > 255 ? 255 : v);
  }
  REQUIRE (decent_model_learn_normal (m, noisy, N, &err) == 0, "%s", err.message);
  float z[N];
  REQUIRE (decent_model_score_mode (m, DECENT_SCORE_NORMALIZED, frames, N, z, NULL, &err) == 0,
      "%s", err.message);
  float top = z[0];
  for (int i = 1; i < N; i++)
    top = z[i] > top ? z[i] : top;
  CHECK (top < 0, "the clean frames standardise below 0 (highest %g)", top);
  REQUIRE (decent_model_calibrate_mode (m, DECENT_SCORE_NORMALIZED, frames, N, 0.995f, &err)
               == 0, "%s", err.message);
  DecentCalibration cal;
  decent_model_get_mode_calibration (m, DECENT_SCORE_NORMALIZED, &cal);
  CHECK (cal.threshold > 0 && cal.threshold > top, "threshold %g", cal.threshold);
  char dir[] = "/tmp/decent-better-XXXXXX", path[128];
  REQUIRE (mkdtemp (dir), "mkdtemp");
  snprintf (path, sizeof path, "%s/m.dcnt", dir);
  REQUIRE (decent_model_save (m, path, &err) == 0, "%s", err.message);
  DecentModel *l = decent_model_load (path, DECENT_DEVICE_CPU, &err);
  CHECK (l != NULL, "the calibrated file loads: %s", err.message);
  decent_model_free (l);
  unlink (path);
  rmdir (dir);
}

/* The expected false-alarm rate of a calibration is what its frames can
 * show: (above + 1) / (n + 1), or the normal law's tail when that is more. */
static void
false_alarm_rate_rule (void)
{
  DecentCalibration cal;
  DecentError err;
  /* far above most normal scores, where the normal law's tail is about 0:
   * at the maximum of 100, 1 in 101 */
  float s[100];
  for (int i = 0; i < 100; i++)
    s[i] = i == 0 ? 100.0f : 0.0f;
  REQUIRE (decent_calibration_from (s, 100, 1.0f, 0.0f, &cal, &err) == 0, "%s", err.message);
  CHECK (cal.threshold == 100.0f && fabsf (cal.false_alarm_rate - 1.0f / 101) < 1e-7f,
      "at the maximum of 100: threshold %g, rate %g (want 1/101)", cal.threshold,
      cal.false_alarm_rate);
  /* 90 at 0 and 100..109: the 0.95 quantile, 104.05, has 5 above it (3 sd
   * above the mean, a normal tail of 0.14 %): 6 in 101 */
  for (int i = 0; i < 100; i++)
    s[i] = i < 10 ? (float) (109 - i) : 0.0f;
  REQUIRE (decent_calibration_from (s, 100, 0.95f, 0.0f, &cal, &err) == 0, "%s", err.message);
  CHECK (fabsf (cal.threshold - 104.05f) < 1e-4f
             && fabsf (cal.false_alarm_rate - 6.0f / 101) < 1e-6f,
      "5 above: threshold %g, rate %g (want 6/101)", cal.threshold, cal.false_alarm_rate);
  /* 5 of 1000 frames far out: the threshold at mean + 1 sd passes them
   * only, and the normal law's tail, P(Z > 1) = 0.1587, is the larger */
  static float many[1000];
  for (int i = 0; i < 1000; i++)
    many[i] = i < 5 ? 1000.0f : (float) (i % 2);
  REQUIRE (decent_calibration_from (many, 1000, 0.5f, 1.0f, &cal, &err) == 0, "%s", err.message);
  CHECK (fabsf (cal.false_alarm_rate - 0.158655f) < 1e-4f && cal.false_alarm_rate > 6.0f / 1001,
      "mean + 1 sd: rate %g (want P(Z > 1))", cal.false_alarm_rate);
}

int
main (void)
{
  false_alarm_rate_rule ();
  windows_and_maxima ();
  hot_windows ();
  surround_windows ();
  DecentConfig cfg;
  DecentError err;
  static uint8_t frames[N * W * H];
  DecentModel *m = small_model (&cfg, frames, &err);
  small_object_counts_in_full (m);
  modes_agree (m, frames);
  normal_errors_and_calibration (m, frames);
  through_the_file (m, frames);
  batch_statistics (m, frames);
  better_than_normal (m, frames);
  /* settings out of range are refused */
  DecentConfig bad = cfg;
  bad.local_area = 0.0f;
  CHECK (decent_config_validate (&bad, &err) < 0 && strstr (err.message, "local area"), "%s",
      err.message);
  const float surrounds[] = { -0.1f, NAN, INFINITY, DECENT_MAX_SURROUND * 1.01f };
  for (unsigned i = 0; i < sizeof surrounds / sizeof surrounds[0]; i++) {
    bad = cfg;
    bad.local_surround = surrounds[i];
    CHECK (decent_config_validate (&bad, &err) < 0 && strstr (err.message, "local surround"),
        "surround %g: %s", surrounds[i], err.message);
  }
  bad = cfg;
  bad.latent_side = -1;
  CHECK (decent_config_validate (&bad, &err) < 0, "negative latent side refused");
  bad = cfg;
  bad.latent_side = 24; /* no layer above a latent as large as the frame */
  CHECK (decent_config_validate (&bad, &err) < 0 && strstr (err.message, "latent side"), "%s",
      err.message);
  decent_model_free (m);
  return tu_finish ("score_modes");
}
