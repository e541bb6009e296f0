#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The agent outlives its Docker daemon: when dockerd goes away (here with --live-restore, as
# production hosts run it, so containers keep running) the agent keeps enforcing (no crash,
# no flush), reconnects when it is back, and resynchronises: a container that died
# meanwhile is released, one started since is managed.
#
#   netns nsa<PID>dr:  private dockerd (own socket, data, exec dirs; docker0 inside the ns)
#                      netseg agent --docker that socket   (tables live in this ns only)
#                      c1 (app=web) ── docker0 ── c2 (app=web, started after the restart)
set -eu
cd "$(dirname "$0")/../.."
. tests/lib.sh
bin=${1:-${NETSEG_BIN:-build/netseg}}
pfx=agent-dockerd
if [ "$(id -u)" -ne 0 ] || ! command -v dockerd >/dev/null; then
	echo "$pfx: skipped: needs root and dockerd"
	exit 77
fi
bash tests/docker/dockerd.sh >/dev/null || { echo "$pfx: skipped: no Docker"; exit 77; }
ns=${AGENT_TAG:-nsa$$}dr
dir=$(mktemp -d /tmp/netseg-dockerd-restart.XXXXXX)
# The agent reconnects as its own user (netseg, in the docker group) after dropping root.
chmod 0755 "$dir"
sock=$dir/docker.sock
dpid= apid=
D() { docker -H "unix://$sock" "$@"; }

cleanup() {
	[ -n "$apid" ] && kill "$apid" 2>/dev/null
	if [ -f "$dir/dockerd.pid" ]; then
		D rm -f "$ns-c1" "$ns-c2" >/dev/null 2>&1 || true
		local dp
		dp=$(cat "$dir/dockerd.pid" 2>/dev/null || true)
		if [ -n "$dp" ]; then
			kill "$dp" 2>/dev/null || true
			for _ in $(seq 50); do [ -e "/proc/$dp" ] || break; sleep 0.2; done
		fi
	fi
	ip netns del "$ns" 2>/dev/null || true
	umount "$dir"/exec/* "$dir"/data/* 2>/dev/null || true
	rm -rf "$dir" 2>/dev/null || true
}
trap cleanup EXIT

start_dockerd() {
	# nsenter, not ip netns exec: that remounts /sys and hides the cgroups dockerd needs.
	nsenter --net="/run/netns/$ns" setsid dockerd --host "unix://$sock" --data-root "$dir/data" \
		--exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" --iptables=false \
		--ip6tables=false --live-restore >>"$dir/dockerd.log" 2>&1 &
	for _ in $(seq 150); do D version >/dev/null 2>&1 && return 0; sleep 0.2; done
	echo "dockerd did not start:"; tail -5 "$dir/dockerd.log"
	return 1
}
has_addr() { ip netns exec "$ns" nft list set inet netseg containers4 2>/dev/null | grep -qw "$1"; }
wait_for() { # description test...
	local what=$1
	shift
	for _ in $(seq 100); do "$@" && { pass; return 0; }; sleep 0.1; done
	fail "$what"
}
wait_not() { # description test...
	local what=$1
	shift
	for _ in $(seq 100); do "$@" || { pass; return 0; }; sleep 0.1; done
	fail "$what"
}

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
start_dockerd
docker save netseg-test/busybox | D load >/dev/null
D run -d --name "$ns-c1" --label app=web netseg-test/busybox sleep 3600 >/dev/null
ip1=$(D inspect -f '{{.NetworkSettings.IPAddress}}' "$ns-c1")
c1pid=$(D inspect -f '{{.State.Pid}}' "$ns-c1")
printf 'version: 1\ndefaults: { container_to_container: deny }\ngroups:\n  web: { labels: { app: web } }\n' \
	>"$dir/policy.yaml"
# nsenter, not ip netns exec: the agent must see Docker's namespace mounts as they appear,
# as it does on a host; ip netns exec gives it a private mount namespace.
nsenter --net="/run/netns/$ns" "$bin" agent -p "$dir/policy.yaml" --docker "$sock" --control none \
	2>"$dir/agent.log" &
apid=$!
wait_for "agent starts managing c1 ($ip1)" has_addr "$ip1"
veth1=$(ip netns exec "$ns" nft list set bridge netseg ports | grep -o 'veth[0-9a-f]*' | head -n1)

# dockerd goes away (its containers with it): the agent stays, the rules stay.
kill "$(cat "$dir/dockerd.pid")"
dp=$(cat "$dir/dockerd.pid"); for _ in $(seq 100); do [ -e "/proc/$dp" ] || break; sleep 0.2; done
wait_for "agent notices the stream ended" grep -q "reconnecting" "$dir/agent.log"
check "c1 survived the daemon (live-restore)" kill -0 "$c1pid"
check "agent still running without dockerd" kill -0 "$apid"
check "tables still installed (no flush)" test "$(ip netns exec "$ns" nft list tables | grep -c netseg)" -eq 3
check "c1 still enforced while Docker is away" has_addr "$ip1"

# While dockerd is away c1 dies; when it returns c2 starts. The resync must see both.
kill -9 "$c1pid"
start_dockerd
D run -d --name "$ns-c2" --label app=web netseg-test/busybox sleep 3600 >/dev/null
ip2=$(D inspect -f '{{.NetworkSettings.IPAddress}}' "$ns-c2")
wait_for "agent reconnects" bash -c "grep -c 'docker: connected' '$dir/agent.log' | grep -q '^[2-9]'"
wait_for "c2 ($ip2) managed after the resync" has_addr "$ip2"
has_port() { ip netns exec "$ns" nft list set bridge netseg ports | grep -qw "$1"; }
wait_not "c1 (port $veth1), dead while Docker was away, released" has_port "$veth1"
check "agent never crashed" kill -0 "$apid"
if [ "$failed" -ne 0 ]; then sed "s/^/  agent: /" "$dir/agent.log" | tail -n 40; fi
summary "$pfx"
