#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The netseg demo with real Docker: the agent follows Docker's events and enforces
# examples/demo on containers labelled app=web/api/db on a network of their own.
#
#   root netns: netseg agent --docker /var/run/docker.sock (tables inet/bridge/arp netseg)
#   network nsdemo<PID> (bridge br-…):  web ── api ── db   (netseg-banner listeners)
#
# Probes run from inside each container's network namespace (nsenter). Everything this
# script made (containers, network, netseg's tables, the agent) is removed on exit.
set -eu
cd "$(dirname "$0")/.."
bin=${NETSEG_BIN:?set by scripts/demo.sh}
tag=nsdemo$$
work=$(mktemp -d /tmp/netseg-demo.XXXXXX)
chmod 0755 "$work" # the agent reads it as its own user (netseg), not as root
agent=
if nft list table inet netseg >/dev/null 2>&1; then
	echo "demo: netseg's tables already exist in this namespace (another agent?); not touching them" >&2
	exit 1
fi

cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	docker rm -f $(docker ps -aq --filter "label=netseg-demo=$tag") >/dev/null 2>&1 || true
	docker network rm "$tag" >/dev/null 2>&1 || true
	"$bin" flush >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

bash tests/docker/dockerd.sh >/dev/null
docker network create --label "netseg-demo=$tag" "$tag" >/dev/null
run() { # name app
	docker run -d --name "$tag-$1" --label "netseg-demo=$tag" --label "app=$2" \
		--network "$tag" netseg-test/busybox netseg-banner ok 80 8080 5432 >/dev/null
}
run web web
run api api
run db db
ip_of() { docker inspect -f "{{(index .NetworkSettings.Networks \"$tag\").IPAddress}}" "$tag-$1"; }
pid_of() { docker inspect -f '{{.State.Pid}}' "$tag-$1"; }
sleep 1

probe() { # from-container address port
	if nsenter -t "$(pid_of "$1")" -n timeout 1 bash -c \
		"exec 3<>/dev/tcp/$2/$3 && read -t 1 -r l <&3 && [ \"\$l\" = ok ]" 2>/dev/null; then
		echo open
	else
		echo blocked
	fi
}
failed=0
table() {
	printf '  %-5s %-5s %-20s %-9s %s\n' from to destination result expected
	while read -r from to port want; do
		got=$(probe "$from" "$(ip_of "$to")" "$port")
		mark=" "
		[ "$got" = "$want" ] || { mark="!"; failed=1; }
		printf '%s %-5s %-5s %-20s %-9s %s\n' "$mark" "$from" "$to" "$(ip_of "$to"):$port" "$got" "$want"
	done
}

echo "Three containers on Docker network $tag; without netseg they all reach each other:"
printf 'web api 8080 open\nweb db 5432 open\ndb web 80 open\n' | table
echo
echo "Starting 'netseg agent --docker /var/run/docker.sock' with examples/demo/policy.yaml"
"$bin" agent -p examples/demo/policy.yaml --docker /var/run/docker.sock 2>"$work/agent.log" &
agent=$!
for _ in $(seq 50); do grep -q 'started:' "$work/agent.log" && break; sleep 0.1; done
sleep 0.5
echo
echo "With netseg (! marks a result that differs from the policy):"
table <<'P'
web api 8080 open
api db 5432 open
web db 5432 blocked
db web 80 blocked
api web 8080 blocked
web api 80 blocked
P
echo
echo "A new container starts while the agent runs; it is enforced from its first packet:"
run web2 web
sleep 1
printf 'web2 api 8080 open\nweb2 db 5432 blocked\n' | table
echo
echo "What the agent logged:"
grep -v "^$" "$work/agent.log" | sed 's/^/    /' | tail -n 12
[ $failed -eq 0 ] && echo "demo: every probe matched the policy" || { echo "demo: some results differ" >&2; exit 1; }
