#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Agent benchmark, in a private network namespace:

  host netns nsb<PID>:  br0 ── vb0..vbN (new veths, one per event)
                        netseg agent --endpoints-dir D --docker none

1. The agent starts with BULK endpoints (one file) and we read its RSS.
2. EVENTS times: a new veth joins br0 (isolated by the fail-closed rules), its endpoint file
   is renamed into D, and we stop the clock when `nft monitor` shows its address committed
   to containers4. Then the file is removed and we time the delete the same way.
Prints a table and writes JSON. Usage: agent_latency.py NETSEG_BIN OUT.json [EVENTS] [BULK]
"""
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

netseg, out = sys.argv[1], sys.argv[2]
events = int(sys.argv[3]) if len(sys.argv) > 3 else 200
bulk = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
ns = f"nsb{os.getpid()}"
work = tempfile.mkdtemp(prefix="netseg-agent-bench.")
epdir = os.path.join(work, "eps")
os.mkdir(epdir)
procs = []


def sh(*args):
    subprocess.run(["ip", "netns", "exec", ns, *args], check=True)


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
    shutil.rmtree(work, ignore_errors=True)


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def endpoint(i, prefix, a, b):
    app = ("web", "api", "db")[i % 3]
    return (f"  - name: {prefix}{i}\n    interface: {prefix}{i}\n    bridge: br0\n"
            f"    addresses: [10.{a}.{i // 250}.{i % 250 + 1}, \"fd00:{b}::{i + 1:x}\"]\n"
            f"    labels: {{ app: {app} }}\n")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


try:
    subprocess.run(["ip", "netns", "add", ns], check=True)
    sh("ip", "link", "add", "br0", "type", "bridge")
    sh("ip", "link", "set", "br0", "up")
    policy = os.path.join(work, "policy.yaml")
    with open(policy, "w") as f:
        f.write("version: 1\ndefaults: { container_to_container: deny }\n"
                "groups:\n  web: { labels: { app: web } }\n  api: { labels: { app: api } }\n"
                "  db: { labels: { app: db } }\n"
                "rules:\n  - { name: web-api, from: web, to: api, ports: [tcp/8080] }\n"
                "  - { name: api-db, from: api, to: db, ports: [tcp/5432] }\n")
    with open(os.path.join(epdir, "bulk.yaml"), "w") as f:
        f.write("endpoints:\n" + "".join(endpoint(i, "bk", 100, 100) for i in range(bulk)))

    mon = subprocess.Popen(["ip", "netns", "exec", ns, "nft", "monitor"],
                           stdout=subprocess.PIPE, text=True, bufsize=1)
    procs.append(mon)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put((time.monotonic(), l)) for l in mon.stdout],
                     daemon=True).start()
    log = open(os.path.join(work, "agent.log"), "w")
    agent = subprocess.Popen(["ip", "netns", "exec", ns, netseg, "agent", "-p", policy,
                              "--endpoints-dir", epdir, "--docker", "none"],
                             stdout=log, stderr=subprocess.STDOUT)
    procs.append(agent)
    deadline = time.time() + 30
    while "started:" not in open(os.path.join(work, "agent.log")).read():
        if time.time() > deadline or agent.poll() is not None:
            sys.exit("agent did not start: " + open(os.path.join(work, "agent.log")).read())
        time.sleep(0.05)
    time.sleep(0.5)
    rss_bulk = rss_kib(agent.pid)

    def wait_for(text, t0):
        while True:
            try:
                t, line = lines.get(timeout=10)
            except queue.Empty:
                sys.exit("no commit seen for " + text + "; agent log:\n" + open(os.path.join(work, "agent.log")).read()[-3000:])
            if text in line and t >= t0:
                return t - t0

    add_ms, del_ms = [], []
    for i in range(events):
        sh("ip", "link", "add", f"vb{i}", "type", "veth", "peer", "name", f"vp{i}")
        sh("ip", "link", "set", f"vb{i}", "master", "br0", "up")
        tmp = os.path.join(work, f"ep{i}.tmp")
        with open(tmp, "w") as f:
            f.write("endpoints:\n" + endpoint(i, "vb", 101, 101))
        while not lines.empty():
            lines.get_nowait()
        t0 = time.monotonic()
        os.rename(tmp, os.path.join(epdir, f"ep{i}.yaml"))
        add_ms.append(wait_for(f"10.101.{i // 250}.{i % 250 + 1}", t0) * 1e3)
    rss_after = rss_kib(agent.pid)
    for i in range(0, events, 2):  # half of them leave again
        while not lines.empty():
            lines.get_nowait()
        t0 = time.monotonic()
        os.unlink(os.path.join(epdir, f"ep{i}.yaml"))
        del_ms.append(wait_for(f"delete element inet netseg containers4 {{ 10.101.{i // 250}.{i % 250 + 1}", t0) * 1e3)

    res = {
        "events": events, "bulk_endpoints": bulk,
        "add_ms": {"median": statistics.median(add_ms), "p99": pct(add_ms, 99), "max": max(add_ms)},
        "delete_ms": {"median": statistics.median(del_ms), "p99": pct(del_ms, 99), "max": max(del_ms)},
        "rss_kib": {"with_bulk": rss_bulk, "after_events": rss_after},
        "goals": {"add_p99_ms": 5, "rss_mib_at_1000": 32},
    }
    print(f"{'measure':<44} {'median':>8} {'p99':>8} {'max':>8}  goal")
    print(f"{'new veth + endpoint file -> committed (ms)':<44} {res['add_ms']['median']:>8.2f} "
          f"{res['add_ms']['p99']:>8.2f} {res['add_ms']['max']:>8.2f}  p99 < 5 ms: "
          f"{'met' if res['add_ms']['p99'] < 5 else 'MISSED'}")
    print(f"{'endpoint file removed -> deleted (ms)':<44} {res['delete_ms']['median']:>8.2f} "
          f"{res['delete_ms']['p99']:>8.2f} {res['delete_ms']['max']:>8.2f}")
    print(f"agent RSS with {bulk} endpoints: {rss_bulk / 1024:.1f} MiB (goal < 32 MiB: "
          f"{'met' if rss_bulk < 32 * 1024 else 'MISSED'}); after {events} more: "
          f"{rss_after / 1024:.1f} MiB")
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    json.dump(res, open(out, "w"), indent=2)
finally:
    cleanup()
