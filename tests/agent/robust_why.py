#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`netseg why --agent` answers from the running agent's inventory and enforced policy.

      nsrw<PID> (network namespace, lo only): netseg agent --docker none -p POLICY.d
                    --endpoints-dir WORK/endpoints --control WORK/ctl.sock

The endpoints and policy are tests/netns's (scenarios.py: the eight containers, the
deny-beats-allow policy directory); the queries are every probe tuple of its truth table
(run.plan()), sent through one `netseg why --agent --batch` run. The interfaces do not exist:
nothing here sends a packet (tests/netns/run.py proves `why` against real packets).

Sections:
  same      every answer of the agent equals, as JSON, the answer of `netseg why -p -e` on
            the same files in the same namespace
  follows   web-1 relabelled in its endpoint file: once status shows it, the agent's answers
            for the tuples touching web-1 equal the local answers over the new file, and
            differ from the old ones for some
  enforced  a bad policy written over the directory: the agent keeps enforcing the last good
            one and answers by it (equal to the local answers over the old policy)
  diff      `netseg diff -p OLD -p NEW --agent` (the agent's endpoints, from its status)
            prints exactly what `diff -e` on the same endpoint file prints, exit 1; the
            policy against itself is exit 0
  errors    an unknown endpoint is exit 1 with the agent's message; a query without a
            protocol is exit 2; the agent is not reachable: exit 1, one line
Final line: `robust-why: N passed, N failed`.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import agentlib as al  # noqa: E402
from agentlib import nrun, scenarios  # noqa: E402

PFX = "robust-why"
SCEN = next(s for s in scenarios.SCENARIOS if s["name"] == "deny-beats-allow")


class Suite:
    def __init__(self, binary):
        self.bin = os.path.abspath(binary)
        self.ns = f"nsrw{os.getpid()}"
        self.work = al.workdir(f"{self.ns}-")  # readable by the agent's own user
        self.epdir = os.path.join(self.work, "endpoints")
        self.sock = os.path.join(self.work, "ctl.sock")
        self.passed = self.failed = 0
        self.agent = None
        self.pol = None

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"  ok   {what}", flush=True)
        else:
            self.failed += 1
            print(f"  FAIL {what}{': ' + detail if detail else ''}", flush=True)
            if self.agent:
                print(self.agent.excerpt(n=3), flush=True)
        return ok

    def setup(self):
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        subprocess.run(["ip", "-n", self.ns, "link", "set", "lo", "up"], check=True)
        os.makedirs(self.epdir)
        self.pol = scenarios.write_policy(self.work, SCEN)
        self.write_eps(scenarios.endpoints())
        self.agent = al.Agent(self.bin, ["-p", self.pol, "--docker", "none", "--endpoints-dir",
                                         self.epdir, "--control", self.sock],
                              os.path.join(self.work, "agent.log"), netns=self.ns)

    def write_eps(self, eps):
        text = json.dumps({"endpoints": eps})
        al.atomic_write(os.path.join(self.epdir, "all.json"), text)
        with open(os.path.join(self.work, "local-eps.json"), "w") as f:
            f.write(text)

    def cleanup(self):
        if self.agent and self.agent.p is not None and self.agent.p.poll() is None:
            if self.agent.term(timeout=5) is None:
                self.agent.kill9()
        subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)
        if os.environ.get("NETNS_KEEP_LOGS") == "1":
            print(f"  logs kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def netseg(self, args, stdin=None, timeout=120):
        return subprocess.run(["ip", "netns", "exec", self.ns, self.bin] + args, input=stdin,
                              capture_output=True, text=True, timeout=timeout)

    def ask(self, queries, agent, pol=None):
        """Answers (parsed JSON, in order) from the agent or from the local files."""
        src = (["--agent", "--control", self.sock] if agent else
               ["-p", pol or self.pol, "-e", os.path.join(self.work, "local-eps.json")])
        r = self.netseg(["why", "--json", "--batch", "-"] + src, "".join(q + "\n" for q in queries))
        lines = r.stdout.splitlines()
        if r.returncode != 0 or len(lines) != len(queries):
            raise RuntimeError(f"why {'--agent' if agent else 'local'}: exit {r.returncode}, "
                               f"{len(lines)} answers for {len(queries)}: {r.stderr[:300]}")
        return [json.loads(x) for x in lines]

    def compare(self, what, queries, a, b):
        bad = [q for q, x, y in zip(queries, a, b) if x != y]
        self.check(f"{what}: {len(queries) - len(bad)}/{len(queries)} answers equal",
                   not bad, f"first: {bad[:3]}")

    def web1_labels(self):
        r = subprocess.run([self.bin, "status", "--json", "--control", self.sock],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            return None
        for e in json.loads(r.stdout).get("endpoints", []):
            if e["name"] == "web-1":
                return e.get("labels")
        return None

    def queries(self):
        names = {scenarios.END_OF[e["name"]]: e["name"] for e in scenarios.endpoints()}
        return [nrun.why_query(p, names) for p in nrun.plan()]

    # sections ---------------------------------------------------------------------------------
    def s_same(self):
        self.check("the agent starts", self.agent.start())
        q = self.queries()
        self.compare("agent = local", q, self.ask(q, True), self.ask(q, False))

    def s_follows(self):
        q = [x for x in self.queries() if x.split()[0] == "web-1" or
             x.split()[1] in ("10.88.0.11", "fd88::11")]
        before = self.ask(q, True)
        eps = scenarios._relabel(scenarios.endpoints())
        self.write_eps(eps)
        end = time.monotonic() + 10
        while time.monotonic() < end and (self.web1_labels() or {}).get("app") != "db":
            time.sleep(0.1)
        self.check("status shows web-1 relabelled", (self.web1_labels() or {}).get("app") == "db")
        after = self.ask(q, True)
        self.compare("agent = local after the relabel", q, after, self.ask(q, False))
        changed = sum(1 for x, y in zip(before, after) if x["verdict"] != y["verdict"])
        self.check(f"the relabel changes verdicts ({changed} of {len(q)})", changed > 0)

    def s_enforced(self):
        q = self.queries()
        good = self.ask(q, False)
        bad = os.path.join(self.pol, "50-bad.yaml")
        pos = self.agent.logpos()
        with open(bad, "w") as f:
            f.write("version: 1\nrules:\n  - name: x\n    from: nosuchgroup\n    to: world\n")
        os.kill(self.agent.p.pid, signal.SIGHUP)
        self.check("the agent says it keeps the last good policy",
                   self.agent.wait_log(r"nosuchgroup", since=pos, timeout=10))
        r = self.netseg(["why", "web-1", "db-1", "tcp/5432", "-p", self.pol, "-e",
                         os.path.join(self.work, "local-eps.json")])
        self.check("locally the directory no longer loads", r.returncode == 1, r.stderr[:200])
        self.compare("agent = the last good policy", q, self.ask(q, True), good)
        os.unlink(bad)

    def s_diff(self):
        new = next(x for x in scenarios.SCENARIOS if x["name"] == "icc-deny")
        newpol = scenarios.write_policy(self.work, new)
        local = self.netseg(["diff", "-p", self.pol, "-p", newpol, "-e",
                             os.path.join(self.work, "local-eps.json")])
        agent = self.netseg(["diff", "-p", self.pol, "-p", newpol, "--agent", "--control",
                             self.sock])
        self.check(f"diff --agent = diff -e ({len(local.stdout.splitlines())} lines), exit 1",
                   agent.returncode == 1 and local.returncode == 1 and
                   agent.stdout == local.stdout and len(local.stdout.splitlines()) > 10,
                   f"exit {agent.returncode}/{local.returncode}: {agent.stderr[:200]}")
        same = self.netseg(["diff", "-p", self.pol, "-p", self.pol, "--agent", "--control",
                            self.sock])
        self.check("diff --agent of a policy with itself: exit 0", same.returncode == 0,
                   f"exit {same.returncode}: {same.stderr[:200]}")

    def s_errors(self):
        r = self.netseg(["why", "nosuch", "db-1", "tcp/1", "--agent", "--control", self.sock])
        self.check("unknown endpoint: exit 1, the agent's message",
                   r.returncode == 1 and "'nosuch' is not an endpoint name" in r.stderr,
                   f"exit {r.returncode}: {r.stderr.strip()}")
        r = self.netseg(["why", "web-1", "db-1", "tcp/0", "--agent", "--control", self.sock])
        self.check("bad protocol: exit 2", r.returncode == 2, f"exit {r.returncode}")
        r = self.netseg(["why", "web-1", "db-1", "tcp/1", "--agent", "--control",
                         os.path.join(self.work, "nothing.sock")])
        self.check("no agent: exit 1, one line",
                   r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1,
                   f"exit {r.returncode}: {r.stderr.strip()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.environ.get("NETSEG_BIN", "build/netseg"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        print(f"{PFX}: skipped: needs root (network namespaces, nftables)")
        print(f"{PFX}: 0 passed, 0 failed")
        return 77
    s = Suite(args.bin)
    try:
        s.setup()
        for sec in (s.s_same, s.s_follows, s.s_enforced, s.s_diff, s.s_errors):
            try:
                sec()
            except Exception as e:  # a probe that errors is a failure, and the rest still runs
                s.check(f"{sec.__name__} ran", False, repr(e))
    finally:
        s.cleanup()
    print(f"{PFX}: {s.passed} passed, {s.failed} failed")
    return 1 if s.failed else 0


if __name__ == "__main__":
    sys.exit(main())
