/* Model files: save -> load -> score is bit-identical; a file truncated at
 * every byte offset, or with any single byte flipped, is rejected with a
 * message naming the file; foreign and newer-version files are rejected;
 * a failed save leaves the previous file as it was. */
#include "decent.h"
#include "testutil.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint8_t *
slurp (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  REQUIRE (f, "open %s", path);
  fseek (f, 0, SEEK_END);
  *len = (size_t) ftell (f);
  fseek (f, 0, SEEK_SET);
  uint8_t *p = malloc (*len);
  REQUIRE (fread (p, 1, *len, f) == *len, "read %s", path);
  fclose (f);
  return p;
}

static void
spit (const char *path, const uint8_t *p, size_t len)
{
  FILE *f = fopen (path, "wb");
  REQUIRE (f, "create %s", path);
  REQUIRE (fwrite (p, 1, len, f) == len, "write %s", path);
  fclose (f);
}

static uint32_t
crc32 (const uint8_t *p, size_t n)
{
  uint32_t c = 0xFFFFFFFFu;
  while (n--) {
    c ^= *p++;
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return ~c;
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
  DecentModel *l = decent_model_load (path, DECENT_DEVICE_CPU, &err);
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
  uint8_t *orig = slurp (path, &len);
  uint8_t *copy = slurp (again, &len2);
  CHECK (len == len2 && memcmp (orig, copy, len) == 0, "re-saved file differs");
  free (copy);
  decent_model_free (l);

  /* truncated at every offset */
  int rejected = 0, named = 0;
  for (size_t cut = 0; cut < len; cut++) {
    spit (bad, orig, cut);
    err.message[0] = 0;
    DecentModel *t = decent_model_load (bad, DECENT_DEVICE_CPU, &err);
    rejected += t == NULL;
    named += strstr (err.message, bad) != NULL;
    decent_model_free (t);
  }
  CHECK (rejected == (int) len && named == (int) len, "truncations: %d of %zu rejected, %d named",
      rejected, len, named);
  spit (bad, orig, len / 2);
  decent_model_load (bad, DECENT_DEVICE_CPU, &err);
  CHECK (strstr (err.message, "truncated"), "truncation message: %s", err.message);

  /* every single byte flipped */
  rejected = named = 0;
  uint8_t *flip = malloc (len);
  for (size_t i = 0; i < len; i++) {
    memcpy (flip, orig, len);
    flip[i] ^= (uint8_t) (1u << (i % 8));
    spit (bad, flip, len);
    err.message[0] = 0;
    DecentModel *t = decent_model_load (bad, DECENT_DEVICE_CPU, &err);
    rejected += t == NULL;
    named += strstr (err.message, bad) != NULL;
    decent_model_free (t);
  }
  CHECK (rejected == (int) len && named == (int) len, "flips: %d of %zu rejected, %d named",
      rejected, len, named);

  /* a newer version with a valid checksum is refused as such */
  memcpy (flip, orig, len);
  flip[8] = 2;
  uint32_t c = crc32 (flip, len - 4);
  for (int i = 0; i < 4; i++)
    flip[len - 4 + i] = (uint8_t) (c >> (8 * i));
  spit (bad, flip, len);
  CHECK (!decent_model_load (bad, DECENT_DEVICE_CPU, &err) && strstr (err.message, "version 2"),
      "newer version: %s", err.message);
  /* a foreign file */
  spit (bad, (const uint8_t *) "\x89PNG\r\n\x1a\n0123456789", 18);
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
  uint8_t *after = slurp (path, &len3);
  CHECK (len3 == len && memcmp (after, orig, len) == 0, "previous model changed");
  free (after);
  /* saving over an existing model replaces it whole */
  REQUIRE (decent_model_train_step (m, frames, 8, NULL, &err) == 0, "%s", err.message);
  REQUIRE (decent_model_save (m, path, &err) == 0, "%s", err.message);
  after = slurp (path, &len3);
  CHECK (len3 == len && memcmp (after, orig, len) != 0, "model not replaced");
  free (after);
  free (orig);
  decent_model_free (m);

  char cmd[300];
  snprintf (cmd, sizeof cmd, "ls %s | grep -c tmp- > /dev/null", dir);
  CHECK (system (cmd) != 0, "a temporary file was left in %s", dir);
  snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
  (void) system (cmd);
  return tu_finish ("model_file");
}
