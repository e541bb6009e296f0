#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Sets up and runs every netseg test: installs packages, builds a normal and an
# ASan+UBSan build, runs the check suites in both, the CLI tests, the kernel truth tables in
# network namespaces, the agent against endpoint files and real Docker, the style check and
# the parser fuzzer. Ends with one line "N passed, N failed" summed
# over every suite, and exits non-zero if anything failed.
set -eu
cd "$(dirname "$0")/.."
root=$PWD
results=$(mktemp /tmp/netseg-results.XXXXXX)
trap 'rm -f "$results"' EXIT

record() { # stage passed failed [skipped]
	echo "$1 $2 $3 ${4:-0}" >>"$results"
	printf '== %s: %s passed, %s failed%s\n' "$1" "$2" "$3" "${4:+, $4 skipped}"
}

bash scripts/deps.sh

setup() { # dir [meson options...]
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/tmp/netseg-setup.$$.log 2>&1 || { cat /tmp/netseg-setup.$$.log; exit 1; }
	fi
	if ! ninja -C "$dir" >"$dir/ninja.log" 2>&1; then
		grep -E 'error|FAILED' "$dir/ninja.log" | head -n 20
		echo "== build in $dir failed"
		echo "0 passed, 1 failed"
		exit 1
	fi
}

# Runs the check suites of a build and records per-test-case counts from check's summaries.
run_suites() { # stage builddir
	local stage=$1 dir=$2 rc=0
	meson test -C "$dir" --no-rebuild --print-errorlogs >/dev/null 2>&1 || rc=$?
	python3 scripts/count-suites.py "$dir/meson-logs/testlog.json" | while read -r p f s; do
		record "$stage" "$p" "$f" "$s"
	done
	[ $rc -eq 0 ] || echo "== $stage: meson test exited $rc; see $dir/meson-logs/testlog.txt"
}

echo "== building"
setup build -Dbuildtype=debugoptimized
run_suites unit build

setup build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run_suites unit-asan build-asan

# Shell and Python suites print a final "NAME: N passed, N failed" line.
run_script() { # stage command...
	local stage=$1 out rc=0 line
	shift
	out=$(mktemp)
	set +e
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	set -e
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$out" | tail -n1 || true)
	if [ "$rc" -eq 77 ]; then
		record "$stage" 0 0 1
	elif [ -z "$line" ]; then
		echo "== $stage: no summary line (exit $rc)"
		record "$stage" 0 1
	else
		set -- $(echo "$line" | sed -E 's/^[A-Za-z-]+: //; s/ passed, / /; s/ failed.*//')
		[ "$rc" -ne 0 ] && [ "$2" -eq 0 ] && set -- "$1" 1
		record "$stage" "$1" "$2"
	fi
	rm -f "$out"
}

NETSEG_BIN=$root/build/netseg run_script cli bash tests/cli/run.sh
NETSEG_BIN=$root/build-asan/netseg run_script cli-asan bash tests/cli/run.sh
NETSEG_BIN=$root/build/netseg run_script netns bash tests/netns/run-all.sh
NETSEG_BIN=$root/build/netseg run_script agent bash tests/agent/run-all.sh
NETSEG_BIN=$root/build/netseg run_script observe bash tests/observe/run.sh
run_script style bash scripts/style.sh
run_script fuzz bash scripts/fuzz.sh "${NETSEG_FUZZ_SECONDS:-150}"

read -r passed failed skipped < <(awk '{p+=$2; f+=$3; s+=$4} END {print p+0, f+0, s+0}' "$results")
[ "$skipped" -gt 0 ] && echo "($skipped suites skipped; reasons above)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
