/* model_file.c — the versioned model file (format in docs/model-format.md).
 *
 * Little-endian throughout.  A fixed header, then the parameters, BN running
 * statistics and the centre as float32, then a CRC-32 of every byte before
 * it.  Saving goes through a temporary file in the same folder, fsync and
 * rename, so the old model stays whole until the new one is. */
#include "model_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "DECENTAE"
#define VERSION 1u
#define HEADER_BYTES 160u
#define MAX_FILE_BYTES (2ull << 30)

/* ---- CRC-32 (IEEE 802.3, reflected) ---------------------------------- */

static uint32_t
crc32_update (uint32_t crc, const uint8_t *p, size_t n)
{
  static uint32_t table[256];
  static int ready;
  if (!ready) { /* benign race: every thread writes the same values */
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    ready = 1;
  }
  crc = ~crc;
  while (n--)
    crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
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
} Header;

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
  F32 (h->cal.threshold);
  F32 (h->cal.quantile);
  F32 (h->cal.mean);
  F32 (h->cal.stddev);
  F32 (h->cal.min);
  F32 (h->cal.max);
  U32 (h->cal.count);
  U32 (h->epochs);
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

/* ---- save ------------------------------------------------------------- */

static int
write_all (int fd, const uint8_t *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write (fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += w;
    n -= (size_t) w;
  }
  return 0;
}

int
decent_model_save (DecentModel *m, const char *path, DecentError *err)
{
  if (!m || !path || !*path)
    return decent_fail (err, "save: no model or no file name");

  Header h = { .cfg = m->cfg, .n_stages = (uint32_t) m->arch.n_stages,
    .latent_dim = (uint32_t) decent_arch_latent_dim (&m->arch),
    .n_params = decent_arch_param_count (&m->arch),
    .n_buffers = decent_arch_buffer_count (&m->arch), .steps = m->steps,
    .centre_batches = m->centre_batches, .cal = m->cal, .epochs = m->epochs };
  const size_t total = 16 + HEADER_BYTES + body_floats (&h) * 4 + 4;
  uint8_t *buf = calloc (1, total);
  float *params = NULL, *buffers = NULL;
  if (!buf)
    return decent_fail (err, "save %s: out of memory for %zu bytes", path, total);
  if (decent_model_fetch_params (m, &params, &buffers, err) < 0) {
    free (buf);
    return -1;
  }

  Cursor c = { buf, 0, total };
  memcpy (buf, MAGIC, 8);
  c.pos = 8;
  put_u32 (&c, VERSION);
  put_u32 (&c, HEADER_BYTES);
  header_io (&c, &h, 1);
  c.pos = 16 + HEADER_BYTES; /* the rest of the header is reserved, zero */
  for (size_t i = 0; i < h.n_params; i++)
    put_f32 (&c, params[i]);
  for (size_t i = 0; i < h.n_buffers; i++)
    put_f32 (&c, buffers[i]);
  for (size_t i = 0; i < h.latent_dim; i++)
    put_f32 (&c, m->centre[i]);
  put_u32 (&c, crc32_update (0, buf, c.pos));
  free (params);
  free (buffers);

  /* temporary file beside the target, so that rename() is atomic */
  size_t plen = strlen (path);
  char *tmp = malloc (plen + 16);
  char *dircopy = strdup (path);
  if (!tmp || !dircopy) {
    free (buf);
    free (tmp);
    free (dircopy);
    return decent_fail (err, "save %s: out of memory", path);
  }
  snprintf (tmp, plen + 16, "%s.tmp-XXXXXX", path);
  int fd = mkstemp (tmp);
  int rc = -1;
  if (fd < 0) {
    decent_fail (err, "cannot write model file %s: cannot create a temporary file there: %s",
        path, strerror (errno));
    goto out;
  }
  /* held until close: decent_model_remove_stale_temporaries leaves it alone */
  flock (fd, LOCK_EX);
  if (write_all (fd, buf, total) < 0 || fsync (fd) < 0) {
    decent_fail (err, "cannot write model file %s: %s; the previous file is unchanged", path,
        strerror (errno));
    close (fd);
    unlink (tmp);
    goto out;
  }
  fchmod (fd, 0644);
  if (close (fd) < 0) {
    decent_fail (err, "cannot write model file %s: %s; the previous file is unchanged", path,
        strerror (errno));
    unlink (tmp);
    goto out;
  }
  if (rename (tmp, path) < 0) {
    decent_fail (err, "cannot replace model file %s: %s; the previous file is unchanged", path,
        strerror (errno));
    unlink (tmp);
    goto out;
  }
  /* make the rename itself durable */
  int dfd = open (dirname (dircopy), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync (dfd);
    close (dfd);
  }
  rc = 0;
out:
  free (buf);
  free (tmp);
  free (dircopy);
  return rc;
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
    /* a writer holds its temporary locked; one nobody holds is left over */
    if (fd >= 0 && fstat (fd, &st) == 0 && S_ISREG (st.st_mode)
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

static int
read_file (const char *path, uint8_t **data, size_t *len, DecentError *err)
{
  int fd = open (path, O_RDONLY);
  if (fd < 0)
    return decent_fail (err, "cannot open model file %s: %s", path, strerror (errno));
  struct stat st;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)) {
    close (fd);
    return decent_fail (err, "model file %s is not a regular file", path);
  }
  if ((unsigned long long) st.st_size > MAX_FILE_BYTES) {
    close (fd);
    return decent_fail (err, "model file %s is too large (%lld bytes)", path,
        (long long) st.st_size);
  }
  size_t n = (size_t) st.st_size;
  uint8_t *p = malloc (n ? n : 1);
  if (!p) {
    close (fd);
    return decent_fail (err, "cannot read model file %s: out of memory", path);
  }
  size_t got = 0;
  while (got < n) {
    ssize_t r = read (fd, p + got, n - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      free (p);
      close (fd);
      return decent_fail (err, "cannot read model file %s: %s", path,
          r < 0 ? strerror (errno) : "it shrank while being read");
    }
    got += (size_t) r;
  }
  close (fd);
  *data = p;
  *len = n;
  return 0;
}

DecentModel *
decent_model_parse (const char *path, const uint8_t *data, size_t len, DecentDevice device,
    DecentError *err)
{
  const size_t min = 16 + HEADER_BYTES + 4;
  if (!path || (!data && len)) {
    decent_fail (err, "no model data to parse");
    return NULL;
  }
  if (len < 8 && memcmp (data, MAGIC, len) == 0) {
    decent_fail (err, "model file %s is truncated: %zu bytes", path, len);
    return NULL;
  }
  if (len < 8 || memcmp (data, MAGIC, 8) != 0) {
    decent_fail (err, "%s is not a gst-decent model file (wrong magic)", path);
    return NULL;
  }
  if (len < min) {
    decent_fail (err, "model file %s is truncated: %zu bytes, a header alone needs %zu", path,
        len, min);
    return NULL;
  }
  Cursor c = { (uint8_t *) data, 8, len };
  uint32_t version = get_u32 (&c);
  uint32_t hbytes = get_u32 (&c);
  if (version > VERSION) {
    decent_fail (err, "model file %s has format version %u; this build reads up to %u: "
                      "upgrade gst-decent", path, version, VERSION);
    return NULL;
  }
  if (version == 0 || hbytes != HEADER_BYTES) {
    decent_fail (err, "model file %s is corrupted (version %u, header %u bytes)", path, version,
        hbytes);
    return NULL;
  }
  Header h;
  memset (&h, 0, sizeof h);
  decent_config_init (&h.cfg, 0, 0, 0);
  header_io (&c, &h, 0);
  /* sizes before the checksum, so that a wrong length is named as such */
  if (h.n_params > MAX_FILE_BYTES || h.n_buffers > MAX_FILE_BYTES || h.latent_dim > (1u << 28)) {
    decent_fail (err, "model file %s is corrupted (impossible tensor sizes)", path);
    return NULL;
  }
  const size_t expect = 16 + HEADER_BYTES + body_floats (&h) * 4 + 4;
  if (len != expect) {
    uint32_t stored = 0;
    if (len >= 4)
      for (int i = 0; i < 4; i++)
        stored |= (uint32_t) data[len - 4 + i] << (8 * i);
    int intact = crc32_update (0, data, len - 4) == stored;
    decent_fail (err, "model file %s is %s: %zu bytes where its header says %zu", path,
        len < expect && !intact ? "truncated" : "corrupted", len, expect);
    return NULL;
  }
  uint32_t stored = 0;
  for (int i = 0; i < 4; i++)
    stored |= (uint32_t) data[len - 4 + i] << (8 * i);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* lets the fuzzer past the checksum */
  if (crc32_update (0, data, len - 4) != stored) {
    decent_fail (err, "model file %s is corrupted (checksum mismatch)", path);
    return NULL;
  }
#endif

  DecentError why;
  h.cfg.device = device;
  if (decent_config_validate (&h.cfg, &why) < 0) {
    decent_fail (err, "model file %s has invalid settings: %s", path, why.message);
    return NULL;
  }
  DecentArch arch;
  char awhy[256];
  decent_arch_build (&arch, h.cfg.width, h.cfg.height, h.cfg.channels, h.cfg.base_channels,
      h.cfg.max_channels, awhy, sizeof awhy);
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

  size_t nf = body_floats (&h);
  float *body = malloc (nf * sizeof (float));
  if (!body) {
    decent_fail (err, "cannot load model file %s: out of memory", path);
    return NULL;
  }
  c.pos = 16 + HEADER_BYTES;
  for (size_t i = 0; i < nf; i++) {
    body[i] = get_f32 (&c);
    if (!isfinite (body[i])) {
      free (body);
      decent_fail (err, "model file %s holds a non-finite weight; it cannot score", path);
      return NULL;
    }
  }
  DecentModel *m = decent_model_build (&h.cfg, body, body + h.n_params,
      body + h.n_params + h.n_buffers, &why);
  free (body);
  if (!m) {
    decent_fail (err, "cannot load model file %s: %s", path, why.message);
    return NULL;
  }
  m->steps = h.steps;
  m->centre_batches = h.centre_batches;
  m->cal = h.cal;
  m->epochs = h.epochs;
  return m;
}

DecentModel *
decent_model_load (const char *path, DecentDevice device, DecentError *err)
{
  if (!path || !*path) {
    decent_fail (err, "no model file given");
    return NULL;
  }
  uint8_t *data = NULL;
  size_t len = 0;
  if (read_file (path, &data, &len, err) < 0)
    return NULL;
  DecentModel *m = decent_model_parse (path, data, len, device, err);
  free (data);
  return m;
}
