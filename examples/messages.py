#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads decentanomaly's bus messages from Python (PyGObject).

    GST_PLUGIN_PATH=build/plugin /usr/bin/python3 examples/messages.py MODEL VIDEO

Prints one line per anomaly event, one per place's event (decentanomaly-region)
and a per-second summary of scores. VIDEO may be a FIFO: it waits for a writer
(said on stderr; Ctrl-C ends the wait).
Needs Debian's python3-gi and gir1.2-gstreamer-1.0.
"""
import os
import stat
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def seconds(s, field):
    """A time field in seconds, or None: a frame without a timestamp has none."""
    ok, value = s.get_uint64(field)
    return value / Gst.SECOND if ok else None


def at(s):
    t = seconds(s, "running-time")
    return f"at {t:.2f} s" if t is not None else "(no time)"


def open_fifo(path):
    """The read end of the FIFO at path, or None when path is no FIFO. Opened
    without waiting for a writer (filesrc's open() waited in C, inside
    set_state(), where Python's Ctrl-C handler never runs, and before the
    model was even read); then blocking, so that fdsrc waits for data in its
    own thread while the bus loop below still answers Ctrl-C."""
    try:
        if not stat.S_ISFIFO(os.stat(path).st_mode):
            return None
    except OSError:
        return None  # filesrc says what is wrong with it
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    os.set_blocking(fd, True)
    print(f"messages.py: {path} is a FIFO: waiting for a writer (Ctrl-C ends the wait)",
          file=sys.stderr)
    return fd


def main(model, video):
    Gst.init(None)
    try:
        fifo = open_fifo(video)
    except OSError as e:
        print(f"messages.py: cannot open {video}: {e.strerror}", file=sys.stderr)
        return 1
    try:
        return watch(model, video, fifo)
    finally:
        if fifo is not None:
            os.close(fifo)


def watch(model, video, fifo):
    """Scores video (from the fd fifo when not None) and prints what the
    scorer says; the exit status."""
    # paths are set as properties, not pasted into the description, where a
    # quote, a backslash or a '!' in a file name would change the pipeline
    pipeline = Gst.parse_launch(
        ('fdsrc' if fifo is not None else 'filesrc') + ' name=src ! decodebin ! videoconvert ! '
        'decentanomaly name=scorer message-mode=all ! fakesink')
    if fifo is not None:
        pipeline.get_by_name('src').set_property('fd', fifo)
    else:
        pipeline.get_by_name('src').set_property('location', video)
    pipeline.get_by_name('scorer').set_property('model-location', model)
    bus = pipeline.get_bus()
    second, scores, flagged = 0, [], 0
    status = 0

    def summary():
        if scores:
            print(f"{second:4d} s: mean score {sum(scores) / len(scores):.5f}, "
                  f"{flagged} of {len(scores)} frames flagged")
    try:
        pipeline.set_state(Gst.State.PLAYING)
        while True:
            # a timeout, so that Python runs its Ctrl-C handler while no
            # message comes (blocked in C for good, it never did: helper-80)
            msg = bus.timed_pop(Gst.SECOND // 10)
            if msg is None:
                continue
            if msg.type == Gst.MessageType.ERROR:
                err, debug = msg.parse_error()
                print(f"error: {err.message}\n{debug}", file=sys.stderr)
                status = 1
                break
            if msg.type == Gst.MessageType.EOS:
                break
            if msg.type != Gst.MessageType.ELEMENT:
                continue
            s = msg.get_structure()
            if s.get_name() == "decentanomaly":
                t = seconds(s, "running-time")
                if t is not None and int(t) != second:  # (untimed frames: the same second)
                    summary()
                    second, scores, flagged = int(t), [], 0
                scores.append(s.get_value("score"))
                flagged += s.get_value("flagged")
            elif s.get_name() == "decentanomaly-event":
                kind = s.get_value("type")
                extra = (f", {s.get_value('frames')} frames, "
                         f"peak {s.get_value('peak-score'):.5f}" if kind == "end" else "")
                print(f"event {kind} {at(s)}{extra}")
            elif s.get_name() == "decentanomaly-region":
                # one place's event: where, in frame pixels
                box = (f"{s.get_value('width')}x{s.get_value('height')} at "
                       f"{s.get_value('x')},{s.get_value('y')}")
                print(f"  region {s.get_value('id')} {s.get_value('type')} {at(s)}: {box}")
        summary()  # the last second
    except KeyboardInterrupt:  # Ctrl-C: what was scored so far, then stop
        summary()
        status = 130
    finally:
        pipeline.set_state(Gst.State.NULL)  # (before main closes fifo)
    return status


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
