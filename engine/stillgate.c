/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stillgate.c — the still gate of the local score (decent.h; the method in
 * docs/method.md, "Still objects").  One frame's reconstruction error cannot
 * tell a bag left on the road from a dark-clothed person walking there: both
 * are new to the model.  Time can: the bag stays put.  The gate keeps the
 * local map where the picture is the same as lag frames ago, keeps what rose
 * over the running mean of such maps (so that slow changes of the whole
 * scene, and places that are always a little hot, drop out), and scores the
 * result as the local score does.  Backend-neutral: it works on the maps and
 * the model-size pixels on the CPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "localscore.h"
#include "model_internal.h"

struct DecentStillGate {
  DecentStillSettings set;
  int width, height, channels;
  int win_w, win_h;
  float threshold;  /* of the model's calibration (0 while calibrating) */
  float *start;     /* the running mean's value after a reset */
  float *grey;      /* lag + 1 grey pictures, a ring */
  int next;         /* the ring's slot for the next picture */
  int seen;         /* pictures in the ring, up to lag + 1 */
  /* the pace (decent_still_gate_set_pace): frames compared lag_now apart,
   * the mean's time constant memory_now; with take < 1 only that share of
   * the frames given is taken (phase counts up to the next), the others
   * get the last result */
  int lag_now;
  float memory_now;
  double take, phase;
  int last_rc;
  float last_score;
  float *mean;      /* the running mean of the gated maps */
  float *change;    /* the change since lag frames ago, then smoothed, then the gate */
  float *line;      /* one row or column of the box filter */
  float *gated;     /* the last frame's map times the gate */
  float *risen;     /* what it has over the mean */
  double *sat;      /* decent_local_max's scratch */
};

void
decent_still_settings_init (DecentStillSettings *s)
{
  if (!s)
    return;
  /* measured on vtest.avi at 10 frames/s (docs/results/still-gate.md) */
  s->lag = 10;
  s->tolerance = 8.0f;
  s->smooth = 5;
  s->memory = 100.0f;
  s->frame_seconds = 0.0f;
}

/* The pictures a gate keeps (lag + 1 float planes) at most: lag 63 at
 * 1024 x 1024, any lag at the video defaults' sizes. */
#define MAX_HISTORY_BYTES (256u << 20)

static int
history_fits (const DecentStillSettings *s, int width, int height, DecentError *err)
{
  const uint64_t bytes = (uint64_t) (s->lag + 1) * (uint64_t) width * (uint64_t) height
                         * sizeof (float);
  if (bytes > MAX_HISTORY_BYTES)
    return decent_fail (err, "still gate: %d frames of history at %dx%d need %llu MiB, over "
        "%u MiB; lower still-lag", s->lag + 1, width, height,
        (unsigned long long) (bytes >> 20), MAX_HISTORY_BYTES >> 20);
  return 0;
}

int
decent_still_settings_validate (const DecentStillSettings *s, DecentError *err)
{
  if (!s)
    return decent_fail (err, "still gate: no settings");
  if (s->lag < 1 || s->lag > DECENT_STILL_MAX_LAG)
    return decent_fail (err, "still gate: lag %d is outside 1..%d frames", s->lag,
        DECENT_STILL_MAX_LAG);
  if (!(s->tolerance >= 0.01f && s->tolerance <= 255.0f))
    return decent_fail (err, "still gate: tolerance %g is outside 0.01..255 grey levels",
        s->tolerance);
  if (s->smooth < 1 || s->smooth > 63 || s->smooth % 2 == 0)
    return decent_fail (err, "still gate: smooth %d is not an odd number of 1..63 map pixels",
        s->smooth);
  if (!(s->memory >= 1.0f && s->memory <= 1e6f))
    return decent_fail (err, "still gate: memory %g is outside 1..1e6 frames", s->memory);
  /* as floats: a double bound cast to the stored float is a hair off */
  if (!(s->frame_seconds == 0.0f || (s->frame_seconds >= (float) DECENT_STILL_MIN_SECONDS
                                        && s->frame_seconds <= (float) DECENT_STILL_MAX_SECONDS)))
    return decent_fail (err, "still gate: frame_seconds %g is neither 0 (unknown) nor "
        "%g..%g s", s->frame_seconds, DECENT_STILL_MIN_SECONDS, DECENT_STILL_MAX_SECONDS);
  return 0;
}

int
decent_still_settings_fit (const DecentStillSettings *s, int width, int height,
    DecentError *err)
{
  if (decent_still_settings_validate (s, err) < 0)
    return -1;
  if (width < 1 || height < 1)
    return decent_fail (err, "still gate: a %dx%d model", width, height);
  return history_fits (s, width, height, err);
}

void
decent_still_gate_free (DecentStillGate *g)
{
  if (!g)
    return;
  free (g->start);
  free (g->grey);
  free (g->mean);
  free (g->change);
  free (g->line);
  free (g->gated);
  free (g->risen);
  free (g->sat);
  free (g);
}

/* A gate for a width x height x channels model; start (may be NULL: zeros)
 * is copied. */
static DecentStillGate *
gate_new (const DecentStillSettings *s, int width, int height, int channels, float local_area,
    float threshold, const float *start, DecentError *err)
{
  if (decent_still_settings_validate (s, err) < 0 || history_fits (s, width, height, err) < 0)
    return NULL;
  const size_t plane = (size_t) width * height;
  const int line = width > height ? width : height;
  DecentStillGate *g = calloc (1, sizeof *g);
  if (g) {
    g->start = malloc (plane * sizeof (float));
    g->grey = malloc ((size_t) (s->lag + 1) * plane * sizeof (float));
    g->mean = malloc (plane * sizeof (float));
    g->change = malloc (plane * sizeof (float));
    g->line = malloc ((size_t) (line + s->smooth) * sizeof (float));
    g->gated = malloc (plane * sizeof (float));
    g->risen = calloc (plane, sizeof (float));
    g->sat = malloc ((size_t) (width + 1) * (height + 1) * sizeof (double));
  }
  if (!g || !g->start || !g->grey || !g->mean || !g->change || !g->line || !g->gated
      || !g->risen || !g->sat) {
    decent_still_gate_free (g);
    decent_fail (err, "still gate: out of memory for a %dx%d map", width, height);
    return NULL;
  }
  g->set = *s;
  g->width = width;
  g->height = height;
  g->channels = channels;
  g->threshold = threshold;
  decent_local_window (width, height, local_area, &g->win_w, &g->win_h);
  if (start)
    memcpy (g->start, start, plane * sizeof (float));
  else
    memset (g->start, 0, plane * sizeof (float));
  g->lag_now = s->lag;
  g->memory_now = s->memory;
  g->take = 1.0;
  decent_still_gate_reset (g);
  return g;
}

/* Forgets the pictures, keeps the running mean (a new block of footage). */
static void
forget_pictures (DecentStillGate *g)
{
  g->next = 0;
  g->seen = 0;
}

void
decent_still_gate_reset (DecentStillGate *g)
{
  if (!g)
    return;
  forget_pictures (g);
  memcpy (g->mean, g->start, (size_t) g->width * g->height * sizeof (float));
  g->phase = 1.0 - g->take; /* the first frame given is taken */
  g->last_rc = 0;
  g->last_score = 0.0f;
}

int
decent_still_gate_set_pace (DecentStillGate *g, double frame_seconds, DecentError *err)
{
  if (!g)
    return decent_fail (err, "still gate: no gate");
  if (!(frame_seconds == 0.0 || (frame_seconds >= DECENT_STILL_MIN_SECONDS
                                  && frame_seconds <= DECENT_STILL_MAX_SECONDS)))
    return decent_fail (err, "still gate: %g s between frames is neither 0 (unknown) nor "
        "%g..%g s", frame_seconds, DECENT_STILL_MIN_SECONDS, DECENT_STILL_MAX_SECONDS);
  /* given frames per calibration frame: < 1 faster, > 1 slower */
  const double ratio = frame_seconds > 0 && g->set.frame_seconds > 0
      ? frame_seconds / g->set.frame_seconds : 1.0;
  int lag_given = g->set.lag;
  g->lag_now = g->set.lag;
  g->memory_now = g->set.memory;
  g->take = 1.0;
  if (ratio < 1.0) {
    g->take = ratio;
    lag_given = (int) lround (fmin (g->set.lag / ratio, 1e9)); /* no long overflow */
  } else if (ratio > 1.0) {
    /* the ring holds set.lag + 1 pictures: a shorter lag fits */
    g->lag_now = (int) lround (g->set.lag / ratio);
    g->lag_now = g->lag_now < 1 ? 1 : g->lag_now;
    g->memory_now = (float) fmax (1.0, g->set.memory / ratio);
    lag_given = g->lag_now;
  }
  decent_still_gate_reset (g);
  return lag_given;
}

/* The grey level (0..255) of each pixel of an 8-bit HWC picture. */
static void
grey_of (const DecentStillGate *g, const uint8_t *pixels, float *out)
{
  const size_t plane = (size_t) g->width * g->height;
  if (g->channels == 1) {
    for (size_t i = 0; i < plane; i++)
      out[i] = pixels[i];
    return;
  }
  for (size_t i = 0; i < plane; i++) {
    const uint8_t *p = pixels + 3 * i;
    out[i] = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
  }
}

/* One line of n values (stride apart) replaced by its box means over k,
 * the ends repeated beyond the edges. */
static void
box_line (float *v, int n, size_t stride, int k, float *tmp)
{
  const int r = k / 2;
  for (int i = 0; i < n + 2 * r; i++) {
    int j = i - r;
    j = j < 0 ? 0 : j >= n ? n - 1 : j;
    tmp[i] = v[(size_t) j * stride];
  }
  double sum = 0;
  for (int i = 0; i < k; i++)
    sum += tmp[i];
  for (int i = 0; i < n; i++) {
    v[(size_t) i * stride] = (float) (sum / k);
    if (i + 1 < n)
      sum += tmp[i + k] - tmp[i];
  }
}

/* Takes the next picture into the ring; when the picture of lag frames ago
 * is there, leaves the gate (0..1) of each pixel in g->change, writes the
 * gated map to out and returns 1, else 0. */
static int
gate_map (DecentStillGate *g, const uint8_t *pixels, const float *map, float *out)
{
  const size_t plane = (size_t) g->width * g->height;
  const int ring = g->set.lag + 1, lag = g->lag_now, slot = g->next;
  float *now = g->grey + (size_t) slot * plane;
  grey_of (g, pixels, now);
  g->next = (slot + 1) % ring;
  if (g->seen < ring)
    g->seen++;
  if (g->seen < lag + 1)
    return 0;
  const float *then = g->grey + (size_t) ((slot - lag + ring) % ring) * plane;
  for (size_t i = 0; i < plane; i++)
    g->change[i] = fabsf (now[i] - then[i]);
  if (g->set.smooth > 1) {
    for (int y = 0; y < g->height; y++)
      box_line (g->change + (size_t) y * g->width, g->width, 1, g->set.smooth, g->line);
    for (int x = 0; x < g->width; x++)
      box_line (g->change + x, g->height, (size_t) g->width, g->set.smooth, g->line);
  }
  const float inv = 1.0f / g->set.tolerance;
  for (size_t i = 0; i < plane; i++) {
    const float d = g->change[i] * inv;
    g->change[i] = 1.0f / (1.0f + d * d);
    out[i] = map[i] * g->change[i];
  }
  return 1;
}

/* What the gated map has over the running mean of gated maps, into
 * g->risen; returns its largest window mean.  The mean takes the gated map
 * in, except in a frame whose gate (g->change) is closed over most of the
 * picture: a change of the whole picture (a cloud, a light switched on)
 * would pull it down everywhere for 2 x lag frames, and the normal map
 * would rise over it once the picture is back.  A normal frame's passers-by
 * close the gate over a small part only. */
static float
rise (DecentStillGate *g, const float *gated)
{
  const size_t plane = (size_t) g->width * g->height;
  double open = 0;
  for (size_t i = 0; i < plane; i++)
    open += g->change[i];
  const float rate = open >= 0.5 * (double) plane ? 1.0f / g->memory_now : 0.0f;
  for (size_t i = 0; i < plane; i++) {
    const float over = gated[i] - g->mean[i];
    g->risen[i] = over > 0 ? over : 0;
    g->mean[i] += over * rate;
  }
  return decent_local_max (g->risen, g->width, g->height, g->win_w, g->win_h, 0.0f, g->sat);
}

int
decent_still_gate_push (DecentStillGate *g, const uint8_t *pixels, const float *local_map,
    float *score, DecentError *err)
{
  if (!g || !pixels || !local_map || !score)
    return decent_fail (err, "still gate: no gate, pixels, map or score");
  /* a NaN or infinite value would stay in the running mean for good and
   * blind the gate: such a map is refused, the gate left as it was */
  const size_t plane = (size_t) g->width * g->height;
  for (size_t i = 0; i < plane; i++)
    if (!isfinite (local_map[i]))
      return decent_fail (err, "still gate: the map is not finite at pixel %zu (%g); the gate "
          "is unchanged", i, local_map[i]);
  /* frames faster than the calibration's: only its pace of them.  Frame
   * times are floats (0.1 s is not one): a phase a rounding short of 1 is
   * taken, and what it was short is not carried on, so rounding cannot add
   * up to a skipped frame */
  g->phase += g->take;
  if (g->phase < 1.0 - 1e-6) {
    *score = g->last_score;
    return g->last_rc;
  }
  g->phase = g->phase > 1.0 ? g->phase - 1.0 : 0.0;
  *score = 0.0f;
  g->last_rc = gate_map (g, pixels, local_map, g->gated);
  if (g->last_rc)
    *score = rise (g, g->gated);
  g->last_score = *score;
  return g->last_rc;
}

float
decent_still_gate_threshold (const DecentStillGate *g)
{
  return g ? g->threshold : 0.0f;
}

const float *
decent_still_gate_map (const DecentStillGate *g)
{
  return g && g->last_rc == 1 ? g->risen : NULL; /* none while the history fills */
}

DecentStillGate *
decent_still_gate_new (const DecentModel *m, DecentError *err)
{
  if (!m) {
    decent_fail (err, "still gate: no model");
    return NULL;
  }
  if (!m->still_start || !(m->still_cal.threshold > 0)) {
    decent_fail (err, "still gate: the model has no still-gate calibration (decent-train "
        "still-lag > 0 calibrates one)");
    return NULL;
  }
  return gate_new (&m->still, m->cfg.width, m->cfg.height, m->cfg.channels, m->cfg.local_area,
      m->still_cal.threshold, m->still_start, err);
}

int
decent_model_get_still (const DecentModel *m, DecentStillSettings *s, DecentCalibration *cal)
{
  if (!m)
    return -1;
  const int has = m->still_start != NULL;
  if (s)
    *s = m->still; /* zeros without a gate */
  if (cal) {
    if (has)
      *cal = m->still_cal;
    else
      memset (cal, 0, sizeof *cal);
  }
  return has;
}

void
decent_model_clear_still (DecentModel *m)
{
  if (!m)
    return;
  free (m->still_start);
  m->still_start = NULL;
  memset (&m->still, 0, sizeof m->still);
  memset (&m->still_cal, 0, sizeof m->still_cal);
}

/* ---- calibration ------------------------------------------------------ */

/* Gated frames whose mean begins the running mean: 2 s at 10 frames/s,
 * a fifth of the default memory. */
#define START_FRAMES 20
/* The range of a still threshold (decent_model_set_still). */
#define STILL_MIN_THRESHOLD 1e-6
#define STILL_MAX_THRESHOLD 10.0
/* Frames scored in one call while calibrating. */
#define WALK_CHUNK 32

/* Walks the blocks of frames in time order through g, scoring them in
 * chunks: the running mean begins at g's start and goes on from block to
 * block (they are in time order), except that it begins at the start again
 * with a block that starts a stream (starts_stream[b], may be NULL), as
 * decentanomaly's gate does at a stream-start; the pictures start again
 * with each block.  Per frame with a picture lag frames before it in its
 * block: the gated map goes into sum while fewer than `first` were summed
 * (sum may be NULL), the still score into scores (may be NULL).  Returns
 * how many frames were gated, or -1. */
static int
walk (DecentModel *m, DecentStillGate *g, const uint8_t *frames, const int *block_frames,
    const uint8_t *starts_stream, int blocks, double *sum, int first, float *scores,
    float *maps, float *chunk_scores, DecentError *err)
{
  const size_t plane = (size_t) g->width * g->height;
  const size_t fb = plane * (size_t) g->channels;
  int done = 0, at_block = 0;
  decent_still_gate_reset (g);
  for (int b = 0; b < blocks; b++) {
    if (starts_stream && starts_stream[b])
      decent_still_gate_reset (g);
    else
      forget_pictures (g);
    for (int at = 0; at < block_frames[b]; at += WALK_CHUNK) {
      const int count = block_frames[b] - at < WALK_CHUNK ? block_frames[b] - at : WALK_CHUNK;
      const uint8_t *px = frames + (size_t) (at_block + at) * fb;
      if (sum && done >= first)
        return done; /* the start needs no more */
      if (decent_model_score_mode (m, DECENT_SCORE_LOCAL, px, count, chunk_scores, maps, err)
          < 0)
        return -1;
      for (int i = 0; i < count; i++) {
        const float *map = maps + (size_t) i * plane;
        if (!gate_map (g, px + (size_t) i * fb, map, g->gated))
          continue;
        if (sum && done < first)
          for (size_t p = 0; p < plane; p++)
            sum[p] += g->gated[p];
        if (scores)
          scores[done] = rise (g, g->gated);
        done++;
      }
    }
    at_block += block_frames[b];
  }
  return done;
}

int
decent_model_calibrate_still (DecentModel *m, const DecentStillSettings *s,
    const uint8_t *frames, const int *block_frames, int blocks, float quantile, float sigmas,
    DecentError *err)
{
  return decent_model_calibrate_still_streams (m, s, frames, block_frames, NULL, blocks,
      quantile, sigmas, err);
}

int
decent_model_calibrate_still_streams (DecentModel *m, const DecentStillSettings *s,
    const uint8_t *frames, const int *block_frames, const uint8_t *starts_stream, int blocks,
    float quantile, float sigmas, DecentError *err)
{
  if (!m || !s || !frames || !block_frames || blocks < 1)
    return decent_fail (err, "calibrate still gate: no model, settings, frames or blocks");
  if (!(quantile > 0.0f && quantile <= 1.0f) || !(sigmas >= 0.0f && sigmas <= 100.0f))
    return decent_fail (err, "calibrate still gate: quantile %g must be in (0, 1] and sigmas "
        "%g in [0, 100]", quantile, sigmas);
  if (decent_still_settings_validate (s, err) < 0
      || history_fits (s, m->cfg.width, m->cfg.height, err) < 0)
    return -1;
  int64_t total = 0, gated = 0;
  for (int b = 0; b < blocks; b++) {
    if (block_frames[b] < 0)
      return decent_fail (err, "calibrate still gate: block %d has %d frames", b,
          block_frames[b]);
    total += block_frames[b];
    gated += block_frames[b] > s->lag ? block_frames[b] - s->lag : 0;
  }
  if (total > INT32_MAX)
    return decent_fail (err, "calibrate still gate: too many frames");
  if (gated < 2)
    return decent_fail (err, "calibrate still gate: its blocks of %d frames in all leave %d "
        "frames with a picture %d frames before them; it needs at least 2 (hold out more "
        "footage, or lower still-lag)", (int) total, (int) gated, s->lag);
  const size_t plane = (size_t) m->cfg.width * m->cfg.height;
  DecentStillGate *g = gate_new (s, m->cfg.width, m->cfg.height, m->cfg.channels,
      m->cfg.local_area, 0.0f, NULL, err);
  double *sum = calloc (plane, sizeof (double));
  float *scores = malloc ((size_t) gated * sizeof (float));
  float *maps = malloc (WALK_CHUNK * plane * sizeof (float));
  float *chunk = malloc (WALK_CHUNK * sizeof (float));
  int rc = g ? 0 : -1;
  if (rc == 0 && (!sum || !scores || !maps || !chunk))
    rc = decent_fail (err, "calibrate still gate: out of memory");
  /* the running mean begins at the mean of the first START_FRAMES gated
   * maps (a stream's begins there too), and the calibration walks on from
   * there in time order: what normal footage rises over a mean that knows
   * little more than its past.  (Begun at the mean of the whole footage,
   * the mean would know the footage's future, the rises would come out too
   * small, and so would the threshold: on vtest.avi the pair with grid seed
   * 3 then flagged 6.6 % of the later normal frames, in 2 events, against
   * 0.8 % in none; docs/method.md.) */
  int summed = 0;
  if (rc == 0 && (summed = walk (m, g, frames, block_frames, starts_stream, blocks, sum,
                      START_FRAMES, NULL, maps, chunk, err)) < 0)
    rc = -1;
  if (rc == 0) {
    const int n = summed < START_FRAMES ? summed : START_FRAMES;
    for (size_t p = 0; p < plane; p++)
      g->start[p] = (float) (sum[p] / (double) n);
    if (walk (m, g, frames, block_frames, starts_stream, blocks, NULL, 0, scores, maps, chunk,
            err) < 0)
      rc = -1;
  }
  DecentCalibration cal;
  if (rc == 0)
    rc = decent_calibration_from (scores, (int) gated, quantile, sigmas, &cal, err);
  if (rc == 0 && cal.threshold < STILL_MIN_THRESHOLD)
    cal.threshold = STILL_MIN_THRESHOLD; /* footage that barely changes: no flag on rounding */
  if (rc == 0) /* as a file's gate is taken in (a gate it refused, no file could hold) */
    rc = decent_model_set_still (m, s, &cal, g->start, err);
  free (chunk);
  free (maps);
  free (scores);
  free (sum);
  decent_still_gate_free (g);
  return rc;
}

int
decent_model_set_still (DecentModel *m, const DecentStillSettings *s,
    const DecentCalibration *cal, const float *start, DecentError *err)
{
  if (!m || !s || !cal || !start)
    return decent_fail (err, "still gate: no model, settings, calibration or start");
  if (decent_still_settings_validate (s, err) < 0
      || history_fits (s, m->cfg.width, m->cfg.height, err) < 0)
    return -1;
  const size_t plane = (size_t) m->cfg.width * m->cfg.height;
  /* still scores are window means of rises of maps in 0..1: a threshold
   * outside these bounds is no calibration's (calibration floors it at the
   * lower one), and would turn every rise into a flag or none */
  /* as floats: calibration's floor is (float) 1e-6, a hair under the double */
  if (!(cal->threshold >= (float) STILL_MIN_THRESHOLD
        && cal->threshold <= (float) STILL_MAX_THRESHOLD))
    return decent_fail (err, "still gate: threshold %g is outside %g..%g", cal->threshold,
        STILL_MIN_THRESHOLD, STILL_MAX_THRESHOLD);
  for (size_t p = 0; p < plane; p++)
    if (!(start[p] >= 0.0f && start[p] <= 1.0f))
      return decent_fail (err, "still gate: the normal mean %g at %zu is outside 0..1",
          start[p], p);
  float *copy = malloc (plane * sizeof (float));
  if (!copy)
    return decent_fail (err, "out of memory");
  memcpy (copy, start, plane * sizeof (float));
  free (m->still_start);
  m->still_start = copy;
  m->still = *s;
  m->still_cal = *cal;
  return 0;
}
