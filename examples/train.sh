#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Train a model on captured normal footage with gst-launch alone.
#   examples/train.sh NORMAL_VIDEO MODEL [EPOCHS [PROPERTY=VALUE ...]]
# (more decent-train properties after EPOCHS, e.g. max-frames=400 device=cpu)
# Prints a line per epoch (at most one a second, and each model's last; with
# the time left when the number of epochs is known), the warnings and
# errors, and what was written.
# From a live camera instead of a file (num-buffers makes the source end by
# itself; training starts at that EOS: a Ctrl-C then stops it and writes no
# model, only the checkpoint, which resume=true continues; with -e a Ctrl-C
# ends the collection instead and the training runs to its end):
#   gst-launch-1.0 -e v4l2src num-buffers=3000 ! videoconvert ! \
#     decent-train model-location=cam.dcnt frame-stride=5
set -euo pipefail
video=${1:?normal footage}
model=${2:?model file to write}
epochs=${3:-0} # 0: until the held-out error stops falling
shift $(($# < 3 ? $# : 3))

# A field of a message structure as gst-launch -m prints it:
# name=(type)value, or name=(string)"a\,b" (quoted, backslash-escaped, bytes
# beyond ASCII as octal: "caf\303\251")
field() {
  local quoted
  quoted=$(sed -En "s/.*[ ,]$1=\([a-z0-9]+\)\"((\\\\.|[^\"\\\\])*)\".*/\1/p" <<<"$2")
  if [ -n "$quoted" ]; then
    perl -pe 's/\\([0-7]{3}|.)/length $1 == 3 ? chr oct $1 : $1/ge' <<<"$quoted"
  else sed -En "s/.*[ ,]$1=\([a-z0-9]+\)([^,;]*).*/\1/p" <<<"$2"; fi
}
seconds() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e9 }'; }

# a number to 5 digits; nothing for a field that is absent (holdout=0 has no
# held-out error): not a failure, which would end the loop under set -e
num() { if [ -n "$1" ]; then printf '%.5g' "$1"; fi; }

# Epochs of a few frames come by the hundred a second, each a message and a
# progress line, and parsing one costs this loop a few processes: one
# epoch a second is let through (by perl, which keeps up), and the last
# before any other line, and progress lines not at all; a reader behind
# them held gst-launch's output, and so its Ctrl-C, for up to a minute.
# (perl ignores the Ctrl-C as the loop does, reading on to gst-launch's
# last line.)
# gst-launch reads a backslash as an escape (cam\1.dcnt became cam1.dcnt):
# each is doubled
gst-launch-1.0 -m filesrc location="${video//\\/\\\\}" ! decodebin ! videoconvert ! \
  decent-train model-location="${model//\\/\\\\}" epochs="$epochs" "$@" 2>&1 |
  perl -ne 'BEGIN { $SIG{INT} = "IGNORE"; $| = 1; $shown = -1; $held = "" }
    next if /\(progress\): GstMessageProgress/ || /^Progress: \(train\) (Companion e|E)poch /;
    if (/decent-train, status=\(string\)training/) {
      my ($who) = /[ ,]model=\(string\)(\w+)/;
      $who //= "";
      print $held if $held ne "" && $who ne $held_who; # a model'"'"'s last epoch
      $held = "";
      if (time == $shown) { $held = $_; $held_who = $who; next }
      $shown = time; $held_who = $who;
    } elsif ($held ne "") { print $held; $held = "" } # the last epoch before what follows
    print;
    END { print $held if $held ne "" }' | {
# a Ctrl-C stops gst-launch, which says what became of the run: this loop
# reads on to its end, and fails when no model was written
trap '' INT
wrote=
while IFS= read -r line; do
  if [ -n "${debug_next:-}" ]; then # after "Additional debug info:", past the source line
    case $line in *.c\([0-9]*\):*) continue ;; esac
    echo "  $line"
    debug_next=
    continue
  fi
  case $line in
    *"decent-train, status=(string)training"*)
      total=$(field epochs "$line")
      [ "$total" = 0 ] && total="?"
      held=$(num "$(field held-out-loss "$line")")
      spread=$(num "$(field reconstruction-spread "$line")")
      eta=$(field eta "$line")
      who=; [ "$(field model "$line")" = companion ] && who="companion "
      printf '%sepoch %s/%s (%s steps): loss %s%s%s, %s s%s\n' "$who" "$(field epoch "$line")" \
        "$total" "$(field steps "$line")" "$(num "$(field loss "$line")")" \
        "${held:+, held-out error $held}" "${spread:+, reconstruction spread $spread}" \
        "$(seconds "$(field elapsed "$line")")" "${eta:+, $(seconds "$eta") s left}" ;;
    *"decent-train, status=(string)written"* | *"decent-train, status=(string)calibrated"*)
      wrote=1
      printf '%s %s: %s frames (%s held out), %s epochs, %s steps, threshold (local) %s, ' \
        "$(field status "$line")" "$(field location "$line")" "$(field frames "$line")" \
        "$(field held-out "$line")" "$(field epochs "$line")" "$(field steps "$line")" \
        "$(num "$(field threshold-local "$line")")"
      printf 'expected false-alarm rate %s' "$(num "$(field expected-false-alarm-rate "$line")")"
      still=$(num "$(field threshold-still "$line")")
      if [ -n "$still" ] && [ "$still" != 0 ]; then
        printf ', still gate threshold %s from %s frames' "$still" "$(field still-frames "$line")"
      else
        printf ', no still gate'
      fi
      if [ "$(field companion "$line")" = true ]; then
        printf ', companion model threshold (local) %s\n' \
          "$(num "$(field companion-threshold-local "$line")")"
      else
        printf '\n'
      fi ;;
    *"Additional debug info"*) debug_next=1 ;;
    *WARNING*|*ERROR*|*"Got EOS"*|"Interrupt: "*) echo "$line" ;;
  esac
done
if [ -z "$wrote" ]; then
  echo "train.sh: no model was written to $model" >&2
  exit 1
fi
}
