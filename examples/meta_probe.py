#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads GstDecentAnomalyMeta in a pad probe from Python, through GObject
introspection (GstDecentMeta-1.0): one line per frame.

    /usr/bin/python3 examples/meta_probe.py MODEL [FRAMES]

Needs python3-gi and python3-gst-1.0; from a build tree:
GST_PLUGIN_PATH=build/plugin GI_TYPELIB_PATH=build/gst LD_LIBRARY_PATH=build/gst
(installed in /usr, nothing; in another prefix P, the same three variables
pointing into it: GST_PLUGIN_PATH=P/lib/<arch>/gstreamer-1.0
GI_TYPELIB_PATH=P/lib/<arch>/girepository-1.0 LD_LIBRARY_PATH=P/lib/<arch>)."""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstDecentMeta", "1.0")
from gi.repository import GLib, Gst, GstDecentMeta  # noqa: E402


def on_buffer(pad, info):
    meta = GstDecentMeta.buffer_get_decent_anomaly_meta(info.get_buffer())
    if meta:
        heat = meta.get_heatmap()
        print(f"frame {meta.frame_number} score {meta.score:.6g} threshold {meta.threshold:.6g} "
              f"normalized {meta.normalized_score:.6g} flagged {bool(meta.flagged)} "
              f"roi {meta.roi_x},{meta.roi_y} {meta.roi_width}x{meta.roi_height} "
              f"heatmap {meta.heatmap_width}x{meta.heatmap_height} ({len(heat)} values, "
              f"max {max(heat) if heat else 0:.6g})", flush=True)
    return Gst.PadProbeReturn.OK


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    frames = int(argv[2]) if len(argv) > 2 else 10
    Gst.init(None)
    pipe = Gst.parse_launch(
        f"videotestsrc num-buffers={frames} pattern=ball ! video/x-raw,width=64,height=48 ! "
        "decentanomaly name=scorer attach-heatmap=true ! fakesink")
    # a property, not pasted into the description (a quote or '!' in the name)
    pipe.get_by_name("scorer").set_property("model-location", argv[1])
    pipe.get_by_name("scorer").get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, on_buffer)
    pipe.set_state(Gst.State.PLAYING)
    msg = pipe.get_bus().timed_pop_filtered(60 * Gst.SECOND,
                                            Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    if not msg or msg.type == Gst.MessageType.ERROR:
        sys.exit(f"meta_probe: {msg.parse_error()[0].message if msg else 'timed out'}")


if __name__ == "__main__":
    main(sys.argv)
