/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Model files: save -> load -> score is bit-identical; a file truncated at
 * every byte offset, or with any single byte flipped, is rejected with a
 * message naming the file and the true reason (truncated / corrupted);
 * foreign and newer-version files are rejected; version 1 files still load;
 * tagged sections are handed over or skipped; hostile headers, huge files,
 * FIFOs and models with non-finite scores are refused without allocating
 * what they ask for; long paths keep the reason; a failed save leaves the
 * previous file as it was. */
#include "decent.h"
#include "model_internal.h"
#include "testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* v2 layout (docs/model-format.md): header area at 16, 160 bytes; the file
 * length at 164, the header CRC at 172; the body from 176 */
enum { OFF_W = 16, OFF_H = 20, OFF_C = 24, OFF_BASE = 28, OFF_MAX = 32, OFF_STAGES = 36,
  OFF_LATENT = 40, OFF_P = 48, OFF_B = 56, OFF_LEN = 164, OFF_HCRC = 172, BODY = 176 };

static void
set_u32 (uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static void
set_u64 (uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t
get_u64 (const uint8_t *p)
{
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v |= (uint64_t) p[i] << (8 * i);
  return v;
}

static void
seal_header (uint8_t *p)
{
  set_u32 (p + OFF_HCRC, tu_crc32 (p, OFF_HCRC));
}


static long
max_rss_kib (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static double
now_s (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* a test section: what the loader handed over */
static uint8_t seen_payload[64];
static size_t seen_len;
static int seen_calls;

static int
test_section_save (DecentModel *m, uint8_t **data, size_t *len, DecentError *err)
{
  static const char text[] = "detector data";
  *data = malloc (sizeof text);
  if (!*data)
    return decent_fail (err, "out of memory");
  memcpy (*data, text, sizeof text);
  *len = sizeof text;
  return 0;
}

static int
test_section_load (DecentModel *m, const uint8_t *data, size_t len, DecentError *err)
{
  seen_calls++;
  seen_len = len < sizeof seen_payload ? len : sizeof seen_payload;
  memcpy (seen_payload, data, seen_len);
  return 0;
}

static void
file_format_v2 (const char *dir, const char *path, const uint8_t *frames, int n_frames,
    const float *want_scores)
{
  char bad[256], plain[256];
  snprintf (bad, sizeof bad, "%s/v2.dcnt", dir);
  snprintf (plain, sizeof plain, "%s/plain.dcnt", dir);
  DecentError err = { { 0 } };
  /* the format's own parts: the model saved without the built-in sections */
  static const DecentSectionIO no_sections[] = { { 0, 0, NULL, NULL } };
  DecentModel *pm = decent_model_load (path, DECENT_DEVICE_CPU, &err);
  REQUIRE (pm, "%s", err.message);
  decent_model_file_set_sections (no_sections);
  REQUIRE (decent_model_save (pm, plain, &err) == 0, "%s", err.message);
  decent_model_file_set_sections (NULL);
  decent_model_free (pm);
  size_t len;
  uint8_t *orig = tu_read_file (plain, &len);
  uint8_t *f = malloc (len + 64);
  float got[64];

  /* version 2, the file's length and the header's own checksum */
  CHECK (orig[8] == 2 && orig[9] == 0, "version %u", orig[8]);
  CHECK (get_u64 (orig + OFF_LEN) == len, "length field %llu, file %zu",
      (unsigned long long) get_u64 (orig + OFF_LEN), len);
  CHECK (tu_crc32 (orig, OFF_HCRC) == (uint32_t) get_u64 (orig + OFF_HCRC), "header checksum");

  /* a flipped size field is a corrupted header, not a truncated file */
  const int size_fields[] = { 12, OFF_W, OFF_P, OFF_P + 3, OFF_B, OFF_LATENT, OFF_LEN };
  for (size_t k = 0; k < sizeof size_fields / sizeof size_fields[0]; k++) {
    memcpy (f, orig, len);
    f[size_fields[k]] ^= 0x10;
    tu_write_file (bad, f, len);
    CHECK (!decent_model_load (bad, DECENT_DEVICE_CPU, &err)
               && strstr (err.message, "corrupted (header checksum mismatch)"),
        "size field at %d flipped: %s", size_fields[k], err.message);
  }

  /* versions: a plausible newer one with an intact header asks for an
   * upgrade; a damaged or implausible one is corrupted */
  const struct { uint32_t version; int seal; const char *want; } versions[] = {
    { 3, 1, "format version 3; this build reads up to 2: upgrade gst-decent" },
    { 3, 0, "corrupted (header checksum mismatch)" },
    { 130, 0, "corrupted (header checksum mismatch)" },
    { 300, 1, "corrupted" },
    { 0x40000002u, 1, "corrupted" },
    { 0, 1, "corrupted" },
  };
  for (size_t k = 0; k < sizeof versions / sizeof versions[0]; k++) {
    memcpy (f, orig, len);
    set_u32 (f + 8, versions[k].version);
    if (versions[k].seal)
      seal_header (f);
    tu_seal_file (f, len);
    tu_write_file (bad, f, len);
    CHECK (!decent_model_load (bad, DECENT_DEVICE_CPU, &err)
               && strstr (err.message, versions[k].want)
               && ((versions[k].version == 3 && versions[k].seal)
                       || !strstr (err.message, "upgrade")),
        "version %u: %s", versions[k].version, err.message);
  }

  /* version 1 (no header checksum, no length) still loads and scores the same */
  memcpy (f, orig, len);
  set_u32 (f + 8, 1);
  memset (f + OFF_LEN, 0, 12);
  tu_seal_file (f, len);
  tu_write_file (bad, f, len);
  DecentModel *v1 = decent_model_load (bad, DECENT_DEVICE_CPU, &err);
  CHECK (v1, "version 1: %s", err.message);
  if (v1) {
    REQUIRE (decent_model_score (v1, frames, n_frames, got, NULL, &err) == 0, "%s", err.message);
    CHECK (memcmp (got, want_scores, n_frames * sizeof (float)) == 0, "v1 scores differ");
    decent_model_free (v1);
  }
  f[len / 2] ^= 1; /* a v1 body flip is a checksum mismatch */
  tu_write_file (bad, f, len);
  CHECK (!decent_model_load (bad, DECENT_DEVICE_CPU, &err)
             && strstr (err.message, "corrupted (checksum mismatch)"),
      "v1 flip: %s", err.message);
  memcpy (f, orig, len);
  set_u32 (f + 8, 1);
  memset (f + OFF_LEN, 0, 12);
  tu_seal_file (f, len);
  tu_write_file (bad, f, len - 100);
  CHECK (!decent_model_load (bad, DECENT_DEVICE_CPU, &err) && strstr (err.message, "truncated"),
      "v1 truncated: %s", err.message);

  /* an unknown section (a newer writer's) is skipped */
  const size_t body_end = len - 4, slen = 10;
  const size_t len2 = len + 16 + slen;
  memcpy (f, orig, body_end);
  set_u32 (f + body_end, DECENT_SECTION_TAG ('X', 'T', 'R', 'A'));
  set_u32 (f + body_end + 4, 0);
  set_u64 (f + body_end + 8, slen);
  memset (f + body_end + 16, 0xAB, slen);
  set_u64 (f + OFF_LEN, len2);
  seal_header (f);
  tu_seal_file (f, len2);
  tu_write_file (bad, f, len2);
  DecentModel *x = decent_model_load (bad, DECENT_DEVICE_CPU, &err);
  CHECK (x, "unknown section: %s", err.message);
  if (x) {
    REQUIRE (decent_model_score (x, frames, n_frames, got, NULL, &err) == 0, "%s", err.message);
    CHECK (memcmp (got, want_scores, n_frames * sizeof (float)) == 0, "scores differ");
    decent_model_free (x);
  }
  /* a section longer than the file, or not a whole section, is corrupted */
  const uint64_t lengths[] = { slen + 1, 1ull << 40, ~0ull };
  for (size_t k = 0; k < 3; k++) {
    set_u64 (f + body_end + 8, lengths[k]);
    tu_seal_file (f, len2);
    tu_write_file (bad, f, len2);
    CHECK (!decent_model_load (bad, DECENT_DEVICE_CPU, &err) && strstr (err.message, "corrupted")
               && strstr (err.message, "XTRA"),
        "section overrun by %llu: %s", (unsigned long long) lengths[k], err.message);
  }
  set_u64 (f + body_end + 8, slen);
  set_u64 (f + OFF_LEN, len2 - 3);
  seal_header (f);
  tu_seal_file (f, len2 - 3);
  tu_write_file (bad, f, len2 - 3);
  CHECK (!decent_model_load (bad, DECENT_DEVICE_CPU, &err) && strstr (err.message, "corrupted"),
      "partial section: %s", err.message);
  /* a file shorter than its header says is truncated */
  memcpy (f, orig, len);
  tu_write_file (bad, f, len - 1);
  CHECK (!decent_model_load (bad, DECENT_DEVICE_CPU, &err) && strstr (err.message, "truncated")
             && strstr (err.message, "header says"),
      "one byte short: %s", err.message);
  f[len] = 0;
  tu_write_file (bad, f, len + 1);
  CHECK (!decent_model_load (bad, DECENT_DEVICE_CPU, &err) && strstr (err.message, "corrupted"),
      "one byte long: %s", err.message);

  /* registered sections are written on save and handed over on load */
  const DecentSectionIO table[] = {
    { DECENT_SECTION_TAG ('T', 'S', 'T', '1'), 64, test_section_save, test_section_load },
    { 0, 0, NULL, NULL },
  };
  char with[256];
  snprintf (with, sizeof with, "%s/sections.dcnt", dir);
  DecentModel *m = decent_model_load (path, DECENT_DEVICE_CPU, &err);
  REQUIRE (m, "%s", err.message);
  decent_model_file_set_sections (table);
  REQUIRE (decent_model_save (m, with, &err) == 0, "%s", err.message);
  decent_model_free (m);
  size_t wlen;
  uint8_t *w = tu_read_file (with, &wlen);
  CHECK (wlen == len + 16 + 14 && memcmp (w + len - 4, "TST1", 4) == 0
             && get_u64 (w + len + 4) == 14 && memcmp (w + len + 12, "detector data", 14) == 0,
      "section not written (%zu bytes)", wlen);
  seen_calls = 0;
  m = decent_model_load (with, DECENT_DEVICE_CPU, &err);
  CHECK (m && seen_calls == 1 && seen_len == 14 && memcmp (seen_payload, "detector data", 14) == 0,
      "section not handed over (%d calls): %s", seen_calls, err.message);
  decent_model_free (m);
  /* a payload above the section's bound is refused */
  memcpy (f, w, wlen);
  const DecentSectionIO small[] = {
    { DECENT_SECTION_TAG ('T', 'S', 'T', '1'), 8, test_section_save, test_section_load },
    { 0, 0, NULL, NULL },
  };
  decent_model_file_set_sections (small);
  CHECK (!decent_model_load (with, DECENT_DEVICE_CPU, &err) && strstr (err.message, "TST1")
             && strstr (err.message, "corrupted"),
      "oversized section: %s", err.message);
  decent_model_file_set_sections (NULL);
  /* without a reader for it, this build skips the section */
  seen_calls = 0;
  m = decent_model_load (with, DECENT_DEVICE_CPU, &err);
  CHECK (m && seen_calls == 0, "skipping a section: %s", err.message);
  decent_model_free (m);
  free (w);
  free (f);
  free (orig);
}

/* what a header may ask for is bounded, and checked before anything big is
 * allocated or read */
static void
bounds (const char *dir, const char *path)
{
  DecentError err = { { 0 } };
  DecentConfig cfg;
  decent_config_init (&cfg, 4096, 4096, 3);
  cfg.base_channels = cfg.max_channels = 1;
  CHECK (decent_config_validate (&cfg, &err) < 0 && strstr (err.message, "1024"),
      "4096x4096x3: %s", err.message);
  decent_config_init (&cfg, 1024, 1024, 3);
  cfg.base_channels = cfg.max_channels = 4096;
  CHECK (decent_config_validate (&cfg, &err) < 0 && strstr (err.message, "512 MiB"),
      "1024x1024x3, 4096 channels: %s", err.message);
  decent_config_init (&cfg, 64, 64, 3);
  cfg.base_channels = cfg.max_channels = 4096;
  CHECK (decent_config_validate (&cfg, &err) < 0 && strstr (err.message, "parameters"),
      "64x64x3, 4096 channels: %s", err.message);
  decent_config_init (&cfg, 1024, 1024, 3);
  CHECK (decent_config_validate (&cfg, &err) == 0, "1024x1024x3 defaults: %s", err.message);
  decent_config_init (&cfg, 256, 256, 3);
  CHECK (decent_config_validate (&cfg, &err) == 0, "256x256x3 defaults: %s", err.message);

  char bad[256];
  snprintf (bad, sizeof bad, "%s/hostile.dcnt", dir);
  size_t len;
  uint8_t *orig = tu_read_file (path, &len);
  uint8_t hostile[2048];
  memset (hostile, 0, sizeof hostile);
  memcpy (hostile, orig, BODY);
  set_u32 (hostile + OFF_W, 4096);
  set_u32 (hostile + OFF_H, 4096);
  set_u32 (hostile + OFF_C, 3);
  set_u32 (hostile + OFF_BASE, 1);
  set_u32 (hostile + OFF_MAX, 1);
  seal_header (hostile);
  tu_write_file (bad, hostile, sizeof hostile);
  long rss0 = max_rss_kib ();
  double t0 = now_s ();
  CHECK (!decent_model_load (bad, DECENT_DEVICE_CPU, &err) && strstr (err.message, bad)
             && strstr (err.message, "4..1024 per side"),
      "hostile 2 KB header: %s", err.message);

  /* 1.9 GB (sparse): refused by its magic, or its size against its header,
   * without reading it whole */
  char huge[256];
  snprintf (huge, sizeof huge, "%s/huge.dcnt", dir);
  for (int k = 0; k < 2; k++) {
    int fd = open (huge, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE (fd >= 0, "create %s", huge);
    if (k == 1)
      REQUIRE (write (fd, orig, BODY) == BODY, "write");
    else
      REQUIRE (write (fd, "GIF89a", 6) == 6, "write");
    REQUIRE (ftruncate (fd, 1900000000) == 0, "ftruncate");
    close (fd);
    CHECK (!decent_model_load (huge, DECENT_DEVICE_CPU, &err)
               && strstr (err.message, k ? "where its header says" : "wrong magic"),
        "1.9 GB file: %s", err.message);
  }
  CHECK (now_s () - t0 < 5.0, "refusing took %.1f s", now_s () - t0);
  CHECK (max_rss_kib () - rss0 < 64 * 1024, "refusing grew the resident set by %ld KiB",
      max_rss_kib () - rss0);
  unlink (huge);
  free (orig);
}

/* a model whose every parameter is huge: a valid checksum, but its scores
 * are not finite */
static void
nonfinite_model (const char *dir)
{
  DecentError err = { { 0 } };
  char bad[256];
  snprintf (bad, sizeof bad, "%s/huge-weights.dcnt", dir);
  /* 16x16 (three layers a side): an overflow meets an opposite one */
  DecentConfig cfg;
  decent_config_init (&cfg, 16, 16, 1);
  cfg.base_channels = 8;
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *m = decent_model_new (&cfg, &err);
  REQUIRE (m && decent_model_save (m, bad, &err) == 0, "%s", err.message);
  decent_model_free (m);
  size_t len;
  uint8_t *f = tu_read_file (bad, &len);
  const uint64_t params = get_u64 (f + OFF_P);
  const float big = 1e30f;
  for (uint64_t i = 0; i < params; i++)
    memcpy (f + BODY + 4 * i, &big, 4);
  tu_seal_file (f, len);
  tu_write_file (bad, f, len);
  CHECK (!decent_model_load (bad, DECENT_DEVICE_CPU, &err) && strstr (err.message, bad)
             && strstr (err.message, "produces non-finite scores") && strstr (err.message, "retrain"),
      "huge weights: %s", err.message);
  free (f);
}

static void
special_files (const char *dir)
{
  DecentError err = { { 0 } };
  char fifo[256];
  snprintf (fifo, sizeof fifo, "%s/fifo.dcnt", dir);
  REQUIRE (mkfifo (fifo, 0600) == 0, "mkfifo");
  alarm (20); /* before the fix open() never returned */
  CHECK (!decent_model_load (fifo, DECENT_DEVICE_CPU, &err)
             && strstr (err.message, "is not a regular file") && strstr (err.message, fifo),
      "FIFO: %s", err.message);
  CHECK (!decent_model_load (dir, DECENT_DEVICE_CPU, &err)
             && strstr (err.message, "is not a regular file"),
      "folder: %s", err.message);
  alarm (0);
  unlink (fifo);

  /* the reason survives a path of 4000 bytes, and one of 20000 */
  const size_t sizes[] = { 4000, 20000 };
  const char *reasons[] = { "No such file or directory", "File name too long" };
  for (int k = 0; k < 2; k++) {
    char *p = malloc (sizes[k] + 1);
    size_t n = (size_t) snprintf (p, sizes[k] + 1, "%s", dir);
    while (n < sizes[k] - 20)
      n += (size_t) snprintf (p + n, sizes[k] + 1 - n, "/%s", "dddddddddddddddddddddddddddddd");
    snprintf (p + n, sizes[k] + 1 - n, "/model.dcnt");
    CHECK (!decent_model_load (p, DECENT_DEVICE_CPU, &err) && strstr (err.message, reasons[k])
               && strlen (err.message) < DECENT_ERROR_LEN,
        "%zu-byte path: %.200s ... %s", strlen (p), err.message,
        err.message + (strlen (err.message) > 100 ? strlen (err.message) - 100 : 0));
    if (k == 0)
      CHECK (strstr (err.message, p), "the 4000-byte path is cut");
    free (p);
  }
}

/* Saving writes through links, also to a target that does not exist yet,
 * and never replaces a FIFO or a device. */
static void
saving_through_links (const char *dir, const char *model_path)
{
  DecentError err = { { 0 } };
  DecentModel *m = decent_model_load (model_path, DECENT_DEVICE_CPU, &err);
  REQUIRE (m, "%s", err.message);
  char models[256], link[256], target[512], chain[256], fifo[256];
  snprintf (models, sizeof models, "%s/models", dir);
  snprintf (target, sizeof target, "%s/cam.dcnt", models);
  snprintf (link, sizeof link, "%s/cam.dcnt", dir);
  snprintf (chain, sizeof chain, "%s/chain.dcnt", dir);
  REQUIRE (mkdir (models, 0700) == 0 && symlink ("models/cam.dcnt", link) == 0
               && symlink ("cam.dcnt", chain) == 0, "links");
  /* a relative link, and a link to that link, both to a file not there yet */
  for (int k = 0; k < 2; k++) {
    unlink (target);
    REQUIRE (decent_model_save (m, k ? chain : link, &err) == 0, "%s", err.message);
    struct stat st;
    CHECK (lstat (link, &st) == 0 && S_ISLNK (st.st_mode) && lstat (chain, &st) == 0
               && S_ISLNK (st.st_mode), "a link was replaced by a file (%d)", k);
    DecentModel *back = decent_model_load (target, DECENT_DEVICE_CPU, &err);
    CHECK (back != NULL, "the link's target was not written (%d): %s", k, err.message);
    decent_model_free (back);
  }
  snprintf (fifo, sizeof fifo, "%s/save.fifo", dir);
  REQUIRE (mkfifo (fifo, 0600) == 0, "mkfifo");
  CHECK (decent_model_save (m, fifo, &err) < 0 && strstr (err.message, "not a regular file"),
      "a FIFO was written over: %s", err.message);
  struct stat st;
  CHECK (stat (fifo, &st) == 0 && S_ISFIFO (st.st_mode), "the FIFO is gone");
  char *end = decent_model_file_target (chain);
  CHECK (end && strstr (end, "models/cam.dcnt"), "target of the chain: %s", end ? end : "NULL");
  free (end);
  unlink (fifo);
  unlink (chain);
  unlink (link);
  unlink (target);
  rmdir (models);
  decent_model_free (m);
}

/* raw bytes as a 'PAIR' section, for a hostile file (nested companions) */
static const uint8_t *raw_pair;
static size_t raw_pair_len;

static int
raw_pair_save (DecentModel *m, uint8_t **data, size_t *len, DecentError *err)
{
  if (!(*data = malloc (raw_pair_len)))
    return decent_fail (err, "out of memory");
  memcpy (*data, raw_pair, raw_pair_len);
  *len = raw_pair_len;
  return 0;
}

/* A companion (decent_model_set_companion): carried through save and load,
 * built again it scores as the model it was made from; a companion with
 * its own, other channels and the model itself are refused; a file whose
 * companion carries one (written by hand) is refused at load, as is one
 * whose companion is damaged; removing it leaves a plain model. */
static void
companion (const char *dir, const char *path, const uint8_t *frames, int n)
{
  char pair[256], nested[256];
  snprintf (pair, sizeof pair, "%s/pair.dcnt", dir);
  snprintf (nested, sizeof nested, "%s/nested.dcnt", dir);
  DecentError err = { { 0 } };
  DecentModel *m = decent_model_load (path, DECENT_DEVICE_CPU, &err);
  REQUIRE (m, "%s", err.message);
  DecentConfig cfg;
  decent_config_init (&cfg, 16, 8, 1);
  cfg.base_channels = 4;
  cfg.latent_side = 0;
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *c = decent_model_new (&cfg, &err);
  REQUIRE (c, "%s", err.message);
  CHECK (decent_model_has_companion (m) == 0, "a plain model has a companion");
  CHECK (decent_model_set_companion (m, m, &err) < 0 && strstr (err.message, "its own"),
      "itself: %s", err.message);
  REQUIRE (decent_model_set_companion (m, c, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_save (m, pair, &err) == 0, "%s", err.message);
  DecentModel *l = decent_model_load (pair, DECENT_DEVICE_CPU, &err);
  REQUIRE (l, "%s", err.message);
  CHECK (decent_model_has_companion (l) == 1, "the companion was not kept");
  /* n frames of 8x8 are n / 2 frames of 16x8 */
  float want[64], got[64], alone[64], with[64];
  DecentModel *back = decent_model_companion_new (l, DECENT_DEVICE_CPU, &err);
  REQUIRE (back, "%s", err.message);
  REQUIRE (decent_model_score (c, frames, n / 2, want, NULL, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_score (back, frames, n / 2, got, NULL, &err) == 0, "%s", err.message);
  CHECK (memcmp (want, got, sizeof (float) * (n / 2)) == 0, "the companion scores otherwise");
  CHECK (decent_model_has_companion (back) == 0, "the companion has a companion");
  REQUIRE (decent_model_score (m, frames, n, alone, NULL, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_score (l, frames, n, with, NULL, &err) == 0, "%s", err.message);
  CHECK (memcmp (alone, with, sizeof (float) * n) == 0, "the model scores otherwise");
  CHECK (decent_model_set_companion (c, l, &err) < 0 && strstr (err.message, "at most two"),
      "a companion with its own: %s", err.message);
  DecentConfig rgb = cfg;
  rgb.channels = 3;
  DecentModel *colour = decent_model_new (&rgb, &err);
  REQUIRE (colour, "%s", err.message);
  CHECK (decent_model_set_companion (l, colour, &err) < 0 && strstr (err.message, "channels"),
      "other channels: %s", err.message);
  CHECK (decent_model_has_companion (l) == 1, "a refused companion dropped the one there");

  /* hostile: a companion that carries a companion */
  size_t len;
  uint8_t *bytes = tu_read_file (pair, &len);
  const DecentSectionIO hostile[] = {
    { DECENT_SECTION_TAG ('P', 'A', 'I', 'R'), 1u << 30, raw_pair_save, NULL },
    { 0, 0, NULL, NULL } };
  raw_pair = bytes;
  raw_pair_len = len;
  decent_model_file_set_sections (hostile);
  REQUIRE (decent_model_save (c, nested, &err) == 0, "%s", err.message);
  decent_model_file_set_sections (NULL);
  CHECK (!decent_model_load (nested, DECENT_DEVICE_CPU, &err) && strstr (err.message, nested)
             && strstr (err.message, "companion of its own"),
      "nested companions: %s", err.message);
  /* hostile: a damaged companion (its own checksum fails) */
  bytes[len / 2] ^= 0x40;
  decent_model_file_set_sections (hostile);
  REQUIRE (decent_model_save (c, nested, &err) == 0, "%s", err.message);
  decent_model_file_set_sections (NULL);
  CHECK (!decent_model_load (nested, DECENT_DEVICE_CPU, &err) && strstr (err.message, nested)
             && strstr (err.message, "'PAIR'") && strstr (err.message, "companion"),
      "damaged companion: %s", err.message);
  free (bytes);

  REQUIRE (decent_model_set_companion (l, NULL, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_save (l, pair, &err) == 0, "%s", err.message);
  decent_model_free (back);
  back = decent_model_load (pair, DECENT_DEVICE_CPU, &err);
  REQUIRE (back, "%s", err.message);
  CHECK (decent_model_has_companion (back) == 0
             && !decent_model_companion_new (back, DECENT_DEVICE_CPU, &err)
             && strstr (err.message, "no companion"),
      "a removed companion: %s", err.message);
  decent_model_free (back);
  decent_model_free (colour);
  decent_model_free (l);
  decent_model_free (c);
  decent_model_free (m);
  unlink (pair);
  unlink (nested);
}

/* A written file keeps the mode of the one it replaces (a model kept
 * private stays so), and a new one gets the umask's (before: 0644 always). */
static void
file_modes (const char *dir, const char *path)
{
  DecentError err = { { 0 } };
  DecentModel *m = decent_model_load (path, DECENT_DEVICE_CPU, &err);
  REQUIRE (m, "%s", err.message);
  char target[300];
  snprintf (target, sizeof target, "%s/modes.dcnt", dir);
  const mode_t old_mask = umask (077);
  REQUIRE (decent_model_save (m, target, &err) == 0, "%s", err.message);
  struct stat st;
  CHECK (stat (target, &st) == 0 && (st.st_mode & 07777) == 0600,
      "new file under umask 077: mode %o", (unsigned) (st.st_mode & 07777));
  umask (022);
  REQUIRE (decent_model_save (m, target, &err) == 0, "%s", err.message);
  CHECK (stat (target, &st) == 0 && (st.st_mode & 07777) == 0600,
      "replacing a 0600 file: mode %o", (unsigned) (st.st_mode & 07777));
  chmod (target, 0640);
  REQUIRE (decent_model_save (m, target, &err) == 0, "%s", err.message);
  CHECK (stat (target, &st) == 0 && (st.st_mode & 07777) == 0640,
      "replacing a 0640 file: mode %o", (unsigned) (st.st_mode & 07777));
  unlink (target);
  REQUIRE (decent_model_save (m, target, &err) == 0, "%s", err.message);
  CHECK (stat (target, &st) == 0 && (st.st_mode & 07777) == 0644,
      "new file under umask 022: mode %o", (unsigned) (st.st_mode & 07777));
  unlink (target);
  umask (old_mask);
  decent_model_free (m);
}

/* A path that is not UTF-8 gives a message that is (U+FFFD for each bad
 * byte), with its control characters, a backslash and a bidirectional
 * override escaped; a folder given as a model path removes no other file's
 * temporaries (dir/sub/ took dir/sub.tmp-* for its own). */
static void
paths_in_messages (const char *dir)
{
  DecentError err = { { 0 } };
  char odd[256];
  snprintf (odd, sizeof odd, "%s/caf\xe9-\xff.dcnt", dir);
  CHECK (decent_model_load (odd, DECENT_DEVICE_CPU, &err) == NULL
      && strstr (err.message, "caf\xef\xbf\xbd-\xef\xbf\xbd.dcnt"), "%s", err.message);
  /* control characters are escapes: a name cannot forge a log line */
  snprintf (odd, sizeof odd, "%s/a\nERROR forged\x1b[2J\xc2\x85\x7f\\n\xe2\x80\xaetxt.dcnt",
      dir);
  CHECK (decent_model_load (odd, DECENT_DEVICE_CPU, &err) == NULL
      && strstr (err.message, "a\\nERROR forged\\x1b[2J\\x85\\x7f\\\\n\\u202etxt.dcnt")
      && !strchr (err.message, '\n') && !strchr (err.message, '\x1b'), "%s", err.message);
  char sub[256], sibling[300];
  snprintf (sub, sizeof sub, "%s/sub/", dir);
  snprintf (sibling, sizeof sibling, "%s/sub.tmp-AbC123", dir);
  FILE *f = fopen (sibling, "w");
  REQUIRE (f, "cannot create %s", sibling);
  fclose (f);
  char *removed = NULL;
  CHECK (decent_model_remove_stale_temporaries (sub, &removed, &err) < 0
      && strstr (err.message, "is a folder"), "%s", err.message);
  CHECK (access (sibling, F_OK) == 0, "another file's temporary was removed");
  free (removed);
  unlink (sibling);
}

int
main (void)
{
  char dir[] = "/tmp/decent-file-XXXXXX";
  REQUIRE (mkdtemp (dir), "mkdtemp");
  char path[256], bad[256];
  snprintf (path, sizeof path, "%s/model.dcnt", dir);
  snprintf (bad, sizeof bad, "%s/bad.dcnt", dir);

  DecentConfig cfg;
  DecentError err = { { 0 } };
  decent_config_init (&cfg, 8, 8, 1);
  cfg.base_channels = 8;
  cfg.loss = DECENT_LOSS_CENTRE;
  cfg.device = DECENT_DEVICE_CPU;
  cfg.batch_size = 8;
  DecentModel *m = decent_model_new (&cfg, &err);
  REQUIRE (m, "%s", err.message);

  uint64_t s = 7;
  enum { N = 16 };
  uint8_t frames[N * 64];
  for (int i = 0; i < N; i++)
    tu_make_image (frames + i * 64, 8, 8, i % 4 == 0, &s);
  REQUIRE (decent_model_train (m, frames, N, 2, NULL, NULL, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_calibrate (m, frames, N, 0.9f, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_save (m, path, &err) == 0, "%s", err.message);

  float a[N], b[N], ma[N * 64], mb[N * 64];
  REQUIRE (decent_model_score (m, frames, N, a, ma, &err) == 0, "%s", err.message);
  DecentModel *l = decent_model_load (path, DECENT_DEVICE_CPU, &err), *l2;
  REQUIRE (l, "%s", err.message);
  REQUIRE (decent_model_score (l, frames, N, b, mb, &err) == 0, "%s", err.message);
  CHECK (memcmp (a, b, sizeof a) == 0, "scores differ after save and load");
  CHECK (memcmp (ma, mb, sizeof ma) == 0, "heatmaps differ after save and load");
  DecentCalibration ca, cb;
  decent_model_get_calibration (m, &ca);
  decent_model_get_calibration (l, &cb);
  CHECK (memcmp (&ca, &cb, sizeof ca) == 0 && ca.threshold > 0, "calibration not kept");
  DecentInfo ia, ib;
  decent_model_describe (m, &ia);
  decent_model_describe (l, &ib);
  CHECK (ia.steps == ib.steps && ib.steps == 4 && ib.loss == DECENT_LOSS_CENTRE, "steps %llu",
      (unsigned long long) ib.steps);
  /* a second save of the loaded model is byte-identical */
  char again[256];
  snprintf (again, sizeof again, "%s/again.dcnt", dir);
  REQUIRE (decent_model_save (l, again, &err) == 0, "%s", err.message);
  size_t len, len2;
  uint8_t *orig = tu_read_file (path, &len);
  uint8_t *copy = tu_read_file (again, &len2);
  CHECK (len == len2 && memcmp (orig, copy, len) == 0, "re-saved file differs");
  free (copy);
  decent_model_free (l);

  /* truncated at every offset */
  int rejected = 0, named = 0;
  for (size_t cut = 0; cut < len; cut++) {
    tu_write_file (bad, orig, cut);
    err.message[0] = 0;
    DecentModel *t = decent_model_load (bad, DECENT_DEVICE_CPU, &err);
    rejected += t == NULL;
    named += strstr (err.message, bad) != NULL;
    if (!strstr (err.message, "truncated"))
      CHECK (0, "cut at %zu: %s", cut, err.message);
    decent_model_free (t);
  }
  CHECK (rejected == (int) len && named == (int) len, "truncations: %d of %zu rejected, %d named",
      rejected, len, named);
  tu_write_file (bad, orig, len / 2);
  decent_model_load (bad, DECENT_DEVICE_CPU, &err);
  CHECK (strstr (err.message, "truncated"), "truncation message: %s", err.message);

  /* every single byte flipped */
  rejected = named = 0;
  uint8_t *flip = malloc (len);
  for (size_t i = 0; i < len; i++) {
    memcpy (flip, orig, len);
    flip[i] ^= (uint8_t) (1u << (i % 8));
    tu_write_file (bad, flip, len);
    err.message[0] = 0;
    DecentModel *t = decent_model_load (bad, DECENT_DEVICE_CPU, &err);
    rejected += t == NULL;
    named += strstr (err.message, bad) != NULL;
    /* the true reason: another kind of file, or a damaged one */
    const char *want = i < 8 ? "not a gst-decent model file" : "corrupted";
    if (!strstr (err.message, want) || strstr (err.message, "truncated")
        || strstr (err.message, "upgrade"))
      CHECK (0, "byte %zu flipped: %s", i, err.message);
    decent_model_free (t);
  }
  CHECK (rejected == (int) len && named == (int) len, "flips: %d of %zu rejected, %d named",
      rejected, len, named);

  /* a foreign file */
  tu_write_file (bad, (const uint8_t *) "\x89PNG\r\n\x1a\n0123456789", 18);
  CHECK (!decent_model_load (bad, DECENT_DEVICE_CPU, &err)
             && strstr (err.message, "not a gst-decent model"),
      "foreign: %s", err.message);
  /* a missing file */
  CHECK (!decent_model_load ("/nonexistent/model.dcnt", DECENT_DEVICE_CPU, &err)
             && strstr (err.message, "/nonexistent/model.dcnt")
             && strstr (err.message, "No such file"),
      "missing: %s", err.message);
  free (flip);

  /* a failed save keeps the previous file byte-identical and leaves no
   * temporary file behind */
  if (geteuid () != 0) {
    chmod (dir, 0555);
    CHECK (decent_model_save (m, path, &err) < 0 && strstr (err.message, path),
        "save into a read-only folder: %s", err.message);
    chmod (dir, 0755);
  }
  char missing[300];
  snprintf (missing, sizeof missing, "%s/no/such/dir/model.dcnt", dir);
  CHECK (decent_model_save (m, missing, &err) < 0 && strstr (err.message, missing),
      "save into a missing folder: %s", err.message);
  size_t len3;
  uint8_t *after = tu_read_file (path, &len3);
  CHECK (len3 == len && memcmp (after, orig, len) == 0, "previous model changed");
  free (after);
  /* saving over an existing model replaces it whole */
  REQUIRE (decent_model_train_step (m, frames, 8, NULL, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_save (m, path, &err) == 0, "%s", err.message);
  after = tu_read_file (path, &len3);
  CHECK (len3 == len && memcmp (after, orig, len) != 0, "model not replaced");
  free (after);
  free (orig);
  decent_model_free (m);

  /* the saved model of before this last step scores a */
  REQUIRE (decent_model_save (l2 = decent_model_load (again, DECENT_DEVICE_CPU, &err), path,
               &err) == 0, "%s", err.message);
  decent_model_free (l2);
  file_format_v2 (dir, path, frames, N, a);
  bounds (dir, path);
  nonfinite_model (dir);
  special_files (dir);
  saving_through_links (dir, path);
  companion (dir, path, frames, N);
  file_modes (dir, path);
  paths_in_messages (dir);

  char cmd[300];
  snprintf (cmd, sizeof cmd, "ls %s | grep -c tmp- > /dev/null", dir);
  CHECK (system (cmd) != 0, "a temporary file was left in %s", dir);
  snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
  (void) system (cmd);
  return tu_finish ("model_file");
}
