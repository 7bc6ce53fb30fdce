#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The installed plugin works from its prefix with nothing but
# GST_PLUGIN_PATH: `meson install` of a build (configured with a scratch
# prefix to test, e.g. tests/run.sh's build-test), then, in an empty
# environment, gst-inspect, a training run and a detection run from the
# prefix, the installed decent-detect, and no CUDA library among the
# plugin's.  So that the check sees only this install, the files the last
# run installed (listed in the prefix's .gst-decent-install-test) are
# removed first; a prefix holding any other file is refused, as is a build
# that installs outside its prefix: it never deletes what it did not put
# there (it once emptied the whole prefix, /usr/local by default).
#   bash tests/install.sh BUILD_DIR
set -euo pipefail
build=${1:?build folder, configured with --prefix}
opt() { meson introspect --buildoptions "$build" |
  python3 -c "import json,sys; print(next(o['value'] for o in json.load(sys.stdin) if o['name']=='$1'))"; }
prefix=$(opt prefix) libdir=$(opt libdir)
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
refuse() {
  echo "tests/install.sh: $*; configure $build with a scratch prefix" \
    "(meson configure $build -Dprefix=/tmp/p)" >&2
  exit 2
}
for dir in libdir bindir includedir datadir mandir; do
  case $(opt $dir) in /*) case $(opt $dir)/ in "$prefix"/*) ;; *)
    refuse "its $dir $(opt $dir) lies outside its prefix $prefix" ;; esac ;; esac
done
mark=$prefix/.gst-decent-install-test # the files the last run installed, one a line
if [ -e "$prefix" ]; then
  others=$(cd "$prefix" && find . ! -type d | sed 's#^\./##' |
    grep -vxF -f <(echo .gst-decent-install-test; cat .gst-decent-install-test 2>/dev/null) |
    head -3 || true)
  [ -z "$others" ] || refuse "$prefix holds files it did not install (${others//$'\n'/, }…)"
  if [ -f "$mark" ]; then
    (cd "$prefix" && xargs -d '\n' -r rm -f -- <.gst-decent-install-test)
    find "$prefix" -mindepth 1 -depth -type d -empty -delete
  fi
fi
mkdir -p "$prefix"
meson install -C "$build" --quiet >/dev/null
# what it installed under the prefix, relative to it, for the next run
grep -v '^#' "$build/meson-logs/install-log.txt" | while IFS= read -r f; do
  case $f in "$prefix"/*) [ -d "$f" ] || echo "${f#"$prefix"/}" ;; esac
done >"$mark"
plugin=$libdir/gstreamer-1.0/libgstdecent.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # what, command...
  if "${@:2}" >"$tmp/out" 2>&1; then echo "ok: $1"; else echo "FAIL: $1"; cat "$tmp/out"; fail=1; fi
}
clean() { env -i PATH=/usr/bin:/bin HOME="$tmp" GST_PLUGIN_PATH="$libdir/gstreamer-1.0" \
  GST_REGISTRY="$tmp/registry.bin" GST_PLUGIN_SYSTEM_PATH_1_0= \
  GST_PLUGIN_PATH_1_0="$libdir/gstreamer-1.0:$(pkg-config --variable=pluginsdir gstreamer-1.0)" "$@"; }

echo "installed into $prefix:"
sed 's/^/  /' "$mark"
# (ldd's output is taken whole first: under pipefail, grep -q leaving the
# pipe at its first match can fail ldd with SIGPIPE, and the check with it)
resolves() { ! grep -q 'not found' <<<"$(ldd "$plugin")"; }
meta_from_prefix() { grep -q "$libdir/libgstdecentmeta-1.0" <<<"$(ldd "$plugin")"; }
no_cuda() { ! grep -Eq 'libcudart|libcudnn|libcuda' <<<"$(ldd "$plugin")"; }
inspect() {
  clean gst-inspect-1.0 decentanomaly >/dev/null && clean gst-inspect-1.0 decent-train >/dev/null \
    && clean gst-inspect-1.0 decentpublish
}
train() {
  clean gst-launch-1.0 -q videotestsrc num-buffers=40 pattern=ball ! \
    video/x-raw,width=64,height=48 ! decent-train model-location="$tmp/m.dcnt" width=32 \
    height=24 epochs=2 min-steps=0 base-channels=8 max-channels=16 latent-side=3
}
detect() { # one score message a frame
  clean gst-launch-1.0 -m videotestsrc num-buffers=20 pattern=ball ! \
    video/x-raw,width=64,height=48 ! decentanomaly model-location="$tmp/m.dcnt" \
    message-mode=all ! fakesink |
    grep -c 'decentanomaly, ' | grep -qx 20
}
module() { # the installed CUDA module is found (and says whether a GPU is there)
  clean GST_DEBUG=decentanomaly:4 gst-launch-1.0 videotestsrc num-buffers=2 ! \
    video/x-raw,width=64,height=48 ! decentanomaly model-location="$tmp/m.dcnt" ! fakesink \
    2>&1 | grep 'device=auto: ' | tee /dev/stderr | grep -vq 'CUDA module'
}
tool() {
  head -c $((64 * 48 * 3 * 10)) /dev/urandom >"$tmp/f.rgb"
  clean "$prefix/bin/decent-detect" --model "$tmp/m.dcnt" --input "$tmp/f.rgb" --raw 64x48
}
check "the plugin's libraries all resolve" resolves
check "the meta library comes from the prefix" meta_from_prefix
check "no CUDA library is linked into the plugin" no_cuda
check "gst-inspect-1.0 finds the three elements" inspect
check "training from the prefix writes a model" train
check "detection from the prefix scores every frame" detect
check "the installed decent-detect runs" tool
man_pages() { # installed where man looks under the prefix
  for page in decent-detect record-events; do
    grep -q "^\.TH ${page^^} 1" "$prefix/share/man/man1/$page.1" || return 1
  done
}
check "the programs' manual pages are installed" man_pages
gi_probe() { # the installed typelib from Python, in a pad probe
  clean GI_TYPELIB_PATH="$libdir/girepository-1.0" LD_LIBRARY_PATH="$libdir" \
    /usr/bin/python3 "$(dirname "$0")/../examples/meta_probe.py" "$tmp/m.dcnt" 2 |
    grep -c '^frame [01] score ' | grep -qx 2
}
if [ -f "$libdir/girepository-1.0/GstDecentMeta-1.0.typelib" ]; then
  check "Python reads the meta through the installed typelib" gi_probe
fi
if [ -f "$libdir/gst-decent/libdecent-cuda.so" ]; then
  check "the installed CUDA module is the one loaded" module
fi
[ $fail = 0 ] && echo "install test passed" || echo "install test FAILED"
exit $fail
