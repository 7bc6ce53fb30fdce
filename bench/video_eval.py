#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real-footage evaluation of decent-train and decentanomaly on OpenCV's
surveillance clip vtest.avi (Debian opencv-doc: 768x576, 10 frames/s, 795
frames, a street and lawn with pedestrians), with three numpy baselines on
the same clips. Run it through bench/video-eval.sh (which installs, builds
and turns its variables into these options):

    /usr/bin/python3 bench/video_eval.py [--work DIR] [--train PROPS ...]
        [--score PROPS ...] [--quick] [--clips N] [--size WxH] [--pictures DIR]
    /usr/bin/python3 bench/video_eval.py --work DIR --report FILE

Protocol
  * vtest.avi is decoded once to packed RGB at 384x288 (WORK/frames.rgb);
    --size 768x576 keeps the camera's own frames (any multiple of 128x96:
    what is measured in pixels below scales with the width, so that the
    clips show the same scene; the baselines' grey frames stay 128x96).
  * Training footage: frames 0..399 (the first 40 s), fed to the real
    decent-train through gst-launch-1.0 with the properties of one training
    configuration (--train "epochs=40 lambda=0 width=128 height=96"); the
    model keeps decent-train's own threshold (its `holdout`, `threshold-quantile`).
  * Unseen footage: frames 400..794 (39.5 s, later than all training
    frames). Clips: `normal` (those frames as they are) and copies of them
    with inserted EVENTS: one object (or one global change) for 20
    consecutive frames (2 s); every event has at least 20 untouched frames
    before it, and the last one 20 after it; 9 events a clip, the 15 spare
    frames spread at random over the 10 gaps. CLIPS clips (3; --quick: 1)
    per kind and size, so 27 events per kind and size.
  * Sizes are fractions of the 384x288 frame area (110,592 pixels): 0.5 %,
    1 % and 2 % (553, 1106 and 2212 pixels); the aspect ratio w/h is uniform
    in 0.6..1.6, w = round(sqrt(A r)), h = round(A / w); the position is
    uniform over the frame with the object wholly inside; object and
    position stay fixed for the event's 20 frames.
  * The colour of an object: uniform among the palette colours whose L1
    distance (sum over R, G, B) to the mean colour of the background it
    covers (its box, over the event's 20 frames) is > 120 (the farthest
    colour when none is). Palette (RGB): red (200,30,30), blue (30,60,200),
    yellow (240,220,40), white (245,245,245), black (15,15,15), magenta
    (200,40,180), brown (120,75,35), light blue (130,190,240), orange
    (240,140,30), dark grey (70,70,70).
  * Kinds:
      box      a solid w x h box of the colour;
      bag      a soft-edged ellipse in a box of 1.27 x the area (so that the
               ellipse covers the nominal area): alpha = clip((1 - d^2) * 4,
               0, 1), d^2 = ((x+0.5-W/2)/(W/2))^2 + ((y+0.5-H/2)/(H/2))^2 over
               the box's pixels, colour shaded from x1.15 (top row) to x0.85
               (bottom row), clipped to 0..255, out = bg (1 - alpha) + colour alpha;
      texture  the w x h box as a 4x4 checkerboard of the colour (cells with
               even row+column) and its complement 255 - c;
      dark     the whole frame's brightness x 0.7 (no size);
      blur     the whole frame Gaussian-blurred, PIL ImageFilter.GaussianBlur(2.5)
               at 384x288 (no size);
      moving   a solid box of 1 % (as box) moving MOVING_SPEED (5 at 384x288)
               pixels a frame in a uniform direction, its whole path inside the frame,
               its colour by the mean background of the path's bounding box:
               what decentanomaly's still gate cannot see (size 1 % only).
    Every draw comes from numpy's default_rng([kind number, size number,
    clip number]) (kinds box 0, bag 1, texture 2, dark 3, blur 4, moving 5;
    sizes 0.5 % 0, 1 % 1, 2 % 2; the global kinds size 0): first the layout, then per
    event the aspect ratio, x, y and the colour.
  * Scoring: every clip with build/examples/decent-detect --model M --input
    CLIP.rgb --raw 384x288 --fps 10 --csv --events-csv [--set NAME=VALUE of
    one score configuration], i.e. the real decentanomaly with its defaults
    (threshold from the model, events after 3 flagged frames, ended by 5
    unflagged) but for the configuration's properties. Properties that an element does not have (gst-inspect-1.0)
    make that configuration an error in the results; the others go on.
  * Measures, per training x score configuration:
      normal clip: frames flagged (%), events (decentanomaly-event begins),
        alarms per hour = events x 3600 / seconds of footage (39.5);
      per kind and size: frame-level AUROC (the frames of the inserted events
        against every frame of the normal clip; Mann-Whitney, ties 1/2);
        events detected: an event counts as detected when an event begin is
        posted during its 20 frames or within 5 frames after them; frames
        flagged inside events (%); false events: begins in the anomalous
        clips outside every inserted event +- 5 frames; the same two with
        decentanomaly's region events (decentanomaly-region begins: one per
        hot place, so that an object that appears while another place's
        event is open begins its own); events detected by the object's
        colour (the first detector's details);
      cost: seconds to train (gst-launch-1.0 wall time) and decent-detect's
        wall time per clip (frames/s, loading included).
  * Baselines, in numpy on the same clips, grey (0.299 R + 0.587 G + 0.114 B)
    3x3-block-averaged to 128x96:
      bg-max   per-pixel mean and standard deviation of frames 0..319,
               z = (x - mean) / (sd + 1), frame score = the maximum over
               positions of the 11x11 box mean of |z| (121 pixels, ~1 % of
               the frame), valid positions only;
      bg-mean  the same z, mean of |z| over the frame;
      diff-max |frame - previous frame| (the previous frame of a clip's first
               frame is frame 399), 11x11 box mean, maximum.
    Their thresholds: by decent-train's default rule, the larger of the 0.995
    quantile (numpy, linear) of their scores on the held-out block 320..399
    and those scores' mean + 3 standard deviations (statistics from
    0..319); flagged = score >
    threshold; events by the same hysteresis as decentanomaly's defaults
    (event-min-frames, event-gap as gst-inspect-1.0 gives them: 3 and 5).
  * --quick (QUICK=1): one clip per kind and size (9 events each) and, unless
    --train is given, "epochs=3" (with min-steps=0 where decent-train has it).
  * Outputs: WORK/results.json (every number), WORK/results.md (the tables)
    and pictures in --pictures (docs/results): overlay frames of detected
    and missed events and the normalized score of the normal clip and of
    one anomalous clip, for the first training and score configuration.
    --report FILE writes the "Real footage" section for docs/results.md.
Everything is resumable: a model whose configuration is unchanged, and the
scores of a clip already scored, are reused (delete WORK to start again).
"""
import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
W, H, FPS = 384, 288, 10   # set_frame_size changes W, H and what follows them
FRAME_BYTES = W * H * 3
N_FRAMES = 795
TRAIN = (0, 400)        # frames [0, 400): training footage
FIT = (0, 320)          # baselines' statistics
HOLD = (320, 400)       # baselines' held-out block for their thresholds
TEST = (400, 795)       # unseen footage
QUANTILE = 0.995
SIGMAS = 3.0            # decent-train's threshold-sigmas, for the baselines
EVENT_LEN = 20
MIN_GAP = 20
EVENTS_PER_CLIP = 9
TOL = 5                 # frames after an event in which a begin still detects it
MIN_FRAMES, GAP = 3, 5  # decentanomaly's event-min-frames and event-gap defaults
SIZES = (0.005, 0.01, 0.02)
SIZED_KINDS = ("box", "bag", "texture")
GLOBAL_KINDS = ("dark", "blur")
# a 1 % box that crosses the frame at MOVING_SPEED pixels a frame (a thrown or
# rolling thing, a cyclist where only walkers go): what decentanomaly's
# still gate cannot see, so the frame's own score must
MOVING_KINDS = ("moving",)
MOVING_SIZE = 1         # index into SIZES
MOVING_SPEED = 5.0      # pixels a frame at 384x288
BLUR_RADIUS = 2.5       # PIL's GaussianBlur radius at 384x288
KINDS = SIZED_KINDS + GLOBAL_KINDS + MOVING_KINDS  # appended: the others' seeds stay
PALETTE = {
    "red": (200, 30, 30), "blue": (30, 60, 200), "yellow": (240, 220, 40),
    "white": (245, 245, 245), "black": (15, 15, 15), "magenta": (200, 40, 180),
    "brown": (120, 75, 35), "light blue": (130, 190, 240), "orange": (240, 140, 30),
    "dark grey": (70, 70, 70)}
MIN_L1 = 120
BAG_AREA = 1.27
BOX_K = 11              # baselines' box filter (11x11 of 128x96: ~1 % of the frame)
GREY_W, GREY_H = 128, 96
GREY_BLOCK = 3          # frame pixels per grey pixel, each way


def set_frame_size(w, h):
    """Decodes at w x h (a multiple of 128x96) instead of 384x288: speeds and
    blur scale with the width, so that an inserted event covers as much of
    the scene and moves across it as fast; the grey frames stay 128x96."""
    global W, H, FRAME_BYTES, MOVING_SPEED, BLUR_RADIUS, GREY_BLOCK
    if w <= 0 or h <= 0 or w % GREY_W or h % GREY_H or w // GREY_W != h // GREY_H:
        raise ValueError(f"{w}x{h} is not a multiple of {GREY_W}x{GREY_H}")
    scale = w / 384
    W, H, FRAME_BYTES = w, h, w * h * 3
    MOVING_SPEED, BLUR_RADIUS = 5.0 * scale, 2.5 * scale
    GREY_BLOCK = w // GREY_W


# ---------------------------------------------------------------- metrics

def auroc(pos, neg):
    """Mann-Whitney AUROC: P(pos > neg) + P(pos = neg) / 2. NaN when a side is empty."""
    from scipy.stats import rankdata
    pos = np.asarray(pos, float)
    neg = np.asarray(neg, float)
    pos, neg = pos[np.isfinite(pos)], neg[np.isfinite(neg)]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    ranks = rankdata(np.concatenate([pos, neg]))  # average ranks: ties count 1/2
    r = ranks[:len(pos)].sum()
    return float((r - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def wilson(k, n, z=1.96):
    """The 95 % Wilson score interval (low, high) of a rate of k in n trials,
    (nan, nan) without trials: how far a count of detected events can be
    from chance alone (the events taken as independent trials)."""
    if n <= 0:
        return float("nan"), float("nan")
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def hysteresis(flags, min_frames=MIN_FRAMES, gap=GAP):
    """decentanomaly's events (gst/events.c) over per-frame flags: a list of
    (first flagged frame, frame the begin is posted at, last flagged frame)."""
    events = []
    active, run, clear, run_start, last = False, 0, 0, 0, 0
    for i, f in enumerate(flags):
        if f:
            clear = 0
            if active:
                last = i
                continue
            if run == 0:
                run_start = i
            run += 1
            if run >= min_frames:
                active, run, last = True, 0, i
                events.append([run_start, i, None])
        else:
            run = 0
            if active:
                clear += 1
                if clear >= gap:
                    active, clear = False, 0
                    events[-1][2] = last
    if active:
        events[-1][2] = last
    return [tuple(e) for e in events]


def match_events(events, begins, tol=TOL):
    """events: inserted (first, last) frames; begins: frames event begins were
    posted at. Returns (detected flags, one per event; delay in frames of the
    first begin that detects each, or None; the begins outside every event
    +- tol, i.e. false events)."""
    detected, delays = [], []
    for s, e in events:
        hits = [b for b in begins if s <= b <= e + tol]
        detected.append(bool(hits))
        delays.append(min(hits) - s if hits else None)
    false = [b for b in begins if not any(s - tol <= b <= e + tol for s, e in events)]
    return detected, delays, false


def alarms_per_hour(n_events, n_frames, fps=FPS):
    seconds = n_frames / fps
    return n_events * 3600.0 / seconds if seconds > 0 else float("nan")


# ---------------------------------------------------------------- clips

def object_size(area, aspect):
    """Integer w x h of about `area` pixels with w / h about `aspect`."""
    w = max(1, int(round(np.sqrt(area * aspect))))
    h = max(1, int(round(area / w)))
    return w, h


def event_layout(rng, n_frames=TEST[1] - TEST[0], n_events=EVENTS_PER_CLIP,
                 length=EVENT_LEN, min_gap=MIN_GAP):
    """Event (first, last) frames: min_gap untouched frames before each event and
    after the last; the spare frames spread at random over the n_events + 1 gaps."""
    spare = n_frames - n_events * (length + min_gap) - min_gap
    if spare < 0:
        raise ValueError(f"{n_events} events of {length} frames do not fit {n_frames} frames")
    extra = rng.multinomial(spare, [1.0 / (n_events + 1)] * (n_events + 1))
    out, t = [], 0
    for k in range(n_events):
        t += min_gap + int(extra[k])
        out.append((t, t + length - 1))
        t += length
    return out


def pick_colour(rng, background_mean):
    """A palette colour (name, rgb) whose L1 distance to the background mean is
    > MIN_L1, uniformly among those (the farthest one when none is)."""
    names = list(PALETTE)
    dist = [float(np.abs(np.array(PALETTE[n], float) - background_mean).sum()) for n in names]
    ok = [n for n, d in zip(names, dist) if d > MIN_L1]
    name = ok[int(rng.integers(len(ok)))] if ok else names[int(np.argmax(dist))]
    return name, PALETTE[name]


def clip_rng(kind, size_index, clip_index):
    return np.random.default_rng([KINDS.index(kind), size_index, clip_index])


def place_object(rng, segment, kind, size_index):
    """Draws one object of a sized kind for the frames `segment` (its event's
    frames, (n, H, W, 3) uint8): a dict with x, y, w, h, colour (name), rgb and
    the mean background colour it covers."""
    area = SIZES[size_index] * W * H * (BAG_AREA if kind == "bag" else 1.0)
    w, h = object_size(area, rng.uniform(0.6, 1.6))
    x = int(rng.integers(0, W - w + 1))
    y = int(rng.integers(0, H - h + 1))
    bg = segment[:, y:y + h, x:x + w].reshape(-1, 3).mean(0)
    name, rgb = pick_colour(rng, bg)
    return {"x": x, "y": y, "w": w, "h": h, "colour": name, "rgb": list(rgb),
            "background": [round(float(v), 1) for v in bg]}


def plan_clip(frames, kind, size_index, clip_index):
    """The events of one anomalous clip: a list of dicts with first, last, and
    for objects those of place_object. frames: the clean clip (N, H, W, 3)
    uint8, for the colour rule."""
    rng = clip_rng(kind, size_index, clip_index)
    events = []
    for first, last in event_layout(rng, len(frames)):
        ev = {"first": first, "last": last}
        if kind in SIZED_KINDS:
            ev.update(place_object(rng, frames[first:last + 1], kind, size_index))
        elif kind in MOVING_KINDS:
            ev.update(place_moving(rng, frames[first:last + 1]))
        events.append(ev)
    return events


def place_moving(rng, segment):
    """A moving 1 % box for the frames `segment`: place_object's dict for its
    first frame, plus vx, vy (pixels a frame, MOVING_SPEED in a uniform
    direction), its whole path inside the frame; the colour by the mean
    background of the path's bounding box."""
    n = len(segment)
    w, h = object_size(SIZES[MOVING_SIZE] * W * H, rng.uniform(0.6, 1.6))
    angle = rng.uniform(0, 2 * np.pi)
    vx, vy = MOVING_SPEED * np.cos(angle), MOVING_SPEED * np.sin(angle)
    dx, dy = int(round(vx * (n - 1))), int(round(vy * (n - 1)))
    x = int(rng.integers(max(0, -dx), W - w - max(0, dx) + 1))
    y = int(rng.integers(max(0, -dy), H - h - max(0, dy) + 1))
    x0, y0 = min(x, x + dx), min(y, y + dy)
    bg = segment[:, y0:y0 + h + abs(dy), x0:x0 + w + abs(dx)].reshape(-1, 3).mean(0)
    name, rgb = pick_colour(rng, bg)
    return {"x": x, "y": y, "w": w, "h": h, "vx": round(float(vx), 3), "vy": round(float(vy), 3),
            "colour": name, "rgb": list(rgb), "background": [round(float(v), 1) for v in bg]}


def object_patch(kind, w, h, rgb):
    """(colour (h, w, 3) float, alpha (h, w) float) of an object."""
    c = np.array(rgb, float)
    if kind == "box":
        return np.broadcast_to(c, (h, w, 3)).copy(), np.ones((h, w))
    if kind == "texture":
        rows = np.minimum((np.arange(h) * 4) // h, 3)
        cols = np.minimum((np.arange(w) * 4) // w, 3)
        even = ((rows[:, None] + cols[None, :]) % 2) == 0
        return np.where(even[..., None], c, 255.0 - c), np.ones((h, w))
    if kind == "bag":
        yy = (np.arange(h) + 0.5 - h / 2) / (h / 2)
        xx = (np.arange(w) + 0.5 - w / 2) / (w / 2)
        d2 = yy[:, None] ** 2 + xx[None, :] ** 2
        alpha = np.clip((1 - d2) * 4, 0, 1)
        shade = 1.15 - 0.30 * (np.arange(h) / max(h - 1, 1))
        col = np.clip(c[None, None, :] * shade[:, None, None], 0, 255)
        return np.broadcast_to(col, (h, w, 3)).copy(), alpha
    raise ValueError(kind)


def apply_event(frames, kind, ev):
    """Inserts one event into frames (N, H, W, 3) uint8, in place."""
    sl = slice(ev["first"], ev["last"] + 1)
    if kind in SIZED_KINDS:
        x, y, w, h = ev["x"], ev["y"], ev["w"], ev["h"]
        col, alpha = object_patch(kind, w, h, ev["rgb"])
        region = frames[sl, y:y + h, x:x + w].astype(float)
        a = alpha[None, :, :, None]
        frames[sl, y:y + h, x:x + w] = np.clip(
            np.rint(region * (1 - a) + col[None] * a), 0, 255).astype(np.uint8)
    elif kind in MOVING_KINDS:
        col = np.array(ev["rgb"], np.uint8)
        for k, i in enumerate(range(ev["first"], ev["last"] + 1)):
            x = int(round(ev["x"] + ev["vx"] * k))
            y = int(round(ev["y"] + ev["vy"] * k))
            frames[i, y:y + ev["h"], x:x + ev["w"]] = col
    elif kind == "dark":
        frames[sl] = np.clip(np.rint(frames[sl] * 0.7), 0, 255).astype(np.uint8)
    elif kind == "blur":
        from PIL import Image, ImageFilter
        for i in range(ev["first"], ev["last"] + 1):
            frames[i] = np.asarray(Image.fromarray(frames[i]).filter(
                ImageFilter.GaussianBlur(BLUR_RADIUS)))
    else:
        raise ValueError(kind)


def make_clip(clean, kind, size_index, clip_index):
    """(frames with the events inserted, events)."""
    events = plan_clip(clean, kind, size_index, clip_index)
    frames = clean.copy()
    for ev in events:
        apply_event(frames, kind, ev)
    return frames, events


def clip_list(n_clips):
    """(name, group, kind, size index, clip index) of every anomalous clip."""
    out = []
    for kind in KINDS:
        sizes = (range(len(SIZES)) if kind in SIZED_KINDS
                 else [MOVING_SIZE] if kind in MOVING_KINDS else [0])
        for si in sizes:
            group = (f"{kind} {SIZES[si] * 100:g} %" if kind in SIZED_KINDS + MOVING_KINDS
                     else kind)
            for ci in range(n_clips):
                name = (f"{kind}-{SIZES[si] * 100:g}pct-{ci}" if kind in SIZED_KINDS
                        else f"{kind}-{ci}")
                out.append((name, group, kind, si, ci))
    return out


# ---------------------------------------------------------------- baselines

def grey_small(frames, chunk=64):
    """(N, 96, 128) float32: luma, GREY_BLOCK x GREY_BLOCK block means."""
    out = np.empty((len(frames), GREY_H, GREY_W), np.float32)
    wts = np.array([0.299, 0.587, 0.114], np.float32)
    for i in range(0, len(frames), chunk):
        f = np.asarray(frames[i:i + chunk], np.float32) @ wts
        out[i:i + chunk] = f.reshape(len(f), GREY_H, GREY_BLOCK, GREY_W,
                                     GREY_BLOCK).mean((2, 4))
    return out


def box_means(maps, kw, kh):
    """The mean of every kw x kh box of each map of (N, h, w): (N, h - kh + 1, w - kw + 1)."""
    maps = np.asarray(maps, np.float64)
    c = np.zeros((maps.shape[0], maps.shape[1] + 1, maps.shape[2] + 1))
    c[:, 1:, 1:] = maps.cumsum(1).cumsum(2)
    return (c[:, kh:, kw:] - c[:, :-kh, kw:] - c[:, kh:, :-kw] + c[:, :-kh, :-kw]) / (kw * kh)


def window_scores(maps, kw, kh, surround):
    """decentanomaly's local window scores (engine/localscore.c) of each map of
    (N, h, w): the kw x kh box means less surround times how much the ring
    around each box (grown by (kw + 2) // 4, (kh + 2) // 4 a side, within the
    map, less the box) exceeds the map's mean; surround 0: box_means."""
    means = box_means(maps, kw, kh)
    if surround <= 0:
        return means
    maps = np.asarray(maps, np.float64)
    n, h, w = maps.shape
    c = np.zeros((n, h + 1, w + 1))
    c[:, 1:, 1:] = maps.cumsum(1).cumsum(2)
    ys, xs = np.mgrid[0:h - kh + 1, 0:w - kw + 1]
    rx, ry = (kw + 2) // 4, (kh + 2) // 4
    x0, y0 = np.maximum(xs - rx, 0), np.maximum(ys - ry, 0)
    x1, y1 = np.minimum(xs + kw + rx, w), np.minimum(ys + kh + ry, h)
    big = c[:, y1, x1] - c[:, y0, x1] - c[:, y1, x0] + c[:, y0, x0]
    ring_area = (x1 - x0) * (y1 - y0) - kw * kh
    map_mean = c[:, h, w][:, None, None] / (w * h)
    ring = np.where(ring_area > 0, (big - means * kw * kh) / np.maximum(ring_area, 1), map_mean)
    return means - surround * (ring - map_mean)


def box_max(maps, k=BOX_K):
    """Maximum over valid positions of the k x k box mean, per map of (N, h, w)."""
    return box_means(maps, k, k).reshape(len(maps), -1).max(1)


def held_out_threshold(scores):
    """decent-train's default rule on held-out scores: the larger of their
    QUANTILE quantile and their mean + SIGMAS standard deviations."""
    scores = np.asarray(scores, np.float64)
    return float(max(np.quantile(scores, QUANTILE), scores.mean() + SIGMAS * scores.std()))


class Baselines:
    NAMES = [("bg-max", "background model, 11×11 max of abs z"),
             ("bg-mean", "background model, mean of abs z"),
             ("diff-max", "frame difference, 11×11 max")]

    def __init__(self, grey_all):
        fit = grey_all[FIT[0]:FIT[1]].astype(np.float64)
        self.mean = fit.mean(0)
        self.sd = fit.std(0) + 1.0
        hold = grey_all[HOLD[0]:HOLD[1]]
        prev = grey_all[HOLD[0] - 1]
        self.thresholds = {n: held_out_threshold(s) for n, s in self.scores(hold, prev).items()}

    def scores(self, grey, prev):
        """{name: per-frame scores} of grey frames; prev: the frame before the first."""
        z = np.abs((grey - self.mean) / self.sd)
        diff = np.abs(np.diff(np.concatenate([prev[None], grey]), axis=0))
        return {"bg-max": box_max(z), "bg-mean": z.reshape(len(z), -1).mean(1),
                "diff-max": box_max(diff)}


# ---------------------------------------------------------------- elements

BASE_CLASS_PROPS = {  # GstObject, GstBaseSink and GstBaseTransform: not the elements' own
    "name", "parent", "sync", "max-lateness", "qos", "async", "ts-offset", "enable-last-sample",
    "last-sample", "blocksize", "render-delay", "throttle-time", "max-bitrate",
    "processing-deadline", "stats"}


def parse_inspect(text):
    """{property: (blurb, default)} from gst-inspect-1.0's output."""
    props, inside, cur = {}, False, None
    for line in text.splitlines():
        if line.startswith("Element Properties"):
            inside = True
            continue
        if inside and line and not line[0].isspace():
            break
        if not inside:
            continue
        m = re.match(r"^  ([a-z][a-z0-9-]*)\s*: (.*)$", line)
        if m:
            cur = m.group(1)
            props[cur] = [m.group(2).strip(), None]
            continue
        d = re.search(r"Default: (.*?)\s*$", line)
        if cur and d and props[cur][1] is None:
            v = d.group(1).strip()
            e = re.match(r'^-?\d+, "(.*)"$', v)  # an enum: its nick
            props[cur][1] = e.group(1) if e else v.strip('"')
    return {k: tuple(v) for k, v in props.items()}


def inspect(element):
    """{property: (blurb, default)} of an element, or None if it cannot be inspected."""
    r = subprocess.run(["gst-inspect-1.0", element], capture_output=True, text=True)
    return parse_inspect(r.stdout) if r.returncode == 0 else None


def element_properties(element):
    """Property names of an element (gst-inspect-1.0), or None if it cannot be inspected."""
    props = inspect(element)
    return None if props is None else set(props)


def parse_props(text):
    """'a=1 b=2' -> ['a=1', 'b=2']; ValueError on a token without '='."""
    tokens = text.split()
    for t in tokens:
        if "=" not in t or t.startswith("="):
            raise ValueError(f"'{t}' is not NAME=VALUE")
    return tokens


def token_value(tokens, name, default):
    """The value of NAME in ['NAME=VALUE', ...], else default."""
    for t in tokens:
        k, v = t.split("=", 1)
        if k == name:
            return v
    return default


def check_props(tokens, known, element):
    """An error message when a property is unknown to the element, else None."""
    if known is None:
        return f"cannot inspect {element} (is GST_PLUGIN_PATH set to build/plugin?)"
    bad = [t.split("=", 1)[0] for t in tokens if t.split("=", 1)[0] not in known]
    if bad:
        return f"{element} has no propert{'y' if len(bad) == 1 else 'ies'} " + \
            ", ".join(f"'{b}'" for b in bad)
    return None


def slug(text):
    return re.sub(r"[^A-Za-z0-9=.,_-]", "-", "_".join(text.split())) or "defaults"


def read_detect_csv(path, n):
    """Scores, normalized scores and flags per frame from decent-detect --csv; frames
    not scored (inference-interval, non-finite) carry the last result, as the meta does."""
    score = np.full(n, np.nan)
    norm = np.full(n, np.nan)
    flag = np.zeros(n, bool)
    threshold = float("nan")
    with open(path) as f:
        next(f)
        for line in f:
            fr, _sec, s, thr, nm, fl = line.strip().split(",")
            i = int(fr)
            if 0 <= i < n:
                score[i], norm[i], flag[i] = float(s), float(nm), fl == "1"
                threshold = float(thr)
    for i in range(1, n):
        if np.isnan(score[i]) and not np.isnan(score[i - 1]):
            score[i], norm[i], flag[i] = score[i - 1], norm[i - 1], flag[i - 1]
    return score, norm, flag, threshold


def read_begins(path, kind="begin"):
    """Frames the begins were posted at, from decent-detect --events-csv: the
    frame's events (kind "begin") or its places' (decentanomaly-region:
    "region-begin")."""
    begins = []
    with open(path) as f:
        next(f)
        for line in f:
            typ, _first, frame, _peak = line.strip().split(",")
            if typ == kind:
                begins.append(int(frame))
    return begins


# ---------------------------------------------------------------- the run

def log(msg):
    print(msg, flush=True)


def write_raw(path, frames):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(np.ascontiguousarray(frames).tobytes())
    os.replace(tmp, path)


def decode(work):
    path = os.path.join(work, "frames.rgb")
    if os.path.exists(path) and os.path.getsize(path) == N_FRAMES * FRAME_BYTES:
        return path
    if not os.path.exists(VTEST):
        sys.exit(f"video_eval: {VTEST} is missing (apt-get install opencv-doc)")
    log(f"decoding {VTEST} to {W}x{H} RGB")
    tmp = path + ".tmp"
    subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={VTEST}", "!", "decodebin",
                    "!", "videoconvert", "!", "videoscale", "!",
                    f"video/x-raw,format=RGB,width={W},height={H}", "!", "filesink",
                    f"location={tmp}"], check=True)
    n = os.path.getsize(tmp) // FRAME_BYTES
    if n != N_FRAMES:
        sys.exit(f"video_eval: decoded {n} frames, expected {N_FRAMES}")
    os.replace(tmp, path)
    return path


def epochs_trained(log_path):
    """{"epochs_trained", "steps_trained"} from decent-train's INFO log ("epoch N/M (S
    steps)"), or {} when it says nothing of the kind."""
    try:
        with open(log_path, errors="replace") as f:
            found = re.findall(r"epoch (\d+)/\d+ \((\d+) steps\)", f.read())
    except OSError:
        return {}
    return {"epochs_trained": int(found[-1][0]), "steps_trained": int(found[-1][1])} if found else {}


def train(work, frames, props, known):
    """Trains one configuration (or reuses its model): a dict with slug, model,
    seconds, threshold, error."""
    s = slug(props)
    d = os.path.join(work, "models", s)
    info_path = os.path.join(d, "train.json")
    # what the properties left unset mean: a model trained with other
    # defaults (an older build's) is not reused
    defaults = {k: v[1] for k, v in (inspect("decent-train") or {}).items()}
    if os.path.exists(info_path):
        with open(info_path) as f:
            info = json.load(f)
        if (info.get("props") == props and info.get("defaults") == defaults
                and info.get("size", [384, 288]) == [W, H]
                and not info.get("error") and os.path.exists(info["model"])):
            log(f"train [{props or 'defaults'}]: reusing {info['model']}")
            info.update(epochs_trained(os.path.join(d, "train.log")))
            return info
    os.makedirs(d, exist_ok=True)
    info = {"props": props, "slug": s, "model": os.path.join(d, "model.dcnt"),
            "defaults": defaults, "size": [W, H]}
    try:
        tokens = parse_props(props)
    except ValueError as e:
        info["error"] = f"TRAIN_PROPS: {e}"
        return info
    err = check_props(tokens, known, "decent-train")
    if err:
        info["error"] = err
        log(f"train [{props}]: {err}; skipped")
        return info
    train_raw = os.path.join(work, "train.rgb")
    if not (os.path.exists(train_raw)
            and os.path.getsize(train_raw) == (TRAIN[1] - TRAIN[0]) * FRAME_BYTES):
        write_raw(train_raw, frames[TRAIN[0]:TRAIN[1]])
    if os.path.exists(info["model"]):
        os.remove(info["model"])
    shutil.rmtree(os.path.join(work, "scores", s), ignore_errors=True)  # an older model's
    log(f"train [{props or 'defaults'}]: decent-train on frames {TRAIN[0]}..{TRAIN[1] - 1}")
    cmd = ["gst-launch-1.0", "filesrc", f"location={train_raw}", "!", "rawvideoparse",
           f"width={W}", f"height={H}", "format=rgb", f"framerate={FPS}/1", "!", "videoconvert",
           "!", "decent-train", f"model-location={info['model']}"] + tokens
    info["load_at_start"] = round(os.getloadavg()[0], 2)
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, env=gst_env("decent-train"))
    info["seconds"] = round(time.monotonic() - t0, 2)
    info["command"] = " ".join(cmd)
    with open(os.path.join(d, "train.log"), "w") as f:
        f.write(r.stdout + r.stderr)
    info.update(epochs_trained(os.path.join(d, "train.log")))
    dev = re.search(r"device=(\S+): training on ([^\n]*)", r.stderr)
    if dev:
        info["device"] = f"{dev.group(1)}: {dev.group(2).strip()}"
    m = re.search(r"Model written to [^\n]*", r.stdout)
    if m:
        info["written"] = m.group(0)
        t = re.search(r"threshold ([0-9.eE+-]+)", m.group(0))
        if t:
            info["threshold"] = float(t.group(1))
    if r.returncode != 0 or not os.path.exists(info["model"]):
        tail = (r.stderr.strip() or r.stdout.strip()).splitlines()[-3:]
        info["error"] = f"decent-train failed (rc {r.returncode}): " + " / ".join(tail)
        log(f"train [{props}]: {info['error']}")
    else:
        log(f"train [{props or 'defaults'}]: {info['seconds']:.0f} s, threshold "
            f"{info.get('threshold', float('nan')):.5g}")
    with open(info_path, "w") as f:
        json.dump(info, f, indent=1)
    return info


def gst_env(category):
    """The environment with the element's INFO log (which says the device), uncoloured."""
    return dict(os.environ, GST_DEBUG=f"{category}:4", GST_DEBUG_NO_COLOR="1")


def already_scored(out_base):
    """Whether score_clip's files for out_base exist, from a decent-detect that
    writes region events (older ones are scored again)."""
    paths = [out_base + ext for ext in (".csv", ".events.csv", ".json")]
    if not all(os.path.exists(p) for p in paths):
        return False
    with open(paths[2]) as f:
        return bool(json.load(f).get("regions"))


def score_clip(model, clip_path, out_base, tokens, n):
    """decent-detect on one clip; (dict of arrays and timing) or raises RuntimeError."""
    csv_path, ev_path, meta_path = out_base + ".csv", out_base + ".events.csv", out_base + ".json"
    if not already_scored(out_base):
        cmd = [os.path.join(ROOT, "build", "examples", "decent-detect"), "--model", model,
               "--input", clip_path, "--raw", f"{W}x{H}", "--fps", str(FPS), "--csv",
               csv_path + ".tmp", "--events-csv", ev_path + ".tmp"]
        for t in tokens:
            # decent-detect takes the second model as an option (checked
            # against its outputs), not as a --set
            name, _, value = t.partition("=")
            cmd += (["--second-model", value] if name.replace("_", "-") == "second-model-location"
                    else ["--set", t])
        load = round(os.getloadavg()[0], 2)
        t0 = time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True, env=gst_env("decentanomaly"))
        wall = time.monotonic() - t0
        if r.returncode != 0:
            raise RuntimeError(f"decent-detect failed (rc {r.returncode}): "
                               + " / ".join((r.stderr.strip() or r.stdout).splitlines()[:2]))
        os.replace(csv_path + ".tmp", csv_path)
        os.replace(ev_path + ".tmp", ev_path)
        dev = re.search(r"device=(\S+): (.*?); model", r.stderr)
        with open(meta_path, "w") as f:
            json.dump({"wall_s": wall, "load_at_start": load,
                       "device": f"{dev.group(1)}: {dev.group(2)}" if dev else None,
                       "summary": r.stdout.splitlines()[:1], "regions": True}, f)
    with open(meta_path) as f:
        meta = json.load(f)
    score, norm, flag, thr = read_detect_csv(csv_path, n)
    return {"score": score, "norm": norm, "flag": flag, "threshold": thr,
            "begins": read_begins(ev_path), "region_begins": read_begins(ev_path, "region-begin"),
            "wall_s": meta["wall_s"],
            "load": meta.get("load_at_start"), "device": meta.get("device")}


def measure(clips, data, n_normal):
    """Every measure of one detector. clips: {name: (group, events)}; data: {clip
    name: {"score", "flag", "begins"}} including "normal"."""
    nd = data["normal"]
    out = {"normal": {"frames": n_normal, "seconds": n_normal / FPS,
                      "flagged_pct": 100.0 * float(np.mean(nd["flag"])),
                      "events": len(nd["begins"]),
                      "alarms_per_hour": alarms_per_hour(len(nd["begins"]), n_normal)},
           "groups": {}}
    # decentanomaly's region events (one per hot place), where the detector has them
    regions = "region_begins" in nd
    if regions:
        out["normal"]["region_events"] = len(nd["region_begins"])
    groups = {}
    for name, (group, events) in clips.items():
        if name in data and name != "normal":
            groups.setdefault(group, []).append(name)
    total_false, total_frames = 0, 0
    for group, names in groups.items():
        pos, det, delays, false, inside, n_ev_frames, frames = [], [], [], 0, 0, 0, 0
        chance, det_regions, false_regions = 0, [], 0
        by_colour = {}  # the object's colour: [detected, events]
        for name in names:
            d, events = data[name], clips[name][1]
            spans = [(e["first"], e["last"]) for e in events]
            for s, e in spans:
                pos.append(d["score"][s:e + 1])
                inside += int(np.sum(d["flag"][s:e + 1]))
                n_ev_frames += e - s + 1
            dt, dl, fl = match_events(spans, d["begins"])
            for ev, hit in zip(events, dt):
                if "colour" in ev:
                    tally = by_colour.setdefault(ev["colour"], [0, 0])
                    tally[0] += int(bool(hit))
                    tally[1] += 1
            # the same windows on the normal clip: "detections" its false alarms give
            chance += sum(match_events(spans, nd["begins"])[0])
            det += dt
            if regions:
                dr, _, fr = match_events(spans, d["region_begins"])
                det_regions += dr
                false_regions += len(fr)
            delays += [x for x in dl if x is not None]
            false += len(fl)
            frames += len(d["flag"])
        total_false += false
        total_frames += frames
        out["groups"][group] = {
            "clips": len(names), "events": len(det), "detected": int(sum(det)),
            "detected_pct": 100.0 * sum(det) / len(det) if det else float("nan"),
            "detected_on_normal": int(chance),
            "auroc": auroc(np.concatenate(pos) if pos else [], nd["score"]),
            "flagged_inside_pct": 100.0 * inside / n_ev_frames if n_ev_frames else float("nan"),
            "false_events": false, "false_per_hour": alarms_per_hour(false, frames),
            "mean_delay_frames": float(np.mean(delays)) if delays else None}
        if by_colour:
            out["groups"][group]["detected_by_colour"] = by_colour
        if regions:
            out["groups"][group].update(
                detected_regions=int(sum(det_regions)), false_region_events=false_regions,
                detected_regions_pct=100.0 * sum(det_regions) / len(det_regions)
                if det_regions else float("nan"))
    out["false_events"] = total_false
    out["false_per_hour"] = alarms_per_hour(total_false, total_frames) if total_frames else None
    return out


SWEEP = (1.0, 1.05, 1.1, 1.15, 1.2)  # multiples of the stored threshold


def sweep(clips, data, threshold, min_frames, gap):
    """What other thresholds (multiples of the stored one) would give: the
    normal clip's flagged frames and events, and the events detected per
    kind and size (the same matching as measure()). The last row is the
    hindsight threshold, just above the normal clip's highest score: no
    calibration can do better without flagging unseen normal frames, so it
    measures the model and score, apart from the calibration."""
    out = []
    top = float(np.max(data["normal"]["score"]))
    levels = [(m, threshold * m, False) for m in SWEEP]
    levels.append((top * (1 + 1e-9) / threshold, top * (1 + 1e-9), True))
    for mult, t, hindsight in levels:
        flags = {name: d["score"] > t for name, d in data.items()}
        begins = {name: [b for _, b, _ in hysteresis(f, min_frames, gap)]
                  for name, f in flags.items()}
        row = {"mult": float(mult), "threshold": float(t), "hindsight": hindsight,
               "flagged_pct": 100.0 * float(np.mean(flags["normal"])),
               "events": len(begins["normal"]), "detected_pct": {}}
        per_group = {}
        for name, (group, events) in clips.items():
            if name == "normal" or name not in data:
                continue
            det, _, _ = match_events([(e["first"], e["last"]) for e in events], begins[name])
            per_group.setdefault(group, []).extend(det)
        row["detected_pct"] = {g: 100.0 * sum(v) / len(v) for g, v in per_group.items() if v}
        out.append(row)
    return out


def overlay_frames(model, tokens, frames, work):
    """The frames through decentanomaly mode=overlay (gst-launch-1.0), RGB."""
    src = os.path.join(work, "overlay-in.rgb")
    dst = os.path.join(work, "overlay-out.rgb")
    write_raw(src, frames)
    cmd = ["gst-launch-1.0", "-q", "filesrc", f"location={src}", "!", "rawvideoparse",
           f"width={W}", f"height={H}", "format=rgb", f"framerate={FPS}/1", "!", "videoconvert",
           "!", "decentanomaly", f"model-location={model}", "mode=overlay"] + tokens + \
          ["!", "videoconvert", "!", "video/x-raw,format=RGB", "!", "filesink",
           f"location={dst}"]
    subprocess.run(cmd, check=True, capture_output=True)
    out = np.fromfile(dst, np.uint8).reshape(-1, H, W, 3)
    os.remove(src)
    os.remove(dst)
    return out


def pictures(res, run, clean, work, pic_dir):
    """Overlay frames of hits and misses, the normal clip's normalized score over
    time, and one anomalous clip's; returns [(path, caption)]."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Ellipse, Rectangle
    os.makedirs(pic_dir, exist_ok=True)
    pics = []
    label = f"training [{run['train'] or 'defaults'}], scoring [{run['score'] or 'defaults'}]"
    per_event = run["per_event"]  # [(clip, index, group, detected, peak normalized)]
    by_clip = {c["name"]: c for c in res["clips"]}

    def choose(want):
        """Up to 4 events, one per kind first: hits at the smallest size, misses with the
        lowest peak (a miss above the threshold lies inside an event already open)."""
        pool = [e for e in per_event if e[3] == want and e[2].split()[0] in SIZED_KINDS]
        if want:
            pool.sort(key=lambda e: float(e[2].split()[1]))
        else:
            pool.sort(key=lambda e: e[4])
        chosen, seen = [], set()
        for e in pool:
            if e[2].split()[0] not in seen:
                chosen.append(e)
                seen.add(e[2].split()[0])
        return (chosen + [e for e in pool if e not in chosen])[:4]

    rows = [("detected", choose(True)), ("missed", choose(False))]
    picks = [e for _, r in rows for e in r]
    if picks:
        stack = []
        for clip, idx, group, _, _ in picks:
            c = by_clip[clip]
            frames, events = make_clip(clean, c["kind"], c["size_index"], c["clip_index"])
            ev = events[idx]
            stack.append(frames[(ev["first"] + ev["last"]) // 2])
        over = overlay_frames(run["model"], run["score_tokens"], np.stack(stack), work)
        ncol = max(len(r) for _, r in rows)
        fig, axes = plt.subplots(2, ncol, figsize=(3.2 * ncol, 6.0), squeeze=False)
        k = 0
        for ri, (what, r) in enumerate(rows):
            for ci in range(ncol):
                ax = axes[ri][ci]
                ax.set_xticks([]); ax.set_yticks([])
                if ci >= len(r):
                    ax.axis("off")
                    if ci == 0:
                        ax.text(0.5, 0.5, f"no {what} event", ha="center", transform=ax.transAxes)
                    continue
                clip, idx, group, _, peak = r[ci]
                ev = by_clip[clip]["events"][idx]
                ax.imshow(over[k]); k += 1
                colour = "lime" if what == "detected" else "red"
                pad = 4  # the outline just outside the object, which stays visible
                if group.startswith("bag"):
                    ax.add_patch(Ellipse((ev["x"] + ev["w"] / 2 - 0.5, ev["y"] + ev["h"] / 2 - 0.5),
                                         ev["w"] + 2 * pad, ev["h"] + 2 * pad, fill=False,
                                         ec=colour, lw=1.2))
                else:
                    ax.add_patch(Rectangle((ev["x"] - 0.5 - pad, ev["y"] - 0.5 - pad),
                                           ev["w"] + 2 * pad, ev["h"] + 2 * pad, fill=False,
                                           ec=colour, lw=1.2))
                ax.set_title(f"{what}: {group}, {ev['colour']}\nclip frame {(ev['first'] + ev['last']) // 2}, "
                             f"peak {peak:.2f}× threshold", fontsize=8)
        fig.suptitle(f"decentanomaly mode=overlay, {label}", fontsize=9)
        fig.tight_layout()
        path = os.path.join(pic_dir, "video-hits-misses.jpg")  # photographs: JPEG
        fig.savefig(path, dpi=100, pil_kwargs={"quality": 85}); plt.close(fig)
        pics.append((path, "Inserted objects (outlined) in the middle frame of their event, "
                           "through decentanomaly mode=overlay: top, events detected; bottom, "
                           "events missed; the peak normalized score over the event (a miss "
                           "above 1× lies inside an event already open, which posts no new "
                           f"begin) ({label})"))
    # the normal clip over time: the model and the baselines, score / threshold
    t = (TEST[0] + np.arange(run["normal_norm"].shape[0])) / FPS
    fig, axes = plt.subplots(2, 1, figsize=(8, 5.2), sharex=True)
    axes[0].plot(t, run["normal_norm"], lw=1, label="decentanomaly")
    for b in run["normal_events"]:
        axes[0].axvspan((TEST[0] + b[0]) / FPS, (TEST[0] + b[2] + 1) / FPS, color="r", alpha=0.15)
    axes[0].axhline(1.0, color="k", ls="--", lw=0.8)
    axes[0].set(ylabel="score / threshold", title=f"unseen normal footage: {label}")
    for name, _ in Baselines.NAMES:
        axes[1].plot(t, res["baseline_normal"][name], lw=0.8, label=name)
    axes[1].axhline(1.0, color="k", ls="--", lw=0.8)
    axes[1].set(ylabel="score / threshold", xlabel="seconds into vtest.avi", yscale="log",
                title="baselines")
    axes[1].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    path = os.path.join(pic_dir, "video-normal-score.png")
    fig.savefig(path, dpi=100); plt.close(fig)
    pics.append((path, "Normalized score (score / threshold) over the unseen normal footage; "
                       "dashed: the threshold; shaded: decentanomaly's events (false alarms)"))
    # one anomalous clip: the box 1 % clip 0
    if run.get("example"):
        name, norm, begins = run["example"]
        events = by_clip[name]["events"]
        fig, ax = plt.subplots(figsize=(8, 2.8))
        ax.plot(np.arange(len(norm)), norm, lw=1)
        for ev in events:
            ax.axvspan(ev["first"], ev["last"] + 1, color="orange", alpha=0.25)
        for b in begins:
            ax.axvline(b, color="r", lw=0.8)
        ax.axhline(1.0, color="k", ls="--", lw=0.8)
        ax.set(xlabel="clip frame", ylabel="score / threshold",
               title=f"clip {name}: inserted events (orange), event begins (red)")
        fig.tight_layout()
        path = os.path.join(pic_dir, "video-clip-score.png")
        fig.savefig(path, dpi=100); plt.close(fig)
        pics.append((path, f"Normalized score over the anomalous clip {name} ({label}): the "
                           "inserted events shaded, decentanomaly's event begins as red lines"))
    return pics


def evaluate(args):
    work = args.work
    os.makedirs(work, exist_ok=True)
    os.environ.setdefault("GST_PLUGIN_PATH", os.path.join(ROOT, "build", "plugin"))
    load0 = os.getloadavg()
    frames = np.memmap(decode(work), np.uint8, "r", shape=(N_FRAMES, H, W, 3))
    clean = np.array(frames[TEST[0]:TEST[1]])
    n = len(clean)
    inspected = {e: inspect(e) for e in ("decent-train", "decentanomaly")}
    known_train = None if inspected["decent-train"] is None else set(inspected["decent-train"])
    known_score = None if inspected["decentanomaly"] is None else set(inspected["decentanomaly"])
    if args.train is None:  # quick: a few epochs, and no floor of steps where there is one
        args.train = ["epochs=3" + (" min-steps=0" if "min-steps" in (known_train or ()) else "")
                      if args.quick else ""]

    # training configurations, one after another
    trains = [train(work, frames, p, known_train) for p in args.train]
    # score configurations: checked once against the element
    scores = []
    for p in args.score:
        try:
            tokens = parse_props(p)
            err = check_props(tokens, known_score, "decentanomaly")
        except ValueError as e:
            tokens, err = [], f"SCORE_PROPS: {e}"
        if err:
            log(f"score [{p}]: {err}; skipped")
        scores.append({"props": p, "slug": slug(p), "tokens": tokens, "error": err})

    # baselines: statistics and thresholds from the training footage; their events by
    # decentanomaly's hysteresis, with its defaults in this build
    def default_int(prop, fallback):
        try:
            return int((inspected["decentanomaly"] or {})[prop][1])
        except (KeyError, TypeError, ValueError):
            return fallback
    min_frames, gap = default_int("event-min-frames", MIN_FRAMES), default_int("event-gap", GAP)
    grey_all = grey_small(frames)
    base = Baselines(grey_all)
    prev0 = grey_all[TEST[0] - 1]

    clips = {"normal": ("normal", [])}
    clip_info = [{"name": "normal", "group": "normal", "kind": "normal", "events": []}]
    for name, group, kind, si, ci in clip_list(args.clips):
        clip_info.append({"name": name, "group": group, "kind": kind, "size_index": si,
                          "clip_index": ci})
    pairs = [(t, s) for t in trains for s in scores if not t.get("error") and not s["error"]]
    data = {(t["slug"], s["slug"]): {} for t, s in pairs}
    walls = {(t["slug"], s["slug"]): [] for t, s in pairs}
    errors = {}
    base_data = {}
    clip_dir = os.path.join(work, "clips")
    os.makedirs(clip_dir, exist_ok=True)
    for ci, c in enumerate(clip_info):
        name = c["name"]
        if name == "normal":
            cf, events = clean, []
        else:
            cf, events = make_clip(clean, c["kind"], c["size_index"], c["clip_index"])
        c["events"] = events
        clips[name] = (c["group"], events)
        bs = base.scores(grey_small(cf), prev0)
        base_data[name] = {}
        for bname, _ in Baselines.NAMES:
            flag = bs[bname] > base.thresholds[bname]
            base_data[name][bname] = {"score": bs[bname], "flag": flag,
                                      "begins": [e[1] for e in
                                                 hysteresis(flag, min_frames, gap)]}
        clip_path = os.path.join(clip_dir, name + ".rgb")
        written = False
        for t, s in pairs:
            key = (t["slug"], s["slug"])
            if key in errors:
                continue
            out_dir = os.path.join(work, "scores", t["slug"], s["slug"])
            os.makedirs(out_dir, exist_ok=True)
            base_path = os.path.join(out_dir, name)
            if not already_scored(base_path) and not written:
                write_raw(clip_path, cf)
                written = True
            try:
                data[key][name] = score_clip(t["model"], clip_path, base_path, s["tokens"], n)
                walls[key].append(data[key][name]["wall_s"])
            except RuntimeError as e:
                errors[key] = str(e)
                log(f"score [{s['props'] or 'defaults'}] with [{t['props'] or 'defaults'}]: "
                    f"{e}; this configuration stops here")
        if written:
            os.remove(clip_path)
        log(f"clip {ci + 1}/{len(clip_info)} {name}: " + ", ".join(
            f"{len(data[k][name]['begins'])} begins" for k in data if name in data[k]))

    res = {"protocol": {
        "video": VTEST, "size": [W, H], "fps": FPS, "train_frames": list(TRAIN),
        "test_frames": list(TEST), "baseline_fit": list(FIT), "baseline_holdout": list(HOLD),
        "quantile": QUANTILE, "sigmas": SIGMAS, "event_frames": EVENT_LEN, "min_gap": MIN_GAP,
        "events_per_clip": EVENTS_PER_CLIP, "clips_per_kind": args.clips, "tolerance": TOL,
        "baseline_event_min_frames": min_frames, "baseline_event_gap": gap,
        "sizes": list(SIZES), "moving_speed": MOVING_SPEED, "blur_radius": BLUR_RADIUS,
        "palette": PALETTE, "min_l1": MIN_L1, "quick": args.quick},
        "machine": {"arch": platform.machine(), "cores": os.cpu_count(),
                    "load_at_start": [round(x, 2) for x in load0],
                    "load_at_end": [round(x, 2) for x in os.getloadavg()]},
        "clips": [{k: v for k, v in c.items()} for c in clip_info],
        "elements": {e: {k: {"blurb": b, "default": d} for k, (b, d) in (p or {}).items()
                         if k not in BASE_CLASS_PROPS}
                     for e, p in inspected.items()},
        "baselines": [], "runs": [], "pictures": []}
    for bname, blabel in Baselines.NAMES:
        m = measure(clips, {k: v[bname] for k, v in base_data.items()}, n)
        res["baselines"].append({"name": bname, "label": blabel,
                                 "threshold": base.thresholds[bname], **m})
    res["baseline_normal"] = {b: (base_data["normal"][b]["score"] / base.thresholds[b]).tolist()
                              for b, _ in Baselines.NAMES}
    pic_run = None
    for t in trains:
        for s in scores:
            run = {"train": t["props"], "score": s["props"], "train_seconds": t.get("seconds"),
                   "train_epochs": t.get("epochs_trained"), "train_steps": t.get("steps_trained"),
                   "train_load": t.get("load_at_start"),
                   "model": t["model"], "model_threshold": t.get("threshold")}
            err = t.get("error") or s["error"] or errors.get((t["slug"], s["slug"]))
            if err:
                run["error"] = err
                res["runs"].append(run)
                continue
            key = (t["slug"], s["slug"])
            d = data[key]
            run.update(measure(clips, d, n))
            run["threshold"] = d["normal"]["threshold"]
            run["sweep"] = sweep(clips, d, run["threshold"],
                                 int(token_value(s["tokens"], "event-min-frames", min_frames)),
                                 int(token_value(s["tokens"], "event-gap", gap)))
            run["detect_frames_per_s"] = n * len(walls[key]) / sum(walls[key]) if walls[key] else None
            run["detect_clips_timed"] = len(walls[key])
            loads = [v["load"] for v in d.values() if v.get("load") is not None]
            run["detect_load_max"] = max(loads) if loads else None
            run["detect_device"] = d["normal"].get("device")
            run["train_device"] = t.get("device")
            per_event = []
            for c in clip_info[1:]:
                dd = d[c["name"]]
                spans = [(e["first"], e["last"]) for e in c["events"]]
                det, _, _ = match_events(spans, dd["begins"])
                for i, (sp, ok) in enumerate(zip(spans, det)):
                    per_event.append((c["name"], i, c["group"], ok,
                                      float(np.nanmax(dd["norm"][sp[0]:sp[1] + 1]))))
            res["runs"].append(run)
            if pic_run is None:
                ex = next((c["name"] for c in clip_info if c["name"].startswith("box-1pct")), None)
                pic_run = dict(run, score_tokens=s["tokens"], per_event=per_event,
                               normal_norm=d["normal"]["norm"],
                               normal_events=hysteresis(  # as the element, with its settings
                                   d["normal"]["flag"],
                                   int(token_value(s["tokens"], "event-min-frames", min_frames)),
                                   int(token_value(s["tokens"], "event-gap", gap))),
                               example=(ex, d[ex]["norm"], d[ex]["begins"]) if ex else None)
    if pic_run is not None and args.pictures:
        try:
            res["pictures"] = [(os.path.abspath(p), cap) for p, cap in
                               pictures(res, pic_run, clean, work, args.pictures)]
        except (subprocess.CalledProcessError, OSError) as e:
            log(f"pictures: {e}")
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=float)
    md = "\n".join(tables(res)) + "\n"
    with open(os.path.join(work, "results.md"), "w") as f:
        f.write(md)
    print(md)
    log(f"wrote {os.path.join(work, 'results.json')} and results.md")
    return res


# ---------------------------------------------------------------- report

def fmt(v, spec=".3f", none="–"):
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return none
    return format(v, spec)


def run_label(r):
    return f"`{r['train'] or '(defaults)'}` / `{r['score'] or '(defaults)'}`"


def groups_of(res):
    order = [g for _, g, _, _, ci in clip_list(1)]
    present = set()
    for c in res["clips"]:
        present.add(c["group"])
    return [g for g in order if g in present]


def tables(res):
    """The Markdown tables: normal footage and cost per detector, then AUROC and
    events detected per kind and size, detectors side by side."""
    runs = [r for r in res["runs"] if "error" not in r]
    lines = ["| detector (training / scoring properties) | train s | detect frames/s | "
             "normal: frames flagged | events | alarms/hour | false events in anomalous clips |",
             "|---|---|---|---|---|---|---|"]
    for r in runs:
        nm = r["normal"]
        ep = f" ({r['train_epochs']} epochs)" if r.get("train_epochs") else ""
        lines.append(f"| {run_label(r)} | {fmt(r['train_seconds'], '.0f')}{ep} | "
                     f"{fmt(r['detect_frames_per_s'], '.0f')} | {nm['flagged_pct']:.1f} % | "
                     f"{nm['events']} | {nm['alarms_per_hour']:.0f} | {r['false_events']} "
                     f"({fmt(r['false_per_hour'], '.0f')}/h) |")
    for b in res["baselines"]:
        nm = b["normal"]
        lines.append(f"| baseline {b['name']}: {b['label']} | – | – | {nm['flagged_pct']:.1f} % | "
                     f"{nm['events']} | {nm['alarms_per_hour']:.0f} | {b['false_events']} "
                     f"({fmt(b['false_per_hour'], '.0f')}/h) |")
    for r in res["runs"]:
        if "error" in r:
            lines.append(f"| {run_label(r)} | not measured: {r['error']} | | | | | |")
    lines.append("")
    dets = [(f"{i + 1}", r) for i, r in enumerate(runs)] + \
           [(b["name"], b) for b in res["baselines"]]
    if runs:
        lines += ["Detectors: " + "; ".join(f"{i + 1} = {run_label(r)}"
                                            for i, r in enumerate(runs)) + ".", ""]
    lines += ["AUROC (frames of the events against the normal clip) · events detected:", "",
              "| kind, size | " + " | ".join(name for name, _ in dets) + " |",
              "|---|" + "---|" * len(dets)]
    for g in groups_of(res):
        if g == "normal":
            continue
        cells = []
        for _, d in dets:
            m = d["groups"].get(g)
            cells.append(f"{fmt(m['auroc'])} · {m['detected']}/{m['events']}" if m else "–")
        lines.append(f"| {g} | " + " | ".join(cells) + " |")
    lines.append("")
    if runs:
        r = runs[0]
        lines += [f"Details for {run_label(r)} (threshold {fmt(r['threshold'], '.5g')}; "
                  "detected: the count, its share and that share's 95 % Wilson interval, "
                  "the events taken as independent trials: one or two events more or fewer "
                  "between detectors is within chance):", "",
                  "| kind, size | events | AUROC | detected | the same windows on the normal "
                  "clip | frames flagged inside events | mean delay (frames) | false events "
                  "| detected by region events | false region events |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for g in groups_of(res):
            m = r["groups"].get(g)
            if g == "normal" or not m:
                continue
            by_region = (f"{m['detected_regions']} ({m['detected_regions_pct']:.0f} %) | "
                         f"{m['false_region_events']}" if "detected_regions" in m else "– | –")
            low, high = wilson(m["detected"], m["events"])
            lines.append(f"| {g} | {m['events']} | {fmt(m['auroc'])} | {m['detected']} "
                         f"({m['detected_pct']:.0f} %; {fmt(100 * low, '.0f')}–"
                         f"{fmt(100 * high, '.0f')} %) | {m.get('detected_on_normal', '–')} | "
                         f"{fmt(m['flagged_inside_pct'], '.0f')} % | "
                         f"{fmt(m['mean_delay_frames'], '.1f')} | {m['false_events']} | "
                         f"{by_region} |")
        colours = [c for c in PALETTE
                   if any(c in r["groups"].get(g, {}).get("detected_by_colour", {})
                          for g in groups_of(res))]
        if colours:
            lines += ["", f"Events detected by the object's colour ({run_label(r)}; found / "
                      "inserted):", "", "| kind, size | " + " | ".join(colours) + " |",
                      "|---|" + "---|" * len(colours)]
            for g in groups_of(res):
                tally = r["groups"].get(g, {}).get("detected_by_colour")
                if g != "normal" and tally:
                    lines.append(f"| {g} | " + " | ".join(
                        f"{tally[c][0]}/{tally[c][1]}" if c in tally else "–"
                        for c in colours) + " |")
        if "region_events" in r["normal"]:
            lines += ["", f"Region events (`decentanomaly-region`: one per hot place, so that an "
                      f"object that appears while another place's event is open begins its own) "
                      f"on the normal clip: {r['normal']['region_events']}."]
        lines.append("")
        if r.get("sweep"):
            groups = [g for g in groups_of(res) if g != "normal"]
            lines += [f"Other thresholds for {run_label(r)}: multiples of the stored one, what "
                      "the normal clip and the inserted events would give (events detected, %); "
                      "*hindsight* is the lowest threshold that flags no unseen normal frame, "
                      "what the model and score allow whatever the calibration:",
                      "", "| threshold | normal: frames flagged | events | " +
                      " | ".join(groups) + " |", "|---|---|---|" + "---|" * len(groups)]
            for row in r["sweep"]:
                cells = [fmt(row["detected_pct"].get(g), ".0f") for g in groups]
                label = "hindsight, " if row.get("hindsight") else ""
                lines.append(f"| {fmt(row['threshold'], '.4g')} ({label}×{row['mult']:.3g}) | "
                             f"{row['flagged_pct']:.1f} % | {row['events']} | " +
                             " | ".join(cells) + " |")
            lines.append("")
    return lines


def report(work, path):
    """The "Real footage" section for docs/results.md, from WORK/results.json."""
    with open(os.path.join(work, "results.json")) as f:
        res = json.load(f)
    p = res["protocol"]
    n_ev = {}
    for c in res["clips"]:
        if c["name"] != "normal":
            n_ev[c["group"]] = n_ev.get(c["group"], 0) + len(c["events"])
    sized = sorted({v for g, v in n_ev.items() if g.split()[0] in SIZED_KINDS})
    total = sum(n_ev.values())
    m = res["machine"]
    loads = [r.get(k) for r in res["runs"] for k in ("train_load", "detect_load_max")]
    loads = [x for x in loads if x is not None]
    load = max(loads) if loads else m["load_at_start"][0]
    def short(dev):  # "auto: CPU (oneDNN); CUDA is not used: ..." -> "CPU (oneDNN)"
        return dev.split(": ", 1)[-1].split(";")[0].strip()
    trained = sorted({short(r["train_device"]) for r in res["runs"] if r.get("train_device")})
    scored = sorted({short(r["detect_device"]) for r in res["runs"] if r.get("detect_device")})
    devices = ([f"training and scoring on {', '.join(trained)}"] if trained == scored and trained
               else [f"training on {', '.join(trained)}"] * bool(trained)
               + [f"scoring on {', '.join(scored)}"] * bool(scored))
    palette = ", ".join(f"{k} {tuple(v)}" for k, v in p["palette"].items())
    el = res.get("elements", {})
    hold = {k: el.get("decent-train", {}).get(k) for k in ("holdout", "threshold-quantile")}
    holdout_text = "".join(
        f"; `{k}` (default {v['default']}): {v['blurb'][0].lower() + v['blurb'][1:]}"
        for k, v in hold.items() if v)
    defaults = [f"{e} " + ", ".join(f"{k}={v['default']}" for k, v in sorted(props.items())
                                    if v["default"] not in (None, "null", "")
                                    and k not in ("model-location", "checkpoint", "resume",
                                                  "max-memory",
                                                  "calibrate-only", "post-messages",
                                                  "message-mode", "flagged-only", "mode"))
                for e, props in el.items() if props]
    lines = [
        "## Real footage: vtest.avi", "",
        "Generated by `bash bench/video-eval.sh` (`bench/video_eval.py`; its docstring has "
        "every detail); every number below was measured by that command on "
        f"{m['arch']}, {m['cores']} cores" + (f" ({'; '.join(devices)})" if devices else "")
        + f". Times are wall-clock, with a load average of up to {load:.1f} when training "
        "or scoring began (other work shares the machine).", "",
        "**Footage.** OpenCV's surveillance clip `vtest.avi` (Debian `opencv-doc`; 768×576, "
        f"10 frames/s, 795 frames: a street and a lawn with pedestrians), decoded to RGB at "
        f"{p['size'][0]}×{p['size'][1]}. The real `decent-train` (gst-launch-1.0) trains on "
        f"frames {p['train_frames'][0]}–{p['train_frames'][1] - 1} (the first 40 s); its "
        "threshold is its own calibration, stored in the model" + holdout_text + ". "
        "The real `decentanomaly` (`build/examples/decent-detect`) then scores frames "
        f"{p['test_frames'][0]}–{p['test_frames'][1] - 1} (39.5 s, all later than the "
        "training footage): as they are (the *normal* clip), and copies of them with "
        "inserted events.", "",
        f"**Inserted events.** One object, or one change of the whole frame, for "
        f"{p['event_frames']} consecutive frames (2 s), at least {p['min_gap']} untouched "
        f"frames before every event and after the last, {p['events_per_clip']} events a clip, "
        f"{p['clips_per_kind']} clip{'s' if p['clips_per_kind'] > 1 else ''} per kind and "
        f"size (numpy `default_rng` with fixed seeds): {total} events in all, "
        f"{'/'.join(map(str, sized))} per kind and size. Objects sit at a uniform random "
        "position, wholly inside the frame, fixed for the event; sizes are 0.5 %, 1 % and "
        "2 % of the frame area ("
        + ", ".join(f"{round(a * p['size'][0] * p['size'][1])}" for a in p.get("sizes", SIZES))
        + f" pixels at {p['size'][0]}×{p['size'][1]}), aspect ratio uniform in "
        "0.6–1.6. Their colour is drawn among the palette colours whose L1 distance (sum over "
        "R, G, B) to the mean colour of the background they cover is over 120 — something "
        f"a person watching would notice; palette: {palette}.", "",
        "| kind | what is inserted |", "|---|---|",
        "| box | a solid box of the colour |",
        "| bag | a soft-edged ellipse, alpha = clip((1 − d²)·4, 0, 1), in a box of 1.27× the "
        "size (so that the ellipse covers it), shaded from ×1.15 at the top to ×0.85 at the "
        "bottom |",
        "| texture | the box as a 4×4 checkerboard of the colour and its complement 255 − c |",
        "| dark | the whole frame's brightness × 0.7 |",
        f"| blur | the whole frame Gaussian-blurred, σ = {p.get('blur_radius', 2.5):g} (PIL) |",
        f"| moving | a solid box of 1 % moving {p.get('moving_speed', 5):g} pixels a frame in a "
        "uniform "
        "direction (it crosses its own width in about 7 frames), its path inside the frame, "
        "its colour by the background of the path: what decentanomaly's still gate cannot "
        "see |", "",
        "**Measures.** On the normal clip: frames flagged at the stored threshold, events "
        "(`decentanomaly-event` begins: 3 flagged frames open one, 5 unflagged close it) and "
        "alarms per hour (events × 3600 / 39.5 s). Per kind and size: frame-level AUROC (the "
        "frames of the inserted events against every frame of the normal clip, Mann–Whitney, "
        "ties ½); events detected (an event begin posted during the event's frames or within "
        f"{p['tolerance']} frames after them); frames flagged inside events; false events "
        f"(begins in the anomalous clips outside every inserted event ± {p['tolerance']} "
        "frames); and, as the level that false alarms alone reach, the events that the "
        "normal clip's own begins would \"detect\" in the same windows. The details add "
        "the events detected by, and the false events of, decentanomaly's region events "
        "(`decentanomaly-region` begins, by the same rules: one per hot place, so that an "
        "object that appears while another place's event is open begins its own). Cost: "
        "seconds to train, and decent-detect's frames per second over the clips (model "
        "loading included).", "",
        "**Baselines**, side by side, in numpy on the same clips and by the same protocol, "
        "on grey frames at 128×96: *bg-max*, a per-pixel background model (mean and standard "
        f"deviation of frames {p['baseline_fit'][0]}–{p['baseline_fit'][1] - 1}, z = (x − "
        "mean)/(sd + 1)) scoring a frame by the maximum over positions of the 11×11 box mean "
        "of |z| (1 % of the frame); *bg-mean*, the mean |z| over the frame; *diff-max*, the "
        "difference to the previous frame, 11×11 box mean, maximum. Their thresholds follow decent-train's default rule: the larger of the "
        f"{p['quantile']} quantile of their scores on the held-out block "
        f"{p['baseline_holdout'][0]}–{p['baseline_holdout'][1] - 1} (the last 20 % of the "
        f"training footage) and those scores' mean + {p.get('sigmas', 0):g} standard deviations; "
        "their events follow decentanomaly's hysteresis.", ""]
    if defaults:
        lines += ["*(defaults)* below means the elements' defaults in this build: "
                  + "; ".join(defaults) + ".", ""]
    if p.get("quick"):
        lines += ["*Quick run (QUICK=1): few events and a short training; not for choosing "
                  "defaults.*", ""]
    lines += tables(res)
    errs = [r for r in res["runs"] if "error" in r]
    if errs:
        lines += ["Not measured: " + "; ".join(f"{run_label(r)}: {r['error']}" for r in errs)
                  + ".", ""]
    for pic, cap in res.get("pictures", []):
        rel = os.path.relpath(pic, os.path.dirname(os.path.dirname(pic)))
        lines += [f"![{cap}]({rel})", "", f"*{cap}*", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    log(f"wrote {path}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "video-eval"),
                    help="work folder: frames, models, scores, results (build/video-eval)")
    ap.add_argument("--train", action="append", help="decent-train properties of one "
                    "configuration (repeatable), e.g. \"epochs=40 width=128 height=96\"")
    ap.add_argument("--score", action="append", help="decentanomaly properties of one score "
                    "configuration (repeatable; \"\" = its defaults)")
    ap.add_argument("--quick", action="store_true", help="one clip per kind and size; "
                    "training defaults to \"epochs=3\" (with min-steps=0 where decent-train "
                    "has that property)")
    ap.add_argument("--clips", type=int, help="clips per kind and size (3; --quick 1)")
    ap.add_argument("--size", default="384x288", help="decode vtest.avi at WxH, a "
                    "multiple of 128x96 (384x288; 768x576: the camera's own frames)")
    ap.add_argument("--pictures", help="folder for the pictures (docs/results; --quick: "
                    "WORK/pictures); \"\" for none")
    ap.add_argument("--report", metavar="FILE", help="write the Real footage section from "
                    "WORK/results.json and stop")
    args = ap.parse_args(argv)
    args.work = os.path.abspath(args.work)
    if args.report:
        report(args.work, args.report)
        return
    try:
        set_frame_size(*(int(v) for v in args.size.lower().split("x", 1)))
    except (TypeError, ValueError) as e:
        ap.error(f"--size {args.size}: {e}")
    if args.clips is None:
        args.clips = 1 if args.quick else 3
    if args.score is None:
        args.score = [""]
    if args.train is not None:
        args.train = list(dict.fromkeys(t.strip() for t in args.train))
    args.score = list(dict.fromkeys(s.strip() for s in args.score))
    if args.pictures is None:
        args.pictures = (os.path.join(args.work, "pictures") if args.quick
                         else os.path.join(ROOT, "docs", "results"))
    evaluate(args)


if __name__ == "__main__":
    main()
