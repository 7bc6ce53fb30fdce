#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Side by side, in one run, on the same cores: the engine against the PyTorch
# peer (bench/torch_peer.py) for the 28x28 paper model, batch 64 — training
# and scoring images/s, peak memory and the ratios, against PyTorch as a user
# writes it and against a tuned PyTorch whose decoder also runs on oneDNN;
# then, with EPOCHS > 0, the AUROC of both on one Fashion-MNIST class with the
# same budget.
#   bench/compare.sh [THREADS=2] [EPOCHS=0] [CLASS=0]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
epochs=${2:-0}
class=${3:-0}
bash tests/install-deps.sh python3-torch python3-numpy dataset-fashion-mnist time
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
export OMP_NUM_THREADS=$threads
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

/usr/bin/time -f "%M" -o "$tmp/ours.mem" ./build/bench/decent-bench --mnist-only | tee "$tmp/ours"
/usr/bin/time -f "%M" -o "$tmp/torch.mem" /usr/bin/python3 bench/torch_peer.py speed \
  --threads "$threads" | tee "$tmp/torch"
/usr/bin/time -f "%M" -o "$tmp/tuned.mem" /usr/bin/python3 bench/torch_peer.py speed \
  --threads "$threads" --transposed-as-conv | tee "$tmp/tuned"
ours_train=$(awk '/28x28x1 train/ {print $5}' "$tmp/ours")
ours_score=$(awk '/28x28x1 score/ {print $5}' "$tmp/ours")
torch_train=$(grep -o 'train [0-9.]*' "$tmp/torch" | awk '{print $2}')
torch_score=$(grep -o 'score [0-9.]*' "$tmp/torch" | awk '{print $2}')
printf "\n%-10s %14s %14s %12s\n" "" "train img/s" "score img/s" "peak MiB"
printf "%-10s %14.1f %14.1f %12d\n" gst-decent "$ours_train" "$ours_score" $(( $(cat "$tmp/ours.mem") / 1024 ))
printf "%-10s %14.1f %14.1f %12d\n" pytorch "$torch_train" "$torch_score" $(( $(cat "$tmp/torch.mem") / 1024 ))
tuned_train=$(grep -o 'train [0-9.]*' "$tmp/tuned" | awk '{print $2}')
tuned_score=$(grep -o 'score [0-9.]*' "$tmp/tuned" | awk '{print $2}')
printf "%-10s %14.1f %14.1f %12d\n" "pytorch*" "$tuned_train" "$tuned_score" $(( $(cat "$tmp/tuned.mem") / 1024 ))
printf "%-10s %14.2f %14.2f\n" "ratio" "$(echo "$ours_train / $torch_train" | bc -l)" \
  "$(echo "$ours_score / $torch_score" | bc -l)"
printf "%-10s %14.2f %14.2f\n" "ratio*" "$(echo "$ours_train / $tuned_train" | bc -l)" \
  "$(echo "$ours_score / $tuned_score" | bc -l)"
echo "(* the tuned peer: its transposed convs written as oneDNN convs, bench/torch_peer.py --transposed-as-conv)"

if [ "$epochs" -gt 0 ]; then
  echo
  ./build/bench/decent-eval --device cpu --class "$class" --epochs "$epochs" | grep -E "AUROC|trained"
  /usr/bin/python3 bench/torch_peer.py eval --threads "$threads" --class "$class" \
    --epochs "$epochs" | grep -E "AUROC"
fi
