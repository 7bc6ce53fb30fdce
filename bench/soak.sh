#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Soak: several decentanomaly pipelines in parallel for many frames each;
# prints resident memory over time and the frame rate, and fails when memory
# grows after the warm-up (more than 8 MiB or 5 % from the first quarter to
# the end).
#   bench/soak.sh [PIPELINES=4] [FRAMES=50000] [BUILD=build]
# CI runs a short one: bench/soak.sh 2 3000 build-test
set -uo pipefail
cd "$(dirname "$0")/.."
pipelines=${1:-4}
frames=${2:-50000}
build=${3:-build}
export GST_PLUGIN_PATH=$PWD/$build/plugin OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

gst-launch-1.0 -q videotestsrc num-buffers=40 ! video/x-raw,width=160,height=120 ! \
  decent-train model-location="$work/soak.dcnt" epochs=1 min-steps=0 batch-size=8 || exit 1

pids=()
start=$(date +%s.%N)
for i in $(seq "$pipelines"); do
  gst-launch-1.0 -q videotestsrc pattern=$((i % 3 == 0 ? 18 : 0)) num-buffers="$frames" ! \
    video/x-raw,format=I420,width=320,height=240 ! \
    decentanomaly model-location="$work/soak.dcnt" mode=overlay attach-heatmap=true ! \
    fakesink sync=false &
  pids+=($!)
done

rss_of() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$1/status" 2>/dev/null || echo 0; }
declare -A first last
samples=0
echo "seconds  resident MiB per pipeline"
while kill -0 "${pids[0]}" 2>/dev/null; do
  sleep 2
  samples=$((samples + 1))
  line=""
  for p in "${pids[@]}"; do
    r=$(rss_of "$p")
    [ "$r" -gt 0 ] || continue
    line+=" $r"
    last[$p]=$r
  done
  printf "%7.0f %s\n" "$(echo "$(date +%s.%N) - $start" | bc)" "$line"
  echo "$samples$line" >>"$work/rss"
done
wait
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
printf "%d pipelines x %d frames in %.1f s: %.1f frames/s per pipeline, %.1f in all\n" \
  "$pipelines" "$frames" "$elapsed" "$(echo "$frames / $elapsed" | bc -l)" \
  "$(echo "$pipelines * $frames / $elapsed" | bc -l)"

# memory after the first quarter of the samples against the last sample
quarter=$(( (samples + 3) / 4 ))
ref=$(sed -n "${quarter}p" "$work/rss")
end=$(grep -v '^$' "$work/rss" | awk -v n="$pipelines" 'NF == n + 1' | tail -1)
[ -n "$ref" ] && [ -n "$end" ] || { echo "too few samples to judge memory"; exit 0; }
read -ra a <<<"$ref"; read -ra b <<<"$end"
fail=0
for i in $(seq 1 "$pipelines"); do
  growth=$(( b[i] - a[i] ))
  limit=$(( a[i] / 20 > 8 ? a[i] / 20 : 8 ))
  echo "pipeline $i: ${a[i]} MiB after warm-up, ${b[i]} MiB at the end (growth $growth, limit $limit)"
  [ "$growth" -le "$limit" ] || fail=1
done
[ $fail -eq 0 ] && echo "memory flat" || echo "MEMORY GREW"
exit $fail
