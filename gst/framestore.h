/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* framestore.h — decent-train's collected frames as one block of memory:
 * grown within a limit without aborting, split into training frames and
 * held-out blocks in time, and cut into the runs the still gate is
 * calibrated on. */
#ifndef DECENT_FRAMESTORE_H
#define DECENT_FRAMESTORE_H

#include <glib.h>

/* A run of collected frames that the still gate calibrates on as footage
 * of its own: the pictures start again at its first frame, and the
 * running mean too when a new stream began since the run before. */
typedef struct {
  guint first;
  int frames;
  gboolean new_stream;
} DecentStillRun;

/* An empty GArray of DecentStillRun. */
GArray *decent_still_runs_new (void);

/* Appends to runs (in time order) the runs of collected frames
 * [first, first + len), cut where a new stream began (stream_starts:
 * guint frame numbers, ascending; may be NULL). */
void decent_still_runs_append (GArray *runs, guint first, guint len,
    const GArray *stream_starts);

/* Room for frame n + 1 of fb bytes in *frames (*capacity bytes), within
 * limit bytes.  FALSE when memory is short (never an abort). */
gboolean decent_frames_reserve (guint8 **frames, gsize *capacity, guint n, gsize fb,
    guint64 limit);

/* Moves about holdout * n of the n frames (fb bytes each) behind the
 * others, in `blocks` contiguous blocks of time, each part kept in time
 * order; runs (emptied first) gets the held-out blocks as still-gate runs
 * (the whole footage when none is held out).  Returns how many are held
 * out: 0 when fewer than 2 training frames would remain. */
guint decent_frames_split_held_out (guint8 *frames, gsize fb, guint n, gdouble holdout,
    guint blocks, const GArray *stream_starts, GArray *runs);

#endif
