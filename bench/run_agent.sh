#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Agent event-to-enforced latency and memory (bench/agent_latency.py says how), as root.
#   bench/run_agent.sh [BUILD_DIR] [EVENTS] [BULK_ENDPOINTS]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
[ -f "$build/build.ninja" ] || meson setup "$build" "$src" >/dev/null
ninja -C "$build" netseg >/dev/null
exec python3 "$src/bench/agent_latency.py" "$build/netseg" "$src/bench/results/agent.json" \
	"${2:-200}" "${3:-1000}"
