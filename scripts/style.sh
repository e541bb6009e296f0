#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every C file is clang-format clean (.clang-format at the root), no #include crosses a layer
# (scripts/layers.sh), and the layer check still refuses a planted violation (its self-test).
set -eu
cd "$(dirname "$0")/.."
passed=0
failed=0
for step in "bash scripts/layers.sh" "bash scripts/layers.sh --self-test"; do
	if $step; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
if out=$(clang-format --dry-run -Werror $files 2>&1); then
	echo "style: $(echo "$files" | wc -w) files clang-format clean"
	passed=$((passed + 1))
else
	echo "$out" | grep 'error:' | cut -d: -f1 | sort -u | sed 's/^/not formatted: /'
	failed=$((failed + 1))
fi
echo "style: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
