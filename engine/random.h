/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* random.h — the engine's random numbers (splitmix64): reproducible from a
 * seed on every machine, for initial weights, shuffling and augmentation. */
#ifndef DECENT_RANDOM_H
#define DECENT_RANDOM_H

#include <stdint.h>

static inline uint64_t
rng_next (uint64_t *s)
{
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static inline double
rng_uniform (uint64_t *s) /* in (0, 1) */
{
  return ((rng_next (s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

#endif
