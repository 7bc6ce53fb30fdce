/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* testutil.h — tiny assertion helpers and synthetic images for the tests. */
#ifndef DECENT_TESTUTIL_H
#define DECENT_TESTUTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int tu_failures, tu_checks;

#define CHECK(cond, ...)                                                     \
  do {                                                                       \
    tu_checks++;                                                             \
    if (!(cond)) {                                                           \
      tu_failures++;                                                         \
      fprintf (stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);       \
      fprintf (stderr, __VA_ARGS__);                                         \
      fputc ('\n', stderr);                                                  \
    }                                                                        \
  } while (0)

/* evaluates cond once: it may have side effects */
#define REQUIRE(cond, ...)                                                   \
  do {                                                                       \
    int ok_ = (cond) ? 1 : 0;                                                \
    CHECK (ok_, __VA_ARGS__);                                                \
    if (!ok_) {                                                              \
      fprintf (stderr, "  (required: %s)\n", #cond);                         \
      exit (1);                                                              \
    }                                                                        \
  } while (0)

static inline int
tu_finish (const char *name)
{
  printf ("%s: %d checks, %d failed\n", name, tu_checks, tu_failures);
  return tu_failures ? 1 : 0;
}

static inline uint64_t
tu_rand (uint64_t *s)
{
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static inline double
tu_uniform (uint64_t *s)
{
  return (tu_rand (s) >> 11) * (1.0 / 9007199254740992.0);
}

/* CRC-32 (IEEE, as zlib's): a model file's checksums, computed apart from the engine. */
static inline uint32_t
tu_crc32 (const uint8_t *p, size_t n)
{
  uint32_t c = 0xFFFFFFFFu;
  while (n--) {
    c ^= *p++;
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return ~c;
}

/* A whole file into memory (caller frees), and bytes out to a file. */
static inline uint8_t *
tu_read_file (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  REQUIRE (f, "open %s", path);
  fseek (f, 0, SEEK_END);
  *len = (size_t) ftell (f);
  fseek (f, 0, SEEK_SET);
  uint8_t *p = (uint8_t *) malloc (*len ? *len : 1);
  REQUIRE (p && fread (p, 1, *len, f) == *len, "read %s", path);
  fclose (f);
  return p;
}

static inline void
tu_write_file (const char *path, const uint8_t *p, size_t len)
{
  FILE *f = fopen (path, "wb");
  REQUIRE (f, "create %s", path);
  REQUIRE (fwrite (p, 1, len, f) == len, "write %s", path);
  fclose (f);
}

/* A model file's final CRC-32 (its last 4 bytes, little-endian) made to
 * match the bytes before it again, after a test changed them. */
static inline void
tu_seal_file (uint8_t *p, size_t len)
{
  const uint32_t c = tu_crc32 (p, len - 4);
  for (int k = 0; k < 4; k++)
    p[len - 4 + k] = (uint8_t) (c >> (8 * k));
}

/* "Normal" synthetic image: a soft bright disc at a random place on a dark,
 * slightly noisy background.  "Anomalous": the same plus a bright bar. */
static inline void
tu_make_image (uint8_t *img, int w, int h, int anomalous, uint64_t *s)
{
  double cx = w * (0.3 + 0.4 * tu_uniform (s)), cy = h * (0.3 + 0.4 * tu_uniform (s));
  double r = w * (0.18 + 0.06 * tu_uniform (s));
  int bar = (int) (tu_uniform (s) * (w - 4)) + 1;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      double d = sqrt ((x - cx) * (x - cx) + (y - cy) * (y - cy));
      double v = 40.0 + 180.0 / (1.0 + exp ((d - r) * 1.5)) + 10.0 * tu_uniform (s);
      if (anomalous && x >= bar && x < bar + 2)
        v = 250.0;
      img[y * w + x] = (uint8_t) (v > 255 ? 255 : v);
    }
}

#endif
