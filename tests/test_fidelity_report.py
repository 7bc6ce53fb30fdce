#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/fidelity_report.py on made-up runs whose tables are known: the
readings table (means over classes, the difference to the plain
autoencoder on the same classes, collapse columns), the baseline-gap table
and Table 1 (per class, means over classes with both settings)."""
import os
import subprocess
import sys
import tempfile

import check_util
from check_util import check

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "..", "bench", "fidelity_report.py")
HEAD = "setting\tvalue\tclass\tepochs\tauroc\treconstruction\tspread_ratio\tsaturated\tsign_patterns\n"


def render(rows, *mode):
    with tempfile.TemporaryDirectory() as tmp:
        tsv, md = os.path.join(tmp, "t.tsv"), os.path.join(tmp, "t.md")
        with open(tsv, "w") as f:
            f.write(HEAD + "".join("\t".join(map(str, r)) + "\n" for r in rows))
        r = subprocess.run([sys.executable, REPORT, *mode, tsv, md], capture_output=True,
                           text=True)
        check(r.returncode == 0, f"report failed: {r.stderr}")
        return open(md).read() if r.returncode == 0 else ""


def row(text, start):
    return next((ln for ln in text.splitlines() if ln.startswith(start)), "")


# readings: plain on classes 0, 1; lambda 0.01 on 0, 1; lambda 0.001 on class 0 only
text = render([("plain", 0, 0, 3, 0.80, 0.02, 1.0, 0.001, 1000),
               ("plain", 0, 1, 3, 0.90, 0.01, 0.9, 0.001, 1000),
               ("mean-sum", 0.01, 0, 3, 0.86, 0.12, 0.5, 0.99, 100),
               ("mean-sum", 0.01, 1, 3, 0.96, 0.14, 0.1, 0.99, 50),
               ("mid", 0.001, 0, 3, 0.85, 0.08, 0.8, 0.98, 900)])
r = row(text, "| pixel mean, units summed")
check("| 0.01 | 3 | 0,1 | 0.910 | +0.060 | 0.1300 | 0.30 | 99.0 % | 75 |" in r, f"λ=0.01 row {r!r}")
r = row(text, "| between the readings")
check("| 0.001 | 3 | 0 | 0.850 | +0.050 |" in r, f"λ=0.001 row {r!r}")
r = row(text, "| plain autoencoder")
check("| 0 | 3 | 0,1 | 0.850 | – |" in r, f"plain row {r!r}")

# gap: the engine's settings on 0 and 1, 10 epochs on 0 only
text = render([("engine", 3, 0, 3, 0.80, 0.02, 1.0, 0.0, 1000),
               ("engine", 3, 1, 3, 0.90, 0.02, 1.0, 0.0, 1000),
               ("epochs", 10, 0, 10, 0.83, 0.01, 1.0, 0.0, 1000)], "--gap")
r = row(text, "| 10 epochs")
check("| 0 | 0.830 | +0.030 | 0.906 |" in r, f"gap row {r!r}")

# Table 1: class 0 has both, class 1 only the plain autoencoder
text = render([("plain", 0, 0, 200, 0.90, 0.01, 1.0, 0.0, 1000),
               ("loss13", 0.001, 0, 200, 0.93, 0.05, 0.8, 0.9, 900),
               ("plain", 0, 1, 200, 0.98, 0.01, 1.0, 0.0, 1000)], "--table1")
check(row(text, "| 0 |").startswith("| 0 | 0.900 | 0.930 | 0.80 | 0.900 |"), "class 0 row")
check(row(text, "| 1 |").startswith("| 1 | 0.980 | – |"), "class 1 row")
check("| **mean** (1 classes with both) | **0.900** | **0.930** |" in text, "mean row")
check("λ = 0.001" in text and "200 epochs" in text, "table 1 heading")

print(f"fidelity_report: {'all checks passed' if not check_util.failures else 'FAILED'}")
sys.exit(1 if check_util.failures else 0)
