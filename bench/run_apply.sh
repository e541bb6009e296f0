#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Full `netseg apply` (load, validate, compile, encode, one transaction) with R rules and E
# endpoints, timed end to end in a private network namespace: N runs, the first a fresh
# install, the rest replacements of the same tables. Prints a table and writes JSON.
#   bench/run_apply.sh [BUILD_DIR] [RULES] [ENDPOINTS] [RUNS]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
rules=${2:-1000}
endpoints=${3:-10000}
runs=${4:-11}
[ -f "$build/build.ninja" ] || meson setup "$build" "$src" >/dev/null
ninja -C "$build" netseg bench/bench_compile >/dev/null
tmp=$(mktemp -d /tmp/netseg-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$build/bench/bench_compile" -w "$tmp" "$rules" "$endpoints"
cp "$build/netseg" "$tmp/netseg"

# Each run in the same private netns: fresh install first, then replacements.
unshare -n bash -c '
	for i in $(seq '"$runs"'); do
		s=$(date +%s%N)
		"'"$tmp"'/netseg" apply -p "'"$tmp"'/policy.yaml" -e "'"$tmp"'/endpoints.yaml" \
			--bridge br-bench >/dev/null
		e=$(date +%s%N)
		echo $(( (e - s) / 1000 ))
	done
	nft list ruleset | grep -c "^\s*elements\|, *$\|^\s*[0-9a-f:.\"]" >/dev/null || true
' >"$tmp/times"

python3 - "$tmp/times" "$rules" "$endpoints" "$src/bench/results/apply.json" <<'PY'
import json, statistics, sys
times = [int(x) / 1000 for x in open(sys.argv[1]).read().split()]
rules, endpoints, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
first, rest = times[0], times[1:]
med = statistics.median(rest)
print(f"{'rules':>6} {'endps':>6} | {'first ms':>9} {'replace median ms':>18} {'min':>8} {'max':>8} | goal 500 ms")
print(f"{rules:>6} {endpoints:>6} | {first:>9.1f} {med:>18.1f} {min(rest):>8.1f} {max(rest):>8.1f} | {'met' if max(first, med) < 500 else 'MISSED'}")
import os
os.makedirs(os.path.dirname(out), exist_ok=True)
json.dump({"rules": rules, "endpoints": endpoints, "runs_ms": times, "first_ms": first,
           "replace_median_ms": med, "goal_ms": 500}, open(out, "w"), indent=2)
PY
