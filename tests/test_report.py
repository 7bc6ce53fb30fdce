#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/report.py on made-up runs whose tables are known: per-class mean ±
standard deviation over seeds, the table's budget against a longer one, the
λ sweep over the classes every λ has, the gap, the PyTorch peer's table, and
the pictures; and that docs/results.md holds docs/results/*.md as they are.
Exits 77 (skip) without matplotlib, numpy or PIL."""
import os
import statistics
import sys
import tempfile

try:
    import numpy as np
    import matplotlib  # noqa: F401
    import PIL  # noqa: F401
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import report  # noqa: E402

import check_util  # noqa: E402
from check_util import check  # noqa: E402


def auroc(variant, cls, seed, epochs):
    """A distinct, known value per run."""
    base = {"plain-ae": 0.70, "loss13": 0.80, "loss9": 0.75}.get(variant, 0.60)
    return round(base + 0.01 * cls + 0.003 * seed + (0.1 if epochs == "200" else 0.0), 4)


def write_runs(out):
    os.makedirs(out)
    rows = []
    for cls in range(10):
        for seed in (1, 2, 3):
            for var, lam, loss in [("plain-ae", "0", "9"), ("loss13", "0.01", "13"),
                                   ("loss9", "0.01", "9")]:
                rows.append(("mnist", var, lam, loss, cls, seed, "30", auroc(var, cls, seed, "30")))
        rows.append(("mnist", "loss13", "0.01", "13", cls, 1, "200", auroc("loss13", cls, 1, "200")))
        for lam in ("1", "0.001"):  # 0.001 for classes 0-7 only: the sweep uses those
            if lam == "0.001" and cls > 7:
                continue
            rows.append(("mnist", f"sweep-{lam}", lam, "13", cls, 1, "30",
                         0.5 + float(lam) / 10 + 0.01 * cls))
    rows.append(rows[0])  # a run recorded twice (two workers meeting) counts once
    with open(os.path.join(out, "auroc.tsv"), "w") as f:
        f.write("dataset\tvariant\tlambda\tloss\tclass\tseed\tepochs\tauroc\ttrain_img_s\n")
        for r in rows:
            f.write("\t".join(map(str, r)) + "\t1000\n")
    base = os.path.join(out, "mnist", "loss13")
    os.makedirs(base)
    with open(os.path.join(base, "class0-seed1-e30.scores.csv"), "w") as f:
        f.write("index,label,anomalous,score\n")
        for i in range(40):
            f.write(f"{i},{i % 10},{int(i % 10 != 0)},{0.01 * (i % 10) + 0.001 * i}\n")
    with open(os.path.join(base, "class0-seed1-e30.losses.csv"), "w") as f:
        f.write("epoch,loss,reconstruction,decentralization\n")
        for e in range(1, 31):
            f.write(f"{e},{1.0 / e},{0.5 / e},{0.1}\n")
    with open(os.path.join(out, "peer.tsv"), "w") as f:
        f.write("dataset\tclass\tepochs\tseed\tours\ttorch\tours_img_s\ttorch_img_s\t"
                "torch_decoder\n")
        for cls in range(10):
            for seed in (1, 2):
                f.write(f"mnist\t{cls}\t3\t{seed}\t{0.8 + 0.01 * seed}\t{0.7 + 0.02 * seed}"
                        "\t900\t30\tConvTranspose2d\n")
        f.write("fashion\t4\t3\t1\t0.9\t0.85\t900\t120\tas-conv\n")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        out, docs = os.path.join(tmp, "results"), os.path.join(tmp, "docs")
        write_runs(out)
        os.makedirs(docs)
        report.main(out, docs)
        text = open(os.path.join(docs, "results.md")).read()
        lines = text.splitlines()

        # the 30-epoch table: class 3, loss (13), seeds 1-3
        v = [auroc("loss13", 3, s, "30") for s in (1, 2, 3)]
        cell = f"{statistics.mean(v):.3f} ± {statistics.stdev(v):.3f}"
        row3 = next((ln for ln in lines if ln.startswith("| 3 | ")), "")
        check(cell in row3, f"class 3 row {row3!r} lacks loss (13) {cell}")
        mean13 = statistics.mean(statistics.mean(auroc("loss13", c, s, "30") for s in (1, 2, 3))
                                 for c in range(10))
        check(f"**{mean13:.3f}**" in text, f"30-epoch mean of loss (13) {mean13:.3f} missing")
        check("Budget: 30 epochs" in text, "the table's budget is the most common one")
        # the duplicated run did not count twice: plain-ae class 0 has three seeds
        v0 = [auroc("plain-ae", 0, s, "30") for s in (1, 2, 3)]
        check(f"{statistics.mean(v0):.3f} ± {statistics.stdev(v0):.3f}" in text,
              "a run recorded twice changed the plain autoencoder's class 0 cell")

        # the 200-epoch table, seed 1, loss (13) only
        i200 = text.find("The same at 200 epochs")
        check(i200 >= 0, "no table for the 200-epoch runs")
        m200 = statistics.mean(auroc("loss13", c, 1, "200") for c in range(10))
        check(f"**{m200:.3f}**" in text[i200:], f"200-epoch mean {m200:.3f} missing")
        check(f"At 200 epochs, loss (13) averages {m200:.3f}" in text, "200-epoch gap line missing")
        check(f"({0.977 - mean13:.3f} below)" in text, "the gap at the table's budget is wrong")

        # λ sweep: only classes 0-7 have every λ
        sweep_head = next((ln for ln in lines if ln.startswith("λ sweep")), "")
        check("0, 1, 2, 3, 4, 5, 6, 7 (" in sweep_head, f"sweep classes wrong: {sweep_head!r}")
        sweep_row = next((ln for ln in lines if ln.startswith("| AUROC |")), "")
        want_1 = statistics.mean(0.5 + 0.1 + 0.01 * c for c in range(8))
        want_plain = statistics.mean(statistics.mean([auroc("plain-ae", c, 1, "30")])
                                     for c in range(8))
        cells = [c.strip() for c in sweep_row.strip("|").split("|")][1:]
        check(cells[:1] == [f"{want_1:.3f}"] and cells[-1] == f"{want_plain:.3f}",
              f"sweep row {sweep_row!r}: want λ=1 {want_1:.3f}, λ=0 {want_plain:.3f}")

        # the peer: MNIST over two seeds, Fashion-MNIST with one class only
        check("| **mean** | **0.815** | **0.730** |" in text, "peer MNIST means wrong")
        check("| **mean** | **0.900** | **0.850** | (1 classes)" in text,
              "a peer table with fewer classes must say so")
        check("the tuned peer" in text, "the Fashion-MNIST peer row must name the tuned peer")

        # pictures: written, non-empty PNGs, linked from the text
        for name in ("mnist-roc-class0.png", "mnist-score-histograms.png",
                     "mnist-training-loss.png"):
            path = os.path.join(docs, "results", name)
            ok = os.path.exists(path) and open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
            check(ok, f"{name} not written as PNG")
            check(f"(results/{name})" in text, f"{name} not linked")
        # the ROC of the scores above: labels 0 score lowest within each block of ten
        s, y = report.load_scores(os.path.join(out, "mnist", "loss13",
                                               "class0-seed1-e30.scores.csv"))
        fpr, tpr = report.roc(s, y)
        check(abs(fpr[-1] - 1) < 1e-12 and abs(tpr[-1] - 1) < 1e-12 and
              np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0), "ROC not monotone to (1,1)")
    # the repository's docs/results.md holds each section as its file has it:
    # text written into results.md alone is lost when report.py writes it anew
    # (two bullets of session 22 were, until 2026-12-06)
    docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs")
    results = open(os.path.join(docs, "results.md")).read()
    for name in report.SECTIONS:
        path = os.path.join(docs, "results", name)
        if os.path.exists(path):
            check(open(path).read().strip() in results,
                  f"docs/results.md differs from docs/results/{name}: edit the section's file")
    failures = check_util.failures
    print("report: " + ("all checks passed" if failures == 0 else f"{failures} failed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
