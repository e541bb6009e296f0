#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `netseg flush` restores the ruleset exactly; netseg never edits other programs' tables.
#
#   namespace H ("host"): br0 10.88.0.1/24 fd88::1/64, Docker-style iptables-nft tables
#   (ip/ip6 filter with DOCKER-USER, ip nat with DOCKER) and a user's own `inet user` table
#        |vc1
#   namespace C1: eth0 10.88.0.11/24 fd88::11/64 (the one managed container)
#
# Checks, one count each: apply exit 0; netseg's tables appear; every pre-existing table lists
# identically after apply, after a second apply, and after a failed apply; a failed (bad
# policy) apply exits 1 and leaves the ruleset as it was; flush exit 0; after flush
# `nft list ruleset` is byte-identical to before the first apply; flush twice likewise;
# apply/flush again likewise. Final line: `netns: N passed, N failed`.
set -eu

if [ "$(id -u)" != 0 ]; then
	echo "netns: skipped: flush.sh needs root"
	echo "netns: 0 passed, 0 failed"
	exit 77
fi

HERE=$(cd "$(dirname "$0")" && pwd)
NETSEG_BIN=$(realpath -m "${NETSEG_BIN:-./build/netseg}")
TAG="${NETNS_TAG:-nsg$$}f"
H="$TAG-H"
C1="$TAG-c1"
DIR=$(mktemp -d "/tmp/$TAG.XXXXXX")
PASS=0
FAIL=0

cleanup() {
	local ns pid
	for ns in "$C1" "$H"; do
		if ip netns list | grep -qw -- "$ns"; then
			for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
			ip netns del "$ns" 2>/dev/null || true
		fi
	done
	rm -rf "$DIR"
}
trap cleanup EXIT

ok() { # ok DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		PASS=$((PASS + 1))
	else
		FAIL=$((FAIL + 1))
		echo "  FAIL [flush] $what"
	fi
}

inH() { ip netns exec "$H" "$@"; }
quiet() { # run, show the output only on failure
	"$@" >"$DIR/cmd.out" 2>&1 && return 0
	local rc=$?
	sed 's/^/    /' "$DIR/cmd.out" | head -5
	return $rc
}

if [ ! -x "$NETSEG_BIN" ]; then
	echo "netns: netseg binary $NETSEG_BIN not found"
	echo "netns: 0 passed, 1 failed"
	exit 1
fi

ip netns add "$H"
ip netns add "$C1"
inH sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip -n "$H" link set lo up
ip -n "$H" link add br0 type bridge stp_state 0 forward_delay 0
ip -n "$H" addr add 10.88.0.1/24 dev br0
ip -n "$H" addr add fd88::1/64 dev br0 nodad
ip -n "$H" link set br0 up
ip -n "$H" link add vc1 type veth peer name eth0 netns "$C1"
ip -n "$H" link set vc1 master br0 up
ip -n "$C1" addr add 10.88.0.11/24 dev eth0
ip -n "$C1" addr add fd88::11/64 dev eth0 nodad
ip -n "$C1" link set eth0 up

# Docker-style tables, made the way Docker makes them (iptables-nft), plus a user's own table.
for ipt in iptables-nft ip6tables-nft; do
	inH $ipt -N DOCKER-USER
	inH $ipt -A DOCKER-USER -j RETURN
	inH $ipt -N DOCKER-ISOLATION-STAGE-1
	inH $ipt -A DOCKER-ISOLATION-STAGE-1 -j RETURN
	inH $ipt -A FORWARD -j DOCKER-USER
	inH $ipt -A FORWARD -j DOCKER-ISOLATION-STAGE-1
	inH $ipt -A FORWARD -o br0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	inH $ipt -P FORWARD DROP
	inH $ipt -t nat -N DOCKER
	inH $ipt -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
done
inH iptables-nft -t nat -A POSTROUTING -s 10.88.0.0/24 ! -o br0 -j MASQUERADE
inH nft -f - <<'EOF'
table inet user {
	set blocked { type ipv4_addr; elements = { 192.0.2.1 } }
	chain user_fwd {
		type filter hook forward priority 10; policy accept;
		ip daddr @blocked drop
	}
}
EOF

cat >"$DIR/endpoints.yaml" <<'EOF'
endpoints:
  - name: web-1
    interface: vc1
    addresses: [10.88.0.11, "fd88::11"]
    labels: { app: web }
EOF
cat >"$DIR/policy.yaml" <<'EOF'
version: 1
defaults:
  container_to_container: deny
  container_to_world: deny
rules:
  - name: web-dns
    from: { labels: { app: web } }
    to: world
    ports: [udp/53]
EOF
cat >"$DIR/bad.yaml" <<'EOF'
version: 1
rules:
  - name: broken
    from: nosuchgroup
    to: world
EOF

inH nft list ruleset 2>/dev/null >"$DIR/before"
list_others() { # every table but netseg's, one listing each
	inH nft list tables 2>/dev/null | grep -v ' netseg$' | while read -r _ fam name; do
		echo "## $fam $name"
		inH nft list table "$fam" "$name" 2>/dev/null
	done
}
list_others >"$DIR/others.before"
same() { cmp -s "$1" "$2" || { diff -u "$1" "$2" | head -40 | sed 's/^/    /'; return 1; }; }
applyp() {
	inH "$NETSEG_BIN" apply -p "$1" -e "$DIR/endpoints.yaml" >"$DIR/apply.out" 2>&1 && return 0
	local rc=$?
	sed 's/^/    netseg: /' "$DIR/apply.out" | head -5
	return $rc
}

ok "apply exits 0" applyp "$DIR/policy.yaml"
ok "netseg's tables appear after apply" sh -c "ip netns exec $H nft list tables 2>/dev/null | grep -q netseg"
list_others >"$DIR/others.1"
ok "apply left every other table as it was" same "$DIR/others.before" "$DIR/others.1"
ok "second apply exits 0" applyp "$DIR/policy.yaml"
list_others >"$DIR/others.2"
ok "second apply left every other table as it was" same "$DIR/others.before" "$DIR/others.2"

inH nft list ruleset 2>/dev/null >"$DIR/good"
rc=0
inH "$NETSEG_BIN" apply -p "$DIR/bad.yaml" -e "$DIR/endpoints.yaml" >"$DIR/apply.out" 2>&1 || rc=$?
ok "apply of an invalid policy exits 1 (got $rc)" test "$rc" = 1
inH nft list ruleset 2>/dev/null >"$DIR/after-bad"
ok "a failed apply leaves the previous ruleset" same "$DIR/good" "$DIR/after-bad"

ok "flush exits 0" quiet inH "$NETSEG_BIN" flush
inH nft list ruleset 2>/dev/null >"$DIR/after"
ok "after flush, nft list ruleset is exactly as before the first apply" same "$DIR/before" "$DIR/after"
ok "second flush exits 0" quiet inH "$NETSEG_BIN" flush
inH nft list ruleset 2>/dev/null >"$DIR/after2"
ok "after a second flush, ruleset still as before" same "$DIR/before" "$DIR/after2"
ok "apply after flush exits 0" applyp "$DIR/policy.yaml"
ok "flush again exits 0" quiet inH "$NETSEG_BIN" flush
inH nft list ruleset 2>/dev/null >"$DIR/after3"
ok "apply+flush cycle leaves the ruleset as before" same "$DIR/before" "$DIR/after3"

echo "netns: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
