#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tables of the paper-fidelity runs (bench/eval_run.sh rows) for docs/results:

    /usr/bin/python3 bench/fidelity_report.py build/fidelity/fidelity.tsv docs/results/fidelity.md
    /usr/bin/python3 bench/fidelity_report.py --gap build/fidelity/baseline-gap.tsv \\
        docs/results/baseline-gap.md
    /usr/bin/python3 bench/fidelity_report.py --table1 build/fidelity/table1.tsv \\
        docs/results/table1.md

The first: per reading of loss (13) and effective λ, the mean test AUROC over
the classes and the collapse measures of the last epoch. The second (--gap):
the plain autoencoder under one change at a time against the engine's
settings.
"""
import csv
import statistics
import sys

READINGS = {
    "plain": "plain autoencoder (λ = 0)",
    "mean-sum": "pixel mean, units summed (the engine's reading), λ = 0.01",
    "mid": "between the readings",
    "sum-sum": "pixels summed, units summed, λ = 0.01 (= 0.01 / 784)",
    "mean-mean": "pixel mean, unit mean, λ = 0.01 (= 0.01 / 4096)",
    "sum-mean": "pixels summed, unit mean, λ = 0.01 (= 0.01 / (784 · 4096))",
}
CHANGES = {
    "engine": "the engine's settings: 3 epochs, batch 64, Adam 2e-4, pixels in [−1, 1]",
    "epochs": "10 epochs",
    "lr": "Adam learning rate 1e-3",
    "batch": "batch 16",
    "input-range": "pixels in [0, 1]",
    "bn-batch-stats": "scored with each batch's own BatchNorm statistics (64 test images at a time)",
    "loss13": "loss (13), λ = 0.001 (pixels in [−1, 1])",
    "loss13-input-range": "loss (13), λ = 0.00025, pixels in [0, 1] (the same balance of terms)",
}
COLLAPSE_HEAD = ("reconstruction term | spread of reconstructions / inputs | "
                 "saturated code values | sign patterns (of ~1000)")


def rows(path):
    with open(path) as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if r["auroc"]]


def mean(rs, key):
    return statistics.mean(float(r[key]) for r in rs)


def collapse_cells(rs):
    return (f"{mean(rs, 'reconstruction'):.4f} | {mean(rs, 'spread_ratio'):.2f} | "
            f"{100 * mean(rs, 'saturated'):.1f} % | {mean(rs, 'sign_patterns'):.0f}")


def groups(data):
    out = {}
    for r in data:
        out.setdefault((r["setting"], r["value"], r["epochs"]), []).append(r)
    return out


def classes(rs):
    return ",".join(sorted(r["class"] for r in rs))


def fidelity_table(data):
    base = {(r["class"], r["epochs"]): float(r["auroc"]) for r in data if r["setting"] == "plain"}
    lines = ["| reading | effective λ | epochs | classes | mean AUROC | against the plain "
             "autoencoder (same classes) | " + COLLAPSE_HEAD + " |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for (setting, value, epochs), rs in sorted(groups(data).items(),
                                               key=lambda kv: (kv[0][2], -float(kv[0][1]))):
        gap = [float(r["auroc"]) - base[(r["class"], r["epochs"])] for r in rs
               if (r["class"], r["epochs"]) in base]
        gap_txt = f"{statistics.mean(gap):+.3f}" if gap and setting != "plain" else "–"
        lines.append(f"| {READINGS.get(setting, setting)} | {float(value):g} | {epochs} | "
                     f"{classes(rs)} | {mean(rs, 'auroc'):.3f} | {gap_txt} | "
                     f"{collapse_cells(rs)} |")
    return lines


def gap_table(data):
    base = {r["class"]: float(r["auroc"]) for r in data if r["setting"] == "engine"}
    lines = ["| change | classes | mean AUROC | against the engine's settings (same classes) | "
             "paper's plain autoencoder | " + COLLAPSE_HEAD + " |",
             "|---|---|---|---|---|---|---|---|---|"]
    order = list(CHANGES)
    for (setting, value, epochs), rs in sorted(groups(data).items(),
                                               key=lambda kv: order.index(kv[0][0])
                                               if kv[0][0] in order else len(order)):
        diff = [float(r["auroc"]) - base[r["class"]] for r in rs if r["class"] in base]
        diff_txt = f"{statistics.mean(diff):+.3f}" if diff and setting != "engine" else "–"
        lines.append(f"| {CHANGES.get(setting, setting + ' ' + value)} | {classes(rs)} | "
                     f"{mean(rs, 'auroc'):.3f} | {diff_txt} | 0.906 | {collapse_cells(rs)} |")
    return lines


def table1(data):
    by = {}
    for r in data:
        by.setdefault(r["class"], {})[r["setting"]] = r
    lines = ["| class | plain autoencoder AUROC | loss (13) AUROC | loss (13) spread of "
             "reconstructions / inputs | loss (13) saturated code values |",
             "|---|---|---|---|---|"]
    plain, ours = [], []
    for cls in sorted(by, key=int):
        p, o = by[cls].get("plain"), by[cls].get("loss13")
        cell = lambda r, k, f: f.format(float(r[k])) if r else "–"  # noqa: E731
        lines.append(f"| {cls} | {cell(p, 'auroc', '{:.3f}')} | {cell(o, 'auroc', '{:.3f}')} | "
                     f"{cell(o, 'spread_ratio', '{:.2f}')} | "
                     f"{cell(o, 'saturated', '{:.3f}')} |")
        if p and o:
            plain.append(float(p["auroc"]))
            ours.append(float(o["auroc"]))
    if plain:
        lines.append(f"| **mean** ({len(plain)} classes with both) | **{statistics.mean(plain):.3f}**"
                     f" | **{statistics.mean(ours):.3f}** | | |")
    lines.append("| paper (Table 1) | 0.906 | 0.927 | | |")
    return lines


INTRO = ("decent-eval on Fashion-MNIST's official split, one class normal, seed 1, the "
         "paper's 28×28 architecture (d = 4096), batch 64, Adam 2e-4 unless the row says "
         "otherwise. Collapse measures of the last epoch on the class's 1,000 normal test "
         "images (docs/method.md, \"Collapse measures\"); the numbers are means over the "
         "classes listed.")


def main(argv):
    mode = argv[0] if argv[:1] in (["--gap"], ["--table1"]) else ""
    if mode:
        argv = argv[1:]
    gap = mode == "--gap"
    if len(argv) != 2:
        sys.exit(__doc__)
    data = rows(argv[0])
    if mode == "--table1":
        epochs = sorted({r["epochs"] for r in data}) or ["?"]
        lam = sorted({r["value"] for r in data if r["setting"] == "loss13"}) or ["?"]
        text = ["## Paper fidelity: Table 1 at the paper's budget (Fashion-MNIST)", "",
                f"Generated by `bash bench/table1.sh`: {', '.join(epochs)} epochs, loss (13) "
                f"at λ = {', '.join(lam)} (pixel mean, units summed: the balance found above). "
                + INTRO, ""] + table1(data)
    elif gap:
        text = ["## Paper fidelity: closing the baseline gap (Fashion-MNIST, plain autoencoder)", "",
                "Generated by `bash bench/baseline-gap.sh`. " + INTRO, ""] + gap_table(data)
    else:
        text = ["## Paper fidelity: the balance of loss (13)'s terms (Fashion-MNIST)", "",
                "Generated by `bash bench/fidelity.sh` (its header explains the readings). "
                + INTRO, ""] + fidelity_table(data)
    with open(argv[1], "w") as f:
        f.write("\n".join(text) + "\n")
    print(f"wrote {argv[1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
