/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Training on synthetic normal images separates held-out normal images from
 * visibly different ones (AUROC > 0.9), for loss (13), loss (9) and the plain
 * autoencoder; training lowers the loss; lambda moves the latent spread. */
#include "decent.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* AddressSanitizer reserves terabytes of address space: no RLIMIT_AS there */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

enum { W = 16, H = 16, TRAIN = 512, TEST = 200 };

static uint8_t train_set[TRAIN * W * H], test_set[TEST * W * H], labels[TEST];

typedef struct {
  double first, last;
} Progress;

static int
on_epoch (int epoch, int epochs, const DecentLossTerms *mean, double elapsed, void *user)
{
  Progress *p = user;
  if (epoch == 1)
    p->first = mean->reconstruction;
  p->last = mean->reconstruction;
  (void) epochs;
  (void) elapsed;
  return 0;
}

static double
train_and_score (DecentLoss loss, float lambda, double *spread)
{
  DecentConfig cfg;
  DecentError err = { { 0 } };
  decent_config_init (&cfg, W, H, 1);
  cfg.base_channels = 16;
  cfg.loss = loss;
  cfg.lambda = lambda;
  cfg.batch_size = 32;
  cfg.learning_rate = 2e-3f;
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *m = decent_model_new (&cfg, &err);
  REQUIRE (m, "%s", err.message);
  Progress p = { 0, 0 };
  REQUIRE (decent_model_train (m, train_set, TRAIN, 15, on_epoch, &p, &err) == 0, "%s",
      err.message);
  CHECK (p.last < 0.5 * p.first, "loss %d lambda %g: reconstruction %g -> %g did not halve",
      (int) loss, lambda, p.first, p.last);
  float scores[TEST];
  REQUIRE (decent_model_score (m, test_set, TEST, scores, NULL, &err) == 0, "%s", err.message);
  double auc = decent_auroc (scores, labels, TEST);
  DecentLossTerms t;
  REQUIRE (decent_model_train_step (m, train_set, 64, &t, &err) == 0, "%s", err.message);
  DecentInfo info;
  decent_model_describe (m, &info);
  *spread = info.latent_dim - t.decentral; /* mean squared latent norm */
  printf ("loss (%d), lambda %g: AUROC %.4f, reconstruction %.4f -> %.4f, latent spread %.1f of %d\n",
      (int) loss, lambda, auc, p.first, p.last, *spread, info.latent_dim);
  decent_model_free (m);
  return auc;
}

/* Training that runs out of memory says so, and what to lower, instead
 * of naming the oneDNN primitive that could not be made: in a child whose
 * address space leaves 256 MiB, a 1024x1024 batch of 16.  Forked before
 * this process runs any OpenMP team (a child may not use the parent's). */
static void
out_of_memory_is_said (void)
{
#ifdef UNDER_ASAN
  fprintf (stderr, "out of memory: not checked under AddressSanitizer\n");
#else
  const pid_t pid = fork ();
  REQUIRE (pid >= 0, "fork");
  if (pid == 0) {
    enum { N = 16, SIDE = 1024 };
    uint8_t *frames = calloc ((size_t) N * SIDE * SIDE, 1);
    long pages = 0;
    FILE *f = fopen ("/proc/self/statm", "r");
    if (!frames || !f || fscanf (f, "%ld", &pages) != 1)
      _exit (4);
    fclose (f);
    const rlim_t room = (rlim_t) pages * (rlim_t) sysconf (_SC_PAGESIZE) + ((rlim_t) 256 << 20);
    const struct rlimit limit = { room, room };
    DecentError err = { { 0 } };
    /* one thread: the threads' stacks of a many-core machine would take
     * the room themselves (libgomp fails to start them) */
    if (decent_set_threads (1, &err) != 0 || setrlimit (RLIMIT_AS, &limit) != 0)
      _exit (4);
    DecentConfig cfg;
    decent_config_init (&cfg, SIDE, SIDE, 1);
    cfg.device = DECENT_DEVICE_CPU;
    cfg.latent_side = 0;
    cfg.base_channels = 8;
    cfg.max_channels = 16;
    cfg.batch_size = N;
    DecentModel *m = decent_model_new (&cfg, &err);
    const int rc = m ? decent_model_train (m, frames, N, 1, NULL, NULL, &err) : -1;
    fprintf (stderr, "out of memory: %s\n", rc < 0 ? err.message : "trained");
    _exit (rc < 0 && strstr (err.message, "out of memory") && strstr (err.message, "batch-size")
        ? 0 : rc < 0 ? 2 : 3);
  }
  int status = 0;
  REQUIRE (waitpid (pid, &status, 0) == pid, "waitpid");
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "training within 256 MiB: exit %d "
      "(2: another message, 3: it trained, 4: no limit set; the message is above)",
      WIFEXITED (status) ? WEXITSTATUS (status) : -1);
#endif
}

int
main (void)
{
  out_of_memory_is_said ();
  uint64_t s = 1234;
  for (int i = 0; i < TRAIN; i++)
    tu_make_image (train_set + i * W * H, W, H, 0, &s);
  for (int i = 0; i < TEST; i++) {
    labels[i] = i % 2;
    tu_make_image (test_set + i * W * H, W, H, labels[i], &s);
  }
  double spread_plain, spread13, spread9;
  double auc13 = train_and_score (DECENT_LOSS_DECENTRALIZATION, 0.01f, &spread13);
  double auc9 = train_and_score (DECENT_LOSS_CENTRE, 0.01f, &spread9);
  double auc0 = train_and_score (DECENT_LOSS_DECENTRALIZATION, 0.0f, &spread_plain);
  CHECK (auc13 > 0.9, "loss 13 AUROC %.4f", auc13);
  CHECK (auc9 > 0.9, "loss 9 AUROC %.4f", auc9);
  CHECK (auc0 > 0.9, "plain autoencoder AUROC %.4f", auc0);
  CHECK (spread13 > spread_plain, "decentralization did not spread the latents: %.2f vs %.2f",
      spread13, spread_plain);

  /* threads: per calling thread; one thread scores as all of them do */
  DecentConfig cfg;
  DecentError err = { { 0 } };
  decent_config_init (&cfg, W, H, 1);
  cfg.device = DECENT_DEVICE_CPU;
  DecentModel *m = decent_model_new (&cfg, &err);
  REQUIRE (m, "%s", err.message);
  float all[TEST], one[TEST];
  REQUIRE (decent_set_threads (2, &err) == 0 && decent_get_threads () == 2, "%s", err.message);
  REQUIRE (decent_model_score (m, test_set, TEST, all, NULL, &err) == 0, "%s", err.message);
  REQUIRE (decent_set_threads (1, &err) == 0 && decent_get_threads () == 1, "%s", err.message);
  REQUIRE (decent_model_score (m, test_set, TEST, one, NULL, &err) == 0, "%s", err.message);
  double worst = 0;
  for (int i = 0; i < TEST; i++)
    worst = fmax (worst, fabs (one[i] - all[i]) / fmax (fabs (all[i]), 1e-12));
  CHECK (worst < 1e-5, "1 thread against 2: scores differ by %g (relative)", worst);
  CHECK (decent_set_threads (-1, &err) < 0 && strstr (err.message, "threads"), "threads -1: %s",
      err.message);
  CHECK (decent_get_threads () == 1, "a refused setting changed it: %d", decent_get_threads ());
  /* (100000 threads overflowed OpenMP's stacks at the next call) */
  CHECK (decent_set_threads (DECENT_MAX_THREADS + 1, &err) < 0 && strstr (err.message, "1024"),
      "threads 1025: %s", err.message);
  CHECK (decent_get_threads () == 1, "a refused setting changed it: %d", decent_get_threads ());
  /* 0: OMP_NUM_THREADS where it names a count (a limit the user set), else
   * one per core */
  unsetenv ("OMP_NUM_THREADS");
  REQUIRE (decent_set_threads (0, &err) == 0, "%s", err.message);
  const int per_core = decent_get_threads ();
  CHECK (per_core >= 1, "threads 0: %d", per_core);
  setenv ("OMP_NUM_THREADS", "1", 1);
  REQUIRE (decent_set_threads (0, &err) == 0, "%s", err.message);
  CHECK (decent_get_threads () == 1, "threads 0 with OMP_NUM_THREADS=1: %d",
      decent_get_threads ());
  setenv ("OMP_NUM_THREADS", "3,1", 1);
  REQUIRE (decent_set_threads (0, &err) == 0, "%s", err.message);
  CHECK (decent_get_threads () == 3, "threads 0 with OMP_NUM_THREADS=3,1: %d",
      decent_get_threads ());
  setenv ("OMP_NUM_THREADS", "many", 1);
  REQUIRE (decent_set_threads (0, &err) == 0, "%s", err.message);
  CHECK (decent_get_threads () == per_core, "threads 0 with OMP_NUM_THREADS=many: %d, not %d",
      decent_get_threads (), per_core);
  setenv ("OMP_NUM_THREADS", "2", 1); /* as meson test sets it */
  decent_model_free (m);
  return tu_finish ("train");
}
