#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Detect with gst-launch alone: a heatmap overlay written to a video file and
# every flagged frame written as a JPEG.
#   examples/detect.sh VIDEO MODEL OUT_DIR
set -euo pipefail
video=${1:?video to score}
model=${2:?model from decent-train}
out=${3:?output folder}
mkdir -p "$out/flagged"
gst-launch-1.0 filesrc location="$video" ! decodebin ! videoconvert ! tee name=t \
  t. ! queue ! decentanomaly model-location="$model" mode=overlay overlay-alpha=0.5 ! \
       videoconvert ! avenc_mpeg4 bitrate=4000000 ! avimux ! filesink location="$out/overlay.avi" \
  t. ! queue ! decentanomaly model-location="$model" flagged-only=true ! videoconvert ! \
       jpegenc ! multifilesink async=false location="$out/flagged/frame-%05d.jpg"
echo "overlay: $out/overlay.avi; flagged frames: $(ls "$out/flagged" | wc -l) in $out/flagged"
