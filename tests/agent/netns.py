#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`netseg agent --endpoints-dir` against real packets in network namespaces (no Docker).

Topology: tests/netns/topo.py (H with br0/br1, c1..c8, world W), plus what this suite adds:

      H (netseg agent runs here: ip netns exec H netseg agent -p POL --endpoints-dir EPDIR)
      br0 ── vc1..vc6 (c1..c6)  vc9 (c9, made while the agent is down)
          ── vb1..vb50 (b1..b50, burst: 10.88.0.101-150, fd88::101-150)
          ── vl1..vl60 (latency: veth pairs inside H, no namespace)
      br1 ── vc7 vc8 (c7 c8: endpoint files written after the start)

Sections (each compares real probes with tests/netns/oracle.py):
  start           agent with 6 endpoint files present; c7/c8 unmanaged on an unmanaged bridge
  files-added     c7, c8 files appear
  file-removed    c2's file goes: c2 is an unknown port on a managed bridge, isolated
  file-changed    web-1 relabelled as a db, c2 back
  policy-reload   the policy file replaced (inotify), SIGHUP
  bad-policy      bad policies keep the last good one; the log names FILE:LINE:COL
  tamper          tables deleted, a chain flushed, an element deleted: back < 1 s, measured
  restart         kill -9 under a probe loop; c9 made while down (isolated), enforced after
  sigterm         exits 0, rules stay in place
  burst           50 endpoint files written at once: all classified, none leaks
  latency         60 endpoint files one by one: time to elements in the kernel (printed)
Final line: `agent-netns: N passed, N failed`.
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import agentlib as al  # noqa: E402
from agentlib import topo, scenarios, nrun, Oracle  # noqa: E402
from topo import CONTAINERS, UNKNOWN, HOST_ADDRS  # noqa: E402

# what counts as a denied connection getting through in the probe loops (a "refused" is an
# RST or an unreachable error: nothing was delivered to a listener)
SUCCESS = ("open", "partial")
PFX = "agent-netns"
HOST = HOST_ADDRS[4] + HOST_ADDRS[6]
SCEN = {s["name"]: s for s in scenarios.SCENARIOS}
ICC = SCEN["icc-deny"]
EGRESS = SCEN["egress-allowlist"]
LOOP_SERVICES = {("tcp", 80), ("tcp", 5432), ("tcp", 8080), ("icmp", 0)}

BAD_POLICIES = [
    # (text, line of the error, what)
    ("version: 1\n"
     "defaults:\n"
     "  container_to_world: allow\n"
     "rules:\n"
     "  - name: bad-port\n"
     "    from: containers\n"
     "    to: world\n"
     "    ports: [tcp/99999]\n", 8, "port out of range"),
    ("version: 1\n"
     "groups:\n"
     "  web: { labels: { app: web } }\n"
     "rules:\n"
     "  - name: typo\n"
     "    from: web\n"
     "    to: dbz\n", 7, "undefined group"),
    ("version: 1\n"
     "rules:\n"
     "  - name: x\n"
     "    from: [containers\n", 5, "malformed YAML"),
]


class Suite:
    def __init__(self, binary, keep):
        self.tally = al.Tally()
        tag = os.environ.get("AGENT_TAG", f"nsa{os.getpid()}")
        self.t = topo.Topology(tag=tag + "n")
        self.t.build()
        self.work = self.t.logdir
        self.epdir = os.path.join(self.work, "endpoints")
        self.poldir = os.path.join(self.work, "policy")
        os.makedirs(self.epdir)
        os.makedirs(self.poldir)
        self.polpath = os.path.join(self.poldir, "policy.yaml")
        self.H = self.t.ns("H")
        self.eps = {e["name"]: e for e in scenarios.endpoints()}  # every defined endpoint
        self.managed = set()  # names whose file is in epdir
        self.extra = []  # UNKNOWN ends made managed (c9)
        self.policy = None
        # -p names the policy directory (the single-file form is checked by s_policy_file)
        self.agent = al.Agent(binary, ["-p", self.poldir, "--endpoints-dir", self.epdir,
                                       "--docker", "none"],
                              os.path.join(self.work, "agent.log"), netns=self.H)
        self.keep = keep
        self.section_log = 0

    # files ------------------------------------------------------------------------------------
    def write_policy(self, scen):
        self.policy = scenarios.policy_of(scen)
        al.atomic_write(self.polpath, "# tests/agent\n" + scenarios.to_yaml(self.policy))

    def ep_path(self, name):
        return os.path.join(self.epdir, f"{name}.yaml")

    def write_ep(self, name, atomic=True):
        text = "# tests/agent\n" + scenarios.to_yaml({"endpoints": [self.eps[name]]})
        if atomic:
            al.atomic_write(self.ep_path(name), text)
        else:
            with open(self.ep_path(name), "w") as f:
                f.write(text)
        self.managed.add(name)

    def remove_ep(self, name):
        os.unlink(self.ep_path(name))
        self.managed.discard(name)

    # expectations -----------------------------------------------------------------------------
    def oracle(self, isolated=()):
        eps = [self.eps[n] for n in sorted(self.managed)]
        iso = []
        for e in isolated:
            c = CONTAINERS.get(e) or UNKNOWN[e]
            iso += [c["v4"], c["v6"]]
        return Oracle(self.policy, eps, HOST, iso)

    def isolated_ends(self):
        """Ends on br0 (a managed bridge) without an endpoint file."""
        br0_managed = any(self.eps[n].get("bridge") == "br0" or
                          CONTAINERS.get(scenarios.END_OF.get(n, ""), {}).get("bridge") == "br0"
                          for n in self.managed)
        out = []
        for end, c in CONTAINERS.items():
            name = self.name_of(end)
            if name not in self.managed and c["bridge"] == "br0" and br0_managed:
                out.append(end)
        return out

    @staticmethod
    def name_of(end):
        for n, e in scenarios.END_OF.items():
            if e == end:
                return n
        return end

    def addrs(self, names):
        out = []
        for n in names:
            out += self.eps[n]["addresses"]
        return out

    def begin(self, section, what):
        print(f"== {section}: {what}", flush=True)
        self.section_log = self.agent.logpos()
        self.sec_t0 = time.monotonic()

    def end(self, section, bad_before):
        if self.tally.failed > bad_before:
            print(f"  agent log for [{section}]:\n{self.agent.excerpt(self.section_log)}")
        print(f"  ({time.monotonic() - self.sec_t0:.1f}s)", flush=True)

    def truth(self, section, isolated=None, extra=()):
        iso = self.isolated_ends() if isolated is None else isolated
        probes = nrun.plan(extra=tuple(extra) + tuple(self.extra))
        return nrun.judge(self.t, probes, self.oracle(iso), self.tally, section)

    def ok(self, cond, section, text):
        return self.tally.ok(cond, section, text)

    def check_loaded(self, section, timeout=3.0):
        """After a (re)start: every endpoint file already in the directory must be enforced
        without any further event. If not, that is counted, and the directory is nudged (a
        dotfile created and removed, which makes the agent rescan) so the sections after
        this one test their own subject rather than this same bug again."""
        want = self.addrs(self.managed)
        dt = al.wait_elements(want, (), self.H, timeout)
        self.ok(dt is not None, section, f"files already in --endpoints-dir at agent start "
                f"are enforced within {timeout}s without further events ({len(want)} "
                f"addresses); log: {self.agent.logtext().splitlines()[-1][:200]}")
        if dt is None:
            nudge = os.path.join(self.epdir, ".nudge")
            open(nudge, "w").close()
            os.unlink(nudge)
            dt2 = al.wait_elements(want, (), self.H, 5)
            print(f"  NOTE [{section}] nudged the endpoint directory (dotfile create/remove):"
                  f" {'now enforced' if dt2 is not None else 'still not enforced'}")

    def wait_in(self, section, present=(), absent=(), timeout=10.0, what=""):
        dt = al.wait_elements(present, absent, self.H, timeout)
        self.ok(dt is not None, section, f"{what}: elements {list(present)} present and "
                f"{list(absent)} absent in `nft list table inet netseg` within {timeout}s")
        return dt

    # sections ---------------------------------------------------------------------------------
    def s_start(self):
        sec = "start"
        self.begin(sec, "agent starts with c1..c6's endpoint files and the icc-deny policy")
        f0 = self.tally.failed
        self.write_policy(ICC)
        for end in ("c1", "c2", "c3", "c4", "c5", "c6"):
            self.write_ep(self.name_of(end))
        t0 = time.monotonic()
        ok = self.agent.start()
        self.ok(ok is not None, sec, f"agent logs 'started: enforcing' within 15s "
                f"(alive={self.agent.alive()})")
        if not ok:
            self.end(sec, f0)
            return False
        print(f"  agent up in {time.monotonic() - t0:.2f}s")
        ok, text = self.agent.least_privilege()
        print(f"  agent privileges: {text}", flush=True)
        self.ok(ok, sec, f"agent runs unprivileged with CAP_NET_ADMIN only: {text}")
        self.check_loaded(sec)
        tables = al.netseg_tables(self.H)
        self.ok(("inet", "netseg") in tables, sec, f"netseg's tables in H: {tables}")
        for k in ("net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables"):
            v = self.t.sysctl_get("H", k)
            self.ok(v == "1", sec, f"{k} is {v} in H with the agent running, must be 1")
        self.truth(sec)
        self.end(sec, f0)
        return True

    def s_files(self):
        sec = "files-added"
        self.begin(sec, "endpoint files for c7, c8 (br1) appear while the agent runs")
        f0 = self.tally.failed
        for end in ("c7", "c8"):
            self.write_ep(self.name_of(end))
        self.wait_in(sec, self.addrs(["web-3", "db-2"]), what="c7/c8 added")
        self.truth(sec)
        self.end(sec, f0)

        sec = "file-removed"
        self.begin(sec, "c2's endpoint file removed: c2 stays on br0, unknown -> isolated")
        f0 = self.tally.failed
        self.remove_ep("web-2")
        self.wait_in(sec, absent=self.addrs(["web-2"]), what="c2 removed")
        self.truth(sec)
        self.end(sec, f0)

        sec = "file-changed"
        self.begin(sec, "web-1's file rewritten in place as a db (relabel); c2's file back")
        f0 = self.tally.failed
        self.eps["web-1"] = dict(self.eps["web-1"],
                                 labels={"app": "db", "com.docker.compose.service": "db"})
        self.write_ep("web-1", atomic=False)
        self.write_ep("web-2")
        self.wait_in(sec, self.addrs(["web-2"]), what="c2 back")
        # no element names the labels portably: wait for the group sets to settle
        time.sleep(0.3)
        self.truth(sec)
        self.end(sec, f0)

    def s_policy(self):
        sec = "policy-reload"
        self.begin(sec, "policy file replaced by egress-allowlist (rename into place)")
        f0 = self.tally.failed
        pos = self.agent.logpos()
        self.write_policy(EGRESS)
        m = self.agent.wait_log(r"policy reloaded: enforcing", since=pos, timeout=5)
        self.ok(m is not None, sec, "log 'policy reloaded: enforcing' within 5s of the rename")
        self.truth(sec)
        pos = self.agent.logpos()
        self.agent.hup()
        m = self.agent.wait_log(r"policy reloaded: enforcing", since=pos, timeout=5)
        self.ok(m is not None, sec, "SIGHUP: log 'policy reloaded: enforcing' within 5s")
        self.end(sec, f0)

        sec = "bad-policy"
        self.begin(sec, "three bad policies in turn: the last good one (egress-allowlist) "
                   "stays enforced, every error is located")
        f0 = self.tally.failed
        good = self.policy
        for text, line, what in BAD_POLICIES:
            pos = self.agent.logpos()
            al.atomic_write(self.polpath, text)
            # Wait for this file's own located error first: after a failed load the agent
            # re-reads at once, so the previous bad file's "still enforcing" line can land
            # after this write and must not end the wait.
            want = f"policy.yaml:{line}:"
            self.agent.wait_log(re.escape(want) + r"\d+: error", since=pos, timeout=5)
            m = self.agent.wait_log(r"still enforcing the last good policy", since=pos,
                                    timeout=5)
            log = self.agent.logtext(pos)
            self.ok(m is not None, sec, f"{what}: log says it keeps the last good policy")
            located = [ln for ln in log.splitlines() if want in ln and "error" in ln]
            self.ok(bool(located), sec, f"{what}: the log shows the located error "
                    f"'{want}COL: error: ...'; log since the write:\n"
                    + "\n".join("      | " + ln for ln in log.splitlines()[-6:]))
            if located:
                print(f"  {what}: {located[0].split('netseg: ', 1)[-1]}")
            self.ok(self.agent.alive(), sec, f"{what}: agent still running")
        pos = self.agent.logpos()
        self.agent.hup()  # a reload of the bad file by signal changes nothing either
        self.agent.wait_log(r"still enforcing the last good policy", since=pos, timeout=5)
        self.policy = good
        self.truth(sec)
        # back to icc-deny for what follows
        pos = self.agent.logpos()
        self.write_policy(ICC)
        m = self.agent.wait_log(r"policy reloaded: enforcing", since=pos, timeout=5)
        self.ok(m is not None, sec, "good policy after bad ones: reloaded within 5s")
        self.end(sec, f0)

    def s_tamper(self):
        sec = "tamper"
        self.begin(sec, "others delete/flush netseg's objects in H; each restored < 1 s")
        f0 = self.tally.failed
        c1 = self.eps["web-1"]["addresses"][0]
        c4 = self.eps["db-1"]["addresses"][0]
        inet_before = al.table_text(self.H)

        def fwd_rules():
            r = al.nft(["list", "chain", "inet", "netseg", "forward"], self.H)
            return r.stdout.count("\n")

        nfwd = fwd_rules()
        cases = [
            ("delete table inet netseg", ["delete", "table", "inet", "netseg"],
             lambda: al._has(al.table_text(self.H), c1)),
            ("delete table bridge netseg", ["delete", "table", "bridge", "netseg"],
             lambda: '"vc1"' in al.table_text(self.H, "bridge")),
            ("delete table arp netseg", ["delete", "table", "arp", "netseg"],
             lambda: ("arp", "netseg") in al.netseg_tables(self.H)),
            ("flush chain inet netseg forward", ["flush", "chain", "inet", "netseg", "forward"],
             lambda: fwd_rules() >= nfwd),
        ]
        # an element deleted from a set that holds c4's address
        try:
            js = json.loads(al.nft(["-j", "list", "table", "inet", "netseg"], self.H).stdout)
            for o in js["nftables"]:
                s = o.get("set")
                if s and c4 in json.dumps(s.get("elem", [])) and s["type"] == "ipv4_addr":
                    cases.append((f"delete element inet netseg {s['name']} {{ {c4} }}",
                                  ["delete", "element", "inet", "netseg", s["name"],
                                   "{", c4, "}"],
                                  lambda n=s["name"]: al._has(al.nft(
                                      ["list", "set", "inet", "netseg", n], self.H).stdout, c4)))
                    break
        except (ValueError, KeyError) as e:
            print(f"  (cannot find a set with {c4}: {e})")
        has_arp = ("arp", "netseg") in al.netseg_tables(self.H)
        times = []
        for what, args, back in cases:
            if "arp" in what and not has_arp:
                continue
            pos = self.agent.logpos()
            t0 = time.monotonic()
            r = al.nft(args, self.H)
            if r.returncode != 0:
                self.ok(False, sec, f"{what}: nft failed: {r.stderr.strip()}")
                continue
            dt = None
            while time.monotonic() - t0 < 3.0:
                if back():
                    dt = time.monotonic() - t0
                    break
                time.sleep(0.005)
            ms = f"{dt * 1000:.0f} ms" if dt is not None else "not within 3 s"
            print(f"  {what}: restored after {ms}")
            self.ok(dt is not None and dt < 1.0, sec, f"{what}: restored within 1 s "
                    f"(took {ms})\n{self.agent.excerpt(pos, 8)}")
            if dt is not None:
                times.append(dt)
        after = al.table_text(self.H)
        self.ok(after == inet_before, sec, "table inet netseg after the tampering is the same "
                "as before it (`nft list table inet netseg` text)")
        if times:
            print(f"  tamper-to-restored: {al.summary_ms(times)}")
        self.truth(sec)
        self.end(sec, f0)

    def s_restart(self):
        sec = "restart"
        self.begin(sec, "kill -9 under a probe loop; c9 appears (file written) while the "
                   "agent is down; restart")
        f0 = self.tally.failed
        base_o = self.oracle(self.isolated_ends())
        base = [p for p in nrun.plan() if (p["proto"], p["port"]) in LOOP_SERVICES]
        denied = [p for p in base if not base_o.verdict(p["osrc"], p["dst"], p["proto"],
                                                        p["port"])[0]]
        allowed = [p for p in base if base_o.verdict(p["osrc"], p["dst"], p["proto"],
                                                     p["port"])[0]][:120]

        def touches9(s, d):
            return "c9" in (s, d)

        c9probes = [p for p in nrun.plan(touches9, extra=("c9",))
                    if (p["proto"], p["port"]) in LOOP_SERVICES]
        state = {"phase": "up", "c9": False, "stop": False}
        iters = []  # (phase at start, phase at end, c9 present, results)

        def loop():
            while not state["stop"]:
                ph0, c9 = state["phase"], state["c9"]
                ps = denied + allowed + (c9probes if c9 else [])
                res = nrun.run_probes(self.t, ps, 0.5)
                iters.append((ph0, state["phase"], c9, res))

        th = threading.Thread(target=loop, daemon=True)
        th.start()

        def wait_iters(n, phase):
            k = len([i for i in iters if i[0] == phase and i[1] == phase])
            end = time.monotonic() + 30
            while len([i for i in iters if i[0] == phase and i[1] == phase]) < k + n:
                if time.monotonic() > end or not th.is_alive():
                    return
                time.sleep(0.05)

        wait_iters(2, "up")
        state["phase"] = "down"
        self.agent.kill9()
        t_kill = time.monotonic()
        # a container appears while the agent is down
        self.t.add_container("c9", UNKNOWN["c9"])
        self.t.start_listener("c9")
        self.eps["c9"] = {"name": "late-web", "interface": "vc9",
                          "addresses": [UNKNOWN["c9"]["v4"], UNKNOWN["c9"]["v6"]],
                          "labels": {"app": "web"}, "networks": ["frontnet"],
                          "image": "registry.local/web:9"}
        self.write_ep("c9")
        state["c9"] = True
        wait_iters(2, "down")
        state["phase"] = "restarting"
        t_start = time.monotonic()
        ok = self.agent.start()
        print(f"  agent down {t_start - t_kill:.1f}s; restarted in "
              f"{time.monotonic() - t_start:.2f}s")
        self.ok(ok is not None, sec, "restarted agent logs 'started: enforcing'")
        self.extra = ["c9"]
        self.check_loaded(sec)
        state["phase"] = "up2"
        wait_iters(2, "up2")
        state["stop"] = True
        th.join(timeout=60)

        o9 = self.oracle(self.isolated_ends())
        leaks, down_leaks, allowed_lost, c9_after_bad = [], [], 0, []
        for ph0, ph1, c9, res in iters:
            for p in denied:
                if res[p["id"]]["result"] in SUCCESS:
                    leaks.append((ph0, ph1, p["id"], res[p["id"]]["result"]))
            for p in allowed:
                if res[p["id"]]["result"] != "open":
                    allowed_lost += 1
            if c9:
                for p in c9probes:
                    r = res[p["id"]]["result"]
                    want, why = o9.verdict(p["osrc"], p["dst"], p["proto"], p["port"])
                    if ph0 == ph1 == "down" and r in SUCCESS:
                        down_leaks.append((p["id"], r))
                    elif not want and r in SUCCESS:
                        leaks.append((ph0, ph1, p["id"], r))
                    elif want and ph0 == "up2" and r != "open":
                        c9_after_bad.append((p["id"], r, why))
        n_iter = len(iters)
        phases = {}
        for ph0, ph1, *_ in iters:
            phases[f"{ph0}->{ph1}" if ph0 != ph1 else ph0] = \
                phases.get(f"{ph0}->{ph1}" if ph0 != ph1 else ph0, 0) + 1
        print(f"  probe loop: {n_iter} iterations {phases}, {len(denied)} denied + "
              f"{len(allowed)} allowed + {len(c9probes)} c9 probes each; allowed probes "
              f"not open (not counted): {allowed_lost}")
        self.ok(not leaks, sec, f"no denied connection succeeds before, during or after "
                f"kill -9/restart: {len(leaks)} did, e.g. {leaks[:8]}")
        self.ok(not down_leaks, sec, f"c9 (appeared while the agent was down) is isolated "
                f"until the agent returns: {len(down_leaks)} probes got through, e.g. "
                f"{down_leaks[:8]}")
        self.ok(not c9_after_bad, sec, f"c9's allowed connections work once the agent is "
                f"back: {len(c9_after_bad)} did not, e.g. {c9_after_bad[:6]}")
        self.ok(phases.get("down", 0) >= 2 and phases.get("up2", 0) >= 2, sec,
                f"the loop covered down and restarted phases: {phases}")
        self.truth(sec)
        self.end(sec, f0)

    def s_sigterm(self):
        sec = "sigterm"
        self.begin(sec, "SIGTERM: the agent exits 0 and leaves its rules in place")
        f0 = self.tally.failed
        before = al.table_text(self.H)
        rc = self.agent.term()
        self.ok(rc == 0, sec, f"agent exit status after SIGTERM: {rc}, want 0")
        after = al.table_text(self.H)
        self.ok(before == after and after, sec, "table inet netseg unchanged after exit")
        self.truth(sec)
        ok = self.agent.start()
        self.ok(ok is not None, sec, "agent starts again over its own tables")
        self.check_loaded(sec)
        self.end(sec, f0)

    def s_policy_file(self):
        sec = "policy-file"
        self.begin(sec, "a second agent run with -p FILE (not a directory): starts, reloads")
        f0 = self.tally.failed
        self.agent.term()
        path = os.path.join(self.work, "single.yaml")
        self.policy = scenarios.policy_of(EGRESS)
        al.atomic_write(path, scenarios.to_yaml(self.policy))
        a2 = al.Agent(self.agent.bin, ["-p", path, "--endpoints-dir", self.epdir, "--docker",
                                       "none"],
                      os.path.join(self.work, "agent-file.log"), netns=self.H)
        ok = a2.start()
        self.ok(ok is not None, sec, f"agent -p {path} logs 'started: enforcing' (exit "
                f"status {a2.p.poll()}); its log:\n{a2.excerpt()}")
        if ok:
            pos = a2.logpos()
            self.policy = scenarios.policy_of(ICC)
            al.atomic_write(path, scenarios.to_yaml(self.policy))
            m = a2.wait_log(r"policy reloaded: enforcing", since=pos, timeout=5)
            self.ok(m is not None, sec, "policy file replaced: reloaded within 5 s")
            self.check_loaded(sec)
            self.truth(sec)
        a2.term()
        if a2.alive():
            a2.kill9()
        self.ok(self.agent.start() is not None, sec, "main agent back")
        self.check_loaded(sec)
        self.end(sec, f0)

    def s_burst(self, n=50):
        sec = "burst"
        self.begin(sec, f"{n} containers b1..b{n} on br0; their {n} endpoint files written "
                   "at once")
        f0 = self.tally.failed
        bs = {}
        for i in range(1, n + 1):
            bs[f"b{i}"] = {"bridge": "br0", "v4": f"10.88.0.{100 + i}", "v6": f"fd88::{100 + i}",
                           "mac": f"02:88:00:00:01:{i:02x}", "port": f"vb{i}"}
        t0 = time.monotonic()
        for end in bs:  # namespaces first, sequentially (the Topology list is not locked)
            self.t.add_ns(end)
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda kv: self._veth(kv[0], kv[1]), bs.items()))
        print(f"  {n} namespaces up in {time.monotonic() - t0:.1f}s")
        for i, (end, c) in enumerate(bs.items()):
            web = i % 2 == 0
            self.eps[end] = {"name": f"burst-{i + 1}", "interface": c["port"],
                             "addresses": [c["v4"], c["v6"]],
                             "labels": ({"app": "web"} if web else
                                        {"app": "db", "com.docker.compose.service": "db"}),
                             "networks": ["burstnet"], "image": "registry.local/burst:1"}
        # before their files: unknown ports on br0, isolated
        pre = self._burst_probes(bs, ["b1", "b2"])
        res = nrun.run_probes(self.t, pre, 0.6)
        exp = {p["id"]: (False, "unknown interface isolated (Meaning 6)") for p in pre}
        al.compare(res, pre, exp, self.tally, sec + "-before")
        # all files at once (plain writes, not renames: the agent also sees half-written ones)
        t0 = time.monotonic()
        for end in bs:
            self.write_ep(end, atomic=False)
        t_written = time.monotonic() - t0
        allv = [a for e in bs for a in self.eps[e]["addresses"]]
        dt = al.wait_elements(allv, (), self.H, 15)
        self.ok(dt is not None, sec, f"all {2 * n} burst addresses in the kernel within 15 s")
        print(f"  {n} files written in {t_written * 1000:.0f} ms; all elements in the kernel "
              f"{(dt or float('nan')) * 1000:.0f} ms after the last write")
        time.sleep(0.2)
        probes = self._burst_probes(bs, list(bs))
        o = self.oracle(self.isolated_ends())
        exp = {p["id"]: o.verdict(p["osrc"], p["dst"], p["proto"], p["port"]) for p in probes}
        res = nrun.run_probes(self.t, probes, 0.8)
        retry = [p for p in probes if exp[p["id"]][0] and res[p["id"]]["result"] == "blocked"]
        if retry:
            res.update(nrun.run_probes(self.t, retry, 2.0))
        # no listener in b*: a RST/port-unreachable from b* proves the packet got there
        bad = al.compare(res, probes, exp, self.tally, sec, open_ok=("open", "refused"))
        classes = {}
        for p in probes:
            allowed = exp[p["id"]][0]
            classes[allowed] = classes.get(allowed, 0) + 1
        print(f"  burst probes: {classes.get(True, 0)} expected open, "
              f"{classes.get(False, 0)} expected blocked; {len(bad)} wrong")
        self.burst = bs
        self.end(sec, f0)

    def _veth(self, end, c):
        self.t.ip("H", ["link", "add", c["port"], "type", "veth", "peer", "name", "eth0",
                        "netns", self.t.ns(end)])
        self.t.ip(end, ["link", "set", "eth0", "address", c["mac"]])
        self.t.ip(end, ["addr", "add", c["v4"] + "/24", "dev", "eth0"])
        self.t.ip(end, ["addr", "add", c["v6"] + "/64", "dev", "eth0", "nodad"])
        self.t.ip(end, ["link", "set", "eth0", "up"])
        self.t.ip(end, ["route", "add", "default", "via", "10.88.0.1"])
        self.t.ip(end, ["-6", "route", "add", "default", "via", "fd88::1"])
        self.t.ip("H", ["link", "set", c["port"], "master", "br0", "up"])

    def _burst_probes(self, bs, ends):
        """From each b: c3 tcp/8080 (web->api allowed), c4 tcp/5432 (db only from api),
        c6 tcp/9100 (scrape), c1 tcp/80, W tcp/443; to each b: c3 tcp/5432 (api->db),
        c6 icmp (admin-all), c2 icmp, H icmp. v4 and v6."""
        out = []
        W = {4: topo.WORLD["v4"], 6: topo.WORLD["v6"]}
        for b in ends:
            c = bs[b]
            for fam in (4, 6):
                k = f"v{fam}"
                for d, proto, port in (("c3", "tcp", 8080), ("c4", "tcp", 5432),
                                       ("c6", "tcp", 9100), ("c1", "tcp", 80),
                                       ("c5", "icmp", 0)):
                    out.append({"id": f"{b}>{d}/{fam}/{proto}/{port}", "ns": b, "s": b,
                                "d": d, "fam": fam, "src": c[k], "osrc": c[k],
                                "dst": CONTAINERS[d][k], "proto": proto, "port": port})
                out.append({"id": f"{b}>W/{fam}/tcp/443", "ns": b, "s": b, "d": "W",
                            "fam": fam, "src": c[k], "osrc": c[k], "dst": W[fam],
                            "proto": "tcp", "port": 443})
                for s, proto, port in (("c3", "tcp", 5432), ("c6", "icmp", 0),
                                       ("c2", "icmp", 0), ("H", "icmp", 0)):
                    src = CONTAINERS[s][k] if s != "H" else None
                    out.append({"id": f"{s}>{b}/{fam}/{proto}/{port}", "ns": s, "s": s,
                                "d": b, "fam": fam, "src": src,
                                "osrc": src or HOST_ADDRS[fam][0], "dst": c[k],
                                "proto": proto, "port": port})
        return out

    def s_latency(self, n=60):
        sec = "latency"
        self.begin(sec, f"{n} endpoint files for new veths, one at a time: event -> elements "
                   "in the kernel")
        f0 = self.tally.failed
        batch = []
        for i in range(1, n + 1):
            batch.append(f"link add vl{i} type veth peer name vlp{i}")
            batch.append(f"link set vl{i} master br0 up")
            batch.append(f"link set vlp{i} up")
        nrun.topo.run(["ip", "-n", self.H, "-b", "-"], input="\n".join(batch) + "\n")
        mon = al.NftMonitor(self.H)
        mon_t, poll_t = [], []
        try:
            for i in range(1, n + 1):
                v4, v6 = f"10.88.0.{150 + i}", f"fd88::2:{i:x}"
                name = f"lat{i}"
                self.eps[name] = {"name": name, "interface": f"vl{i}", "addresses": [v4, v6],
                                  "labels": {"app": "web" if i % 2 else "api"},
                                  "networks": ["latnet"]}
                t0 = time.monotonic()
                self.write_ep(name)
                # addresses in inet (containers4/6), the port in the bridge table (its
                # anti-spoofing pairs; inet holds port pairs for routed ports only)
                dt = al.wait_elements([v4, v6], (), self.H, 5)
                dtb = None if dt is None else al.wait_elements(
                    [f'"vl{i}" . {v4}'], (), self.H, 5, family="bridge")
                if dt is None or dtb is None:
                    self.ok(False, sec, f"{name}: elements not in the kernel within 5 s")
                    continue
                dt += dtb
                poll_t.append(dt)
                tm = mon.first(v4, t0)
                if tm is not None:
                    mon_t.append(tm - t0)
            self.ok(len(poll_t) == n, sec, f"{len(poll_t)}/{n} endpoint files enforced")
        finally:
            mon.stop()
        if mon_t:
            print(f"  LATENCY endpoint file -> elements in kernel (nft monitor): "
                  f"{al.summary_ms(mon_t)}")
        if poll_t:
            print(f"  LATENCY endpoint file -> visible to `nft list table` (10 ms poll): "
                  f"{al.summary_ms(poll_t)}")
        self.latency = (mon_t, poll_t)
        self.end(sec, f0)


def main():
    if os.geteuid() != 0:
        print(f"{PFX}: skipped: needs root")
        print(f"{PFX}: 0 passed, 0 failed")
        return 77
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("NETSEG_BIN", "./build/netseg"))
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    t0 = time.monotonic()
    s = Suite(binary, os.environ.get("NETNS_KEEP_LOGS") == "1")
    print(f"netns.py: topology {s.t.tag} up in {time.monotonic() - t0:.1f}s; agent = {binary};"
          f" work dir {s.work}", flush=True)
    try:
        if s.s_start():
            steps = [s.s_files, s.s_policy, s.s_tamper, s.s_restart, s.s_sigterm, s.s_burst,
                     s.s_latency, s.s_policy_file]
            only = set(filter(None, a.only.split(",")))
            for st in steps:
                if only and st.__name__[2:] not in only:
                    continue
                try:
                    st()
                except Exception as e:  # a broken step is a failure, not the end of the run
                    import traceback
                    traceback.print_exc()
                    s.tally.ok(False, st.__name__[2:], f"step raised {type(e).__name__}: {e}")
                if not s.agent.alive():
                    s.tally.ok(False, st.__name__[2:], "agent died:\n" + s.agent.excerpt())
                    if not s.agent.start():
                        break
    finally:
        rc = s.agent.term()
        if s.agent.p is not None and rc is None:
            s.agent.kill9()
        if os.environ.get("NETNS_KEEP_LOGS") == "1":
            print(f"agent log kept: {s.agent.log}")
    print(f"netns.py: {time.monotonic() - t0:.1f}s")
    if s.tally.failures:
        secs = {}
        for sec, _ in s.tally.failures:
            secs[sec] = secs.get(sec, 0) + 1
        print("netns.py failures by section: " + ", ".join(f"{k}: {v}" for k, v in secs.items()))
    print(f"{PFX}: {s.tally.passed} passed, {s.tally.failed} failed")
    return 1 if s.tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
