#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every GPU check and the GPU benchmark in one go (issue 4), results into one
# file.  On a machine with an NVIDIA GPU:
#
#   bash tests/gpu/run.sh [RESULTS]        (default: gpu-results.txt)
#
# It builds build-gpu/ with -Dcuda=enabled when meson, oneDNN and GStreamer's
# development files are there.  A bare GPU machine (no package access) runs
# a bundle made on a Debian 12 build machine instead:
#
#   bash tests/gpu/run.sh --bundle         (writes gpu-bundle.tar.xz: the tests,
#                                           the benchmark, decent-eval, the plugin,
#                                           the CUDA module and the libraries
#                                           they need but cuDNN)
#
# carry gpu-bundle.tar.xz along, and run the script there as above.  cuDNN 9
# is taken from the GPU machine (the system's, /usr/local/cuda, or the Python
# wheel nvidia-cudnn-cu13).  Runs in a few minutes: parity tests (also under
# compute-sanitizer memcheck and racecheck, when it is there), the element
# tests on the GPU (build mode), the engine benchmark and a 1080p pipeline.
#   GPU_STEPS="parity memcheck racecheck train elements bench pipeline streams"
#                 only these steps (a rerun after a fix)
#                 ("none": no step, e.g. the paper's budget alone)
#   PAPER_SECONDS=N  also the paper's Fashion-MNIST budget, at most N seconds
#                 (PAPER_VARIANTS, FASHION_DIR, PAPER_DIR: see that step)
#   GPU_BUNDLE_DIR=D  the folder under which bundle mode unpacks (default /tmp),
#                 so that two runs can share the machine; they must run different
#                 steps (bench, pipeline and streams share one model file, the
#                 paper PAPER_DIR) and write different RESULTS, e.g. parity
#                 beside the paper
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

if [ "${1:-}" = --bundle ]; then
  set -e
  rm -rf build-gpu-bundle gpu-bundle gpu-bundle.tar.xz
  meson setup build-gpu-bundle --buildtype=release -Dcuda=enabled >/dev/null
  ninja -C build-gpu-bundle >/dev/null
  mkdir -p gpu-bundle/bin gpu-bundle/lib gpu-bundle/plugin gpu-bundle/gst-plugins
  cp build-gpu-bundle/tests/test_cuda_parity build-gpu-bundle/tests/test_train \
     build-gpu-bundle/bench/decent-bench build-gpu-bundle/bench/decent-eval \
     "$(command -v gst-launch-1.0)" gpu-bundle/bin/
  cp build-gpu-bundle/plugin/libgstdecent.so gpu-bundle/plugin/
  # the CUDA backend is a module that registry.c loads on first use; in the
  # bundle it is found through DECENT_CUDA_MODULE (set below, bundle mode)
  cp build-gpu-bundle/engine/libdecent-cuda.so gpu-bundle/lib/
  sysplugins=$(pkg-config --variable=pluginsdir gstreamer-1.0)
  cp "$sysplugins"/libgstcoreelements.so "$sysplugins"/libgstvideotestsrc.so gpu-bundle/gst-plugins/
  # the libraries they link, but the C runtime (the GPU machine's is newer),
  # the driver and cuDNN (the GPU machine's own)
  for f in gpu-bundle/bin/* gpu-bundle/plugin/* gpu-bundle/gst-plugins/* gpu-bundle/lib/libdecent-cuda.so; do
    ldd "$f" | awk '/=> \// {print $3}'
  done | sort -u | grep -Ev '/(libc|libm|libdl|librt|libpthread|libresolv|libstdc\+\+|libgcc_s|libcuda|libcudnn[a-z_]*)\.so' |
    while read -r lib; do cp -L "$lib" gpu-bundle/lib/; done
  ln -sf libgstdecentmeta-1.0.so.0 gpu-bundle/lib/libgstdecentmeta-1.0.so 2>/dev/null || true
  cp -L build-gpu-bundle/gst/libgstdecentmeta-1.0.so.0 gpu-bundle/lib/ 2>/dev/null || true
  # the bundle must load its CUDA module: without a GPU here the parity test
  # then skips for want of a driver, not of the module
  why=$(DECENT_CUDA_MODULE=$PWD/gpu-bundle/lib/libdecent-cuda.so LD_LIBRARY_PATH=$PWD/gpu-bundle/lib \
        gpu-bundle/bin/test_cuda_parity 2>&1 | head -n 1) || true
  case "$why" in
    *"CUDA module"*|*"no CUDA backend"*) echo "bundle: $why" >&2; exit 1 ;;
    "SKIP: "*|"GPU: "*) ;;  # no GPU here, or one: the module loaded
    *) echo "bundle: the parity test did not start: $why" >&2; exit 1 ;;
  esac
  tar -cJf gpu-bundle.tar.xz gpu-bundle
  rm -rf gpu-bundle
  ls -la gpu-bundle.tar.xz
  exit 0
fi

results=${1:-gpu-results.txt}
case "$results" in /*) ;; *) results="$root/$results" ;; esac
: >"$results"
log() { echo "$@" | tee -a "$results"; }
run_logged() { # title command...: output into the results, status returned
  log ""
  log "==== $1"
  shift
  local t0=$SECONDS
  "$@" 2>&1 | tee -a "$results"
  local rc=${PIPESTATUS[0]}
  log "---- exit $rc in $((SECONDS - t0)) s"
  return "$rc"
}

log "gst-decent GPU checks, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$results"

# cuDNN 9: the system's, the toolkit's, or the Python wheel's
cudnn_dir=""
for d in /usr/local/cuda/lib64 /usr/lib/x86_64-linux-gnu \
         $(python3 -c 'import nvidia.cudnn, os; print(os.path.join(nvidia.cudnn.__path__[0], "lib"))' 2>/dev/null); do
  if ls "$d"/libcudnn.so.9* >/dev/null 2>&1; then cudnn_dir=$d; break; fi
done
# else anywhere under /usr or /opt (a framework's copy)
[ -n "$cudnn_dir" ] || cudnn_dir=$(find /usr /opt -name 'libcudnn.so.9*' -printf '%h\n' 2>/dev/null | head -1)
[ -n "$cudnn_dir" ] && log "cuDNN from $cudnn_dir" || log "cuDNN 9 not found; the CUDA backend will not load"

if [ "${GPU_MODE:-}" != bundle ] && command -v meson >/dev/null && pkg-config --exists gstreamer-video-1.0 2>/dev/null &&
   [ -e /usr/include/oneapi/dnnl/dnnl.h ]; then
  mode=build
  run_logged "build (meson, -Dcuda=enabled)" bash -c \
    'meson setup build-gpu --buildtype=release -Dcuda=enabled --reconfigure >/dev/null 2>&1 || meson setup build-gpu --buildtype=release -Dcuda=enabled >/dev/null && ninja -C build-gpu >/dev/null && echo built' ||
    { log "build failed"; exit 1; }
  bin=build-gpu
  parity=$bin/tests/test_cuda_parity bench=$bin/bench/decent-bench eval=$bin/bench/decent-eval
  export GST_PLUGIN_PATH=$root/$bin/plugin
else
  mode=bundle
  [ -f gpu-bundle.tar.xz ] || { log "no meson/oneDNN/GStreamer here and no gpu-bundle.tar.xz (make it with --bundle)"; exit 1; }
  b=${GPU_BUNDLE_DIR:-/tmp}/gst-decent-gpu
  case "$b" in /*) ;; *) b=$root/$b ;; esac
  rm -rf "$b" && mkdir -p "$b" && tar -xJf gpu-bundle.tar.xz -C "$b"
  b=$b/gpu-bundle
  export LD_LIBRARY_PATH="$b/lib${cudnn_dir:+:$cudnn_dir}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export GST_PLUGIN_PATH=$b/plugin GST_PLUGIN_SYSTEM_PATH_1_0=$b/gst-plugins
  export GST_PLUGIN_SCANNER=/nonexistent GST_REGISTRY_FORK=no GST_REGISTRY=$b/registry.bin
  export PATH=$b/bin:$PATH DECENT_CUDA_MODULE=$b/lib/libdecent-cuda.so
  parity=$b/bin/test_cuda_parity bench=$b/bin/decent-bench eval=$b/bin/decent-eval
fi
[ -n "$cudnn_dir" ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$cudnn_dir"
log "mode: $mode"

failed=0
# GPU_STEPS="parity memcheck ..." reruns only those steps (after a fix, to spend
# little device time); unset: all of them
steps="parity memcheck racecheck train elements bench pipeline streams"
want() { [ -z "${GPU_STEPS:-}" ] || [[ " $GPU_STEPS " == *" $1 "* ]]; }
for step in ${GPU_STEPS:-}; do # a misspelt step would skip everything silently
  [[ " $steps none " == *" $step "* ]] || { log "GPU_STEPS: unknown step '$step' ($steps none)"; exit 2; }
done
want parity &&
  { run_logged "parity: CPU (oneDNN) against CUDA (cuDNN + kernels)" timeout 300 "$parity" || failed=$((failed + 1)); }
# the kernels under compute-sanitizer: out-of-bounds and misaligned accesses, races
if command -v compute-sanitizer >/dev/null; then
  want memcheck && { run_logged "compute-sanitizer memcheck (quick parity: 28x28 model, frame path)" \
    env DECENT_PARITY_QUICK=1 timeout 300 compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$parity" || failed=$((failed + 1)); }
  # racecheck instruments shared-memory accesses: under it cuDNN's kernels ran
  # for minutes on the 28x28 model (the H200, 2026-12-04; more than 150 s even
  # with the filter), so only ours (every name ends in _kernel), on the smallest model
  want racecheck && { run_logged "compute-sanitizer racecheck (17x9 model, frame path; our kernels)" \
    env DECENT_PARITY_QUICK=small timeout 150 compute-sanitizer --tool racecheck --error-exitcode 9 \
    --kernel-name kns=_kernel "$parity" || failed=$((failed + 1)); }
else
  log "compute-sanitizer not found: kernels not checked for memory errors"
fi
if ! want train; then
  :
elif [ "$mode" = build ]; then
  # every meson test; the element tests pick the GPU through device=auto
  run_logged "meson tests on the GPU machine" timeout 400 meson test -C build-gpu --print-errorlogs ||
    failed=$((failed + 1))
else
  run_logged "training test (device auto: the GPU)" timeout 200 "$b/bin/test_train" || failed=$((failed + 1))
fi

# the elements on the GPU: decent-train device=cuda learns smpte; decentanomaly
# device=cuda then passes smpte and flags ball (mean score: smpte's sharp
# edges score high, so snow is no anomaly to it), with the CPU's scores
elements_on_gpu() {
  local m=/tmp/gst-decent-gpu-trained.dcnt p d got
  rm -f "$m"
  timeout 120 gst-launch-1.0 -q videotestsrc num-buffers=300 pattern=smpte ! video/x-raw,width=320,height=240 ! \
    decent-train device=cuda model-location="$m" epochs=1 min-steps=500 companion=false latent-side=6 || return 1
  [ -s "$m" ] || { echo "no model written"; return 1; }
  for p in smpte ball; do
    for d in cuda cpu; do
      got=$(timeout 60 gst-launch-1.0 -m videotestsrc num-buffers=50 pattern=$p ! video/x-raw,width=320,height=240 ! \
        decentanomaly model-location="$m" device=$d score-mode=mean message-mode=all ! fakesink 2>&1 |
        awk -F'score=\\(double\\)|, threshold' '/decentanomaly, utc/ { n++; s += $2; if (/flagged=\(boolean\)true/) f++ }
          END { printf "%d %d %.5f", n, f, n ? s / n : 0 }')
      echo "$p on $d: frames, flagged, mean score: $got"
      eval "r_${p}_$d=(\$got)"
    done
  done
  # smpte passes, ball is flagged on the GPU; the GPU's mean score within 2 % of the CPU's (TF32)
  [ "${r_smpte_cuda[0]}" = 50 ] && [ "${r_smpte_cuda[1]}" = 0 ] && [ "${r_ball_cuda[1]}" = 50 ] || { echo "wrong flags"; return 1; }
  awk -v a="${r_smpte_cuda[2]}" -v b="${r_smpte_cpu[2]}" -v c="${r_ball_cuda[2]}" -v e="${r_ball_cpu[2]}" \
    'BEGIN { d1 = (a - b) / b; d2 = (c - e) / e; printf "GPU/CPU score: smpte %+.4f, ball %+.4f (relative)\n", d1, d2;
             exit !(d1 < 0.02 && d1 > -0.02 && d2 < 0.02 && d2 > -0.02) }' || return 1
  # the still gate where the GPU scores each frame and the CPU converts its
  # picture for the gate: a gate calibrated on the ball (calibrate-only, on
  # the GPU; smpte never changes, so decent-train keeps no gate for it) gives
  # still scores from the 11th frame on, and in strict fp32 those of the CPU
  timeout 120 gst-launch-1.0 -q videotestsrc num-buffers=120 pattern=ball ! video/x-raw,width=320,height=240 ! \
    decent-train device=cuda model-location="$m" calibrate-only=true || return 1
  for d in cuda cpu; do
    got=$(DECENT_CUDA_MATH=fp32 timeout 60 gst-launch-1.0 -m videotestsrc num-buffers=50 pattern=ball ! \
      video/x-raw,width=320,height=240 ! decentanomaly model-location="$m" device=$d score-mode=local \
      message-mode=all ! fakesink 2>&1 |
      awk -F'still-score=\\(double\\)' '/decentanomaly, utc/ && NF > 1 { n++; split($2, a, /[,;]/); s += a[1] }
        END { printf "%d %.6g", n, n ? s / n : 0 }')
    echo "ball on $d, still gate: frames with a still score, their mean: $got"
    eval "s_$d=(\$got)"
  done
  [ "${s_cuda[0]}" = 40 ] && [ "${s_cpu[0]}" = 40 ] || { echo "still scores missing"; return 1; }
  awk -v a="${s_cuda[1]}" -v b="${s_cpu[1]}" \
    'BEGIN { d = b > 0 ? (a - b) / b : a - b; printf "GPU/CPU still score: %+.4f (relative)\n", d; exit !(d < 0.05 && d > -0.05) }'
}
want elements &&
  { run_logged "decent-train and decentanomaly on the GPU (device=cuda)" elements_on_gpu || failed=$((failed + 1)); }

model=/tmp/gst-decent-default.dcnt
want bench && { run_logged "engine benchmark (decent-bench --device cuda)" timeout 300 "$bench" --device cuda \
  --seconds 2 --save-default "$model" || failed=$((failed + 1)); }

# end to end: 1080p NV12 through decentanomaly, against the source alone
mflop=$(grep -o '128x96x3 model: [0-9.]* MFLOP' "$results" | grep -o '[0-9.]*' | tail -1)
pipeline() { # device mode frames
  local t0 t1
  t0=$(date +%s.%N)
  timeout 120 gst-launch-1.0 -q videotestsrc num-buffers="$3" pattern=ball ! \
    video/x-raw,format=NV12,width=1920,height=1080 ! \
    ${1:+decentanomaly model-location=$model device=$1 mode=$2 !} fakesink sync=false || return 1
  t1=$(date +%s.%N)
  awk -v n="$3" -v a="$t0" -v b="$t1" -v m="${mflop:-0}" -v d="${1:-source only}" -v o="$2" \
    'BEGIN { f = n / (b - a); printf "1080p NV12 %-12s %-11s %8.1f frames/s", d, o, f; if (d != "source only") printf "  %6.3f TFLOP/s (model)", f * m / 1e6; printf "\n" }'
}
# a step that scores with the bench step's model: false, counted, without it
with_model() { # step title
  want "$1" || return 1
  [ -f "$model" ] && return 0
  log "$2: no model $model (the bench step writes it)"; failed=$((failed + 1)); return 1
}
if with_model pipeline "1080p pipeline"; then
  {
    echo ""
    echo "==== 1080p pipeline through decentanomaly (videotestsrc ! decentanomaly ! fakesink)"
    pipeline "" "-" 600 && pipeline cuda passthrough 600 && pipeline cuda overlay 600 &&
      pipeline cpu overlay 150
  } 2>&1 | tee -a "$results" || failed=$((failed + 1))
fi

# many streams (issue 14): 16 and 64 streams of 640x480 in one gst-launch,
# each decentanomaly with a model of its own, then all sharing one engine
# (model-instance-id: the frames of all streams scored in batches of 16)
streams() { # n shared?
  local desc="" i t0 t1
  for i in $(seq "$1"); do
    desc="$desc videotestsrc num-buffers=300 pattern=ball ! video/x-raw,format=NV12,width=640,height=480 ! decentanomaly model-location=$model device=cuda ${2:+model-instance-id=gpu batch-size=16} ! fakesink sync=false"
  done
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  timeout 180 gst-launch-1.0 -q $desc || return 1
  t1=$(date +%s.%N)
  awk -v n="$1" -v a="$t0" -v b="$t1" -v k="${2:+shared engine}" \
    'BEGIN { printf "%3d streams 640x480 NV12, %-16s %9.1f frames/s in all\n", n, (k ? k : "own models"), n * 300 / (b - a) }'
}
if with_model streams "many streams"; then
  {
    echo ""
    echo "==== many streams on the GPU (issue 14), 300 frames each"
    streams 16 "" && streams 16 1 && streams 64 "" && streams 64 1
  } 2>&1 | tee -a "$results" || failed=$((failed + 1))
fi

# the paper's budget (issue 16): Fashion-MNIST, 200 epochs, loss (13) and the
# plain autoencoder, all ten classes at once on the GPU, for at most
# PAPER_SECONDS (unset: skipped); the test AUROC every 10 epochs, so a run cut
# short still says how far it got.  FASHION_DIR: the IDX files
# (/usr/share/datasets/fashion-mnist, Debian dataset-fashion-mnist).
if [ -n "${PAPER_SECONDS:-}" ]; then
  paper=${PAPER_DIR:-/tmp/gst-decent-paper}
  rm -rf "$paper" && mkdir -p "$paper"
  log ""
  log "==== Fashion-MNIST, 200 epochs, loss (13) and plain autoencoder, 10 classes at once, at most $PAPER_SECONDS s"
  variants=${PAPER_VARIANTS:-loss13:0.01 plain:0} # name:lambda, each with loss (13)
  t0=$SECONDS pids=()
  for v in $variants; do
    for k in 0 1 2 3 4 5 6 7 8 9; do
      OMP_NUM_THREADS=1 timeout "$PAPER_SECONDS" "$eval" --device cuda \
        --data "${FASHION_DIR:-/usr/share/datasets/fashion-mnist}" --class $k --epochs 200 \
        --lambda "${v#*:}" --loss 13 --curve "$paper/${v%%:*}-class$k.csv" --curve-every 10 \
        >"$paper/${v%%:*}-class$k.log" 2>&1 &
      pids+=($!)
    done
  done
  paper_failed=0
  for p in "${pids[@]}"; do # 124: cut at PAPER_SECONDS, as planned
    wait "$p"; rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || paper_failed=$((paper_failed + 1))
  done
  [ "$paper_failed" -eq 0 ] || { log "$paper_failed decent-eval runs failed (logs in $paper)"; failed=$((failed + 1)); }
  log "ran $((SECONDS - t0)) s"
  for v in $variants; do
    v=${v%%:*}
    for k in 0 1 2 3 4 5 6 7 8 9; do
      tail -n 1 "$paper/$v-class$k.csv" 2>/dev/null | awk -F, -v v=$v -v k=$k \
        '$1 ~ /^[0-9]+$/ { printf "%-7s class %d: epoch %3d AUROC %s\n", v, k, $1, $2 }'
    done
    cat "$paper"/$v-class*.csv 2>/dev/null | awk -F, -v v=$v '$1 == 200 { n++; s += $2 }
      END { if (n) printf "%-7s mean AUROC at 200 epochs over %d classes: %.4f\n", v, n, s / n }'
  done 2>&1 | tee -a "$results"
  first=${variants%% *}
  grep -h "images/s\|rror" "$paper/${first%%:*}-class0.log" | tail -n 3 | tee -a "$results"
fi

log ""
log "gpu checks: $failed failed; results in $results"
[ "$failed" -eq 0 ]
