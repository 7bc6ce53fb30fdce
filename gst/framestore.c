/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* framestore.c — decent-train's collected frames (see framestore.h). */
#include "framestore.h"

#include <string.h>

GArray *
decent_still_runs_new (void)
{
  return g_array_new (FALSE, FALSE, sizeof (DecentStillRun));
}

/* Appends to runs (DecentStillRun, in time order) the runs of collected frames
 * [first, first + len): cut where a new stream began (stream_starts,
 * ascending), as decentanomaly's gate starts again at a stream-start: a
 * picture of one recording is no history for the next one's, the jump
 * between them would raise the gate's threshold, and the running mean of
 * one recording is not where the next one's begins. */
void
decent_still_runs_append (GArray *runs, guint first, guint len, const GArray *stream_starts)
{
  g_return_if_fail (runs != NULL && g_array_get_element_size (runs) == sizeof (DecentStillRun));
  /* a stream that began between the last run and this one */
  const DecentStillRun *last = runs->len ? &g_array_index (runs, DecentStillRun, runs->len - 1) : NULL;
  DecentStillRun run = { first, 0, FALSE };
  for (guint i = 0; last && stream_starts && i < stream_starts->len; i++) {
    const guint start = g_array_index (stream_starts, guint, i);
    run.new_stream |= start >= last->first + (guint) last->frames && start <= first;
  }
  for (guint i = 0; stream_starts && i < stream_starts->len; i++) {
    const guint start = g_array_index (stream_starts, guint, i);
    if (start > run.first && start < first + len) {
      run.frames = (int) (start - run.first);
      g_array_append_val (runs, run);
      run = (DecentStillRun) { start, 0, TRUE };
    }
  }
  run.frames = (int) (first + len - run.first);
  g_array_append_val (runs, run);
}

/* Room for frame n + 1 of fb bytes in *frames (*capacity bytes), within
 * limit bytes; grows by doubling (glibc remaps a large block rather than
 * copying it).  FALSE when memory is short: g_try_realloc, never an abort. */
gboolean
decent_frames_reserve (guint8 **frames, gsize *capacity, guint n, gsize fb, guint64 limit)
{
  g_return_val_if_fail (frames != NULL && capacity != NULL && fb > 0, FALSE);
  g_return_val_if_fail ((guint64) n < G_MAXSIZE / fb, FALSE);
  const gsize used = (gsize) n * fb;
  if (used + fb <= *capacity)
    return TRUE;
  guint64 want = MAX ((guint64) *capacity * 2, (guint64) 1 << 20);
  want = MIN (want, MIN (limit, (guint64) G_MAXSIZE));
  want = MAX (want, (guint64) used + fb);
  guint8 *grown = g_try_realloc (*frames, (gsize) want);
  if (!grown && want > used + fb) {
    want = used + fb; /* no room to spare: exactly one more */
    grown = g_try_realloc (*frames, (gsize) want);
  }
  if (!grown)
    return FALSE;
  *frames = grown;
  *capacity = (gsize) want;
  return TRUE;
}

/* Swaps two frames through a small buffer: no frame-sized allocation. */
static void
swap_frames (guint8 *a, guint8 *b, gsize fb)
{
  guint8 tmp[4096];
  for (gsize off = 0; off < fb; off += sizeof tmp) {
    gsize len = MIN (sizeof tmp, fb - off);
    memcpy (tmp, a + off, len);
    memcpy (a + off, b + off, len);
    memcpy (b + off, tmp, len);
  }
}

/* The held-out footage: about holdout * n frames in `blocks` contiguous
 * blocks, block b ending segment b of `blocks` equal segments, so that no
 * held-out frame sits between two training frames (a threshold from frames
 * a tenth of a second from training frames is too low for new footage).
 * Moves them behind the training frames, in place (the store may be
 * gigabytes), each part kept in time order: the still gate is calibrated
 * on the held-out blocks as footage.  runs (DecentStillRun; emptied first) gets
 * the blocks, each cut where a stream began (decent_still_runs_append); of
 * the whole footage when none is held out.  Returns how many are held out:
 * 0 when fewer than 2 training frames would remain. */
guint
decent_frames_split_held_out (guint8 *frames, gsize fb, guint n, gdouble holdout, guint blocks,
    const GArray *stream_starts, GArray *runs)
{
  g_return_val_if_fail (runs != NULL && (frames != NULL || n == 0) && fb > 0, 0);
  holdout = holdout > 0 ? MIN (holdout, 1.0) : 0.0; /* (NaN: none held out) */
  guint n_held = (guint) (holdout * n + 0.5);
  g_array_set_size (runs, 0);
  if (holdout <= 0 || n_held < 1 || n < n_held + 2) {
    decent_still_runs_append (runs, 0, n, stream_starts);
    return 0;
  }
  blocks = CLAMP (blocks, 1, n_held);
  guint8 *held = g_malloc0 (n);
  for (guint b = 0; b < blocks; b++) {
    const guint seg_end = (guint) ((guint64) (b + 1) * n / blocks);
    const guint h = (guint) ((guint64) (b + 1) * n_held / blocks - (guint64) b * n_held / blocks);
    for (guint i = seg_end - h; i < seg_end; i++)
      held[i] = 1;
    decent_still_runs_append (runs, seg_end - h, h, stream_starts);
  }
  /* blocks never overlap for holdout <= 0.5 (the property's range); were
   * they to, the permutation below would not be one: one block instead */
  guint marked = 0;
  for (guint i = 0; i < n; i++)
    marked += held[i];
  if (marked != n_held) {
    memset (held, 0, n);
    memset (held + n - n_held, 1, n_held);
    g_array_set_size (runs, 0);
    decent_still_runs_append (runs, n - n_held, n_held, stream_starts);
  }
  /* where each frame goes: training frames first, then the held-out ones */
  const guint n_train = n - n_held;
  guint *dest = g_new (guint, n);
  for (guint i = 0, t = 0, k = n_train; i < n; i++)
    dest[i] = held[i] ? k++ : t++;
  /* each cycle of that permutation with one frame of scratch */
  guint8 *carry = g_malloc (fb);
  for (guint i = 0; i < n; i++) {
    if (dest[i] == i)
      continue;
    memcpy (carry, frames + (gsize) i * fb, fb);
    for (guint j = i;;) {
      const guint d = dest[j];
      dest[j] = j;
      if (d == i) {
        memcpy (frames + (gsize) i * fb, carry, fb);
        break;
      }
      swap_frames (carry, frames + (gsize) d * fb, fb);
      j = d;
    }
  }
  g_free (carry);
  g_free (dest);
  g_free (held);
  return n_held;
}

