/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Events per region (gst/events.c): a place opens an event after min_frames
 * frames in a row and ends after gap frames without a window; a second place
 * begins its own while the first is open; the windows of one place, side by
 * side or moving, stay one event (matched to where it was in the last
 * frame); candidates must be consecutive; flush closes all;
 * DECENT_MAX_REGIONS open events make a new place wait; carried frames
 * extend the events hot in the result they carry. */
#include <string.h>

#include "events.h"
#include "testutil.h"

static DecentWindow
win (int x, int y)
{
  return (DecentWindow) { x, y, 4, 3, 1.0f };
}

/* Pushes one frame; returns the changes' summary, e.g. "B1 E2" (begin of
 * event 1, end of event 2). */
static const char *
push (DecentRegionTracker *t, const DecentWindow *w, guint n, guint64 frame)
{
  static char text[256];
  DecentRegionChange changes[2 * DECENT_MAX_REGIONS];
  const guint k = decent_regions_push (t, w, n, frame, frame * GST_SECOND, changes);
  text[0] = '\0';
  for (guint i = 0; i < k; i++) {
    char one[32];
    snprintf (one, sizeof one, "%s%c%" G_GUINT64_FORMAT, i ? " " : "",
        changes[i].change == DECENT_EVENT_BEGAN ? 'B' : 'E', changes[i].event.id);
    strncat (text, one, sizeof text - strlen (text) - 1);
  }
  return text;
}

static void
one_place_then_another (void)
{
  DecentRegionTracker t;
  decent_regions_init (&t, 3, 2);
  DecentWindow a = win (2, 2), b = win (20, 14);
  CHECK (!strcmp (push (&t, &a, 1, 0), ""), "one frame opens nothing");
  CHECK (!strcmp (push (&t, &a, 1, 1), ""), "two frames open nothing");
  CHECK (!strcmp (push (&t, &a, 1, 2), "B1"), "the third frame opens event 1");
  DecentWindow both[2] = { a, b };
  push (&t, both, 2, 3);
  push (&t, both, 2, 4);
  CHECK (!strcmp (push (&t, both, 2, 5), "B2"), "b begins its own while a is open");
  CHECK (t.n_open == 2 && t.open[1].start_frame == 3 && t.open[1].rect.x == 20,
      "event 2 starts at frame 3 at x 20: %u open", t.n_open);
  CHECK (!strcmp (push (&t, &b, 1, 6), ""), "a missed once: open");
  CHECK (!strcmp (push (&t, &b, 1, 7), "E1"), "a missed gap times: ended");
  DecentRegionChange flushed[DECENT_MAX_REGIONS];
  CHECK (decent_regions_flush (&t, flushed) == 1 && flushed[0].event.id == 2
      && flushed[0].event.last_flagged_frame == 7 && flushed[0].event.start_frame == 3,
      "flush ends event 2 (frames 3..7)");
  CHECK (t.n_open == 0 && t.n_cands == 0, "nothing left after a flush");
}

static void
one_place_stays_one_event (void)
{
  DecentRegionTracker t;
  decent_regions_init (&t, 2, 3);
  /* two windows side by side from the first frame: one candidate, one event */
  DecentWindow pair[2] = { win (10, 10), win (14, 10) };
  push (&t, pair, 2, 0);
  CHECK (t.n_cands == 1 && t.cands[0].rect.width == 8, "one candidate 8 wide: %u",
      t.n_cands);
  CHECK (!strcmp (push (&t, pair, 2, 1), "B1"), "one event for the pair");
  /* it moves one window's width per frame: still event 1 */
  for (int i = 2; i < 12; i++) {
    DecentWindow w = win (10 + 4 * i, 10);
    CHECK (!strcmp (push (&t, &w, 1, (guint64) i), ""), "frame %d: no change", i);
  }
  CHECK (t.n_open == 1 && t.open[0].rect.x == 54, "followed to x 54: %d", t.open[0].rect.x);
  /* a window two windows away is another place */
  DecentWindow far[2] = { win (54, 10), win (54, 19) };
  push (&t, far, 2, 12);
  CHECK (t.n_cands == 1, "y 19 is a new place (y 10 + 3 + margin 3 = 16)");
  DecentWindow near_one[2] = { win (54, 10), win (54, 15) };
  decent_regions_init (&t, 1, 3);
  CHECK (!strcmp (push (&t, &near_one[0], 1, 0), "B1"), "min_frames 1 opens at once");
  CHECK (!strcmp (push (&t, near_one, 2, 1), ""), "y 15 is within the margin");
  CHECK (t.open[0].rect.height == 8, "its region grew to both: %d", t.open[0].rect.height);
  /* windows are matched to where an event was in the last frame, not to
   * where this frame's first window moved it: both ends of a wide region */
  decent_regions_init (&t, 1, 3);
  DecentWindow wide[2] = { win (10, 10), win (14, 10) };
  CHECK (!strcmp (push (&t, wide, 2, 0), "B1"), "a place 8 wide");
  DecentWindow ends[2] = { win (6, 10), win (20, 10) };
  CHECK (!strcmp (push (&t, ends, 2, 1), "") && t.n_open == 1 && t.n_cands == 0,
      "both ends stay event 1: %u open, %u candidates", t.n_open, t.n_cands);
  CHECK (t.open[0].rect.x == 6 && t.open[0].rect.width == 18, "now 6..24: %d, %d",
      t.open[0].rect.x, t.open[0].rect.width);
}

static void
candidates_must_be_consecutive (void)
{
  DecentRegionTracker t;
  decent_regions_init (&t, 3, 2);
  DecentWindow a = win (0, 0);
  push (&t, &a, 1, 0);
  push (&t, &a, 1, 1);
  CHECK (!strcmp (push (&t, NULL, 0, 2), ""), "a frame without it");
  push (&t, &a, 1, 3);
  CHECK (!strcmp (push (&t, &a, 1, 4), ""), "the run began again at frame 3");
  CHECK (!strcmp (push (&t, &a, 1, 5), "B1"), "and opens at frame 5");
  CHECK (t.open[0].start_frame == 3 && t.open[0].start_time == 3 * GST_SECOND,
      "it starts at frame 3");
}

static void
too_many_places_wait (void)
{
  DecentRegionTracker t;
  decent_regions_init (&t, 1, 100);
  /* 16 places, 8 windows a frame (what decentanomaly passes) */
  for (int f = 0; f < 2; f++) {
    DecentWindow w[8];
    for (int i = 0; i < 8; i++)
      w[i] = win (20 * (8 * f + i), 0);
    push (&t, w, 8, (guint64) f);
  }
  CHECK (t.n_open == DECENT_MAX_REGIONS, "%u open", t.n_open);
  DecentWindow extra = win (0, 50);
  CHECK (!strcmp (push (&t, &extra, 1, 2), "") && t.n_cands == 1, "a 17th place waits");
  /* more windows than the tracker takes are ignored, not overrun */
  DecentWindow many[40];
  for (int i = 0; i < 40; i++)
    many[i] = win (20 * i, 100);
  push (&t, many, 40, 3);
  CHECK (t.n_open == DECENT_MAX_REGIONS && t.n_cands <= DECENT_MAX_REGIONS, "%u candidates",
      t.n_cands);
}

/* inference-interval: frames between scored ones carry the last result;
 * an open event hot in it takes them as its last hot frames, one missed
 * in it does not, and nothing opens or ends on them. */
static void
carried_frames_extend_open_events (void)
{
  DecentRegionTracker t;
  decent_regions_init (&t, 1, 2);
  DecentWindow a = win (2, 2), b = win (20, 14), both[2] = { a, b };
  CHECK (!strcmp (push (&t, both, 2, 0), "B1 B2"), "two places open at once");
  push (&t, &a, 1, 3); /* b missed once: open, not hot */
  decent_regions_carry (&t, 4, 4 * GST_SECOND);
  decent_regions_carry (&t, 5, 5 * GST_SECOND);
  CHECK (t.n_open == 2 && t.open[0].last_flagged_frame == 5
      && t.open[0].last_flagged_time == 5 * GST_SECOND && t.open[1].last_flagged_frame == 0,
      "a carried to frame 5, b stays at 0: %" G_GUINT64_FORMAT " and %" G_GUINT64_FORMAT,
      t.open[0].last_flagged_frame, t.open[1].last_flagged_frame);
  CHECK (!strcmp (push (&t, &a, 1, 6), "E2"), "b ends at its second scored miss");
}

int
main (void)
{
  one_place_then_another ();
  one_place_stays_one_event ();
  candidates_must_be_consecutive ();
  too_many_places_wait ();
  carried_frames_extend_open_events ();
  return tu_finish ("regions");
}
