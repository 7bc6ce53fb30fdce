/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstdecentpublish.h — decentpublish: writes decentanomaly's events (and,
 * optionally, every scored frame) as JSON lines to a file, rotated by size. */
#ifndef GST_DECENT_PUBLISH_H
#define GST_DECENT_PUBLISH_H

#include <gst/base/gstbasetransform.h>
#include <stdio.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* An event (or one place's: region) that began and has not ended. */
typedef struct {
  gchar *element;       /* the decentanomaly's name (NULL: not given) */
  gchar *path;          /* its path in the pipeline (NULL: not given): what
                         * tells elements of one name in two bins apart */
  guint64 id;           /* a region's id; 0 for a frame event */
  gboolean region;
} DecentOpenEvent;

#define GST_TYPE_DECENT_PUBLISH (gst_decent_publish_get_type ())
G_DECLARE_FINAL_TYPE (GstDecentPublish, gst_decent_publish, GST, DECENT_PUBLISH,
    GstBaseTransform)

struct _GstDecentPublish {
  GstBaseTransform parent;

  /* properties, under the object lock */
  gchar *location;
  gchar *camera;
  gboolean per_frame;
  guint64 max_size;
  guint max_files;
  gchar *mqtt_host, *mqtt_topic, *mqtt_client_id, *mqtt_username, *mqtt_password;
  gchar *mqtt_ca_file, *mqtt_cert_file, *mqtt_key_file;
  gint mqtt_port, mqtt_qos;
  guint mqtt_queue_size, mqtt_flush_timeout;
  gboolean started;     /* from start() to stop(): the destinations are open */

  /* the open file: start() and stop() (no streaming then) and the
   * streaming thread only */
  int fd;               /* -1: none (not set, or could not be opened again) */
  gchar *path;          /* location as opened */
  gchar *shown;         /* it, for messages (valid UTF-8) */
  gchar *camera_used;   /* camera as started: every record until stop names it (under
                         * the object lock) */
  guint64 written;      /* records written */
  guint64 dropped;      /* records that could not be written */
  gboolean warned;      /* a write failure was said, once an outage */
  gint64 failed_at;     /* monotonic time of the last write failure */
  gboolean wrote_since_failure; /* a record was written after it */
  guint max_files_used; /* the largest max-files a rotation of this run used */
  int open_errno;       /* why the file could not be opened again (fd -1) */
  gboolean seekable;    /* a regular file: sized, rotated, torn records cut off;
                         * not stdout, a pipe or a FIFO, which are only written */
  guint rotate_warned;  /* failed rotations said, once each: bit 0 the file that
                         * starts anew, bit 1 an older one replaced */
  gboolean reader_stalled; /* a pipe stayed full for the pipe wait: from then on,
                            * for the run, records that do not fit are dropped */
  gboolean stall_said;  /* that was said (once a run) */
  dev_t foreign_dev;    /* a file put at location during the run that holds */
  ino_t foreign_ino;    /* something else (a model): not written to; 0: none */
  guint pipe_wait_ms;   /* PIPE_WAIT_MS, or DECENT_PIPE_WAIT_MS (tests) */
  gboolean torn;        /* a record went only in part into the pipe: the next
                         * starts on a new line */
  int stop_fd;          /* an eventfd a stop makes readable: a wait for a full
                         * pipe ends (-1: none could be made; waits are bounded) */
  gint stopping;        /* atomic: a stop was asked for */
  gboolean mqtt_said;   /* undelivered records or a refusal were said at EOS */
  GArray *open;         /* DecentOpenEvent: begins written without an end, of
                         * each decentanomaly upstream (stop() ends them) */
  gboolean flushed;     /* a flush stopped, and no frame or begin came since:
                         * events open before it whose end did not come are
                         * ended (a queue between drops what it holds) */
  struct DecentMqtt *mqtt; /* the broker's client, or NULL */
  gchar *broker;        /* mqtt://host:port/topic, for messages */
  gboolean mqtt_warned; /* a full queue was said once */
};

GST_ELEMENT_REGISTER_DECLARE (decentpublish);

G_END_DECLS

#endif
