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
	libnetfilter-queue-dev # fqdn: NFQUEUE message helpers (nfq_nlmsg_*) over libmnl
)
[ "${NETSEG_DEPS_EXTRA:-}" ] && packages+=($NETSEG_DEPS_EXTRA)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
