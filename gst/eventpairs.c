/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* eventpairs.c — begins and ends in pairs, downstream and on the bus (see
 * eventpairs.h).  Before, decentpublish wrote ends without begins, and
 * begins whose end never came, around flushes (helper-74); and the bus
 * lost ends, or got them alone, when message-mode changed inside an event
 * (helper-86). */
#include "eventpairs.h"

#include "events.h"

/* Ends held over a flush at most: every place and the frame's, twice. */
#define MAX_HELD_ENDS (2 * DECENT_MAX_REGIONS + 2)

void
decent_event_pairs_init (DecentEventPairs *p)
{
  p->told_downstream = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->told_bus = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&p->held_ends);
}

void
decent_event_pairs_forget (DecentEventPairs *p)
{
  g_hash_table_remove_all (p->told_downstream);
  g_hash_table_remove_all (p->told_bus);
  g_queue_clear_full (&p->held_ends, (GDestroyNotify) gst_event_unref);
  p->frame_open = p->frame_on_bus = FALSE;
}

void
decent_event_pairs_clear (DecentEventPairs *p)
{
  if (!p->told_downstream)
    return;
  decent_event_pairs_forget (p);
  g_clear_pointer (&p->told_downstream, g_hash_table_destroy);
  g_clear_pointer (&p->told_bus, g_hash_table_destroy);
}

/* What pairs an event's begin with its end (caller frees; NULL for a
 * structure that is neither kind). */
static gchar *
event_key (const GstStructure *s)
{
  guint64 n = 0;
  if (gst_structure_has_name (s, "decentanomaly-region")
      && gst_structure_get_uint64 (s, "id", &n))
    return g_strdup_printf ("r%" G_GUINT64_FORMAT, n);
  if (gst_structure_get_uint64 (s, "event-frame", &n))
    return g_strdup_printf ("e%" G_GUINT64_FORMAT, n);
  return NULL;
}

static gboolean
is_begin (const GstStructure *s)
{
  return !g_strcmp0 (gst_structure_get_string (s, "type"), "begin");
}

/* Downstream: a begin a flush dropped (the source pad flushing while the
 * frame that began it was scored) has no end sent either, and an end a
 * flush dropped is sent once the flush has stopped. */
static void
push_paired (DecentEventPairs *p, GstPad *src, const GstStructure *s)
{
  gchar *key = event_key (s);
  const gboolean begin = is_begin (s);
  if (!begin && key && !g_hash_table_contains (p->told_downstream, key)) {
    g_free (key); /* its begin never went downstream */
    return;
  }
  GstEvent *event = gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, gst_structure_copy (s));
  const gboolean sent = gst_pad_push_event (src, gst_event_ref (event));
  if (key && begin && sent) {
    g_hash_table_add (p->told_downstream, key);
    key = NULL;
  } else if (key && !begin && !sent && GST_PAD_IS_FLUSHING (src)
             && g_queue_get_length (&p->held_ends) < MAX_HELD_ENDS) {
    g_queue_push_tail (&p->held_ends, gst_event_ref (event)); /* after the flush */
  } else if (key && !begin) {
    g_hash_table_remove (p->told_downstream, key);
  }
  gst_event_unref (event);
  g_free (key);
}

/* The bus: a begin when post says so (a place's when its frame event's
 * begin was posted too, or no frame event is open), an end when its begin
 * was posted.  Takes s. */
static void
post_paired (DecentEventPairs *p, GstElement *element, GstStructure *s, gboolean post)
{
  gchar *key = event_key (s);
  const gboolean begin = is_begin (s);
  const gboolean place = gst_structure_has_name (s, "decentanomaly-region");
  if (!place) { /* the frame's event: what its places' begins nest in */
    p->frame_open = begin;
    p->frame_on_bus = begin && post;
  } else if (begin && p->frame_open && !p->frame_on_bus) {
    post = FALSE; /* its frame event is not on the bus: it would stand alone */
  }
  if (key && begin && post) {
    g_hash_table_add (p->told_bus, key);
    key = NULL;
  } else if (key && !begin) {
    post = g_hash_table_remove (p->told_bus, key);
  }
  g_free (key);
  if (post) /* (no lock held: the bus may call back) */
    gst_element_post_message (element, gst_message_new_element (GST_OBJECT (element), s));
  else
    gst_structure_free (s);
}

void
decent_event_pairs_announce (DecentEventPairs *p, GstElement *element, GstPad *src,
    GstStructure *s, gboolean post, gboolean downstream)
{
  g_return_if_fail (p && p->told_downstream && GST_IS_ELEMENT (element) && s);
  if (downstream) {
    g_return_if_fail (GST_IS_PAD (src));
    push_paired (p, src, s);
  }
  post_paired (p, element, s, post);
}

gboolean
decent_event_pairs_holding (const DecentEventPairs *p)
{
  return p->held_ends.length > 0;
}

void
decent_event_pairs_send_held (DecentEventPairs *p, GstPad *src)
{
  GstEvent *event;
  while ((event = g_queue_pop_head (&p->held_ends))) {
    if (!gst_pad_push_event (src, gst_event_ref (event)) && GST_PAD_IS_FLUSHING (src)) {
      g_queue_push_head (&p->held_ends, event); /* flushed again: held again */
      break;
    }
    gchar *key = event_key (gst_event_get_structure (event));
    if (key)
      g_hash_table_remove (p->told_downstream, key);
    g_free (key);
    gst_event_unref (event);
  }
}
