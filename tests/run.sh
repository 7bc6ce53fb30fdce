#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# README's test command.  Installs what it needs, builds from scratch and runs:
#   1. every meson test (release build, build-test/),
#   2. the same tests built with AddressSanitizer + UndefinedBehaviorSanitizer,
#   3. a short libFuzzer run of each fuzz target (tests/fuzz/run.sh),
#   4. valgrind memcheck of short decent-train and decentanomaly pipelines,
#   5. a short soak (memory must stay flat);
# stage 1 includes bench/report.py's test (tests/test_report.py).
# Ends with "N passed, N failed".  QUICK=1 runs stage 1 only.
set -uo pipefail
cd "$(dirname "$0")/.."

bash tests/install-deps.sh clang-14 libclang-rt-14-dev valgrind bc python3-scipy opencv-doc gstreamer1.0-libav \
    python3-matplotlib python3-numpy python3-pil gobject-introspection libgirepository1.0-dev \
    gir1.2-gstreamer-1.0 python3-gi python3-gst-1.0 mosquitto mosquitto-clients ||
  { echo "could not install the build dependencies"; exit 1; }

passed=0 failed=0
count_meson() { # tallies a meson test log
  read -r p f < <(python3 - "$1" <<'PY'
import json, sys
p = f = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r == "OK": p += 1
    elif r != "SKIP": f += 1
print(p, f)
PY
  )
  passed=$((passed + p)); failed=$((failed + f))
}
stage() { # name command...: one pass or fail
  echo "==== $1"
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $*"; fi
}

echo "==== meson tests (release)"
rm -rf build-test build-test-prefix
# its prefix, ours to empty: the install test installs there
if meson setup build-test --buildtype=release --prefix="$PWD/build-test-prefix" \
     >build-test.log 2>&1 && ninja -C build-test; then
  meson test -C build-test --print-errorlogs --num-processes 1
  count_meson build-test/meson-logs/testlog.json
  stage "install into a prefix, run from it with only GST_PLUGIN_PATH" bash tests/install.sh build-test
  stage "the install test refuses a prefix that holds other files" bash tests/test_install_refuses.sh
else
  cat build-test.log; failed=$((failed + 1))
fi

if [ "${QUICK:-0}" != 1 ]; then
  echo "==== meson tests (AddressSanitizer + UndefinedBehaviorSanitizer)"
  rm -rf build-asan
  # CUDA off: its code cannot run without a GPU, and nvcc objects carry no
  # sanitizer instrumentation; introspection off: g-ir-scanner's helper
  # program would run the instrumented library
  if meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dcuda=disabled \
       -Dintrospection=disabled \
       --buildtype=debugoptimized >build-asan.log 2>&1 && ninja -C build-asan >/dev/null; then
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 \
    LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp GST_REGISTRY_FORK=no \
      meson test -C build-asan --print-errorlogs --num-processes 1
    count_meson build-asan/meson-logs/testlog.json
  else
    cat build-asan.log; failed=$((failed + 1))
  fi
  stage "fuzzing (30 s per target)" bash tests/fuzz/run.sh 30
  stage "valgrind memcheck" bash tests/valgrind.sh build-test
  stage "soak (2 pipelines x 3000 frames)" bash bench/soak.sh 2 3000 build-test
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
