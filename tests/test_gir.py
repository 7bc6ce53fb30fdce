#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""GstDecentMeta through GObject introspection: examples/meta_probe.py reads
every frame's meta in a Python pad probe; its values must be the meta's
(normalized = score / threshold, the heatmap's size and values, the region
of the frame).  Skips (77) without python3-gi / python3-gst-1.0."""
import os
import re
import subprocess
import sys
import tempfile

import check_util
from check_util import check

try:
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst  # noqa: F401
except (ImportError, ValueError) as e:
    print(f"skip: {e}")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "examples", "meta_probe.py")

with tempfile.TemporaryDirectory() as tmp:
    model = os.path.join(tmp, "m.dcnt")
    r = subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=40", "pattern=ball",
                        "!", "video/x-raw,width=64,height=48", "!", "decent-train",
                        f"model-location={model}", "width=32", "height=24", "epochs=2",
                        "min-steps=0", "base-channels=8", "max-channels=16", "latent-side=3"],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"training failed: {r.stderr}")
    r = subprocess.run([sys.executable, EXAMPLE, model, "5"], capture_output=True, text=True,
                       timeout=120)
    check(r.returncode == 0, f"meta_probe failed: {r.stderr}")
    lines = r.stdout.splitlines()
    check(len(lines) == 5, f"{len(lines)} lines: {r.stdout}")
    pat = re.compile(r"frame (\d+) score (\S+) threshold (\S+) normalized (\S+) flagged (\w+) "
                     r"roi (\d+),(\d+) (\d+)x(\d+) heatmap (\d+)x(\d+) \((\d+) values, max (\S+)\)")
    for i, line in enumerate(lines):
        m = pat.fullmatch(line)
        check(m is not None, f"line {line!r}")
        if not m:
            continue
        g = m.groups()
        frame, score, thr, norm = int(g[0]), float(g[1]), float(g[2]), float(g[3])
        check(frame == i, f"frame {frame}, want {i}")
        check(score > 0 and thr > 0 and abs(norm - score / thr) < 1e-4 * norm,
              f"normalized {norm} against {score} / {thr}")
        check(abs(norm - 1) < 1e-5 or (g[4] == "True") == (norm > 1),
              f"flagged {g[4]} at {score} / {thr}")
        check(g[5:9] == ("0", "0", "64", "48"), f"roi {g[5:9]}")
        check(tuple(map(int, g[9:12])) == (32, 24, 32 * 24), f"heatmap {g[9:12]}")
        # the local score is a window's mean, less the surround (0.5) times
        # its ring's excess over the map's mean, which a ring colder than
        # the map turns into a gain of at most 0.5 times that mean: at most
        # 1.5 times the map's largest value
        check(float(g[12]) * 1.5 >= score * (1 - 1e-4),
              f"heatmap max {g[12]} too low for the score {score}")

    # two elements on one stream (one per roi): each one's meta, in order
    gi.require_version("GstDecentMeta", "1.0")
    from gi.repository import GstDecentMeta  # noqa: E402
    Gst.init(None)
    pipe = Gst.parse_launch(
        "videotestsrc num-buffers=3 pattern=ball ! video/x-raw,width=64,height=48 ! "
        f"decentanomaly model-location=\"{model}\" roi=0,0,32,24 ! "
        f"decentanomaly model-location=\"{model}\" roi=16,8,48,40 ! fakesink name=sink")
    seen = []

    def on_buffer(pad, info):
        buf = info.get_buffer()
        n = GstDecentMeta.buffer_get_n_decent_anomaly_meta(buf)
        metas = [GstDecentMeta.buffer_get_nth_decent_anomaly_meta(buf, i) for i in range(n + 1)]
        try:  # the map's pointer is the meta's to free: bindings cannot set it
            metas[0].heatmap = 0
            seen.append("the heatmap pointer was writable")
        except (RuntimeError, TypeError, AttributeError):
            pass
        seen.append([(m.roi_x, m.roi_y, m.roi_width, m.roi_height) if m else None
                     for m in metas])
        return Gst.PadProbeReturn.OK

    pipe.get_by_name("sink").get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, on_buffer)
    pipe.set_state(Gst.State.PLAYING)
    msg = pipe.get_bus().timed_pop_filtered(60 * Gst.SECOND,
                                            Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    check(msg is not None and msg.type == Gst.MessageType.EOS, "the two-element pipeline failed")
    check(seen == [[(0, 0, 32, 24), (16, 8, 48, 40), None]] * 3, f"metas {seen}")

print(f"gir: {'all checks passed' if not check_util.failures else 'FAILED'}")
sys.exit(1 if check_util.failures else 0)
