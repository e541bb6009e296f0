#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The netseg demo, as root on Debian 12: installs what it needs, builds, then shows the agent
# enforcing examples/demo on real traffic: against real Docker containers when a Docker
# daemon is running, otherwise against network namespaces and endpoint files.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it creates network namespaces and nftables tables)" >&2
	exit 1
fi
bash scripts/deps.sh
build=${NETSEG_BUILD_DIR:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" netseg >/dev/null
export NETSEG_BIN=$PWD/$build/netseg

if [ "${NETSEG_DEMO:-}" != netns ] && timeout 5 docker info >/dev/null 2>&1; then
	echo "== A Docker daemon is running: the demo uses real containers."
	exec bash scripts/demo-docker.sh
fi
echo "== No Docker daemon running: the demo uses network namespaces and endpoint files."
echo "   (start dockerd, or set NETSEG_DEMO=netns to choose)"
exec bash scripts/demo-netns.sh
