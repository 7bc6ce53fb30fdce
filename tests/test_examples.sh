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
  base-channels=8 max-channels=16 latent-side=3 threshold-sigmas=50 companion=false
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

# hostile arguments: a folder named like a format, a start before 0, a
# full disk, an odd file name (quote and percent) for the model
refuses() { # what, pattern, command... (must exit non-zero saying pattern)
  local out rc=0
  out=$(timeout 60 "${@:3}" 2>&1) || rc=$?
  if [ $rc != 0 ] && [ $rc != 124 ] && grep -q "$2" <<<"$out"; then echo "ok: $1"
  else echo "FAIL: $1 (exit $rc)"; echo "$out" | tail -5; fail=1; fi
}
odd="$tmp/a\"b%s%d"
cp "$tmp/m.dcnt" "$odd.dcnt"
expect "decent-detect writes flagged frames into a folder named with % and a quote" \
  "scored 30 frames.* 30 flagged" \
  "$build/examples/decent-detect" --model "$odd.dcnt" --input "$tmp/normal.avi" \
  --set threshold=1e-9 --flagged-dir "$odd-flagged"
n=$(ls "$odd-flagged" 2>/dev/null | grep -c '^frame-000[0-9][0-9].jpg$' || true)
if [ "$n" != 30 ]; then echo "FAIL: $n of 30 flagged frames in $odd-flagged"; fail=1; fi
# (splitmuxsink opens its first file at the start, where "%s%d" in the
# folder's name used to be read as a format)
expect "record-events opens its clips in a folder named with %" "30 frames, 0 flagged.*0 clips" \
  "$build/examples/record-events" --model "$odd.dcnt" --input "$tmp/normal.avi" \
  --out "$odd-clips"
if [ -n "$(ls -A "$odd-clips")" ] || [ "$(ls "$tmp" | grep -c clips)" != 2 ]; then
  echo "FAIL: record-events wrote elsewhere: $(ls "$tmp")"; fail=1
fi
# an output that names an input (or another output) is refused before it
# is emptied; a --set value out of range and a --raw size with a tail are
# refused, not warned about by GLib and ignored
cp "$tmp/normal.avi" "$tmp/same.avi"
size=$(stat -c %s "$tmp/same.avi")
refuses "decent-detect refuses an overlay written over its input" "is the file of --input" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/same.avi" \
  --overlay "$tmp/./same.avi"
if [ "$(stat -c %s "$tmp/same.avi")" != "$size" ]; then
  echo "FAIL: the input was changed"; fail=1; fi
refuses "decent-detect refuses a CSV written over its model" "is the file of --model" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --csv "$tmp/m.dcnt"
refuses "decent-detect refuses one file for both CSVs" "name one file" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --csv "$tmp/both.csv" --events-csv "$tmp/both.csv"
# a model named by --set escaped the check of the outputs against it (a CSV
# emptied it: helper-80); flagged frames would mix with an earlier run's, or
# replace an output named as one of them
cp "$tmp/m.dcnt" "$tmp/victim.dcnt"
refuses "decent-detect refuses a model given by --set" "give the model with --model" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --set model-location="$tmp/victim.dcnt" --csv "$tmp/victim.dcnt"
refuses "decent-detect refuses a model given by --set, spelt with underscores" \
  "give the model with --model and --second-model" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --set second_model_location="$tmp/victim.dcnt" --csv "$tmp/victim.dcnt"
if ! cmp -s "$tmp/m.dcnt" "$tmp/victim.dcnt"; then
  echo "FAIL: the model named by --set was changed"; fail=1; fi
refuses "decent-detect refuses a --flagged-dir with an earlier run's frames" \
  "holds frames of an earlier run" \
  "$build/examples/decent-detect" --model "$odd.dcnt" --input "$tmp/normal.avi" \
  --flagged-dir "$odd-flagged"
mkdir "$tmp/fd"
refuses "decent-detect refuses a CSV named as a flagged frame" "named as a flagged frame" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --flagged-dir "$tmp/fd" --csv "$tmp/fd/frame-00003.jpg"
# input of a variable frame rate (caps framerate=0/1): an AVI overlay cannot
# take it, said with the way out; a .mkv one can (helper-80)
launch videotestsrc num-buffers=40 pattern=ball ! video/x-raw,width=64,height=48,framerate=10/1 \
  ! jpegenc ! capssetter caps="image/jpeg,framerate=(fraction)0/1" ! matroskamux \
  ! filesink location="$tmp/vfr.mkv"
refuses "decent-detect says an AVI overlay needs a fixed frame rate" "name the overlay OUT.mkv" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/vfr.mkv" \
  --overlay "$tmp/vfr.avi"
expect "decent-detect writes a Matroska overlay of variable-frame-rate input" "scored 40 frames" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/vfr.mkv" \
  --overlay "$tmp/vfr-overlay.mkv"
# its frames keep their times (avenc_mpeg4 gave each one bogus time, which
# Matroska keeps and AVI ignores: helper-82)
expect "the Matroska overlay keeps the frames' times" "^4.0 s of footage" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/vfr-overlay.mkv"
refuses "decent-detect refuses a --set value out of range" "out of the range of threshold" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --set threshold=inf
refuses "decent-detect refuses a --raw size with a tail" "wants WIDTHxHEIGHT" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" --raw 64x48x
launch audiotestsrc num-buffers=20 ! wavenc ! filesink location="$tmp/sound.wav"
refuses "decent-detect says an input without video is not a video" "is $tmp/sound.wav a video" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/sound.wav"
refuses "decent-detect refuses a --raw frame over 2 GB" "a frame of at most 2 GB" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --raw 100000x100000
mkdir "$tmp/full-clips" && touch "$tmp/full-clips/clip-2147483000.mkv"
refuses "record-events refuses clip numbers near the end of an int" "numbered up to 2147483000" \
  "$build/examples/record-events" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --out "$tmp/full-clips"
# messages.py sums up every second, the last one too, and reads frames
# without timestamps (jpegparse stamps only the first of a raw MJPEG
# stream: it crashed on the second, and left the pipeline playing)
expect "messages.py sums up every second, the last one too" "   2 s: mean score" \
  /usr/bin/python3 "$(dirname "$0")/../examples/messages.py" "$tmp/m.dcnt" "$tmp/normal.avi"
launch videotestsrc num-buffers=20 pattern=ball ! video/x-raw,width=64,height=48,framerate=10/1 \
  ! jpegenc ! filesink location="$tmp/untimed.mjpeg"
expect "messages.py reads frames without timestamps" "0 of 20 frames flagged" \
  /usr/bin/python3 "$(dirname "$0")/../examples/messages.py" "$tmp/m.dcnt" "$tmp/untimed.mjpeg"
refuses "messages.py fails on a pipeline error" "error: " \
  /usr/bin/python3 "$(dirname "$0")/../examples/messages.py" "$tmp/m.dcnt" "$tmp/missing.avi"
# a FIFO input: messages.py waits for its writer, says so, and reads it; a
# Ctrl-C during the wait ends it (filesrc waited in open(), inside a C call
# where Python's handler never ran: only SIGKILL ended it), and a model it
# cannot read is said at once, not once a writer comes. (env: a background
# job of this script would ignore SIGINT, and Python with it.)
rm -f "$tmp/msg.fifo"; mkfifo "$tmp/msg.fifo"
# (timeout: a writer left waiting for a reader, after a failure, must end)
timeout 30 bash -c 'sleep 1; cat "$1" >"$2"' _ "$tmp/untimed.mjpeg" "$tmp/msg.fifo" &
writer=$!
rc=0
timeout 60 /usr/bin/python3 "$(dirname "$0")/../examples/messages.py" "$tmp/m.dcnt" \
  "$tmp/msg.fifo" >"$tmp/msg.out" 2>&1 || rc=$?
wait "$writer" 2>/dev/null || true
if [ "$rc" = 0 ] && grep -q "is a FIFO: waiting for a writer" "$tmp/msg.out" \
   && grep -q "0 of 20 frames flagged" "$tmp/msg.out"; then
  echo "ok: messages.py says it waits for a FIFO's writer, and reads it"
else echo "FAIL: messages.py on a FIFO written later (exit $rc)"; tail -3 "$tmp/msg.out"; fail=1; fi
env --default-signal=INT /usr/bin/python3 "$(dirname "$0")/../examples/messages.py" \
  "$tmp/m.dcnt" "$tmp/msg.fifo" >"$tmp/msg.out" 2>&1 &
msgpy=$!
# (once it waits: a Ctrl-C while Python starts is another matter)
for _ in $(seq 300); do grep -q "waiting for a writer" "$tmp/msg.out" && break; sleep 0.1; done
kill -INT "$msgpy" 2>/dev/null || true
for _ in $(seq 50); do kill -0 "$msgpy" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$msgpy" 2>/dev/null; then
  echo "FAIL: a Ctrl-C while messages.py waits for a FIFO's writer did not end it"; fail=1
  kill -9 "$msgpy"
else
  rc=0; wait "$msgpy" || rc=$?
  if [ "$rc" = 130 ] && grep -q "waiting for a writer" "$tmp/msg.out"; then
    echo "ok: a Ctrl-C while messages.py waits for a FIFO's writer ends it (exit 130)"
  else echo "FAIL: a Ctrl-C while messages.py waits for a FIFO's writer: exit $rc"
    tail -3 "$tmp/msg.out"; fail=1; fi
fi
rc=0
timeout 20 /usr/bin/python3 "$(dirname "$0")/../examples/messages.py" "$tmp/missing.dcnt" \
  "$tmp/msg.fifo" >"$tmp/msg.out" 2>&1 || rc=$?
if [ "$rc" = 1 ] && grep -q "error: " "$tmp/msg.out"; then
  echo "ok: messages.py says a bad model at once while its FIFO has no writer"
else echo "FAIL: messages.py with a bad model and a FIFO without writer: exit $rc"
  tail -3 "$tmp/msg.out"; fail=1; fi
# file names with a quote, a backslash and a ! reach the elements whole
# (they were pasted into the pipeline description: a syntax error, or
# another file named; helper-58)
weird="$tmp/a \\b\" ! c"
mkdir -p "$weird" && cp "$tmp/m.dcnt" "$weird/m.dcnt" && cp "$tmp/untimed.mjpeg" "$weird/v.mjpeg"
expect "messages.py takes file names with a quote, a backslash and a !" "0 of 20 frames flagged" \
  /usr/bin/python3 "$(dirname "$0")/../examples/messages.py" "$weird/m.dcnt" "$weird/v.mjpeg"
if [ -f "$build/gst/GstDecentMeta-1.0.typelib" ]; then
  expect "meta_probe.py takes a model name with a quote, a backslash and a !" "^frame 1 score " \
    env GI_TYPELIB_PATH="$build/gst" LD_LIBRARY_PATH="$build/gst" \
    /usr/bin/python3 "$(dirname "$0")/../examples/meta_probe.py" "$weird/m.dcnt" 2
fi
# clips and --start on files whose timestamps begin at 0 and at 100 s
# (MPEG-TS, edit lists): 4 s of the ball, 1.5 s of white (flagged), 4 s of
# the ball.  record-events --before 1 --after 2: the clip runs from 1 s
# before the first flagged frame (4.0 s) to 2 s after the event's end
# (5.9 s), 3.0 to 7.8 s, 49 frames, whatever the timestamps (helper-60: from
# the begin message, 4.2 s, by a leaky queue racing the main loop, and
# --after lost at 100 s); decent-detect --start 5 drops the first 5 s of
# stream time (nothing was dropped at 100 s)
launch videotestsrc num-buffers=60 pattern=ball ! video/x-raw,width=64,height=48,framerate=10/1 \
  ! decent-train model-location="$tmp/ball.dcnt" width=32 height=24 epochs=0 min-steps=200 \
  base-channels=8 max-channels=16 latent-side=6 companion=false still-lag=0
# (normal frames score at most 0.73 of its threshold, the white ones 1.28 and up)
clip_pts() { # count, first and last pts of a clip
  gst-launch-1.0 -v filesrc location="$1" ! matroskademux ! fakesink silent=false 2>/dev/null |
    grep -o 'pts: [0-9:.]*' | sed -n '1p;$p' | tr '\n' ' '
  gst-launch-1.0 -v filesrc location="$1" ! matroskademux ! fakesink silent=false 2>/dev/null |
    grep -c 'pts: '
}
for offset in 0 100000000000; do
  clip="video/x-raw,width=64,height=48,framerate=10/1"
  launch concat name=c ! identity ts-offset=$offset ! videoconvert ! video/x-raw,format=I420 \
    ! matroskamux ! filesink location="$tmp/event-$offset.mkv" \
    videotestsrc num-buffers=40 pattern=ball ! $clip ! c. \
    videotestsrc num-buffers=15 pattern=white ! $clip ! c. \
    videotestsrc num-buffers=40 pattern=ball ! $clip ! c.
  expect "record-events records one event (timestamps from $offset ns)" "15 flagged.*1 clips" \
    "$build/examples/record-events" --model "$tmp/ball.dcnt" --input "$tmp/event-$offset.mkv" \
    --out "$tmp/clips-$offset" --before 1 --after 2
  got=$(clip_pts "$tmp/clips-$offset/clip-000.mkv")
  if [ "$got" = "pts: 0:00:03.000000000 pts: 0:00:07.800000000 49" ]; then
    echo "ok: the clip runs from 1 s before the first flagged frame to 2 s after the end" \
      "(timestamps from $offset ns)"
  else echo "FAIL: the clip (timestamps from $offset ns): $got, not 3.0 to 7.8 s, 49 frames"
    fail=1; fi
  expect "decent-detect --start 5 drops the first 5 s (timestamps from $offset ns)" \
    "scored 45 frames from 5.0 s" \
    "$build/examples/decent-detect" --model "$tmp/ball.dcnt" --input "$tmp/event-$offset.mkv" \
    --start 5
done
# two events 2.5 s apart (white at 4.0-5.4 s and at 8.0-9.4 s), --before 1
# --after 2: the first clip ends at 7.8 s, and the second reaches back to
# 7.0 s, so it begins with the first frame the first clip did not take,
# 7.9 s, and runs to 11.8 s: 40 frames (that frame ended the first clip
# and was lost: the second began at 8.0 s)
clip="video/x-raw,width=64,height=48,framerate=10/1"
launch concat name=c ! videoconvert ! video/x-raw,format=I420 ! matroskamux \
  ! filesink location="$tmp/two-events.mkv" \
  videotestsrc num-buffers=40 pattern=ball ! $clip ! c. \
  videotestsrc num-buffers=15 pattern=white ! $clip ! c. \
  videotestsrc num-buffers=25 pattern=ball ! $clip ! c. \
  videotestsrc num-buffers=15 pattern=white ! $clip ! c. \
  videotestsrc num-buffers=40 pattern=ball ! $clip ! c.
expect "record-events records two close events" "30 flagged.*2 clips" \
  "$build/examples/record-events" --model "$tmp/ball.dcnt" --input "$tmp/two-events.mkv" \
  --out "$tmp/clips-two" --before 1 --after 2
got="$(clip_pts "$tmp/clips-two/clip-000.mkv") / $(clip_pts "$tmp/clips-two/clip-001.mkv")"
if [ "$got" = "pts: 0:00:03.000000000 pts: 0:00:07.800000000 49 / pts: 0:00:07.900000000 pts: 0:00:11.800000000 40" ]; then
  echo "ok: two close events: the second clip begins with the frame after the first"
else echo "FAIL: two close events: $got, not 3.0 to 7.8 s (49) and 7.9 to 11.8 s (40)"
  fail=1; fi
# packed RGB rows of 63 pixels (189 bytes, not a multiple of 4): 10 frames
# (rawvideoparse padded rows to 4 bytes: 9 frames, read skewed; helper-60)
head -c $((63 * 48 * 3 * 10)) /dev/urandom >"$tmp/p63.rgb"
expect "decent-detect --raw reads packed rows of any width" "scored 10 frames" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/p63.rgb" --raw 63x48
# a read-only folder for the clips is said at start (it failed at the first
# event, and the summary counted a clip never written)
if [ "$(id -u)" = 0 ] && mkdir "$tmp/ro" && mount -t tmpfs -o size=64k tmpfs "$tmp/ro" \
   && mkdir "$tmp/ro/clips" && mount -o remount,ro "$tmp/ro"; then
  refuses "record-events says at start that it cannot write clips" \
    "cannot write clips into .*Read-only file system" \
    "$build/examples/record-events" --model "$tmp/ball.dcnt" --input "$tmp/event-0.mkv" \
    --out "$tmp/ro/clips"
  umount "$tmp/ro"
else echo "skip: a read-only folder needs root (and mount)"; umount "$tmp/ro" 2>/dev/null || true; fi

# the scripts: train.sh writes a model without held-out frames (it used to
# stop reading at the missing held-out error, and gst-launch died of
# SIGPIPE) and names a file with a comma, an é and a backslash whole (gst-launch
# read the backslash as an escape: t,é0.dcnt was written, helper-78); detect.sh
# writes into a folder named with % (read as a format at the first flagged
# frame before: a crash, or frames written elsewhere) and a backslash, and
# refuses one that holds an earlier run's frames
expect "train.sh with holdout=0, a comma, an é and a backslash in the name" \
  "written $tmp/t,é.*0.dcnt: 30 frames" \
  bash "$(dirname "$0")/../examples/train.sh" "$tmp/normal.avi" "$tmp/t,é\\0.dcnt" 2 width=32 \
  height=24 min-steps=0 base-channels=8 max-channels=16 latent-side=3 holdout=0 companion=false
if [ -f "$tmp/t,é\\0.dcnt" ] && [ ! -e "$tmp/t,é0.dcnt" ]; then
  echo "ok: train.sh wrote the file it was given"
else echo "FAIL: train.sh wrote $(ls "$tmp" | grep '^t,' | tr '\n' ' ')"; fail=1; fi
expect "detect.sh writes flagged frames into a folder named with % and a backslash" \
  "flagged frames: 30 in" \
  bash "$(dirname "$0")/../examples/detect.sh" "$tmp/normal.avi" "$tmp/m.dcnt" "$tmp/d %s%d\\1" \
  threshold=1e-9
n=$(ls "$tmp/d %s%d\\1/flagged" 2>/dev/null | grep -c '^frame-000[0-9][0-9].jpg$' || true)
if [ "$n" = 30 ] && [ -s "$tmp/d %s%d\\1/overlay.avi" ]; then
  echo "ok: detect.sh wrote 30 frames and the overlay into the folder it was given"
else echo "FAIL: detect.sh wrote $n frames into $tmp/d %s%d\\1: $(ls "$tmp")"; fail=1; fi
touch "$tmp/d %s%d\\1/flagged/frame-00000.jpg"
refuses "detect.sh refuses a folder with an earlier run's frames" "holds files of an earlier run" \
  bash "$(dirname "$0")/../examples/detect.sh" "$tmp/normal.avi" "$tmp/m.dcnt" "$tmp/d %s%d\\1"
# a Ctrl-C while train.sh trains (to the whole process group, as a
# terminal sends it) writes no model: the script says so and fails (it
# exited 0 before)
setsid bash "$(dirname "$0")/../examples/train.sh" "$tmp/normal.avi" "$tmp/cut.dcnt" 100000 \
  width=32 height=24 min-steps=0 base-channels=8 max-channels=16 latent-side=3 \
  >"$tmp/cut.out" 2>&1 &
trainer=$!
for _ in $(seq 100); do grep -q "^epoch [0-9]*/" "$tmp/cut.out" && break; sleep 0.1; done
kill -INT -- "-$trainer" 2>/dev/null || true
rc=0
SECONDS=0
timeout 60 tail --pid="$trainer" -f /dev/null || true
wait "$trainer" || rc=$?
# within seconds: its reader fell behind epochs of a few frames, and held
# gst-launch's output, and so the Ctrl-C, up to a minute
if [ "$rc" != 0 ] && grep -q "no model was written to $tmp/cut.dcnt" "$tmp/cut.out" \
   && [ ! -e "$tmp/cut.dcnt" ] && [ "$SECONDS" -le 15 ]; then
  echo "ok: a Ctrl-C during train.sh says no model was written, and exits $rc ($SECONDS s)"
else echo "FAIL: a Ctrl-C during train.sh: exit $rc after $SECONDS s"; tail -3 "$tmp/cut.out"
  fail=1; fi
# beside a second model (another geometry): both of decent-detect's
# elements score with it.  At a threshold between the highest score alone
# and the highest with the second model, the two flag differently; the
# flagged-frames element must write as many frames as the scorer counts
# (score-mode=mean: the local scores of these barely trained models are
# saturated, all within 1e-5).
launch videotestsrc num-buffers=40 pattern=ball ! video/x-raw,width=64,height=48,framerate=10/1 \
  ! decent-train model-location="$tmp/second.dcnt" width=24 height=16 epochs=2 min-steps=0 \
  base-channels=8 max-channels=16 latent-side=0 companion=false
highest() { sed -En 's/.*highest score ([0-9.e+-]+).*/\1/p'; }
flagged() { sed -En 's/.* ([0-9]+) flagged .*/\1/p'; }
alone=$("$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --set score-mode=mean | highest)
pair=$("$build/examples/decent-detect" --model "$tmp/m.dcnt" --second-model "$tmp/second.dcnt" \
  --input "$tmp/normal.avi" --set score-mode=mean | highest)
if [ -z "$alone" ] || [ -z "$pair" ] || [ "$alone" = "$pair" ]; then
  echo "FAIL: decent-detect --second-model changes nothing (highest $alone alone, $pair with it)"
  fail=1
else
  between=$(awk -v a="$alone" -v p="$pair" 'BEGIN { printf "%.9g", (a + p) / 2 }')
  n_alone=$("$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
    --set score-mode=mean --set threshold="$between" | flagged)
  n_pair=$("$build/examples/decent-detect" --model "$tmp/m.dcnt" \
    --second-model "$tmp/second.dcnt" --input "$tmp/normal.avi" --set score-mode=mean \
    --set threshold="$between" --flagged-dir "$tmp/pair-flagged" | flagged)
  files=$(ls "$tmp/pair-flagged" 2>/dev/null | grep -c '^frame-' || true)
  if [ -n "$n_pair" ] && [ "$n_pair" != "$n_alone" ] && [ "$files" = "$n_pair" ]; then
    echo "ok: decent-detect scores beside a second model, in both of its elements"
  else
    echo "FAIL: beside a second model at $between: $n_pair flagged, $files files written," \
      "$n_alone flagged alone"
    fail=1
  fi
fi
refuses "decent-detect stops on a second model it cannot read" \
  "Could not load second model file .*none.dcnt" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --second-model "$tmp/none.dcnt" \
  --input "$tmp/normal.avi"
refuses "decent-detect refuses a negative --start" "from 0 on, not -1" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" --start=-1
refuses "decent-detect refuses --start nan" "from 0 on" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" --start=nan
refuses "decent-detect says --start past the end instead of a threshold of 0" \
  "no frame was scored: --start 1000.0 s is past the end" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" --start=1000
expect "decent-detect counts frames without per-frame messages" \
  "scored 30 frames from 0.0 s; the scorer posted no per-frame messages" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --set message-mode=events
refuses "decent-detect fails when its CSV cannot be written" "could not write /dev/full" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --csv /dev/full
refuses "decent-detect refuses --set with an empty value" "wants NAME=VALUE" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --set threshold= --set mode=overlay
refuses "decent-detect takes a --set value as a value, never as pipeline text" \
  "is not a value of threshold" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --set "threshold=0 ! fakesink"
refuses "decent-detect refuses --set of a property decentanomaly lacks" "no property \"camera\"" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --set camera=x
refuses "record-events refuses a negative --before" "want 0 to 3600" \
  "$build/examples/record-events" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" --before=-2

# record-events keeps an earlier run's clips: numbering goes on after them
# (before, a run replaced clip-000.mkv, and one without events deleted it)
mkdir "$tmp/again"
echo "an earlier run's clip" >"$tmp/again/clip-000.mkv"
expect "record-events beside an earlier clip" "30 frames, 0 flagged.*0 clips" \
  "$build/examples/record-events" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --out "$tmp/again"
if [ "$(ls "$tmp/again")" = "clip-000.mkv" ] \
   && [ "$(cat "$tmp/again/clip-000.mkv")" = "an earlier run's clip" ]; then
  echo "ok: record-events leaves an earlier run's clip as it was"
else echo "FAIL: an earlier clip: $(ls "$tmp/again")"; fail=1; fi

# the element's warnings reach the terminal (a roi outside the 64x48 frame:
# the whole frame is scored instead, which the user must know)
expect "decent-detect prints the element's warnings" \
  "decent-detect: warning: The roi lies outside the frame" \
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/normal.avi" \
  --set roi=100,100,8,8

# Ctrl-C (and SIGTERM: docker stop, systemd) ends the stream: the files are
# finished, the summary printed, exit 128 + the signal (before: an empty
# overlay, a CSV cut mid-line, no summary; SIGTERM killed it so). Raw frames
# come through a FIFO, 50 a second.
interrupted() { # signal, exit status
  rm -f "$tmp/slow.rgb"
  mkfifo "$tmp/slow.rgb"
  python3 -c "import sys, time
f = open(sys.argv[1], 'wb')
for i in range(1000):
    f.write(bytes([(i * 7 + k) % 256 for k in range(64 * 48 * 3)])); f.flush(); time.sleep(0.02)
" "$tmp/slow.rgb" 2>/dev/null &
  local writer=$!
  "$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/slow.rgb" --raw 64x48 \
    --fps 50 --csv "$tmp/int.csv" --events-csv "$tmp/int-events.csv" --overlay "$tmp/int.avi" \
    >"$tmp/int.out" 2>&1 &
  local detect=$!
  sleep 3
  # (gone already: a failure, said below; the writer, blocked on a FIFO that
  # nobody reads, must not outlive the test)
  kill -"$1" "$detect" 2>/dev/null || { kill "$writer" 2>/dev/null || true; : <>"$tmp/slow.rgb"; }
  local rc=0
  for _ in $(seq 100); do kill -0 "$detect" 2>/dev/null || break; sleep 0.1; done
  wait "$detect" || rc=$?
  kill "$writer" 2>/dev/null || true; wait "$writer" 2>/dev/null || true
  local rows=-1
  [ -f "$tmp/int.csv" ] && rows=$(($(wc -l <"$tmp/int.csv") - 1))
  if [ "$rc" = "$2" ] && grep -q "scored $rows frames" "$tmp/int.out" && [ "$rows" -gt 10 ] \
     && [ "$rows" -lt 900 ] \
     && awk -F, 'NR > 1 && NF != 6 { bad = 1 } END { exit bad }' "$tmp/int.csv" \
     && [ "$(head -1 "$tmp/int-events.csv")" = "type,event_frame,frame,peak" ] \
     && [ "$(gst-launch-1.0 -q filesrc location="$tmp/int.avi" ! avidemux ! fakesink \
            >/dev/null 2>&1; echo $?)" = 0 ]; then
    echo "ok: SIG$1 finishes decent-detect's files ($rows frames) and exits $2"
  else
    echo "FAIL: SIG$1 during decent-detect (exit $rc, $rows CSV rows)"; tail -5 "$tmp/int.out"
    fail=1
  fi
}
interrupted INT 130
interrupted TERM 143
# a Ctrl-C while the start waits (a FIFO that nobody writes) quits: there is
# no stream to end yet (it was ignored before)
rm -f "$tmp/idle.rgb"; mkfifo "$tmp/idle.rgb"
"$build/examples/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/idle.rgb" --raw 64x48 \
  >"$tmp/idle.out" 2>&1 &
detect=$!
sleep 1
kill -INT "$detect" 2>/dev/null || true
for _ in $(seq 50); do kill -0 "$detect" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$detect" 2>/dev/null; then
  echo "FAIL: a Ctrl-C during the start did not end decent-detect"; fail=1
  kill -9 "$detect"; : <>"$tmp/idle.rgb"
else
  rc=0; wait "$detect" || rc=$?
  if [ "$rc" = 130 ] && grep -q "interrupted before the stream started" "$tmp/idle.out"; then
    echo "ok: a Ctrl-C during the start quits (exit 130)"
  else echo "FAIL: a Ctrl-C during the start: exit $rc"; tail -3 "$tmp/idle.out"; fail=1; fi
fi
# decentpublish location=/dev/stdout with stdout appended to a file that
# gst-launch has written its own lines into: the records follow them (the
# file was refused as one that does not begin with a record: helper-68).
# (With > rather than >>, gst-launch's own offset writes over the records,
# as it would over filesink's: plugin.md says to use >> or -q.)
rc=0
gst-launch-1.0 videotestsrc num-buffers=3 ! video/x-raw,width=64,height=48 ! decentanomaly \
  model-location="$tmp/m.dcnt" ! decentpublish per-frame=true location=/dev/stdout ! fakesink \
  >>"$tmp/stdout.txt" 2>&1 || rc=$?
if [ "$rc" = 0 ] && grep -q "^Setting pipeline to PAUSED" "$tmp/stdout.txt" \
   && [ "$(grep -c '^{"type":"frame"' "$tmp/stdout.txt")" = 3 ]; then
  echo "ok: decentpublish writes to a redirected /dev/stdout after gst-launch's lines"
else echo "FAIL: decentpublish location=/dev/stdout redirected to a file (exit $rc)"
  tail -3 "$tmp/stdout.txt"; fail=1; fi
# the manual pages (docs/man, installed) name every option --help lists,
# and none it does not: a new option without its page fails here
src=$(cd "$(dirname "$0")/.." && pwd)
for prog in decent-detect record-events; do
  page="$src/docs/man/$prog.1"
  helped=$("$build/examples/$prog" --help | grep -o -- '^  --[a-z-]*' | tr -d ' ' | sort -u)
  paged=$(grep -o -- '^\.BI \\-\\-[a-z\\-]*' "$page" | sed 's/^\.BI //; s/\\//g' | sort -u)
  extra=$(comm -3 <(grep -v -- '--help' <<<"$helped") <(echo "$paged") | tr -d '\t' | tr '\n' ' ')
  if [ -n "$extra" ]; then echo "FAIL: $prog's --help and $page differ in: $extra"; fail=1
  else echo "ok: $prog's manual page names its $(wc -l <<<"$paged") options"; fi
done
exit $fail
