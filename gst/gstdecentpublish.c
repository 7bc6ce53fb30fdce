/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gstdecentpublish.c — decentpublish, placed after decentanomaly: every
 * anomaly event that decentanomaly announces downstream (a serialized
 * custom event "decentanomaly-event" or, one place's, "decentanomaly-region",
 * ahead of the frame) becomes one JSON
 * line in a file, and with per-frame=true every frame's
 * GstDecentAnomalyMeta too (docs/plugin.md has the schema).  Buffers pass
 * untouched.  A write that fails (a full disk) is said once as a warning
 * and counted; the video goes on. */
#include "gstdecentpublish.h"

#include <errno.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <pthread.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "decent/decentmeta.h"
#include "mqttout.h"
#include "shownname.h"

GST_DEBUG_CATEGORY_STATIC (gst_decent_publish_debug);
#define GST_CAT_DEFAULT gst_decent_publish_debug

enum {
  PROP_0, PROP_LOCATION, PROP_CAMERA, PROP_PER_FRAME, PROP_MAX_SIZE, PROP_MAX_FILES,
  PROP_MQTT_HOST, PROP_MQTT_PORT, PROP_MQTT_TOPIC, PROP_MQTT_QOS, PROP_MQTT_CLIENT_ID,
  PROP_MQTT_USERNAME, PROP_MQTT_PASSWORD, PROP_MQTT_CA_FILE, PROP_MQTT_CERT_FILE,
  PROP_MQTT_KEY_FILE, PROP_MQTT_QUEUE_SIZE, PROP_MQTT_FLUSH_TIMEOUT
};

/* the string properties, by id, for set/get/finalize */
#define STRING_PROPS(self) { [PROP_LOCATION] = &(self)->location,                     \
    [PROP_CAMERA] = &(self)->camera, [PROP_MQTT_HOST] = &(self)->mqtt_host,              \
    [PROP_MQTT_TOPIC] = &(self)->mqtt_topic, [PROP_MQTT_CLIENT_ID] = &(self)->mqtt_client_id, \
    [PROP_MQTT_USERNAME] = &(self)->mqtt_username,                                       \
    [PROP_MQTT_PASSWORD] = &(self)->mqtt_password,                                       \
    [PROP_MQTT_CA_FILE] = &(self)->mqtt_ca_file,                                         \
    [PROP_MQTT_CERT_FILE] = &(self)->mqtt_cert_file,                                     \
    [PROP_MQTT_KEY_FILE] = &(self)->mqtt_key_file, [PROP_MQTT_FLUSH_TIMEOUT] = NULL }

#define DEFAULT_MAX_FILES 5
#define DEFAULT_MQTT_PORT 1883
#define DEFAULT_MQTT_QOS 1
#define DEFAULT_MQTT_QUEUE 1000
#define DEFAULT_MQTT_FLUSH_MS 5000

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK,
    GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC,
    GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

G_DEFINE_TYPE (GstDecentPublish, gst_decent_publish, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (decentpublish, "decentpublish", GST_RANK_NONE,
    GST_TYPE_DECENT_PUBLISH);

/* ---- JSON ------------------------------------------------------------- */

static void
json_string (GString *out, const gchar *text)
{
  gchar *valid = g_utf8_make_valid (text ? text : "", -1);
  g_string_append_c (out, '"');
  for (const gchar *p = valid; *p; p++) {
    const guchar c = (guchar) *p;
    if (c == '"' || c == '\\')
      g_string_append_printf (out, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (out, "\\u%04x", c);
    else
      g_string_append_c (out, (gchar) c);
  }
  g_string_append_c (out, '"');
  g_free (valid);
}

/* ,"key":value — numbers that are not finite become null */
static void
json_number (GString *out, const gchar *key, const gchar *format, gdouble v)
{
  gchar text[G_ASCII_DTOSTR_BUF_SIZE];
  if (isfinite (v)) /* '.' whatever the locale: JSON has no other */
    g_string_append_printf (out, ",\"%s\":%s", key,
        g_ascii_formatd (text, sizeof text, format, v));
  else
    g_string_append_printf (out, ",\"%s\":null", key);
}

static void
json_double (GString *out, const gchar *key, gdouble v)
{
  json_number (out, key, "%.9g", v);
}

/* "threshold": null where decentanomaly flags nothing (a model without a
 * calibrated threshold: the largest double), which a reader cannot tell
 * from a number once printed. */
static void
json_threshold (GString *out, gdouble threshold)
{
  json_double (out, "threshold", threshold < G_MAXDOUBLE ? threshold : NAN);
}

/* ,"key":seconds, or null for GST_CLOCK_TIME_NONE */
static void
json_time (GString *out, const gchar *key, GstClockTime t)
{
  json_number (out, key, "%.6f", GST_CLOCK_TIME_IS_VALID (t) ? t / (gdouble) GST_SECOND : NAN);
}

/* {"type":…,"camera":…,"utc":… — the head of every record */
static GString *
record_new (const gchar *type, const gchar *camera)
{
  GString *out = g_string_new ("{\"type\":");
  json_string (out, type);
  g_string_append (out, ",\"camera\":");
  json_string (out, camera);
  GDateTime *now = g_date_time_new_now_utc ();
  gchar *utc = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
  g_string_append_printf (out, ",\"utc\":\"%s\"", utc);
  g_free (utc);
  g_date_time_unref (now);
  return out;
}

static void
json_region (GString *out, gint x, gint y, gint w, gint h)
{
  g_string_append_printf (out, ",\"region\":{\"x\":%d,\"y\":%d,\"width\":%d,\"height\":%d}", x,
      y, w, h);
}

static GstClockTime
structure_time (const GstStructure *s, const gchar *field)
{
  guint64 t;
  return gst_structure_get_uint64 (s, field, &t) ? t : GST_CLOCK_TIME_NONE;
}

/* The decentanomaly that sent an event: its name, and its path in the
 * pipeline (names repeat in other bins), each when given. */
static void
json_element (GString *out, const gchar *element, const gchar *path)
{
  if (element) {
    g_string_append (out, ",\"element\":");
    json_string (out, element);
  }
  if (path) {
    g_string_append (out, ",\"element_path\":");
    json_string (out, path);
  }
}

/* What frame and region events share, from their peak on: the peak, the
 * threshold, the running times (start_field: when it began, written as
 * start_key), the region, at the end its frames, and the element's name and path. */
static void
json_event_rest (GString *out, const GstStructure *s, const gchar *start_field,
    const gchar *start_key, gint x, gint y, gint w, gint h)
{
  gdouble peak = NAN, threshold = NAN, peak_norm = NAN;
  guint64 frames = 0;
  gst_structure_get (s, "peak-score", G_TYPE_DOUBLE, &peak, "threshold", G_TYPE_DOUBLE,
      &threshold, "peak-normalized-score", G_TYPE_DOUBLE, &peak_norm, NULL);
  json_double (out, "peak_score", peak);
  json_threshold (out, threshold);
  json_double (out, "peak_normalized_score", peak_norm);
  json_time (out, "running_time", structure_time (s, "running-time"));
  json_time (out, start_key, structure_time (s, start_field));
  json_region (out, x, y, w, h);
  if (gst_structure_get_uint64 (s, "frames", &frames)) {
    g_string_append_printf (out, ",\"frames\":%" G_GUINT64_FORMAT, frames);
    json_time (out, "last_flagged_running_time",
        structure_time (s, "last-flagged-running-time"));
  }
  /* which decentanomaly: several may score one stream (one per roi) */
  json_element (out, gst_structure_get_string (s, "element"),
      gst_structure_get_string (s, "element-path"));
  g_string_append_c (out, '}');
}

/* One record of a "decentanomaly-event" structure. */
static gchar *
event_record (const GstStructure *s, const gchar *camera)
{
  const gchar *type = gst_structure_get_string (s, "type");
  guint64 frame = 0, event_frame = 0;
  gdouble score = NAN;
  gint x = 0, y = 0, w = 0, h = 0;
  gst_structure_get (s, "frame", G_TYPE_UINT64, &frame, "event-frame", G_TYPE_UINT64,
      &event_frame, "score", G_TYPE_DOUBLE, &score, NULL);
  gst_structure_get (s, "roi-x", G_TYPE_INT, &x, "roi-y", G_TYPE_INT, &y, "roi-width",
      G_TYPE_INT, &w, "roi-height", G_TYPE_INT, &h, NULL);
  GString *out = record_new (type ? type : "unknown", camera);
  g_string_append_printf (out, ",\"frame\":%" G_GUINT64_FORMAT ",\"event_frame\":%"
      G_GUINT64_FORMAT, frame, event_frame);
  json_double (out, "score", score);
  json_event_rest (out, s, "event-running-time", "event_running_time", x, y, w, h);
  return g_string_free (out, FALSE);
}

/* One record of a "decentanomaly-region" structure: one place's event,
 * "region-begin" or "region-end". */
static gchar *
region_record (const GstStructure *s, const gchar *camera)
{
  guint64 id = 0, frame = 0, region_frame = 0;
  gint x = 0, y = 0, w = 0, h = 0;
  gst_structure_get (s, "id", G_TYPE_UINT64, &id, "frame", G_TYPE_UINT64, &frame,
      "region-frame", G_TYPE_UINT64, &region_frame, NULL);
  gst_structure_get (s, "x", G_TYPE_INT, &x, "y", G_TYPE_INT, &y, "width", G_TYPE_INT, &w,
      "height", G_TYPE_INT, &h, NULL);
  const gboolean end = g_strcmp0 (gst_structure_get_string (s, "type"), "end") == 0;
  GString *out = record_new (end ? "region-end" : "region-begin", camera);
  g_string_append_printf (out, ",\"id\":%" G_GUINT64_FORMAT ",\"frame\":%" G_GUINT64_FORMAT
      ",\"region_frame\":%" G_GUINT64_FORMAT, id, frame, region_frame);
  json_event_rest (out, s, "region-running-time", "region_running_time", x, y, w, h);
  return g_string_free (out, FALSE);
}

/* One record of a frame's meta. */
static gchar *
frame_record (const GstDecentAnomalyMeta *m, GstClockTime running_time, const gchar *camera)
{
  GString *out = record_new ("frame", camera);
  g_string_append_printf (out, ",\"frame\":%" G_GUINT64_FORMAT ",\"scored_frame\":%"
      G_GUINT64_FORMAT ",\"scored\":%s,\"flagged\":%s", m->frame_number, m->scored_frame_number,
      m->scored ? "true" : "false", m->flagged ? "true" : "false");
  json_double (out, "score", m->score);
  json_threshold (out, m->threshold);
  json_double (out, "normalized_score", m->normalized_score);
  json_time (out, "running_time", running_time);
  json_region (out, (gint) m->roi_x, (gint) m->roi_y, (gint) m->roi_width,
      (gint) m->roi_height);
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

/* ---- the file ---------------------------------------------------------- */

/* location.N for N >= 1 */
static gchar *
rotated_name (const gchar *path, guint n)
{
  return g_strdup_printf ("%s.%u", path, n);
}

/* How long a record waits for room in a full pipe (a reader that is
 * slow for a moment) before the reader counts as stalled. */
#define PIPE_WAIT_MS 1000

/* path opened for appending (or anew with truncate), a descriptor or -1
 * with errno set.  Never blocks: a FIFO without a reader fails (ENXIO)
 * instead of hanging the state change.  A pipe, FIFO or terminal stays
 * non-blocking (write_all waits for it, boundedly); a regular file blocks
 * as files do.  *seekable: a regular file.  No stdio: a record that failed
 * must not stay in a buffer, to be written in front of the next. */
static int
open_events_file (const gchar *path, gboolean truncate, gboolean *seekable)
{
  int fd = g_open (path, O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC
                             | (truncate ? O_TRUNC : 0), 0644);
  if (fd < 0)
    return -1;
  struct stat st;
  int flags = fcntl (fd, F_GETFL);
  if (fstat (fd, &st) != 0 || flags < 0
      || (S_ISREG (st.st_mode) && fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) != 0)) {
    const int why = errno;
    close (fd);
    errno = why;
    return -1;
  }
  *seekable = S_ISREG (st.st_mode);
  return fd;
}

/* A stop or a flushing seek: a wait for room in a full pipe ends at once,
 * and so does every wait until allow_waits.  Any thread. */
static void
interrupt_waits (GstDecentPublish *self)
{
  g_atomic_int_set (&self->stopping, 1);
  if (self->stop_fd >= 0)
    eventfd_write (self->stop_fd, 1);
}

/* After a flush, or at start: records may wait for room again. */
static void
allow_waits (GstDecentPublish *self)
{
  g_atomic_int_set (&self->stopping, 0);
  eventfd_t drained;
  if (self->stop_fd >= 0)
    eventfd_read (self->stop_fd, &drained); /* (non-blocking: nothing there is fine) */
}

/* Writes all of data (a pipe may take it in parts); FALSE with errno set.
 * A full pipe is waited for up to the pipe wait (PIPE_WAIT_MS), once a
 * run: a reader that let it run out has stalled, and from then on a record
 * that does not fit is dropped at once (unless it is half written), so
 * that a reader that stops reading (less, a stopped terminal), or reads in
 * bursts, does not hold the video up again and again.  A stop or a
 * flushing seek ends a wait at once (ECANCELED).  EAGAIN: no room in time.
 * Streaming thread. */
static gboolean
write_all (GstDecentPublish *self, const gchar *data, gsize len)
{
  const gsize whole = len;
  gint64 deadline = 0;
  while (len > 0) {
    const ssize_t n = write (self->fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (len == whole && self->reader_stalled) {
        errno = EAGAIN;
        return FALSE;
      }
      const gint64 now = g_get_monotonic_time ();
      if (!deadline)
        deadline = now + self->pipe_wait_ms * G_TIME_SPAN_MILLISECOND;
      struct pollfd fds[2] = { { self->fd, POLLOUT, 0 }, { self->stop_fd, POLLIN, 0 } };
      const int left_ms = (int) ((deadline - now + 999) / 1000);
      const int ready = left_ms > 0 ? poll (fds, self->stop_fd >= 0 ? 2 : 1, left_ms) : 0;
      if (g_atomic_int_get (&self->stopping)) {
        self->torn |= len < whole;
        errno = ECANCELED;
        return FALSE;
      }
      if (ready == 0) {
        self->torn |= len < whole;
        self->reader_stalled = TRUE;
        errno = EAGAIN;
        return FALSE;
      }
      continue; /* room, or an error the next write() reports (EPIPE) */
    }
    if (n <= 0) {
      if (n == 0)
        errno = EIO;
      self->torn |= len < whole && !self->seekable;
      return FALSE;
    }
    data += n;
    len -= (gsize) n;
  }
  self->torn = FALSE; /* (a line after a torn one began with a line break) */
  return TRUE;
}

/* Where the next record starts: the file's size, as every write appends
 * (another writer may have appended since the last record), or -1.  A
 * failed write cuts the file back to it, and nothing before it. */
static off_t
file_end (int fd)
{
  struct stat st;
  return fstat (fd, &st) == 0 ? st.st_size : -1;
}

static const gchar *not_records (const gchar *path);
static const gchar *not_for_records (int fd, const gchar *path);

/* Up to size bytes from the start of the file at path, without waiting on
 * a FIFO; how many (0 or less: none, or it cannot be read). */
static ssize_t
read_head (const gchar *path, gchar *head, gsize size)
{
  const int fd = g_open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  const ssize_t n = read (fd, head, size);
  close (fd);
  return n;
}

/* Whether the file at path begins as decentpublish's records do: a rotated
 * file of an earlier run, not a logrotate archive of something else. */
static gboolean
holds_our_records (const gchar *path)
{
  static const gchar record[] = "{\"type\":\"";
  gchar head[sizeof record - 1];
  return read_head (path, head, sizeof head) == (ssize_t) sizeof head
         && memcmp (head, record, sizeof head) == 0;
}

/* A write failure after this long without one is a new outage, said again. */
#define OUTAGE_QUIET_US (5 * G_TIME_SPAN_SECOND)

/* location -> location.1 -> … -> location.max_files (the oldest goes);
 * with max_files 0 the file starts anew, and so it does when it cannot be
 * moved away: max-size bounds the disk used either way.  Streaming thread. */
static void
rotate (GstDecentPublish *self, guint max_files)
{
  close (self->fd);
  self->fd = -1;
  gboolean moved = TRUE;
  gchar *older_from = NULL, *older_to = NULL; /* the oldest that could not move on */
  int older_why = 0, newest_why = 0;
  self->max_files_used = MAX (self->max_files_used, max_files);
  for (guint n = max_files; n >= 1; n--) {
    gchar *from = n == 1 ? g_strdup (self->path) : rotated_name (self->path, n - 1);
    gchar *to = rotated_name (self->path, n);
    if (g_rename (from, to) != 0 && errno != ENOENT) {
      if (n == 1) {
        newest_why = errno;
        moved = FALSE;
      } else if (!older_from) {
        older_why = errno;
        older_from = g_steal_pointer (&from);
        older_to = g_steal_pointer (&to);
      }
    }
    g_free (from);
    g_free (to);
  }
  /* files past max-files that this run rotated into place with a larger
   * max-files go too: max-size × (max-files + 1) bounds the disk used
   * (helper-69: lowered from 20 to 2, .3 to .20 stayed for good).  Only
   * those: a logrotate archive or anything else named like one is not
   * ours to delete (helper-70) */
  for (guint n = max_files + 1; n <= 1000; n++) {
    gchar *extra = rotated_name (self->path, n);
    /* past what this run used: only files of decentpublish's records, and
     * never with max-files=0, which rotates into no numbered file (a lower
     * max-files then a restart, to free a full disk, freed nothing:
     * helper-71) */
    const gboolean ours = n <= self->max_files_used ? !not_records (extra)
                          : max_files > 0 && holds_our_records (extra);
    const gboolean gone = ours && g_unlink (extra) == 0;
    g_free (extra);
    if (!gone && n > self->max_files_used)
      break;
  }
  self->max_files_used = max_files;
  self->fd = open_events_file (self->path, max_files == 0 || !moved, &self->seekable);
  self->open_errno = self->fd < 0 ? errno : 0;
  /* each said once, not at every rotation from now on; what happened to the
   * records (helper-67: an older file was named while the newest, which
   * started anew and lost its records, was not; helper-69: one that could
   * not be opened again kept them) */
  gboolean said_dropped = FALSE; /* the warning below says new records are dropped */
  if (newest_why && !(self->rotate_warned & 1)) {
    said_dropped = self->fd < 0;
    gchar *shown_to = rotated_name (self->shown, 1);
    gchar *then = self->fd >= 0 ? g_strdup ("the file starts anew so that max-size holds (its "
        "records are lost)") : g_strdup_printf ("nor could it be opened again to start anew (%s): "
        "its records are kept, and new ones are dropped until it can be",
        g_strerror (self->open_errno));
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("Could not rotate the event file."),
        ("renaming %s to %s: %s; %s", self->shown, shown_to, g_strerror (newest_why), then));
    g_free (then);
    g_free (shown_to);
  } else if (!newest_why && older_from && !(self->rotate_warned & 2)) {
    gchar *shown_from = decent_shown_name (older_from), *shown_to = decent_shown_name (older_to);
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("Could not rotate the event file."),
        ("renaming %s to %s: %s; it is replaced by the newer file at each rotation instead",
            shown_from, shown_to, g_strerror (older_why)));
    g_free (shown_from);
    g_free (shown_to);
  }
  self->rotate_warned = newest_why ? self->rotate_warned | 1
                        : older_from ? self->rotate_warned | 2
                                     : 0; /* all moved: a later failure is a new one */
  g_free (older_from);
  g_free (older_to);
  if (self->fd < 0) {
    GST_WARNING_OBJECT (self, "could not open %s again after rotating it: %s", self->shown,
        g_strerror (self->open_errno));
    if (said_dropped) {
      /* the warning above said that records are dropped: the write that
       * fails next is the same outage, not said again (it was: two
       * warnings for one record) */
      self->warned = TRUE;
      self->failed_at = g_get_monotonic_time ();
      self->wrote_since_failure = FALSE;
    }
  }
}

/* Whether path still names the regular file open as fd: logrotate without
 * copytruncate moves it away, an operator freeing space removes it, and
 * every record after would go to a file no one can reach (as filesink's
 * do).  TRUE when it cannot tell. */
static gboolean
names_open_file (const gchar *path, int fd)
{
  struct stat open_st, named;
  if (fstat (fd, &open_st) != 0)
    return TRUE;
  if (g_stat (path, &named) != 0)
    return errno != ENOENT && errno != ENOTDIR;
  return open_st.st_dev == named.st_dev && open_st.st_ino == named.st_ino;
}

/* Opens location again (after it was moved, removed or could not be
 * opened), as start() does: a file put there meanwhile that holds
 * something else (a model decent-train wrote there, a picture moved there)
 * is not appended to, and is said once (helper-69: records were appended to
 * a model, which could not be loaded again).  FALSE, the record to be
 * dropped, for such a file; TRUE otherwise (fd -1 when it could not be
 * opened: the write fails and says why). */
static gboolean
reopen_file (GstDecentPublish *self)
{
  GStatBuf st;
  if (self->foreign_ino && g_stat (self->path, &st) == 0 && st.st_dev == self->foreign_dev
      && st.st_ino == self->foreign_ino)
    return FALSE; /* the same file still: said already */
  self->fd = open_events_file (self->path, FALSE, &self->seekable);
  self->open_errno = self->fd < 0 ? errno : 0;
  const gchar *what = self->fd >= 0 && self->seekable
      ? not_for_records (self->fd, self->path) : NULL;
  if (!what)
    return TRUE;
  struct stat open_st;
  const gboolean known = fstat (self->fd, &open_st) == 0;
  self->foreign_dev = known ? open_st.st_dev : 0;
  self->foreign_ino = known ? open_st.st_ino : 0; /* (0: looked at again each record) */
  close (self->fd);
  self->fd = -1;
  GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("The event file was replaced by something else."),
      ("%s is now %s (put there while decentpublish ran): records are not appended to it, "
          "and are dropped until a file of records or none is there again", self->shown, what));
  return FALSE;
}

/* Appends one line.  The file is rotated before a record
 * that would take it past max-size; a file moved away or removed is
 * written anew at its path; a file that could not be opened again
 * is tried again; a record that fails half-way is cut off, so that the file
 * stays whole lines.  Streaming thread. */
static void
write_file (GstDecentPublish *self, const gchar *line)
{
  GST_OBJECT_LOCK (self);
  const guint64 max_size = self->max_size;
  const guint max_files = self->max_files;
  GST_OBJECT_UNLOCK (self);
  if (self->fd >= 0 && self->seekable && !names_open_file (self->path, self->fd)) {
    GST_INFO_OBJECT (self, "%s was moved or removed: a new one is written", self->shown);
    close (self->fd);
    self->fd = -1;
  }
  if (self->fd < 0 && !reopen_file (self)) {
    self->dropped++;
    return;
  }
  /* one write: one whole line (after a line a pipe took only in part, on a
   * line of its own) */
  gchar *record = g_strconcat (self->torn ? "\n" : "", line, "\n", NULL);
  const gsize len = strlen (record);
  /* a pipe or terminal has no position: it is only written to */
  off_t at = self->fd >= 0 && self->seekable ? file_end (self->fd) : -1;
  if (at > 0 && max_size > 0 && (guint64) at + len > max_size) {
    rotate (self, max_files);
    at = self->fd >= 0 && self->seekable ? file_end (self->fd) : -1;
  }
  /* a pipe whose reader left raises SIGPIPE, which would kill the whole
   * process: it is held back in this thread, and the write fails with
   * EPIPE instead (and a SIGPIPE it raised is taken off again) */
  sigset_t pipe_signal, before;
  sigemptyset (&pipe_signal);
  sigaddset (&pipe_signal, SIGPIPE);
  const gboolean guard = self->fd >= 0 && !self->seekable;
  gboolean was_pending = FALSE;
  if (guard) {
    pthread_sigmask (SIG_BLOCK, &pipe_signal, &before);
    sigset_t pending;
    was_pending = sigpending (&pending) == 0 && sigismember (&pending, SIGPIPE);
  }
  const gboolean ok = self->fd >= 0 && (at >= 0 || !self->seekable)
                      && write_all (self, record, len);
  /* (no write tried without a file: errno is whatever came before) */
  const int why = self->fd < 0 ? self->open_errno : errno;
  g_free (record);
  if (guard) {
    const struct timespec now = { 0, 0 };
    if (!ok && why == EPIPE && !was_pending)
      while (sigtimedwait (&pipe_signal, NULL, &now) < 0 && errno == EINTR)
        ;
    pthread_sigmask (SIG_SETMASK, &before, NULL);
  }
  if (ok) {
    self->written++;
    self->wrote_since_failure = TRUE;
    return;
  }
  /* no torn line for the next record to be glued to */
  if (self->fd >= 0 && at >= 0 && ftruncate (self->fd, at) != 0)
    GST_DEBUG_OBJECT (self, "could not cut a torn record off %s", self->shown);
  self->dropped++;
  /* a failure after records were written again, and OUTAGE_QUIET_US
   * without a failure, is a new outage, said again; not one after a record
   * that fit between failures (a full disk takes a small record into its
   * last block now and then: helper-69 saw one outage said twice, 30 ms
   * apart), nor one of an outage that goes on with records far apart
   * (helper-71) */
  const gint64 now = g_get_monotonic_time ();
  if (self->wrote_since_failure && now - self->failed_at >= OUTAGE_QUIET_US)
    self->warned = FALSE;
  self->wrote_since_failure = FALSE;
  if (why == EAGAIN && self->stall_said)
    return; /* once a run: the reader is not waited for again (write_all) */
  if (why == EAGAIN) {
    self->stall_said = TRUE;
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("Could not write an event record."),
        ("%s: its reader has not read for %u ms (the pipe or terminal is full); from now on "
            "records that do not fit are dropped at once, without waiting (the video goes on)",
            self->shown, self->pipe_wait_ms));
  } else if (!self->warned && why != ECANCELED) { /* (a stop: counted in the log) */
    gchar *open_failure = g_strdup_printf ("the file cannot be opened (%s)",
        g_strerror (self->open_errno));
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("Could not write an event record."),
        ("%s: %s; records are dropped until writing works again (the video goes on)",
            self->shown, self->fd < 0 ? open_failure : g_strerror (why)));
    g_free (open_failure);
  }
  if (why != ECANCELED && why != EAGAIN) {
    self->warned = TRUE;
    self->failed_at = now;
  }
}

/* One record to every destination (and frees it).  Streaming thread. */
static void
write_record (GstDecentPublish *self, gchar *line)
{
  if (self->path)
    write_file (self, line);
  if (self->mqtt) {
    const gboolean queued = decent_mqtt_publish (self->mqtt, line);
    if (!queued && !self->mqtt_warned) { /* once an outage */
      GST_OBJECT_LOCK (self);
      const guint size = self->mqtt_queue_size;
      GST_OBJECT_UNLOCK (self);
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("The MQTT queue is full; records are "
              "dropped."), ("%s: the broker has been away for %u records (mqtt-queue-size); "
              "the newest are dropped until it is back, the log counts them at stop",
              self->broker, size));
    }
    self->mqtt_warned = !queued; /* a record that fits again ends the outage */
  }
  g_free (line);
}

/* A broker that refused the connection for good (credentials): an error.
 * Streaming thread. */
static gboolean
broker_refused (GstDecentPublish *self)
{
  gchar *refusal = self->mqtt ? decent_mqtt_take_refusal (self->mqtt) : NULL;
  if (!refusal)
    return FALSE;
  GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED, ("The MQTT broker refused the "
          "connection."), ("%s: %s; check mqtt-username and mqtt-password", self->broker,
          refusal));
  g_free (refusal);
  return TRUE;
}

/* A broker that refused the client after taking it before (its accounts or
 * rules changed): a warning once an outage, the records wait.  Streaming
 * thread. */
static void
say_trouble (GstDecentPublish *self)
{
  gchar *trouble = self->mqtt ? decent_mqtt_take_trouble (self->mqtt) : NULL;
  if (!trouble)
    return;
  GST_ELEMENT_WARNING (self, RESOURCE, NOT_AUTHORIZED, ("The MQTT broker refused to "
          "reconnect; records wait in the queue and it is tried again."),
      ("%s: %s (it accepted these settings before: its accounts or rules changed); the "
          "video goes on", self->broker, trouble));
  g_free (trouble);
}

/* A broker that keeps closing the connection at once, and a record the
 * broker would not take, dropped so that those behind it go: a warning
 * each.  Streaming thread. */
static void
say_rejection (GstDecentPublish *self)
{
  gchar *thrash = self->mqtt ? decent_mqtt_take_thrash (self->mqtt) : NULL;
  if (thrash)
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("The MQTT broker keeps closing the "
            "connection."), ("%s: %s; records are sent again after each reconnection (give "
            "each camera its own mqtt-client-id, or leave it unset)", self->broker, thrash));
  g_free (thrash);
  gchar *rejection = self->mqtt ? decent_mqtt_take_rejection (self->mqtt) : NULL;
  if (!rejection)
    return;
  GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("Records the MQTT broker would not take were "
          "dropped."), ("%s: %s; the records behind it go on (check the broker's "
          "max_packet_size, or a shorter camera name)", self->broker, rejection));
  g_free (rejection);
}

/* "; the last try to connect failed: …" (decent_mqtt_last_failure) while
 * the client is not connected, or "" (caller frees): why the records did
 * not go. */
static gchar *
failure_text (GstDecentPublish *self)
{
  gchar *failure = decent_mqtt_last_failure (self->mqtt);
  gchar *text = failure ? g_strdup_printf ("; %s", failure)
                        : g_strdup ("");
  g_free (failure);
  return text;
}

/* At the end of the stream, before the EOS goes on: the records are
 * delivered (up to mqtt-flush-timeout), and what was not, or a broker that
 * refused us meanwhile, is said while an application (gst-launch) still
 * listens; after EOS it has stopped reading the bus.  Streaming thread. */
static void
drain_at_eos (GstDecentPublish *self)
{
  GST_OBJECT_LOCK (self);
  const guint timeout = self->mqtt_flush_timeout;
  GST_OBJECT_UNLOCK (self);
  if (timeout == 0)
    return; /* not waited for: what is left is counted at stop */
  const gint64 began = g_get_monotonic_time ();
  const guint left = decent_mqtt_drain (self->mqtt, timeout);
  /* a stop cuts the wait short: say how long it was */
  const guint waited = (guint) MIN ((g_get_monotonic_time () - began) / 1000, timeout);
  if (broker_refused (self)) {
    self->mqtt_said = TRUE;
    return;
  }
  say_trouble (self); /* why the records did not go, when the broker said */
  say_rejection (self);
  guint64 queued, delivered, dropped, rejected;
  decent_mqtt_counts (self->mqtt, &queued, &delivered, &dropped, &rejected);
  if (left || dropped || rejected) {
    gchar *why = failure_text (self);
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("Not every record reached the MQTT broker."),
        ("%s: %u still queued at the end of the stream (after waiting %u ms), %"
            G_GUINT64_FORMAT " dropped while the queue was full, %" G_GUINT64_FORMAT
            " that the broker would not take%s", self->broker, left, waited, dropped, rejected,
            why));
    g_free (why);
    self->mqtt_said = TRUE;
  }
}

/* ---- GstBaseTransform ------------------------------------------------- */

/* Closes the destinations: the file, and the MQTT client with what it
 * still holds (counted, and said when the end of the stream did not say
 * it).  No streaming then. */
static void
gst_decent_publish_close (GstDecentPublish *self)
{
  if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;
  if (self->dropped)
    GST_WARNING_OBJECT (self, "%" G_GUINT64_FORMAT " records written, %" G_GUINT64_FORMAT
        " dropped", self->written, self->dropped);
  if (self->mqtt) {
    guint64 queued, delivered, dropped, rejected;
    gchar *why = failure_text (self);
    /* a stop does not wait (change_state cut any wait short): Ctrl-C must
     * not hang on an absent broker; the end of the stream is what waits */
    decent_mqtt_counts (self->mqtt, &queued, &delivered, &dropped, &rejected);
    const guint left = decent_mqtt_free (self->mqtt, 0);
    self->mqtt = NULL;
    GST_INFO_OBJECT (self, "%s: %" G_GUINT64_FORMAT " records queued, %" G_GUINT64_FORMAT
        " delivered before stop, %" G_GUINT64_FORMAT " dropped (queue full), %" G_GUINT64_FORMAT
        " not taken by the broker, %u undelivered", self->broker, queued, delivered, dropped,
        rejected, left);
    if ((left || dropped || rejected) && !self->mqtt_said) /* said at EOS already */
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("Not every record reached the MQTT broker."),
          ("%s: %u still queued at stop (a stop does not wait for the broker; an end of "
              "stream waits up to mqtt-flush-timeout), %" G_GUINT64_FORMAT
              " dropped while the queue was full, %" G_GUINT64_FORMAT " that the broker would "
              "not take%s", self->broker, left, dropped, rejected, why));
    g_free (why);
  }
  g_clear_pointer (&self->broker, g_free);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->shown, g_free);
}

/* The camera records name: as started (a begin and its end, and the MQTT
 * topic made from it, agree), or as set when not started. */
static gchar *
camera_name (GstDecentPublish *self)
{
  GST_OBJECT_LOCK (self);
  gchar *name = g_strdup (self->camera_used ? self->camera_used
                          : self->camera && *self->camera ? self->camera
                          : GST_OBJECT_NAME (self));
  GST_OBJECT_UNLOCK (self);
  return name;
}

/* What the regular file at path is when records appended to it would
 * spoil it: a model file (named by a slip of tab completion, it was
 * appended to and could not be loaded again), or bytes that are not text
 * (a NUL, or not UTF-8, in its first 64).  NULL for an empty file, text (a
 * log records may follow), or one that cannot be read to tell. */
static const gchar *
not_records (const gchar *path)
{
  gchar head[64];
  const ssize_t n = read_head (path, head, sizeof head);
  if (n <= 0)
    return NULL;
  if (n >= 6 && memcmp (head, "DECENT", 6) == 0)
    return "a gst-decent model file";
  const gchar *end = NULL;
  /* (a character cut by the 64 bytes is text still) */
  const gboolean text = memchr (head, 0, (size_t) n) == NULL
      && (g_utf8_validate (head, n, &end) || (n == sizeof head && end >= head + n - 3));
  return text ? NULL : "a file that is not text";
}

/* Whether fd is the file this process's stdout or stderr writes to:
 * location=/dev/stdout with stdout redirected to a file (gst-launch has
 * written its own lines there already). */
static gboolean
is_own_stream (int fd)
{
  struct stat st, std;
  if (fstat (fd, &st) != 0)
    return FALSE;
  for (int k = 1; k <= 2; k++)
    if (fstat (k, &std) == 0 && std.st_dev == st.st_dev && std.st_ino == st.st_ino)
      return TRUE;
  return FALSE;
}

/* What the regular file open as fd at path is, when records must not be
 * appended to it (not_records; or a kernel setting in /proc or /sys, an
 * empty regular file to stat whose every write sets the kernel: helper-69,
 * the records went into the host name); NULL otherwise, and for this
 * process's own stdout or stderr. */
static const gchar *
not_for_records (int fd, const gchar *path)
{
  if (is_own_stream (fd))
    return NULL;
  struct statfs fs;
  if (fstatfs (fd, &fs) == 0 && (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC))
    return "a kernel setting in /proc or /sys";
  return not_records (path);
}

/* The file, when location is set; TRUE without one. */
static gboolean
open_file (GstDecentPublish *self, gchar *path)
{
  if (!path || !*path) {
    g_free (path);
    return TRUE;
  }
  const int fd = open_events_file (path, FALSE, &self->seekable);
  if (fd < 0) {
    const int why = errno;
    gchar *shown = decent_shown_name (path);
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("Could not open the event file."),
        ("%s: %s", shown, why == ENXIO ? "a FIFO with no reader (start the program that "
            "reads it first)" : g_strerror (why)));
    g_free (shown);
    g_free (path);
    return FALSE;
  }
  const gchar *what = self->seekable ? not_for_records (fd, path) : NULL;
  if (what) {
    gchar *shown = decent_shown_name (path);
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("The event file holds something else."),
        ("%s is %s: records appended to it would spoil it. Name a new file, or one that "
            "decentpublish wrote", shown, what));
    g_free (shown);
    close (fd);
    g_free (path);
    return FALSE;
  }
  self->fd = fd;
  self->path = path;
  self->shown = decent_shown_name (path);
  return TRUE;
}

/* The MQTT client, when mqtt-host is set (it connects in the background: a
 * broker that is not there yet is waited for); TRUE without one. */
static gboolean
open_mqtt (GstDecentPublish *self)
{
  gchar *camera = camera_name (self);
  GST_OBJECT_LOCK (self);
  const gboolean own_topic = self->mqtt_topic && *self->mqtt_topic;
  gchar *topic = own_topic ? g_strdup (self->mqtt_topic) : g_strdup_printf ("decent/%s", camera);
  DecentMqttSettings s = { g_strdup (self->mqtt_host), self->mqtt_port, topic, self->mqtt_qos,
    /* an empty id is no id: the library makes one */
    self->mqtt_client_id && *self->mqtt_client_id ? g_strdup (self->mqtt_client_id) : NULL,
    g_strdup (self->mqtt_username),
    g_strdup (self->mqtt_password), g_strdup (self->mqtt_ca_file),
    g_strdup (self->mqtt_cert_file), g_strdup (self->mqtt_key_file),
    self->mqtt_queue_size };
  GST_OBJECT_UNLOCK (self);
  gboolean ok = TRUE;
  if (s.host && *s.host) {
    gchar *why = NULL;
    gchar *shown_host = decent_shown_setting (s.host, 80), *shown_topic =
        decent_shown_setting (topic, 80);
    self->broker = g_strdup_printf ("mqtt://%s:%d/%s", shown_host, s.port, shown_topic);
    g_free (shown_host);
    g_free (shown_topic);
    self->mqtt = decent_mqtt_new (&s, &why);
    if (!self->mqtt) {
      /* a topic made from camera: say where it came from, and the way out */
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Could not start the MQTT client."),
          ("%s%s", why, own_topic || decent_mqtt_topic_ok (topic) ? ""
              : " (the topic is \"decent/\" and camera, or the element's name without "
                "camera: set mqtt-topic, or another camera)"));
      ok = FALSE;
    }
    g_free (why);
  }
  g_free ((gchar *) s.host);
  g_free ((gchar *) s.client_id);
  g_free ((gchar *) s.username);
  g_free ((gchar *) s.password);
  g_free ((gchar *) s.ca_file);
  g_free ((gchar *) s.cert_file);
  g_free ((gchar *) s.key_file);
  g_free (topic);
  g_free (camera);
  return ok;
}

static gboolean
gst_decent_publish_start (GstBaseTransform *trans)
{
  GstDecentPublish *self = GST_DECENT_PUBLISH (trans);
  GST_OBJECT_LOCK (self);
  gchar *path = g_strdup (self->location);
  const gboolean broker = self->mqtt_host && *self->mqtt_host;
  self->started = TRUE; /* (a setting changed from now on is said) */
  g_free (self->camera_used);
  self->camera_used = g_strdup (self->camera && *self->camera ? self->camera
                                                              : GST_OBJECT_NAME (self));
  GST_OBJECT_UNLOCK (self);
  if ((!path || !*path) && !broker) {
    GST_OBJECT_LOCK (self);
    self->started = FALSE;
    g_clear_pointer (&self->camera_used, g_free);
    GST_OBJECT_UNLOCK (self);
    g_free (path);
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No destination for the events."),
        ("Set location (a JSON-lines file) or mqtt-host (an MQTT broker), or both."));
    return FALSE;
  }
  g_array_set_size (self->open, 0);
  self->written = self->dropped = 0;
  self->warned = self->mqtt_warned = self->mqtt_said = FALSE;
  self->rotate_warned = 0;
  /* (torn stays: a pipe such as /dev/stdout is the same pipe after a restart) */
  self->reader_stalled = self->stall_said = FALSE;
  self->foreign_ino = 0;
  self->max_files_used = 0;
  /* the pipe wait: DECENT_PIPE_WAIT_MS, for tests that need it short or long */
  const gchar *wait = g_getenv ("DECENT_PIPE_WAIT_MS");
  self->pipe_wait_ms = wait && *wait ? (guint) CLAMP (g_ascii_strtoull (wait, NULL, 10), 1,
      600000) : PIPE_WAIT_MS;
  allow_waits (self);
  if (!open_file (self, path) || !open_mqtt (self)) {
    gst_decent_publish_close (self);
    GST_OBJECT_LOCK (self);
    self->started = FALSE;
    g_clear_pointer (&self->camera_used, g_free);
    GST_OBJECT_UNLOCK (self);
    return FALSE;
  }
  return TRUE;
}

/* Ends every event written as begun and not ended, the places' first,
 * with "why":true (stopped inside events, or events whose end a flush
 * dropped).  Streaming (or stop). */
static void
end_open_records (GstDecentPublish *self, const gchar *why)
{
  gchar *camera = camera_name (self);
  for (int places = 1; places >= 0; places--)
    for (guint i = 0; i < self->open->len; i++) {
      const DecentOpenEvent *e = &g_array_index (self->open, DecentOpenEvent, i);
      if (e->region != places)
        continue;
      GString *out = record_new (e->region ? "region-end" : "end", camera);
      g_string_append_printf (out, e->region ? ",\"id\":%" G_GUINT64_FORMAT
          : ",\"event_frame\":%" G_GUINT64_FORMAT, e->id);
      g_string_append_printf (out, ",\"%s\":true", why);
      json_element (out, e->element, e->path);
      g_string_append_c (out, '}');
      write_record (self, g_string_free (out, FALSE));
    }
  g_free (camera);
  g_array_set_size (self->open, 0);
}

static gboolean
gst_decent_publish_stop (GstBaseTransform *trans)
{
  GstDecentPublish *self = GST_DECENT_PUBLISH (trans);
  end_open_records (self, "stopped"); /* stopped inside events */
  self->flushed = FALSE;
  gst_decent_publish_close (self);
  GST_OBJECT_LOCK (self);
  self->started = FALSE;
  g_clear_pointer (&self->camera_used, g_free);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static void
open_event_clear (gpointer data)
{
  g_free (((DecentOpenEvent *) data)->element);
  g_free (((DecentOpenEvent *) data)->path);
}

/* What tells the decentanomaly that sent s from the others: its path, or
 * its name from a sender without one.  Compared with open_key. */
static const gchar *
event_key (const GstStructure *s)
{
  const gchar *path = gst_structure_get_string (s, "element-path");
  return path ? path : gst_structure_get_string (s, "element");
}

static const gchar *
open_key (const DecentOpenEvent *o)
{
  return o->path ? o->path : o->element;
}

/* Where in open the event that s begins or ends is (an element's frame
 * event by its first frame, so that the end of another one, whose begin a
 * flush dropped, is not taken for its end; a place by its id), or, with
 * any_frame_event, the element's open frame event whichever it is; -1:
 * none open; -2: s names no event.  Streaming. */
static gint
find_open (GstDecentPublish *self, const GstStructure *s, gboolean region,
    gboolean any_frame_event)
{
  guint64 id = 0;
  if (!gst_structure_get_uint64 (s, region ? "id" : "event-frame", &id))
    return -2;
  /* by path: two elements of one name (in two bins) paired each other's
   * begins and ends, and one's begin took the other's open event for its
   * own restarted one */
  const gchar *key = event_key (s);
  for (guint i = 0; i < self->open->len; i++) {
    const DecentOpenEvent *o = &g_array_index (self->open, DecentOpenEvent, i);
    if (o->region == region && (o->id == id || (any_frame_event && !region))
        && g_strcmp0 (open_key (o), key) == 0)
      return (gint) i;
  }
  return -1;
}

/* Whether s is an end whose begin was not written: a flush dropped the
 * begin on its way (a queue between the elements throws away what it
 * holds), or this element started inside the event.  Such an end is not
 * written either, so that records come in pairs (helper-75).  Streaming. */
static gboolean
end_without_begin (GstDecentPublish *self, const GstStructure *s, gboolean region)
{
  return g_strcmp0 (gst_structure_get_string (s, "type"), "end") == 0
         && find_open (self, s, region, FALSE) == -1;
}

/* After a flush the ends of the events open before it come ahead of the
 * first begin or frame (decentanomaly sends them at flush-stop); those
 * still open then were dropped on the way, and are ended here. */
static void
end_flushed_events (GstDecentPublish *self)
{
  if (!self->flushed)
    return;
  end_open_records (self, "flushed");
  self->flushed = FALSE;
}

/* Keeps the events (and regions: by id) begun and not ended, of each
 * element, for stop(): two decentanomaly (one per roi) may number their
 * regions alike, and one's end is not the other's.  Streaming. */
static void
note_event (GstDecentPublish *self, const GstStructure *s, gboolean region)
{
  DecentOpenEvent e = { NULL, NULL, 0, region };
  if (!gst_structure_get_uint64 (s, region ? "id" : "event-frame", &e.id))
    return;
  const gboolean begin = g_strcmp0 (gst_structure_get_string (s, "type"), "begin") == 0;
  /* an end, or a begin again (an element restarted on its own, whose end
   * went to the bus only; one frame event open at a time): the one open
   * before goes */
  const gint at = find_open (self, s, region, begin);
  if (at >= 0)
    g_array_remove_index (self->open, (guint) at);
  if (begin) {
    /* begins without ends (not decentanomaly's): the oldest place's goes
     * first, else the oldest event's (it was the newest event's, whose end
     * is then not written: helper-76) */
    if (self->open->len >= 256) {
      guint drop = 0;
      while (drop < self->open->len
             && !g_array_index (self->open, DecentOpenEvent, drop).region)
        drop++;
      g_array_remove_index (self->open, drop < self->open->len ? drop : 0);
    }
    e.element = g_strdup (gst_structure_get_string (s, "element"));
    e.path = g_strdup (gst_structure_get_string (s, "element-path"));
    g_array_append_val (self->open, e);
  }
}

static gboolean
gst_decent_publish_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  GstDecentPublish *self = GST_DECENT_PUBLISH (trans);
  const GstStructure *s = gst_event_get_structure (event);
  const gboolean ours = GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM && s
      && (gst_structure_has_name (s, "decentanomaly-event")
          || gst_structure_has_name (s, "decentanomaly-region"));
  const gboolean region = ours && gst_structure_has_name (s, "decentanomaly-region");
  if (ours && !g_strcmp0 (gst_structure_get_string (s, "type"), "begin"))
    end_flushed_events (self);
  if (ours && end_without_begin (self, s, region)) {
    GST_DEBUG_OBJECT (self, "an end without its begin (dropped by a flush) is not written");
  } else if (ours) {
    gchar *camera = camera_name (self);
    write_record (self, region ? region_record (s, camera) : event_record (s, camera));
    g_free (camera);
    note_event (self, s, region);
  }
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->mqtt)
    drain_at_eos (self);
  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START) /* (the seeking thread) */
    interrupt_waits (self);
  else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP) { /* (streaming: none waits) */
    allow_waits (self);
    self->flushed = self->open->len > 0;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_decent_publish_parent_class)->sink_event (trans, event);
}

static GstFlowReturn
gst_decent_publish_transform_ip (GstBaseTransform *trans, GstBuffer *buf)
{
  GstDecentPublish *self = GST_DECENT_PUBLISH (trans);
  end_flushed_events (self);
  if (broker_refused (self))
    return GST_FLOW_ERROR;
  say_trouble (self);
  say_rejection (self);
  GST_OBJECT_LOCK (self);
  const gboolean per_frame = self->per_frame;
  GST_OBJECT_UNLOCK (self);
  const GstDecentAnomalyMeta *m = per_frame ? gst_buffer_get_decent_anomaly_meta (buf) : NULL;
  if (m) {
    const GstClockTime rt = trans->segment.format == GST_FORMAT_TIME
        ? gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf))
        : GST_CLOCK_TIME_NONE;
    gchar *camera = camera_name (self);
    write_record (self, frame_record (m, rt, camera));
    g_free (camera);
  }
  return GST_FLOW_OK;
}

/* ---- properties ------------------------------------------------------- */

static void gst_decent_publish_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec);

static void
gst_decent_publish_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  GstDecentPublish *self = GST_DECENT_PUBLISH (object);
  gchar **strings[] = STRING_PROPS (self);
  /* the destinations are opened at start: a change while started was read
   * back as set and did nothing (helper-67); it is said */
  const gboolean read_at_start = prop_id == PROP_LOCATION || prop_id == PROP_CAMERA
      || (g_str_has_prefix (pspec->name, "mqtt-") && prop_id != PROP_MQTT_FLUSH_TIMEOUT);
  gboolean changed = FALSE;
  GST_OBJECT_LOCK (self);
  if (prop_id == PROP_CAMERA && self->started) {
    /* against the name records use (none or "": the element's name) */
    const gchar *asked = g_value_get_string (value);
    changed = g_strcmp0 (asked && *asked ? asked : GST_OBJECT_NAME (self),
        self->camera_used) != 0;
  } else if (read_at_start && self->started) {
    GValue now = G_VALUE_INIT;
    g_value_init (&now, G_PARAM_SPEC_VALUE_TYPE (pspec));
    GST_OBJECT_UNLOCK (self);
    gst_decent_publish_get_property (object, prop_id, &now, pspec);
    changed = g_param_values_cmp (pspec, value, &now) != 0;
    g_value_unset (&now);
    GST_OBJECT_LOCK (self);
  }
  if (prop_id < G_N_ELEMENTS (strings) && strings[prop_id]) {
    g_free (*strings[prop_id]);
    *strings[prop_id] = g_value_dup_string (value);
  } else {
    switch (prop_id) {
      case PROP_PER_FRAME: self->per_frame = g_value_get_boolean (value); break;
      case PROP_MAX_SIZE: self->max_size = g_value_get_uint64 (value); break;
      case PROP_MAX_FILES: self->max_files = g_value_get_uint (value); break;
      case PROP_MQTT_PORT: self->mqtt_port = g_value_get_int (value); break;
      case PROP_MQTT_QOS: self->mqtt_qos = g_value_get_int (value); break;
      case PROP_MQTT_QUEUE_SIZE: self->mqtt_queue_size = g_value_get_uint (value); break;
      case PROP_MQTT_FLUSH_TIMEOUT: self->mqtt_flush_timeout = g_value_get_uint (value); break;
      default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
  }
  GST_OBJECT_UNLOCK (self);
  if (changed)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("%s takes effect when the element starts again.", pspec->name),
        ("%s", prop_id == PROP_CAMERA
            ? "Records name the camera they started with until then, so that an event's "
              "begin and end, and the MQTT topic made from it, agree."
            : "The file and the broker are opened when decentpublish goes from READY to "
              "PAUSED; records go where they went until then."));
}

static void
gst_decent_publish_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstDecentPublish *self = GST_DECENT_PUBLISH (object);
  gchar **strings[] = STRING_PROPS (self);
  GST_OBJECT_LOCK (self);
  if (prop_id < G_N_ELEMENTS (strings) && strings[prop_id]) {
    g_value_set_string (value, *strings[prop_id]);
  } else {
    switch (prop_id) {
      case PROP_PER_FRAME: g_value_set_boolean (value, self->per_frame); break;
      case PROP_MAX_SIZE: g_value_set_uint64 (value, self->max_size); break;
      case PROP_MAX_FILES: g_value_set_uint (value, self->max_files); break;
      case PROP_MQTT_PORT: g_value_set_int (value, self->mqtt_port); break;
      case PROP_MQTT_QOS: g_value_set_int (value, self->mqtt_qos); break;
      case PROP_MQTT_QUEUE_SIZE: g_value_set_uint (value, self->mqtt_queue_size); break;
      case PROP_MQTT_FLUSH_TIMEOUT: g_value_set_uint (value, self->mqtt_flush_timeout); break;
      default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_decent_publish_finalize (GObject *object)
{
  GstDecentPublish *self = GST_DECENT_PUBLISH (object);
  gchar **strings[] = STRING_PROPS (self);
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    if (strings[i])
      g_free (*strings[i]);
  g_free (self->path);
  g_free (self->shown);
  g_free (self->camera_used);
  g_free (self->broker);
  g_array_unref (self->open);
  if (self->stop_fd >= 0)
    close (self->stop_fd);
  G_OBJECT_CLASS (gst_decent_publish_parent_class)->finalize (object);
}

/* Stopping (Ctrl-C in gst-launch) ends a wait for the broker at the end of
 * the stream at once: the streaming thread holds the pad that the state
 * change needs. */
static GstStateChangeReturn
gst_decent_publish_change_state (GstElement *element, GstStateChange transition)
{
  GstDecentPublish *self = GST_DECENT_PUBLISH (element);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    interrupt_waits (self);
    GST_OBJECT_LOCK (self);
    if (self->mqtt)
      decent_mqtt_interrupt (self->mqtt);
    GST_OBJECT_UNLOCK (self);
  }
  return GST_ELEMENT_CLASS (gst_decent_publish_parent_class)->change_state (element, transition);
}

static void
gst_decent_publish_class_init (GstDecentPublishClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GST_DEBUG_CATEGORY_INIT (gst_decent_publish_debug, "decentpublish", 0,
      "decentanomaly's events as JSON lines");
  gobject_class->set_property = gst_decent_publish_set_property;
  gobject_class->get_property = gst_decent_publish_get_property;
  gobject_class->finalize = gst_decent_publish_finalize;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location", "JSON-lines file the records are appended "
          "to (one object a line; docs/plugin.md has the schema), as well as, or instead of, "
          "mqtt-host", NULL,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_CAMERA,
      g_param_spec_string ("camera", "Camera", "Name of the stream in every record "
          "(default: the element's name), read at start", NULL, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PER_FRAME,
      g_param_spec_boolean ("per-frame", "Per frame", "Also a record for every frame "
          "that carries decentanomaly's metadata", FALSE, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_SIZE,
      g_param_spec_uint64 ("max-size", "Maximum size", "Rotate the file before a record "
          "would take it past this many bytes (0: never)", 0, G_MAXUINT64, 0,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_FILES,
      g_param_spec_uint ("max-files", "Maximum files", "Rotated files kept (location.1 is "
          "the newest); 0: the file starts anew", 0, 1000, DEFAULT_MAX_FILES,
          rw | GST_PARAM_MUTABLE_PLAYING));
  const GParamFlags ready = rw | GST_PARAM_MUTABLE_READY;
  const struct { guint id; const gchar *name, *blurb; } mqtt_strings[] = {
    { PROP_MQTT_HOST, "mqtt-host", "MQTT broker to publish the records to (as well as, or "
          "instead of, location); it may come later: records wait in a queue" },
    { PROP_MQTT_TOPIC, "mqtt-topic", "MQTT topic (default: decent/<camera>)" },
    { PROP_MQTT_CLIENT_ID, "mqtt-client-id", "MQTT client id (default: made up)" },
    { PROP_MQTT_USERNAME, "mqtt-username", "MQTT user name" },
    { PROP_MQTT_PASSWORD, "mqtt-password", "MQTT password" },
    { PROP_MQTT_CA_FILE, "mqtt-ca-file", "CA certificates (PEM): connect with TLS" },
    { PROP_MQTT_CERT_FILE, "mqtt-cert-file", "Client certificate (PEM), with mqtt-ca-file" },
    { PROP_MQTT_KEY_FILE, "mqtt-key-file", "Client key (PEM), with mqtt-cert-file" } };
  for (guint i = 0; i < G_N_ELEMENTS (mqtt_strings); i++)
    g_object_class_install_property (gobject_class, mqtt_strings[i].id,
        g_param_spec_string (mqtt_strings[i].name, mqtt_strings[i].name, mqtt_strings[i].blurb,
            NULL, ready));
  g_object_class_install_property (gobject_class, PROP_MQTT_PORT,
      g_param_spec_int ("mqtt-port", "MQTT port", "MQTT broker port", 1, 65535,
          DEFAULT_MQTT_PORT, ready));
  g_object_class_install_property (gobject_class, PROP_MQTT_QOS,
      g_param_spec_int ("mqtt-qos", "MQTT QoS", "MQTT quality of service: 0 at most once, 1 at "
          "least once, 2 exactly once within a connection (a record in flight at a reconnection "
          "is sent again)", 0, 2, DEFAULT_MQTT_QOS, ready));
  g_object_class_install_property (gobject_class, PROP_MQTT_QUEUE_SIZE,
      g_param_spec_uint ("mqtt-queue-size", "MQTT queue size", "Records kept while the broker "
          "is away; beyond it the newest are dropped (with a warning)", 1, 1000000,
          DEFAULT_MQTT_QUEUE, ready));
  g_object_class_install_property (gobject_class, PROP_MQTT_FLUSH_TIMEOUT,
      g_param_spec_uint ("mqtt-flush-timeout", "MQTT flush timeout", "Milliseconds to wait "
          "at the end of the stream for queued records to reach the broker (a stop does not "
          "wait)", 0, 600000, DEFAULT_MQTT_FLUSH_MS,
          rw | GST_PARAM_MUTABLE_PLAYING));
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Anomaly event publisher",
      "Filter/Metadata", "Writes decentanomaly's events (and optionally every frame's scores) "
      "as JSON lines to a file and/or an MQTT broker", "gst-decent");
  trans_class->start = GST_DEBUG_FUNCPTR (gst_decent_publish_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_decent_publish_stop);
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_decent_publish_change_state);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_decent_publish_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_decent_publish_transform_ip);
  /* passthrough: buffers are only read (transform_ip still runs), so a
   * buffer behind a tee is never copied */
  trans_class->passthrough_on_same_caps = TRUE;
}

static void
gst_decent_publish_init (GstDecentPublish *self)
{
  self->fd = -1;
  self->max_files = DEFAULT_MAX_FILES;
  self->mqtt_port = DEFAULT_MQTT_PORT;
  self->mqtt_qos = DEFAULT_MQTT_QOS;
  self->mqtt_queue_size = DEFAULT_MQTT_QUEUE;
  self->mqtt_flush_timeout = DEFAULT_MQTT_FLUSH_MS;
  self->stop_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  self->open = g_array_new (FALSE, FALSE, sizeof (DecentOpenEvent));
  g_array_set_clear_func (self->open, open_event_clear);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
