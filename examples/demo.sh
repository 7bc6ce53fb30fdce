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
# meson and ninja print their errors on stdout: kept in a log, shown on
# failure; a setup that failed before (no build.ninja) is done again
build_step() {
  if ! "$@" >build-demo.log 2>&1; then
    cat build-demo.log >&2
    echo "demo: '$*' failed (above; also in build-demo.log)" >&2
    exit 1
  fi
}
if [ ! -f build/build.ninja ]; then
  if [ -n "$(ls -A build 2>/dev/null)" ] && [ ! -d build/meson-private ]; then
    echo "demo: build/ is not a meson build folder; move it away" >&2
    exit 1
  fi
  rm -rf build # what a failed setup left
  build_step meson setup build --buildtype=release
fi
build_step ninja -C build
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
