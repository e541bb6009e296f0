#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The netseg demo without Docker: the agent enforces examples/demo on real traffic between
# network namespaces, following endpoint files as "containers" come and go.
#
#        world (10.77.0.2, .254 = "metadata")
#          │ veth, routed
#   ┌──────┴───────────── host netns ─────────────────────────┐
#   │  br0 10.88.0.1/24 fd88::1/64   netseg agent (own tables) │
#   │    ├── vdweb ── web 10.88.0.2   (app=web)                 │
#   │    ├── vdapi ── api 10.88.0.3   (app=api)                 │
#   │    └── vddb  ── db  10.88.0.4   (app=db)                  │
#   └──────────────────────────────────────────────────────────┘
# Everything lives in namespaces named nsd<PID>-*; the machine's own ruleset is never touched.
set -eu
cd "$(dirname "$0")/.."
root=$PWD
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it creates network namespaces)" >&2
	exit 1
fi
bin=${NETSEG_BIN:?set by scripts/demo.sh}

p=nsd$$
H=$p-host W=$p-world
pids=()
work=$(mktemp -d /tmp/netseg-demo.XXXXXX)
chmod 0755 "$work" # the agent reads it as its own user (netseg), not as root
mkdir "$work/eps"
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for ns in $H $W $p-web $p-api $p-db; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

nsx() { ip netns exec "$@"; }
ip netns add $H
ip netns add $W
nsx $H sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
nsx $H ip link set lo up
nsx $H ip link add br0 type bridge
nsx $H ip addr add 10.88.0.1/24 dev br0
nsx $H ip addr add fd88::1/64 dev br0 nodad
nsx $H ip link set br0 up
n=2
for c in web api db; do
	ip netns add $p-$c
	nsx $H ip link add vd$c type veth peer name eth0 netns $p-$c
	nsx $H ip link set vd$c master br0 up
	nsx $p-$c ip link set lo up
	nsx $p-$c ip addr add 10.88.0.$n/24 dev eth0
	nsx $p-$c ip addr add fd88::$n/64 dev eth0 nodad
	nsx $p-$c ip link set eth0 up
	nsx $p-$c ip route add default via 10.88.0.1
	nsx $p-$c ip -6 route add default via fd88::1
	n=$((n + 1))
done
nsx $H ip link add vworld type veth peer name eth0 netns $W
nsx $H ip addr add 10.77.0.1/24 dev vworld
nsx $H ip addr add fd77::1/64 dev vworld nodad
nsx $H ip link set vworld up
nsx $W ip link set lo up
nsx $W ip addr add 10.77.0.2/24 dev eth0
nsx $W ip addr add 10.77.0.254/24 dev eth0
nsx $W ip addr add fd77::2/64 dev eth0 nodad
nsx $W ip link set eth0 up
nsx $W ip route add 10.88.0.0/24 via 10.77.0.1
nsx $W ip -6 route add fd88::/64 via fd77::1

listen() { # netns port
	# Not through nsx: $! must be socat itself (ip netns exec execs it), not a subshell.
	ip netns exec "$1" socat -T1 TCP6-LISTEN:"$2",fork,reuseaddr,ipv6only=0 SYSTEM:'echo ok' \
		2>/dev/null &
	pids+=($!)
}
for c in web api db; do for port in 80 8080 5432; do listen $p-$c $port; done; done
listen $W 443
listen $H 22
sleep 0.5

probe() { # from-netns address port -> "open" or "blocked"
	if nsx "$1" timeout 1 bash -c "exec 3<>/dev/tcp/$2/$3 && read -t 1 -r l <&3 && [ \"\$l\" = ok ]" 2>/dev/null; then
		echo open
	else
		echo blocked
	fi
}

table() {
	printf '  %-5s %-6s %-22s %-9s %s\n' from to destination result expected
	while read -r from to addr port want; do
		ns=$p-$from
		[ "$from" = world ] && ns=$W
		[ "$from" = host ] && ns=$H
		got=$(probe "$ns" "$addr" "$port")
		mark=" "
		[ "$got" = "$want" ] || mark="!"
		printf '%s %-5s %-6s %-22s %-9s %s\n' "$mark" "$from" "$to" "$addr:$port" "$got" "$want"
	done
}

probes_before="web api 10.88.0.3 8080 open
web db 10.88.0.4 5432 open
db web 10.88.0.2 80 open
web host 10.88.0.1 22 open"
probes_after="web api 10.88.0.3 8080 open
web api fd88::3 8080 open
api db 10.88.0.4 5432 open
web db 10.88.0.4 5432 blocked
db web 10.88.0.2 80 blocked
api web 10.88.0.2 8080 blocked
web api 10.88.0.3 80 blocked
web host 10.88.0.1 22 blocked
web world 10.77.0.2 443 open
web world 10.77.0.254 443 blocked
api world fd77::254 443 blocked
host web 10.88.0.2 80 open
world web 10.88.0.2 80 open"

endpoint_file() { # name address6-suffix
	local n=$1 i=$2
	printf 'endpoints:\n  - name: %s\n    interface: vd%s\n    bridge: br0\n' "$n" "$n" >"$work/$n.tmp"
	printf '    addresses: [10.88.0.%s, "fd88::%s"]\n    labels: { app: %s }\n' "$i" "$i" "$n" >>"$work/$n.tmp"
	mv "$work/$n.tmp" "$work/eps/$n.yaml" # renamed into place: the agent reads whole files
}

failed=0
show() { # title probes
	echo "$1"
	local out
	out=$(echo "$2" | table)
	echo "$out"
	echo
	echo "$out" | grep -q '^!' && failed=1
	return 0
}

show "Without netseg, every container reaches every other:" "$probes_before"

echo "Starting 'netseg agent' with examples/demo/policy.yaml:"
sed -n '/^defaults/,$p' examples/demo/policy.yaml | sed 's/^/    /'
endpoint_file web 2
endpoint_file api 3
ip netns exec $H "$bin" agent -p examples/demo/policy.yaml --endpoints-dir "$work/eps" \
	--docker none --bridge br0 >/dev/null 2>"$work/agent.log" &
agent=$!
pids+=($agent)
for _ in $(seq 50); do grep -q 'started:' "$work/agent.log" && break; sleep 0.1; done
echo

show "web and api are known; db's interface is on br0 but unclassified, so it is isolated:" \
"web api 10.88.0.3 8080 open
api db 10.88.0.4 5432 blocked
db web 10.88.0.2 80 blocked
db world 10.77.0.2 443 blocked"

endpoint_file db 4
sleep 0.3
show "db's endpoint file appears; the agent adds its elements and the policy holds:" "$probes_after"

echo "What the agent logged:"
sed 's/^/    /' "$work/agent.log"
echo
kill -TERM $agent
wait $agent 2>/dev/null || true
echo "The agent stopped; its rules stay: $(nsx $H nft list tables | tr '\n' ' ')"
echo "Removing them with 'netseg flush':"
nsx $H "$bin" flush
if [ $failed -ne 0 ]; then
	echo "demo: some results differ from the policy" >&2
	exit 1
fi
echo "demo: every probe matched the policy"
