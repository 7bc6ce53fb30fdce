/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sharedengine.h — one loaded model and one scoring thread for all the
 * decentanomaly elements of a process that name the same model-instance-id:
 * the weights are in memory once, and the frames of all sharers are scored
 * together in batches of up to batch-size, the scheduler waiting at most
 * batch-timeout for a batch to fill.  Every caller blocks until its own
 * frame is scored, so each stream's results come back to it, in order. */
#ifndef DECENT_SHARED_ENGINE_H
#define DECENT_SHARED_ENGINE_H

#include <glib.h>

#include "decent.h"

#define DECENT_SHARED_MAX_BATCH 64

#define DECENT_SHARED_MAX_TIMEOUT_US 1000000

typedef struct _DecentSharedEngine DecentSharedEngine;
/* One element's place at an engine. */
typedef struct _DecentSharer DecentSharer;
/* One model the engine has loaded, reference-counted: a sharer keeps the
 * one it adopted (geometry, calibration) until it adopts the next. */
typedef struct _DecentSharedModel DecentSharedModel;

/* What an engine runs with: its first sharer's settings. */
typedef struct {
  guint batch_size;          /* 1..DECENT_SHARED_MAX_BATCH */
  guint64 batch_timeout_us;  /* 0..DECENT_SHARED_MAX_TIMEOUT_US */
  guint threads;             /* 0: one per core */
} DecentSharedSettings;

/* Joins the engine of id, starting it (loading path on device) when no
 * element uses the id yet; *settings are the ones asked for (clamped to
 * their ranges), and become the engine's when it is started here; the
 * engine's go back in *settings.  NULL with the reason in *why (caller
 * frees): an empty id or path, an id in use with another model file (the
 * one it was started with, or the one a hot reload put in its place) or
 * device setting, a model that does not load, a thread that cannot start. */
DecentSharer *decent_shared_engine_join (const gchar *id, const gchar *path,
    DecentDevice device, DecentSharedSettings *settings, gchar **why);
/* Leaves (the sharer must have no frame waiting); the last to leave stops
 * the scheduler and frees the model. */
void decent_sharer_leave (DecentSharer *sharer);

/* Whether this sharer's stream is still sending frames: cleared at its end
 * of stream.  The scheduler waits for the frames of the sharers that
 * stream, have queued a frame in the last second and score from other
 * threads than each other: a finished, paused or stalled stream, or two
 * sharers chained in one streaming thread, do not hold every batch back
 * for batch-timeout. */
void decent_sharer_set_streaming (DecentSharer *sharer, gboolean streaming);

/* The model scoring now (a new reference). */
DecentSharedModel *decent_sharer_current (DecentSharer *sharer);
/* Replaces the model for every sharer (a hot reload); takes model.  Each
 * sharer adopts it before its next frame; a frame queued for the old model
 * comes back DECENT_SHARED_STALE, to be scored again. */
void decent_sharer_replace (DecentSharer *sharer, DecentModel *model, const gchar *path);

/* For read-only uses (geometry, calibration, describing it): scoring goes
 * through decent_sharer_score only, on the scheduler's thread. */
DecentModel *decent_shared_model_get (DecentSharedModel *model);
const gchar *decent_shared_model_path (DecentSharedModel *model);
DecentSharedModel *decent_shared_model_ref (DecentSharedModel *model);
void decent_shared_model_unref (DecentSharedModel *model);

typedef enum {
  DECENT_SHARED_SCORED,
  DECENT_SHARED_STALE,  /* the engine's model is no longer `as`: adopt the current one */
  DECENT_SHARED_FAILED, /* reason in err */
} DecentSharedResult;

/* Scores one frame at the geometry of `as` (packed bytes, as
 * decent_frame_path_to_model gives them) in mode: *score and map (width *
 * height) get that mode's score and map, as decent_model_score and
 * decent_model_score_map give them.  Blocks until its batch has run (at
 * most batch-timeout plus the batch's scoring). */
DecentSharedResult decent_sharer_score (DecentSharer *sharer, DecentSharedModel *as,
    const guint8 *pixels, DecentScoreMode mode, float *score, float *map, DecentError *err);

/* Batches run and frames scored so far by this sharer's engine. */
void decent_sharer_counts (DecentSharer *sharer, guint64 *batches, guint64 *frames);

#endif
