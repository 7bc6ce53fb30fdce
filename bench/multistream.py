#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Many cameras in one process (issue: multi-stream): N pipelines
videotestsrc (640x480, full speed) ! decentanomaly ! fakesink sync=false, one
decentanomaly each, all playing at once: independent instances (a model
each), or with SHARED=1 one engine for all (model-instance-id, their frames
scored in batches of up to BATCH, default 16), or with SHARED=none no
decentanomaly at all (identity in its place: what the sources, converters
and sinks alone cost, to tell the element's share).  Prints, per N: aggregate frames/s, CPU seconds
per frame (user + system of the process), p50 and p99 of each frame's time
in decentanomaly (sink pad to source pad), and the process's peak resident
memory.

    /usr/bin/python3 bench/multistream.py MODEL [N ...]   (default 1 4 16 64)
    FRAMES=100 THREADS=1 DEVICE=cpu SHARED=1 BATCH=16 TIMEOUT=10000 ... (per-stream
    frames, decentanomaly threads, device, one shared engine, its batch-size and
    batch-timeout in microseconds)

Run from the build (GST_PLUGIN_PATH=build/plugin); bench/multistream.sh does.
"""
import os
import resource
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def run(model, n, frames, threads, device, shared):
    pipes, lat, entered = [], [], {}
    timeout = os.environ.get("TIMEOUT", "10000")
    share = (f"model-instance-id=bench batch-size={shared} batch-timeout={timeout}"
             if shared > 0 else "")
    element = (f"decentanomaly name=a model-location=\"{model}\" threads={threads} "
               f"device={device} {share}") if shared >= 0 else "identity name=a"
    for i in range(n):
        p = Gst.parse_launch(
            f"videotestsrc num-buffers={frames} pattern={'ball' if i % 2 else 'snow'} ! "
            f"video/x-raw,format=I420,width=640,height=480 ! "
            f"{element} ! fakesink sync=false")
        a = p.get_by_name("a")

        def into(pad, info, i=i):
            entered[(i, info.get_buffer().pts)] = time.monotonic()
            return Gst.PadProbeReturn.OK

        def out(pad, info, i=i):
            t0 = entered.pop((i, info.get_buffer().pts), None)
            if t0 is not None:
                lat.append(time.monotonic() - t0)
            return Gst.PadProbeReturn.OK

        a.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, into)
        a.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, out)
        p.set_state(Gst.State.PAUSED)
        pipes.append(p)
    for p in pipes:  # models loaded and prerolled: time only the streaming
        p.get_state(Gst.CLOCK_TIME_NONE)
    lat.clear()
    ru0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    for p in pipes:
        p.set_state(Gst.State.PLAYING)
    for p in pipes:
        msg = p.get_bus().timed_pop_filtered(600 * Gst.SECOND,
                                             Gst.MessageType.EOS | Gst.MessageType.ERROR)
        if not msg or msg.type == Gst.MessageType.ERROR:
            sys.exit(f"multistream: {msg.parse_error()[0].message if msg else 'timed out'}")
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    for p in pipes:
        p.set_state(Gst.State.NULL)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    done = len(lat)
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1e3 if lat else float("nan")  # noqa
    kind = (f"shared, batch {shared}" if shared > 0 else "independent" if shared == 0
            else "no decentanomaly")
    print(f"{n:4d} streams ({kind}): {done / wall:8.1f} frames/s in all, {cpu / max(done, 1) * 1e3:6.2f} ms "
          f"CPU a frame, latency p50 {pct(0.5):7.2f} ms p99 {pct(0.99):8.2f} ms, "
          f"peak RSS {peak_rss_mib():7.1f} MiB ({done} frames in {wall:.1f} s)", flush=True)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    Gst.init(None)
    frames = int(os.environ.get("FRAMES", "100"))
    threads = int(os.environ.get("THREADS", "0"))
    device = os.environ.get("DEVICE", "cpu")
    mode = os.environ.get("SHARED", "0")
    shared = int(os.environ.get("BATCH", "16")) if mode == "1" else -1 if mode == "none" else 0
    for n in [int(a) for a in argv[2:]] or [1, 4, 16, 64]:
        run(argv[1], n, frames, threads, device, shared)


if __name__ == "__main__":
    main(sys.argv)
