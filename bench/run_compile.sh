#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Compiler benchmark: builds bench_compile and runs the R x E grid (10,100,1000 rules x
# 100,1000,10000 endpoints), 5 runs each, median time and peak RSS; JSON to bench/results/.
#   bench/run_compile.sh [BUILD_DIR] [R E]...
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
[ $# -gt 0 ] && shift
[ -d "$build" ] || meson setup "$build" "$src"
ninja -C "$build" bench/bench_compile >/dev/null
mkdir -p "$src/bench/results"
"$build/bench/bench_compile" -o "$src/bench/results/compile.json" -r 5 "$@"
echo "goal: 1000 rules x 10000 endpoints under 200 ms and 64 MiB" >&2
