#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/install.sh empties its prefix before installing: it must refuse a
# prefix that holds files it did not put there (a review found it would
# have run `rm -rf /usr/local` for a build with the default prefix), and
# leave them as they were.
#   bash tests/test_install_refuses.sh
set -uo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/prefix/share" && echo keep >"$tmp/prefix/share/someone-elses-file"
if ! meson setup "$tmp/build" --prefix="$tmp/prefix" -Dcuda=disabled -Dintrospection=disabled \
     >"$tmp/setup.log" 2>&1; then
  cat "$tmp/setup.log"; echo "FAIL: meson setup"; exit 1
fi
bash tests/install.sh "$tmp/build" >"$tmp/out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "holds other files" "$tmp/out" \
   && [ "$(cat "$tmp/prefix/share/someone-elses-file")" = keep ] && [ ! -e "$tmp/prefix/lib" ]; then
  echo "ok: install.sh refuses a prefix with other files and leaves them (rc $rc)"
else
  cat "$tmp/out"; echo "FAIL: install.sh with a prefix holding other files: rc $rc"; exit 1
fi
