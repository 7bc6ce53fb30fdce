/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The still gate (engine/stillgate.c): its formula on maps and pictures
 * whose answer is known; a thing that stays put scores, the same thing
 * moving does not; calibration in blocks of footage equals what a gate
 * computes on the same frames; settings and footage it refuses; the model
 * file keeps it, and refuses a damaged one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decent.h"
#include "model_internal.h"
#include "testutil.h"

enum { W = 32, H = 24, PLANE = W * H };

static DecentModel *
grey_model (void)
{
  DecentConfig cfg;
  DecentError err;
  decent_config_init (&cfg, W, H, 1);
  cfg.base_channels = 8;
  cfg.max_channels = 32;
  cfg.latent_side = 6;
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *m = decent_model_new (&cfg, &err);
  REQUIRE (m, "%s", err.message);
  return m;
}

static void
settings (void)
{
  DecentStillSettings s;
  DecentError err;
  decent_still_settings_init (&s);
  CHECK (s.lag == 10 && s.tolerance == 8.0f && s.smooth == 5 && s.memory == 100.0f
      && s.frame_seconds == 0.0f, "defaults %d %g %d %g %g", s.lag, s.tolerance, s.smooth,
      s.memory, s.frame_seconds);
  CHECK (decent_still_settings_validate (&s, &err) == 0, "%s", err.message);
  const struct { DecentStillSettings s; const char *word; } bad[] = {
    { { 0, 8, 5, 100 }, "lag" }, { { DECENT_STILL_MAX_LAG + 1, 8, 5, 100 }, "lag" },
    { { 10, 0, 5, 100 }, "tolerance" }, { { 10, NAN, 5, 100 }, "tolerance" },
    { { 10, 8, 4, 100 }, "smooth" }, { { 10, 8, 0, 100 }, "smooth" },
    { { 10, 8, 5, 0.5f }, "memory" }, { { 10, 8, 5, INFINITY }, "memory" },
    { { 10, 8, 5, 100, -0.1f }, "frame_seconds" }, { { 10, 8, 5, 100, 1e-7f }, "frame_seconds" },
    { { 10, 8, 5, 100, 1e5f }, "frame_seconds" }, { { 10, 8, 5, 100, NAN }, "frame_seconds" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK (decent_still_settings_validate (&bad[i].s, &err) < 0
        && strstr (err.message, bad[i].word), "setting %zu: %s", i, err.message);
  CHECK (decent_still_settings_validate (NULL, &err) < 0, "no settings");
  /* the bounds as the floats a file holds are inside */
  const DecentStillSettings edges[] = {
    { 10, 8, 5, 100, (float) DECENT_STILL_MIN_SECONDS },
    { 10, 8, 5, 100, (float) DECENT_STILL_MAX_SECONDS },
  };
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
    CHECK (decent_still_settings_validate (&edges[i], &err) == 0, "edge %zu: %s", i,
        err.message);
}

/* A gate with these settings and a start mean of `start` everywhere. */
static DecentStillGate *
gate_with (DecentModel *m, int lag, float tolerance, int smooth, float memory, float start)
{
  DecentError err;
  DecentStillSettings s = { lag, tolerance, smooth, memory };
  DecentCalibration cal = { 0 };
  cal.threshold = 0.5f;
  cal.quantile = 0.995f;
  float st[PLANE];
  for (int i = 0; i < PLANE; i++)
    st[i] = start;
  REQUIRE (decent_model_set_still (m, &s, &cal, st, &err) == 0, "%s", err.message);
  DecentStillGate *g = decent_still_gate_new (m, &err);
  REQUIRE (g, "%s", err.message);
  return g;
}

/* Uniform pictures and maps: no smoothing matters, so the score is the
 * formula itself, frame by frame: g = m / (1 + (d / t)^2) over the running
 * mean of g. */
static void
formula (DecentModel *m)
{
  DecentError err;
  DecentStillGate *g = gate_with (m, 2, 8.0f, 3, 4.0f, 0.2f);
  CHECK (decent_still_gate_threshold (g) == 0.5f, "threshold %g",
      decent_still_gate_threshold (g));
  uint8_t px[PLANE];
  float map[PLANE], score = -1;
  for (int i = 0; i < PLANE; i++)
    map[i] = 0.8f;
  memset (px, 100, sizeof px);
  /* two pictures of history first */
  CHECK (decent_still_gate_push (g, px, map, &score, &err) == 0 && score == 0.0f, "1st");
  CHECK (decent_still_gate_push (g, px, map, &score, &err) == 0 && score == 0.0f, "2nd");
  /* no change: the map over the start mean, 0.8 - 0.2 */
  CHECK (decent_still_gate_push (g, px, map, &score, &err) == 1, "%s", err.message);
  CHECK (fabsf (score - 0.6f) < 1e-6f, "still: %g, want 0.6", score);
  /* the mean moved a quarter of the way: 0.2 + 0.6 / 4 = 0.35; a change of
   * 8 grey levels (the tolerance) since 2 frames ago halves the map (the
   * gate is half open over the whole picture: the mean still moves) */
  memset (px, 108, sizeof px);
  CHECK (decent_still_gate_push (g, px, map, &score, &err) == 1, "%s", err.message);
  CHECK (fabsf (score - (0.4f - 0.35f)) < 1e-6f, "changed: %g, want 0.05", score);
  /* the mean took 0.4 in: 0.35 + (0.4 - 0.35) / 4 = 0.3625; a map below
   * it rises nowhere, and the mean sinks toward its gated value 0.05 */
  for (int i = 0; i < PLANE; i++)
    map[i] = 0.1f;
  CHECK (decent_still_gate_push (g, px, map, &score, &err) == 1 && score == 0.0f,
      "below the mean: %g", score);
  memset (px, 108, sizeof px);
  for (int i = 0; i < PLANE; i++)
    map[i] = 0.5f;
  CHECK (decent_still_gate_push (g, px, map, &score, &err) == 1, "%s", err.message);
  /* still now: the whole map over that mean */
  const float mean = 0.3625f + (0.05f - 0.3625f) / 4;
  CHECK (fabsf (score - (0.5f - mean)) < 1e-6f, "the mean followed: %g, want %g", score,
      0.5f - mean);
  /* a map with a NaN (or an infinity) is refused and changes nothing: the
   * same map again scores as it did (it stayed in the mean for good) */
  map[7] = NAN;
  CHECK (decent_still_gate_push (g, px, map, &score, &err) < 0
      && strstr (err.message, "not finite"), "a NaN map: %s", err.message);
  map[7] = INFINITY;
  CHECK (decent_still_gate_push (g, px, map, &score, &err) < 0, "an infinite map");
  map[7] = 0.5f;
  const float mean2 = mean + (0.5f - mean) / 4;
  CHECK (decent_still_gate_push (g, px, map, &score, &err) == 1
      && fabsf (score - (0.5f - mean2)) < 1e-6f, "after the refused maps: %g, want %g", score,
      0.5f - mean2);
  /* a reset forgets the pictures: history again */
  decent_still_gate_reset (g);
  CHECK (decent_still_gate_push (g, px, map, &score, &err) == 0, "after a reset");
  CHECK (decent_still_gate_push (NULL, px, map, &score, &err) < 0 && strstr (err.message,
      "no gate"), "%s", err.message);
  CHECK (decent_still_gate_push (g, NULL, map, &score, &err) < 0, "no pixels");
  CHECK (decent_still_gate_push (g, px, NULL, &score, &err) < 0, "no map");
  decent_still_gate_free (g);
  decent_still_gate_free (NULL);
  decent_still_gate_reset (NULL);
}

/* The largest still score over frames of a 6x6 thing of grey 200 (map 0.9)
 * on a background of 100 (map 0.2) from frame 4 on: at one place, or moved
 * 6 pixels every frame. */
static float
thing (DecentModel *m, int moving)
{
  DecentError err;
  DecentStillGate *g = gate_with (m, 2, 8.0f, 3, 100.0f, 0.2f);
  float best = 0;
  for (int t = 0; t < 16; t++) {
    uint8_t px[PLANE];
    float map[PLANE], score;
    memset (px, 100, sizeof px);
    for (int i = 0; i < PLANE; i++)
      map[i] = 0.2f;
    if (t >= 4) {
      const int x0 = moving ? (t - 4) * 6 % (W - 6) : 12;
      for (int y = 9; y < 15; y++)
        for (int x = x0; x < x0 + 6; x++) {
          px[y * W + x] = 200;
          map[y * W + x] = 0.9f;
        }
    }
    REQUIRE (decent_still_gate_push (g, px, map, &score, &err) >= 0, "%s", err.message);
    if (score > best)
      best = score;
  }
  decent_still_gate_free (g);
  return best;
}

/* A change of the whole picture (a cloud, a light switched) closes the
 * gate everywhere for 2 x lag frames: the running mean holds meanwhile
 * (else it would sink toward 0), so the map, the same all along, does not
 * rise over it once the picture is back. */
static void
after_a_change (DecentModel *m)
{
  DecentError err;
  DecentStillGate *g = gate_with (m, 3, 8.0f, 3, 10.0f, 0.5f);
  float worst = 0;
  for (int t = 0; t < 40; t++) {
    uint8_t px[PLANE];
    float map[PLANE], score;
    memset (px, t >= 10 && t < 20 ? 60 : 100, sizeof px);
    for (int i = 0; i < PLANE; i++)
      map[i] = 0.5f;
    REQUIRE (decent_still_gate_push (g, px, map, &score, &err) >= 0, "%s", err.message);
    worst = score > worst ? score : worst;
  }
  decent_still_gate_free (g);
  CHECK (worst < 1e-6f, "after the picture came back: %g", worst);
}

static void
still_against_moving (DecentModel *m)
{
  const float still = thing (m, 0), moving = thing (m, 1);
  CHECK (still > 0.6f, "a thing that stays put: %g", still);
  CHECK (moving < 0.02f, "the same thing moving: %g", moving);
}

/* Footage: a soft disc wandering slowly over a noisy background. */
static void
footage (uint8_t *frames, int n)
{
  uint64_t s = 5;
  for (int i = 0; i < n; i++) {
    uint8_t *f = frames + (size_t) i * PLANE;
    const double cx = 8 + 16 * (0.5 + 0.5 * sin (i * 0.2)), cy = 12;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        const double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
        const double v = 60 + 150 * exp (-d2 / 18.0) + 6 * tu_uniform (&s);
        f[y * W + x] = (uint8_t) v;
      }
  }
}

/* What decentanomaly's gate for m scores on n frames (a stream-start, a
 * reset, before frame reset_at; -1: none): the number of frames scored,
 * their highest and mean still score. */
static int
gate_over (DecentModel *m, const uint8_t *frames, int n, int reset_at, float *max,
    double *mean)
{
  DecentError err;
  DecentStillGate *g = decent_still_gate_new (m, &err);
  REQUIRE (g, "%s", err.message);
  float *scores = malloc ((size_t) n * sizeof (float));
  float *maps = malloc ((size_t) n * PLANE * sizeof (float));
  REQUIRE (scores && maps, "memory");
  REQUIRE (decent_model_score_mode (m, DECENT_SCORE_LOCAL, frames, n, scores, maps, &err) == 0,
      "%s", err.message);
  double sum = 0;
  int scored = 0;
  *max = 0;
  for (int i = 0; i < n; i++) {
    float r;
    if (i == reset_at)
      decent_still_gate_reset (g);
    if (decent_still_gate_push (g, frames + (size_t) i * PLANE, maps + (size_t) i * PLANE, &r,
            &err) == 1) {
      sum += r;
      *max = r > *max ? r : *max;
      scored++;
    }
  }
  decent_still_gate_free (g);
  free (maps);
  free (scores);
  *mean = scored ? sum / scored : 0;
  return scored;
}

static void
calibration (DecentModel *m)
{
  DecentError err;
  enum { N = 40 };
  uint8_t frames[N * PLANE];
  footage (frames, N);
  decent_model_clear_still (m);
  DecentStillSettings cleared = { 1, 1, 1, 1 };
  CHECK (decent_model_get_still (m, &cleared, NULL) == 0 && cleared.lag == 0,
      "no gate after clearing, and no settings");
  DecentStillGate *none = decent_still_gate_new (m, &err);
  CHECK (!none && strstr (err.message, "still-lag"), "%s", err.message);
  DecentStillSettings s;
  decent_still_settings_init (&s);
  s.lag = 5;
  s.frame_seconds = 0.1f; /* footage at 10 frames/s */
  const int one[] = { N }, two[] = { 20, 20 }, short_blocks[] = { 5, 6 };
  REQUIRE (decent_model_calibrate_still (m, &s, frames, one, 1, 0.995f, 3.0f, &err) == 0, "%s",
      err.message);
  DecentStillSettings got;
  DecentCalibration cal;
  CHECK (decent_model_get_still (m, &got, &cal) == 1, "calibrated");
  CHECK (got.lag == 5 && got.smooth == s.smooth && got.tolerance == s.tolerance
      && got.memory == s.memory && got.frame_seconds == 0.1f, "settings kept");
  CHECK (cal.count == N - 5, "%u frames scored, want %d", cal.count, N - 5);
  CHECK (cal.threshold > 0 && cal.threshold >= cal.mean && cal.stddev > 0
      && cal.threshold >= cal.mean + 3 * cal.stddev - 1e-6f, "threshold %g, mean %g, sd %g",
      cal.threshold, cal.mean, cal.stddev);

  /* the calibration scores the footage as a gate made from it does */
  float max;
  double mean;
  const int scored = gate_over (m, frames, N, -1, &max, &mean);
  CHECK (scored == N - 5, "the gate scored %d", scored);
  CHECK (fabsf (max - cal.max) <= 1e-6f * cal.max && fabs (mean - cal.mean) <= 1e-5 *
      cal.mean, "gate max %g mean %g, calibration max %g mean %g", max, mean, cal.max,
      cal.mean);

  /* two blocks: each needs its own history */
  REQUIRE (decent_model_calibrate_still (m, &s, frames, two, 2, 0.995f, 3.0f, &err) == 0, "%s",
      err.message);
  decent_model_get_still (m, NULL, &cal);
  CHECK (cal.count == N - 2 * 5, "two blocks: %u frames scored", cal.count);
  /* refused, and the gate the model had is kept */
  CHECK (decent_model_calibrate_still (m, &s, frames, short_blocks, 2, 0.995f, 3.0f, &err) < 0
      && strstr (err.message, "at least 2"), "%s", err.message);
  decent_model_get_still (m, NULL, &cal);
  CHECK (cal.count == N - 2 * 5, "kept after a refusal: %u", cal.count);
  CHECK (decent_model_calibrate_still (m, &s, frames, one, 1, 1.5f, 3.0f, &err) < 0, "quantile");
  CHECK (decent_model_calibrate_still (m, &s, frames, one, 0, 0.995f, 3.0f, &err) < 0, "blocks");
  const int negative[] = { -3 };
  CHECK (decent_model_calibrate_still (m, &s, frames, negative, 1, 0.995f, 3.0f, &err) < 0,
      "a negative block");
  /* footage that never changes: every still score 0, the threshold at its
   * floor (the float 1e-6, which the model takes in) */
  uint8_t *same = malloc ((size_t) N * PLANE);
  memset (same, 128, (size_t) N * PLANE);
  CHECK (decent_model_calibrate_still (m, &s, same, one, 1, 0.995f, 3.0f, &err) == 0, "still "
      "footage: %s", err.message);
  decent_model_get_still (m, NULL, &cal);
  CHECK (cal.threshold == 1e-6f && cal.max == 0.0f, "still footage: threshold %g, max %g",
      cal.threshold, cal.max);
  free (same);
  REQUIRE (decent_model_calibrate_still (m, &s, frames, one, 1, 0.995f, 3.0f, &err) == 0, "%s",
      err.message);
  s.smooth = 4;
  CHECK (decent_model_calibrate_still (m, &s, frames, one, 1, 0.995f, 3.0f, &err) < 0
      && strstr (err.message, "smooth"), "%s", err.message);
}

/* The gate's running mean of one recording is not where the next one's
 * begins: decentanomaly's gate starts again at a stream-start, and a
 * calibration told where a stream begins scores the footage as that gate
 * does.  A short memory moves the mean far within a block, so that going
 * on from it would score the second block otherwise. */
static void
calibration_across_streams (DecentModel *m)
{
  DecentError err;
  enum { N = 60, HALF = N / 2 };
  uint8_t *frames = malloc ((size_t) N * PLANE);
  REQUIRE (frames, "memory");
  footage (frames, N);
  DecentStillSettings s;
  decent_still_settings_init (&s);
  s.lag = 5;
  s.memory = 2.0f;
  s.frame_seconds = 0.1f;
  const int blocks[] = { HALF, HALF };
  const uint8_t second_starts[] = { 0, 1 }, none[] = { 0, 0 };
  DecentCalibration on, cut;
  REQUIRE (decent_model_calibrate_still_streams (m, &s, frames, blocks, none, 2, 0.995f, 3.0f,
               &err) == 0, "%s", err.message);
  decent_model_get_still (m, NULL, &on);
  REQUIRE (decent_model_calibrate_still_streams (m, &s, frames, blocks, second_starts, 2,
               0.995f, 3.0f, &err) == 0, "%s", err.message);
  decent_model_get_still (m, NULL, &cut);
  CHECK (cut.count == N - 2 * 5 && on.count == cut.count, "%u and %u frames scored", on.count,
      cut.count);

  /* what decentanomaly's gate scores: the first recording, a stream-start
   * (a reset), the second */
  float max;
  double mean;
  const int scored = gate_over (m, frames, N, HALF, &max, &mean);
  CHECK (scored == N - 2 * 5, "the gate scored %d", scored);
  CHECK (fabsf (max - cut.max) <= 1e-6f * cut.max && fabs (mean - cut.mean) <= 1e-5 * cut.mean,
      "gate max %g mean %g, calibration cut at the stream max %g mean %g", max, mean, cut.max,
      cut.mean);
  /* and the footage tells the two apart: the mean going on scores otherwise */
  CHECK (fabs (mean - on.mean) > 1e-3 * mean, "the mean going on across the cut scores as "
      "starting again (%g and %g): this footage does not test the cut", on.mean, mean);
  /* NULL: no block starts a stream, as decent_model_calibrate_still */
  REQUIRE (decent_model_calibrate_still (m, &s, frames, blocks, 2, 0.995f, 3.0f, &err) == 0,
      "%s", err.message);
  DecentCalibration plain;
  decent_model_get_still (m, NULL, &plain);
  CHECK (plain.mean == on.mean && plain.max == on.max, "without flags: mean %g max %g, not %g %g",
      plain.mean, plain.max, on.mean, on.max);
  free (frames);
}

/* Where the payload of the file's STIL section begins (its header: the
 * tag, 0, and this model's payload length), or -1. */
static long
still_payload (const uint8_t *data, size_t len)
{
  const uint64_t want = 56 + 4 * (uint64_t) PLANE + 4;
  for (size_t i = 0; i + 16 <= len; i++) {
    uint32_t reserved;
    uint64_t n;
    memcpy (&reserved, data + i + 4, 4);
    memcpy (&n, data + i + 8, 8);
    if (memcmp (data + i, "STIL", 4) == 0 && reserved == 0 && n == want)
      return (long) i + 16;
  }
  return -1;
}

/* A gate calibrated at 10 frames/s (lag 5: half a second) given frames
 * at another pace keeps its lag and memory in seconds: at 20 frames/s it
 * takes every other frame, as a gate given only those would, and the
 * frames between keep the last result; at 5 frames/s it compares frames
 * round(5 / 2) = 3 apart and forgets in 50, as a gate calibrated so. */
static void
pace (DecentModel *m)
{
  DecentError err;
  enum { N = 40 };
  uint8_t frames[N * PLANE];
  footage (frames, N);
  float sc[N], maps[N * PLANE];
  REQUIRE (decent_model_score_mode (m, DECENT_SCORE_LOCAL, frames, N, sc, maps, &err) == 0, "%s",
      err.message);
  DecentStillSettings s;
  DecentCalibration cal;
  REQUIRE (decent_model_get_still (m, &s, &cal) == 1 && s.lag == 5 && s.frame_seconds == 0.1f,
      "a gate at 10 frames/s");
  DecentStillGate *fast = decent_still_gate_new (m, &err), *plain = decent_still_gate_new (m, &err);
  REQUIRE (fast && plain, "%s", err.message);
  CHECK (decent_still_gate_set_pace (fast, 0.05, &err) == 10, "at 20 frames/s: lag 10 frames");
  int agree = 1, held = 1, scored = 0, rc_before = 0;
  float before = 0;
  for (int i = 0; i < N; i++) {
    const uint8_t *px = frames + (size_t) i * PLANE;
    const float *map = maps + (size_t) i * PLANE;
    float a = -1, b = -2;
    const int ra = decent_still_gate_push (fast, px, map, &a, &err);
    if (i % 2 == 0) {
      const int rb = decent_still_gate_push (plain, px, map, &b, &err);
      agree &= ra == rb && a == b;
      scored += ra == 1;
    } else {
      held &= ra == rc_before && a == before;
    }
    rc_before = ra;
    before = a;
  }
  CHECK (agree && held && scored == N / 2 - 5, "20 frames/s: agree %d, held %d, %d scored", agree,
      held, scored);

  /* at 5 frames/s: as a gate of lag 3 and memory 50 (no pace) */
  DecentStillGate *slow = decent_still_gate_new (m, &err);
  REQUIRE (slow, "%s", err.message);
  CHECK (decent_still_gate_set_pace (slow, 0.2, &err) == 3, "at 5 frames/s: lag 3 frames");
  float *start = malloc (PLANE * sizeof (float));
  memcpy (start, m->still_start, PLANE * sizeof (float));
  DecentStillSettings shorter = s;
  shorter.lag = 3;
  shorter.memory = s.memory / 2;
  shorter.frame_seconds = 0.0f;
  REQUIRE (decent_model_set_still (m, &shorter, &cal, start, &err) == 0, "%s", err.message);
  DecentStillGate *three = decent_still_gate_new (m, &err);
  REQUIRE (three, "%s", err.message);
  /* a gate of unknown pace counts frames as they come */
  CHECK (decent_still_gate_set_pace (three, 0.05, &err) == 3, "unknown pace: lag as calibrated");
  REQUIRE (decent_model_set_still (m, &s, &cal, start, &err) == 0, "%s", err.message);
  free (start);
  agree = 1;
  scored = 0;
  for (int i = 0; i < N; i++) {
    const uint8_t *px = frames + (size_t) i * PLANE;
    const float *map = maps + (size_t) i * PLANE;
    float a = -1, b = -2;
    const int ra = decent_still_gate_push (slow, px, map, &a, &err);
    const int rb = decent_still_gate_push (three, px, map, &b, &err);
    agree &= ra == rb && a == b;
    scored += ra == 1;
  }
  CHECK (agree && scored == N - 3, "5 frames/s: agree %d, %d scored", agree, scored);

  /* 25 frames/s: 2 frames in 5 taken, the first at once, then by the
   * phase 0.6 + 0.4 (i + 1) crossing a whole number (0, 3, 5, 8, 10, ...),
   * each as a gate given only those; 1000 frames take 400, none lost to
   * rounding */
  DecentStillGate *odd = decent_still_gate_new (m, &err);
  DecentStillGate *every = decent_still_gate_new (m, &err);
  REQUIRE (odd && every, "%s", err.message);
  CHECK (decent_still_gate_set_pace (odd, 0.04, &err) == 13, "at 25 frames/s: lag 12.5 frames");
  agree = 1;
  int taken = 0;
  for (int i = 0; i < 1000; i++) {
    const int k = i % N; /* the footage again and again */
    const uint8_t *px = frames + (size_t) k * PLANE;
    const float *map = maps + (size_t) k * PLANE;
    const int take = (int) floor (0.6 + 0.4 * (i + 1) + 1e-9) > (int) floor (0.6 + 0.4 * i + 1e-9);
    float a = -1, b = -2;
    const int ra = decent_still_gate_push (odd, px, map, &a, &err);
    if (take) {
      const int rb = decent_still_gate_push (every, px, map, &b, &err);
      agree &= ra == rb && a == b;
      taken++;
    }
  }
  CHECK (agree && taken == 400, "25 frames/s: agree %d, %d taken", agree, taken);
  /* a day between frames: lag and memory at their floor of 1 */
  CHECK (decent_still_gate_set_pace (odd, 86400.0, &err) == 1, "a frame a day: lag 1");
  decent_still_gate_free (odd);
  decent_still_gate_free (every);

  /* 0: unknown, frames count as calibrated; refused paces */
  CHECK (decent_still_gate_set_pace (fast, 0.0, &err) == 5, "pace 0: lag 5");
  CHECK (decent_still_gate_set_pace (fast, -0.1, &err) < 0 && strstr (err.message, "between"),
      "%s", err.message);
  CHECK (decent_still_gate_set_pace (fast, NAN, &err) < 0, "NaN pace");
  CHECK (decent_still_gate_set_pace (NULL, 0.1, &err) < 0, "no gate");
  decent_still_gate_free (fast);
  decent_still_gate_free (plain);
  decent_still_gate_free (slow);
  decent_still_gate_free (three);
}

/* Writes to path the model file data (len bytes) with its STIL section,
 * whose payload begins at `at` and is the file's last, `extra` bytes longer
 * (zeros) or shorter, its length, the file's length and both checksums
 * made to match. */
static void
write_resized_still (const char *path, const uint8_t *data, size_t len, long at, int extra)
{
  const size_t new_len = len + (size_t) (long) extra;
  uint8_t *copy = calloc (1, new_len);
  memcpy (copy, data, (extra > 0 ? len : new_len) - 4);
  const uint64_t payload = 56 + 4 * (uint64_t) PLANE + 4 + (uint64_t) (int64_t) extra,
                 file_len = new_len;
  memcpy (copy + at - 8, &payload, 8);
  memcpy (copy + 164, &file_len, 8);
  const uint32_t head = tu_crc32 (copy, 172);
  memcpy (copy + 172, &head, 4);
  tu_seal_file (copy, new_len);
  tu_write_file (path, copy, new_len);
  free (copy);
}

static void
model_file (DecentModel *m)
{
  DecentError err;
  char dir[] = "/tmp/decent-still-XXXXXX";
  REQUIRE (mkdtemp (dir), "mkdtemp");
  char path[256], bad[256];
  snprintf (path, sizeof path, "%s/m.dcnt", dir);
  snprintf (bad, sizeof bad, "%s/bad.dcnt", dir);
  REQUIRE (decent_model_save (m, path, &err) == 0, "%s", err.message);
  DecentModel *back = decent_model_load (path, DECENT_DEVICE_CPU, &err);
  REQUIRE (back, "%s", err.message);
  DecentStillSettings a, b;
  DecentCalibration ca, cb;
  CHECK (decent_model_get_still (m, &a, &ca) == 1 && decent_model_get_still (back, &b, &cb) == 1,
      "the gate survives the file");
  CHECK (memcmp (&a, &b, sizeof a) == 0 && memcmp (&ca, &cb, sizeof ca) == 0,
      "settings and calibration equal");
  /* and so does the start mean: the same frames score the same */
  DecentStillGate *g1 = decent_still_gate_new (m, &err), *g2 = decent_still_gate_new (back, &err);
  REQUIRE (g1 && g2, "%s", err.message);
  enum { N = 12 };
  uint8_t frames[N * PLANE];
  footage (frames, N);
  float sc[N], maps[N * PLANE];
  REQUIRE (decent_model_score_mode (m, DECENT_SCORE_LOCAL, frames, N, sc, maps, &err) == 0, "%s",
      err.message);
  int same = 1;
  for (int i = 0; i < N; i++) {
    float r1 = -1, r2 = -2;
    decent_still_gate_push (g1, frames + (size_t) i * PLANE, maps + (size_t) i * PLANE, &r1,
        &err);
    decent_still_gate_push (g2, frames + (size_t) i * PLANE, maps + (size_t) i * PLANE, &r2,
        &err);
    same &= r1 == r2;
  }
  CHECK (same, "gates from the saved and the loaded model agree");
  decent_still_gate_free (g1);
  decent_still_gate_free (g2);
  decent_model_free (back);

  /* damaged sections are refused, naming the still gate */
  size_t len;
  uint8_t *data = tu_read_file (path, &len);
  const long at = still_payload (data, len);
  REQUIRE (at > 0, "a STIL section");
  const struct { long offset; uint32_t value; const char *word; } damage[] = {
    { 0, 0, "lag" },                                 /* lag 0 */
    { 0, 1000, "lag" },                              /* lag over the limit */
    { 12, 0, "memory" },                             /* memory 0 */
    { 8, 4, "smooth" },                              /* an even box */
    { 4, 0x7fc00000u, "tolerance" },                 /* tolerance NaN */
    { 16, W + 1, "still gate of" },                  /* another width */
    { 56, 0x7fc00000u, "normal mean" },              /* NaN in the mean map */
    { 56, 0x40000000u, "normal mean" },              /* 2.0 in the mean map */
    { 24, 0xbf800000u, "threshold" },                /* threshold -1 */
    { 24, 0x00000001u, "threshold" },                /* a denormal threshold */
    { 24, 0x00800000u, "threshold" },                /* 1.2e-38: every rise a flag */
    { 48, 0, "calibration" },                        /* calibrated on 0 frames */
    { 56 + 4 * PLANE, 0x7fc00000u, "frame_seconds" }, /* NaN s between frames */
    { 56 + 4 * PLANE, 0x47c35000u, "frame_seconds" }, /* 100000 s, over a day */
  };
  for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
    uint8_t *copy = malloc (len);
    memcpy (copy, data, len);
    memcpy (copy + at + damage[i].offset, &damage[i].value, 4);
    tu_seal_file (copy, len);
    tu_write_file (bad, copy, len);
    free (copy);
    DecentModel *x = decent_model_load (bad, DECENT_DEVICE_CPU, &err);
    CHECK (!x && strstr (err.message, damage[i].word) && strstr (err.message, "bad.dcnt"),
        "damage %zu: %s", i, x ? "loaded" : err.message);
    decent_model_free (x);
  }

  /* the STIL section (the file's last) resized: a gate of the first files,
   * without frame_seconds (4 bytes fewer), loads with its pace unknown; a
   * newer build's, 8 bytes longer, loads the fields known here and skips
   * the rest; 2 bytes of a tail are refused */
  REQUIRE ((size_t) at + 56 + 4 * PLANE + 4 + 4 == len, "STIL is the last section");
  const int extras[] = { -4, 8, -2 };
  for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
    const int extra = extras[i];
    write_resized_still (bad, data, len, at, extra);
    DecentModel *x = decent_model_load (bad, DECENT_DEVICE_CPU, &err);
    DecentStillSettings o = { 0 };
    if (extra == -4)
      CHECK (x && decent_model_get_still (x, &o, NULL) == 1 && o.frame_seconds == 0.0f
          && o.lag == a.lag, "a gate without frame_seconds: %s (%g s), its lag %d",
          x ? "loaded" : err.message, o.frame_seconds, o.lag);
    else if (extra > 0)
      CHECK (x && decent_model_get_still (x, &o, NULL) == 1 && o.frame_seconds == a.frame_seconds,
          "a longer gate: %s", x ? "its pace changed" : err.message);
    else
      CHECK (!x && strstr (err.message, "still gate"), "a gate with 2 bytes of a tail: %s",
          x ? "loaded" : err.message);
    decent_model_free (x);
  }
  free (data);

  /* a model without a gate writes none */
  decent_model_clear_still (m);
  REQUIRE (decent_model_save (m, path, &err) == 0, "%s", err.message);
  back = decent_model_load (path, DECENT_DEVICE_CPU, &err);
  REQUIRE (back, "%s", err.message);
  CHECK (decent_model_get_still (back, NULL, NULL) == 0, "no gate written");
  data = tu_read_file (path, &len);
  CHECK (still_payload (data, len) < 0, "no STIL section");
  free (data);
  decent_model_free (back);
  CHECK (decent_model_get_still (NULL, NULL, NULL) < 0, "no model");
  unlink (path);
  unlink (bad);
  rmdir (dir);
}

/* A gate keeps lag + 1 pictures: at 1024 x 1024, lag 100 would be 404
 * MiB, refused; lag 40 (164 MiB) is not. */
static void
history_bound (void)
{
  DecentConfig cfg;
  DecentError err;
  decent_config_init (&cfg, 1024, 1024, 1);
  cfg.base_channels = 2;
  cfg.max_channels = 4;
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *big = decent_model_new (&cfg, &err);
  REQUIRE (big, "%s", err.message);
  float *start = calloc ((size_t) 1024 * 1024, sizeof (float));
  DecentStillSettings s = { 100, 8, 5, 100 };
  DecentCalibration cal = { 0 };
  cal.threshold = 0.5f;
  CHECK (decent_model_set_still (big, &s, &cal, start, &err) < 0
      && strstr (err.message, "MiB"), "%s", err.message);
  uint8_t one = 0;
  const int blocks[] = { 200 };
  CHECK (decent_model_calibrate_still (big, &s, &one, blocks, 1, 0.995f, 3.0f, &err) < 0
      && strstr (err.message, "MiB"), "calibration: %s", err.message);
  /* known before any footage: what a 1024 x 1024 model can keep */
  CHECK (decent_still_settings_fit (&s, 1024, 1024, &err) < 0 && strstr (err.message, "MiB"),
      "fit: %s", err.message);
  CHECK (decent_still_settings_fit (&s, 0, 1024, &err) < 0, "no model size");
  s.lag = 40;
  CHECK (decent_still_settings_fit (&s, 1024, 1024, &err) == 0, "%s", err.message);
  CHECK (decent_model_set_still (big, &s, &cal, start, &err) == 0, "%s", err.message);
  free (start);
  decent_model_free (big);
}

int
main (void)
{
  settings ();
  DecentModel *m = grey_model ();
  formula (m);
  still_against_moving (m);
  after_a_change (m);
  calibration (m);
  calibration_across_streams (m);
  pace (m);
  model_file (m);
  decent_model_free (m);
  history_bound ();
  return tu_finish ("still_gate");
}
