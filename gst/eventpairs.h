/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* eventpairs.h — decentanomaly's events (decentanomaly-event and
 * decentanomaly-region begins and ends) announced in pairs, downstream as
 * serialized custom events and on the bus as element messages: an end
 * goes where its begin went, and nowhere else. */
#ifndef DECENT_EVENTPAIRS_H
#define DECENT_EVENTPAIRS_H

#include <gst/gst.h>

typedef struct {
  /* events and places whose begin went downstream (on the bus) and whose
   * end has not: "e<event-frame>", "r<id>" */
  GHashTable *told_downstream, *told_bus;
  GQueue held_ends; /* of GstEvent: ends a flush dropped, sent after it */
  /* a frame event is open (its begin announced, its end not), and its
   * begin went on the bus: its places' begins go there only then, so
   * that the bus sees them nested in it */
  gboolean frame_open, frame_on_bus;
} DecentEventPairs;

void decent_event_pairs_init (DecentEventPairs *p);
void decent_event_pairs_clear (DecentEventPairs *p);

/* Sends s (a begin or an end; taken) from element through src: downstream
 * always (a begin a flush dropped has no end sent either; an end a flush
 * dropped is held for decent_event_pairs_send_held), and on the bus when
 * post says so for a begin (a place's only when the open frame event's
 * begin was posted too, so that places stay nested in it), and for an end
 * when its begin was posted, whatever post says now (message-mode changed
 * inside an event).
 * downstream FALSE: the bus alone (between streaming, at a stop).
 * Streaming thread (or stop). */
void decent_event_pairs_announce (DecentEventPairs *p, GstElement *element, GstPad *src,
    GstStructure *s, gboolean post, gboolean downstream);

/* Whether ends that a flush dropped wait to be sent. */
gboolean decent_event_pairs_holding (const DecentEventPairs *p);

/* Sends the ends a flush dropped, now that it has stopped (a new flush
 * holds the rest again).  Streaming thread. */
void decent_event_pairs_send_held (DecentEventPairs *p, GstPad *src);

/* Forgets every begin (a stop, after the open events' ends: downstream
 * elements close their own). */
void decent_event_pairs_forget (DecentEventPairs *p);

#endif
