#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every benchmark, in one run, as root: builds, runs the five sections and writes
# docs/benchmarks.md (tables, goals, profiles) and docs/benchmarks.json (raw results).
# About 12 minutes on 2 cores. Traffic stays inside namespaces it creates and deletes.
#   bash bench/run-all.sh            (BUILD_DIR=... to use another build directory)
#
#  1 compile       bench_compile: rules {10,100,1000} x endpoints {100,1000,10000}
#  2 apply         bench_apply_delta (C API, private netns): full apply + one endpoint's
#                  elements added/deleted at N = 10..10000; `netseg apply` end to end; perf
#  3 event         event_latency.py: agent vs regenerate-everything (render + nft -f)
#  4 datapath      datapath.py: no filter / netseg / iptables-nft, connrate + iperf3; perf
#  5 agent idle    event_latency.py: idle CPU and RSS at 1,000 and 10,000 endpoints
#  6 large         run_scale.sh: check and compile of 100k rules, 200k groups, 100k excepts,
#                  100k inline selectors, a 480 KB policy with 40k excepts
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build-bench}
res=$src/bench/results
tmp=$(mktemp -d /tmp/netseg-bench-all.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
[ "$(id -u)" = 0 ] || { echo "run-all.sh: needs root (network namespaces, nftables)" >&2; exit 1; }
for tool in perf iperf3 nft iptables-nft-restore python3; do
	command -v $tool >/dev/null || { echo "run-all.sh: $tool missing (apt-get install linux-perf iperf3 nftables iptables)" >&2; exit 1; }
done

step() { echo "== $(date -u +%H:%M:%S) $*" >&2; }
# Top kernel and user symbols of a perf recording: self time, then inclusive time.
perf_top() {
	local data=$1 out=$2
	shift 2
	{
		echo "# self time (perf report --no-children), top 15"
		perf report -i "$data" "$@" --no-children --sort sym --stdio -g none 2>/dev/null |
			grep -v '^#' | grep -v '^$' | head -15
		echo "# inclusive time (perf report --children), top 40"
		perf report -i "$data" "$@" --children --sort sym --stdio -g none 2>/dev/null |
			grep -v '^#' | grep -v '^$' | head -40
	} >"$out"
}

step "build ($build)"
[ -f "$build/build.ninja" ] || meson setup "$build" "$src" --buildtype=debugoptimized -Dtests=false >/dev/null
ninja -C "$build" netseg bench/bench_compile bench/bench_apply_delta bench/connrate >/dev/null
mkdir -p "$res"
rm -f "$res"/machine.json "$res"/apply_*.json "$res"/event.json "$res"/datapath.json "$res"/perf_*.txt "$res"/scale.json

# Machine and load at the start (other work on the machine shows in the numbers).
python3 - "$res/machine.json" <<'PY'
import json, os, platform, subprocess, sys, time
def sh(c):
    return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
json.dump({
    "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    "cpu": sh("lscpu | sed -n 's/^Model name: *//p'"), "cpus": os.cpu_count(),
    "mem_mib": int(sh("awk '/MemTotal/{print $2}' /proc/meminfo")) // 1024,
    "kernel": platform.release(), "debian": sh("cat /etc/debian_version"),
    "nft": sh("nft --version"), "iptables": sh("iptables --version"),
    "iperf3": sh("iperf3 --version | head -1"), "compiler": sh("cc --version | head -1"),
    "loadavg_start": open("/proc/loadavg").read().split()[:3],
    "top_start": sh("ps -eo pcpu,comm --sort=-pcpu --no-headers | head -6"),
}, open(sys.argv[1], "w"), indent=2)
PY

step "1/5 compile grid"
"$build/bench/bench_compile" -o "$res/compile.json" -r 5 >&2

step "2/5 apply: full and per change"
mkdir -p "$tmp/policy"
"$build/bench/bench_compile" -w "$tmp/policy" 1000 10000 # one policy for every N
cat >"$tmp/extra.yaml" <<'EOF'
endpoints:
  - name: bench-new
    interface: vnew0
    bridge: br0
    addresses: [10.250.0.9, "fd00:250::9"]
    labels: { app: app1, tier: t1, env: e1 }
EOF
for n in 10 100 1000 10000; do
	mkdir -p "$tmp/e$n"
	"$build/bench/bench_compile" -w "$tmp/e$n" 1000 $n
	"$build/bench/bench_apply_delta" -p "$tmp/policy/policy.yaml" -e "$tmp/e$n/endpoints.yaml" \
		-x "$tmp/extra.yaml" -i 200 -r 3 >"$res/apply_delta_$n.json"
done
# The same without the endpoint's verdict-map element (in_dispatch): what it costs.
for n in 10 10000; do
	"$build/bench/bench_apply_delta" -V -p "$tmp/policy/policy.yaml" \
		-e "$tmp/e$n/endpoints.yaml" -x "$tmp/extra.yaml" -i 200 -r 1 >"$res/apply_delta_novmap_$n.json"
done
bash "$src/bench/run_apply.sh" "$build" 1000 10000 4 >&2 # `netseg apply` end to end
cp "$src/bench/results/apply.json" "$res/apply_cli.json"
perf record -q -g -o "$tmp/perf.full" "$build/bench/bench_apply_delta" -F -r 2 \
	-p "$tmp/policy/policy.yaml" -e "$tmp/e10000/endpoints.yaml" >/dev/null 2>&1
perf_top "$tmp/perf.full" "$res/perf_full_apply.txt"
perf record -q -g -o "$tmp/perf.delta" "$build/bench/bench_apply_delta" -r 1 -i 300 \
	-p "$tmp/policy/policy.yaml" -e "$tmp/e10000/endpoints.yaml" -x "$tmp/extra.yaml" >/dev/null 2>&1
perf_top "$tmp/perf.delta" "$res/perf_delta.txt"

step "3/5 + 5/5 event to enforced, agent idle (agent vs regenerate-everything)"
python3 "$src/bench/event_latency.py" "$build/netseg" "$build/bench/bench_compile" \
	"$res/event.json" 100 1000,10000 200 200,200 10

step "4/5 datapath"
python3 "$src/bench/datapath.py" "$build/netseg" "$build/bench/bench_compile" \
	"$build/bench/connrate" "$res/datapath.json" 1000 10000 10000 3 4 2 "$tmp/perf.dp"
perf_top "$tmp/perf.dp" "$res/perf_datapath.txt" --comms connrate --percentage relative

step "6/6 large policies"
bash "$src/bench/run_scale.sh" "$build" 300

python3 - "$res/machine.json" <<'PY'
import json, subprocess, sys, time
m = json.load(open(sys.argv[1]))
m["finished_utc"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
m["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
m["top_end"] = subprocess.run("ps -eo pcpu,comm --sort=-pcpu --no-headers | head -6", shell=True,
                              capture_output=True, text=True).stdout.strip()
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
step "report"
python3 "$src/bench/report.py" "$res" "$src/docs/benchmarks.md" "$src/docs/benchmarks.json"
echo "wrote docs/benchmarks.md and docs/benchmarks.json" >&2
