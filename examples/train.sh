#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Train a model on captured normal footage with gst-launch alone.
#   examples/train.sh NORMAL_VIDEO MODEL [EPOCHS]
# From a live camera instead of a file (stop with Ctrl-C only after EOS:
# num-buffers makes the source end by itself):
#   gst-launch-1.0 v4l2src num-buffers=3000 ! videoconvert ! \
#     decent-train model-location=cam.dcnt frame-stride=5
set -euo pipefail
video=${1:?normal footage}
model=${2:?model file to write}
epochs=${3:-0} # 0: until the held-out error stops falling
gst-launch-1.0 -m filesrc location="$video" ! decodebin ! videoconvert ! \
  decent-train model-location="$model" epochs="$epochs" |
  grep --line-buffered -E 'decent-train|ERROR|EOS'
