#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Events per region, simulated offline beside decentanomaly's own
(decentanomaly-region): the simulation is the reference the element's
tracker (gst/events.c) was written from, and this checks that both give the
same begins on the real-footage clips; MARGIN (in windows; the element's is
1) tries other reaches offline.

While one frame event is open (the lawn walkers of 50-58 s), an object that
appears elsewhere posts no frame begin, so per frame the evaluation counts it
missed. Per region each hot place is its own event: the windows of the local
score above the threshold (greedy: the hottest window, then the hottest one
not overlapping those taken, up to 8), an event follows the windows near its
region (within MARGIN windows), and windows near no open event open a new
one after event-min-frames consecutive frames, as the frame events do.

  /usr/bin/python3 bench/video_regions.py MODEL MAPS [MARGIN]

Scores the unseen normal clip and the object clips with the real
decentanomaly (attach-heatmap=true: the local score's saturated map at the
model's grid, read from GstDecentAnomalyMeta; and its decentanomaly-region
begins), keeps both in MAPS (npz, reused), and prints events per frame
against events per region, simulated and the element's, and the clips where
the two differ. Needs
GST_PLUGIN_PATH, GI_TYPELIB_PATH and LD_LIBRARY_PATH of a build (as
examples/meta_probe.py) and build/video-eval-like WORK frames in
$WORK/frames.rgb (default build/video-eval)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import video_eval as ve  # noqa: E402

MAX_SPOTS = 8
# the model's local-surround (decent-train's default; 0 for models written
# before 2026-12-06, which have none): SURROUND=0 for those
SURROUND = float(os.environ.get("SURROUND", "0.5"))


def hot_windows(m, threshold, ww, wh, k=MAX_SPOTS):
    """The windows (x, y, ww, wh) above threshold, hottest first, none overlapping."""
    means, out = ve.window_scores(m[None], ww, wh, SURROUND)[0], []
    while len(out) < k:
        y, x = divmod(int(np.argmax(means)), means.shape[1])
        if not means[y, x] > threshold:
            break
        out.append((x, y, ww, wh))
        means[max(0, y - wh + 1):y + wh, max(0, x - ww + 1):x + ww] = -np.inf
    return out


def near(a, b, mx, my):
    """Whether rectangle a meets rectangle b grown by mx, my on every side."""
    return (a[0] < b[0] + b[2] + mx and b[0] - mx < a[0] + a[2]
            and a[1] < b[1] + b[3] + my and b[1] - my < a[1] + a[3])


def union(rects):
    x0, y0 = min(r[0] for r in rects), min(r[1] for r in rects)
    x1, y1 = max(r[0] + r[2] for r in rects), max(r[1] + r[3] for r in rects)
    return (x0, y0, x1 - x0, y1 - y0)


def region_begins(frames_windows, mx, my, min_frames=ve.MIN_FRAMES, gap=ve.GAP):
    """Frames at which region events begin. frames_windows: per frame, the hot
    windows. An open event takes every window near its region (its region
    becomes their union); one without any for gap frames ends. Windows near no
    open event grow candidates the same way; a candidate seen min_frames
    frames in a row opens an event."""
    events, cands, begins = [], [], []  # [region, frames without a window] / [region, run]
    for i, windows in enumerate(frames_windows):
        taken, free = {}, []
        for w in windows:
            j = next((j for j, e in enumerate(events) if near(w, e[0], mx, my)), None)
            if j is None:
                free.append(w)
            else:
                taken.setdefault(j, []).append(w)
        for j, e in enumerate(events):
            e[0], e[1] = (union(taken[j]), 0) if j in taken else (e[0], e[1] + 1)
        events = [e for e in events if e[1] < gap]
        grown, fresh = {}, []
        for w in free:
            j = next((j for j, c in enumerate(cands) if near(w, c[0], mx, my)), None)
            if j is not None:
                grown.setdefault(j, []).append(w)
                continue
            # a new place: one candidate for the windows of one object
            k = next((k for k, c in enumerate(fresh) if near(w, c[0], mx, my)), None)
            if k is None:
                fresh.append([w, 1])
            else:
                fresh[k][0] = union([fresh[k][0], w])
        # a candidate not seen this frame is dropped: the frames must be consecutive
        seen = [[union(v), cands[j][1] + 1] for j, v in grown.items()] + fresh
        cands = []
        for c in seen:
            if c[1] >= min_frames:
                events.append([c[0], 0])
                begins.append(i)
            else:
                cands.append(c)
    return begins


def score_frames(model, frames, tmp_dir, name):
    """Scores frames ((N, H, W, 3) uint8) with decentanomaly (local score,
    heatmap attached): (maps, scores, threshold, region event begins)."""
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstDecentMeta", "1.0")
    from gi.repository import GstDecentMeta, Gst
    Gst.init(None)
    raw = os.path.join(tmp_dir, "clip.rgb")
    frames.tofile(raw)
    maps, scores, thr = [], [], []
    pipe = Gst.parse_launch(
        f"filesrc location={raw} ! rawvideoparse width={ve.W} height={ve.H} format=rgb "
        f"framerate={ve.FPS}/1 ! videoconvert ! decentanomaly name=s attach-heatmap=true "
        "score-mode=local ! fakesink")
    pipe.get_by_name("s").set_property("model-location", model)

    def on_buffer(pad, info):
        m = GstDecentMeta.buffer_get_decent_anomaly_meta(info.get_buffer())
        maps.append(np.array(m.get_heatmap(), np.float32).reshape(
            m.heatmap_height, m.heatmap_width))
        scores.append(m.score)
        thr.append(m.threshold)
        return Gst.PadProbeReturn.OK
    pipe.get_by_name("s").get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER,
                                                          on_buffer)
    pipe.set_state(Gst.State.PLAYING)
    region_begins = []
    while True:
        msg = pipe.get_bus().timed_pop_filtered(
            600 * Gst.SECOND,
            Gst.MessageType.EOS | Gst.MessageType.ERROR | Gst.MessageType.ELEMENT)
        if not msg or msg.type != Gst.MessageType.ELEMENT:
            break
        st = msg.get_structure()
        if st.get_name() == "decentanomaly-region" and st.get_value("type") == "begin":
            region_begins.append(st.get_value("frame"))
    pipe.set_state(Gst.State.NULL)
    os.remove(raw)
    if not msg or msg.type != Gst.MessageType.EOS:
        sys.exit(f"video_regions: {name}: "
                 f"{msg.parse_error()[0].message if msg else 'timed out'}")
    return np.stack(maps), np.array(scores), thr[0], region_begins


def collect(model, maps_dir, clean):
    """Scores the normal clip and every object clip with decentanomaly (local
    score, heatmap attached) unless MAPS has them: {name: npz}."""
    os.makedirs(maps_dir, exist_ok=True)
    clips = [("normal", None, 0, 0)] + [
        (name, kind, si, ci) for name, _, kind, si, ci in ve.clip_list(3) if kind in ve.SIZED_KINDS]
    out = {}
    for name, kind, si, ci in clips:
        path = os.path.join(maps_dir, name + ".npz")
        if os.path.exists(path) and "region_begins" not in np.load(path).files:
            os.remove(path)  # collected before decentanomaly had region events
        if not os.path.exists(path):
            frames = clean if kind is None else ve.make_clip(clean, kind, si, ci)[0]
            maps, scores, thr, region_begins = score_frames(model, frames, maps_dir, name)
            np.savez_compressed(path, maps=maps, scores=scores, thr=thr,
                                region_begins=np.array(region_begins, np.int64))
        out[name] = np.load(path)
    return out


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    model, maps_dir = argv[1], argv[2]
    margin = float(argv[3]) if len(argv) > 3 else 1.0
    work = os.environ.get("WORK", os.path.join(ve.ROOT, "build", "video-eval"))
    frames = np.memmap(os.path.join(work, "frames.rgb"), np.uint8, "r",
                       shape=(ve.N_FRAMES, ve.H, ve.W, 3))
    clean = np.asarray(frames[ve.TEST[0]:ve.TEST[1]])
    data = collect(model, maps_dir, clean)
    mh, mw = data["normal"]["maps"].shape[1:]
    # the local score's window: local-area 0.01 of the model's grid (engine/localscore.c)
    ww, wh = max(1, round(mw * 0.1)), max(1, round(mh * 0.1))
    thr = float(data["normal"]["thr"])
    check = float(np.max(np.abs(ve.window_scores(data["normal"]["maps"], ww, wh, SURROUND).reshape(
        len(data["normal"]["maps"]), -1).max(1) - data["normal"]["scores"])))
    print(f"threshold {thr:.5g}, window {ww}x{wh} of {mw}x{mh}, margin {margin:g} windows; "
          f"largest difference to decentanomaly's score {check:.2g}")

    differ = []

    def both(name):
        z = data[name]
        frame = [b for _, b, _ in ve.hysteresis(z["scores"] > thr)]
        region = region_begins([hot_windows(m, thr, ww, wh) for m in z["maps"]],
                               margin * ww, margin * wh)
        real = [int(b) for b in z["region_begins"]]
        if margin == 1.0 and real != region:
            differ.append(f"{name}: simulated {region}, decentanomaly {real}")
        return frame, region, real
    f, r, e = both("normal")
    print(f"normal clip: events per frame {len(f)} (begins at {f}), per region {len(r)} "
          f"(begins at {r}), decentanomaly's region events {len(e)}")
    totals = {}
    for name, group, kind, si, ci in ve.clip_list(3):
        if name not in data:
            continue
        spans = [(e["first"], e["last"]) for e in ve.plan_clip(clean, kind, si, ci)]
        f, r, e = both(name)
        df, _, ff = ve.match_events(spans, f)
        dr, _, fr = ve.match_events(spans, r)
        de, _, fe = ve.match_events(spans, e)
        t = totals.setdefault(group, [0] * 7)
        for k, v in enumerate((len(spans), sum(df), sum(dr), sum(de), len(ff), len(fr),
                               len(fe))):
            t[k] += v
    print("| kind, size | detected per frame | per region (simulated) | decentanomaly-region "
          "| false events per frame | per region | decentanomaly-region |")
    print("|---|---|---|---|---|---|---|")
    for group, (n, df, dr, de, ff, fr, fe) in totals.items():
        print(f"| {group} | {df}/{n} ({100 * df / n:.0f} %) | {dr}/{n} ({100 * dr / n:.0f} %) "
              f"| {de}/{n} ({100 * de / n:.0f} %) | {ff} | {fr} | {fe} |")
    if margin == 1.0:
        print(f"simulation and decentanomaly differ on {len(differ)} of {len(data)} clips"
              + "".join(f"\n  {d}" for d in differ))


if __name__ == "__main__":
    main(sys.argv)
