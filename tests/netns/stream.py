#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Re-applying never opens a window and never breaks established connections.

Topology: topo.py (H, br0/br1, c1..c8, W). Policies, alternated 100 times with
`ip netns exec H netseg apply`:
  A: container_to_container deny; allow web-1 -> web-2 tcp/80, tcp/7000, tcp/7001
  B: container_to_container deny; deny  web-1 -> web-2 tcp/80;  allow tcp/7000 only
While that runs:
  - c1 -> c2:7000 (allowed by both) and c1 -> c2:7001 (allowed by A only, opened under A)
    stream data from c2; both must survive: no reset, no EOF, no gap > 1 s, data still
    flowing after the last apply (Meaning 1: established connections always pass);
  - c3 -> c4:80, c5 -> c6:443, c2 -> c1:80/443 (denied by both) are hammered with new
    connections from 4 threads each; a denied pair must never connect;
  - after each apply, a fresh c1 -> c2:80 must follow the policy just applied (A open,
    B blocked): the new ruleset is in force when apply returns.
Final line: `netns: N passed, N failed`.
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import topo  # noqa: E402
import scenarios  # noqa: E402

N_APPLIES = int(os.environ.get("NETNS_STREAM_APPLIES", "100"))


def main():
    topo.require_root()
    binary = os.path.abspath(os.environ.get("NETSEG_BIN", "./build/netseg"))
    passed = failed = 0

    def ok(cond, msg):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print(f"  FAIL [stream] {msg}", flush=True)
        return cond

    if not os.access(binary, os.X_OK):
        print(f"netns: netseg binary {binary} not found")
        print("netns: 0 passed, 1 failed")
        return 1
    t = topo.Topology(tag=os.environ.get("NETNS_TAG", f"nsg{os.getpid()}") + "s").build()
    d = t.logdir
    eps = scenarios.write_endpoints(os.path.join(d, "endpoints.yaml"))
    web = {"web1": {"name": "web-1"}, "web2": {"name": "web-2"}}
    pa = {"version": 1, "defaults": {"container_to_container": "deny"}, "groups": web,
          "rules": [{"name": "a-web", "from": "web1", "to": "web2", "ports": ["tcp/80"]},
                    {"name": "a-stream", "from": "web1", "to": "web2", "ports": ["tcp/7000"]},
                    {"name": "a-stream2", "from": "web1", "to": "web2", "ports": ["tcp/7001"]}]}
    pb = {"version": 1, "defaults": {"container_to_container": "deny"}, "groups": web,
          "rules": [{"name": "b-stream", "from": "web1", "to": "web2", "ports": ["tcp/7000"]},
                    {"name": "b-no-web", "from": "web1", "to": "web2", "ports": ["tcp/80"],
                     "action": "deny"}]}
    paths = {}
    for k, doc in (("A", pa), ("B", pb)):
        paths[k] = os.path.join(d, f"policy-{k}.yaml")
        scenarios.write_doc(paths[k], doc)

    def apply(k):
        r = subprocess.run(["ip", "netns", "exec", t.ns("H"), binary, "apply", "-p", paths[k],
                            "-e", eps], capture_output=True, text=True, timeout=60)
        return ok(r.returncode == 0, f"apply {k} exit {r.returncode}: {r.stderr.strip()[:300]}")

    if not apply("A"):
        print(f"netns: {passed} passed, {failed} failed")
        return 1
    c1, c2 = topo.CONTAINERS["c1"], topo.CONTAINERS["c2"]
    srv = t.spawn("c2", [topo.PY, os.path.join(topo.HERE, "stream_peer.py"), "server",
                         "7000,7001"], stdout=subprocess.PIPE, text=True)
    assert srv.stdout.readline().startswith("ready")
    stop = os.path.join(d, "stream.stop")
    peer = os.path.join(topo.HERE, "stream_peer.py")
    clients = {}
    for name, dst, port in (("s7000v4", c2["v4"], 7000), ("s7001v4", c2["v4"], 7001),
                            ("s7000v6", c2["v6"], 7000), ("s7001v6", c2["v6"], 7001)):
        out = os.path.join(d, f"{name}.json")
        p = t.spawn("c1", [topo.PY, peer, "client", dst, str(port), out, stop],
                    stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        ok(line.startswith("connected"), f"stream {name} could not connect under A: {line!r}")
        clients[name] = (p, out)
    hammers = {}
    for name, src, dst, port in (
            ("c3>c4:80v4", "c3", topo.CONTAINERS["c4"]["v4"], 80),
            ("c3>c4:80v6", "c3", topo.CONTAINERS["c4"]["v6"], 80),
            ("c5>c6:443v4", "c5", topo.CONTAINERS["c6"]["v4"], 443),
            ("c2>c1:80v4", "c2", c1["v4"], 80),  # reverse of the allowed pair
            ("c2>c1:443v6", "c2", c1["v6"], 443)):
        out = os.path.join(d, f"hammer-{name.replace(':', '_').replace('>', '-')}.json")
        p = t.spawn(src, [topo.PY, peer, "hammer", dst, str(port), out, stop],
                    stdout=subprocess.PIPE, text=True)
        p.stdout.readline()
        hammers[name] = (p, out)

    t0 = time.monotonic()
    wrong = []
    for i in range(N_APPLIES):
        k = "B" if i % 2 == 0 else "A"
        if not apply(k):
            continue
        want = "open" if k == "A" else "blocked"
        rs = t.probe("c1", [{"id": fam, "dst": c2[fam], "proto": "tcp", "port": 80,
                             "src": None} for fam in ("v4", "v6")], 0.3 if k == "B" else 2.0)
        for fam, r in sorted(rs.items()):
            if r["result"] == want:
                passed += 1
            else:
                failed += 1
                wrong.append(f"after apply #{i + 1} ({k}) c1 -> c2 tcp/80 {fam}: "
                             f"expected {want}, got {r['result']} ({r['detail']})")
    t_apply = time.monotonic() - t0
    for w in wrong[:10]:
        print(f"  FAIL [stream] {w}")
    last_apply = time.time()
    time.sleep(1.5)
    with open(stop, "w"):
        pass
    for name, (p, out) in list(clients.items()) + list(hammers.items()):
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    for name, (p, out) in clients.items():
        try:
            with open(out) as f:
                r = json.load(f)
        except (OSError, ValueError) as e:
            ok(False, f"stream {name}: no result ({e})")
            continue
        ok(r["error"] is None, f"stream {name} broke during re-applies: {r['error']}")
        ok(r["max_gap"] < 1.0, f"stream {name} stalled {r['max_gap']:.2f}s during re-applies")
        ok(r["last"] is not None and r["last"] > last_apply + 0.5,
           f"stream {name} not flowing after the last apply (last data "
           f"{(r['last'] or 0) - last_apply:+.2f}s from it, {r['bytes']} bytes total)")
        print(f"  stream {name}: {r['bytes'] / 1e6:.1f} MB, max gap {r['max_gap'] * 1000:.0f} ms")
    for name, (p, out) in hammers.items():
        try:
            with open(out) as f:
                r = json.load(f)
        except (OSError, ValueError) as e:
            ok(False, f"hammer {name}: no result ({e})")
            continue
        ok(r["attempts"] > 20, f"hammer {name}: only {r['attempts']} attempts")
        ok(r["successes"] == 0, f"denied {name} connected {r['successes']} times during "
           f"re-applies: {r['details'][:5]}")
        print(f"  denied {name}: {r['attempts']} attempts, {r['successes']} connected")
    # the survival claim is only worth something if B really refuses new 7001 connections
    apply("B")
    for fam in ("v4", "v6"):
        r = t.probe("c1", [{"id": "n", "dst": c2[fam], "proto": "tcp", "port": 7001,
                            "src": None}], 0.8)["n"]
        ok(r["result"] == "blocked", f"under B a new c1 -> c2 tcp/7001 {fam} must be "
           f"blocked, got {r['result']}")
    print(f"stream.py: {N_APPLIES} applies in {t_apply:.1f}s")
    print(f"netns: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
