/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpu_threads.c — decent_set_threads: how many OpenMP threads the CPU
 * backend (oneDNN runs on the same OpenMP) and the engine's own loops use
 * for calls from the calling thread.  OpenMP keeps the setting per thread,
 * so an element sets it in its own streaming thread. */
#include "decent.h"
#include "error.h"

#include <omp.h>

int
decent_set_threads (int n, DecentError *err)
{
  /* (OpenMP takes any count, and 100000 threads overflow its stacks) */
  if (n < 0 || n > DECENT_MAX_THREADS)
    return decent_fail (err, "threads must be 0 (one per core) to %d, not %d",
        DECENT_MAX_THREADS, n);
  omp_set_num_threads (n > 0 ? n : omp_get_num_procs ());
  return 0;
}

int
decent_get_threads (void)
{
  return omp_get_max_threads ();
}
