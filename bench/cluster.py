#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Cluster mode costs, on one agent: remote container start -> enforced, and 100,000 remote
endpoints (initial sync, RSS, kernel elements per endpoint, one change at 100,000 vs 100).

One namespace B holds etcd (127.0.0.1) and `netseg agent --cluster`; a writer process in B
plays the other nodes, writing /netseg/v1/endpoints/remote/NAME as their agents would, and
stamps CLOCK_MONOTONIC just before each write; `nft monitor` in B stamps the element's arrival.
  python3 bench/cluster.py --bin build/netseg [--n 100000] [--samples 50]
Prints one JSON object.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "agent"))
import agentlib  # noqa: E402

WRITER = r"""
import base64, json, sys, time, urllib.request
url = "http://127.0.0.1:2379"
b = lambda s: base64.b64encode(s.encode()).decode()
def post(path, body):
    req = urllib.request.Request(url + path, json.dumps(body).encode())
    return json.loads(urllib.request.urlopen(req, timeout=60).read())
def ep(i):
    v = json.dumps({"name": f"r{i}", "labels": {"app": "web" if i % 2 else "api"},
                    "addresses": [f"10.{200 + i // 65536}.{i // 256 % 256}.{i % 256}"]})
    return {"request_put": {"key": b(f"/netseg/v1/endpoints/remote/r{i}"), "value": b(v)}}
for line in sys.stdin:
    cmd, a, c = line.split()
    a, c = int(a), int(c)
    if cmd == "bulk":
        for s in range(a, c, 120):
            post("/v3/kv/txn", {"success": [ep(i) for i in range(s, min(c, s + 120))]})
        print("ok", flush=True)
    elif cmd == "one":
        t = time.monotonic()
        post("/v3/kv/txn", {"success": [ep(a)]})
        print(t, flush=True)
    elif cmd == "del":
        post("/v3/kv/deleterange", {"key": b(f"/netseg/v1/endpoints/remote/r{a}")})
        print("ok", flush=True)
"""

POLICY = {"version": 1, "defaults": {"container_to_container": "deny", "log": "none"},
          "groups": {"web": {"labels": {"app": "web"}}, "api": {"labels": {"app": "api"}}},
          "rules": [{"name": "web-to-api", "from": "web", "to": "api", "ports": ["tcp/80"]}]}


def addr(i):
    return f"10.{200 + i // 65536}.{i // 256 % 256}.{i % 256}"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def elements(ns):
    r = agentlib.nft(["-j", "list", "sets", "inet"], ns, timeout=120)
    n = 0
    for o in json.loads(r.stdout)["nftables"]:
        s = o.get("set")
        if s and s.get("table") == "netseg":
            n += len(s.get("elem", []))
    return n


def latency(ns, w, first, samples):
    mon = agentlib.NftMonitor(ns)
    out = []
    try:
        for k in range(samples):
            i = first + k
            w.stdin.write(f"one {i} 0\n")
            w.stdin.flush()
            t0 = float(w.stdout.readline())
            end = time.monotonic() + 10
            t1 = None
            while t1 is None and time.monotonic() < end:
                t1 = mon.first(addr(i), t0)
                time.sleep(0.001)
            if t1 is not None:
                out.append(t1 - t0)
    finally:
        mon.stop()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/netseg")
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--samples", type=int, default=50)
    args = ap.parse_args()
    ns = f"nsb{os.getpid()}"
    tmp = tempfile.mkdtemp(prefix="netseg-bench-cluster.")
    procs = []
    res = {}
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        etcd = subprocess.Popen(["ip", "netns", "exec", ns, "etcd", "--data-dir", tmp + "/etcd",
                                 "--quota-backend-bytes", str(4 << 30)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(etcd)
        nb = lambda a: subprocess.run(["ip", "netns", "exec", ns, os.path.abspath(args.bin)]
                                      + a, capture_output=True, text=True)
        for _ in range(100):
            if nb(["cluster", "status", "--cluster", "http://127.0.0.1:2379"]).returncode == 0:
                break
            time.sleep(0.2)
        nb(["cluster", "add-node", "remote", "--cidr", "10.0.0.0/8", "--cluster",
            "http://127.0.0.1:2379"])
        with open(tmp + "/p.json", "w") as f:
            json.dump(POLICY, f)
        nb(["cluster", "push", "-p", tmp + "/p.json", "--cluster", "http://127.0.0.1:2379"])
        w = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", WRITER],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(w)
        os.makedirs(tmp + "/ep")
        agent = agentlib.Agent(os.path.abspath(args.bin),
                               ["--docker", "none", "--endpoints-dir", tmp + "/ep", "--control",
                                "none", "--cluster", "http://127.0.0.1:2379", "--node", "b"],
                               tmp + "/agent.log", netns=ns)
        # 100 remote endpoints, then the latency of one more, one at a time.
        w.stdin.write("bulk 0 100\n")
        w.stdin.flush()
        w.stdout.readline()
        assert agent.start(timeout=60)
        lat_small = latency(ns, w, 1000000, args.samples)
        agent.term()
        # N remote endpoints written, then an agent started against them.
        w.stdin.write(f"bulk 100 {args.n}\n")
        w.stdin.flush()
        w.stdout.readline()
        t0 = time.monotonic()
        pos = agent.logpos()
        assert agent.start(timeout=300)
        started = time.monotonic() - t0
        m = agent.wait_log(r"started: enforcing \d+ rules for (\d+) endpoints", since=pos)
        c = agent.wait_log(r"cluster: connected", since=pos, timeout=120)
        connected = time.monotonic() - t0
        # Enforced: every remote endpoint's address in the kernel (containers4 + its group).
        nelem = elements(ns)
        while nelem < 2 * args.n and time.monotonic() - t0 < 300:
            nelem = elements(ns)
        sync = time.monotonic() - t0
        res.update({
            "endpoints": args.n,
            "enforced_at_start": int(m.group(1)) if m else None,
            "agent_started_s": round(started, 2),
            "read_done_s": round(connected, 2) if c else None,
            "initial_sync_s": round(sync, 2),
            "rss_mib": round(rss_kib(agent.p.pid) / 1024, 1),
            "kernel_elements": nelem,
            "elements_per_remote_endpoint": round(nelem / args.n, 2),
        })
        lat_big = latency(ns, w, 2000000, args.samples)
        for name, xs in (("at_100", lat_small), (f"at_{args.n}", lat_big)):
            ms = sorted(x * 1000 for x in xs)
            res[f"remote_start_to_enforced_{name}"] = {
                "n": len(ms), "median_ms": round(statistics.median(ms), 2),
                "p99_ms": round(agentlib.percentile(ms, 0.99), 2)}
        a = res[f"remote_start_to_enforced_at_{args.n}"]["median_ms"]
        b = res["remote_start_to_enforced_at_100"]["median_ms"]
        res["change_cost_ratio"] = round(a / b, 2)
        agent.term()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
