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
 * one it adopted (geometry, calibration) until it adopts the next, and its
 * frames are scored with that one. */
typedef struct _DecentSharedModel DecentSharedModel;

/* What an engine runs with: its first sharer's settings. */
typedef struct {
  guint batch_size;          /* 1..DECENT_SHARED_MAX_BATCH */
  guint64 batch_timeout_us;  /* 0..DECENT_SHARED_MAX_TIMEOUT_US */
  guint threads;             /* 0: one per core */
} DecentSharedSettings;

/* Called, under the engine's lock, when a reload is asked for or put in
 * place (decent_sharer_reload_ticket), for every sharer (paused ones too):
 * it may only take locks that are never held while calling into the engine
 * (an element's object lock), and must not call into the engine. */
typedef void (*DecentSharerRenamed) (gpointer data, const gchar *path);

/* Joins the engine of id, starting it (loading path on device) when no
 * element uses the id yet; sharers that start while it loads wait for that
 * load.  *settings are the ones asked for (clamped to their ranges), and
 * become the engine's when it is started here; the engine's go back in
 * *settings.  A sharer must name the same device (auto counting as what it
 * resolves to) and a file the engine has scored with (the first, or one a
 * hot reload brought: a sharer that missed a reload joins on the current
 * model) or one a reload asked for (it renamed the sharers, a stopped one
 * too, even when it failed: that one joins on the current model).  renamed
 * (may be NULL) is this sharer's from the moment it is one, so that no
 * reload asked for by another sharer meanwhile goes unnamed.  NULL with
 * the reason in *why (caller frees). */
DecentSharer *decent_shared_engine_join (const gchar *id, const gchar *path,
    DecentDevice device, DecentSharedSettings *settings, DecentSharerRenamed renamed,
    gpointer renamed_data, gchar **why);
/* Leaves (the sharer must have no frame waiting); the last to leave stops
 * the scheduler and frees the model. */
void decent_sharer_leave (DecentSharer *sharer);

/* Whether this sharer's stream is still sending frames: cleared at its end
 * of stream, set again by its next frame (decent_sharer_score).  The scheduler waits only for sharers that stream, have
 * queued a frame in the last second, usually queue again within
 * batch-timeout, have not let a wait run out since they last came while
 * other frames waited, and score from other threads than each other: a
 * finished, paused, slow or stalled stream, sharers that take turns, or two
 * sharers chained in one streaming thread, do not hold every batch back. */
void decent_sharer_set_streaming (DecentSharer *sharer, gboolean streaming);

/* While hurry is set (a flush, or a stop, of this sharer's stream), a
 * frame of it that waits for others' is scored with what is queued, at
 * once: its streaming thread must return for the flush or stop to go on,
 * not after up to batch-timeout.  Any thread; cleared by the caller (at
 * flush-stop). */
void decent_sharer_hurry (DecentSharer *sharer, gboolean hurry);

/* The device the engine's models run on (auto resolved at its start). */
DecentDevice decent_sharer_device (DecentSharer *sharer);

/* The model scoring now (a new reference). */
DecentSharedModel *decent_sharer_current (DecentSharer *sharer);
/* Whether sharer is the engine's only one (no other has joined and not left). */
gboolean decent_sharer_alone (DecentSharer *sharer);
/* A hot reload for every sharer: take a ticket when it is asked for, hand
 * the loaded model in with it.  Tickets are numbered across all sharers, so
 * the reload asked for last wins whichever load ends last: replace takes the
 * model and returns TRUE, or frees it and returns FALSE when a later ticket
 * was applied already.  Each sharer adopts the new model before its next
 * frame.  Taking a ticket renames every sharer to path at once (their
 * DecentSharerRenamed), in ticket order: should the load fail or a stop cut
 * it short, all of them still name the file asked for last, and start
 * again together on it, or fail for its own reason.  A reload asked for
 * before the last one and ending after it puts its model in place and
 * renames only the sharers that joined since the last was asked for,
 * naming another file than it (the others keep naming the last). */
guint64 decent_sharer_reload_ticket (DecentSharer *sharer, const gchar *path);

/* The file a sharer that joined naming path is to name now (g_free it):
 * the file of the last reload asked for when it names that one, or when
 * that reload is still loading or failed (it joined on the model in use,
 * and names what every other sharer names); else the model in use's file,
 * path itself unless it missed a reload that was put in place. */
gchar *decent_sharer_name_to_take (DecentSharer *sharer, const gchar *path);
gboolean decent_sharer_replace (DecentSharer *sharer, DecentModel *model, const gchar *path,
    guint64 ticket);

/* For read-only uses (geometry, calibration, describing it): scoring goes
 * through decent_sharer_score only, on the scheduler's thread. */
DecentModel *decent_shared_model_get (DecentSharedModel *model);
const gchar *decent_shared_model_path (DecentSharedModel *model);
void decent_shared_model_unref (DecentSharedModel *model);
/* The companion model's file carries, built on device by the first sharer
 * that asks and kept with model for every sharer (NULL with the reason in
 * err when it cannot be built: asked again, it is tried again).  It lives as
 * long as model; *lock must be held while it scores. */
DecentModel *decent_shared_model_companion (DecentSharedModel *model, DecentDevice device,
    GMutex **lock, DecentError *err);

/* Scores one frame with `as` (the model the sharer adopted), at its
 * geometry (packed bytes, as decent_frame_path_to_model gives them), in
 * mode: *score and map (width * height) get that mode's score and map, as
 * decent_model_score and decent_model_score_map give them.  Blocks until
 * its batch has run (after at most batch-timeout of waiting for other
 * sharers, and the batches ahead of it).  FALSE with the reason in err. */
gboolean decent_sharer_score (DecentSharer *sharer, DecentSharedModel *as,
    const guint8 *pixels, DecentScoreMode mode, float *score, float *map, DecentError *err);

/* Whether two paths name the same file (links and relative paths resolved). */
gboolean decent_shared_same_file (const gchar *a, const gchar *b);

#endif
