#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/video_eval.py's metric and insertion code on made-up inputs whose
answers are known: AUROC (separable, reversed, identical, ties, against
brute force), decentanomaly's event hysteresis, event matching with a known
list of begins, alarms per hour, the event layout, the inserted objects
(exactly w x h changed pixels at the drawn place for a box, the colour rule,
the checkerboard, the ellipse's area, dark and blur), the baselines' box
filter, decent-detect's CSV, the measures and the report's tables; then the
colour rule and the box on real frames of vtest.avi. Not the detector's
quality. Exits 77 (skip) without numpy, scipy or PIL, or without vtest.avi."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import scipy  # noqa: F401
    from PIL import Image, ImageFilter
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import video_eval as ve  # noqa: E402

if not os.path.exists(ve.VTEST):
    print(f"skip: {ve.VTEST} is missing (opencv-doc)")
    sys.exit(77)

import check_util  # noqa: E402
from check_util import check  # noqa: E402


def close(a, b, tol=1e-9):
    return abs(a - b) <= tol


# ---- AUROC
check(ve.auroc([2, 3, 4], [0, 1]) == 1.0, "separable scores: AUROC 1")
check(ve.auroc([0, 1], [2, 3, 4]) == 0.0, "reversed scores: AUROC 0")
check(ve.auroc([1, 1, 1], [1, 1]) == 0.5, "identical scores: AUROC 1/2")
check(close(ve.auroc([1, 2], [2, 3]), 0.125), "one tie of four pairs: AUROC 1/8")
check(np.isnan(ve.auroc([], [1, 2])), "no positives: NaN")
check(ve.auroc([np.nan, 5], [1]) == 1.0, "NaN scores are left out")
rng = np.random.default_rng(7)
pos, neg = rng.integers(0, 6, 40), rng.integers(0, 5, 55)
brute = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
check(close(ve.auroc(pos, neg), brute), f"AUROC with ties {ve.auroc(pos, neg)} == brute {brute}")

# ---- Wilson intervals of detection rates
low, high = ve.wilson(25, 27)
check(close(low, 0.7665, 1e-3) and close(high, 0.9794, 1e-3), f"25 of 27: {low} {high}")
low, high = ve.wilson(0, 10)
check(low == 0.0 and close(high, 0.2775, 1e-3), f"0 of 10: {low} {high}")
low, high = ve.wilson(27, 27)
check(close(high, 1.0) and close(low, 0.8754, 1e-3), f"27 of 27: {low} {high}")
check(all(np.isnan(ve.wilson(0, 0))), "no trials: NaN")

# ---- hysteresis (gst/events.c): 3 flagged open, 5 unflagged close
f = [0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1]
check(ve.hysteresis(f) == [(1, 3, 6), (15, 17, 18)], f"hysteresis {ve.hysteresis(f)}")
check(ve.hysteresis([1, 1, 0] * 10) == [], "runs of 2 open nothing")
check(ve.hysteresis([1] * 3 + [0] * 4 + [1] + [0] * 5 + [1] * 3) == [(0, 2, 7), (13, 15, 15)],
      "a gap of 4 keeps the event open, 5 closes it")
check(ve.hysteresis([1, 1], min_frames=1, gap=1) == [(0, 0, 1)], "min_frames 1")

# ---- event matching: begins during an event or up to 5 frames after it
events = [(20, 39), (80, 99)]
det, delays, false = ve.match_events(events, [15, 22, 60, 104, 105, 130])
check(det == [True, True], f"detected {det}")
check(delays == [2, 24], f"delays {delays}")
check(false == [60, 105, 130], f"false begins {false} (15 is within 5 before: neither)")
det, delays, false = ve.match_events(events, [])
check(det == [False, False] and delays == [None, None] and false == [],
      "no begins: nothing detected")
det, _, false = ve.match_events(events, [10, 44, 45])
check(det == [True, False] and false == [10, 45], f"edges: 44 = 39 + 5 detects, 45 does not: {det} {false}")

# ---- alarms per hour: events x 3600 / seconds
check(close(ve.alarms_per_hour(2, 395, 10), 2 * 3600 / 39.5), "2 events in 39.5 s")
check(ve.alarms_per_hour(0, 395) == 0.0, "no events, no alarms")
check(close(ve.alarms_per_hour(1, 36000, 10), 1.0), "one event an hour")

# ---- the event layout
n_test = ve.TEST[1] - ve.TEST[0]
for seed in range(20):
    lay = ve.event_layout(np.random.default_rng(seed), n_test)
    ok = (len(lay) == ve.EVENTS_PER_CLIP and all(e - s + 1 == ve.EVENT_LEN for s, e in lay)
          and lay[0][0] >= ve.MIN_GAP and lay[-1][1] <= n_test - 1 - ve.MIN_GAP
          and all(b[0] - a[1] - 1 >= ve.MIN_GAP for a, b in zip(lay, lay[1:])))
    check(ok, f"layout of seed {seed}: {lay}")
check(len(ve.clip_list(3)) == 3 * (3 * 3 + 2 + 1), "clips: 3 per kind and size")
check([c[:2] for c in ve.clip_list(3) if c[2] == "moving"]
      == [(f"moving-{i}", "moving 1 %") for i in range(3)], "moving clips")
check(ve.clip_list(3)[0][:2] == ("box-0.5pct-0", "box 0.5 %"), "clip names")
check(sum(1 for c in ve.clip_list(3) if c[1] == "box 1 %") * ve.EVENTS_PER_CLIP >= 25,
      ">= 25 events per kind and size")

# ---- object sizes: about A pixels, w / h about the aspect ratio
for size in ve.SIZES:
    area = size * ve.W * ve.H
    for aspect in (0.6, 1.0, 1.6):
        w, h = ve.object_size(area, aspect)
        check(abs(w * h - area) <= w / 2 + 1e-9, f"size {size} aspect {aspect}: {w}x{h}")
        check(abs(w / h / aspect - 1) < 0.1, f"aspect {aspect}: {w}x{h}")

# ---- a box on a uniform background: exactly w x h changed pixels at (x, y)
grey = np.full((n_test, ve.H, ve.W, 3), 128, np.uint8)
frames, evs = ve.make_clip(grey, "box", 1, 0)
changed = (frames != grey).any(-1)
inside = np.zeros(n_test, bool)
for ev in evs:
    inside[ev["first"]:ev["last"] + 1] = True
    x, y, w, h = ev["x"], ev["y"], ev["w"], ev["h"]
    check(abs(w * h - 0.01 * ve.W * ve.H) <= w / 2, f"box area {w * h} for 1 %")
    check(0 <= x and x + w <= ve.W and 0 <= y and y + h <= ve.H, "box inside the frame")
    for i in (ev["first"], ev["last"]):
        ys, xs = np.nonzero(changed[i])
        check(changed[i].sum() == w * h, f"frame {i}: {changed[i].sum()} changed, {w * h} asked")
        check(len(xs) and (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x, y, x + w, y + h),
              f"frame {i}: the changed pixels are the box at ({x}, {y}, {w}, {h})")
        check((frames[i, y, x] == ev["rgb"]).all(), "the box has its colour")
    check(np.abs(np.array(ev["rgb"]) - 128).sum() > ve.MIN_L1, f"colour {ev['colour']} vs grey")
    check(ev["colour"] in ve.PALETTE, "a palette colour")
check(not changed[~inside].any(), "frames outside events are untouched")
check(changed[inside].any(-1).any(-1).all(), "every event frame is changed")
check(evs == ve.plan_clip(grey, "box", 1, 0), "the same seed, the same events")
check(evs != ve.plan_clip(grey, "box", 1, 1), "another clip, other events")

# ---- a moving box: the box of 1 %, MOVING_SPEED pixels further each frame,
# inside the frame all along
frames, evs = ve.make_clip(grey, "moving", ve.MOVING_SIZE, 0)
changed = (frames != grey).any(-1)
inside = np.zeros(n_test, bool)
for ev in evs:
    inside[ev["first"]:ev["last"] + 1] = True
    check(abs(np.hypot(ev["vx"], ev["vy"]) - ve.MOVING_SPEED) < 0.01, f"speed of {ev}")
    w, h = ev["w"], ev["h"]
    check(abs(w * h - 0.01 * ve.W * ve.H) <= w / 2, f"moving box area {w * h}")
    for k, i in enumerate(range(ev["first"], ev["last"] + 1)):
        x, y = int(round(ev["x"] + ev["vx"] * k)), int(round(ev["y"] + ev["vy"] * k))
        ys, xs = np.nonzero(changed[i])
        check(0 <= x and x + w <= ve.W and 0 <= y and y + h <= ve.H, "moving box inside")
        check(changed[i].sum() == w * h and (xs.min(), ys.min()) == (x, y),
              f"frame {i}: the box at ({x}, {y})")
    first = np.nonzero(changed[ev["first"]]); last = np.nonzero(changed[ev["last"]])
    moved = np.hypot(first[1].min() - last[1].min(), first[0].min() - last[0].min())
    check(abs(moved - ve.MOVING_SPEED * (ve.EVENT_LEN - 1)) < 1.5, f"moved {moved} pixels")
check(not changed[~inside].any(), "moving: frames outside events are untouched")
check(evs == ve.plan_clip(grey, "moving", ve.MOVING_SIZE, 0), "moving: the same seed")

# ---- the colour rule: only colours far from the background
rng = np.random.default_rng(3)
for bg in ([128, 128, 128], [240, 220, 40], [20, 20, 20], [250, 250, 250]):
    names = {ve.pick_colour(rng, np.array(bg, float))[0] for _ in range(200)}
    far = {n for n, c in ve.PALETTE.items() if np.abs(np.array(c) - bg).sum() > ve.MIN_L1}
    check(names == far, f"background {bg}: drawn {sorted(names)}, eligible {sorted(far)}")

# ---- texture: a 4x4 checkerboard of c and 255 - c
col, alpha = ve.object_patch("texture", 40, 32, (200, 30, 30))
check((col[0, 0] == (200, 30, 30)).all() and (col[0, 10] == (55, 225, 225)).all()
      and (col[8, 0] == (55, 225, 225)).all() and (col[8, 10] == (200, 30, 30)).all()
      and (col[31, 39] == (200, 30, 30)).all(), "checkerboard cells")
check((alpha == 1).all(), "texture is opaque")

# ---- bag: the ellipse (alpha > 0) covers about the nominal area, shaded top to bottom
area = 0.02 * ve.W * ve.H
w, h = ve.object_size(area * ve.BAG_AREA, 1.0)
col, alpha = ve.object_patch("bag", w, h, (100, 100, 100))
check(abs((alpha > 0).sum() / area - 1) < 0.05, f"ellipse {(alpha > 0).sum()} px for {area:.0f}")
check(alpha[h // 2, w // 2] == 1 and alpha[0, 0] == 0, "opaque centre, clear corners")
check(close(col[0, 0, 0], 115) and close(col[-1, 0, 0], 85), "shaded x1.15 to x0.85")

# ---- dark and blur change the event frames only
noise = np.random.default_rng(5).integers(0, 256, (4, ve.H, ve.W, 3), dtype=np.uint8)
d = noise.copy()
ve.apply_event(d, "dark", {"first": 1, "last": 2})
check((d[1:3] == np.rint(noise[1:3] * 0.7)).all() and (d[[0, 3]] == noise[[0, 3]]).all(), "dark")
b = noise.copy()
ve.apply_event(b, "blur", {"first": 2, "last": 2})
ref = np.asarray(Image.fromarray(noise[2]).filter(ImageFilter.GaussianBlur(2.5)))
check((b[2] == ref).all() and (b[[0, 1, 3]] == noise[[0, 1, 3]]).all(), "blur")

# ---- baselines: the box filter's maximum against brute force; grey
m = np.random.default_rng(9).random((3, 20, 25))
brute = [max(m[i, y:y + 5, x:x + 5].mean() for y in range(16) for x in range(21)) for i in range(3)]
check(np.allclose(ve.box_max(m, 5), brute), "box_max == brute force")
g = ve.grey_small(np.full((2, ve.H, ve.W, 3), (100, 200, 50), np.uint8))
check(g.shape == (2, 96, 128) and np.allclose(g, 0.299 * 100 + 0.587 * 200 + 0.114 * 50),
      "grey 128x96")

# ---- the camera's own size: pixel measures scale with the width, grey stays 128x96
ve.set_frame_size(768, 576)
check((ve.W, ve.H, ve.FRAME_BYTES) == (768, 576, 768 * 576 * 3), "768x576 frames")
check((ve.MOVING_SPEED, ve.BLUR_RADIUS) == (10.0, 5.0), "speed and blur scale with the width")
blocks = np.random.default_rng(4).integers(0, 256, (1, 96, 128, 3), dtype=np.uint8)
big = blocks.repeat(6, axis=1).repeat(6, axis=2)  # each grey pixel one 6x6 block
g = ve.grey_small(big)
check(g.shape == (1, 96, 128) and np.allclose(g[0], blocks[0] @ np.array([0.299, 0.587, 0.114])),
      "grey 128x96 from 6x6 blocks")
for bad in ((700, 500), (768, 288), (0, 0)):
    try:
        ve.set_frame_size(*bad)
        check(False, f"{bad} refused")
    except ValueError:
        pass
ve.set_frame_size(384, 288)
check((ve.W, ve.H, ve.MOVING_SPEED, ve.BLUR_RADIUS, ve.GREY_BLOCK) == (384, 288, 5.0, 2.5, 3),
      "back at 384x288")

# ---- decent-detect's CSV (a frame not scored carries the last result) and events
tmp = tempfile.mkdtemp()
try:
    p = os.path.join(tmp, "s.csv")
    with open(p, "w") as f:
        f.write("frame,seconds,score,threshold,normalized,flagged\n0,0.0,1,2,0.5,0\n"
                "1,0.1,3,2,1.5,1\n3,0.3,1,2,0.5,0\n")
    s, nm, fl, thr = ve.read_detect_csv(p, 5)
    check(list(s) == [1, 3, 3, 1, 1] and list(fl) == [0, 1, 1, 0, 0] and thr == 2, "scores CSV")
    p = os.path.join(tmp, "e.csv")
    with open(p, "w") as f:
        f.write("type,event_frame,frame,peak\nbegin,5,7,1\nregion-begin,5,7,1\n"
                "region-begin,9,11,1\nregion-end,5,12,1\nend,5,12,1\nbegin,30,32,2\n")
    check(ve.read_begins(p) == [7, 32], "begins are the frames they are posted at")
    check(ve.read_begins(p, "region-begin") == [7, 11], "region begins apart")

    # ---- properties: unknown ones are named
    check(ve.parse_props(" a=1  b=x ") == ["a=1", "b=x"], "parse_props")
    try:
        ve.parse_props("a=1 b")
        check(False, "a token without = is refused")
    except ValueError:
        pass
    check(ve.check_props(["a=1", "score-mode=local"], {"a"}, "decentanomaly")
          == "decentanomaly has no property 'score-mode'", "unknown property named")
    check(ve.check_props(["a=1"], {"a"}, "x") is None, "known property")
    inspect_text = """Factory Details:
  Rank                     none (0)

Element Properties:
  epochs              : Passes over the collected frames
                        flags: readable, writable
                        Unsigned Integer. Range: 0 - 100000 Default: 20 
  holdout             : Fraction held out
                        flags: readable, writable
                        Double. Range:               0 -             0.5 Default:             0.2 
  score-mode          : How a frame's error map becomes its score
                        Enum "GstDecentScoreMode" Default: 1, "local"
                           (0): mean             - The paper's score
  roi                 : Score only this region
                        String. Default: ""

Element Signals:
  "x" :  void user_function (GstElement* object);
"""
    check(ve.parse_inspect(inspect_text) == {
        "epochs": ("Passes over the collected frames", "20"),
        "holdout": ("Fraction held out", "0.2"),
        "score-mode": ("How a frame's error map becomes its score", "local"),
        "roi": ("Score only this region", "")}, f"parse_inspect {ve.parse_inspect(inspect_text)}")
    check(ve.slug("") == "defaults" and ve.slug("epochs=40 width=128") == "epochs=40_width=128",
          "slugs")

    # ---- measures on a made-up detector: known counts
    n = 100
    normal_flag = np.zeros(n, bool)
    normal_flag[20:30] = True  # one event on the normal clip, begun at 22
    clips = {"normal": ("normal", []),
             "a": ("box 1 %", [{"first": 20, "last": 39, "colour": "black"},
                               {"first": 60, "last": 79, "colour": "black"}])}
    score_a = np.zeros(n)
    score_a[20:40] = 2.0
    flag_a = score_a > 1
    data = {"normal": {"score": np.linspace(0, 1, n), "flag": normal_flag,
                       "begins": [e[1] for e in ve.hysteresis(normal_flag)]},
            "a": {"score": score_a, "flag": flag_a, "begins": [22, 90]}}
    res = ve.measure(clips, data, n)
    nm = res["normal"]
    check(nm["events"] == 1 and close(nm["flagged_pct"], 10) and close(nm["alarms_per_hour"], 360),
          f"normal measures {nm}")
    g = res["groups"]["box 1 %"]
    check(g["events"] == 2 and g["detected"] == 1 and close(g["detected_pct"], 50)
          and g["false_events"] == 1 and close(g["flagged_inside_pct"], 50)
          and g["mean_delay_frames"] == 2 and g["detected_on_normal"] == 1,
          f"group measures {g}")
    check(g["detected_by_colour"] == {"black": [1, 2]}, f"detected by colour {g}")
    check(res["false_events"] == 1 and "normal" not in res["groups"],
          "false events count the anomalous clips only")
    check("region_events" not in nm and "detected_regions" not in g,
          "no region measures for a detector without region events")
    # region events: event 2 (60-79) found by a region begin at 64, one false at 95
    data["normal"]["region_begins"] = [22, 50]
    data["a"]["region_begins"] = [22, 64, 95]
    rg = ve.measure(clips, data, n)
    check(rg["normal"]["region_events"] == 2 and rg["groups"]["box 1 %"]["detected_regions"] == 2
          and close(rg["groups"]["box 1 %"]["detected_regions_pct"], 100)
          and rg["groups"]["box 1 %"]["false_region_events"] == 1
          and rg["groups"]["box 1 %"]["detected"] == 1, f"region measures {rg['groups']}")
    del data["normal"]["region_begins"], data["a"]["region_begins"]
    # AUROC: 20 frames at 2.0 above all normal scores, 20 at 0 tied with one
    check(close(g["auroc"], (20 * 1.0 + 20 * 0.5 / n) / 40), f"group AUROC {g['auroc']}")

    # ---- threshold sweep: the multiples, then the hindsight row just above
    # the normal clip's highest score (1.0 here), which no normal frame passes
    data["a"]["score"] = np.where(np.arange(n) >= 60, 1.5, score_a)  # event 2 at 1.5
    sw = ve.sweep(clips, data, 0.5, ve.MIN_FRAMES, ve.GAP)
    check(len(sw) == len(ve.SWEEP) + 1 and not any(r["hindsight"] for r in sw[:-1]),
          f"sweep rows {[r['mult'] for r in sw]}")
    first, last = sw[0], sw[-1]
    check(close(first["threshold"], 0.5) and first["events"] == 1
          and close(first["flagged_pct"], 50), f"sweep at x1: {first}")
    check(last["hindsight"] and close(last["threshold"], 1.0, 1e-6)
          and last["flagged_pct"] == 0 and last["events"] == 0
          and close(last["detected_pct"]["box 1 %"], 100), f"hindsight row {last}")
    data["a"]["score"] = score_a

    # ---- the tables and the report, from a made-up results.json
    run = {"train": "epochs=5", "score": "", "train_seconds": 12.0, "threshold": 1.0,
           "detect_frames_per_s": 80.0, **res}
    bad = {"train": "epochs=5", "score": "score-mode=local",
           "error": "decentanomaly has no property 'score-mode'"}
    base = {"name": "bg-max", "label": "background", "threshold": 3.0, **res}
    results = {"protocol": {"size": [384, 288], "train_frames": [0, 400],
                            "test_frames": [400, 795], "baseline_fit": [0, 320],
                            "baseline_holdout": [320, 400], "quantile": 0.995,
                            "event_frames": 20, "min_gap": 20, "events_per_clip": 2,
                            "clips_per_kind": 1, "tolerance": 5, "palette": ve.PALETTE,
                            "quick": False},
               "machine": {"arch": "x86_64", "cores": 2, "load_at_start": [0.1, 0, 0]},
               "clips": [{"name": "normal", "group": "normal", "events": []},
                         {"name": "a", "group": "box 1 %", "events": clips["a"][1]}],
               "runs": [run, bad], "baselines": [base],
               "pictures": [(os.path.join(tmp, "pics", "video-normal-score.png"), "a plot")]}
    text = "\n".join(ve.tables(results))
    check("| `epochs=5` / `(defaults)` | 12 | 80 | 10.0 % | 1 | 360 | 1 (" in text, "table row")
    check(f"| box 1 % | {0.5025:.3f} · 1/2 | {0.5025:.3f} · 1/2 |" in text, "AUROC · detected side by side")
    check("not measured: decentanomaly has no property 'score-mode'" in text, "error row")
    check("| kind, size | black |" in text and "| box 1 % | 1/2 |" in text, "colour table")
    os.makedirs(os.path.join(tmp, "w"))
    with open(os.path.join(tmp, "w", "results.json"), "w") as f:
        json.dump(results, f)
    ve.report(os.path.join(tmp, "w"), os.path.join(tmp, "section.md"))
    section = open(os.path.join(tmp, "section.md")).read()
    check(section.startswith("## Real footage") and "](pics/video-normal-score.png)" in section
          and "2 events in all" in section, "report section")

    # ---- bench/video_combine.py: the mean of two models' normalised scores
    import video_combine as vc
    cw = os.path.join(tmp, "combine")
    n_fr = 200
    events = [{"first": 40, "last": 59}, {"first": 120, "last": 139}]
    os.makedirs(cw)
    with open(os.path.join(cw, "results.json"), "w") as f:
        json.dump({"protocol": {"baseline_event_min_frames": 3, "baseline_event_gap": 5,
                                "test_frames": [400, 400 + n_fr]},
                   "clips": [{"name": "normal", "group": "normal", "events": []},
                             {"name": "c", "group": "box 1 %", "events": events}]}, f)

    def scores_of(config, normal, clip):
        d = os.path.join(cw, "scores", config, "defaults")
        os.makedirs(d)
        for name, v in (("normal", normal), ("c", clip)):
            with open(os.path.join(d, name + ".csv"), "w") as f:
                f.write("frame,seconds,score,threshold,normalized,flagged\n")
                for i, x in enumerate(v):
                    if config == "a" and i == 10:  # not scored: carries frame 9's result
                        continue
                    f.write(f"{i},{i / 10:.3f},{x},1.0,{x},{int(x > 1)}\n")
    base = np.full(n_fr, 0.5)
    a_clip = base.copy()
    for e in events:
        a_clip[e["first"]:e["last"] + 1] = 2.0
    b_normal = base.copy()
    b_normal[80:95] = 3.0  # b: a false alarm on the normal clip and in the copy
    b_clip = b_normal.copy()
    for e in events:
        b_clip[e["first"]:e["last"] + 1] = 0.2  # and blind to the objects
    scores_of("a", base, a_clip)
    scores_of("b", b_normal, b_clip)
    out = subprocess.run([sys.executable, os.path.join(os.path.dirname(ve.__file__),
                                                       "video_combine.py"), cw, "a", "b"],
                         capture_output=True, text=True)
    lines = out.stdout.splitlines()
    check(out.returncode == 0 and len(lines) == 3, f"video_combine: {out.stdout}{out.stderr}")
    if len(lines) == 3:
        check(lines[0].startswith("a: normal 0.0 % flagged, 0 events; 0 false events")
              and "box 1 % 1.000/2" in lines[0], lines[0])
        check(lines[1].startswith("b: normal 7.5 % flagged, 1 events; 1 false events")
              and "box 1 % 0.000/0" in lines[1], lines[1])
        # mean: 1.75 in the burst (flagged), 1.1 in the events (found, above 185 of the
        # 200 normal frames), none found above the burst (hindsight)
        check(lines[2].startswith("mean of a + b: normal 7.5 % flagged, 1 events")
              and "box 1 % 0.925/2;" in lines[2] and lines[2].endswith("x1.75: 1 % found 0 %"),
              lines[2])
    check(vc.SHOWN[0] == "box 1 %", "the groups shown")

    # ---- bench/video_regions.py: events per region on made-up maps
    import video_regions as vr
    m = np.zeros((20, 40))
    m[2:6, 3:7] = 1.0     # a hot 4x4 place
    m[12:16, 30:34] = 0.8  # a second, cooler one far away
    hw = vr.hot_windows(m, 0.5, 4, 4)
    check(hw == [(3, 2, 4, 4), (30, 12, 4, 4)], f"hot windows: {hw}")
    check(vr.hot_windows(m, 0.9, 4, 4) == [(3, 2, 4, 4)], "the cooler place is under 0.9")
    a, b, b_moved = (3, 2, 4, 4), (30, 12, 4, 4), (33, 12, 4, 4)
    # a alone for 10 frames; b appears at frame 5 while a's event is open and moves
    # by less than a window; both vanish after frame 9
    frames = [[a]] * 5 + [[a, b], [a, b_moved], [a, b_moved], [a, b], [a, b]] + [[]] * 10
    begins = vr.region_begins(frames, 4, 4)
    check(begins == [2, 7], f"region events begin at frames 2 and 7: {begins}")
    a_next = (6, 2, 4, 4)  # a larger object: two windows side by side, one event
    check(vr.region_begins([[a, a_next]] * 4, 4, 4) == [2], "two windows of one place")
    check(vr.region_begins([[a, a_next]] * 2, 4, 4, min_frames=1) == [0],
          "two windows of one place, event-min-frames 1")
    check(vr.region_begins([[a], [b], [a], [b], [a], [b]], 4, 4) == [],
          "a place must be hot min-frames frames in a row")
    check(vr.region_begins([[a]] * 3 + [[]] * 4 + [[a]] * 3, 4, 4) == [2],
          "a gap under event-gap keeps one event")
    check(vr.region_begins([[a]] * 3 + [[]] * 5 + [[a]] * 3, 4, 4) == [2, 10],
          "event-gap frames without it end an event")

    # ---- real frames: the colour rule and the box on vtest.avi's background
    if shutil.which("gst-launch-1.0"):
        raw = os.path.join(tmp, "real.rgb")
        cmd = ["gst-launch-1.0", "-q", "filesrc", f"location={ve.VTEST}", "!", "decodebin", "!",
               "videoconvert", "!", "videoscale", "!",
               f"video/x-raw,format=RGB,width={ve.W},height={ve.H}", "!", "identity",
               "eos-after=20", "!", "filesink", f"location={raw}"]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
        except subprocess.TimeoutExpired:  # said as a failure, not a meson timeout
            check(False, "decoding 20 frames of vtest.avi took over 90 s")
            r = subprocess.CompletedProcess(cmd, 1, "", "timed out")
        real = np.fromfile(raw, np.uint8) if os.path.exists(raw) else np.zeros(0, np.uint8)
        real = real[:len(real) // ve.FRAME_BYTES * ve.FRAME_BYTES].reshape(-1, ve.H, ve.W, 3)
        if r.returncode != 0:  # no decoder (gstreamer1.0-libav): the rest still counts
            print(f"note: vtest.avi does not decode here, the real-frame checks are left out: "
                  f"{r.stderr.strip()[:200]}")
        else:
            check(len(real) >= 10, f"decoded {len(real)} frames of vtest.avi")
        rng = np.random.default_rng(11)
        for k in range(30 if len(real) else 0):
            si = k % 3
            ev = dict(ve.place_object(rng, real, "box", si), first=0, last=len(real) - 1)
            bg = real[:, ev["y"]:ev["y"] + ev["h"], ev["x"]:ev["x"] + ev["w"]].reshape(-1, 3).mean(0)
            check(np.abs(np.array(ev["rgb"]) - bg).sum() > ve.MIN_L1,
                  f"real background {bg}: colour {ev['colour']} is far from it")
            f2 = real.copy()
            ve.apply_event(f2, "box", ev)
            ch = (f2 != real).any(-1)
            box = np.zeros((ve.H, ve.W), bool)
            box[ev["y"]:ev["y"] + ev["h"], ev["x"]:ev["x"] + ev["w"]] = True
            check(not ch[:, ~box].any() and ch[:, box].mean() > 0.99,
                  f"real frames: the box alone is changed ({ch[:, box].mean():.3f})")
            check(abs(ev["w"] * ev["h"] - ve.SIZES[si] * ve.W * ve.H) <= ev["w"] / 2, "area")
    else:
        print("note: no gst-launch-1.0; the real-frame checks are left out")
finally:
    shutil.rmtree(tmp)

failures = check_util.failures
print(f"{'FAILED' if failures else 'ok'}: {failures} failure(s)")
sys.exit(1 if failures else 0)
