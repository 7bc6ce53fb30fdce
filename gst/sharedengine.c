/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sharedengine.c — see sharedengine.h.  A process-wide table maps each
 * model-instance-id to its engine; an engine is a model and a scheduler
 * thread that takes the queued frames of all sharers, up to batch-size at
 * a time, and scores them in one call.  Only the scheduler's thread uses the
 * model's scoring state (its activations and score tables are not shared
 * between threads), so sharers never touch it. */
#include "sharedengine.h"

#include <gst/gst.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "shownname.h"

GST_DEBUG_CATEGORY_STATIC (decent_shared_debug);
#define GST_CAT_DEFAULT decent_shared_debug

struct _DecentSharedModel {
  gint ref;
  DecentModel *model;
  gchar *path;
  gsize frame_bytes; /* width * height * channels */
  gsize plane;       /* width * height */
  /* the companion the file carries, built once for every sharer (each
   * built its own: 23 MiB a stream, helper-74), scored under the lock */
  GMutex companion_lock;
  DecentModel *companion;
  gchar *companion_error;
};

typedef struct _Job Job;

/* A sharer counts for the batch size the scheduler waits for while it
 * streams and has queued a frame this recently. */
#define RECENT_US G_USEC_PER_SEC

struct _DecentSharer {
  DecentSharedEngine *engine;
  /* ---- the engine's lock ---- */
  gboolean streaming;
  gint64 last_queued_us;     /* 0: never */
  gint64 last_done_us;       /* when its last frame came back; 0: never */
  gint64 think_us;           /* how long it usually takes from a result to its next frame */
  GThread *last_thread;      /* the thread that queued its last frame */
  gboolean skipped;          /* a batch waited for it in vain: not waited for until it
                              * comes while other frames wait */
  DecentSharerRenamed renamed;
  gpointer renamed_data;
  gboolean hurry;            /* flushing or stopping: a batch with its frame runs at once */
  gboolean names_asked;      /* it names the file of the last reload asked for (renamed by
                              * its ticket, or named it at its join): a reload asked for
                              * before, ending after, does not rename it */
};

/* One frame waiting: lives on the sharer's stack while the sharer waits. */
struct _Job {
  DecentSharer *sharer;
  const guint8 *pixels;
  DecentSharedModel *as;     /* the sharer holds a reference while it waits */
  DecentScoreMode mode;
  float *score, *map;
  DecentError *err;
  gboolean ok, done;
  gint64 queued_us;
};

struct _DecentSharedEngine {
  /* ---- registry_lock ---- */
  gchar *id;
  DecentDevice device;       /* auto resolved */
  guint users;               /* joined, or waiting for the load */
  gboolean loading;          /* the first sharer loads the model (registry_cond) */
  gchar *load_error;         /* why that load failed */
  GHashTable *paths;         /* every model file scored with (canonical) */
  /* ---- set once by the first sharer ---- */
  guint batch_size;
  gint64 timeout_us;
  guint threads;
  GThread *thread;
  /* ---- lock ---- */
  GMutex lock;
  GCond work, done;
  GQueue queue;              /* of Job */
  GList *sharers;            /* of DecentSharer */
  DecentSharedModel *current;
  guint64 next_ticket, applied_ticket;
  gchar *asked;              /* the file of the last reload asked for (canonical); NULL: none */
  gchar *asked_as_given;     /* the same, as its sharers were renamed to it */
  GHashTable *named;         /* every file a reload asked for (canonical): sharers were
                              * renamed to it, stopped ones may start again naming it */
  gboolean quit;
  /* ---- scheduler thread only ---- */
  Job *batch[DECENT_SHARED_MAX_BATCH];
  guint8 *pixels;            /* the batch's frames, packed */
  float *scores, *maps;
  gsize capacity_bytes, capacity_plane;
};

static GMutex registry_lock;
static GCond registry_cond;  /* an engine's load ended */
static GHashTable *registry; /* id -> DecentSharedEngine */

static DecentSharedModel *
shared_model_new (DecentModel *model, const gchar *path)
{
  DecentConfig cfg;
  decent_model_get_config (model, &cfg);
  DecentSharedModel *m = g_new0 (DecentSharedModel, 1);
  m->ref = 1;
  m->model = model;
  m->path = g_strdup (path);
  m->plane = (gsize) cfg.width * cfg.height;
  m->frame_bytes = m->plane * cfg.channels;
  g_mutex_init (&m->companion_lock);
  return m;
}

static DecentSharedModel *
shared_model_ref (DecentSharedModel *m)
{
  g_atomic_int_inc (&m->ref);
  return m;
}

void
decent_shared_model_unref (DecentSharedModel *m)
{
  if (!m || !g_atomic_int_dec_and_test (&m->ref))
    return;
  decent_model_free (m->model);
  decent_model_free (m->companion);
  g_free (m->companion_error);
  g_mutex_clear (&m->companion_lock);
  g_free (m->path);
  g_free (m);
}

DecentModel *
decent_shared_model_companion (DecentSharedModel *m, DecentDevice device, GMutex **lock,
    DecentError *err)
{
  g_return_val_if_fail (m != NULL && lock != NULL && err != NULL, NULL);
  g_mutex_lock (&m->companion_lock);
  if (!m->companion) {
    /* tried again by each sharer after a failure, which may not last (a
     * device out of memory), as an element of its own would try again at
     * its next start (helper-75) */
    DecentError why = { { 0 } };
    /* (reads the file's companion bytes only, never changed: the
     * scheduler may score with m->model meanwhile) */
    m->companion = decent_model_companion_new (m->model, device, &why);
    g_free (m->companion_error);
    m->companion_error = m->companion ? NULL : g_strdup (why.message);
  }
  DecentModel *c = m->companion;
  if (!c)
    g_strlcpy (err->message, m->companion_error ? m->companion_error : "no companion",
        sizeof err->message);
  g_mutex_unlock (&m->companion_lock);
  *lock = &m->companion_lock;
  return c;
}

DecentModel *
decent_shared_model_get (DecentSharedModel *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  return m->model;
}

const gchar *
decent_shared_model_path (DecentSharedModel *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  return m->path;
}

/* Room for n frames of model m in the batch buffers; FALSE: out of memory. */
static gboolean
reserve_batch (DecentSharedEngine *e, const DecentSharedModel *m, guint n)
{
  const gsize bytes = m->frame_bytes * n, plane = m->plane * n;
  if (bytes > e->capacity_bytes) {
    guint8 *p = g_try_realloc (e->pixels, bytes);
    if (!p)
      return FALSE;
    e->pixels = p;
    e->capacity_bytes = bytes;
  }
  if (plane > e->capacity_plane) {
    float *maps = g_try_realloc (e->maps, plane * sizeof (float));
    if (!maps)
      return FALSE;
    e->maps = maps;
    e->capacity_plane = plane;
  }
  return TRUE;
}

/* Scores k jobs queued for model m, in calls of 1, 4, 16 or 64 frames: the
 * backend keeps a plan (its primitives and buffers) per batch size in a
 * cache of 4, and batches of every size from 1 to batch-size would rebuild
 * one at nearly every batch; a frame's score does not depend on the frames
 * beside it.  Scheduler thread, no lock. */
static void
score_group (DecentSharedEngine *e, DecentSharedModel *m, Job **jobs, guint k)
{
  if (!reserve_batch (e, m, k)) {
    for (guint i = 0; i < k; i++)
      decent_fail (jobs[i]->err, "out of memory for a batch of %u frames", k);
    return;
  }
  for (guint i = 0; i < k; i++)
    memcpy (e->pixels + i * m->frame_bytes, jobs[i]->pixels, m->frame_bytes);
  for (guint first = 0; first < k;) {
    guint chunk = 1;
    while (chunk * 4 <= k - first)
      chunk *= 4;
    DecentError err;
    err.message[0] = '\0';
    const gboolean ok = decent_model_score (m->model, e->pixels + first * m->frame_bytes,
        (int) chunk, e->scores + first, e->maps + first * m->plane, &err) == 0;
    for (guint i = first; i < first + chunk; i++) {
      Job *job = jobs[i];
      if (!ok) {
        if (job->err)
          *job->err = err;
        continue;
      }
      memcpy (job->map, e->maps + i * m->plane, m->plane * sizeof (float));
      *job->score = e->scores[i];
      /* the mean mode's score is decent_model_score's, as an element of its own gets it */
      job->ok = job->mode == DECENT_SCORE_MEAN
          || decent_model_score_map (m->model, job->mode, job->map, job->score, job->err) == 0;
    }
    first += chunk;
  }
}

/* Scores the n jobs of e->batch, each with the model its sharer adopted
 * (after a hot reload, a sharer may not have adopted the new one yet).
 * Scheduler thread, no lock. */
static void
run_batch (DecentSharedEngine *e, guint n)
{
  gboolean taken[DECENT_SHARED_MAX_BATCH] = { FALSE };
  Job *group[DECENT_SHARED_MAX_BATCH];
  for (guint i = 0; i < n; i++) {
    if (taken[i])
      continue;
    DecentSharedModel *m = e->batch[i]->as;
    guint k = 0;
    for (guint j = i; j < n; j++)
      if (!taken[j] && e->batch[j]->as == m) {
        group[k++] = e->batch[j];
        taken[j] = TRUE;
      }
    score_group (e, m, group, k);
  }
}

/* Whether s has a frame in the queue.  Lock held. */
static gboolean
has_queued (const DecentSharedEngine *e, const DecentSharer *s)
{
  for (const GList *l = e->queue.head; l; l = l->next)
    if (((const Job *) l->data)->sharer == s)
      return TRUE;
  return FALSE;
}

/* The longest that a sharer with a frame in the queue usually takes from a
 * result to its next frame.  Lock held. */
static gint64
queued_pace (const DecentSharedEngine *e)
{
  gint64 pace = 0;
  for (const GList *l = e->queue.head; l; l = l->next)
    pace = MAX (pace, ((const Job *) l->data)->sharer->think_us);
  return pace;
}

/* Whether the scheduler waits for this sharer's next frame: it streams
 * (and is not being flushed or stopped: decent_sharer_hurry), queued a
 * frame in the last RECENT_US, usually sends the next one within
 * batch-timeout of getting a result, and has not let a batch wait in vain
 * since it last came while other frames waited (sharers that take turns,
 * driven by one application thread, never come together).  And it is not
 * much slower than the sharers waiting (pace: queued_pace): a stream held
 * up downstream (a slow sink) would otherwise set the pace of every batch,
 * and a faster stream would fall ever further behind; one that falls
 * behind queues its frames at once, so its pace, and the wait, drop.  Lock
 * held. */
static gboolean
waited_for (const DecentSharedEngine *e, const DecentSharer *s, gint64 now, gint64 pace)
{
  return s->streaming && !s->hurry && s->last_queued_us && now - s->last_queued_us <= RECENT_US
         && s->think_us <= e->timeout_us && !s->skipped
         && s->think_us <= 4 * pace + e->timeout_us / 4; /* (a queued sharer is within) */
}

/* A wait ran out: the sharers it waited for that sent nothing are not
 * waited for again until they come while other frames wait.  Lock held. */
static void
note_missed (DecentSharedEngine *e)
{
  const gint64 now = g_get_monotonic_time (), pace = queued_pace (e);
  for (GList *l = e->sharers; l; l = l->next) {
    DecentSharer *s = l->data;
    if (waited_for (e, s, now, pace) && !has_queued (e, s))
      s->skipped = TRUE;
  }
}

/* Whether a queued frame's sharer is flushing or stopping: its streaming
 * thread must come back at once, not after batch-timeout.  Lock held. */
static gboolean
hurried (const DecentSharedEngine *e)
{
  for (const GList *l = e->queue.head; l; l = l->next)
    if (((const Job *) l->data)->sharer->hurry)
      return TRUE;
  return FALSE;
}

/* The frames to wait for: one from each thread of the sharers waited for
 * (sharers chained in one streaming thread never queue together), at most
 * a batch.  Lock held. */
static guint
batch_wanted (const DecentSharedEngine *e)
{
  const gint64 now = g_get_monotonic_time (), pace = queued_pace (e);
  guint n = 0;
  for (const GList *l = e->sharers; l; l = l->next) {
    const DecentSharer *s = l->data;
    if (!waited_for (e, s, now, pace))
      continue;
    gboolean seen = FALSE; /* another counted sharer scores from the same thread */
    for (const GList *o = e->sharers; o != l && !seen; o = o->next) {
      const DecentSharer *t = o->data;
      seen = waited_for (e, t, now, pace) && t->last_thread == s->last_thread;
    }
    n += !seen;
  }
  return CLAMP (n, 1, e->batch_size);
}

static gpointer
scheduler_main (gpointer data)
{
  DecentSharedEngine *e = data;
  decent_set_threads ((int) e->threads, NULL); /* OpenMP's count is per thread */
  g_mutex_lock (&e->lock);
  for (;;) {
    while (!e->quit && g_queue_is_empty (&e->queue))
      g_cond_wait (&e->work, &e->lock);
    if (g_queue_is_empty (&e->queue))
      break; /* quit, and nobody waits */
    /* a batch fills, or the oldest frame has waited batch-timeout */
    const Job *oldest = g_queue_peek_head (&e->queue);
    const gint64 deadline = oldest->queued_us + e->timeout_us;
    while (!e->quit && g_queue_get_length (&e->queue) < batch_wanted (e) && !hurried (e))
      if (!g_cond_wait_until (&e->work, &e->lock, deadline)) {
        if (g_queue_get_length (&e->queue) < batch_wanted (e))
          note_missed (e);
        break;
      }
    guint n = 0;
    while (n < e->batch_size && !g_queue_is_empty (&e->queue))
      e->batch[n++] = g_queue_pop_head (&e->queue);
    g_mutex_unlock (&e->lock);

    run_batch (e, n);

    g_mutex_lock (&e->lock);
    const gint64 now = g_get_monotonic_time ();
    for (guint i = 0; i < n; i++) {
      e->batch[i]->sharer->last_done_us = now;
      e->batch[i]->done = TRUE;
    }
    g_cond_broadcast (&e->done);
  }
  g_mutex_unlock (&e->lock);
  return NULL;
}

static void
engine_free (DecentSharedEngine *e)
{
  if (e->thread) {
    g_mutex_lock (&e->lock);
    e->quit = TRUE;
    g_cond_broadcast (&e->work);
    g_mutex_unlock (&e->lock);
    g_thread_join (e->thread);
  }
  decent_shared_model_unref (e->current);
  g_list_free (e->sharers); /* empty: every sharer has left */
  g_hash_table_unref (e->paths);
  g_hash_table_unref (e->named);
  g_free (e->asked);
  g_free (e->asked_as_given);
  g_free (e->load_error);
  g_free (e->pixels);
  g_free (e->scores);
  g_free (e->maps);
  g_free (e->id);
  g_mutex_clear (&e->lock);
  g_cond_clear (&e->work);
  g_cond_clear (&e->done);
  g_free (e);
}

/* The file a path names, for telling whether two sharers name the same one:
 * symbolic links and relative paths resolved (caller frees). */
static gchar *
canonical_path (const gchar *path)
{
  char *real = realpath (path, NULL);
  if (!real)
    return g_canonicalize_filename (path, NULL);
  gchar *copy = g_strdup (real);
  free (real);
  return copy;
}

gboolean
decent_shared_same_file (const gchar *a, const gchar *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);
  gchar *ca = canonical_path (a), *cb = canonical_path (b);
  const gboolean same = g_str_equal (ca, cb);
  g_free (ca);
  g_free (cb);
  return same;
}

/* What a device setting runs on: auto is the GPU when one is usable. */
static DecentDevice
resolved_device (DecentDevice device)
{
  if (device != DECENT_DEVICE_AUTO)
    return device;
  return decent_device_available (DECENT_DEVICE_CUDA) ? DECENT_DEVICE_CUDA : DECENT_DEVICE_CPU;
}

/* An engine for id that is still to load its model.  registry_lock held. */
static DecentSharedEngine *
engine_new (const gchar *id, DecentDevice device, const DecentSharedSettings *settings)
{
  DecentSharedEngine *e = g_new0 (DecentSharedEngine, 1);
  e->id = g_strdup (id);
  e->device = device;
  e->loading = TRUE;
  e->paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  e->named = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  e->batch_size = settings->batch_size;
  e->timeout_us = (gint64) settings->batch_timeout_us;
  e->threads = settings->threads;
  g_mutex_init (&e->lock);
  g_cond_init (&e->work);
  g_cond_init (&e->done);
  g_queue_init (&e->queue);
  e->scores = g_new0 (float, DECENT_SHARED_MAX_BATCH);
  return e;
}

/* Loads the first model of e (without the registry lock: a GPU model can
 * take seconds, and other ids start and stop meanwhile; sharers of this id
 * wait for it) and starts the scheduler.  Called with registry_lock held;
 * returns with it held.  FALSE: e->load_error says why. */
static gboolean
engine_load (DecentSharedEngine *e, const gchar *path, const gchar *canonical,
    DecentDevice device)
{
  g_mutex_unlock (&registry_lock);
  DecentError err;
  err.message[0] = '\0';
  DecentModel *model = decent_model_load (path, device, &err);
  GError *error = NULL;
  if (model) {
    e->current = shared_model_new (model, path);
    e->thread = g_thread_try_new ("decent-batch", scheduler_main, e, &error);
  }
  g_mutex_lock (&registry_lock);
  if (!model)
    e->load_error = g_strdup (err.message);
  else if (!e->thread) {
    e->load_error = g_strdup_printf ("cannot start the scheduler thread: %s", error->message);
    g_error_free (error);
  } else
    g_hash_table_add (e->paths, g_strdup (canonical));
  e->loading = FALSE;
  g_cond_broadcast (&registry_cond);
  return e->load_error == NULL;
}

/* Drops a user of e; the last one frees it.  registry_lock held. */
static void
engine_unref_locked (DecentSharedEngine *e)
{
  if (--e->users > 0)
    return;
  if (g_hash_table_lookup (registry, e->id) == e)
    g_hash_table_remove (registry, e->id);
  engine_free (e);
}

/* Whether a reload ever asked for canonical: the engine renamed its sharers
 * to it, so one that was stopped since (and missed the reloads after it,
 * or was stopped by the failure) may start again naming it, and joins on
 * the model in use. */
static gboolean
asked_ever (DecentSharedEngine *e, const gchar *canonical)
{
  g_mutex_lock (&e->lock);
  const gboolean named = g_hash_table_contains (e->named, canonical);
  g_mutex_unlock (&e->lock);
  return named;
}

gchar *
decent_sharer_name_to_take (DecentSharer *s, const gchar *path)
{
  g_return_val_if_fail (s != NULL && path != NULL, NULL);
  DecentSharedEngine *e = s->engine;
  g_mutex_lock (&e->lock);
  gchar *name;
  if (s->names_asked) /* it named the last file asked for, or a ticket renamed it since */
    name = g_strdup (e->asked_as_given);
  else if (e->asked && e->applied_ticket != e->next_ticket) {
    /* it missed reloads, and the last one asked for is loading or failed:
     * named as the other sharers name it (the model in use came before) */
    name = g_strdup (e->asked_as_given);
    s->names_asked = TRUE;
  } else {
    name = g_strdup (e->current->path);
  }
  g_mutex_unlock (&e->lock);
  return name;
}

DecentSharer *
decent_shared_engine_join (const gchar *id, const gchar *path, DecentDevice device,
    DecentSharedSettings *settings, DecentSharerRenamed renamed, gpointer renamed_data,
    gchar **why)
{
  g_return_val_if_fail (why != NULL && settings != NULL, NULL);
  *why = NULL;
  if (!id || !*id || !path || !*path) {
    *why = g_strdup ("a shared engine needs a model-instance-id and a model-location");
    return NULL;
  }
  settings->batch_size = CLAMP (settings->batch_size, 1, DECENT_SHARED_MAX_BATCH);
  settings->batch_timeout_us = MIN (settings->batch_timeout_us, DECENT_SHARED_MAX_TIMEOUT_US);
  const DecentDevice resolved = resolved_device (device);
  gchar *canonical = canonical_path (path);
  g_mutex_lock (&registry_lock);
  if (!registry) {
    registry = g_hash_table_new (g_str_hash, g_str_equal);
    GST_DEBUG_CATEGORY_INIT (decent_shared_debug, "decentshared", 0,
        "decentanomaly engines shared by model-instance-id");
  }
  DecentSharedEngine *e = g_hash_table_lookup (registry, id);
  if (!e) {
    e = engine_new (id, resolved, settings);
    e->users = 1;
    g_hash_table_insert (registry, e->id, e);
    if (!engine_load (e, path, canonical, device)) {
      *why = g_strdup (e->load_error);
      g_hash_table_remove (registry, e->id); /* the next sharer to start tries again */
      engine_unref_locked (e);
      e = NULL;
    }
  } else {
    e->users++; /* kept while its load is waited for */
    while (e->loading)
      g_cond_wait (&registry_cond, &registry_lock);
    if (e->load_error) {
      *why = g_strdup (e->load_error);
    } else if (resolved != e->device || !(g_hash_table_contains (e->paths, canonical)
                                           || asked_ever (e, canonical))) {
      g_mutex_lock (&e->lock);
      gchar *name = decent_shown_name (e->current->path);
      g_mutex_unlock (&e->lock);
      *why = g_strdup_printf ("model-instance-id \"%s\" is in use with model \"%s\" on "
          "device=%s; give this element the same model-location and device, or another id",
          id, name, decent_device_name (e->device));
      g_free (name);
    }
    if (*why) {
      engine_unref_locked (e);
      e = NULL;
    }
  }
  g_mutex_unlock (&registry_lock);
  if (!e) {
    g_free (canonical);
    return NULL;
  }
  settings->batch_size = e->batch_size;
  settings->batch_timeout_us = (guint64) e->timeout_us;
  settings->threads = e->threads;
  DecentSharer *s = g_new0 (DecentSharer, 1);
  s->engine = e;
  s->streaming = TRUE;
  s->renamed = renamed; /* before it is a sharer: no reload asked for meanwhile is missed */
  s->renamed_data = renamed_data;
  g_mutex_lock (&e->lock);
  s->names_asked = e->asked && g_str_equal (e->asked, canonical);
  e->sharers = g_list_prepend (e->sharers, s);
  g_mutex_unlock (&e->lock);
  g_free (canonical);
  return s;
}

void
decent_sharer_leave (DecentSharer *s)
{
  if (!s)
    return;
  DecentSharedEngine *e = s->engine;
  g_mutex_lock (&e->lock);
  e->sharers = g_list_remove (e->sharers, s);
  g_cond_signal (&e->work); /* one fewer to wait for: a batch may be ready */
  g_mutex_unlock (&e->lock);
  g_free (s);
  g_mutex_lock (&registry_lock);
  engine_unref_locked (e);
  g_mutex_unlock (&registry_lock);
}

void
decent_sharer_set_streaming (DecentSharer *s, gboolean streaming)
{
  g_return_if_fail (s != NULL);
  DecentSharedEngine *e = s->engine;
  g_mutex_lock (&e->lock);
  if (s->streaming != streaming) {
    s->streaming = streaming;
    g_cond_signal (&e->work); /* fewer to wait for: a batch may be ready */
  }
  g_mutex_unlock (&e->lock);
}

void
decent_sharer_hurry (DecentSharer *s, gboolean hurry)
{
  g_return_if_fail (s != NULL);
  DecentSharedEngine *e = s->engine;
  g_mutex_lock (&e->lock);
  s->hurry = hurry;
  if (hurry)
    g_cond_signal (&e->work); /* a frame of its own may be waiting for others' */
  g_mutex_unlock (&e->lock);
}

DecentDevice
decent_sharer_device (DecentSharer *s)
{
  g_return_val_if_fail (s != NULL, DECENT_DEVICE_CPU);
  return s->engine->device; /* set before the first sharer joins, never changed */
}

gboolean
decent_sharer_alone (DecentSharer *s)
{
  g_return_val_if_fail (s != NULL, TRUE);
  DecentSharedEngine *e = s->engine;
  g_mutex_lock (&e->lock);
  const gboolean alone = !e->sharers || !e->sharers->next;
  g_mutex_unlock (&e->lock);
  return alone;
}

DecentSharedModel *
decent_sharer_current (DecentSharer *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  DecentSharedEngine *e = s->engine;
  g_mutex_lock (&e->lock);
  DecentSharedModel *m = shared_model_ref (e->current);
  g_mutex_unlock (&e->lock);
  return m;
}

/* Every sharer now names path (paused ones too); asked: path is the file of
 * the last reload asked for.  Otherwise (a reload asked for before it, put
 * in place) only the sharers that do not name that file: those that joined
 * since it was asked for, naming another.  e->lock held. */
static void
rename_sharers (DecentSharedEngine *e, const gchar *path, gboolean asked)
{
  for (GList *l = e->sharers; l; l = l->next) {
    DecentSharer *t = l->data;
    if (!asked && t->names_asked)
      continue;
    if (t->renamed)
      t->renamed (t->renamed_data, path);
    t->names_asked = asked;
  }
}

guint64
decent_sharer_reload_ticket (DecentSharer *s, const gchar *path)
{
  g_return_val_if_fail (s != NULL && path != NULL, 0);
  DecentSharedEngine *e = s->engine;
  gchar *canonical = canonical_path (path);
  g_mutex_lock (&e->lock);
  const guint64 ticket = ++e->next_ticket;
  g_free (e->asked);
  e->asked = canonical;
  g_free (e->asked_as_given);
  e->asked_as_given = g_strdup (path);
  g_hash_table_add (e->named, g_strdup (canonical));
  /* the caller too: another sharer's ticket may have renamed it since its
   * set_property wrote its own name */
  rename_sharers (e, path, TRUE);
  g_mutex_unlock (&e->lock);
  return ticket;
}

gboolean
decent_sharer_replace (DecentSharer *s, DecentModel *model, const gchar *path, guint64 ticket)
{
  g_return_val_if_fail (s != NULL && model != NULL && path != NULL, FALSE);
  DecentSharedEngine *e = s->engine;
  gchar *canonical = canonical_path (path);
  g_mutex_lock (&registry_lock); /* e->paths */
  g_mutex_lock (&e->lock);
  const gboolean newest = ticket > e->applied_ticket;
  DecentSharedModel *old = NULL;
  if (newest) {
    old = e->current;
    e->current = shared_model_new (model, path);
    e->applied_ticket = ticket;
    g_hash_table_add (e->paths, canonical);
    canonical = NULL;
    /* the last reload asked for renames every sharer; an earlier one only
     * those that joined since the later one was asked for (naming another
     * file): the later one, still loading or failed, named its own file on
     * the others, and that name stays (as a failed reload's does on an
     * element of its own) */
    rename_sharers (e, path, ticket == e->next_ticket);
  }
  g_mutex_unlock (&e->lock);
  g_mutex_unlock (&registry_lock);
  g_free (canonical);
  if (!newest)
    decent_model_free (model); /* a reload asked for later is in place already */
  decent_shared_model_unref (old); /* freed once every sharer has left it */
  return newest;
}

gboolean
decent_sharer_score (DecentSharer *s, DecentSharedModel *as, const guint8 *pixels,
    DecentScoreMode mode, float *score, float *map, DecentError *err)
{
  if (!s || !as || !pixels || !score || !map) {
    decent_fail (err, "shared scoring: no engine, model, frame or place for the result");
    return FALSE;
  }
  if ((int) mode < 0 || (int) mode >= DECENT_SCORE_MODES) {
    decent_fail (err, "shared scoring: no score mode %d", (int) mode);
    return FALSE;
  }
  Job job = { .sharer = s, .pixels = pixels, .as = as, .mode = mode, .score = score,
    .map = map, .err = err };
  DecentSharedEngine *e = s->engine;
  g_mutex_lock (&e->lock);
  job.queued_us = g_get_monotonic_time ();
  if (s->last_done_us) { /* how long this stream takes between frames of its own */
    const gint64 think = job.queued_us - s->last_done_us;
    s->think_us = s->think_us ? (3 * s->think_us + think) / 4 : think;
  }
  s->last_queued_us = job.queued_us;
  s->last_thread = g_thread_self ();
  s->streaming = TRUE; /* again, after an end of stream and a flush */
  if (!g_queue_is_empty (&e->queue))
    s->skipped = FALSE; /* it comes while others wait: worth waiting for again */
  g_queue_push_tail (&e->queue, &job);
  g_cond_signal (&e->work);
  while (!job.done)
    g_cond_wait (&e->done, &e->lock);
  g_mutex_unlock (&e->lock);
  return job.ok;
}
