#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the libFuzzer parser harness with clang under ASan+UBSan and runs it for N seconds
# (default 60) from the seeds in fuzz/seeds plus every example. A crash, leak or sanitizer
# report fails the run and leaves the reproducer in build-fuzz/.
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-60}
if ! command -v clang >/dev/null; then
	echo "fuzz: skipped: clang is not installed"
	exit 77
fi
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false -Dbuildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-fuzz fuzz/fuzz_parse >/dev/null

corpus=build-fuzz/corpus
mkdir -p "$corpus"
cp fuzz/seeds/* "$corpus/" 2>/dev/null || true
# Every example is a seed too, tagged with its format's selector byte.
find examples -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | sort |
	while read -r f; do
		case "$f" in *.json) tag=j ;; *) tag=y ;; esac
		{ printf '%s' "$tag"; cat "$f"; } >"$corpus/example-$(echo "$f" | tr / _)"
	done

log=build-fuzz/fuzz.log
if UBSAN_OPTIONS=halt_on_error=1 build-fuzz/fuzz/fuzz_parse -max_total_time="$seconds" \
	-max_len=65536 -timeout=10 -artifact_prefix=build-fuzz/ "$corpus" >"$log" 2>&1; then
	runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || echo '?')
	echo "fuzz: $runs executions in ${seconds}s, no crash"
	echo "fuzz: 1 passed, 0 failed"
else
	tail -n 40 "$log"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
