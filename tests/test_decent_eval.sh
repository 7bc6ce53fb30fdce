#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# decent-eval on IDX files it did not expect: labels that do not pair up with
# the images (it once read past them), a full disk for its CSVs (once lost
# without a word); and on a small valid set, that it trains, scores and
# writes every test image's score.
#   tests/test_decent_eval.sh BUILD_DIR
set -euo pipefail
build=${1:?build folder}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
be32() { printf '%08x' "$1" | sed 's/../\\x&/g' | xargs -0 printf; }
idx() { # file, count, then "images" (28x28 random) or "labels" (0..9 in turn)
  { if [ "$3" = images ]; then printf '\x00\x00\x08\x03'; be32 "$2"; be32 28; be32 28
      head -c $(( $2 * 784 )) /dev/urandom
    else printf '\x00\x00\x08\x01'; be32 "$2"
      for ((i = 0; i < $2; i++)); do printf "\\x0$(( i % 10 ))"; done
    fi; } | gzip > "$1"
}
make_set() { # dir, train images, train labels, test images, test labels
  mkdir -p "$1"
  idx "$1/train-images-idx3-ubyte.gz" "$2" images
  idx "$1/train-labels-idx1-ubyte.gz" "$3" labels
  idx "$1/t10k-images-idx3-ubyte.gz" "$4" images
  idx "$1/t10k-labels-idx1-ubyte.gz" "$5" labels
}
fail=0
out=
check() { # what, expected exit, pattern, command... (its output stays in $out)
  local rc=0
  out=$(timeout 120 "${@:4}" 2>&1) || rc=$?
  if [ "$rc" = "$2" ] && grep -q "$3" <<<"$out"; then echo "ok: $1"
  else echo "FAIL: $1 (exit $rc)"; echo "$out" | tail -5; fail=1; fi
}
eval_tool=$build/bench/decent-eval
make_set "$tmp/short" 2 500 20 20
check "training labels outnumber the images" 1 "do not pair up: 2 training images of 28x28 with 500 labels" \
  "$eval_tool" --data "$tmp/short" --epochs 1 --device cpu
make_set "$tmp/short2" 40 40 20 3
check "test labels fall short of the images" 1 "20 test images of 28x28 with 3 labels" \
  "$eval_tool" --data "$tmp/short2" --epochs 1 --device cpu
make_set "$tmp/ok" 40 40 20 20
check "a small valid set is trained and scored" 0 "AUROC [01]\.[0-9]" \
  "$eval_tool" --data "$tmp/ok" --epochs 1 --batch 4 --device cpu --scores "$tmp/scores.csv"
lines=$(wc -l < "$tmp/scores.csv" 2>/dev/null || echo 0)
[ "$lines" = 21 ] || { echo "FAIL: scores.csv has $lines lines, not 21"; fail=1; }
for out in scores losses curve; do
  check "--$out to a full disk fails the run" 1 "writing /dev/full failed" \
    "$eval_tool" --data "$tmp/ok" --epochs 1 --batch 4 --device cpu --$out /dev/full
done
# --model where no file can be made is said before the training, not after
# it (the run was lost); one holding something else is left as it is
check "--model in a missing folder is refused before training" 1 \
  "cannot write model file $tmp/none/m.dcnt: No such file or directory" \
  "$eval_tool" --data "$tmp/ok" --epochs 1 --batch 4 --device cpu --model "$tmp/none/m.dcnt"
grep -q AUROC <<<"$out" && { echo "FAIL: it trained before refusing"; fail=1; }
echo "notes" > "$tmp/notes.txt"
check "--model naming a file of something else is refused" 1 "holds something other than" \
  "$eval_tool" --data "$tmp/ok" --epochs 1 --batch 4 --device cpu --model "$tmp/notes.txt"
[ "$(cat "$tmp/notes.txt")" = notes ] || { echo "FAIL: notes.txt was replaced"; fail=1; }
# the other outputs and settings, before the training too (helper-80: a
# --scores in a missing folder failed after it, and the model was not saved;
# "--class abc" was class 0, "--holdout 0.7" held every image out)
check "--scores in a missing folder is refused before training" 1 \
  "cannot write --scores $tmp/none/s.csv: No such file or directory" \
  "$eval_tool" --data "$tmp/ok" --epochs 1 --batch 4 --device cpu --scores "$tmp/none/s.csv" \
  --model "$tmp/kept.dcnt"
grep -q AUROC <<<"$out" && { echo "FAIL: it trained before refusing"; fail=1; }
for bad in "--class abc" "--holdout 0.7" "--quantile 1.5"; do
  # shellcheck disable=SC2086
  check "$bad is refused" 2 "must be 0..9\|--class wants 0..9" \
    "$eval_tool" --data "$tmp/ok" --epochs 1 --device cpu $bad
done
# a write that fails after the training no longer costs the trained model
check "--scores that cannot be written still saves the model" 1 "model written to" \
  "$eval_tool" --data "$tmp/ok" --epochs 1 --batch 4 --device cpu --scores /dev/full \
  --model "$tmp/kept.dcnt"
[ -s "$tmp/kept.dcnt" ] || { echo "FAIL: the model was not saved"; fail=1; }
exit $fail
