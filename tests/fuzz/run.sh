#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the libFuzzer targets with clang (address + undefined sanitizers)
# and runs each for SECONDS (default 30) from the seed corpus in corpus/.
#   tests/fuzz/run.sh [SECONDS]        e.g. 3600 for a long run
# FUZZ_OUT names the build folder (build-fuzz).
# Exits non-zero on any crash, leak or sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
bash tests/install-deps.sh clang-14 libclang-rt-14-dev libglib2.0-dev \
  libgstreamer-plugins-base1.0-dev
out=${FUZZ_OUT:-build-fuzz}
mkdir -p "$out"
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Wno-pass-failed
       -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
       -fopenmp -Iengine -Igst $(pkg-config --cflags glib-2.0))
# the engine with its CPU backend only: the core and engine/cpu/
engine=(engine/*.c engine/cpu/*.c)
clang-14 "${flags[@]}" -o "$out/fuzz_model_file" tests/fuzz/fuzz_model_file.c "${engine[@]}" \
  -ldnnl -lz -lm
clang-14 "${flags[@]}" -o "$out/fuzz_train_settings" tests/fuzz/fuzz_train_settings.c \
  "${engine[@]}" -ldnnl -lz -lm
clang-14 "${flags[@]}" -o "$out/fuzz_roi" tests/fuzz/fuzz_roi.c gst/roi.c \
  $(pkg-config --libs glib-2.0)
clang-14 "${flags[@]}" $(pkg-config --cflags gstreamer-video-1.0) -o "$out/fuzz_frame_path" \
  tests/fuzz/fuzz_frame_path.c gst/framepath.c gst/roi.c "${engine[@]}" \
  $(pkg-config --libs gstreamer-video-1.0) -ldnnl -lz -lm

status=0
for target in model_file roi frame_path train_settings; do
  work="$out/corpus-$target"
  rm -rf "$work"; mkdir -p "$work"
  cp tests/fuzz/corpus/"${target%_file}"/* "$work"/
  echo "== fuzz_$target for $seconds s"
  # lsan.supp: GLib's and GStreamer's process-lifetime allocations, which
  # only full stacks (fast_unwind_on_malloc=0) match through uninstrumented
  # GLib
  asan=detect_leaks=1
  [ "$target" = frame_path ] && asan=$asan:fast_unwind_on_malloc=0
  if ! ASAN_OPTIONS=$asan LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
      "$out/fuzz_$target" -max_total_time="$seconds" \
      -max_len=65536 -timeout=20 -print_final_stats=1 -artifact_prefix="$out/" "$work" >"$out/fuzz_$target.log" 2>&1; then
    tail -60 "$out/fuzz_$target.log"; status=1
  fi
  grep -E "^Done|stat::number_of_executed_units|stat::new_units" "$out/fuzz_$target.log"
done
exit $status
