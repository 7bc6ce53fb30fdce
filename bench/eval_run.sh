# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by bench/fidelity.sh, baseline-gap.sh and table1.sh: what they
# need (eval_setup), and one decent-eval run on Fashion-MNIST appended to a
# TSV unless that row is there already (eval_run).
#   eval_run TSV LABEL VALUE CLASS EPOCHS [decent-eval options…]
# Row: label, value, class, epochs, test AUROC, then the last epoch's
# reconstruction term and collapse measures (decent-eval --losses).
eval_run() {
  local tsv=$1 label=$2 value=$3 cls=$4 epochs=$5
  shift 5
  [ -f "$tsv" ] || echo -e "setting\tvalue\tclass\tepochs\tauroc\treconstruction\tspread_ratio\tsaturated\tsign_patterns" >"$tsv"
  grep -q "^$label	$value	$cls	$epochs	" "$tsv" && return 0  # measured already
  local losses log auroc rec ratio sat patterns
  losses="$(dirname "$tsv")/$label-$value-class$cls-e$epochs.losses.csv"
  log=$(./build/bench/decent-eval --device "${DEVICE:-cpu}" --class "$cls" --epochs "$epochs" \
        --losses "$losses" "$@")
  auroc=$(echo "$log" | awk '/^AUROC/ {print $2}')
  # epoch,loss,reconstruction,decentralization,seconds,spread_ratio,saturated,sign_patterns
  IFS=, read -r _ _ rec _ _ ratio sat patterns < <(tail -1 "$losses")
  echo -e "$label\t$value\t$cls\t$epochs\t$auroc\t$rec\t$ratio\t$sat\t$patterns" | tee -a "$tsv"
}

# eval_setup OUT: the packages, a build, the output folder
eval_setup() {
  bash tests/install-deps.sh dataset-fashion-mnist python3-numpy >/dev/null
  [ -d build ] || meson setup build --buildtype=release >/dev/null
  ninja -C build >/dev/null
  mkdir -p "$1"
}
