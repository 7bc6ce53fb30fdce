#!/usr/bin/env bash
# README's test command: installs what it needs, builds from scratch in
# build-test/ and runs every test.  Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash tests/install-deps.sh || { echo "could not install the build dependencies"; exit 1; }
rm -rf build-test
meson setup build-test --buildtype=release >build-test.log 2>&1 || { cat build-test.log; exit 1; }
ninja -C build-test || exit 1
meson test -C build-test --print-errorlogs --num-processes 1
rc=$?
python3 - <<'PY'
import json
passed = failed = skipped = 0
with open("build-test/meson-logs/testlog.json") as f:
    for line in f:
        r = json.loads(line)["result"]
        if r == "OK": passed += 1
        elif r == "SKIP": skipped += 1
        else: failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $rc
