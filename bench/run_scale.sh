#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Large policies: `netseg check` and `netseg compile` on five shapes (bench/gen_scale.py),
# seconds and peak RSS of each; a table on stderr and bench/results/scale.json.
#   bench/run_scale.sh [BUILD_DIR] [LIMIT_SECONDS] [OUT_JSON]   (a run over the limit is recorded
#   as such; OUT_JSON defaults to bench/results/scale.json, e.g. scale_before.json for a base build)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
limit=${2:-300}
out=${3:-$src/bench/results/scale.json}
bin=$build/netseg
tmp=$(mktemp -d /tmp/netseg-scale.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$src/bench/results"
rows=()
for shape in "rules 100000" "groups 200000" "excepts 100000" "inline 100000" "bigexcept 40000"; do
	set -- $shape
	python3 "$src/bench/gen_scale.py" "$1" "$2" "$tmp/$1.yaml"
	for cmd in check compile; do
		rc=0
		/usr/bin/time -f "%e %M" -o "$tmp/time" timeout "$limit" "$bin" $cmd -p "$tmp/$1.yaml" \
			>/dev/null 2>"$tmp/err" || rc=$?
		read -r secs kb < <(tail -1 "$tmp/time") || { secs=$limit kb=0; }
		[ "$rc" = 124 ] && secs=">$limit"
		rows+=("$1 $2 $(stat -c %s "$tmp/$1.yaml") $cmd $secs $kb $rc")
		echo "scale: $1 $2 $cmd: $secs s, $((kb / 1024)) MiB (exit $rc)" >&2
	done
	rm -f "$tmp/$1.yaml"
done
printf '%s\n' "${rows[@]}" | python3 -c '
import json, sys
out = []
for ln in sys.stdin:
    shape, n, size, cmd, secs, kb, rc = ln.split()
    out.append({"shape": shape, "n": int(n), "bytes": int(size), "command": cmd,
                "seconds": secs if secs.startswith(">") else float(secs),
                "max_rss_mib": round(int(kb) / 1024, 1), "exit": int(rc)})
json.dump(out, open(sys.argv[1], "w"), indent=1)
' "$out"
echo "goal: 100k rules check <= 2 s, compile <= 5 s, <= 500 MB peak RSS" >&2
