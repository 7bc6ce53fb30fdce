#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# valgrind memcheck of a short decent-train and a short decentanomaly
# pipeline with a second model (CPU backend, plugin from BUILD, default
# build-test).  Fails on
# any memory error or definite leak.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-test}
export GST_PLUGIN_PATH=$PWD/$build/plugin GST_REGISTRY=$PWD/$build/valgrind-registry.bin
export OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# --run-libc-freeres=no: on a loaded machine glibc's exit-time cleanup, which
# valgrind runs, sometimes unmaps the libraries the plugin brought in
# (liborc among them); the blocks only their data pointed to, orc's compiled
# programs for videotestsrc, then read as "definitely lost" (46,640 bytes in
# 19 blocks, all under videotestsrc or ld.so).  Without it, glibc's own
# blocks stay "still reachable", which this check does not count.
vg=(valgrind --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --suppressions=tests/valgrind.supp --num-callers=30
    --run-libc-freeres=no)
gst-inspect-1.0 decentanomaly >/dev/null  # registry built outside valgrind
fail=0
echo "== valgrind: decent-train"
"${vg[@]}" gst-launch-1.0 -q videotestsrc num-buffers=12 ! video/x-raw,width=48,height=32 ! \
  decent-train model-location="$work/m.dcnt" width=16 height=16 channels=1 epochs=2 min-steps=0 \
  batch-size=4 2>"$work/train.log"
rc=$?; grep -E "ERROR SUMMARY|definitely lost" "$work/train.log"
[ $rc -eq 0 ] || { fail=1; tail -60 "$work/train.log"; }
# a second model of another geometry and channels (its map shrinks along x
# and grows along y onto the first's), trained outside valgrind
gst-launch-1.0 -q videotestsrc num-buffers=12 ! video/x-raw,width=48,height=32 ! \
  decent-train model-location="$work/second.dcnt" width=24 height=8 epochs=2 min-steps=0 \
  batch-size=4 latent-side=0 >/dev/null || fail=1
echo "== valgrind: decentanomaly (beside a second model)"
"${vg[@]}" gst-launch-1.0 -q videotestsrc num-buffers=8 ! video/x-raw,format=I420,width=64,height=48 ! \
  decentanomaly model-location="$work/m.dcnt" second-model-location="$work/second.dcnt" \
  mode=overlay message-mode=all attach-heatmap=true ! fakesink 2>"$work/score.log"
rc=$?; grep -E "ERROR SUMMARY|definitely lost" "$work/score.log"
[ $rc -eq 0 ] || { fail=1; tail -60 "$work/score.log"; }
# m.dcnt carries a companion (decent-train's default): scored with it
echo "== valgrind: decentanomaly (with the model file's companion)"
"${vg[@]}" gst-launch-1.0 -q videotestsrc num-buffers=8 ! video/x-raw,format=I420,width=64,height=48 ! \
  decentanomaly model-location="$work/m.dcnt" mode=overlay message-mode=all attach-heatmap=true \
  ! fakesink 2>"$work/pair.log"
rc=$?; grep -E "ERROR SUMMARY|definitely lost" "$work/pair.log"
[ $rc -eq 0 ] || { fail=1; tail -60 "$work/pair.log"; }
exit $fail
