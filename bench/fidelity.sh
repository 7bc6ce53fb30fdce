#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The balance of loss (13)'s two terms on Fashion-MNIST (issue: paper
# fidelity): the paper does not say whether ‖x − g(f(x))‖² sums or averages
# the pixels, nor whether the decentralization term sums or averages the d
# latent units.  With Adam, which divides every gradient by its own scale,
# multiplying the whole loss by a constant changes nothing, so each reading
# is the engine's loss (pixel mean, units summed) with an effective λ:
#   pixel mean, units summed    λ            (the engine's reading)
#   pixels summed, units summed λ / P        (P = 784 pixels)
#   pixel mean, unit mean       λ / d        (d = 4096 latent units at 28×28)
#   pixels summed, unit mean    λ / (P d)
# This runs decent-eval for λ = 0.01 under each reading, λ = 0.001 between
# them, and the plain autoencoder, for every class, and records the test
# AUROC with the collapse measures of the last epoch (on the class's normal
# test images).
#   bash bench/fidelity.sh                      (EPOCHS=3, all classes; resumable)
#   EPOCHS=2 CLASSES="0 1" bash bench/fidelity.sh
#   SETTINGS="plain:0 mid:0.0001" bash bench/fidelity.sh   (reading:λ pairs)
# Writes $OUT/fidelity.tsv (build/fidelity) and, with bench/fidelity_report.py,
# docs/results/fidelity.md.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${EPOCHS:-3}
classes=${CLASSES:-0 1 2 3 4 5 6 7 8 9}
out=${OUT:-build/fidelity}
settings=${SETTINGS:-"plain:0 mean-sum:0.01 mid:0.001 sum-sum:1.2755e-05 mean-mean:2.4414e-06 sum-mean:3.1140e-09"}

. bench/eval_run.sh
eval_setup "$out"
tsv="$out/fidelity.tsv"
for cls in $classes; do
  for s in $settings; do
    eval_run "$tsv" "${s%%:*}" "${s#*:}" "$cls" "$epochs" --lambda "${s#*:}"
  done
done
/usr/bin/python3 bench/fidelity_report.py "$tsv" "${REPORT:-docs/results/fidelity.md}"
