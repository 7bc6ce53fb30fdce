/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mqttout.c — see mqttout.h.  One record in flight at a time keeps the
 * order through reconnections without relying on the broker's session:
 * the head of the queue is sent, and leaves the queue only when the broker
 * acknowledged it (on_publish); after a reconnection the head is sent
 * again (at least once), by us, from a client made anew: libmosquitto's
 * own resend is no delivery with a clean session, where a QoS 2 record
 * the broker had acknowledged (PUBREC) is only released (PUBREL) into a
 * session the broker no longer has, and is lost (helper-58: one record in
 * every broker restart).  A thread of ours connects, reconnects with
 * backoff (1, 2, 4 … 16 s; a broker absent at start included) and runs
 * libmosquitto's network loop, which runs the callbacks; the streaming
 * thread only queues. */
#include "mqttout.h"

#include <errno.h>
#include <glib/gstdio.h>

#include <mosquitto.h>
#include <stdio.h>
#include <string.h>

#include "shownname.h"

static void destroy (struct DecentMqtt *m);

struct DecentMqtt {
  struct mosquitto *mosq;
  GThread *thread;
  gint stopping;    /* atomic: free() asks the thread to end */
  gchar *host;
  gint port;
  gchar *topic;
  gint qos;
  /* what a client is made with, again at each reconnection */
  gchar *client_id, *username, *password, *ca_file, *cert_file, *key_file;
  guint queue_size;
  GMutex lock;      /* everything below */
  GCond drained;
  GQueue queue;     /* gchar * payloads, oldest first */
  gboolean connected, in_flight;
  int in_flight_mid;
  gboolean refused; /* a connection refused for good: no more tries */
  gboolean ever_connected; /* a refusal after this is the broker's change, tried again */
  gchar *trouble;   /* such a refusal's reason, until taken */
  gboolean trouble_said; /* taken since the last connection: not again */
  gboolean done;    /* the network thread has ended */
  gboolean orphaned; /* free() did not wait for the thread, which frees m at its end */
  gboolean interrupted; /* decent_mqtt_interrupt: waits for the queue end now */
  gchar *refusal;   /* its reason, until taken */
  gchar *failure;   /* why the last try to connect failed; NULL once connected */
  gint64 try_since; /* monotonic time the try to connect under way began; 0: none */
  guint head_losses; /* connections lost in a row with the head in flight */
  gsize reject_size; /* the smallest record the broker would not take (0: none):
                      * records as large get one try */
  gchar *rejection; /* why the last record the broker kept closing on was dropped,
                     * until taken */
  guint rejections_untaken; /* records dropped so since the last take */
  gint64 connected_since; /* monotonic time of the last connection */
  guint64 acked_since;  /* records acknowledged on it */
  guint quick_losses; /* connections in a row the broker closed within
                       * QUICK_LOSS_US of taking them */
  gboolean thrash_said; /* quick_losses said, until a connection lasts */
  gchar *thrash;    /* that, until taken */
  guint64 queued, delivered, dropped, rejected;
};

/* Connections lost in a row while the same record was in flight before a
 * record counts as one the broker will not take: a broker closes the
 * connection on a record over its max_packet_size (MQTT 3.1.1 has no way
 * to say so), and the record, sent again after each reconnection, held
 * every record behind it for good (helper-67).  A broker restarted three
 * times in a row, each time just as the record was sent, would lose it. */
#define HEAD_LOSSES_MAX 3

/* A connection the broker closes this soon after taking it, 3 times in a
 * row, is said: two clients with the same id knock each other off (a
 * broker keeps one connection an id) once a second, unseen (helper-67). */
#define QUICK_LOSS_US (5 * G_TIME_SPAN_SECOND)

/* A try to connect without an answer this long is said as such, before an
 * older try's failure. */
#define UNANSWERED_US (5 * G_TIME_SPAN_SECOND)

/* Sends the head when it can.  Lock held.  In flight, it stays the head
 * until the broker acknowledges it (on_publish); a lost connection makes a
 * new client (renew_client), which forgets it, and it is sent again from
 * here once connected. */
static void
pump (DecentMqtt *m)
{
  while (m->connected && !m->in_flight && !g_queue_is_empty (&m->queue)) {
    const gchar *head = g_queue_peek_head (&m->queue);
    /* a record as large as one the broker would not take gets one try, not
     * three (a long camera name makes every record too large: each cost
     * three connections); one that goes through ends that (a broker
     * restarted three times just as a record was sent would otherwise
     * condemn every record of its size) */
    const gsize size = strlen (head);
    const guint tries = m->reject_size && size >= m->reject_size ? 1 : HEAD_LOSSES_MAX;
    if (m->head_losses >= tries) {
      g_free (m->rejection);
      m->reject_size = m->reject_size ? MIN (m->reject_size, size) : size;
      m->rejection = g_strdup_printf ("a %zu-byte record was sent on %u connection%s in a row "
          "and the broker closed %s before acknowledging it (over its max_packet_size, or "
          "refused by a plugin or rule that disconnects)", size, m->head_losses,
          m->head_losses > 1 ? "s" : "", m->head_losses > 1 ? "each" : "it");
      g_free (g_queue_pop_head (&m->queue));
      m->rejected++;
      m->rejections_untaken++;
      m->head_losses = 0;
      if (g_queue_is_empty (&m->queue))
        g_cond_broadcast (&m->drained);
      continue;
    }
    int mid = 0;
    const int rc = mosquitto_publish (m->mosq, &mid, m->topic, (int) strlen (head), head,
        m->qos, false);
    if (rc == MOSQ_ERR_SUCCESS || (rc == MOSQ_ERR_NO_CONN && m->qos > 0)) {
      m->in_flight = TRUE; /* (no connection, lost a moment ago: sent again once renewed) */
      m->in_flight_mid = mid;
    } else if (rc == MOSQ_ERR_NO_CONN) {
      return; /* QoS 0: sent again once connected */
    } else { /* this record can never go (too large): dropped, the next one goes */
      g_free (g_queue_pop_head (&m->queue));
      m->dropped++;
    }
  }
}

static void
on_connect (struct mosquitto *mosq, void *user, int rc)
{
  DecentMqtt *m = user;
  g_mutex_lock (&m->lock);
  if (rc == 0) {
    m->connected = TRUE;
    m->connected_since = g_get_monotonic_time ();
    m->acked_since = 0;
    m->ever_connected = TRUE;
    m->try_since = 0;
    g_clear_pointer (&m->failure, g_free);
    m->trouble_said = FALSE;
    if (m->qos == 0)
      m->in_flight = FALSE; /* QoS 0 in flight is lost with the connection: again */
    pump (m);
  } else if (m->ever_connected) {
    /* the same settings worked: the broker's accounts or rules changed, and
     * may change back; the network thread tries again with backoff, the
     * records wait in the queue (the video must not stop for it) */
    if (!m->trouble && !m->trouble_said)
      m->trouble = g_strdup_printf ("the broker refused the reconnection: %s",
          mosquitto_connack_string (rc));
    mosquitto_disconnect (mosq);
  } else if (rc == 2 || rc == 4 || rc == 5) { /* id, credentials, not authorised */
    m->refused = TRUE;
    if (!m->refusal)
      m->refusal = g_strdup_printf ("the broker refused the connection: %s",
          mosquitto_connack_string (rc));
    g_cond_broadcast (&m->drained); /* nothing more will be delivered */
    mosquitto_disconnect (mosq);    /* retrying cannot cure it */
  }
  g_mutex_unlock (&m->lock);
}

static void
on_disconnect (struct mosquitto *mosq, void *user, int rc)
{
  DecentMqtt *m = user;
  g_mutex_lock (&m->lock);
  if (m->connected && m->in_flight && rc != 0) /* (0: our own goodbye) */
    m->head_losses++;
  /* (a connection that ends on the first record sent, with none taken,
   * is the record's doing: head_losses) */
  if (m->connected && rc != 0 && !(m->in_flight && m->acked_since == 0)) {
    const gboolean quick = g_get_monotonic_time () - m->connected_since < QUICK_LOSS_US;
    m->quick_losses = quick ? m->quick_losses + 1 : 0;
    if (!quick)
      m->thrash_said = FALSE;
    if (m->quick_losses >= 3 && !m->thrash_said) {
      m->thrash_said = TRUE;
      g_free (m->thrash);
      m->thrash = g_strdup_printf ("the broker closed the connection %u times in a row within "
          "%d s of taking it: another client with the same mqtt-client-id (a broker keeps "
          "one connection an id), or a broker that keeps restarting?", m->quick_losses,
          (int) (QUICK_LOSS_US / G_TIME_SPAN_SECOND));
    }
  }
  m->connected = FALSE;
  g_mutex_unlock (&m->lock);
}

static void
on_publish (struct mosquitto *mosq, void *user, int mid)
{
  DecentMqtt *m = user;
  g_mutex_lock (&m->lock);
  if (m->in_flight && mid == m->in_flight_mid) {
    gchar *sent = g_queue_pop_head (&m->queue);
    if (m->reject_size && strlen (sent) >= m->reject_size)
      m->reject_size = 0; /* as large, and taken: the rejection was no size limit */
    g_free (sent);
    m->delivered++;
    m->acked_since++;
    m->head_losses = 0;
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

static gboolean
connected (DecentMqtt *m)
{
  g_mutex_lock (&m->lock);
  const gboolean c = m->connected;
  g_mutex_unlock (&m->lock);
  return c;
}

/* Whether path starts like a PEM file: a "-----BEGIN " line in its first
 * 64 KB (a certificate bundle's first entry); FALSE with errno set when it
 * cannot be read, errno 0 when it is not PEM.  *encrypted: whether it holds
 * a key protected by a passphrase (PKCS#8 or the older Proc-Type header). */
static gboolean
looks_like_pem (const gchar *path, gboolean *encrypted)
{
  *encrypted = FALSE;
  FILE *f = g_fopen (path, "rb");
  if (!f)
    return FALSE;
  gchar *head = g_malloc (65536);
  const size_t n = fread (head, 1, 65536, f);
  const int why = ferror (f) ? EIO : 0;
  fclose (f);
  const gboolean pem = g_strstr_len (head, (gssize) n, "-----BEGIN ") != NULL;
  *encrypted = pem && (g_strstr_len (head, (gssize) n, "-----BEGIN ENCRYPTED ") != NULL
                          || g_strstr_len (head, (gssize) n, "Proc-Type: 4,ENCRYPTED") != NULL);
  g_free (head);
  errno = pem ? 0 : why;
  return pem;
}

/* OpenSSL's passphrase callback: none.  Without one OpenSSL asks on the
 * terminal, from the network thread, which a stop then waits for forever
 * (helper-80); a key with a passphrase is refused at start instead. */
static int
no_passphrase (char *buf, int size, int rwflag, void *userdata)
{
  return 0;
}

/* Keeps why a try to connect, or a connection, failed: what was tried
 * (NULL: connecting), then libmosquitto's code, or errno's text for
 * MOSQ_ERR_ERRNO (a refused TCP connection). */
static void
note_failure (DecentMqtt *m, const gchar *what, int rc, int why)
{
  g_mutex_lock (&m->lock);
  g_free (m->failure);
  /* (errno may have been reset by the cleanup libmosquitto did since) */
  m->failure = g_strdup_printf ("%s%s%s", what ? what : "", what ? ": " : "",
      /* (libmosquitto 2.0.11 has "Unknown error." for these: helper-70) */
      rc == MOSQ_ERR_KEEPALIVE || rc == MOSQ_ERR_TIMEOUT
      ? "no answer from the broker within the keepalive (30 s)"
      : rc != MOSQ_ERR_ERRNO ? mosquitto_strerror (rc) : why ? g_strerror (why)
      /* (libmosquitto's text would be strerror (0), "Success": helper-67) */
      : m->ever_connected ? "the connection was closed with no reason given"
      : "the connection was closed with no reason given (is the port an MQTT broker's?)");
  g_mutex_unlock (&m->lock);
}

/* Gives m->mosq its settings and our callbacks: a client made anew
 * (mosquitto_new, mosquitto_reinitialise) has none. */
static int
configure_client (DecentMqtt *m)
{
  int rc = mosquitto_threaded_set (m->mosq, true); /* our thread runs its loop */
  if (rc == MOSQ_ERR_SUCCESS && m->ca_file) /* (first: no credentials without it) */
    rc = mosquitto_tls_set (m->mosq, m->ca_file, NULL, m->cert_file, m->key_file,
        no_passphrase);
  if (rc == MOSQ_ERR_SUCCESS && m->username)
    rc = mosquitto_username_pw_set (m->mosq, m->username, m->password);
  mosquitto_connect_callback_set (m->mosq, on_connect);
  mosquitto_disconnect_callback_set (m->mosq, on_disconnect);
  mosquitto_publish_callback_set (m->mosq, on_publish);
  return rc;
}

/* After a connection was lost or a try failed: a client without
 * libmosquitto's copies of what was in flight, which it would resend into
 * the broker's lost session (the header comment), and the head to be sent
 * again by pump once connected.  FALSE, with the failure noted, when the
 * client cannot be set up again (a TLS file unreadable since the start,
 * memory): it must not connect then, or it would connect without TLS and
 * send the password in the clear (helper-59). */
static gboolean
renew_client (DecentMqtt *m)
{
  g_mutex_lock (&m->lock); /* pump publishes under it, never while not connected */
  int rc = mosquitto_reinitialise (m->mosq, m->client_id, true, m);
  m->in_flight = FALSE; /* libmosquitto's copy is gone, whatever came of it */
  if (rc == MOSQ_ERR_SUCCESS)
    rc = configure_client (m);
  g_mutex_unlock (&m->lock);
  if (rc != MOSQ_ERR_SUCCESS)
    note_failure (m, "could not set the client up again (are mqtt-ca-file, mqtt-cert-file "
        "and mqtt-key-file still readable?)", rc, errno);
  return rc == MOSQ_ERR_SUCCESS;
}

/* Connects (without blocking on the TCP handshake: the loop finishes it, so
 * a stop is seen within 100 ms), runs the network loop, reconnects with
 * backoff, each time with a client made anew (renew_client); at the end
 * sends DISCONNECT itself (the loop's thread owns the socket). */
static gpointer
network_thread (gpointer data)
{
  DecentMqtt *m = data;
  guint delay = 1;
  for (gboolean first = TRUE; !g_atomic_int_get (&m->stopping); first = FALSE) {
    if (!first && !renew_client (m)) { /* said why; never connect without its settings */
      backoff_sleep (m, delay);
      delay = MIN (delay * 2, 16);
      continue;
    }
    g_mutex_lock (&m->lock);
    m->try_since = g_get_monotonic_time ();
    g_mutex_unlock (&m->lock);
    int rc = mosquitto_connect_async (m->mosq, m->host, m->port, 30);
    if (rc <= MOSQ_ERR_SUCCESS) {
      while (!g_atomic_int_get (&m->stopping)
             && (rc = mosquitto_loop (m->mosq, 100, 1)) == MOSQ_ERR_SUCCESS)
        if (connected (m)) /* under way: the next outage starts the backoff anew */
          delay = 1;
    }
    if (rc > MOSQ_ERR_SUCCESS && !g_atomic_int_get (&m->stopping))
      note_failure (m, NULL, rc, errno);
    g_mutex_lock (&m->lock);
    m->try_since = 0;
    const gboolean was = m->connected;
    m->connected = FALSE;
    if (m->qos == 0)
      m->in_flight = FALSE; /* (QoS 1 and 2: renew_client, before the next try) */
    const gboolean refused = m->refused;
    g_mutex_unlock (&m->lock);
    if (was && g_atomic_int_get (&m->stopping)) { /* a clean goodbye, within a second */
      mosquitto_disconnect (m->mosq);
      for (int i = 0; i < 10 && mosquitto_loop (m->mosq, 100, 1) == MOSQ_ERR_SUCCESS; i++)
        ;
    }
    if (refused)
      break; /* retrying cannot cure it */
    backoff_sleep (m, delay);
    delay = MIN (delay * 2, 16);
  }
  g_mutex_lock (&m->lock);
  m->done = TRUE;
  const gboolean orphaned = m->orphaned;
  g_cond_broadcast (&m->drained);
  g_mutex_unlock (&m->lock);
  if (orphaned) /* (the element has stopped without it: decent_mqtt_free) */
    destroy (m);
  return NULL;
}

/* libmosquitto's global setup, once for the process and never undone (its
 * cleanup unloads OpenSSL's modules for everyone) */
static gpointer
init_library (gpointer unused)
{
  mosquitto_lib_init ();
  return NULL;
}

gboolean
decent_mqtt_topic_ok (const gchar *topic)
{
  return topic && *topic && mosquitto_pub_topic_check (topic) == MOSQ_ERR_SUCCESS
         && mosquitto_validate_utf8 (topic, (int) strlen (topic)) == MOSQ_ERR_SUCCESS;
}

DecentMqtt *
decent_mqtt_new (const DecentMqttSettings *s, gchar **why)
{
  if (!s->host || !*s->host || s->port < 1 || s->port > 65535 || !s->topic || !*s->topic
      || s->qos < 0 || s->qos > 2 || s->queue_size < 1) {
    gchar *shown = decent_shown_setting (s->host, 80);
    *why = g_strdup_printf ("MQTT settings need a host, a port in 1..65535, a topic, QoS 0..2 "
        "and a queue of at least 1 (host \"%s\", port %d, QoS %d, queue %u)",
        shown, s->port, s->qos, s->queue_size);
    g_free (shown);
    return NULL;
  }
  /* (shown escaped and cut: a line break or an escape sequence in it must
   * not forge a log line or drive the terminal, nor 64 KB be echoed) */
  if (!decent_mqtt_topic_ok (s->topic)) {
    gchar *shown = decent_shown_setting (s->topic, 80);
    *why = g_strdup_printf ("\"%s\" cannot be an MQTT topic to publish to (no + or #, no "
        "control characters such as a line break, UTF-8, at most 65535 bytes)", shown);
    g_free (shown);
    return NULL;
  }
  if (s->topic[0] == '$') { /* MQTT 4.7.2: the broker's own; it drops what clients send */
    gchar *shown = decent_shown_setting (s->topic, 80);
    *why = g_strdup_printf ("\"%s\": topics that begin with $ belong to the broker, which "
        "drops what clients publish there; choose another mqtt-topic", shown);
    g_free (shown);
    return NULL;
  }
  /* MQTT 3.1.1 client ids: 1 to 23 bytes are what every broker takes; many
   * take more, none an empty id with a session kept, nor over 65535 */
  if (s->client_id && (!*s->client_id || strlen (s->client_id) > 65535
                          || mosquitto_validate_utf8 (s->client_id, (int) strlen (s->client_id))
                                 != MOSQ_ERR_SUCCESS)) {
    /* (cut by characters, escaped: "%.80s" split a character in two, and
     * GStreamer dropped the whole reason as not UTF-8: helper-67) */
    gchar *shown = decent_shown_setting (s->client_id, 80);
    *why = g_strdup_printf ("mqtt-client-id \"%s\" is not a valid MQTT client id (1 to "
        "65535 bytes of UTF-8; leave it unset for one of the element's own)", shown);
    g_free (shown);
    return NULL;
  }
  /* TLS files are read when connecting, in the background: a missing one
   * would look like a broker that is not there, so they are checked now */
  const gchar *tls[3][2] = { { "mqtt-ca-file", s->ca_file }, { "mqtt-cert-file", s->cert_file },
    { "mqtt-key-file", s->key_file } };
  for (int k = 0; k < 3; k++) {
    if (!tls[k][1] || !*tls[k][1])
      continue;
    if (!g_file_test (tls[k][1], G_FILE_TEST_IS_REGULAR)) {
      gchar *shown = decent_shown_name (tls[k][1]);
      *why = g_strdup_printf ("%s %s: %s", tls[k][0], shown,
          g_file_test (tls[k][1], G_FILE_TEST_EXISTS) ? "not a regular file"
                                                        : g_strerror (ENOENT));
      g_free (shown);
      return NULL;
    }
  }
  if ((s->cert_file && *s->cert_file) != (s->key_file && *s->key_file)
      || ((s->cert_file && *s->cert_file) && !(s->ca_file && *s->ca_file))) {
    *why = g_strdup ("a client certificate needs mqtt-cert-file and mqtt-key-file together, "
        "and mqtt-ca-file to turn TLS on (without it the connection would be plain text)");
    return NULL;
  }
  /* nor would a file that is not PEM: "A TLS error occurred" at last */
  for (int k = 0; k < 3; k++) {
    if (!tls[k][1] || !*tls[k][1])
      continue;
    gboolean encrypted;
    if (!looks_like_pem (tls[k][1], &encrypted) || encrypted) {
      const int failed = errno;
      gchar *shown = decent_shown_name (tls[k][1]);
      *why = g_strdup_printf ("%s %s: %s", tls[k][0], shown, encrypted
          ? "a key protected by a passphrase, which an element cannot ask for (decrypt it: "
            "openssl pkey -in KEY -out PLAIN_KEY)"
          : failed ? g_strerror (failed)
                   : "not a PEM file (no \"-----BEGIN\" line in its first 64 KB)");
      g_free (shown);
      return NULL;
    }
  }
  static GOnce once = G_ONCE_INIT;
  g_once (&once, init_library, NULL);
  DecentMqtt *m = g_new0 (DecentMqtt, 1);
  g_mutex_init (&m->lock);
  g_cond_init (&m->drained);
  g_queue_init (&m->queue);
  m->host = g_strdup (s->host);
  m->port = s->port;
  m->topic = g_strdup (s->topic);
  m->qos = s->qos;
  m->queue_size = s->queue_size;
  m->client_id = g_strdup (s->client_id);
  m->username = g_strdup (s->username);
  m->password = g_strdup (s->password);
  if (s->ca_file && *s->ca_file) {
    m->ca_file = g_strdup (s->ca_file);
    m->cert_file = s->cert_file && *s->cert_file ? g_strdup (s->cert_file) : NULL;
    m->key_file = s->key_file && *s->key_file ? g_strdup (s->key_file) : NULL;
  }
  m->mosq = mosquitto_new (m->client_id, true, m);
  int rc = m->mosq ? configure_client (m) : MOSQ_ERR_NOMEM;
  if (rc != MOSQ_ERR_SUCCESS) {
    gchar *shown = decent_shown_setting (s->host, 80);
    *why = g_strdup_printf ("MQTT client for %s:%d: %s", shown, s->port,
        mosquitto_strerror (rc));
    g_free (shown);
    decent_mqtt_free (m, 0);
    return NULL;
  }
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

/* One of m's texts, taken under its lock and left NULL (caller frees). */
static gchar *
take_text (DecentMqtt *m, gchar **text)
{
  g_mutex_lock (&m->lock);
  gchar *r = g_steal_pointer (text);
  g_mutex_unlock (&m->lock);
  return r;
}

gchar *
decent_mqtt_take_refusal (DecentMqtt *m)
{
  return take_text (m, &m->refusal);
}

gchar *
decent_mqtt_last_failure (DecentMqtt *m)
{
  g_mutex_lock (&m->lock);
  gchar *r = NULL;
  const gint64 waiting = m->try_since ? g_get_monotonic_time () - m->try_since : 0;
  if (!m->connected && m->try_since && (!m->failure || waiting >= UNANSWERED_US))
    /* a server that takes the TCP connection and never answers MQTT's
     * CONNECT left this unsaid (helper-68), and so did an older try's
     * failure (helper-70) */
    r = g_strdup_printf ("the try to connect under way has had no answer for %.1f s (a port "
        "that takes connections but is not an MQTT broker's, or a firewall that drops them?)"
        "%s%s", waiting / 1e6, m->failure ? "; the try before it: " : "",
        m->failure ? m->failure : "");
  else if (!m->connected && m->failure)
    r = g_strdup_printf ("the last try to connect failed: %s", m->failure);
  g_mutex_unlock (&m->lock);
  return r;
}

gchar *
decent_mqtt_take_trouble (DecentMqtt *m)
{
  g_mutex_lock (&m->lock);
  gchar *r = m->trouble;
  m->trouble = NULL;
  if (r)
    m->trouble_said = TRUE;
  g_mutex_unlock (&m->lock);
  return r;
}

gchar *
decent_mqtt_take_thrash (DecentMqtt *m)
{
  return take_text (m, &m->thrash);
}

gchar *
decent_mqtt_take_rejection (DecentMqtt *m)
{
  g_mutex_lock (&m->lock);
  gchar *r = m->rejection;
  if (r && m->rejections_untaken > 1) {
    r = g_strdup_printf ("%u records were dropped, the last: %s", m->rejections_untaken,
        m->rejection);
    g_free (m->rejection);
  }
  m->rejection = NULL;
  m->rejections_untaken = 0;
  g_mutex_unlock (&m->lock);
  return r;
}

void
decent_mqtt_counts (DecentMqtt *m, guint64 *queued, guint64 *delivered, guint64 *dropped,
    guint64 *rejected)
{
  g_mutex_lock (&m->lock);
  *queued = m->queued;
  *delivered = m->delivered;
  *dropped = m->dropped;
  *rejected = m->rejected;
  g_mutex_unlock (&m->lock);
}

guint
decent_mqtt_drain (DecentMqtt *m, guint timeout_ms)
{
  g_mutex_lock (&m->lock);
  const gint64 until = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (!g_queue_is_empty (&m->queue) && !m->refused && !m->done && !m->interrupted
         && g_cond_wait_until (&m->drained, &m->lock, until))
    ;
  const guint left = m->queue.length;
  g_mutex_unlock (&m->lock);
  return left;
}

void
decent_mqtt_interrupt (DecentMqtt *m)
{
  g_mutex_lock (&m->lock);
  m->interrupted = TRUE;
  g_cond_broadcast (&m->drained);
  g_mutex_unlock (&m->lock);
}

/* How long a stop waits for the network thread: its waits see a stop
 * within 100 ms, and its goodbye to the broker takes up to 1 s. */
#define STOP_WAIT_US (2 * G_TIME_SPAN_SECOND)

guint
decent_mqtt_free (DecentMqtt *m, guint timeout_ms)
{
  if (!m)
    return 0;
  const guint left = decent_mqtt_drain (m, timeout_ms);
  g_atomic_int_set (&m->stopping, 1);
  if (m->thread) {
    /* it says goodbye to the broker itself; but a name lookup of mqtt-host
     * (libmosquitto's connect resolves it in our thread) can take as long
     * as a resolver that does not answer, 10 s a nameserver: a stop then
     * leaves the thread to end and free m itself (helper-80: a stop took
     * 18 s) */
    const gint64 until = g_get_monotonic_time () + STOP_WAIT_US;
    g_mutex_lock (&m->lock);
    while (!m->done && g_cond_wait_until (&m->drained, &m->lock, until))
      ;
    GThread *thread = m->thread;
    const gboolean orphaned = m->orphaned = !m->done;
    g_mutex_unlock (&m->lock);
    if (orphaned) { /* (m may be gone already) */
      g_thread_unref (thread);
      return left;
    }
    g_thread_join (thread);
  }
  destroy (m);
  return left;
}

/* Frees m, whose network thread has ended. */
static void
destroy (DecentMqtt *m)
{
  if (m->mosq)
    mosquitto_destroy (m->mosq);
  g_free (m->host);
  g_free (m->client_id);
  g_free (m->username);
  if (m->password)
    memset (m->password, 0, strlen (m->password));
  g_free (m->password);
  g_free (m->ca_file);
  g_free (m->cert_file);
  g_free (m->key_file);
  g_queue_clear_full (&m->queue, g_free);
  g_free (m->refusal);
  g_free (m->failure);
  g_free (m->trouble);
  g_free (m->rejection);
  g_free (m->thrash);
  g_free (m->topic);
  g_mutex_clear (&m->lock);
  g_cond_clear (&m->drained);
  g_free (m);
}
