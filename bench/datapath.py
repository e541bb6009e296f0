#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Datapath cost between two container namespaces across a bridge, three filters side by side.

Three copies of the same topology exist at once (X = a, b, c; names carry our PID), so the
rounds can interleave the filters and the machine's noise falls on all three alike:

    c1X<PID> eth0 10.200.0.1/24        c2X<PID> eth0 10.200.0.2/24
              |                                  |
    hX<PID>   vpa ────────── br0 ─────────────── vpb        bridge-nf-call-iptables=1
              (a) table inet ctonly: forward hook, `ct state established,related accept`,
                  policy accept: no filter, but conntrack is active as in (b) and (c)
              (b) `netseg apply`: RULES generated rules over ENDPOINTS generated endpoints
                  (bench_compile -w), plus the two probe endpoints and the rule allowing the
                  probe pair, appended last (the worst place for it)
              (c) iptables-nft, a DOCKER-USER style chain jumped to from FORWARD: conntrack
                  established,related accept, then one `-s A -d B -p tcp --dport P -j ACCEPT`
                  per allowed pair (PAIRS rules, one per endpoint: a lower bound, the full
                  expansion of the policy's group-to-group rules is far longer), the probe
                  pair last (a hand-written list appends), then `-i br0 -o br0 -j DROP`

Each round measures, per filter: new TCP connections per second and connect time (bench/connrate
conn, CLIENTS parallel clients, SECS seconds), request/response latency (connrate rr: one byte
each way on one connection) and iperf3 throughput. Medians over ROUNDS rounds.
The per-netns conntrack TIME_WAIT timeout is set to 10 s in the three host namespaces alike: the
synthetic load opens ~10^5 connections a minute and would otherwise fill the global table.

Usage: datapath.py NETSEG BENCH_COMPILE CONNRATE OUT.json RULES ENDPOINTS PAIRS ROUNDS SECS CLIENTS
       [PERF_OUT]  (PERF_OUT: also profile config (b) system-wide under the connection load)
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

(netseg, bench_compile, connrate, out) = sys.argv[1:5]
rules, endpoints, pairs, rounds = (int(x) for x in sys.argv[5:9])
secs = float(sys.argv[9])
clients = int(sys.argv[10])
perf_out = sys.argv[11] if len(sys.argv) > 11 else None

PID = os.getpid()
CONFIGS = ["a", "b", "c"]
NAMES = {"a": "no filter, conntrack on", "b": f"netseg, {endpoints} endpoints, {rules} rules",
         "c": f"iptables-nft, {pairs} pair rules"}
C1, C2 = "10.200.0.1", "10.200.0.2"
CONN_PORT, RR_PORT, IPERF_PORT, CLOSED_PORT = 7000, 7001, 5201, 7009
work = tempfile.mkdtemp(prefix="netseg-datapath.")
created = []
procs = []


def ns(cfg, role):
    return f"{role}{cfg}{PID}"


def nsexec(name, *args, **kw):
    kw.setdefault("check", True)
    return subprocess.run(["ip", "netns", "exec", name, *args], **kw)


def nspopen(name, *args, **kw):
    p = subprocess.Popen(["ip", "netns", "exec", name, *args], **kw)
    procs.append(p)
    return p


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for name in reversed(created):
        subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)
    shutil.rmtree(work, ignore_errors=True)


def topology(cfg):
    h, c1, c2 = ns(cfg, "h"), ns(cfg, "c1"), ns(cfg, "c2")
    for name in (h, c1, c2):
        subprocess.run(["ip", "netns", "add", name], check=True)
        created.append(name)
    nsexec(h, "ip", "link", "add", "br0", "type", "bridge")
    nsexec(h, "ip", "link", "set", "br0", "up")
    for port, cns, addr, mac in (("vpa", c1, C1, "02:20:00:00:00:01"),
                                 ("vpb", c2, C2, "02:20:00:00:00:02")):
        nsexec(h, "ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", cns)
        nsexec(h, "ip", "link", "set", port, "master", "br0", "up")
        nsexec(cns, "ip", "link", "set", "lo", "up")
        nsexec(cns, "ip", "link", "set", "eth0", "address", mac)
        nsexec(cns, "ip", "addr", "add", f"{addr}/24", "dev", "eth0")
        nsexec(cns, "ip", "link", "set", "eth0", "up")
    for key in ("net.bridge.bridge-nf-call-iptables=1", "net.bridge.bridge-nf-call-ip6tables=1",
                "net.netfilter.nf_conntrack_tcp_timeout_time_wait=10"):
        nsexec(h, "sysctl", "-qw", key)
    nsexec(c1, "sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535")
    return h, c1, c2


def read_endpoints(path):
    """(name, first IPv4 address) of each generated endpoint, from bench_compile's YAML."""
    eps = []
    for line in open(path):
        line = line.strip()
        if line.startswith("addresses: ["):
            eps.append(line[len("addresses: ["):].split(",")[0].rstrip("]"))
    return eps


def setup_a(h):
    nsexec(h, "nft", "-f", "-", input=(
        "table inet ctonly {\n chain forward {\n  type filter hook forward priority 0; "
        "policy accept;\n  ct state established,related accept\n }\n}\n"), text=True)


def setup_b(h, gen):
    policy = os.path.join(work, "policy.yaml")
    eps = os.path.join(work, "endpoints.yaml")
    text = open(os.path.join(gen, "policy.yaml")).read()
    text += ("  - name: probe\n    from: { labels: { app: probe-client } }\n"
             "    to: { labels: { app: probe-server } }\n"
             f"    ports: [\"tcp/{CONN_PORT}-{RR_PORT}\", tcp/{IPERF_PORT}]\n")
    open(policy, "w").write(text)
    text = open(os.path.join(gen, "endpoints.yaml")).read()
    text += (f"  - name: probe-a\n    interface: vpa\n    bridge: br0\n    addresses: [{C1}]\n"
             "    labels: { app: probe-client }\n"
             f"  - name: probe-b\n    interface: vpb\n    bridge: br0\n    addresses: [{C2}]\n"
             "    labels: { app: probe-server }\n")
    open(eps, "w").write(text)
    t0 = time.monotonic()
    nsexec(h, netseg, "apply", "-p", policy, "-e", eps, stdout=subprocess.DEVNULL,
           stderr=subprocess.DEVNULL)
    return (time.monotonic() - t0) * 1e3


def setup_c(h, gen):
    addrs = read_endpoints(os.path.join(gen, "endpoints.yaml"))
    lines = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
             ":DOCKER-USER - [0:0]", "-A FORWARD -j DOCKER-USER",
             "-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    n = len(addrs)
    for i in range(pairs - 1):
        a, b = addrs[i % n], addrs[(i * 7919 + 1) % n]
        lines.append(f"-A DOCKER-USER -s {a}/32 -d {b}/32 -p tcp --dport {1024 + i % 50000} "
                     "-j ACCEPT")
    # the probe pair, last: its three ports in one rule, so it is still one rule per pair
    lines.append(f"-A DOCKER-USER -s {C1}/32 -d {C2}/32 -p tcp -m multiport --dports "
                 f"{CONN_PORT},{RR_PORT},{IPERF_PORT} -j ACCEPT")
    lines += ["-A DOCKER-USER -i br0 -o br0 -j DROP", "COMMIT", ""]
    # SAFETY: iptables-nft only ever runs inside our own namespace h.
    assert h.startswith("hc") and h in created
    t0 = time.monotonic()
    nsexec(h, "iptables-nft-restore", input="\n".join(lines), text=True)
    ms = (time.monotonic() - t0) * 1e3
    count = nsexec(h, "iptables-nft", "-S", "DOCKER-USER", capture_output=True,
                   text=True).stdout.count("\n")
    return ms, count


def probe(c1, port):
    """'open', 'refused' (RST: nothing listens, nothing filtered) or 'timeout' (dropped)."""
    r = nsexec(c1, "timeout", "1", "bash", "-c", f"exec 3<>/dev/tcp/{C2}/{port}", check=False,
               capture_output=True, text=True)
    if r.returncode == 0:
        return "open"
    return "timeout" if r.returncode == 124 else "refused"


def measure(cfg, c1):
    conn = json.loads(nsexec(c1, connrate, "conn", C2, str(CONN_PORT), str(clients), str(secs),
                             capture_output=True, text=True).stdout)
    rr = json.loads(nsexec(c1, connrate, "rr", C2, str(RR_PORT), str(max(1.0, secs / 2)),
                           capture_output=True, text=True).stdout)
    ip = nsexec(c1, "iperf3", "-c", C2, "-p", str(IPERF_PORT), "-t", str(max(2, int(secs))), "-J",
                capture_output=True, text=True, check=False)
    try:
        bps = json.loads(ip.stdout)["end"]["sum_received"]["bits_per_second"]
    except (ValueError, KeyError):
        bps = 0.0
    return {"conn_per_s": conn["per_sec"], "connect_median_us": conn["median_us"],
            "connect_p99_us": conn["p99_us"], "conn_errors": conn["errors"],
            "rr_per_s": rr["per_sec"], "rr_median_us": rr["median_us"], "rr_p99_us": rr["p99_us"],
            "iperf3_gbit_s": bps / 1e9}


try:
    gen = os.path.join(work, "gen")
    os.mkdir(gen)
    subprocess.run([bench_compile, "-w", gen, str(rules), str(endpoints)], check=True)
    topo = {cfg: topology(cfg) for cfg in CONFIGS}
    setup_a(topo["a"][0])
    setup = {"b_apply_ms": setup_b(topo["b"][0], gen)}
    setup["c_restore_ms"], setup["c_chain_rules"] = setup_c(topo["c"][0], gen)
    for cfg in CONFIGS:
        h, c1, c2 = topo[cfg]
        p = nspopen(c2, connrate, "server", C2, str(CONN_PORT), stdout=subprocess.PIPE, text=True)
        p.stdout.readline()
        nspopen(c2, "iperf3", "-s", "-p", str(IPERF_PORT), stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    # The filters are in the path: an allowed port opens everywhere, a closed port is refused
    # without a filter and dropped (timeout) by both filters.
    checks = {cfg: {"allowed": probe(topo[cfg][1], CONN_PORT),
                    "not_allowed": probe(topo[cfg][1], CLOSED_PORT)} for cfg in CONFIGS}
    runs = {cfg: [] for cfg in CONFIGS}
    for r in range(rounds):
        for cfg in CONFIGS:
            runs[cfg].append(measure(cfg, topo[cfg][1]))
            print(f"round {r + 1} ({cfg}): {runs[cfg][-1]}", file=sys.stderr)
    if perf_out:
        rec = subprocess.Popen(["perf", "record", "-q", "-a", "-g", "-o", perf_out, "--",
                                "sleep", str(secs)], stderr=subprocess.DEVNULL)
        nsexec(topo["b"][1], connrate, "conn", C2, str(CONN_PORT), str(clients), str(secs + 1),
               capture_output=True)
        rec.wait()
    med = {cfg: {k: statistics.median(run[k] for run in runs[cfg]) for k in runs[cfg][0]}
           for cfg in CONFIGS}
    ratios = {cfg: {k: (med[cfg][k] / med["a"][k] if med["a"][k] else None)
                    for k in med[cfg]} for cfg in CONFIGS}
    res = {"rules": rules, "endpoints": endpoints, "pairs": pairs, "rounds": rounds,
           "seconds": secs, "clients": clients, "names": NAMES, "setup": setup,
           "checks": checks, "runs": runs, "median": med, "ratio_to_a": ratios,
           "b_over_c_conn": med["b"]["conn_per_s"] / med["c"]["conn_per_s"]}
    json.dump(res, open(out, "w"), indent=2)
    for cfg in CONFIGS:
        print(f"({cfg}) {NAMES[cfg]}: {med[cfg]['conn_per_s']:.0f} conn/s "
              f"({ratios[cfg]['conn_per_s']:.2f}), connect median {med[cfg]['connect_median_us']}"
              f" us p99 {med[cfg]['connect_p99_us']} us, rr {med[cfg]['rr_median_us']} us, "
              f"{med[cfg]['iperf3_gbit_s']:.2f} Gbit/s; checks {checks[cfg]}", file=sys.stderr)
finally:
    cleanup()
