#!/usr/bin/env bash
# README's main job.  Installs what it needs, builds, trains the paper's
# 28x28 model on one Fashion-MNIST class (CPU backend), calibrates the
# threshold on held-out normal images, scores the whole test split and
# prints AUROC, the flagged fractions and where the model went.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DECENT_OUT:-$PWD/out}
epochs=${DECENT_EPOCHS:-3}
class=${DECENT_CLASS:-0}

bash tests/install-deps.sh dataset-fashion-mnist
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
mkdir -p "$out"
./build/bench/decent-eval --device cpu --class "$class" --epochs "$epochs" --holdout 0.1 \
  --model "$out/fashion-class$class.dcnt" | tee "$out/demo.log"
echo "outputs: model $out/fashion-class$class.dcnt, log $out/demo.log"
