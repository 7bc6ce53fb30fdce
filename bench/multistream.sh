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
#   SHARED=1 BATCH=16 bash bench/multistream.sh (one engine for all: model-instance-id)
#   SIDE=1 bash bench/multistream.sh            (no decentanomaly, independent, shared, per count)
#   SIDE=1 PLOT=docs/results/multistream.png bash bench/multistream.sh   (and the plot)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${MODEL:-out/vtest.dcnt}
[ -f "$model" ] || { echo "no model $model: run examples/demo.sh first, or set MODEL"; exit 2; }
bash tests/install-deps.sh python3-gi gir1.2-gstreamer-1.0 >/dev/null
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
export GST_PLUGIN_PATH=$PWD/build/plugin
if [ -n "${PLOT:-}" ]; then # the same run again, its output kept for the plot
  log=$(mktemp)
  PLOT= bash "$0" | tee "$log"
  bash tests/install-deps.sh python3-matplotlib >/dev/null
  /usr/bin/python3 bench/multistream_plot.py "$log" "$PLOT"
  rm -f "$log"
  exit 0
fi
echo "model $model, ${FRAMES:-100} frames a stream, device ${DEVICE:-cpu}, threads ${THREADS:-0}, $(nproc) cores"
for n in ${STREAMS:-1 4 16 64}; do
  if [ "${SIDE:-0}" = 1 ]; then # side by side: the same count both ways, one after the other
    SHARED=none /usr/bin/python3 bench/multistream.py "$model" "$n"
    SHARED=0 /usr/bin/python3 bench/multistream.py "$model" "$n"
    SHARED=1 /usr/bin/python3 bench/multistream.py "$model" "$n"
  else
    /usr/bin/python3 bench/multistream.py "$model" "$n"
  fi
done
