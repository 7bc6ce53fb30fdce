/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sharedengine.c — see sharedengine.h.  A process-wide table maps each
 * model-instance-id to its engine; an engine is a model and a scheduler
 * thread that takes the queued frames of all sharers, up to batch-size at
 * a time, and scores them in one call.  Only the scheduler's thread uses the
 * model's scoring state (its activations and score tables are not shared
 * between threads), so sharers never touch it. */
#include "sharedengine.h"

#include <gst/gst.h>
#include <string.h>

#include "error.h"

GST_DEBUG_CATEGORY_STATIC (decent_shared_debug);
#define GST_CAT_DEFAULT decent_shared_debug

struct _DecentSharedModel {
  gint ref;
  DecentModel *model;
  gchar *path;
  gsize frame_bytes; /* width * height * channels */
  gsize plane;       /* width * height */
};

/* One frame waiting: lives on the sharer's stack while the sharer waits. */
typedef struct {
  const guint8 *pixels;
  DecentSharedModel *as;
  DecentScoreMode mode;
  float *score, *map;
  DecentError *err;
  DecentSharedResult result;
  gboolean done;
  gint64 queued_us;
} Job;

/* A sharer counts for the batch size the scheduler waits for while it
 * streams and has queued a frame this recently. */
#define RECENT_US G_USEC_PER_SEC

struct _DecentSharer {
  DecentSharedEngine *engine;
  /* ---- the engine's lock ---- */
  gboolean streaming;
  gint64 last_queued_us;     /* 0: never */
  GThread *last_thread;      /* the thread that queued it */
};

struct _DecentSharedEngine {
  /* ---- registry_lock ---- */
  gchar *id;
  DecentDevice device;
  guint users;
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
  gboolean quit;
  guint64 batches, frames;
  /* ---- scheduler thread only ---- */
  Job *batch[DECENT_SHARED_MAX_BATCH];
  guint8 *pixels;            /* the batch's frames, packed */
  float *scores, *maps;
  gsize capacity_bytes, capacity_plane;
};

static GMutex registry_lock;
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
  return m;
}

DecentSharedModel *
decent_shared_model_ref (DecentSharedModel *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  g_atomic_int_inc (&m->ref);
  return m;
}

void
decent_shared_model_unref (DecentSharedModel *m)
{
  if (!m || !g_atomic_int_dec_and_test (&m->ref))
    return;
  decent_model_free (m->model);
  g_free (m->path);
  g_free (m);
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

/* Scores the n jobs of e->batch with m: jobs queued for another model are
 * stale; the others go through the model in one call.  Scheduler thread, no lock. */
static void
run_batch (DecentSharedEngine *e, DecentSharedModel *m, guint n)
{
  guint k = 0;
  Job *valid[DECENT_SHARED_MAX_BATCH];
  for (guint i = 0; i < n; i++) {
    Job *job = e->batch[i];
    if (job->as != m) {
      job->result = DECENT_SHARED_STALE;
      continue;
    }
    valid[k++] = job;
  }
  if (k == 0)
    return;
  if (!reserve_batch (e, m, k)) {
    for (guint i = 0; i < k; i++) {
      decent_fail (valid[i]->err, "out of memory for a batch of %u frames", k);
      valid[i]->result = DECENT_SHARED_FAILED;
    }
    return;
  }
  for (guint i = 0; i < k; i++)
    memcpy (e->pixels + i * m->frame_bytes, valid[i]->pixels, m->frame_bytes);
  DecentError err;
  err.message[0] = '\0';
  /* in calls of 1, 4, 16 or 64 frames: the backend keeps a plan (its
   * primitives and buffers) per batch size in a cache of 4, and batches of
   * every size from 1 to batch-size would rebuild one at nearly every
   * batch; a frame's score does not depend on the frames beside it */
  for (guint done = 0; done < k;) {
    guint chunk = 1;
    while (chunk * 4 <= k - done)
      chunk *= 4;
    if (decent_model_score (m->model, e->pixels + done * m->frame_bytes, (int) chunk,
            e->scores + done, e->maps + done * m->plane, &err) < 0) {
      for (guint i = 0; i < k; i++) {
        if (valid[i]->err)
          *valid[i]->err = err;
        valid[i]->result = DECENT_SHARED_FAILED;
      }
      return;
    }
    done += chunk;
  }
  for (guint i = 0; i < k; i++) {
    Job *job = valid[i];
    memcpy (job->map, e->maps + i * m->plane, m->plane * sizeof (float));
    *job->score = e->scores[i];
    /* the mean mode's score is decent_model_score's, as an element of its own gets it */
    const gboolean ok = job->mode == DECENT_SCORE_MEAN
        || decent_model_score_map (m->model, job->mode, job->map, job->score, job->err) == 0;
    job->result = ok ? DECENT_SHARED_SCORED : DECENT_SHARED_FAILED;
  }
}

/* The frames to wait for: one from each thread of the sharers that stream
 * and queued a frame in the last RECENT_US (sharers chained in one
 * streaming thread never queue together), at most a batch.  Lock held. */
static guint
batch_wanted (const DecentSharedEngine *e)
{
  const gint64 now = g_get_monotonic_time ();
  guint n = 0;
  for (const GList *l = e->sharers; l; l = l->next) {
    const DecentSharer *s = l->data;
    if (!s->streaming || !s->last_queued_us || now - s->last_queued_us > RECENT_US)
      continue;
    gboolean seen = FALSE; /* another counted sharer scores from the same thread */
    for (const GList *o = e->sharers; o != l && !seen; o = o->next) {
      const DecentSharer *t = o->data;
      seen = t->streaming && t->last_queued_us && now - t->last_queued_us <= RECENT_US
          && t->last_thread == s->last_thread;
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
    while (!e->quit && g_queue_get_length (&e->queue) < batch_wanted (e))
      if (!g_cond_wait_until (&e->work, &e->lock, deadline))
        break;
    guint n = 0;
    while (n < e->batch_size && !g_queue_is_empty (&e->queue))
      e->batch[n++] = g_queue_pop_head (&e->queue);
    DecentSharedModel *m = decent_shared_model_ref (e->current);
    g_mutex_unlock (&e->lock);

    run_batch (e, m, n);
    decent_shared_model_unref (m);

    g_mutex_lock (&e->lock);
    guint scored = 0;
    for (guint i = 0; i < n; i++) {
      scored += e->batch[i]->result == DECENT_SHARED_SCORED;
      e->batch[i]->done = TRUE;
    }
    e->batches++;
    e->frames += scored;
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
  g_free (e->pixels);
  g_free (e->scores);
  g_free (e->maps);
  g_free (e->id);
  g_mutex_clear (&e->lock);
  g_cond_clear (&e->work);
  g_cond_clear (&e->done);
  g_free (e);
}

/* A new engine for id with model (taken), loaded from path; NULL with *why. */
static DecentSharedEngine *
engine_new (const gchar *id, DecentModel *model, const gchar *path, DecentDevice device,
    const DecentSharedSettings *settings, gchar **why)
{
  DecentSharedEngine *e = g_new0 (DecentSharedEngine, 1);
  e->id = g_strdup (id);
  e->device = device;
  e->batch_size = settings->batch_size;
  e->timeout_us = (gint64) settings->batch_timeout_us;
  e->threads = settings->threads;
  g_mutex_init (&e->lock);
  g_cond_init (&e->work);
  g_cond_init (&e->done);
  g_queue_init (&e->queue);
  e->current = shared_model_new (model, path);
  e->scores = g_new0 (float, DECENT_SHARED_MAX_BATCH);
  GError *error = NULL;
  e->thread = g_thread_try_new ("decent-batch", scheduler_main, e, &error);
  if (!e->thread) {
    *why = g_strdup_printf ("cannot start the scheduler thread: %s", error->message);
    g_error_free (error);
    engine_free (e);
    return NULL;
  }
  return e;
}

DecentSharer *
decent_shared_engine_join (const gchar *id, const gchar *path, DecentDevice device,
    DecentSharedSettings *settings, gchar **why)
{
  g_return_val_if_fail (why != NULL && settings != NULL, NULL);
  *why = NULL;
  if (!id || !*id || !path || !*path) {
    *why = g_strdup ("a shared engine needs a model-instance-id and a model-location");
    return NULL;
  }
  settings->batch_size = CLAMP (settings->batch_size, 1, DECENT_SHARED_MAX_BATCH);
  settings->batch_timeout_us = MIN (settings->batch_timeout_us, DECENT_SHARED_MAX_TIMEOUT_US);
  g_mutex_lock (&registry_lock);
  if (!registry) {
    registry = g_hash_table_new (g_str_hash, g_str_equal);
    GST_DEBUG_CATEGORY_INIT (decent_shared_debug, "decentshared", 0,
        "decentanomaly engines shared by model-instance-id");
  }
  DecentSharedEngine *e = g_hash_table_lookup (registry, id);
  DecentModel *loaded = NULL;
  if (!e) {
    /* loaded without the registry lock (a GPU model can take seconds):
     * other ids start and stop meanwhile; a sharer of the same id that
     * started first wins, and this load is dropped */
    g_mutex_unlock (&registry_lock);
    DecentError err;
    err.message[0] = '\0';
    loaded = decent_model_load (path, device, &err);
    if (!loaded) {
      *why = g_strdup (err.message);
      return NULL;
    }
    g_mutex_lock (&registry_lock);
    e = g_hash_table_lookup (registry, id);
  }
  if (e) {
    decent_model_free (loaded);
    g_mutex_lock (&e->lock);
    /* the file of the model scoring now: the one the engine was started
     * with, or the one a hot reload put in its place */
    gchar *now = g_strdup (e->current->path);
    g_mutex_unlock (&e->lock);
    if (!g_str_equal (path, now) || device != e->device) {
      gchar *name = g_filename_display_name (now);
      *why = g_strdup_printf ("model-instance-id \"%s\" is in use with model \"%s\" on "
          "device=%s; give this element the same model-location and device, or another id",
          id, name, decent_device_name (e->device));
      g_free (name);
      g_free (now);
      g_mutex_unlock (&registry_lock);
      return NULL;
    }
    g_free (now);
    e->users++;
  } else if ((e = engine_new (id, loaded, path, device, settings, why))) {
    e->users = 1;
    g_hash_table_insert (registry, e->id, e);
  }
  g_mutex_unlock (&registry_lock);
  if (!e)
    return NULL;
  settings->batch_size = e->batch_size;
  settings->batch_timeout_us = (guint64) e->timeout_us;
  settings->threads = e->threads;
  DecentSharer *s = g_new0 (DecentSharer, 1);
  s->engine = e;
  s->streaming = TRUE;
  g_mutex_lock (&e->lock);
  e->sharers = g_list_prepend (e->sharers, s);
  g_mutex_unlock (&e->lock);
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
  gboolean last = --e->users == 0;
  if (last)
    g_hash_table_remove (registry, e->id);
  g_mutex_unlock (&registry_lock);
  if (last)
    engine_free (e);
}

void
decent_sharer_set_streaming (DecentSharer *s, gboolean streaming)
{
  g_return_if_fail (s != NULL);
  DecentSharedEngine *e = s->engine;
  g_mutex_lock (&e->lock);
  s->streaming = streaming;
  g_cond_signal (&e->work);
  g_mutex_unlock (&e->lock);
}

DecentSharedModel *
decent_sharer_current (DecentSharer *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  DecentSharedEngine *e = s->engine;
  g_mutex_lock (&e->lock);
  DecentSharedModel *m = decent_shared_model_ref (e->current);
  g_mutex_unlock (&e->lock);
  return m;
}

void
decent_sharer_replace (DecentSharer *s, DecentModel *model, const gchar *path)
{
  g_return_if_fail (s != NULL && model != NULL && path != NULL);
  DecentSharedEngine *e = s->engine;
  DecentSharedModel *m = shared_model_new (model, path);
  g_mutex_lock (&e->lock);
  DecentSharedModel *old = e->current;
  e->current = m;
  g_mutex_unlock (&e->lock);
  decent_shared_model_unref (old); /* freed once every sharer has left it */
}

DecentSharedResult
decent_sharer_score (DecentSharer *s, DecentSharedModel *as, const guint8 *pixels,
    DecentScoreMode mode, float *score, float *map, DecentError *err)
{
  if (!s || !as || !pixels || !score || !map) {
    decent_fail (err, "shared scoring: no engine, model, frame or place for the result");
    return DECENT_SHARED_FAILED;
  }
  if ((int) mode < 0 || (int) mode >= DECENT_SCORE_MODES) {
    decent_fail (err, "shared scoring: no score mode %d", (int) mode);
    return DECENT_SHARED_FAILED;
  }
  Job job = { .pixels = pixels, .as = as, .mode = mode, .score = score, .map = map,
    .err = err, .result = DECENT_SHARED_FAILED };
  DecentSharedEngine *e = s->engine;
  g_mutex_lock (&e->lock);
  if (e->current != as) { /* replaced: not worth a place in the queue */
    g_mutex_unlock (&e->lock);
    return DECENT_SHARED_STALE;
  }
  job.queued_us = g_get_monotonic_time ();
  s->last_queued_us = job.queued_us;
  s->last_thread = g_thread_self ();
  g_queue_push_tail (&e->queue, &job);
  g_cond_signal (&e->work);
  while (!job.done)
    g_cond_wait (&e->done, &e->lock);
  g_mutex_unlock (&e->lock);
  return job.result;
}

void
decent_sharer_counts (DecentSharer *s, guint64 *batches, guint64 *frames)
{
  g_return_if_fail (s != NULL);
  DecentSharedEngine *e = s->engine;
  g_mutex_lock (&e->lock);
  if (batches)
    *batches = e->batches;
  if (frames)
    *frames = e->frames;
  g_mutex_unlock (&e->lock);
}
