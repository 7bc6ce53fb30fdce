/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plan_cache.c — see plan_cache.h. */
#include "plan_cache.h"

#include <stddef.h>

void *
decent_plan_cache_find (const DecentPlanCache *c, int n, int training)
{
  for (int i = 0; i < DECENT_PLAN_CACHE_SIZE; i++)
    if (c->plan[i] && c->n[i] == n && c->training[i] == training)
      return c->plan[i];
  return NULL;
}

void *
decent_plan_cache_get (DecentPlanCache *c, const DecentPlanOps *ops, void *owner, int n,
    int training, DecentError *err)
{
  int slot = -1;
  for (int i = 0; i < DECENT_PLAN_CACHE_SIZE; i++) {
    if (c->plan[i] && c->n[i] == n && c->training[i] == training) {
      c->last_used[i] = ++c->clock;
      return c->plan[i];
    }
    if (!c->plan[i] && slot < 0)
      slot = i;
  }
  if (slot < 0) { /* evict the least recently used plan with nothing in flight */
    for (int i = 0; i < DECENT_PLAN_CACHE_SIZE; i++) {
      if (ops->in_flight && ops->in_flight (owner, c->plan[i]))
        continue;
      if (slot < 0 || c->last_used[i] < c->last_used[slot])
        slot = i;
    }
    if (slot < 0) {
      decent_fail (err, "every plan has work in flight");
      return NULL;
    }
    if (ops->drain)
      ops->drain (owner);
    ops->destroy (owner, c->plan[slot]);
    c->plan[slot] = NULL;
  }
  void *p = ops->create (owner, n, training, err);
  if (!p)
    return NULL;
  c->plan[slot] = p;
  c->n[slot] = n;
  c->training[slot] = training;
  c->last_used[slot] = ++c->clock;
  return p;
}

void
decent_plan_cache_clear (DecentPlanCache *c, const DecentPlanOps *ops, void *owner)
{
  for (int i = 0; i < DECENT_PLAN_CACHE_SIZE; i++) {
    if (c->plan[i])
      ops->destroy (owner, c->plan[i]);
    c->plan[i] = NULL;
  }
}
