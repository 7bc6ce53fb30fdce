#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Real-footage evaluation (bench/video_eval.py; its docstring has the whole
# protocol): trains the real decent-train on the first 40 s of OpenCV's
# vtest.avi, scores the unseen 39.5 s with the real decentanomaly
# (build/examples/decent-detect), as they are and with inserted objects and
# global changes, next to three numpy baselines; writes WORK/results.json,
# WORK/results.md, the pictures and the "Real footage" section for
# docs/results.md.
#   bash bench/video-eval.sh                                   (element defaults)
#   TRAIN_PROPS="epochs=40 lambda=0 width=128 height=96; epochs=40 width=128 height=96" \
#     SCORE_PROPS="; score-mode=local" bash bench/video-eval.sh
#   QUICK=1 bash bench/video-eval.sh                           (a few minutes)
# Variables:
#   TRAIN_PROPS  decent-train properties, configurations separated by ';'
#                (default: its defaults; QUICK=1: "epochs=3", with min-steps=0 where
#                decent-train has that property)
#   SCORE_PROPS  decentanomaly properties, configurations separated by ';'; an
#                empty one is its defaults (default: one, its defaults)
#   QUICK=1      one clip per kind and size (9 events each), short training
#   CLIPS        clips per kind and size (3: 27 events each)
#   SIZE         frame size the clips are decoded at (384x288; 768x576: the
#                camera's own, as the demo scores it)
#   WORK         work folder (build/video-eval): frames, models, scores, results
#   PICS         pictures (docs/results; QUICK=1: $WORK/pictures)
#   REPORT       the "Real footage" section (Markdown) (docs/results/real-footage.md,
#                which bench/report.py puts into docs/results.md; QUICK=1:
#                $WORK/real-footage.md)
# A property an element does not have makes that configuration "not
# measured" and the others go on. Reruns reuse models and scores already
# made for the same properties (delete WORK, or its models/ or scores/, to redo).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${WORK:-build/video-eval}
if [ "${QUICK:-0}" = 1 ]; then report=${REPORT:-$work/real-footage.md}
else report=${REPORT:-docs/results/real-footage.md}; fi

# (gstreamer1.0-libav: vtest.avi is MS-MPEG4, avdec_msmpeg4)
bash tests/install-deps.sh opencv-doc gstreamer1.0-libav python3-numpy python3-scipy python3-pil \
  python3-matplotlib
[ -d build ] || meson setup build --buildtype=release >/dev/null
if ! ninja -C build >/dev/null; then
  # another change may be under way elsewhere in the tree: what this needs
  echo "video-eval.sh: full build failed; building decent-detect and the plugin only" >&2
  if ! ninja -C build examples/decent-detect plugin/libgstdecent.so >/dev/null; then
    echo "video-eval.sh: the plugin does not build (a change under way?); try again later" >&2
    exit 1
  fi
fi
export GST_PLUGIN_PATH=$PWD/build/plugin

args=(--work "$work")
if [ "${QUICK:-0}" = 1 ]; then args+=(--quick); fi
if [ -n "${CLIPS:-}" ]; then args+=(--clips "$CLIPS"); fi
if [ -n "${SIZE:-}" ]; then args+=(--size "$SIZE"); fi
if [ -n "${PICS+set}" ]; then args+=(--pictures "$PICS"); fi
configs() { # "a; b" -> one option per configuration (an empty one kept)
  local opt=$1 list=$2 item items=()
  IFS=';' read -ra items <<<"$list"
  if [ ${#items[@]} -eq 0 ] || [ "${list: -1}" = ";" ]; then items+=(""); fi
  for item in "${items[@]}"; do args+=("$opt" "$item"); done
}
if [ -n "${TRAIN_PROPS+set}" ]; then configs --train "$TRAIN_PROPS"; fi
if [ -n "${SCORE_PROPS+set}" ]; then configs --score "$SCORE_PROPS"; fi

/usr/bin/python3 bench/video_eval.py "${args[@]}"
/usr/bin/python3 bench/video_eval.py --work "$work" --report "$report"
