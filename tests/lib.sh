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
# add_result PREFIX LOG: adds the last "PREFIX: N passed, N failed" line of a sub-suite's LOG
# to the counts; a log without one (it crashed) or with a Python traceback is one failure more.
add_result() {
	local pfx=$1 log=$2 name line
	name=$(basename "$log" .log)
	line=$(grep -E "^$pfx: [0-9]+ passed, [0-9]+ failed$" "$log" | tail -1 || true)
	if [ -z "$line" ]; then
		fail "[$name] no result line (crashed?)"
		return 0
	fi
	set -- $(echo "$line" | sed -E "s/^$pfx: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/")
	passed=$((passed + $1))
	failed=$((failed + $2))
	if grep -q "^Traceback" "$log"; then
		fail "[$name] python traceback"
	fi
	return 0
}
summary() { # suite-name
	echo "$1: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
