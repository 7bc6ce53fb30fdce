/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* model_file.c — the versioned model file (format in docs/model-format.md).
 *
 * Little-endian throughout.  A fixed header that ends with its own CRC-32,
 * then the parameters, BN running statistics and the centre as float32, then
 * tagged sections, then a CRC-32 of every byte before it.  Saving goes
 * through a temporary file in the same folder, fsync and rename, so the old
 * model stays whole until the new one is.  Loading reads and checks the
 * header before it believes any size in it, then reads the body in pieces
 * straight into the arrays it fills; files and memory (the fuzz target)
 * share one parser over a small reader. */
#include "model_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAGIC "DECENTAE"
#define VERSION 2u
#define HEADER_BYTES 160u       /* the header area of versions 1 and 2 */
#define MAX_VERSION 255u        /* a version field above this is damage, not the future */
#define MAX_HEADER_BYTES 65536u /* what a newer version's header may plausibly take */
#define HEADER_CRC_AT (16 + HEADER_BYTES - 4)
#define SECTION_HEAD 16u
#define MAX_FILE_BYTES (2ull << 30)
#define CHUNK (1u << 20)        /* bytes read or written at a time */

/* ---- CRC-32 (IEEE 802.3, reflected): zlib's ---------------------------- */

static uint32_t
crc32_update (uint32_t crc, const uint8_t *p, size_t n)
{
  return (uint32_t) crc32_z (crc, p, n);
}

/* ---- a byte cursor ---------------------------------------------------- */

typedef struct {
  uint8_t *p;
  size_t pos, len;
} Cursor;

static void
put_u32 (Cursor *c, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    c->p[c->pos++] = (uint8_t) (v >> (8 * i));
}

static void
put_u64 (Cursor *c, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    c->p[c->pos++] = (uint8_t) (v >> (8 * i));
}

static void
put_f32 (Cursor *c, float f)
{
  uint32_t v;
  memcpy (&v, &f, 4);
  put_u32 (c, v);
}

static uint32_t
get_u32 (Cursor *c)
{
  uint32_t v = 0;
  for (int i = 0; i < 4; i++)
    v |= (uint32_t) c->p[c->pos++] << (8 * i);
  return v;
}

static uint64_t
get_u64 (Cursor *c)
{
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v |= (uint64_t) c->p[c->pos++] << (8 * i);
  return v;
}

static float
get_f32 (Cursor *c)
{
  uint32_t v = get_u32 (c);
  float f;
  memcpy (&f, &v, 4);
  return f;
}

/* The header fields, in file order; one function for both directions keeps
 * writer and reader from drifting apart. */
typedef struct {
  DecentConfig cfg;
  uint32_t n_stages, latent_dim;
  uint64_t n_params, n_buffers, steps, centre_batches;
  DecentCalibration cal;
  uint32_t epochs; /* completed epochs; in what was reserved space, 0 in older files */
  uint64_t file_bytes; /* version 2: the whole file's length; 0 in version 1 */
} Header;

/* A calibration's fields as the header and the 'SCOR' section keep them
 * (the false-alarm rate only in the section). */
static void
calibration_io (Cursor *c, DecentCalibration *cal, int write)
{
  float *floats[] = { &cal->threshold, &cal->quantile, &cal->mean, &cal->stddev, &cal->min,
    &cal->max };
  for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
    if (write)
      put_f32 (c, *floats[i]);
    else
      *floats[i] = get_f32 (c);
  }
  if (write)
    put_u32 (c, cal->count);
  else
    cal->count = get_u32 (c);
}

static void
header_io (Cursor *c, Header *h, int write)
{
#define U32(x) (write ? put_u32 (c, (uint32_t) (x)) : (void) ((x) = get_u32 (c)))
#define U64(x) (write ? put_u64 (c, (x)) : (void) ((x) = get_u64 (c)))
#define F32(x) (write ? put_f32 (c, (x)) : (void) ((x) = get_f32 (c)))
  uint32_t loss = (uint32_t) h->cfg.loss, batch = (uint32_t) h->cfg.batch_size;
  U32 (h->cfg.width);
  U32 (h->cfg.height);
  U32 (h->cfg.channels);
  U32 (h->cfg.base_channels);
  U32 (h->cfg.max_channels);
  U32 (h->n_stages);
  U32 (h->latent_dim);
  U32 (loss);
  U64 (h->n_params);
  U64 (h->n_buffers);
  F32 (h->cfg.lambda);
  F32 (h->cfg.input_scale);
  F32 (h->cfg.input_offset);
  F32 (h->cfg.learning_rate);
  F32 (h->cfg.beta1);
  F32 (h->cfg.beta2);
  F32 (h->cfg.adam_eps);
  F32 (h->cfg.init_std);
  F32 (h->cfg.bn_momentum);
  F32 (h->cfg.bn_eps);
  U32 (batch);
  U64 (h->cfg.seed);
  U64 (h->steps);
  U64 (h->centre_batches);
  calibration_io (c, &h->cal, write);
  U32 (h->epochs);
  U64 (h->file_bytes);
  if (!write) {
    h->cfg.loss = (DecentLoss) loss;
    h->cfg.batch_size = (int) batch;
  }
#undef U32
#undef U64
#undef F32
}

static size_t
body_floats (const Header *h)
{
  return h->n_params + h->n_buffers + h->latent_dim;
}

/* ---- sections --------------------------------------------------------- */

/* 'SCOR': how frames are scored and each score mode's calibration.  f32
 * local_area, f32 local_contrast, u32 n, then n entries of u32 mode, f32
 * threshold, quantile, mean, stddev, min, max, u32 count, f32 false-alarm
 * rate.  Files without it score with the defaults and have only the
 * header's calibration (of the mean score). */
#define SCORE_ENTRY_BYTES 36u

static int
scoring_save (DecentModel *m, uint8_t **data, size_t *len, DecentError *err)
{
  /* never a file its own loader refuses (scoring_load's rule) */
  for (uint32_t k = 0; k < DECENT_SCORE_MODES; k++)
    if (!isfinite (m->cal[k].threshold) || m->cal[k].threshold < 0.0f)
      return decent_fail (err, "score mode %s has the threshold %g, which a model file cannot "
          "hold", decent_score_mode_name ((DecentScoreMode) k), m->cal[k].threshold);
  const size_t n = 12 + DECENT_SCORE_MODES * SCORE_ENTRY_BYTES;
  uint8_t *p = malloc (n);
  if (!p)
    return decent_fail (err, "out of memory");
  Cursor c = { p, 0, n };
  put_f32 (&c, m->cfg.local_area);
  put_f32 (&c, m->cfg.local_contrast);
  put_u32 (&c, DECENT_SCORE_MODES);
  for (uint32_t k = 0; k < DECENT_SCORE_MODES; k++) {
    DecentCalibration *cal = &m->cal[k];
    put_u32 (&c, k);
    calibration_io (&c, cal, 1);
    put_f32 (&c, cal->false_alarm_rate);
  }
  *data = p;
  *len = n;
  return 0;
}

static int
scoring_load (DecentModel *m, const uint8_t *data, size_t len, DecentError *err)
{
  if (len < 12)
    return decent_fail (err, "%zu bytes are too few", len);
  Cursor c = { (uint8_t *) data, 0, len };
  const float area = get_f32 (&c), contrast = get_f32 (&c);
  const uint32_t n = get_u32 (&c);
  /* the bounds decent_config_validate sets */
  if (!(area >= 1e-6f && area <= 1.0f) || !(contrast >= 1e-6f && contrast <= 100.0f))
    return decent_fail (err, "local area %g / contrast %g are invalid", area, contrast);
  if (n > 64 || len != 12 + (size_t) n * SCORE_ENTRY_BYTES)
    return decent_fail (err, "%u calibrations do not fill %zu bytes", n, len);
  DecentCalibration cal[DECENT_SCORE_MODES];
  memcpy (cal, m->cal, sizeof cal);
  uint64_t seen = 0;
  for (uint32_t i = 0; i < n; i++) {
    const uint32_t mode = get_u32 (&c);
    DecentCalibration k;
    calibration_io (&c, &k, 0);
    k.false_alarm_rate = get_f32 (&c);
    if (!isfinite (k.threshold) || k.threshold < 0.0f)
      return decent_fail (err, "score mode %u has an invalid threshold %g", mode, k.threshold);
    if (!(k.false_alarm_rate >= 0.0f && k.false_alarm_rate <= 1.0f)
        || !(k.quantile >= 0.0f && k.quantile <= 1.0f))
      return decent_fail (err, "score mode %u has an invalid false-alarm rate %g or quantile %g",
          mode, k.false_alarm_rate, k.quantile);
    if (!isfinite (k.mean) || !(k.stddev >= 0.0f) || !isfinite (k.stddev) || !isfinite (k.min)
        || !isfinite (k.max))
      return decent_fail (err, "score mode %u has invalid score statistics (mean %g, sd %g, "
                               "min %g, max %g)", mode, k.mean, k.stddev, k.min, k.max);
    if (mode < 64 && (seen >> mode) & 1)
      return decent_fail (err, "score mode %u is calibrated twice", mode);
    seen |= mode < 64 ? 1ull << mode : 0;
    if (mode < DECENT_SCORE_MODES) /* a newer build's modes are skipped */
      cal[mode] = k;
  }
  memcpy (m->cal, cal, sizeof cal);
  m->cfg.local_area = area;
  m->cfg.local_contrast = contrast;
  return 0;
}

/* 'NERR': the per-pixel normal errors.  u32 width, u32 height, then the
 * mean and the standard deviation, width * height f32 each. */
static int
normal_save (DecentModel *m, uint8_t **data, size_t *len, DecentError *err)
{
  if (!m->normal_mean) {
    *data = NULL;
    return 0;
  }
  const size_t plane = (size_t) m->cfg.width * m->cfg.height, n = 8 + 8 * plane;
  uint8_t *p = malloc (n);
  if (!p)
    return decent_fail (err, "out of memory");
  Cursor c = { p, 0, n };
  put_u32 (&c, (uint32_t) m->cfg.width);
  put_u32 (&c, (uint32_t) m->cfg.height);
  for (size_t i = 0; i < plane; i++)
    put_f32 (&c, m->normal_mean[i]);
  for (size_t i = 0; i < plane; i++)
    put_f32 (&c, m->normal_sd[i]);
  *data = p;
  *len = n;
  return 0;
}

static int
normal_load (DecentModel *m, const uint8_t *data, size_t len, DecentError *err)
{
  const size_t plane = (size_t) m->cfg.width * m->cfg.height;
  if (len < 8 || len != 8 + 8 * plane)
    return decent_fail (err, "%zu bytes are not the normal errors of a %dx%d model", len,
        m->cfg.width, m->cfg.height);
  Cursor c = { (uint8_t *) data, 0, len };
  const uint32_t w = get_u32 (&c), h = get_u32 (&c);
  if (w != (uint32_t) m->cfg.width || h != (uint32_t) m->cfg.height)
    return decent_fail (err, "normal errors of %ux%u for a %dx%d model", w, h, m->cfg.width,
        m->cfg.height);
  float *v = malloc (2 * plane * sizeof (float));
  if (!v)
    return decent_fail (err, "out of memory");
  for (size_t i = 0; i < 2 * plane; i++)
    v[i] = get_f32 (&c);
  int rc = decent_model_set_normal (m, v, v + plane, err);
  free (v);
  return rc;
}

/* 'STIL': the still gate (stillgate.c).  u32 lag, f32 tolerance, u32
 * smooth, f32 memory, u32 width, u32 height, the calibration (f32
 * threshold, quantile, mean, stddev, min, max, u32 count, f32 false-alarm
 * rate), then width * height f32: the mean normal gated map, then f32
 * frame_seconds (absent from the files of 2026-12-04's first gates: 0,
 * unknown).  Bytes after the fields known here are a newer build's, and
 * skipped. */
#define STILL_HEAD_BYTES 56u
#define STILL_TAIL_BYTES 4u

static int
still_save (DecentModel *m, uint8_t **data, size_t *len, DecentError *err)
{
  if (!m->still_start) {
    *data = NULL;
    return 0;
  }
  const size_t plane = (size_t) m->cfg.width * m->cfg.height,
               n = STILL_HEAD_BYTES + 4 * plane + STILL_TAIL_BYTES;
  uint8_t *p = malloc (n);
  if (!p)
    return decent_fail (err, "out of memory");
  Cursor c = { p, 0, n };
  put_u32 (&c, (uint32_t) m->still.lag);
  put_f32 (&c, m->still.tolerance);
  put_u32 (&c, (uint32_t) m->still.smooth);
  put_f32 (&c, m->still.memory);
  put_u32 (&c, (uint32_t) m->cfg.width);
  put_u32 (&c, (uint32_t) m->cfg.height);
  calibration_io (&c, &m->still_cal, 1);
  put_f32 (&c, m->still_cal.false_alarm_rate);
  for (size_t i = 0; i < plane; i++)
    put_f32 (&c, m->still_start[i]);
  put_f32 (&c, m->still.frame_seconds);
  *data = p;
  *len = n;
  return 0;
}

static int
still_load (DecentModel *m, const uint8_t *data, size_t len, DecentError *err)
{
  const size_t plane = (size_t) m->cfg.width * m->cfg.height;
  const size_t old_len = STILL_HEAD_BYTES + 4 * plane;
  if (len != old_len && len < old_len + STILL_TAIL_BYTES)
    return decent_fail (err, "%zu bytes are not the still gate of a %dx%d model", len,
        m->cfg.width, m->cfg.height);
  Cursor c = { (uint8_t *) data, 0, len };
  DecentStillSettings s = { 0 };
  const uint32_t lag = get_u32 (&c);
  s.tolerance = get_f32 (&c);
  const uint32_t smooth = get_u32 (&c);
  s.memory = get_f32 (&c);
  if (lag > DECENT_STILL_MAX_LAG || smooth > 63)
    return decent_fail (err, "still gate: lag %u or smooth %u is over its limit (%d, 63)", lag,
        smooth, DECENT_STILL_MAX_LAG);
  s.lag = (int) lag;
  s.smooth = (int) smooth;
  const uint32_t w = get_u32 (&c), h = get_u32 (&c);
  if (w != (uint32_t) m->cfg.width || h != (uint32_t) m->cfg.height)
    return decent_fail (err, "a still gate of %ux%u for a %dx%d model", w, h, m->cfg.width,
        m->cfg.height);
  DecentCalibration cal;
  calibration_io (&c, &cal, 0);
  cal.false_alarm_rate = get_f32 (&c);
  if (!(cal.false_alarm_rate >= 0.0f && cal.false_alarm_rate <= 1.0f) || cal.count < 2
      || !(cal.quantile >= 0.0f && cal.quantile <= 1.0f) || !isfinite (cal.mean)
      || !(cal.stddev >= 0.0f) || !isfinite (cal.stddev) || !isfinite (cal.min)
      || !isfinite (cal.max))
    return decent_fail (err, "the still gate's calibration is invalid (quantile %g, false-alarm "
        "rate %g, mean %g, sd %g, min %g, max %g, %u frames)", cal.quantile,
        cal.false_alarm_rate, cal.mean, cal.stddev, cal.min, cal.max, cal.count);
  float *start = malloc (plane * sizeof (float));
  if (!start)
    return decent_fail (err, "out of memory");
  for (size_t i = 0; i < plane; i++)
    start[i] = get_f32 (&c);
  s.frame_seconds = len > old_len ? get_f32 (&c) : 0.0f;
  /* settings, threshold and map are checked there */
  const int rc = decent_model_set_still (m, &s, &cal, start, err);
  free (start);
  return rc;
}

/* 'PAIR': a companion model (decent_model_set_companion), the whole of its
 * model file as the payload.  It is parsed once at load, so that a damaged
 * or hostile companion refuses the file, not the first frame; a companion
 * may not carry one of its own (a file holds at most two models, and the
 * parser does not recurse without end). */
#define PAIR_MAX_BYTES (256ull << 20)

static int
pair_save (DecentModel *m, uint8_t **data, size_t *len, DecentError *err)
{
  if (!m->companion) {
    *data = NULL;
    return 0;
  }
  if (!(*data = malloc (m->companion_len)))
    return decent_fail (err, "out of memory");
  memcpy (*data, m->companion, m->companion_len);
  *len = m->companion_len;
  return 0;
}

static DecentModel *companion_parse (const uint8_t *data, size_t len, DecentDevice device,
    DecentError *err);

static int
pair_load (DecentModel *m, const uint8_t *data, size_t len, DecentError *err)
{
  DecentModel *c = companion_parse (data, len, DECENT_DEVICE_CPU, err);
  if (!c)
    return -1;
  const int channels = c->cfg.channels;
  decent_model_free (c);
  if (channels != m->cfg.channels)
    return decent_fail (err, "its companion model takes %d channels, the model %d", channels,
        m->cfg.channels);
  if (!(m->companion = malloc (len)))
    return decent_fail (err, "out of memory");
  memcpy (m->companion, data, len);
  m->companion_len = len;
  return 0;
}

/* 'SURR': the local score's surround (docs/method.md, "Anomaly score and
 * heatmap"): f32
 * local_surround.  Written when it is not 0; files without it score each
 * window by its mean, as before it existed. */
static int
surround_save (DecentModel *m, uint8_t **data, size_t *len, DecentError *err)
{
  if (m->cfg.local_surround == 0.0f) {
    *data = NULL;
    return 0;
  }
  uint8_t *p = malloc (4);
  if (!p)
    return decent_fail (err, "out of memory");
  Cursor c = { p, 0, 4 };
  put_f32 (&c, m->cfg.local_surround);
  *data = p;
  *len = 4;
  return 0;
}

static int
surround_load (DecentModel *m, const uint8_t *data, size_t len, DecentError *err)
{
  if (len != 4)
    return decent_fail (err, "%zu bytes, not 4", len);
  Cursor c = { (uint8_t *) data, 0, len };
  const float v = get_f32 (&c);
  if (!(v >= 0.0f && v <= DECENT_MAX_SURROUND)) /* (the bounds of decent_config_validate) */
    return decent_fail (err, "local surround %.9g is not in [0, %g]", v, DECENT_MAX_SURROUND);
  m->cfg.local_surround = v;
  return 0;
}

static const DecentSectionIO builtin_sections[] = {
  { DECENT_SECTION_TAG ('S', 'C', 'O', 'R'), 12 + 64 * SCORE_ENTRY_BYTES, scoring_save,
    scoring_load },
  { DECENT_SECTION_TAG ('N', 'E', 'R', 'R'), 8 + 8ull * DECENT_MAX_SIDE * DECENT_MAX_SIDE,
    normal_save, normal_load },
  { DECENT_SECTION_TAG ('S', 'T', 'I', 'L'),
    STILL_HEAD_BYTES + 4ull * DECENT_MAX_SIDE * DECENT_MAX_SIDE + STILL_TAIL_BYTES + 1024,
    still_save, still_load }, /* (+ 1024: room for a newer build's fields) */
  { DECENT_SECTION_TAG ('P', 'A', 'I', 'R'), PAIR_MAX_BYTES, pair_save, pair_load },
  { DECENT_SECTION_TAG ('S', 'U', 'R', 'R'), 4, surround_save, surround_load },
  { 0, 0, NULL, NULL },
};

static const DecentSectionIO *sections = builtin_sections;

void
decent_model_file_set_sections (const DecentSectionIO *table)
{
  sections = table ? table : builtin_sections;
}

static size_t
section_count (void)
{
  size_t n = 0;
  while (sections[n].tag)
    n++;
  return n;
}

/* The tag as text for messages: four characters, '?' for what is not
 * printable ASCII. */
static void
tag_text (uint32_t tag, char out[5])
{
  for (int i = 0; i < 4; i++) {
    char c = (char) (tag >> (8 * i));
    out[i] = c >= 0x20 && c < 0x7f ? c : '?';
  }
  out[4] = '\0';
}

/* ---- save ------------------------------------------------------------- */

/* Buffered writes that keep the CRC-32 of everything written. */
typedef struct {
  int fd;              /* -1: into mem */
  uint32_t crc;
  int error; /* errno of the first failed write, 0 while all went well */
  uint8_t *mem;        /* fd -1: what was written (malloc'd), mem_len of mem_cap bytes */
  size_t mem_len, mem_cap;
  size_t n;
  uint8_t buf[1 << 16];
} Writer;

/* The buffer into memory (a companion's bytes): grown by doubling. */
static void
writer_flush_mem (Writer *w)
{
  if (w->mem_len + w->n > w->mem_cap) {
    size_t cap = w->mem_cap ? w->mem_cap : sizeof w->buf;
    while (cap < w->mem_len + w->n)
      cap *= 2;
    uint8_t *grown = realloc (w->mem, cap);
    if (!grown) {
      w->error = ENOMEM;
      w->n = 0;
      return;
    }
    w->mem = grown;
    w->mem_cap = cap;
  }
  memcpy (w->mem + w->mem_len, w->buf, w->n);
  w->mem_len += w->n;
  w->n = 0;
}

static void
writer_flush (Writer *w)
{
  if (w->fd < 0) {
    if (!w->error)
      writer_flush_mem (w);
    w->n = 0;
    return;
  }
  const uint8_t *p = w->buf;
  size_t n = w->n;
  while (n > 0 && !w->error) {
    ssize_t r = write (w->fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      w->error = r < 0 ? errno : EIO;
      break;
    }
    p += r;
    n -= (size_t) r;
  }
  w->n = 0;
}

static void
writer_bytes (Writer *w, const void *data, size_t n)
{
  const uint8_t *p = data;
  w->crc = crc32_update (w->crc, p, n);
  while (n > 0) {
    size_t take = sizeof w->buf - w->n < n ? sizeof w->buf - w->n : n;
    memcpy (w->buf + w->n, p, take);
    w->n += take;
    p += take;
    n -= take;
    if (w->n == sizeof w->buf)
      writer_flush (w);
  }
}

static void
writer_u32 (Writer *w, uint32_t v)
{
  uint8_t b[4];
  Cursor c = { b, 0, 4 };
  put_u32 (&c, v);
  writer_bytes (w, b, 4);
}

static void
writer_u64 (Writer *w, uint64_t v)
{
  uint8_t b[8];
  Cursor c = { b, 0, 8 };
  put_u64 (&c, v);
  writer_bytes (w, b, 8);
}

static void
writer_floats (Writer *w, const float *f, size_t n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  writer_bytes (w, f, n * sizeof (float));
  return;
#endif
  for (size_t i = 0; i < n; i++) {
    uint32_t v;
    memcpy (&v, &f[i], 4);
    writer_u32 (w, v);
  }
}

typedef struct {
  uint32_t tag;
  uint8_t *data;
  size_t len;
} Payload;

static void
payloads_free (Payload *p, size_t n)
{
  for (size_t i = 0; p && i < n; i++)
    free (p[i].data);
  free (p);
}

/* Every byte of m's file through w, which the caller set up and flushes
 * (w->error says whether the bytes arrived).  -1 with the reason when a
 * section or the parameters cannot be had; path names the file in it. */
static int
serialise (DecentModel *m, Writer *w, const char *path, DecentError *err)
{
  Header h = { .cfg = m->cfg, .n_stages = (uint32_t) m->arch.n_stages,
    .latent_dim = (uint32_t) decent_arch_latent_dim (&m->arch),
    .n_params = decent_arch_param_count (&m->arch),
    .n_buffers = decent_arch_buffer_count (&m->arch), .steps = m->steps,
    .centre_batches = m->centre_batches, .cal = m->cal[DECENT_SCORE_MEAN],
    .epochs = m->epochs };

  /* the sections first: the header records the file's length */
  const size_t n_io = section_count ();
  Payload *pay = calloc (n_io + 1, sizeof *pay);
  size_t n_pay = 0;
  uint64_t total = 16 + HEADER_BYTES + (uint64_t) body_floats (&h) * 4 + 4;
  if (!pay)
    return decent_fail (err, "save %s: out of memory", path);
  for (size_t i = 0; i < n_io; i++) {
    DecentError why;
    Payload *p = &pay[n_pay];
    p->tag = sections[i].tag;
    if (sections[i].save && sections[i].save (m, &p->data, &p->len, &why) < 0) {
      payloads_free (pay, n_pay + 1);
      return decent_fail (err, "cannot write model file %s: %s; the previous file is unchanged",
          path, why.message);
    }
    if (p->data) {
      total += SECTION_HEAD + p->len;
      n_pay++;
    }
  }
  if (total > MAX_FILE_BYTES) { /* a companion can make it so: a file loading would refuse */
    payloads_free (pay, n_pay);
    return decent_fail (err, "cannot write model file %s: it would take %llu bytes, over the "
        "%llu a model file may hold; the previous file is unchanged", path,
        (unsigned long long) total, (unsigned long long) MAX_FILE_BYTES);
  }
  h.file_bytes = total;

  uint8_t head[16 + HEADER_BYTES];
  memset (head, 0, sizeof head);
  Cursor c = { head, 0, sizeof head };
  memcpy (head, MAGIC, 8);
  c.pos = 8;
  put_u32 (&c, VERSION);
  put_u32 (&c, HEADER_BYTES);
  header_io (&c, &h, 1);
  /* the rest of the header is reserved, zero, up to the header's own CRC */
  c.pos = HEADER_CRC_AT;
  put_u32 (&c, crc32_update (0, head, HEADER_CRC_AT));

  float *params = NULL, *buffers = NULL;
  if (decent_model_fetch_params (m, &params, &buffers, err) < 0) {
    payloads_free (pay, n_pay);
    return -1;
  }
  writer_bytes (w, head, sizeof head);
  writer_floats (w, params, h.n_params);
  writer_floats (w, buffers, h.n_buffers);
  writer_floats (w, m->centre, h.latent_dim);
  for (size_t i = 0; i < n_pay; i++) {
    writer_u32 (w, pay[i].tag);
    writer_u32 (w, 0);
    writer_u64 (w, pay[i].len);
    writer_bytes (w, pay[i].data, pay[i].len);
  }
  writer_u32 (w, w->crc);
  free (params);
  free (buffers);
  payloads_free (pay, n_pay);
  return 0;
}

size_t
decent_model_file_bytes (DecentModel *m)
{
  if (!m)
    return 0;
  Writer *w = calloc (1, sizeof *w);
  if (!w)
    return 0;
  w->fd = -1;
  DecentError err;
  size_t n = 0;
  if (serialise (m, w, "(its size)", &err) == 0) {
    writer_flush (w);
    n = w->error ? 0 : w->mem_len;
  }
  free (w->mem);
  free (w);
  return n;
}

/* The mode a written file gets: the replaced file's, so that a model
 * kept private stays so; else what open() would give under the process's
 * umask (read from /proc: umask() cannot be read without being set, which
 * other threads would see). */
static mode_t
file_mode (const char *path)
{
  struct stat st;
  if (stat (path, &st) == 0 && S_ISREG (st.st_mode))
    return st.st_mode & 07777;
  mode_t mask = 022;
  FILE *f = fopen ("/proc/self/status", "re");
  if (f) {
    char line[128];
    unsigned int m;
    while (fgets (line, sizeof line, f))
      if (sscanf (line, "Umask: %o", &m) == 1) {
        mask = (mode_t) m;
        break;
      }
    fclose (f);
  }
  return 0666 & ~mask;
}

static int
save_to (DecentModel *m, const char *path, DecentError *err)
{
  /* temporary file beside the target, so that rename() is atomic */
  size_t plen = strlen (path);
  char *tmp = malloc (plen + 16);
  char *dircopy = strdup (path);
  Writer *w = malloc (sizeof *w);
  int rc = -1, fd = -1;
  if (!tmp || !dircopy || !w) {
    decent_fail (err, "save %s: out of memory", path);
    goto out;
  }
  snprintf (tmp, plen + 16, "%s.tmp-XXXXXX", path);
  fd = mkstemp (tmp);
  if (fd < 0) {
    decent_fail (err, "cannot write model file %s: cannot create a temporary file there: %s",
        path, strerror (errno));
    goto out;
  }
  /* held until renamed: decent_model_remove_stale_temporaries leaves it alone */
  flock (fd, LOCK_EX);
  memset (w, 0, offsetof (Writer, buf));
  w->fd = fd;
  if (serialise (m, w, path, err) < 0) {
    close (fd);
    unlink (tmp);
    goto out;
  }
  writer_flush (w);
  if (w->error || fsync (fd) < 0) {
    const int why = w->error ? w->error : errno;
    struct stat st;
    /* (a new file, or the empty one a caller reserved the name with, has
     * nothing to keep unchanged) */
    decent_fail (err, "cannot write model file %s: %s%s", path, strerror (why),
        stat (path, &st) == 0 && st.st_size > 0 ? "; the previous file is unchanged" : "");
    close (fd);
    unlink (tmp);
    goto out;
  }
  fchmod (fd, file_mode (path));
  /* renamed while its lock is held: a decent-train starting on the same
   * location meanwhile must not take it for a dead writer's and remove it */
  if (rename (tmp, path) < 0) {
    decent_fail (err, "cannot replace model file %s: %s; the previous file is unchanged", path,
        strerror (errno));
    close (fd);
    unlink (tmp);
    goto out;
  }
  close (fd); /* the bytes are on disk (fsync above); closing cannot lose them */
  /* make the rename itself durable */
  int dfd = open (dirname (dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync (dfd);
    close (dfd);
  }
  rc = 0;
out:
  free (w);
  free (tmp);
  free (dircopy);
  return rc;
}

int
decent_model_set_companion (DecentModel *model, DecentModel *companion, DecentError *err)
{
  if (!model)
    return decent_fail (err, "set companion: no model");
  if (!companion) {
    free (model->companion);
    model->companion = NULL;
    model->companion_len = 0;
    return 0;
  }
  if (companion == model)
    return decent_fail (err, "a model cannot be its own companion");
  if (companion->companion)
    return decent_fail (err, "the companion carries a companion of its own; a model file holds "
        "at most two models");
  if (companion->cfg.channels != model->cfg.channels)
    return decent_fail (err, "the companion takes %d channels, the model %d",
        companion->cfg.channels, model->cfg.channels);
  Writer *w = calloc (1, sizeof *w);
  if (!w)
    return decent_fail (err, "set companion: out of memory");
  w->fd = -1;
  int rc = serialise (companion, w, "(the companion model)", err);
  if (rc == 0) {
    writer_flush (w);
    if (w->error)
      rc = decent_fail (err, "set companion: out of memory");
    else if (w->mem_len > PAIR_MAX_BYTES)
      rc = decent_fail (err, "the companion's file takes %zu bytes, more than the %llu a model "
          "file holds for one", w->mem_len, (unsigned long long) PAIR_MAX_BYTES);
  }
  if (rc == 0) {
    free (model->companion);
    model->companion = w->mem;
    model->companion_len = w->mem_len;
  } else {
    free (w->mem);
  }
  free (w);
  return rc;
}

int
decent_model_has_companion (const DecentModel *model)
{
  return model && model->companion ? 1 : 0;
}

DecentModel *
decent_model_companion_new (const DecentModel *model, DecentDevice device, DecentError *err)
{
  if (!model) {
    decent_fail (err, "companion: no model");
    return NULL;
  }
  if (!model->companion) {
    decent_fail (err, "the model carries no companion");
    return NULL;
  }
  return companion_parse (model->companion, model->companion_len, device, err);
}

static int destination_refused (const char *path, const char *target, DecentError *err);

int
decent_model_save (DecentModel *m, const char *path, DecentError *err)
{
  if (!m || !path || !*path)
    return decent_fail (err, "save: no model or no file name");
  /* a link is written through: its target is replaced whole, the link kept
   * (a rename over the link's name would replace the link itself) */
  char *target = decent_model_file_target (path);
  if (!target)
    return decent_fail (err, "save %s: out of memory", path);
  const int rc = destination_refused (path, target, err) ? -1 : save_to (m, target, err);
  free (target);
  return rc;
}

/* starts_as_model of the open file fd, read from its start. */
static int
fd_starts_as_model (int fd, size_t size)
{
  char head[sizeof MAGIC - 1];
  const size_t want = size < sizeof head ? size : sizeof head;
  const ssize_t got = pread (fd, head, want, 0);
  if (got < 0)
    return -1;
  return got != (ssize_t) want || memcmp (head, MAGIC, want) == 0;
}

int
decent_model_save_own (DecentModel *m, const char *path, DecentError *err)
{
  if (!m || !path || !*path)
    return decent_fail (err, "save: no model or no file name");
  struct stat st;
  if (lstat (path, &st) == 0 && S_ISLNK (st.st_mode))
    return save_to (m, path, err); /* the rename replaces the link itself */
  return destination_refused (path, path, err) ? -1 : save_to (m, path, err);
}

/* 1 when the first bytes of the file at path (size bytes long) are a model
 * file's magic, or a part of it; 0 when they are not; -1 with errno when it
 * cannot be read to tell (helper-70: an unreadable file was replaced). */
static int
starts_as_model (const char *path, size_t size)
{
  const int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return -1;
  const int model = fd_starts_as_model (fd, size);
  const int why = errno;
  close (fd);
  errno = why;
  return model;
}

/* Nonzero, with the reason in err, when path (whose link chain ends at
 * target) is not a place for a model file: a loop of links, what is not a
 * regular file, or a file that holds something else. */
static int
destination_refused (const char *path, const char *target, DecentError *err)
{
  struct stat st;
  if (lstat (target, &st) == 0 && S_ISLNK (st.st_mode))
    /* a loop of links: renaming over one of them would break the loop's
     * links, not write a model anyone reads */
    return decent_fail (err, "cannot write model file %s: %s", path, strerror (ELOOP));
  if (stat (target, &st) != 0)
    return 0; /* a new file (or none the rename cannot replace) */
  if (!S_ISREG (st.st_mode))
    /* a folder, device, FIFO or socket is not replaced by a model file */
    return decent_fail (err, "cannot write model file %s: %s is not a regular file", path,
        target);
  const int model = st.st_size > 0 ? starts_as_model (target, (size_t) st.st_size) : 1;
  if (model < 0)
    return decent_fail (err, "cannot write model file %s: %s cannot be read to tell whether "
        "it is a model (%s), and it was left as it is (remove it, or give another name)", path,
        target, strerror (errno));
  if (model == 0)
    /* a slip of the name (the footage trained on, a link to notes) must
     * not cost the file (helper-69: a recording was replaced, unsaid) */
    return decent_fail (err, "cannot write model file %s: %s holds something other than a "
        "gst-decent model, and it was left as it is (remove it, or give another name)", path,
        target);
  return 0;
}

int
decent_model_check_destination (const char *path, DecentError *err)
{
  if (!path || !*path)
    return decent_fail (err, "no model file name");
  char *target = decent_model_file_target (path);
  if (!target)
    return decent_fail (err, "%s: out of memory", path);
  const int rc = destination_refused (path, target, err) ? -1 : 0;
  free (target);
  return rc;
}

char *
decent_model_file_target (const char *path)
{
  if (!path)
    return NULL;
  char *at = strdup (path);
  /* link by link, so that a link whose target does not exist yet (which
   * realpath refuses) is still written through; after 40 hops, as the
   * kernel allows, what is left is still a link (a loop), which
   * decent_model_save refuses */
  for (int hop = 0; at && hop < 40; hop++) {
    struct stat st;
    char next[4096];
    if (lstat (at, &st) != 0 || !S_ISLNK (st.st_mode))
      break;
    const ssize_t len = readlink (at, next, sizeof next - 1);
    if (len < 0)
      break;
    next[len] = '\0';
    char *joined;
    if (next[0] == '/') {
      joined = strdup (next);
    } else { /* relative to the link's own folder */
      char *copy = strdup (at);
      const char *folder = copy ? dirname (copy) : NULL;
      joined = folder ? malloc (strlen (folder) + (size_t) len + 2) : NULL;
      if (joined)
        sprintf (joined, "%s/%s", folder, next);
      free (copy);
    }
    free (at);
    at = joined;
  }
  return at;
}

/* ---- stale temporaries ------------------------------------------------ */

/* "XXXXXX" as mkstemp fills it: letters and digits */
static int
is_mkstemp_suffix (const char *s)
{
  if (strlen (s) != 6)
    return 0;
  for (int i = 0; i < 6; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
            || (s[i] >= '0' && s[i] <= '9')))
      return 0;
  return 1;
}

int
decent_model_remove_stale_temporaries (const char *path, char **removed, DecentError *err)
{
  if (removed)
    *removed = NULL;
  if (!path || !*path)
    return decent_fail (err, "remove stale temporaries: no model path");
  /* a folder ("dir/sub/") names no file: basename would give "sub", and
   * dir/sub.tmp-* are another file's */
  if (path[strlen (path) - 1] == '/')
    return decent_fail (err, "remove stale temporaries: %s is a folder, not a model file", path);
  char *dircopy = strdup (path), *basecopy = strdup (path);
  if (!dircopy || !basecopy) {
    free (dircopy);
    free (basecopy);
    return decent_fail (err, "out of memory");
  }
  const char *folder = dirname (dircopy), *base = basename (basecopy);
  const size_t blen = strlen (base);
  DIR *d = opendir (folder);
  if (!d) {
    int e = errno;
    free (dircopy);
    free (basecopy);
    /* no folder: nothing can be stale in it */
    return e == ENOENT ? 0 : decent_fail (err, "cannot list %s: %s", folder, strerror (e));
  }
  int count = 0;
  size_t list_len = 0;
  struct dirent *de;
  while ((de = readdir (d))) {
    const char *name = de->d_name;
    if (strncmp (name, base, blen) != 0 || strncmp (name + blen, ".tmp-", 5) != 0
        || !is_mkstemp_suffix (name + blen + 5))
      continue;
    size_t flen = strlen (folder) + strlen (name) + 2;
    char *full = malloc (flen);
    if (!full)
      break;
    snprintf (full, flen, "%s/%s", folder, name);
    int fd = open (full, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    /* a writer holds its temporary locked; one nobody holds is left over,
     * if it holds what a writer writes (nothing yet, or a model's first
     * bytes): a file of the user's that only looks so by its name stays
     * (helper-78: notes and a recording named <model>.tmp-Backup went) */
    if (fd >= 0 && fstat (fd, &st) == 0 && S_ISREG (st.st_mode)
        && fd_starts_as_model (fd, (size_t) st.st_size) == 1
        && flock (fd, LOCK_EX | LOCK_NB) == 0 && unlink (full) == 0) {
      count++;
      if (removed) {
        char *grown = realloc (*removed, list_len + strlen (full) + 2);
        if (grown) {
          *removed = grown;
          list_len += (size_t) sprintf (grown + list_len, "%s%s", list_len ? "\n" : "", full);
        }
      }
    }
    if (fd >= 0)
      close (fd);
    free (full);
  }
  closedir (d);
  free (dircopy);
  free (basecopy);
  return count;
}

/* ---- load ------------------------------------------------------------- */

/* Where a model file's bytes come from: an open file, read in pieces, or
 * memory.  Keeps the CRC-32 of every byte handed out. */
typedef struct {
  const char *path;
  int fd;              /* -1: data */
  const uint8_t *data;
  uint64_t size, pos;
  uint32_t crc;        /* of bytes [0, pos) */
  int companion;       /* a companion's bytes: they may not hold a companion (no
                        * thread-local flag: a dlopened module's TLS crashed
                        * LeakSanitizer's scan at exit) */
} Reader;

/* Exactly n more bytes; the caller has checked that the size allows them. */
static int
reader_get (Reader *r, void *dst, size_t n, DecentError *err)
{
  uint8_t *p = dst;
  if (n == 0)
    return 0;
  if (r->fd < 0) {
    memcpy (p, r->data + r->pos, n);
  } else {
    size_t got = 0;
    while (got < n) {
      ssize_t k = read (r->fd, p + got, n - got);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        return decent_fail (err, "cannot read model file %s: %s", r->path,
            k < 0 ? strerror (errno) : "it shrank while being read");
      got += (size_t) k;
    }
  }
  r->crc = crc32_update (r->crc, p, n);
  r->pos += n;
  return 0;
}

static int
reader_skip (Reader *r, uint64_t n, DecentError *err)
{
  uint8_t buf[4096];
  while (n > 0) {
    size_t take = n < sizeof buf ? (size_t) n : sizeof buf;
    if (reader_get (r, buf, take, err) < 0)
      return -1;
    n -= take;
  }
  return 0;
}

/* n little-endian floats, read in pieces straight into dst */
static int
reader_floats (Reader *r, float *dst, size_t n, DecentError *err)
{
  uint8_t *p = (uint8_t *) dst;
  size_t bytes = n * sizeof (float);
  for (size_t off = 0; off < bytes; off += CHUNK)
    if (reader_get (r, p + off, bytes - off < CHUNK ? bytes - off : CHUNK, err) < 0)
      return -1;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (size_t i = 0; i < n; i++) {
    Cursor c = { p + 4 * i, 0, 4 };
    dst[i] = get_f32 (&c);
  }
#endif
  return 0;
}

static uint32_t
le32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/* The file says it is a newer version.  Every version keeps magic, version,
 * header size and, in the header's last four bytes, the CRC-32 of what
 * precedes them; that CRC tells a newer file from a damaged one. */
static void
newer_version (Reader *r, const uint8_t head[16], uint32_t version, uint32_t hbytes,
    DecentError *err)
{
  const char *path = r->path;
  if (hbytes < 8 || hbytes > MAX_HEADER_BYTES || hbytes % 4 || r->size < 16ull + hbytes) {
    decent_fail (err, "model file %s is corrupted (format version %u with a header of %u bytes "
                      "in a file of %llu)", path, version, hbytes, (unsigned long long) r->size);
    return;
  }
  uint8_t *rest = malloc (hbytes);
  if (!rest) {
    decent_fail (err, "cannot load model file %s: out of memory", path);
    return;
  }
  if (reader_get (r, rest, hbytes, err) == 0) {
    uint32_t crc = crc32_update (crc32_update (0, head, 16), rest, hbytes - 4);
    if (crc == le32 (rest + hbytes - 4))
      decent_fail (err, "model file %s has format version %u; this build reads up to %u: "
                        "upgrade gst-decent", path, version, VERSION);
    else
      decent_fail (err, "model file %s is corrupted (header checksum mismatch)", path);
  }
  free (rest);
}

typedef struct {
  const DecentSectionIO *io;
  uint8_t *data;
  size_t len;
} Received;

/* The file keeps the number of layers, not the latent side it came from:
 * 0 when the paper's rule makes that many, else the smaller side after them
 * (which stops the halving there). */
static int
latent_side_of (const DecentConfig *cfg, uint32_t n_stages)
{
  DecentArch arch;
  char why[256];
  if (decent_arch_build (&arch, cfg->width, cfg->height, cfg->channels, cfg->base_channels,
          cfg->max_channels, why, sizeof why) == 0 && (uint32_t) arch.n_stages == n_stages)
    return 0;
  int side = cfg->width < cfg->height ? cfg->width : cfg->height;
  if (side < 1 || n_stages < 2 || n_stages > DECENT_MAX_STAGES)
    return 0;
  for (uint32_t i = 0; i < n_stages / 2; i++)
    side = (side + 1) / 2;
  return side;
}

static DecentModel *
parse (Reader *r, DecentDevice device, DecentError *err)
{
  const char *path = r->path;
  uint8_t head[16 + HEADER_BYTES];

  /* the magic, before anything else is believed or read */
  if (r->size < 8) {
    if (reader_get (r, head, (size_t) r->size, err) < 0)
      return NULL;
    if (memcmp (head, MAGIC, (size_t) r->size) == 0)
      decent_fail (err, "model file %s is truncated: %llu bytes", path,
          (unsigned long long) r->size);
    else
      decent_fail (err, "%s is not a gst-decent model file (wrong magic)", path);
    return NULL;
  }
  if (reader_get (r, head, 8, err) < 0)
    return NULL;
  if (memcmp (head, MAGIC, 8) != 0) {
    decent_fail (err, "%s is not a gst-decent model file (wrong magic)", path);
    return NULL;
  }
  if (r->size > MAX_FILE_BYTES) {
    decent_fail (err, "model file %s is too large (%llu bytes; a model file has at most %llu)",
        path, (unsigned long long) r->size, (unsigned long long) MAX_FILE_BYTES);
    return NULL;
  }
  const uint64_t header_end = 16 + HEADER_BYTES;
  if (r->size < 16) {
    decent_fail (err, "model file %s is truncated: %llu bytes, a header alone needs %llu", path,
        (unsigned long long) r->size, (unsigned long long) header_end + 4);
    return NULL;
  }
  if (reader_get (r, head + 8, 8, err) < 0)
    return NULL;
  const uint32_t version = le32 (head + 8), hbytes = le32 (head + 12);
  if (version == 0 || version > MAX_VERSION) {
    decent_fail (err, "model file %s is corrupted (its format version field reads %u)", path,
        version);
    return NULL;
  }
  if (version > VERSION) {
    newer_version (r, head, version, hbytes, err);
    return NULL;
  }
  /* versions 1 and 2 have the same 160-byte header area */
  if (r->size < header_end) {
    decent_fail (err, "model file %s is truncated: %llu bytes, a header alone needs %llu", path,
        (unsigned long long) r->size, (unsigned long long) header_end + 4);
    return NULL;
  }
  if (reader_get (r, head + 16, HEADER_BYTES, err) < 0)
    return NULL;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* lets the fuzzer past the checksums */
  if (version >= 2 && crc32_update (0, head, HEADER_CRC_AT) != le32 (head + HEADER_CRC_AT)) {
    decent_fail (err, "model file %s is corrupted (header checksum mismatch)", path);
    return NULL;
  }
#endif
  if (hbytes != HEADER_BYTES) {
    decent_fail (err, "model file %s is corrupted (version %u, header %u bytes)", path, version,
        hbytes);
    return NULL;
  }
  Header h;
  memset (&h, 0, sizeof h);
  decent_config_init (&h.cfg, 0, 0, 0);
  Cursor c = { head, 16, sizeof head };
  header_io (&c, &h, 0);
  if (version == 1)
    h.file_bytes = 0; /* reserved, zero, in version 1 */

  /* what the header asks for, bounded before anything is allocated */
  DecentError why;
  h.cfg.device = device;
  h.cfg.latent_side = latent_side_of (&h.cfg, h.n_stages);
  if (decent_config_validate (&h.cfg, &why) < 0) {
    decent_fail (err, "model file %s has invalid settings: %s", path, why.message);
    return NULL;
  }
  DecentArch arch;
  char awhy[256];
  decent_arch_build_latent (&arch, h.cfg.width, h.cfg.height, h.cfg.channels,
      h.cfg.base_channels, h.cfg.max_channels, h.cfg.latent_side, awhy, sizeof awhy);
  if ((uint32_t) arch.n_stages != h.n_stages
      || (uint32_t) decent_arch_latent_dim (&arch) != h.latent_dim
      || decent_arch_param_count (&arch) != h.n_params
      || decent_arch_buffer_count (&arch) != h.n_buffers) {
    decent_fail (err, "model file %s describes an architecture this build does not make "
                      "(%u layers, %llu parameters)", path, h.n_stages,
        (unsigned long long) h.n_params);
    return NULL;
  }
  if (!isfinite (h.cal.threshold) || h.cal.threshold < 0) {
    decent_fail (err, "model file %s has an invalid threshold %g", path, h.cal.threshold);
    return NULL;
  }

  /* the file's size against the header's, before the body is read */
  const size_t nf = body_floats (&h);
  const uint64_t minimal = header_end + 4ull * nf + 4;
  uint64_t expect = minimal;
  if (version >= 2) {
    if (h.file_bytes < minimal || h.file_bytes > MAX_FILE_BYTES) {
      decent_fail (err, "model file %s is corrupted (its header gives the file %llu bytes; the "
                        "body alone takes %llu)", path, (unsigned long long) h.file_bytes,
          (unsigned long long) minimal);
      return NULL;
    }
    expect = h.file_bytes;
  }
  struct stat now;
  if (r->size != expect && r->fd >= 0 && fstat (r->fd, &now) == 0
      && (uint64_t) now.st_size != r->size) {
    /* written in place while we read it: not the file's fault */
    decent_fail (err, "model file %s changed while being read (%llu bytes, then %llu); write "
                      "model files atomically (another name, then rename), as decent-train does",
        path, (unsigned long long) r->size, (unsigned long long) now.st_size);
    return NULL;
  }
  if (r->size != expect) {
    /* version 2's sizes are vouched for by the header's CRC; version 1 had
     * none, and a short file is most likely an interrupted copy */
    decent_fail (err, "model file %s is %s: %llu bytes where its header says %llu", path,
        r->size < expect ? "truncated" : "corrupted", (unsigned long long) r->size,
        (unsigned long long) expect);
    return NULL;
  }

  DecentModel *m = NULL;
  const size_t n_io = section_count ();
  Received *got = calloc (n_io + 1, sizeof *got);
  size_t n_got = 0;
  float *body = malloc (nf * sizeof (float));
  if (!body || !got) {
    decent_fail (err, "cannot load model file %s: out of memory", path);
    goto out;
  }
  if (reader_floats (r, body, nf, err) < 0)
    goto out;

  /* sections, until the final CRC */
  const uint64_t end = r->size - 4;
  while (r->pos < end) {
    uint8_t sh[SECTION_HEAD];
    if (end - r->pos < SECTION_HEAD) {
      decent_fail (err, "model file %s is corrupted (%llu stray bytes after the body)", path,
          (unsigned long long) (end - r->pos));
      goto out;
    }
    if (reader_get (r, sh, SECTION_HEAD, err) < 0)
      goto out;
    Cursor sc = { sh, 0, SECTION_HEAD };
    const uint32_t tag = get_u32 (&sc);
    (void) get_u32 (&sc); /* reserved: written 0, ignored */
    const uint64_t plen = get_u64 (&sc);
    char name[5];
    tag_text (tag, name);
    if (plen > end - r->pos) {
      decent_fail (err, "model file %s is corrupted (section '%s' of %llu bytes runs past the "
                        "end of the file)", path, name, (unsigned long long) plen);
      goto out;
    }
    if (r->companion && tag == DECENT_SECTION_TAG ('P', 'A', 'I', 'R')) {
      decent_fail (err, "model file %s: section 'PAIR': the companion model carries a "
          "companion of its own; a model file holds at most two models", path);
      goto out;
    }
    const DecentSectionIO *io = NULL;
    for (size_t i = 0; i < n_io && !io; i++)
      if (sections[i].tag == tag)
        io = &sections[i];
    if (!io || !io->load) { /* a newer writer's: skipped */
      if (reader_skip (r, plen, err) < 0)
        goto out;
      continue;
    }
    for (size_t i = 0; i < n_got; i++)
      if (got[i].io == io) {
        decent_fail (err, "model file %s is corrupted (section '%s' appears twice)", path, name);
        goto out;
      }
    if (plen > io->max_bytes) {
      decent_fail (err, "model file %s is corrupted (section '%s' holds %llu bytes, at most %llu "
                        "are expected)", path, name, (unsigned long long) plen,
          (unsigned long long) io->max_bytes);
      goto out;
    }
    got[n_got].io = io;
    got[n_got].len = (size_t) plen;
    got[n_got].data = malloc (plen ? (size_t) plen : 1);
    if (!got[n_got].data) {
      decent_fail (err, "cannot load model file %s: out of memory", path);
      goto out;
    }
    n_got++;
    if (reader_get (r, got[n_got - 1].data, (size_t) plen, err) < 0)
      goto out;
  }
  const uint32_t computed = r->crc;
  uint8_t tail[4];
  if (reader_get (r, tail, 4, err) < 0)
    goto out;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  if (computed != le32 (tail)) {
    decent_fail (err, "model file %s is corrupted (checksum mismatch)", path);
    goto out;
  }
#else
  (void) computed;
#endif
  for (size_t i = 0; i < nf; i++)
    if (!isfinite (body[i])) {
      decent_fail (err, "model file %s holds a non-finite weight; it cannot score", path);
      goto out;
    }

  m = decent_model_build (&h.cfg, body, body + h.n_params, body + h.n_params + h.n_buffers,
      &why);
  if (!m) {
    decent_fail (err, "cannot load model file %s: %s", path, why.message);
    goto out;
  }
  m->steps = h.steps;
  m->centre_batches = h.centre_batches;
  m->cal[DECENT_SCORE_MEAN] = h.cal;
  m->epochs = h.epochs;
  for (size_t i = 0; i < n_got; i++) {
    if (got[i].io->load (m, got[i].data, got[i].len, &why) < 0) {
      char name[5];
      tag_text (got[i].io->tag, name);
      decent_fail (err, "model file %s: section '%s': %s", path, name, why.message);
      decent_model_free (m);
      m = NULL;
      goto out;
    }
  }
  /* finite, bounded weights can still overflow in a forward pass: a model
   * that cannot score a plain image is refused now, not on every frame */
  if (decent_model_check_finite (m, &why) < 0) {
    decent_fail (err, "model file %s produces non-finite scores (%s); its weights are unusable: "
                      "retrain it", path, why.message);
    decent_model_free (m);
    m = NULL;
  }
out:
  for (size_t i = 0; got && i < n_got; i++)
    free (got[i].data);
  free (got);
  free (body);
  return m;
}

DecentModel *
decent_model_parse (const char *path, const uint8_t *data, size_t len, DecentDevice device,
    DecentError *err)
{
  if (!path || (!data && len)) {
    decent_fail (err, "no model data to parse");
    return NULL;
  }
  Reader r = { path, -1, data, len, 0, 0, 0 };
  return parse (&r, device, err);
}

/* The companion's bytes as a model for device, or NULL with why; the parser
 * goes no deeper than this. */
static DecentModel *
companion_parse (const uint8_t *data, size_t len, DecentDevice device, DecentError *err)
{
  Reader r = { "(its companion model)", -1, data, len, 0, 0, 1 };
  return parse (&r, device, err);
}

static const char *
file_kind (mode_t mode)
{
  return S_ISDIR (mode) ? "a folder" : S_ISFIFO (mode) ? "a FIFO" : S_ISSOCK (mode) ? "a socket"
         : S_ISCHR (mode) || S_ISBLK (mode) ? "a device" : "not a plain file";
}

DecentModel *
decent_model_load (const char *path, DecentDevice device, DecentError *err)
{
  if (!path || !*path) {
    decent_fail (err, "no model file given");
    return NULL;
  }
  /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
   * below like any file that is not a regular one */
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    decent_fail (err, "cannot open model file %s: %s", path, strerror (errno));
    return NULL;
  }
  struct stat st;
  if (fstat (fd, &st) < 0) {
    decent_fail (err, "cannot open model file %s: %s", path, strerror (errno));
    close (fd);
    return NULL;
  }
  if (!S_ISREG (st.st_mode)) {
    decent_fail (err, "model file %s is not a regular file (%s)", path, file_kind (st.st_mode));
    close (fd);
    return NULL;
  }
  int flags = fcntl (fd, F_GETFL);
  if (flags < 0 || fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
    decent_fail (err, "cannot read model file %s: %s", path, strerror (errno));
    close (fd);
    return NULL;
  }
  Reader r = { path, fd, NULL, (uint64_t) st.st_size, 0, 0 };
  DecentModel *m = parse (&r, device, err);
  close (fd);
  return m;
}
