#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Detect with gst-launch alone: a heatmap overlay written to a video file and
# every flagged frame written as a JPEG.
#   examples/detect.sh VIDEO MODEL OUT_DIR [PROPERTY=VALUE ...]
# (decentanomaly properties after OUT_DIR, e.g. threshold=0.9 score-mode=mean,
# go to both of its elements)
# OUT_DIR/flagged/frame-00000.jpg is the first flagged frame, not frame 0
# (multifilesink counts what it writes); decent-detect --csv gives every
# frame's number, score and flag.
set -euo pipefail
video=${1:?video to score}
model=${2:?model from decent-train}
out=${3:?output folder}
shift 3
mkdir -p "$out/flagged"
# another run's frames would be counted and mixed with this one's
if [ -n "$(ls -A "$out/flagged")" ]; then
  echo "detect.sh: $out/flagged holds files of an earlier run; empty it or name another folder" >&2
  exit 2
fi
# multifilesink reads its location as a printf format: a '%' of the folder's
# name is written as %%
pattern="${out//%/%%}/flagged/frame-%05d.jpg"
# gst-launch reads a backslash as an escape (a\1 became a1): each is doubled
video_arg=${video//\\/\\\\} model_arg=${model//\\/\\\\} out_arg=${out//\\/\\\\}
pattern=${pattern//\\/\\\\}
gst-launch-1.0 filesrc location="$video_arg" ! decodebin ! videoconvert ! tee name=t \
  t. ! queue ! decentanomaly model-location="$model_arg" mode=overlay overlay-alpha=0.5 "$@" ! \
       videoconvert ! avenc_mpeg4 bitrate=4000000 ! avimux ! filesink location="$out_arg/overlay.avi" \
  t. ! queue ! decentanomaly model-location="$model_arg" flagged-only=true "$@" ! videoconvert ! \
       jpegenc ! multifilesink async=false location="$pattern"
echo "overlay: $out/overlay.avi; flagged frames: $(ls "$out/flagged" | wc -l) in $out/flagged"
