#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# netseg kernel test suite: real packets between network namespaces.
#
#                         W (world: 10.77.0.2 .3 .254, fd77::2 ::3 ::254)
#                         | routed veth
#   H (host; netseg runs here) vw 10.77.0.1
#     br0 10.88.0.1/24 fd88::1/64             br1 10.89.0.1/24 fd89::1/64
#      c1  c2  c3  c4  c5  c6  (c9 c10 unknown)  c7  c8
#
#   run.py     truth tables: ~16 scenarios x ~2000 probes (tcp/udp/icmp, v4/v6) vs oracle.py,
#              anti-spoofing (IPv4, IPv6, ARP), fail-closed unknown interfaces, bridge-nf sysctls
#   stream.py  100 alternating re-applies: established streams survive, denied pairs never open
#   flush.sh   flush restores `nft list ruleset` exactly; other tables (Docker's) untouched
#
# Every namespace is named nsg<PID>..., everything is removed on exit (trap), nothing touches the
# root namespace's ruleset: netseg itself runs inside H. NETSEG_BIN (default ./build/netseg,
# relative to the current directory) is the binary under test. Prints ONE final line
# `netns: N passed, N failed` (summed) and exits non-zero on any failure; 77 when not root.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
if [ "$(id -u)" != 0 ]; then
	echo "netns: skipped: needs root (network namespaces, nftables)"
	echo "netns: 0 passed, 0 failed"
	exit 77
fi
export NETSEG_BIN=$(realpath -m "${NETSEG_BIN:-./build/netseg}")
export NETNS_TAG="nsg$$"
PY=${PYTHON:-python3}
OUT=$(mktemp -d "/tmp/$NETNS_TAG-out.XXXXXX")

cleanup() {
	local ns pid
	# the scripts clean up after themselves; this catches a script killed hard
	for ns in $(ip netns list | awk '{print $1}' | grep "^$NETNS_TAG" || true); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$OUT" "/tmp/$NETNS_TAG"*-logs
}
trap cleanup EXIT

# Test one binary throughout: a rebuild during the run (ninja relinking) must not make an
# apply fail half way, so run a private copy.
if [ -x "$NETSEG_BIN" ]; then
	echo "netseg under test: $NETSEG_BIN ($(sha256sum "$NETSEG_BIN" | cut -c1-12))"
	cp "$NETSEG_BIN" "$OUT/netseg"
	NETSEG_BIN="$OUT/netseg"
fi

START=$(date +%s)
for t in neigh_headroom.py run.py stream.py flush.sh; do
	echo "### $t"
	case $t in
	*.py) cmd=("$PY" "$HERE/$t") ;;
	*.sh) cmd=(bash "$HERE/$t") ;;
	esac
	# sub-results are renamed so that the summed line below is the only `netns:` line
	"${cmd[@]}" 2>&1 | tee "$OUT/$t.log" | sed -u "s/^netns: /$t: /" || true
	add_result netns "$OUT/$t.log"
done
echo "### total $(($(date +%s) - START))s"
summary netns
