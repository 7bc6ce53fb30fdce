#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (address + undefined sanitizers)
# and runs each for SECONDS (default 30) from the seed corpus in corpus/.
#   tests/fuzz/run.sh [SECONDS]        e.g. 3600 for a long run
# Exits non-zero on any crash, leak or sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
bash tests/install-deps.sh clang-14 libclang-rt-14-dev libglib2.0-dev
out=build-fuzz
mkdir -p "$out"
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Wno-pass-failed
       -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
       -fopenmp -Iengine -Igst $(pkg-config --cflags glib-2.0))
clang-14 "${flags[@]}" -o "$out/fuzz_model_file" tests/fuzz/fuzz_model_file.c \
  engine/arch.c engine/backend_cpu.c engine/cpu_kernels.c engine/metrics.c engine/model.c \
  engine/model_file.c -ldnnl -lm
clang-14 "${flags[@]}" -o "$out/fuzz_roi" tests/fuzz/fuzz_roi.c gst/roi.c \
  $(pkg-config --libs glib-2.0)

status=0
for target in model_file roi; do
  work="$out/corpus-$target"
  rm -rf "$work"; mkdir -p "$work"
  cp tests/fuzz/corpus/"${target%_file}"/* "$work"/
  echo "== fuzz_$target for $seconds s"
  if ! ASAN_OPTIONS=detect_leaks=1 "$out/fuzz_$target" -max_total_time="$seconds" \
      -max_len=65536 -timeout=20 -print_final_stats=1 "$work" >"$out/fuzz_$target.log" 2>&1; then
    tail -60 "$out/fuzz_$target.log"; status=1
  fi
  grep -E "^Done|stat::number_of_executed_units|stat::new_units" "$out/fuzz_$target.log"
done
exit $status
