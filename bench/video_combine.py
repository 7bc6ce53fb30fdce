#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What an ensemble of trained configurations would detect on the real-footage
evaluation, from scores bench/video-eval.sh already made: each frame's
normalised score (score / the model's own stored threshold) averaged over the
configurations, flagged above 1, events and measures as video_eval.py makes
them (decentanomaly's hysteresis, the same matching, the hindsight row).
Nothing is trained or scored again.

  /usr/bin/python3 bench/video_combine.py WORK CONFIG [CONFIG ...]

CONFIG: a folder name under WORK/scores (a training configuration's slug,
"defaults" for the element's defaults), scored with decentanomaly's defaults.
Prints each configuration alone, every pair, and all of them together."""
import itertools
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import video_eval as ve  # noqa: E402

SHOWN = ("box 1 %", "bag 1 %", "texture 1 %", "box 0.5 %", "dark")


def normalised(work, config, clips, n):
    """Each clip's normalised scores by frame number, frames not scored carrying
    the last result (as video_eval reads them)."""
    return {name: ve.read_detect_csv(os.path.join(work, "scores", config, "defaults",
                                                  name + ".csv"), n)[1]
            for name in clips}


def line(label, scores, clips, min_frames, gap):
    data = {}
    for name, s in scores.items():
        flag = s > 1.0
        data[name] = {"score": s, "flag": flag,
                      "begins": [b for _, b, _ in ve.hysteresis(flag, min_frames, gap)]}
    m = ve.measure(clips, data, len(scores["normal"]))
    hind = ve.sweep(clips, data, 1.0, min_frames, gap)[-1]
    g = m["groups"]
    return (f"{label}: normal {m['normal']['flagged_pct']:.1f} % flagged, "
            f"{m['normal']['events']} events; {m['false_events']} false events in the "
            f"anomalous clips; AUROC/found " +
            ", ".join(f"{k} {g[k]['auroc']:.3f}/{g[k]['detected']}" for k in SHOWN if k in g) +
            f"; hindsight x{hind['mult']:.2f}: 1 % found " +
            "/".join(f"{hind['detected_pct'][k]:.0f}" for k in SHOWN[:3]
                     if k in hind['detected_pct']) + " %")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    work, configs = argv[1], argv[2:]
    with open(os.path.join(work, "results.json")) as f:
        res = json.load(f)
    p = res["protocol"]
    n = p["test_frames"][1] - p["test_frames"][0]
    clips = {c["name"]: (c["group"], c["events"]) for c in res["clips"]}
    mf, gap = p["baseline_event_min_frames"], p["baseline_event_gap"]
    s = {c: normalised(work, c, clips, n) for c in configs}
    for c in configs:
        print(line(c, s[c], clips, mf, gap))
    groups = list(itertools.combinations(configs, 2))
    if len(configs) > 2:
        groups.append(tuple(configs))
    for group in groups:
        mean = {n: np.mean([s[c][n] for c in group], axis=0) for n in clips}
        print(line("mean of " + " + ".join(group), mean, clips, mf, gap))


if __name__ == "__main__":
    main(sys.argv)
