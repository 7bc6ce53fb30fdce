#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# README's main job, on the CPU backend: installs what it needs, builds,
# trains decent-train's default pair of models in one run on the first 40 s
# of OpenCV's surveillance clip vtest.avi (Debian opencv-doc), each until
# its held-out error stops falling: a 192x144 one with a 12x9 grid of
# latent cells (finds small objects) and its companion, a 128x96 one with
# one latent cell (finds people near the camera ordinary), each with its
# still gate calibrated (decent-train still-lag), both in one file.
# Then scores the rest with decentanomaly, which scores every frame with
# both (still-gate on): a heatmap-overlay video, every flagged frame as a
# JPEG, and a summary with each event's times and the alarms an hour.
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
echo "   decent-train's defaults: a 192x144 model with a 12x9 grid of latent cells,"
echo "   then its 128x96 companion with one latent cell:"
bash examples/train.sh "$clip" "$out/vtest.dcnt" "$epochs" max-frames=400 device=cpu

echo "== scoring the rest with both"
./build/examples/decent-detect --model "$out/vtest.dcnt" \
  --input "$clip" --start 40 --overlay "$out/overlay.avi" --flagged-dir "$out/flagged" |
  tee "$out/summary.txt"

echo "outputs:"
echo "  models         $out/vtest.dcnt (with its companion)"
echo "  overlay video  $out/overlay.avi"
echo "  flagged frames $out/flagged/ ($(ls "$out/flagged" | wc -l) JPEG files)"
echo "  summary        $out/summary.txt"
