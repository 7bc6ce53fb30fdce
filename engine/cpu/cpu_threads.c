/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpu_threads.c — decent_set_threads: how many OpenMP threads the CPU
 * backend (oneDNN runs on the same OpenMP) and the engine's own loops use
 * for calls from the calling thread.  OpenMP keeps the setting per thread,
 * so an element sets it in its own streaming thread. */
#include "decent.h"
#include "error.h"

#include <omp.h>
#include <stdlib.h>

/* 0's count: OMP_NUM_THREADS's first number where it names one (a user who
 * limits OpenMP so means it: one thread forced up to one per core then
 * spun idle on the other core, and two such processes on two cores scored
 * 6 times slower), else one per core.  Read from the environment, not from
 * OpenMP: a reused streaming thread keeps another element's setting. */
static int
default_threads (void)
{
  const char *env = getenv ("OMP_NUM_THREADS");
  char *end = NULL;
  const long n = env ? strtol (env, &end, 10) : 0;
  if (env && end != env && (*end == '\0' || *end == ',') && n >= 1 && n <= DECENT_MAX_THREADS)
    return (int) n;
  return omp_get_num_procs ();
}

int
decent_set_threads (int n, DecentError *err)
{
  /* (OpenMP takes any count, and 100000 threads overflow its stacks) */
  if (n < 0 || n > DECENT_MAX_THREADS)
    return decent_fail (err, "threads must be 0 (OMP_NUM_THREADS, else one per core) to %d, "
        "not %d", DECENT_MAX_THREADS, n);
  omp_set_num_threads (n > 0 ? n : default_threads ());
  return 0;
}

int
decent_get_threads (void)
{
  return omp_get_max_threads ();
}
