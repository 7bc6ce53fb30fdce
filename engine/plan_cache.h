/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plan_cache.h — the backends' one cache of plans.  A plan is what a
 * backend builds for a batch size and a mode (training or scoring):
 * primitives, descriptors and buffers, costly to make, so a few are kept
 * and the least recently used one goes when another is needed. */
#ifndef DECENT_PLAN_CACHE_H
#define DECENT_PLAN_CACHE_H

#include <stdint.h>

#include "error.h"

#define DECENT_PLAN_CACHE_SIZE 4

typedef struct {
  /* A new plan for n images in that mode, or NULL with a reason. */
  void *(*create) (void *owner, int n, int training, DecentError *err);
  void (*destroy) (void *owner, void *plan);
  /* Optional: nonzero while the plan has work in flight, which keeps it. */
  int (*in_flight) (void *owner, const void *plan);
  /* Optional: waits for the device before a plan is destroyed. */
  void (*drain) (void *owner);
} DecentPlanOps;

typedef struct {
  void *plan[DECENT_PLAN_CACHE_SIZE];
  int n[DECENT_PLAN_CACHE_SIZE], training[DECENT_PLAN_CACHE_SIZE];
  uint64_t last_used[DECENT_PLAN_CACHE_SIZE], clock;
} DecentPlanCache;

/* The plan for (n, training): cached, or created in a free place or in
 * place of the least recently used plan with nothing in flight. */
void *decent_plan_cache_get (DecentPlanCache *c, const DecentPlanOps *ops, void *owner, int n,
                             int training, DecentError *err);
/* The cached plan for (n, training), or NULL; creates nothing. */
void *decent_plan_cache_find (const DecentPlanCache *c, int n, int training);
/* Destroys every plan. */
void decent_plan_cache_clear (DecentPlanCache *c, const DecentPlanOps *ops, void *owner);

#endif
