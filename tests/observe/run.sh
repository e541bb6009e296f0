#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# netseg observability suite: decision logs, kernel counters, `netseg status` over the control
# socket and the Prometheus endpoint, with real packets in network namespaces (observe.py):
#
#     W (world) ── H [netseg agent --control SOCK --metrics 127.0.0.1:PORT]
#                  br0: c1 web-1, c2 web-2, c3 api-1, c4 db-1, c5 ci-1, c6 admin-1
#
# Usage: sudo NETSEG_BIN=./build/netseg tests/observe/run.sh   (a private copy is run)
# OBSERVE_SAMPLES=DIR keeps a real log line, status and metrics output there (for README).
# Prints ONE final line `observe: N passed, N failed`; exit 1 on failure, 77 when not root.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "observe: skipped: needs root (network namespaces, nftables)"
	echo "observe: 0 passed, 0 failed"
	exit 77
fi
NETSEG_BIN=$(realpath -m "${NETSEG_BIN:-./build/netseg}")
export OBSERVE_TAG="nso$$"
OUT=$(mktemp -d "/tmp/$OBSERVE_TAG-bin.XXXXXX")

cleanup() {
	local ns pid
	# observe.py cleans up after itself; this catches one killed hard
	for ns in $(ip netns list | awk '{print $1}' | grep "^$OBSERVE_TAG-" || true); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$OUT"
}
trap cleanup EXIT

if [ ! -x "$NETSEG_BIN" ]; then
	echo "  FAIL netseg binary $NETSEG_BIN not found"
	echo "observe: 0 passed, 1 failed"
	exit 1
fi
cp "$NETSEG_BIN" "$OUT/netseg"
set +e
"${PYTHON:-python3}" "$HERE/observe.py" --bin "$OUT/netseg"
rc=$?
set -e
exit $rc
