#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The example programs end and say what they did on a clip without events:
# record-events used to wait forever at the end of such a stream (its gate
# held the end-of-stream behind a blocked pad), and left an empty clip.
# The model's threshold is set far above its normal scores
# (threshold-sigmas=50), so that no frame is flagged whatever the training.
#   tests/test_examples.sh BUILD_DIR   (GST_PLUGIN_PATH: the build's plugin)
set -euo pipefail
build=${1:?build folder}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
launch() { gst-launch-1.0 -q "$@" >/dev/null; }
launch videotestsrc num-buffers=40 pattern=ball ! video/x-raw,width=64,height=48,framerate=10/1 \
  ! decent-train model-location="$tmp/m.dcnt" width=32 height=24 epochs=2 min-steps=0 \
  base-channels=8 max-channels=16 latent-side=3 threshold-sigmas=50
launch videotestsrc num-buffers=30 pattern=ball ! video/x-raw,width=64,height=48,framerate=10/1 \
  ! videoconvert ! avimux ! filesink location="$tmp/normal.avi"
fail=0
expect() { # what, pattern, command...
  local out rc=0
  out=$(timeout 60 "${@:3}" 2>&1) || rc=$?
  if [ $rc = 0 ] && grep -q "$2" <<<"$out"; then echo "ok: $1"
  else echo "FAIL: $1 (exit $rc)"; echo "$out" | tail -5; fail=1; fi
}
mkdir "$tmp/clips"
expect "record-events ends on a clip without events" "30 frames, 0 flagged.*0 clips" \
  "$build/examples/record-events" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --out "$tmp/clips"
if [ -n "$(ls -A "$tmp/clips")" ]; then
  echo "FAIL: record-events left files without an event: $(ls "$tmp/clips")"; fail=1
fi
expect "decent-detect ends and counts no event" "scored 30 frames.* 0 flagged .* in 0 events" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi"
exit $fail
