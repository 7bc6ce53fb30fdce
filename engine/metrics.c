/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* metrics.c — AUROC by the Mann-Whitney rank statistic, ties averaged. */
#include "decent.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
  float score;
  uint8_t positive;
} Ranked;

static int
by_score (const void *a, const void *b)
{
  float x = ((const Ranked *) a)->score, y = ((const Ranked *) b)->score;
  return (x > y) - (x < y);
}

double
decent_auroc (const float *scores, const uint8_t *labels, size_t n)
{
  if (!scores || !labels || n == 0)
    return -1.0;
  /* a NaN has no rank (and no consistent order for qsort) */
  for (size_t i = 0; i < n; i++)
    if (isnan (scores[i]))
      return -1.0;
  Ranked *r = malloc (n * sizeof *r);
  if (!r)
    return -1.0;
  size_t pos = 0;
  for (size_t i = 0; i < n; i++) {
    r[i].score = scores[i];
    r[i].positive = labels[i] != 0;
    pos += r[i].positive;
  }
  size_t neg = n - pos;
  if (pos == 0 || neg == 0) {
    free (r);
    return -1.0;
  }
  qsort (r, n, sizeof *r, by_score);
  /* sum of the (1-based, tie-averaged) ranks of the positives */
  double rank_sum = 0.0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    size_t pos_in_tie = 0;
    while (j < n && r[j].score == r[i].score)
      pos_in_tie += r[j++].positive;
    double mean_rank = 0.5 * ((double) (i + 1) + (double) j);
    rank_sum += mean_rank * (double) pos_in_tie;
    i = j;
  }
  free (r);
  double u = rank_sum - 0.5 * (double) pos * (double) (pos + 1);
  return u / ((double) pos * (double) neg);
}
