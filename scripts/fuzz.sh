#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the libFuzzer harnesses (fuzz/fuzz_*.c) with clang under ASan+UBSan and runs each,
# seeded from fuzz/seeds/NAME/ (plus, for the policy parser, every example).
#
#   scripts/fuzz.sh [SECONDS]        CI: SECONDS is the TOTAL budget (default
#                                    $NETSEG_FUZZ_SECONDS, else 150), split evenly across
#                                    the harnesses, at least 5 s each. Prints one line per
#                                    harness and "fuzz: N passed, N failed" (a pass: no crash,
#                                    leak, timeout or sanitizer report).
#   scripts/fuzz.sh --long MINUTES [RESULTS]
#                                    each harness for MINUTES minutes; executions, execs/s,
#                                    coverage and the verdict per harness go to RESULTS
#                                    (default bench/results/fuzz-long.txt) and stdout.
#
# Corpora grow in build-fuzz/corpus/NAME across runs. A failing harness leaves its
# reproducer as build-fuzz/crash/NAME-crash-* (rerun: build-fuzz/fuzz/fuzz_NAME FILE) and its
# log as build-fuzz/fuzz-NAME.log; commit a reproducer under fuzz/seeds/NAME/ with the fix.
set -eu
cd "$(dirname "$0")/.."
mode=ci
if [ "${1:-}" = --long ]; then
	mode=long
	minutes=${2:?usage: scripts/fuzz.sh --long MINUTES [RESULTS]}
	results=${3:-bench/results/fuzz-long.txt}
	per=$((minutes * 60))
fi
harnesses=$(sed -n "/^fuzz_harnesses = \[/,/^\]/s/^  '\([a-z_]*\)',\$/\1/p" fuzz/meson.build)
count=$(echo "$harnesses" | wc -w)
if [ "$mode" = ci ]; then
	total=${1:-${NETSEG_FUZZ_SECONDS:-150}}
	per=$((total / count))
	[ "$per" -ge 5 ] || per=5
fi
if ! command -v clang >/dev/null; then
	echo "fuzz: skipped: clang is not installed"
	exit 77
fi
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false -Dbuildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
targets=$(for h in $harnesses; do echo "fuzz/fuzz_$h"; done)
if ! ninja -C build-fuzz $targets >build-fuzz/ninja-fuzz.log 2>&1; then
	grep -E 'error|FAILED' build-fuzz/ninja-fuzz.log | head -n 20
	echo "fuzz: 0 passed, $count failed"
	exit 1
fi

mkdir -p build-fuzz/corpus build-fuzz/crash
# The policy parser's corpus also holds every example, tagged with its format's selector byte.
seed_examples() {
	find examples -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | sort |
		while read -r f; do
			case "$f" in *.json) tag=j ;; *) tag=y ;; esac
			{ printf '%s' "$tag"; cat "$f"; } >"$1/example-$(echo "$f" | tr / _)"
		done
}

[ "$mode" = long ] && {
	mkdir -p "$(dirname "$results")"
	printf '# scripts/fuzz.sh --long %s on %s, %s (%s)\n' "$minutes" "$(hostname)" \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(git rev-parse --short HEAD)" >"$results"
	printf '%-14s %12s %10s %8s %8s %s\n' harness execs execs/s seconds cov verdict >>"$results"
}
passed=0 failed=0
for h in $harnesses; do
	corpus=build-fuzz/corpus/$h log=build-fuzz/fuzz-$h.log
	mkdir -p "$corpus"
	[ -d "fuzz/seeds/$h" ] && cp fuzz/seeds/"$h"/* "$corpus/" 2>/dev/null
	[ "$h" = parse ] && seed_examples "$corpus"
	rm -f build-fuzz/crash/"$h"-*
	start=$(date +%s)
	rc=0
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		build-fuzz/fuzz/fuzz_"$h" -max_total_time="$per" -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build-fuzz/crash/"$h"- \
		"$corpus" >"$log" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n1 | grep -oE '[0-9]+' || true)
	rate=$(awk -v e="${execs:-0}" -v s="$secs" 'BEGIN { printf "%d", (s > 0 ? e / s : e) }')
	if [ "$rc" -eq 0 ]; then
		verdict=pass
		passed=$((passed + 1))
		echo "fuzz: $h: ${execs:-?} executions in ${secs}s (${rate}/s), cov ${cov:-?}, no crash"
	else
		verdict="FAIL (exit $rc)"
		failed=$((failed + 1))
		grep -E -A12 '^==[0-9]+==ERROR|runtime error|deadly signal|Timeout|out-of-memory' \
			"$log" | head -n 40 || tail -n 40 "$log"
		echo "fuzz: $h: FAILED; reproducer: $(ls build-fuzz/crash/"$h"-* 2>/dev/null |
			tr '\n' ' ')log: $log"
	fi
	[ "$mode" = long ] && printf '%-14s %12s %10s %8s %8s %s\n' "$h" "${execs:-?}" "$rate" \
		"$secs" "${cov:-?}" "$verdict" >>"$results"
done
[ "$mode" = long ] && echo "fuzz: results in $results"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
