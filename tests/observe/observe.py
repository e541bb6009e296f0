#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Observability of `netseg agent`: decision logs, kernel counters, the control socket
(`netseg status`) and the Prometheus endpoint, against real packets in network namespaces.

Topology: tests/netns/topo.py (imported), the agent inside H with endpoint files for c1..c6:

      H [netseg agent -p POL --endpoints-dir EPS --docker none --control SOCK
                      --metrics 127.0.0.1:PORT]   stdout -> decisions.jsonl, stderr -> agent.log
      br0 ── vc1 (c1 web-1) vc2 (c2 web-2) vc3 (c3 api-1) vc4 (c4 db-1) vc5 (ci-1) vc6 (admin-1)
      br1 ── vc7 vc8 (unmanaged here)

Policy (defaults.log: deny; c2c deny):
  web-to-db    allow web -> db tcp/5432        not logged (allow, log follows defaults)
  web-to-api   allow web -> api tcp/8080       log: true  (an allowed decision that is logged)
  no-http-db   deny containers -> db tcp/80    logged
  no-udp-db    deny web -> db udp/5353         logged; the counters and the flood use it

Sections: status (agrees with the endpoint files and the kernel), deny-log (one denied
connection = one line, right rule and containers), allow-log, counters (exact packet and byte
deltas), flood (100,000 denied packets: bounded lines, exact suppressed count, status < 100 ms
throughout), kernel-agree, control (0600, non-root refused at the socket and by SO_PEERCRED,
silent clients dropped), metrics (parsed as Prometheus text by prometheus_client; loopback
only without --metrics-allow-remote).
Final line: `observe: N passed, N failed`.
"""

import argparse
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "agent"))

import agentlib as al  # noqa: E402
from agentlib import topo, scenarios  # noqa: E402
from topo import CONTAINERS  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # Debian's python3-prometheus-client, under another interpreter
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        text_string_to_metric_families = None

PFX = "observe"
FLOOD = 100000
POLICY = """# tests/observe
version: 1
defaults:
  container_to_container: deny
  container_to_world: allow
  container_to_host: allow
  world_to_container: deny
  log: deny
groups:
  web: { labels: { app: web } }
  db: { labels: { app: db } }
  api: { labels: { app: api } }
rules:
  - name: web-to-db
    from: web
    to: db
    ports: [tcp/5432]
  - name: web-to-api
    from: web
    to: api
    ports: [tcp/8080]
    log: true
  - name: no-http-db
    from: containers
    to: db
    ports: [tcp/80]
    action: deny
  - name: no-udp-db
    from: web
    to: db
    ports: [udp/5353]
    action: deny
"""
MANAGED = ("c1", "c2", "c3", "c4", "c5", "c6")

# Sends N UDP datagrams of SIZE bytes from one source port, as fast as the socket takes them.
SENDER = """
import socket, sys
dst, port, n, size, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_INET6 if ':' in dst else socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('', sport))
buf = b'x' * size
sent = 0
while sent < n:
    try:
        s.sendto(buf, (dst, port))
        sent += 1
    except (BlockingIOError, OSError):
        pass
print(sent)
"""


class ObsAgent(al.Agent):
    """The agent with its stdout (the decision log) kept apart from its stderr."""

    def __init__(self, binary, args, log, decisions, netns):
        super().__init__(binary, args, log, netns=netns)
        self.decisions = decisions

    def start(self, timeout=15):
        pos = self.logpos()
        err = open(self.log, "a")
        out = open(self.decisions, "a")
        self.p = subprocess.Popen(self.cmd(), stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        err.close()
        out.close()
        self.starts += 1
        ok = self.wait_log(r"started: enforcing", since=pos, timeout=timeout)
        self.note_exit()
        return ok


def ask(path, timeout=5.0):
    """One status request over the control socket: (seconds, parsed reply or raw text)."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(b"status\n")
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    dt = time.monotonic() - t0
    raw = b"".join(chunks).decode()
    try:
        return dt, json.loads(raw)
    except ValueError:
        return dt, raw


class Suite:
    def __init__(self, binary):
        self.bin = binary
        self.tally = al.Tally()
        tag = os.environ.get("OBSERVE_TAG", f"nso{os.getpid()}")
        self.t = topo.Topology(tag=tag)
        self.t.build()
        self.work = self.t.logdir
        self.epdir = os.path.join(self.work, "endpoints")
        os.makedirs(self.epdir)
        self.pol = os.path.join(self.work, "policy.yaml")
        with open(self.pol, "w") as f:
            f.write(POLICY)
        self.eps = {e["name"]: e for e in scenarios.endpoints()}
        self.names = {}
        for name, end in scenarios.END_OF.items():
            self.names[end] = name
            if end in MANAGED:
                with open(os.path.join(self.epdir, f"{name}.yaml"), "w") as f:
                    f.write("# tests/observe\n" +
                            scenarios.to_yaml({"endpoints": [self.eps[name]]}))
        self.H = self.t.ns("H")
        # the directory does not exist: the agent makes it, 0700
        self.sock = os.path.join(self.work, "run", "control.sock")
        self.port = 19000 + os.getpid() % 20000
        self.decisions = os.path.join(self.work, "decisions.jsonl")
        self.agent = ObsAgent(binary, ["-p", self.pol, "--endpoints-dir", self.epdir,
                                       "--docker", "none", "--control", self.sock,
                                       "--metrics", f"127.0.0.1:{self.port}"],
                              os.path.join(self.work, "agent.log"), self.decisions, self.H)
        self.sport = 30000

    def ok(self, cond, section, text):
        return self.tally.ok(cond, section, text)

    def next_sport(self):
        self.sport += 1
        return self.sport

    # helpers ----------------------------------------------------------------------------------
    def lines(self):
        out = []
        with open(self.decisions) as f:
            for ln in f:
                out.append(json.loads(ln))
        return out

    def status(self):
        dt, st = ask(self.sock)
        if not isinstance(st, dict):
            raise RuntimeError(f"status: not JSON: {st!r}")
        return st

    @staticmethod
    def counter(st, name):
        for key in ("rules", "defaults"):
            for o in st[key]:
                if o.get("name") == name or o.get("category") == name or o["counter"] == name:
                    return o
        raise KeyError(name)

    def send_udp(self, end, dst, port, n, size, sport=None):
        r = self.t.nsexec(end, [sys.executable, "-c", SENDER, dst, str(port), str(n), str(size),
                                str(sport or self.next_sport())], timeout=300)
        return int(r.stdout.strip())

    def probe(self, end, dst, proto, port):
        res = self.t.probe(end, [{"id": "p", "dst": dst, "proto": proto, "port": port}])
        return res["p"]["result"]

    def wait_lines(self, pred, n, timeout=3.0):
        end = time.monotonic() + timeout
        while True:
            got = [ln for ln in self.lines() if pred(ln)]
            if len(got) >= n or time.monotonic() > end:
                return got
            time.sleep(0.05)

    def kernel_counters(self):
        """name -> [packets, bytes] summed over netseg's tables in H, from `nft -j`."""
        out = {}
        for fam in ("inet", "bridge", "arp"):
            r = al.nft(["-j", "list", "counters", "table", fam, "netseg"], self.H)
            if r.returncode != 0:
                continue
            for item in json.loads(r.stdout)["nftables"]:
                c = item.get("counter")
                if c:
                    acc = out.setdefault(c["name"], [0, 0])
                    acc[0] += c["packets"]
                    acc[1] += c["bytes"]
        return out

    # sections ---------------------------------------------------------------------------------
    def s_start(self):
        sec = "start"
        ok = self.agent.start()
        self.ok(ok is not None, sec, f"agent starts (alive={self.agent.alive()})")
        if not ok:
            print(self.agent.excerpt())
            return False
        addrs = []
        for end in MANAGED:
            addrs += [CONTAINERS[end]["v4"], CONTAINERS[end]["v6"]]
        self.ok(al.wait_elements(addrs, (), self.H, 5) is not None, sec,
                "every endpoint file is enforced")
        return True

    def s_status(self):
        sec = "status"
        st = self.status()
        want = {self.names[e]: self.eps[self.names[e]] for e in MANAGED}
        got = {e["name"]: e for e in st["endpoints"]}
        self.ok(set(got) == set(want), sec, f"status endpoints {sorted(got)} == endpoint files "
                f"{sorted(want)}")
        for name, e in want.items():
            g = got.get(name, {})
            self.ok(sorted(g.get("addresses", [])) == sorted(e["addresses"]) and
                    g.get("labels") == e["labels"] and g.get("interface") == e["interface"],
                    sec, f"{name}: addresses, labels and interface as in its file "
                    f"(got {g})")
        groups = {g["name"]: sorted(g["members"]) for g in st["groups"]}
        exp = {"web": ["web-1", "web-2"], "db": ["db-1"], "api": ["api-1"]}
        self.ok(groups == exp, sec, f"groups with members {groups} == {exp}")
        rules = [r["name"] for r in st["rules"]]
        self.ok(rules == ["web-to-db", "web-to-api", "no-http-db", "no-udp-db"], sec,
                f"rules in policy order: {rules}")
        last = st["reconcile"]["last"]
        self.ok(last and last["kind"] == "full" and last["duration_ms"] > 0, sec,
                f"last reconcile reported with its duration: {last}")
        # the CLI: table and --json
        r = subprocess.run([self.bin, "status", "--control", self.sock], capture_output=True,
                           text=True, timeout=10)
        self.ok(r.returncode == 0 and "ENDPOINTS (6)" in r.stdout and "no-udp-db" in r.stdout,
                sec, f"`netseg status` prints the tables (rc {r.returncode}, "
                f"{r.stderr.strip()})")
        with open(os.path.join(self.work, "status.txt"), "w") as f:
            f.write(r.stdout)
        r = subprocess.run([self.bin, "status", "--json", "--control", self.sock],
                           capture_output=True, text=True, timeout=10)
        try:
            j = json.loads(r.stdout)
        except ValueError:
            j = None
        self.ok(r.returncode == 0 and j and len(j["endpoints"]) == 6, sec,
                "`netseg status --json` prints the document")
        r = subprocess.run([self.bin, "status", "--control", self.sock + ".nope"],
                           capture_output=True, text=True, timeout=10)
        self.ok(r.returncode == 1 and "not running" in r.stderr and
                len(r.stderr.strip().splitlines()) == 1, sec,
                f"no agent: exit 1, one clear line: {r.stderr.strip()!r}")

    def s_deny_log(self):
        sec = "deny-log"
        c1, c4 = CONTAINERS["c1"], CONTAINERS["c4"]
        before = self.counter(self.status(), "no-http-db")["packets"]
        n0 = len(self.lines())
        # one TCP connect, given up before the SYN's first retransmission (1 s)
        res = self.probe("c1", c4["v4"], "tcp", 80)
        self.ok(res == "blocked", sec, f"web-1 -> db-1 tcp/80 is blocked ({res})")
        time.sleep(1.2)
        new = self.lines()[n0:]
        mine = [ln for ln in new if ln.get("rule") == "no-http-db"]
        self.ok(len(mine) == 1, sec, f"exactly one log line for the denied connection "
                f"(got {len(mine)} of {len(new)} new: {new[:3]})")
        if mine:
            ln = mine[0]
            src, dst = ln["src"], ln["dst"]
            self.ok(ln["verdict"] == "drop" and ln["proto"] == "tcp" and
                    src["addr"] == c1["v4"] and dst["addr"] == c4["v4"] and dst["port"] == 80,
                    sec, f"verdict, protocol, addresses and port: {ln}")
            self.ok(src.get("container", {}).get("name") == "web-1" and
                    src["container"].get("labels") == self.eps["web-1"]["labels"] and
                    dst.get("container", {}).get("name") == "db-1" and
                    dst["container"].get("labels") == self.eps["db-1"]["labels"], sec,
                    f"both ends attributed to their containers with labels: {ln}")
            with open(os.path.join(self.work, "deny-line.json"), "w") as f:
                f.write(json.dumps(ln) + "\n")
        after = self.counter(self.status(), "no-http-db")["packets"]
        self.ok(after - before == 1, sec, f"r_no-http-db moved by exactly 1 ({before} -> {after})")
        # a default decides: world -> container is denied and logged as the default
        n0 = len(self.lines())
        res = self.probe("W", c4["v6"], "tcp", 443)
        time.sleep(0.5)
        mine = [ln for ln in self.lines()[n0:] if ln.get("default") == "world_to_container"]
        self.ok(res == "blocked" and len(mine) == 1 and "container" not in mine[0]["src"] and
                mine[0]["dst"].get("container", {}).get("name") == "db-1", sec,
                f"world -> db-1 [v6] logged once as the world_to_container default: {mine}")

    def s_allow_log(self):
        sec = "allow-log"
        c1, c3, c4 = CONTAINERS["c1"], CONTAINERS["c3"], CONTAINERS["c4"]
        n0 = len(self.lines())
        res = self.probe("c1", c4["v4"], "tcp", 5432)
        time.sleep(0.5)
        new = self.lines()[n0:]
        self.ok(res == "open", sec, f"web-1 -> db-1 tcp/5432 allowed ({res})")
        self.ok(not any(ln.get("rule") == "web-to-db" for ln in new), sec,
                f"an allowed connection the policy does not log gives no line ({new})")
        n0 = len(self.lines())
        res = self.probe("c1", c3["v6"], "tcp", 8080)
        time.sleep(0.5)
        mine = [ln for ln in self.lines()[n0:] if ln.get("rule") == "web-to-api"]
        self.ok(res == "open", sec, f"web-1 -> api-1 tcp/8080 allowed ({res})")
        self.ok(len(mine) == 1 and mine[0]["verdict"] == "accept" and
                mine[0]["src"]["addr"] == c1["v6"] and
                mine[0]["dst"].get("container", {}).get("name") == "api-1", sec,
                f"an allowed connection of a `log: true` rule: one accept line ({mine})")

    def s_counters(self):
        sec = "counters"
        c1, c4 = CONTAINERS["c1"], CONTAINERS["c4"]
        st0 = self.status()
        b_udp, b_db = self.counter(st0, "no-udp-db"), self.counter(st0, "web-to-db")
        n, size = 7, 100
        sent = self.send_udp("c1", c4["v4"], 5353, n, size)
        for _ in range(3):
            self.probe("c1", c4["v4"], "tcp", 5432)
        time.sleep(0.3)
        st1 = self.status()
        a_udp, a_db = self.counter(st1, "no-udp-db"), self.counter(st1, "web-to-db")
        dp, db = a_udp["packets"] - b_udp["packets"], a_udp["bytes"] - b_udp["bytes"]
        self.ok(sent == n and dp == n and db == n * (20 + 8 + size), sec,
                f"r_no-udp-db: +{dp} packets, +{db} bytes for {n} datagrams of {size} bytes "
                f"(want +{n}, +{n * (20 + 8 + size)})")
        dc = a_db["packets"] - b_db["packets"]
        self.ok(dc == 3, sec, f"r_web-to-db: +{dc} packets for 3 connections (only the "
                f"first packet of a connection meets the rules)")

    def s_flood(self):
        sec = "flood"
        c2, c4 = CONTAINERS["c2"], CONTAINERS["c4"]
        st0 = self.status()
        b = self.counter(st0, "no-udp-db")
        n0 = len([ln for ln in self.lines() if ln.get("rule") == "no-udp-db"])
        lat, errs, stop = [], [], threading.Event()

        def poll():
            while not stop.is_set():
                try:
                    dt, st = ask(self.sock, timeout=2)
                    lat.append(dt if isinstance(st, dict) else 9.0)
                except OSError as e:
                    errs.append(str(e))
                time.sleep(0.02)

        th = threading.Thread(target=poll)
        th.start()
        t0 = time.monotonic()
        sent = self.send_udp("c2", c4["v4"], 5353, FLOOD, 16)
        elapsed = time.monotonic() - t0
        time.sleep(0.5)
        stop.set()
        th.join()
        time.sleep(0.5)
        st1 = self.status()
        a = self.counter(st1, "no-udp-db")
        lines = [ln for ln in self.lines() if ln.get("rule") == "no-udp-db"][n0:]
        dp = a["packets"] - b["packets"]
        ds = a["suppressed"] - b["suppressed"]
        dl = a["logged"] - b["logged"]
        lost = st1["decisions"]["lost"] - st0["decisions"]["lost"]
        print(f"  flood: {sent} datagrams in {elapsed:.2f}s; {len(lines)} log lines, "
              f"suppressed +{ds} ({a.get('suppressed_source')}), lost +{lost}; status "
              f"{al.summary_ms(lat) if lat else 'no answers'}", flush=True)
        self.ok(sent == FLOOD and dp == FLOOD, sec, f"the counter saw every packet: +{dp} "
                f"(sent {sent})")
        bound = 20 + 10 * (elapsed + 1.5) + 5
        self.ok(0 < len(lines) <= bound, sec, f"log lines bounded by the kernel's rate limit: "
                f"{len(lines)} <= {bound:.0f}")
        self.ok(dl == len(lines), sec, f"status counts the lines written: +{dl} == "
                f"{len(lines)}")
        self.ok(ds + len(lines) + lost == FLOOD, sec, f"suppressed + logged + lost = packets: "
                f"{ds} + {len(lines)} + {lost} == {FLOOD}")
        self.ok(lat and not errs and max(lat) < 0.1, sec,
                f"status answered within 100 ms during the flood: {len(lat)} answers, "
                f"max {max(lat) * 1000 if lat else -1:.1f} ms, errors {errs[:3]}")
        self.ok(self.agent.alive(), sec, "the agent is alive after the flood")

    def s_kernel_agree(self):
        sec = "kernel-agree"
        # no traffic now: the two reads see the same numbers
        time.sleep(0.3)
        k = self.kernel_counters()
        st = self.status()
        bad = []
        for o in st["rules"] + st["defaults"]:
            kc = k.get(o["counter"], [0, 0])
            if [o["packets"], o["bytes"]] != kc:
                bad.append((o["counter"], [o["packets"], o["bytes"]], kc))
            if o["log"] and o.get("suppressed_source") == "kernel":
                ks = k.get("s_" + o["counter"], [0, 0])[0]
                if o["suppressed"] != ks:
                    bad.append(("s_" + o["counter"], o["suppressed"], ks))
        self.ok(not bad and k, sec, f"status --json counters == `nft -j list counters` "
                f"summed over tables ({len(st['rules']) + len(st['defaults'])} counters; "
                f"differ: {bad})")
        self.ok(any(o.get("suppressed_source") == "kernel" for o in st["rules"]), sec,
                "suppressed counts come from the kernel's s_ counters")

    def s_control(self):
        sec = "control"
        d = os.path.dirname(self.sock)
        m = os.stat(self.sock).st_mode
        self.ok(stat.S_ISSOCK(m) and stat.S_IMODE(m) == 0o600, sec,
                f"control socket mode {oct(stat.S_IMODE(m))} == 0600")
        self.ok(stat.S_IMODE(os.stat(d).st_mode) == 0o700, sec,
                f"its directory, made by the agent, is 0700 ({oct(os.stat(d).st_mode)})")
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        # the test's work directory must be traversable for the second check
        os.chmod(self.work, 0o755)
        r = subprocess.run(nobody + [self.bin, "status", "--control", self.sock],
                           capture_output=True, text=True, timeout=10)
        self.ok(r.returncode == 1 and "permission denied" in r.stderr, sec,
                f"non-root client refused (0700/0600): rc {r.returncode}: {r.stderr.strip()!r}")
        os.chmod(d, 0o755)
        os.chmod(self.sock, 0o666)
        r = subprocess.run(nobody + [self.bin, "status", "--control", self.sock],
                           capture_output=True, text=True, timeout=10)
        os.chmod(self.sock, 0o600)
        os.chmod(d, 0o700)
        self.ok(r.returncode == 1 and "uid 65534" in r.stderr and "{" not in r.stdout, sec,
                f"non-root client refused by SO_PEERCRED even through an open socket: rc "
                f"{r.returncode}: {r.stderr.strip()!r}")
        # a silent client is dropped after ~1 s and blocks nobody meanwhile
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        t0 = time.monotonic()
        dt, st = ask(self.sock)
        self.ok(isinstance(st, dict) and dt < 0.1, sec,
                f"status answers ({dt * 1000:.1f} ms) while a silent client is connected")
        s.settimeout(3)
        try:
            got = s.recv(10)
        except OSError as e:
            got = str(e)
        waited = time.monotonic() - t0
        s.close()
        self.ok(got == b"" and 0.8 < waited < 2.0, sec,
                f"a client that sends nothing is closed after ~1 s ({waited:.2f}s, {got!r})")
        dt, st = ask(self.sock)
        self.ok(isinstance(st, dict), sec, "still answering afterwards")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        s.sendall(b"bogus\n")
        got = s.recv(4096)
        s.close()
        self.ok(b"unknown request" in got, sec, f"an unknown request gets an error: {got!r}")

    def curl(self, path="/metrics"):
        return subprocess.run(["ip", "netns", "exec", self.H, "curl", "-sS", "-m", "5", "-i",
                               f"http://127.0.0.1:{self.port}{path}"],
                              capture_output=True, text=True, timeout=10)

    def s_metrics(self):
        sec = "metrics"
        r = self.curl()
        head, _, body = r.stdout.replace("\r\n", "\n").partition("\n\n")
        self.ok(r.returncode == 0 and " 200 " in head.splitlines()[0] and
                "text/plain; version=0.0.4" in head, sec,
                f"GET /metrics: 200 text/plain; version=0.0.4 ({head.splitlines()[:2]})")
        with open(os.path.join(self.work, "metrics.txt"), "w") as f:
            f.write(body)
        if text_string_to_metric_families is None:
            self.ok(False, sec, "prometheus_client is not installed (python3-prometheus-client)")
            return
        try:
            fams = {f.name: f for f in text_string_to_metric_families(body)}
        except Exception as e:  # the parser's verdict is the test
            self.ok(False, sec, f"the body parses as Prometheus text: {e}")
            return
        self.ok(True, sec, f"the body parses as Prometheus text ({len(fams)} families)")
        st = self.status()

        def val(fam, **labels):
            for s in fams[fam].samples if fam in fams else []:
                if all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
            return None

        # the parser strips _total from counter family names
        want = self.counter(st, "no-udp-db")
        self.ok(val("netseg_rule_packets", rule="no-udp-db") == want["packets"], sec,
                f"netseg_rule_packets_total{{rule=no-udp-db}} == status ({want['packets']})")
        self.ok(val("netseg_decisions_suppressed", counter="r_no-udp-db") ==
                want["suppressed"], sec, "suppressed count == status")
        self.ok(val("netseg_endpoints") == 6, sec, "netseg_endpoints == 6")
        self.ok(val("netseg_group_members", group="web") == 2, sec, "group web has 2 members")
        h = fams.get("netseg_reconcile_duration_seconds")
        self.ok(h is not None and h.type == "histogram" and
                any(s.name.endswith("_count") and s.labels.get("kind") == "full" and s.value >= 1
                    for s in h.samples), sec, "reconcile duration histogram with the full apply")
        self.ok(val("netseg_events", source="nflog") and val("netseg_events", source="nflog") > 0,
                sec, "events counted per source (nflog > 0)")
        for fam in ("netseg_resyncs", "netseg_tamper_repairs", "netseg_policy_reload_failures"):
            self.ok(fam in fams, sec, f"{fam}_total is exported")
        r = subprocess.run([self.bin, "status", "--control", self.sock], capture_output=True,
                           text=True, timeout=10)
        with open(os.path.join(self.work, "status-final.txt"), "w") as f:
            f.write(r.stdout)
        r = self.curl("/nope")
        self.ok(" 404 " in r.stdout.splitlines()[0] if r.stdout else False, sec,
                "other paths: 404")
        # binding elsewhere than loopback needs --metrics-allow-remote
        r = subprocess.run(["ip", "netns", "exec", self.H, self.bin, "agent", "-p", self.pol,
                            "--docker", "none", "--control", "none", "--metrics",
                            "10.77.0.1:9464"], capture_output=True, text=True, timeout=20)
        self.ok(r.returncode == 1 and "--metrics-allow-remote" in r.stderr, sec,
                f"a non-loopback --metrics address is refused: rc {r.returncode}, "
                f"{r.stderr.strip().splitlines()[-1:]}")

    def run(self):
        try:
            if self.s_start():
                for s in (self.s_status, self.s_deny_log, self.s_allow_log, self.s_counters,
                          self.s_flood, self.s_kernel_agree, self.s_control, self.s_metrics):
                    f0 = self.tally.failed
                    print(f"== {s.__name__[2:]}", flush=True)
                    s()
                    if self.tally.failed > f0:
                        print(self.agent.excerpt())
            readme = os.environ.get("OBSERVE_SAMPLES")
            if readme:  # for the README: a real log line and a real status output
                os.makedirs(readme, exist_ok=True)
                for fn in ("deny-line.json", "status.txt", "status-final.txt", "metrics.txt",
                           "decisions.jsonl"):
                    src = os.path.join(self.work, fn)
                    if os.path.exists(src):
                        subprocess.run(["cp", src, readme])
        finally:
            rc = self.agent.term()
            self.ok(rc == 0, "exit", f"agent exits 0 on SIGTERM (got {rc})")
            self.ok(not os.path.exists(self.sock), "exit", "the control socket is removed")
            for fam, _ in al.netseg_tables(self.H):
                al.nft(["delete", "table", fam, "netseg"], self.H)
            self.t.cleanup()
        print(f"{PFX}: {self.tally.passed} passed, {self.tally.failed} failed", flush=True)
        return 0 if self.tally.failed == 0 else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args = ap.parse_args()
    topo.require_root()
    sys.exit(Suite(os.path.abspath(args.bin)).run())


if __name__ == "__main__":
    main()
