# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for shell test suites: counting and a final summary line.
passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass; else fail "$what"; fi
}
summary() { # suite-name
	echo "$1: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
