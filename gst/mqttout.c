/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mqttout.c — see mqttout.h.  One record in flight at a time keeps the
 * order through reconnections without relying on the broker's session:
 * the head of the queue is sent, and leaves the queue only when the broker
 * acknowledged it (on_publish); after a reconnection the head is sent
 * again (at least once).  A thread of ours connects, reconnects with
 * backoff (1, 2, 4 … 16 s; a broker absent at start included) and runs
 * libmosquitto's network loop, which runs the callbacks; the streaming
 * thread only queues. */
#include "mqttout.h"

#include <mosquitto.h>
#include <string.h>

struct DecentMqtt {
  struct mosquitto *mosq;
  GThread *thread;
  gint stopping;    /* atomic: free() asks the thread to end */
  gchar *host;
  gint port;
  gchar *topic;
  gint qos;
  guint queue_size;
  GMutex lock;      /* everything below */
  GCond drained;
  GQueue queue;     /* gchar * payloads, oldest first */
  gboolean connected, in_flight;
  int in_flight_mid;
  gchar *refusal;   /* a connection refused for good */
  guint64 queued, delivered, dropped;
};

/* Sends the head when it can.  Lock held. */
static void
pump (DecentMqtt *m)
{
  if (!m->connected || m->in_flight || g_queue_is_empty (&m->queue))
    return;
  const gchar *head = g_queue_peek_head (&m->queue);
  int mid = 0;
  if (mosquitto_publish (m->mosq, &mid, m->topic, (int) strlen (head), head, m->qos, false)
      == MOSQ_ERR_SUCCESS) {
    m->in_flight = TRUE;
    m->in_flight_mid = mid;
  }
}

static void
on_connect (struct mosquitto *mosq, void *user, int rc)
{
  DecentMqtt *m = user;
  g_mutex_lock (&m->lock);
  if (rc == 0) {
    m->connected = TRUE;
    m->in_flight = FALSE; /* whatever was in flight is sent again */
    pump (m);
  } else if (rc == 4 || rc == 5) { /* bad user name or password, not authorised */
    if (!m->refusal)
      m->refusal = g_strdup_printf ("the broker refused the connection: %s",
          mosquitto_connack_string (rc));
    mosquitto_disconnect (mosq); /* retrying cannot cure it */
  }
  g_mutex_unlock (&m->lock);
}

static void
on_disconnect (struct mosquitto *mosq, void *user, int rc)
{
  DecentMqtt *m = user;
  g_mutex_lock (&m->lock);
  m->connected = FALSE;
  m->in_flight = FALSE;
  g_mutex_unlock (&m->lock);
}

static void
on_publish (struct mosquitto *mosq, void *user, int mid)
{
  DecentMqtt *m = user;
  g_mutex_lock (&m->lock);
  if (m->in_flight && mid == m->in_flight_mid) {
    g_free (g_queue_pop_head (&m->queue));
    m->delivered++;
    m->in_flight = FALSE;
    if (g_queue_is_empty (&m->queue))
      g_cond_broadcast (&m->drained);
    pump (m);
  }
  g_mutex_unlock (&m->lock);
}

/* Sleeps up to seconds, waking early when free() asks the thread to end. */
static void
backoff_sleep (DecentMqtt *m, guint seconds)
{
  for (guint i = 0; i < seconds * 10 && !g_atomic_int_get (&m->stopping); i++)
    g_usleep (100000);
}

static gpointer
network_thread (gpointer data)
{
  DecentMqtt *m = data;
  guint delay = 1;
  while (!g_atomic_int_get (&m->stopping)) {
    if (mosquitto_connect (m->mosq, m->host, m->port, 30) == MOSQ_ERR_SUCCESS) {
      while (!g_atomic_int_get (&m->stopping)
             && mosquitto_loop (m->mosq, 100, 1) == MOSQ_ERR_SUCCESS)
        if (m->connected) /* under way: the next outage starts the backoff anew */
          delay = 1;
    }
    g_mutex_lock (&m->lock);
    m->connected = m->in_flight = FALSE;
    const gboolean refused = m->refusal != NULL;
    g_mutex_unlock (&m->lock);
    if (refused)
      break; /* retrying cannot cure it */
    backoff_sleep (m, delay);
    delay = MIN (delay * 2, 16);
  }
  return NULL;
}

static gint mosquitto_users;
G_LOCK_DEFINE_STATIC (mosquitto_users);

DecentMqtt *
decent_mqtt_new (const DecentMqttSettings *s, gchar **why)
{
  if (!s->host || !*s->host || s->port < 1 || s->port > 65535 || !s->topic || !*s->topic
      || s->qos < 0 || s->qos > 2 || s->queue_size < 1) {
    *why = g_strdup_printf ("MQTT settings need a host, a port in 1..65535, a topic, QoS 0..2 "
        "and a queue of at least 1 (host \"%s\", port %d, QoS %d, queue %u)",
        s->host ? s->host : "", s->port, s->qos, s->queue_size);
    return NULL;
  }
  G_LOCK (mosquitto_users);
  if (mosquitto_users++ == 0)
    mosquitto_lib_init ();
  G_UNLOCK (mosquitto_users);
  DecentMqtt *m = g_new0 (DecentMqtt, 1);
  g_mutex_init (&m->lock);
  g_cond_init (&m->drained);
  g_queue_init (&m->queue);
  m->host = g_strdup (s->host);
  m->port = s->port;
  m->topic = g_strdup (s->topic);
  m->qos = s->qos;
  m->queue_size = s->queue_size;
  m->mosq = mosquitto_new (s->client_id, true, m);
  int rc = m->mosq ? MOSQ_ERR_SUCCESS : MOSQ_ERR_NOMEM;
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_threaded_set (m->mosq, true); /* our thread runs its loop */
  if (rc == MOSQ_ERR_SUCCESS && s->username)
    rc = mosquitto_username_pw_set (m->mosq, s->username, s->password);
  if (rc == MOSQ_ERR_SUCCESS && s->ca_file && *s->ca_file)
    rc = mosquitto_tls_set (m->mosq, s->ca_file, NULL, s->cert_file, s->key_file, NULL);
  if (rc != MOSQ_ERR_SUCCESS) {
    *why = g_strdup_printf ("MQTT client for %s:%d: %s", s->host, s->port,
        mosquitto_strerror (rc));
    decent_mqtt_free (m, 0);
    return NULL;
  }
  mosquitto_connect_callback_set (m->mosq, on_connect);
  mosquitto_disconnect_callback_set (m->mosq, on_disconnect);
  mosquitto_publish_callback_set (m->mosq, on_publish);
  m->thread = g_thread_new ("decent-mqtt", network_thread, m);
  return m;
}

gboolean
decent_mqtt_publish (DecentMqtt *m, const gchar *payload)
{
  g_mutex_lock (&m->lock);
  const gboolean room = m->queue.length < m->queue_size;
  if (room) {
    g_queue_push_tail (&m->queue, g_strdup (payload));
    m->queued++;
    pump (m);
  } else {
    m->dropped++;
  }
  g_mutex_unlock (&m->lock);
  return room;
}

gchar *
decent_mqtt_take_refusal (DecentMqtt *m)
{
  g_mutex_lock (&m->lock);
  gchar *r = m->refusal;
  m->refusal = NULL;
  g_mutex_unlock (&m->lock);
  return r;
}

void
decent_mqtt_counts (DecentMqtt *m, guint64 *queued, guint64 *delivered, guint64 *dropped)
{
  g_mutex_lock (&m->lock);
  *queued = m->queued;
  *delivered = m->delivered;
  *dropped = m->dropped;
  g_mutex_unlock (&m->lock);
}

guint
decent_mqtt_free (DecentMqtt *m, guint timeout_ms)
{
  if (!m)
    return 0;
  g_mutex_lock (&m->lock);
  const gint64 until = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (!g_queue_is_empty (&m->queue) && !m->refusal
         && g_cond_wait_until (&m->drained, &m->lock, until))
    ;
  const guint left = m->queue.length;
  g_mutex_unlock (&m->lock);
  g_atomic_int_set (&m->stopping, 1);
  if (m->mosq)
    mosquitto_disconnect (m->mosq);
  if (m->thread)
    g_thread_join (m->thread);
  if (m->mosq)
    mosquitto_destroy (m->mosq);
  g_free (m->host);
  g_queue_clear_full (&m->queue, g_free);
  g_free (m->refusal);
  g_free (m->topic);
  g_mutex_clear (&m->lock);
  g_cond_clear (&m->drained);
  g_free (m);
  G_LOCK (mosquitto_users);
  if (--mosquitto_users == 0)
    mosquitto_lib_cleanup ();
  G_UNLOCK (mosquitto_users);
  return left;
}
