#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Plots what bench/multistream.sh printed (SIDE=1: no decentanomaly,
independent, shared per stream count): aggregate frames/s and peak resident
memory against the number of streams, one line per kind.

    /usr/bin/python3 bench/multistream_plot.py OUTPUT.txt PLOT.png

Only the first run in the file (up to a blank line) is plotted.
"""
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LINE = re.compile(r"^\s*(\d+) streams \(([^)]*)\):\s+([\d.]+) frames/s.*peak RSS\s+([\d.]+) MiB")


def read(path):
    runs = {}
    with open(path) as f:
        for line in f:
            if not line.strip() and runs:
                break
            m = LINE.match(line)
            if m:
                n, kind, fps, rss = int(m[1]), m[2], float(m[3]), float(m[4])
                runs.setdefault(kind, []).append((n, fps, rss))
    if not runs:
        sys.exit(f"multistream_plot: no result lines in {path}")
    return runs


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    runs = read(argv[1])
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for kind, rows in runs.items():
        rows.sort()
        n = [r[0] for r in rows]
        a.plot(n, [r[1] for r in rows], marker="o", label=kind)
        b.plot(n, [r[2] for r in rows], marker="o", label=kind)
    for ax, what in ((a, "frames/s, all streams"), (b, "peak resident memory, MiB")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("streams (640x480, one process)")
        ax.set_ylabel(what)
        ax.grid(True, alpha=0.3)
    b.set_yscale("log")
    a.legend()
    fig.suptitle("decentanomaly, CPU backend, 2 cores: own model per stream vs one shared engine")
    fig.tight_layout()
    fig.savefig(argv[2], dpi=90)


if __name__ == "__main__":
    main(sys.argv)
