#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/install.sh clears its prefix before installing: it may remove only
# what its last run installed there, never anything else (a review found it
# would have run `rm -rf /usr/local` for a build with the default prefix;
# the next found that a prefix it had marked lost what was installed there
# later), and it refuses a build that installs outside its prefix.  A
# project of one installed file stands in for gst-decent (install.sh's
# checks of the plugin then fail, after the part under test).
#   bash tests/test_install_refuses.sh
set -uo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/proj"
cat >"$tmp/proj/meson.build" <<'M'
project('stand-in', version : '1')
install_data('data.txt', install_dir : get_option('datadir') / 'stand-in')
M
echo data >"$tmp/proj/data.txt"
fail=0
setup() { # build prefix [options]
  meson setup "$tmp/$1" "$tmp/proj" --prefix="$tmp/$2" "${@:3}" >"$tmp/setup.log" 2>&1 ||
    { cat "$tmp/setup.log"; echo "FAIL: meson setup $1"; exit 1; }
}
install_rc() { bash tests/install.sh "$tmp/$1" >"$tmp/out" 2>&1; echo $?; }
expect() { # what, condition...
  if "${@:2}"; then echo "ok: $1"; else echo "FAIL: $1"; cat "$tmp/out"; fail=1; fi
}

# someone's file in the prefix before any run
mkdir -p "$tmp/p1/share" && echo keep >"$tmp/p1/share/someone-elses-file"
setup b1 p1
rc=$(install_rc b1)
expect "a prefix with another's file is refused and kept (rc $rc)" \
  test "$rc" = 2 -a "$(cat "$tmp/p1/share/someone-elses-file")" = keep -a ! -e "$tmp/p1/share/stand-in"

# an empty prefix: installed and listed; a file put there afterwards stops
# the next run, which keeps it; without it, the next run installs again
mkdir "$tmp/p2"
setup b2 p2
rc=$(install_rc b2)
expect "an empty prefix is installed into and its files listed (rc $rc)" \
  grep -qx share/stand-in/data.txt "$tmp/p2/.gst-decent-install-test"
mkdir "$tmp/p2/other-app" && echo keep >"$tmp/p2/other-app/data"
rc=$(install_rc b2)
expect "a file installed there later is refused and kept (rc $rc)" \
  test "$rc" = 2 -a "$(cat "$tmp/p2/other-app/data" 2>/dev/null)" = keep
rm -r "$tmp/p2/other-app"
echo stale >"$tmp/p2/share/stand-in/data.txt"
rc=$(install_rc b2)
expect "with only its own files there, it installs again (rc $rc)" \
  test "$rc" != 2 -a "$(cat "$tmp/p2/share/stand-in/data.txt")" = data

# a libdir outside the prefix
setup b3 p3 --libdir="$tmp/elsewhere"
rc=$(install_rc b3)
expect "a libdir outside the prefix is refused (rc $rc)" test "$rc" = 2 -a ! -e "$tmp/p3"
exit $fail
