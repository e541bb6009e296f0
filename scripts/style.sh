#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every C file is clang-format clean (.clang-format at the root).
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
if out=$(clang-format --dry-run -Werror $files 2>&1); then
	echo "style: $(echo "$files" | wc -w) files clang-format clean"
	echo "style: 1 passed, 0 failed"
else
	echo "$out" | grep 'error:' | cut -d: -f1 | sort -u | sed 's/^/not formatted: /'
	echo "style: 0 passed, 1 failed"
	exit 1
fi
