#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian 12 packages netseg needs to build and test (as root). Quiet when all are
# already there, so repeated runs cost a dpkg query, not an apt-get.
set -eu

packages=(
	build-essential meson ninja-build pkg-config
	libnftnl-dev libmnl-dev libnl-3-dev libnl-route-3-dev libjansson-dev libyaml-dev check
	clang libclang-rt-14-dev clang-format
	nftables iptables iproute2 procps python3 busybox-static socat iperf3 curl
	python3-prometheus-client
	docker.io
	python3-jsonschema python3-yaml # tools: tests/cli/schema.py checks docs/netseg-policy.schema.json
	libseccomp-dev # privs: the agent's own seccomp allow-list (agent/sandbox.c)
	systemd # privs: systemd-analyze security rates packaging/netseg.service (tests/cli)
	libcurl4-openssl-dev etcd-server etcd-client # cluster: libcurl is a well-kept HTTP client (TLS, streaming, multi on epoll); etcd for tests/cluster
	libnetfilter-queue-dev # fqdn: NFQUEUE message helpers (nfq_nlmsg_*) over libmnl
)
[ "${NETSEG_DEPS_EXTRA:-}" ] && packages+=($NETSEG_DEPS_EXTRA)

# privs: the agent drops to the system user netseg (packaging/netseg.sysusers makes the same);
# the docker group, once Docker is installed, gives it the Docker socket. Idempotent.
ensure_user() {
	if ! getent passwd netseg >/dev/null; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "deps: no user netseg; run as root to create it" >&2
			return 1
		fi
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin --comment "netseg agent" netseg
		echo "deps: created system user netseg"
	fi
	if getent group docker >/dev/null && ! id -nG netseg | tr ' ' '\n' | grep -qx docker; then
		[ "$(id -u)" -eq 0 ] || return 0
		usermod -a -G docker netseg
		echo "deps: added netseg to the docker group"
	fi
}

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	ensure_user
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
ensure_user
