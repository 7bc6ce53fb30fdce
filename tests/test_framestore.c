/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decent-train's frame store (gst/framestore.c): the held-out split keeps
 * every frame, puts the training frames first and the held-out blocks
 * after them, each in time order, ends block b at segment b's end, and
 * cuts the still-gate runs where a stream began; the store grows by
 * doubling up to its limit. */
#include <math.h>
#include <string.h>

#include "framestore.h"
#include "testutil.h"

#define FB 7 /* bytes a frame: odd, so that nothing lines up by chance */

/* n frames, frame i filled with i (as a 32-bit number, then its low byte). */
static guint8 *
numbered_frames (guint n)
{
  guint8 *f = g_malloc ((gsize) n * FB);
  for (guint i = 0; i < n; i++) {
    memcpy (f + (gsize) i * FB, &i, sizeof i);
    memset (f + (gsize) i * FB + sizeof i, (int) (i & 0xff), FB - sizeof i);
  }
  return f;
}

static guint
number_of (const guint8 *f, guint k)
{
  guint i;
  memcpy (&i, f + (gsize) k * FB, sizeof i);
  for (guint b = sizeof i; b < FB; b++)
    CHECK (f[(gsize) k * FB + b] == (i & 0xff), "frame %u torn", k);
  return i;
}

static void
check_split (guint n, double holdout, guint blocks)
{
  guint8 *f = numbered_frames (n);
  GArray *runs = decent_still_runs_new ();
  const guint held = decent_frames_split_held_out (f, FB, n, holdout, blocks, NULL, runs);
  const guint want = (guint) (holdout * n + 0.5);
  CHECK (held == (n >= want + 2 ? want : 0), "n %u holdout %g: %u held out", n, holdout, held);
  /* every frame once, each part in time order */
  guint8 *seen = g_malloc0 (n);
  for (guint k = 0; k < n; k++) {
    const guint i = number_of (f, k);
    CHECK (i < n && !seen[i], "n %u: frame %u twice or out of range", n, i);
    seen[i] = 1;
    if (k > 0 && k != n - held)
      CHECK (number_of (f, k - 1) < i, "n %u holdout %g blocks %u: order broken at %u", n,
          holdout, blocks, k);
  }
  g_free (seen);
  if (held == 0) {
    CHECK (runs->len == 1 && g_array_index (runs, DecentStillRun, 0).frames == (int) n,
        "n %u: the whole footage is one run", n);
  } else {
    /* the runs are the held-out blocks: contiguous in time, block b ending
     * segment b, their frames exactly the held-out ones in order */
    const guint nb = MIN (blocks, held);
    CHECK (runs->len == nb, "n %u held %u blocks %u: %u runs", n, held, blocks, runs->len);
    guint k = n - held;
    for (guint b = 0; b < runs->len; b++) {
      const DecentStillRun *r = &g_array_index (runs, DecentStillRun, b);
      CHECK (r->first + (guint) r->frames == (guint) ((guint64) (b + 1) * n / nb),
          "n %u: block %u ends at %u", n, b, r->first + r->frames);
      for (int j = 0; j < r->frames; j++, k++)
        CHECK (number_of (f, k) == r->first + (guint) j, "n %u: block %u frame %d", n, b, j);
    }
    CHECK (k == n, "n %u: the runs hold %u of %u held-out frames", n, k - (n - held), held);
  }
  g_array_unref (runs);
  g_free (f);
}

static void
splits_keep_every_frame (void)
{
  const guint sizes[] = { 0, 1, 2, 3, 4, 10, 11, 57, 400, 1001 };
  const double holdouts[] = { 0, 0.05, 0.1, 0.2, 0.333, 0.5 };
  const guint blocks[] = { 1, 2, 3, 4, 7, 50 };
  for (guint a = 0; a < G_N_ELEMENTS (sizes); a++)
    for (guint b = 0; b < G_N_ELEMENTS (holdouts); b++)
      for (guint c = 0; c < G_N_ELEMENTS (blocks); c++)
        check_split (sizes[a], holdouts[b], blocks[c]);
}

/* A held-out block that spans a stream-start is two runs, the second
 * marked as a new stream; one that follows a stream-start in the gap
 * before it is marked too. */
static void
runs_cut_at_stream_starts (void)
{
  guint8 *f = numbered_frames (100);
  GArray *starts = g_array_new (FALSE, FALSE, sizeof (guint));
  const guint at[] = { 45, 85 };
  g_array_append_vals (starts, at, 2);
  GArray *runs = decent_still_runs_new ();
  /* 20 held out in 2 blocks: 40..49 and 90..99 */
  CHECK (decent_frames_split_held_out (f, FB, 100, 0.2, 2, starts, runs) == 20, "20 held out");
  const DecentStillRun want[] = { { 40, 5, FALSE }, { 45, 5, TRUE }, { 90, 10, TRUE } };
  CHECK (runs->len == G_N_ELEMENTS (want), "%u runs", runs->len);
  for (guint i = 0; i < runs->len && i < G_N_ELEMENTS (want); i++) {
    const DecentStillRun *r = &g_array_index (runs, DecentStillRun, i);
    CHECK (r->first == want[i].first && r->frames == want[i].frames
        && r->new_stream == want[i].new_stream, "run %u: %u+%d new %d", i, r->first,
        r->frames, r->new_stream);
  }
  g_array_unref (runs);
  g_array_unref (starts);
  g_free (f);
}

/* Not a number, or more than everything: nothing is held out. */
static void
hostile_holdouts (void)
{
  guint8 *f = numbered_frames (10);
  GArray *runs = decent_still_runs_new ();
  CHECK (decent_frames_split_held_out (f, FB, 10, NAN, 1, NULL, runs) == 0, "NaN");
  CHECK (decent_frames_split_held_out (f, FB, 10, 7.0, 1, NULL, runs) == 0, "7");
  CHECK (decent_frames_split_held_out (f, FB, 10, -1.0, 1, NULL, runs) == 0, "-1");
  for (guint k = 0; k < 10; k++)
    CHECK (number_of (f, k) == k, "frame %u moved", k);
  g_array_unref (runs);
  g_free (f);
}

/* Doubling from 1 MiB, never past the limit while a frame fits under it,
 * and exactly one more frame when the limit is reached. */
static void
reserve_grows_within_limit (void)
{
  guint8 *frames = NULL;
  gsize cap = 0;
  const gsize fb = 300000;
  const guint64 limit = 10 * fb;
  for (guint n = 0; n < 10; n++) {
    CHECK (decent_frames_reserve (&frames, &cap, n, fb, limit), "frame %u", n);
    CHECK (cap >= (gsize) (n + 1) * fb && cap <= limit, "frame %u: capacity %zu", n, cap);
    memset (frames + (gsize) n * fb, 1, fb); /* the room is there */
  }
  CHECK (cap == limit, "capacity %zu at the limit %" G_GUINT64_FORMAT, cap, limit);
  g_free (frames);
}

int
main (void)
{
  splits_keep_every_frame ();
  runs_cut_at_stream_starts ();
  hostile_holdouts ();
  reserve_grows_within_limit ();
  return tu_finish ("framestore");
}
