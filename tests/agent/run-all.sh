#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# netseg agent suite: the daemon (`netseg agent`) against real packets.
#
#   netns.py   endpoint files in network namespaces (no Docker); the agent runs inside the
#              "host" namespace H of tests/netns/topo.py:
#                  W (world) ── H [agent, br0: c1..c6 c9 b1..b50 vl1..vl60, br1: c7 c8]
#              truth tables vs tests/netns/oracle.py after every change of files/policy,
#              bad-policy reloads, tamper (< 1 s), kill -9 under a probe loop, SIGTERM,
#              a 50-file burst, and event-to-enforced latency (printed, not asserted)
#   docker.py  the same against Docker (tests/docker/dockerd.sh): labelled containers on
#              docker0 and user networks; stop/start/restart/connect/disconnect, kill -9,
#              tamper, 50 concurrent `docker run`s. The agent runs in the root namespace there
#              and creates only inet/bridge/arp netseg, which must not exist beforehand; they
#              and every container/network of the run are removed on exit.
#
# Usage: sudo NETSEG_BIN=./build/netseg tests/agent/run-all.sh   (a private copy is run)
# Prints ONE final line `agent: N passed, N failed`; exit 1 on any failure, 77 when not root.
# A variant that cannot run here (no Docker, or another agent owns the root namespace's
# netseg tables) prints why and counts nothing.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
if [ "$(id -u)" != 0 ]; then
	echo "agent: skipped: needs root (network namespaces, nftables, Docker)"
	echo "agent: 0 passed, 0 failed"
	exit 77
fi
NETSEG_BIN=$(realpath -m "${NETSEG_BIN:-./build/netseg}")
export AGENT_TAG="nsa$$"
PY=${PYTHON:-python3}
OUT=$(mktemp -d "/tmp/$AGENT_TAG-out.XXXXXX")
export AGENT_DOCKER_MARKER="$OUT/docker-owns-tables"

cleanup() {
	local ns pid id
	# the scripts clean up after themselves; this catches one killed hard
	for ns in $(ip netns list | awk '{print $1}' | grep "^$AGENT_TAG" || true); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	if command -v docker >/dev/null 2>&1 && docker version >/dev/null 2>&1; then
		for id in $(docker ps -aq --filter "label=nsgrun=${AGENT_TAG}d" 2>/dev/null); do
			docker rm -f "$id" >/dev/null 2>&1 || true
		done
		for id in $(docker network ls -q --filter "label=nsgrun=${AGENT_TAG}d" 2>/dev/null); do
			docker network rm "$id" >/dev/null 2>&1 || true
		done
	fi
	for f in /tmp/"$AGENT_TAG"d-logs/agent.pid; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
	done
	# root-namespace tables only if docker.py found none and created them itself
	if [ -f "$AGENT_DOCKER_MARKER" ]; then
		for fam in inet bridge arp netdev; do
			nft delete table "$fam" netseg 2>/dev/null || true
		done
	fi
	ip link del "nw$$" 2>/dev/null || true
	if [ "${NETNS_KEEP_LOGS:-0}" != 1 ]; then
		rm -rf "$OUT" /tmp/"$AGENT_TAG"*-logs
	fi
}
trap cleanup EXIT

if [ ! -x "$NETSEG_BIN" ]; then
	echo "  FAIL netseg binary $NETSEG_BIN not found"
	echo "agent: 0 passed, 1 failed"
	exit 1
fi
echo "netseg under test: $NETSEG_BIN ($(sha256sum "$NETSEG_BIN" | cut -c1-12))"
cp "$NETSEG_BIN" "$OUT/netseg"

START=$(date +%s)
# robust_*.py: regression suites for bad input and hostile peers (tests/agent/README.md); each
# prints "robust-NAME: N passed, N failed" for robust_NAME.py.
for t in netns.py docker.py dockerd_restart.sh $(cd "$HERE" && ls robust_*.py 2>/dev/null); do
	echo "### $t"
	case $t in
	netns.py) pfx=agent-netns ;;
	docker.py) pfx=agent-docker ;;
	robust_*.py) pfx=$(basename "$t" .py | tr _ -) ;;
	*) pfx=agent-dockerd ;;
	esac
	set +e
	case $t in
	*.py) "$PY" "$HERE/$t" --bin "$OUT/netseg" 2>&1 | tee "$OUT/$t.log" ;;
	*) bash "$HERE/$t" "$OUT/netseg" 2>&1 | tee "$OUT/$t.log" ;;
	esac
	rc=${PIPESTATUS[0]}
	set -e
	if [ "$rc" = 77 ]; then
		echo "### $t skipped: $(grep -E "^$pfx: skipped" "$OUT/$t.log" | tail -1)"
		continue
	fi
	add_result "$pfx" "$OUT/$t.log"
done
echo "### total $(($(date +%s) - START))s"
summary agent
