/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mqttout.h — an ordered, bounded, acknowledged MQTT publisher (libmosquitto)
 * for decentpublish: records wait in a queue while the broker is away and
 * go out in order, one at a time, each kept until the broker has it (QoS 1
 * and 2: its acknowledgement); the client reconnects with backoff. */
#ifndef DECENT_MQTT_OUT_H
#define DECENT_MQTT_OUT_H

#include <glib.h>

typedef struct {
  const gchar *host;
  gint port;
  const gchar *topic;
  gint qos;                 /* 0, 1 or 2 */
  const gchar *client_id;   /* NULL: one made up by the library */
  const gchar *username, *password;        /* NULL: none */
  const gchar *ca_file, *cert_file, *key_file; /* TLS when ca_file is set */
  guint queue_size;         /* records kept while the broker is away */
} DecentMqttSettings;

typedef struct DecentMqtt DecentMqtt;

/* Starts the client (connecting in the background); NULL with why
 * (caller frees) for settings it cannot use. */
DecentMqtt *decent_mqtt_new (const DecentMqttSettings *settings, gchar **why);
/* Whether topic is one to publish to (decent_mqtt_new refuses it otherwise,
 * with the reason): no wildcard or control character, UTF-8.  (A topic
 * that begins with $ is refused too: the broker's own.) */
gboolean decent_mqtt_topic_ok (const gchar *topic);

/* Queues one record (copied); FALSE when the queue is full and it was
 * dropped. */
gboolean decent_mqtt_publish (DecentMqtt *m, const gchar *payload);

/* A reason the broker gave that retrying cannot cure (credentials), once;
 * NULL otherwise.  Caller frees.  Only before the first connection: after
 * it, the same settings worked, and a refusal is the broker's change. */
gchar *decent_mqtt_take_refusal (DecentMqtt *m);

/* A refusal after the client had connected (the broker's accounts or
 * rules changed): the client goes on trying with backoff and the records
 * wait in the queue.  Once an outage (until it connects again); NULL
 * otherwise.  Caller frees. */
gchar *decent_mqtt_take_trouble (DecentMqtt *m);

/* While not connected, why the records are not going: "the last try to
 * connect failed: Connection refused" (or why the connection failed), or,
 * where none failed yet or it has waited 5 s, for how long the try under
 * way has had no answer; NULL when connected or not tried yet.  Caller
 * frees. */
gchar *decent_mqtt_last_failure (DecentMqtt *m);

/* Why the records the broker would not take (it closed the connection
 * each time one was sent) since the last call were dropped (their count,
 * and the last one's size); NULL when none was.  Caller frees. */
gchar *decent_mqtt_take_rejection (DecentMqtt *m);

/* That the broker keeps closing the connection within seconds of taking
 * it (a client id another client uses too), once until a connection
 * lasts; NULL otherwise.  Caller frees. */
gchar *decent_mqtt_take_thrash (DecentMqtt *m);

/* Counts so far: records queued, delivered, dropped (queue full, or too
 * large for MQTT), rejected (dropped after the broker closed the connection
 * at each try to send it). */
void decent_mqtt_counts (DecentMqtt *m, guint64 *queued, guint64 *delivered, guint64 *dropped,
    guint64 *rejected);

/* Waits up to timeout_ms for the queue to empty (less when the broker
 * refused us for good); returns how many records are still queued. */
guint decent_mqtt_drain (DecentMqtt *m, guint timeout_ms);

/* Ends a drain waiting in another thread now, and every later wait: the
 * application is stopping (any thread). */
void decent_mqtt_interrupt (DecentMqtt *m);

/* Waits up to timeout_ms for the queue to empty, then disconnects and
 * frees; returns how many records were left undelivered.  A network
 * thread that does not end within 2 s (a name lookup of the host that
 * hangs) is left to end and free the client itself. */
guint decent_mqtt_free (DecentMqtt *m, guint timeout_ms);

#endif
