#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# README's main job, on the CPU backend: installs what it needs, builds,
# trains decent-train on the first 40 s of OpenCV's surveillance clip
# vtest.avi (Debian opencv-doc) until its held-out error stops falling,
# then scores the rest with decentanomaly: a heatmap-overlay video, every
# flagged frame as a JPEG, and a summary with each event's times and the
# alarms an hour.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DECENT_OUT:-$PWD/out}
epochs=${DECENT_EPOCHS:-0} # 0: until the held-out error stops falling
clip=/usr/share/doc/opencv-doc/examples/data/vtest.avi

bash tests/install-deps.sh opencv-doc gstreamer1.0-libav
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
export GST_PLUGIN_PATH=$PWD/build/plugin
mkdir -p "$out"
rm -rf "$out/flagged"

echo "== training on the first 40 s (400 frames) of $clip (epochs=$epochs; a few minutes)"
bash examples/train.sh "$clip" "$out/vtest.dcnt" "$epochs" max-frames=400 device=cpu

echo "== scoring the rest"
./build/examples/decent-detect --model "$out/vtest.dcnt" --input "$clip" --start 40 \
  --overlay "$out/overlay.avi" --flagged-dir "$out/flagged" | tee "$out/summary.txt"

echo "outputs:"
echo "  model          $out/vtest.dcnt"
echo "  overlay video  $out/overlay.avi"
echo "  flagged frames $out/flagged/ ($(ls "$out/flagged" | wc -l) JPEG files)"
echo "  summary        $out/summary.txt"
