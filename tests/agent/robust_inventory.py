#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The endpoint inventory refuses claims it must not enforce (issue 16, findings 6 and 7).

Topology: tests/netns/topo.py (H with br0, c1..c8, world W on the uplink vw), plus a default
route in H via W, so vw is the host's uplink. The agent runs in H:
`netseg agent --docker none --endpoints-dir DIR --control SOCK -p POLICY`, policy web -> db
tcp/5432, container_to_container deny. web = c1 (vc1, 10.88.0.11), db = c2 (vc2, 10.88.0.12).

conflict   a second file `other-1` claims web's address 10.88.0.11 on c3's port vc3: it is
           refused (one log line naming both endpoints and the address, `netseg status` and
           `--json` list it); c3 sending as 10.88.0.11 to db:5432 is denied (real TCP probe),
           web still reaches db. web's file goes: other-1 is accepted in its place; web's file
           comes back: now web is refused; other-1 goes: web is accepted again.
host-ifs   endpoint files naming lo, br0 and the uplink vw are refused (logged, in status);
           host -> world, world -> host and c1 -> world traffic over vw still flows (probes).
late-if    an endpoint on an interface that does not exist yet is enforced; when a bridge of
           that name appears (rtnetlink link event), it is withdrawn and listed as refused.
bad-addr   an endpoint file with a multicast address is rejected with a located error.
Final line: `robust-inventory: N passed, N failed`.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import agentlib as al  # noqa: E402
from agentlib import topo  # noqa: E402
from topo import CONTAINERS, WORLD, HOST_LINK  # noqa: E402

PFX = "robust-inventory"
WEB, DB, OTHER = CONTAINERS["c1"], CONTAINERS["c2"], CONTAINERS["c3"]

POLICY = """version: 1
defaults:
  container_to_container: deny
  container_to_world: allow
  container_to_host: allow
  world_to_container: deny
groups:
  web: { labels: { app: web } }
  db: { labels: { app: db } }
rules:
  - name: web-db
    from: web
    to: db
    ports: [tcp/5432]
"""


def ep_yaml(name, iface, addrs, app):
    return (f"endpoints:\n  - name: {name}\n    interface: {iface}\n"
            f"    addresses: [{', '.join(addrs)}]\n    labels: {{ app: {app} }}\n")


class Suite:
    def __init__(self, binary):
        self.binary = binary
        self.passed = self.failed = 0
        self.t = topo.Topology(tag=f"nsr{os.getpid()}i")
        self.t.build()
        self.work = self.t.logdir
        self.epdir = os.path.join(self.work, "endpoints")
        os.makedirs(self.epdir)
        self.polpath = os.path.join(self.work, "policy.yaml")
        self.sock = os.path.join(self.work, "control.sock")
        self.H = self.t.ns("H")
        self.late = f"nsl{os.getpid() % 100000}"
        # vw carries H's default route: it is the host's uplink
        self.t.ip("H", ["route", "add", "default", "via", WORLD["v4"]])
        self.t.ip("H", ["-6", "route", "add", "default", "via", WORLD["v6"]])
        self.agent = al.Agent(binary, ["--docker", "none", "--endpoints-dir", self.epdir,
                                       "--control", self.sock, "-p", self.polpath],
                              os.path.join(self.work, "agent.log"), netns=self.H)

    def ok(self, cond, sec, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"  FAIL [{sec}] {what}", flush=True)
        return cond

    def write(self, name, text):
        al.atomic_write(os.path.join(self.epdir, name + ".yaml"), text)

    def remove(self, name):
        os.unlink(os.path.join(self.epdir, name + ".yaml"))

    def status(self, json_out=True):
        cmd = ["ip", "netns", "exec", self.H, self.binary, "status", "--control", self.sock]
        r = subprocess.run(cmd + (["--json"] if json_out else []), capture_output=True,
                           text=True, timeout=20)
        if r.returncode != 0:
            raise RuntimeError(f"netseg status failed: {r.stderr.strip()}")
        return json.loads(r.stdout) if json_out else r.stdout

    def refused(self):
        return {e["name"]: e for e in self.status().get("refused", [])}

    def enforced(self):
        return {e["name"] for e in self.status()["endpoints"]}

    def probe(self, sec, end, dst, port, want, src=None):
        """One real TCP probe; an error is a failure, never "blocked"."""
        p = {"id": "p", "dst": dst, "proto": "tcp", "port": port}
        if src:
            p["src"] = src
        r = self.t.probe(end, [p])["p"]
        if r["result"] == "error":
            return self.ok(False, sec, f"{end} -> {dst}:{port}: probe error {r['detail']}")
        got = "open" if r["result"] in ("open", "partial") else r["result"]
        good = got == "open" if want == "open" else got in ("blocked", "refused")
        return self.ok(good, sec, f"{end} -> {dst}:{port} (src {src or 'default'}): "
                       f"got {r['result']} ({r['detail']}), want {want}")

    def wait_for(self, fn, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if fn():
                return True
            time.sleep(0.05)
        return fn()

    # sections -------------------------------------------------------------------------------
    def s_start(self):
        sec = "start"
        al.atomic_write(self.polpath, POLICY)
        self.write("web", ep_yaml("web", WEB["port"], [WEB["v4"], WEB["v6"]], "web"))
        self.write("db", ep_yaml("db", DB["port"], [DB["v4"], DB["v6"]], "db"))
        if not self.ok(self.agent.start(), sec, "agent did not start:\n" + self.agent.excerpt()):
            return False
        self.probe(sec, "c1", DB["v4"], 5432, "open")
        self.probe(sec, "c3", DB["v4"], 5432, "blocked")
        return True

    def s_conflict(self):
        sec = "conflict"
        pos = self.agent.logpos()
        # c3 really sends as web: it holds 10.88.0.11 too, and db's reply goes to c3's MAC
        self.t.ip("c3", ["addr", "add", WEB["v4"] + "/32", "dev", "eth0"])
        self.t.ip("c3", ["neigh", "replace", DB["v4"], "lladdr", DB["mac"], "dev", "eth0"])
        self.t.ip("c2", ["neigh", "replace", WEB["v4"], "lladdr", OTHER["mac"], "dev", "eth0"])
        self.write("other-1", ep_yaml("other-1", OTHER["port"], [WEB["v4"]], "web"))
        m = self.agent.wait_log(r"endpoint 'other-1' \(file:[^)]*other-1\.yaml\) refused: "
                                r"address 10\.88\.0\.11 is already used by endpoint 'web'",
                                since=pos)
        self.ok(m, sec, "no log line naming other-1, web and 10.88.0.11:\n" +
                self.agent.excerpt(pos))
        time.sleep(0.3)
        self.probe(sec, "c3", DB["v4"], 5432, "blocked", src=WEB["v4"])
        ref = self.refused()
        self.ok("other-1" in ref and "10.88.0.11" in ref["other-1"].get("reason", "") and
                "'web'" in ref["other-1"].get("reason", ""), sec,
                f"status --json refused: {ref}")
        self.ok("other-1" not in self.enforced(), sec, "other-1 listed as enforced")
        text = self.status(json_out=False)
        self.ok("REFUSED (1)" in text and "other-1" in text, sec,
                f"netseg status shows no refused other-1:\n{text}")
        self.t.ip("c2", ["neigh", "replace", WEB["v4"], "lladdr", WEB["mac"], "dev", "eth0"])
        self.probe(sec, "c1", DB["v4"], 5432, "open")

        # the first owner goes: the refused one is reconsidered and takes the address
        pos = self.agent.logpos()
        self.remove("web")
        self.ok(self.agent.wait_log(r"endpoint 'other-1' .* accepted", since=pos), sec,
                "other-1 not accepted after web's file went:\n" + self.agent.excerpt(pos))
        self.ok(self.wait_for(lambda: "other-1" in self.enforced() and not self.refused()),
                sec, f"after web went: enforced {self.enforced()}, refused {self.refused()}")
        pos = self.agent.logpos()
        self.write("web", ep_yaml("web", WEB["port"], [WEB["v4"], WEB["v6"]], "web"))
        self.ok(self.agent.wait_log(r"endpoint 'web' .* refused: address 10\.88\.0\.11 is "
                                    r"already used by endpoint 'other-1'", since=pos), sec,
                "web coming back not refused:\n" + self.agent.excerpt(pos))
        self.remove("other-1")
        self.ok(self.wait_for(lambda: "web" in self.enforced() and not self.refused()), sec,
                f"after other-1 went: enforced {self.enforced()}, refused {self.refused()}")
        self.t.ip("c3", ["addr", "del", WEB["v4"] + "/32", "dev", "eth0"])
        time.sleep(0.3)
        self.probe(sec, "c1", DB["v4"], 5432, "open")

    def s_host_ifs(self):
        sec = "host-ifs"
        pos = self.agent.logpos()
        self.write("ep-lo", ep_yaml("ep-lo", "lo", ["10.99.0.1"], "web"))
        self.write("ep-br", ep_yaml("ep-br", "br0", ["10.88.0.99"], "web"))
        self.write("ep-up", ep_yaml("ep-up", "vw", ["10.77.0.50", "fd77::50"], "web"))
        for name, iface, what in (("ep-lo", "lo", "loopback"), ("ep-br", "br0", "bridge"),
                                  ("ep-up", "vw", "default-route")):
            self.ok(self.agent.wait_log(rf"endpoint '{name}' .* refused: interface {iface} "
                                        rf"is [^\n]*{what}", since=pos), sec,
                    f"{name} ({iface}) not refused in the log:\n" + self.agent.excerpt(pos))
        ref = self.refused()
        self.ok({"ep-lo", "ep-br", "ep-up"} <= set(ref), sec, f"status refused: {sorted(ref)}")
        self.ok(not ({"ep-lo", "ep-br", "ep-up"} & self.enforced()), sec,
                f"enforced: {sorted(self.enforced())}")
        time.sleep(0.3)
        self.probe(sec, "H", WORLD["v4"], 80, "open")
        self.probe(sec, "H", WORLD["v6"], 80, "open")
        self.probe(sec, "W", HOST_LINK["v4"], 80, "open")
        self.probe(sec, "c1", WORLD["v4"], 80, "open")
        self.probe(sec, "c1", DB["v4"], 5432, "open")

    def s_late_if(self):
        sec = "late-if"
        self.write("ep-late", ep_yaml("ep-late", self.late, ["10.88.0.98"], "web"))
        self.ok(self.wait_for(lambda: "ep-late" in self.enforced()), sec,
                f"endpoint on a missing interface not enforced: {sorted(self.enforced())}")
        pos = self.agent.logpos()
        self.t.ip("H", ["link", "add", self.late, "type", "bridge"])
        self.ok(self.agent.wait_log(rf"endpoint 'ep-late' .* withdrawn: interface {self.late} "
                                    r"is a bridge", since=pos), sec,
                "not withdrawn when it appeared as a bridge:\n" + self.agent.excerpt(pos))
        self.ok(self.wait_for(lambda: "ep-late" in self.refused() and
                              "ep-late" not in self.enforced()), sec,
                f"refused {sorted(self.refused())}")

    def s_bad_addr(self):
        sec = "bad-addr"
        pos = self.agent.logpos()
        self.write("ep-mc", ep_yaml("ep-mc", "vc4", ["224.0.0.1"], "web"))
        self.ok(self.agent.wait_log(r"ep-mc\.yaml:4:\d+: error: address '224\.0\.0\.1' is a "
                                    r"multicast address", since=pos), sec,
                "no located error for 224.0.0.1:\n" + self.agent.excerpt(pos))
        self.ok("ep-mc" not in self.enforced(), sec, "ep-mc enforced")

    def run(self):
        try:
            if self.s_start():
                for s in (self.s_conflict, self.s_host_ifs, self.s_late_if, self.s_bad_addr):
                    try:
                        s()
                    except Exception as e:  # an error in a section is a failure
                        self.ok(False, s.__name__, f"error: {e!r}")
        finally:
            self.agent.term()
            self.ok(self.agent.p is None or self.agent.p.returncode == 0, "exit",
                    f"agent exit status {self.agent.p.returncode if self.agent.p else None}")
            self.t.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("NETSEG_BIN", "build/netseg"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        print(f"{PFX}: skipped: needs root (network namespaces)")
        print(f"{PFX}: 0 passed, 0 failed")
        return 77
    s = Suite(os.path.abspath(args.bin))
    s.run()
    print(f"{PFX}: {s.passed} passed, {s.failed} failed")
    return 1 if s.failed else 0


if __name__ == "__main__":
    sys.exit(main())
