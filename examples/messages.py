#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads decentanomaly's bus messages from Python (PyGObject).

    GST_PLUGIN_PATH=build/plugin /usr/bin/python3 examples/messages.py MODEL VIDEO

Prints one line per anomaly event, one per place's event (decentanomaly-region)
and a per-second summary of scores.
Needs Debian's python3-gi and gir1.2-gstreamer-1.0.
"""
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


def main(model, video):
    Gst.init(None)
    # paths are set as properties, not pasted into the description, where a
    # quote, a backslash or a '!' in a file name would change the pipeline
    pipeline = Gst.parse_launch(
        'filesrc name=src ! decodebin ! videoconvert ! '
        'decentanomaly name=scorer message-mode=all ! fakesink')
    pipeline.get_by_name('src').set_property('location', video)
    pipeline.get_by_name('scorer').set_property('model-location', model)
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    second, scores, flagged = 0, [], 0
    status = 0

    def summary():
        if scores:
            print(f"{second:4d} s: mean score {sum(scores) / len(scores):.5f}, "
                  f"{flagged} of {len(scores)} frames flagged")
    try:
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
        pipeline.set_state(Gst.State.NULL)
    return status


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
