#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Table 1 for Fashion-MNIST at the paper's 200 epochs (issue: paper
# fidelity): the plain autoencoder and loss (13) at the balance of terms
# bench/fidelity.sh found (REGIME_LAMBDA, 0.001: reconstruction as the pixel
# mean, decentralization summed over the d latent units), every class, and
# the Fig. 4 picture (normal and anomalous reconstructions) of class 0 from
# the same models.  One class and setting is about 20 minutes on 2 cores, so
# runs are resumable: each keeps a checkpoint every 10 epochs and goes on
# from it when started again; finished rows are not run again.
#   bash bench/table1.sh                    (all; hours on a CPU)
#   CLASSES="0 1" bash bench/table1.sh      (a part; DEVICE=cuda on a GPU)
# Writes $OUT/table1.tsv (build/fidelity) and docs/results/table1.md.
set -euo pipefail
cd "$(dirname "$0")/.."
classes=${CLASSES:-0 1 2 3 4 5 6 7 8 9}
epochs=${EPOCHS:-200}
lambda=${REGIME_LAMBDA:-0.001}
out=${OUT:-build/fidelity}
. bench/eval_run.sh
eval_setup "$out"
tsv="$out/table1.tsv"
for cls in $classes; do
  for s in "plain 0" "loss13 $lambda"; do
    set -- $s
    grid=()
    [ "$cls" = 0 ] && grid=(--recon "$out/table1-$1-class0.recon.pgm")
    eval_run "$tsv" "$1" "$2" "$cls" "$epochs" --lambda "$2" \
      --checkpoint "$out/table1-$1-$2-class$cls.checkpoint.dcnt" "${grid[@]}"
  done
done
/usr/bin/python3 bench/fidelity_report.py --table1 "$tsv" "${REPORT:-docs/results/table1.md}"
