#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Many cameras in one process (issue: multi-stream): 1, 4, 16 and 64
# pipelines of 640x480 frames through one decentanomaly each, at full speed
# (bench/multistream.py says what is measured), each count in a process of
# its own so that peak memory is per count.  The model: MODEL, or the
# demo's (out/vtest.dcnt, made by examples/demo.sh).
#   bash bench/multistream.sh                   (STREAMS="1 4 16 64" FRAMES=100)
#   DEVICE=cuda bash bench/multistream.sh       (a GPU)
#   THREADS=1 bash bench/multistream.sh         (decentanomaly threads=1)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${MODEL:-out/vtest.dcnt}
[ -f "$model" ] || { echo "no model $model: run examples/demo.sh first, or set MODEL"; exit 2; }
bash tests/install-deps.sh python3-gi gir1.2-gstreamer-1.0 >/dev/null
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
export GST_PLUGIN_PATH=$PWD/build/plugin
echo "model $model, ${FRAMES:-100} frames a stream, device ${DEVICE:-cpu}, threads ${THREADS:-0}, $(nproc) cores"
for n in ${STREAMS:-1 4 16 64}; do
  /usr/bin/python3 bench/multistream.py "$model" "$n"
done
