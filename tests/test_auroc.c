/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AUROC against cases worked out by hand, ties included. */
#include "decent.h"
#include "testutil.h"

static void
expect (const float *s, const uint8_t *l, size_t n, double want, const char *what)
{
  double got = decent_auroc (s, l, n);
  CHECK (fabs (got - want) < 1e-12, "%s: AUROC %.15g, want %.15g", what, got, want);
}

int
main (void)
{
  float s1[] = { 0.1f, 0.2f, 0.3f, 0.4f };
  uint8_t l1[] = { 0, 0, 1, 1 };
  expect (s1, l1, 4, 1.0, "perfect");
  uint8_t l2[] = { 1, 1, 0, 0 };
  expect (s1, l2, 4, 0.0, "reversed");
  uint8_t l3[] = { 0, 1, 0, 1 };
  /* positives 0.2, 0.4 vs negatives 0.1, 0.3: pairs won 1 + 2 of 4 */
  expect (s1, l3, 4, 0.75, "interleaved");
  float s4[] = { 0.5f, 0.5f, 0.5f, 0.5f };
  expect (s4, l3, 4, 0.5, "all tied");
  float s5[] = { 0.1f, 0.5f, 0.5f, 0.9f };
  uint8_t l5[] = { 0, 0, 1, 1 };
  /* pairs: (0.5+ vs 0.1) 1, (0.5+ vs 0.5) 0.5, (0.9 vs both) 2 -> 3.5 / 4 */
  expect (s5, l5, 4, 0.875, "one tie across classes");
  float s6[] = { 3, 1, 2, 2, 5, 0 };
  uint8_t l6[] = { 1, 0, 1, 0, 1, 0 };
  /* positives 3, 2, 5; negatives 1, 2, 0: 3 beats 3, 2 beats 2 and ties 1, 5 beats 3 -> 8.5/9 */
  expect (s6, l6, 6, 8.5 / 9.0, "unsorted with a tie");
  CHECK (decent_auroc (s1, l1, 0) < 0, "empty input");
  uint8_t none[] = { 0, 0, 0, 0 };
  CHECK (decent_auroc (s1, none, 4) < 0, "no positives");
  /* a NaN has no rank: refused (the tie loop never moved past it) */
  float s7[] = { NAN, 1.0f };
  uint8_t l7[] = { 1, 0 };
  CHECK (decent_auroc (s7, l7, 2) < 0, "a NaN score");
  float s8[] = { INFINITY, 1.0f, -INFINITY };
  uint8_t l8[] = { 1, 0, 0 };
  expect (s8, l8, 3, 1.0, "infinities rank as the largest and smallest");
  return tu_finish ("auroc");
}
