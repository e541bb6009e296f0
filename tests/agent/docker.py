#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`netseg agent --docker` against real Docker containers and real connections.

  root namespace (Docker's bridges live here, so the agent runs here; it creates only its own
  tables inet/bridge/arp netseg, which must not exist before the run)
    docker0 ── TAG-web1 (app=web)  TAG-db1 (app=db)
    br-… TAG-a ── TAG-web2 (web)  TAG-db2 (db)  TAG-admin (app=admin)  [TAG-web3, TAG-db3,
                  TAG-bN burst]        TAG-b: a second user network for connect/disconnect
    nw<PID> 10.213.K.1/30 ── namespace TAG-W 10.213.K.2 ("world", listener on tcp/80, 8080)
    listener on tcp/HP (root namespace, "host")

Every container runs `netseg-banner NAME 80 5432 8080` (tests/docker/banner.c). Probes run
tests/netns/probe.py inside a container's namespace (`nsenter -t PID -n`), or in the root
namespace for the host. Expected = Docker's own verdict (containers reach addresses on networks
they share; Docker isolates different networks; world and host are reachable) AND the spec's
(tests/netns/oracle.py). The policy only names this run's containers (label nsgrun=TAG), with
allow defaults, so containers of other users of this Docker daemon are not affected.

Sections: baseline (no agent: proves the Docker model), start, stop, start-again, restart,
connect, disconnect, new-container, policy-reload, bad-policy, tamper, agent-restart (kill -9
under a probe loop; a container started while the agent is down), burst (50 containers started
concurrently), sigterm. Final line `agent-docker: N passed, N failed`; 77 when Docker cannot
run here or netseg's tables already exist in the root namespace.
"""

import argparse
import concurrent.futures
import ipaddress
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import agentlib as al  # noqa: E402
from agentlib import topo, nrun, Oracle  # noqa: E402

# what counts as a denied connection getting through in the probe loops (a "refused" is an
# RST or an unreachable error: nothing was delivered to a listener)
SUCCESS = ("open", "partial")
PFX = "agent-docker"
IMAGE = os.environ.get("NETSEG_TEST_IMAGE", "netseg-test/busybox")
SOCK = os.environ.get("DOCKER_SOCK", "/var/run/docker.sock")
CPORTS = (80, 5432, 8080)


def sh(cmd, check=True, timeout=60, input=None):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def docker(*args, check=True, timeout=60):
    return sh(["docker", "-H", f"unix://{SOCK}"] + list(args), check=check, timeout=timeout)


class DockerTopo(topo.Topology):
    """Ends are containers (entered with nsenter), "H" (the root namespace) and "W"."""

    def __init__(self, tag, suite):
        self.pids = {}
        self.suite = suite
        super().__init__(tag=tag)

    def exec_prefix(self, end):
        if end == "H":
            return []
        if end in self.pids:
            return ["nsenter", "-t", str(self.pids[end]), "-n"]
        return super().exec_prefix(end)

    def cleanup(self):
        if not self._cleaned:
            self.suite.cleanup_docker()
        super().cleanup()


class DockerOracle:
    """Docker's own isolation first, then the spec."""

    def __init__(self, suite, policy, isolated=()):
        self.s = suite
        ctrs = {n: c for n, c in suite.ctrs.items() if c["running"]}
        eps = []
        iso = []
        for n, c in ctrs.items():
            addrs = list(c["ips"].values())
            if n in isolated:
                iso += addrs
                continue
            eps.append({"name": c["cname"], "addresses": addrs, "labels": c["labels"],
                        "networks": list(c["ips"]), "image": IMAGE})
        self.o = Oracle(policy, eps, suite.host_addrs(), iso)
        self.net_of = {}
        self.nets_of_src = {}
        for n, c in ctrs.items():
            for net, ip in c["ips"].items():
                self.net_of[ip] = net
                self.nets_of_src[ip] = set(c["ips"])

    def verdict(self, src, dst, proto, port):
        if src in self.nets_of_src and dst in self.net_of:
            if self.net_of[dst] not in self.nets_of_src[src]:
                return False, "Docker isolates different networks (not netseg)"
        return self.o.verdict(src, dst, proto, port)


class Suite:
    def __init__(self, binary, workroot):
        self.tally = al.Tally()
        self.pid = os.getpid()
        self.tag = os.environ.get("AGENT_TAG", f"nsa{self.pid}") + "d"
        self.ctrs = {}  # short name -> info
        self.nets = []
        self.tables_ours = False
        self.agent = None
        self.t = DockerTopo(self.tag, self)
        self.work = self.t.logdir
        self.poldir = os.path.join(self.work, "policy")
        os.makedirs(self.poldir)
        self.polpath = os.path.join(self.poldir, "policy.yaml")
        self.marker = os.environ.get("AGENT_DOCKER_MARKER")
        self.binary = binary
        k = self.pid % 250
        self.wnet = (f"10.213.{k}.1", f"10.213.{k}.2")
        self.hport = 30000 + self.pid % 20000
        self.policy = None

    # setup / teardown -------------------------------------------------------------------------
    def setup(self):
        # world
        self.t.add_ns("W")
        self.vw = f"nw{self.pid}"[:15]
        topo.run(["ip", "link", "add", self.vw, "type", "veth", "peer", "name", "eth0",
                  "netns", self.t.ns("W")])
        topo.run(["ip", "addr", "add", self.wnet[0] + "/30", "dev", self.vw])
        topo.run(["ip", "link", "set", self.vw, "up"])
        self.t.ip("W", ["addr", "add", self.wnet[1] + "/30", "dev", "eth0"])
        self.t.ip("W", ["link", "set", "eth0", "up"])
        self.t.ip("W", ["route", "add", "default", "via", self.wnet[0]])
        self._listener("W", [80, 8080], [self.wnet[1]])
        self._listener("H", [self.hport], [])
        for suffix in ("a", "b"):
            name = f"{self.tag}-{suffix}"
            docker("network", "create", "--label", f"nsgrun={self.tag}", name)
            self.nets.append(name)
        self.neta, self.netb = self.nets

    def _listener(self, end, tcp, udp_addrs):
        log = os.path.join(self.t.logdir, f"listen-{end}.jsonl")
        cmd = self.t.exec_prefix(end) + [topo.PY, os.path.join(topo.HERE, "listen.py"),
                                         "--name", end, "--log", log,
                                         "--tcp", ",".join(map(str, tcp))]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if not p.stdout.readline().startswith("ready"):
            raise RuntimeError(f"listener in {end} did not start: {p.stderr.read()}")
        self.t.procs.append(p)

    def cleanup_docker(self):
        if self.agent is not None:
            self.agent.term(5)
            self.agent.kill9()
        if self.tables_ours:
            for fam, name in al.netseg_tables():
                al.nft(["delete", "table", fam, name])
        r = docker("ps", "-aq", "--filter", f"label=nsgrun={self.tag}", check=False)
        ids = r.stdout.split()
        if ids:
            docker("rm", "-f", *ids, check=False, timeout=120)
        for n in self.nets:
            docker("network", "rm", n, check=False)
        self.nets = []

    # containers -------------------------------------------------------------------------------
    def run_ctr(self, short, app, net, extra_labels=None):
        cname = f"{self.tag}-{short}"
        labels = {"app": app, "nsgrun": self.tag}
        labels.update(extra_labels or {})
        script = f"exec netseg-banner {short} " + " ".join(map(str, CPORTS))
        args = ["run", "-d", "--name", cname, "--network", net]
        for k, v in labels.items():
            args += ["--label", f"{k}={v}"]
        docker(*args, IMAGE, "sh", "-c", script, timeout=120)
        self.ctrs[short] = {"cname": cname, "labels": labels, "running": True, "ips": {}}
        self.inspect(short)

    def inspect(self, short):
        c = self.ctrs[short]
        js = json.loads(docker("inspect", c["cname"]).stdout)[0]
        c["running"] = js["State"]["Running"]
        c["pid"] = js["State"]["Pid"]
        c["ips"] = {n: v["IPAddress"] for n, v in js["NetworkSettings"]["Networks"].items()
                    if v.get("IPAddress")}
        c["gw"] = {n: v["Gateway"] for n, v in js["NetworkSettings"]["Networks"].items()
                   if v.get("Gateway")}
        if c["running"]:
            self.t.pids[short] = c["pid"]
        else:
            self.t.pids.pop(short, None)
            c["ips"] = {}

    def wait_listening(self, shorts, timeout=10):
        """A container's nc listeners take a moment after `docker run` returns."""
        end = time.monotonic() + timeout
        for s in shorts:
            ip = next(iter(self.ctrs[s]["ips"].values()))
            while time.monotonic() < end:
                r = subprocess.run(["bash", "-c", f"timeout 1 bash -c 'exec 3<>/dev/tcp/{ip}/"
                                    f"8080' 2>/dev/null"], capture_output=True)
                if r.returncode == 0:
                    break
                time.sleep(0.1)

    def host_addrs(self):
        js = json.loads(sh(["ip", "-j", "addr"]).stdout)
        return [a["local"] for i in js for a in i.get("addr_info", [])]

    # policy -----------------------------------------------------------------------------------
    def make_policy(self, extra_rules=()):
        t = self.tag
        deny = lambda name, f, to, ports=None: dict(  # noqa: E731
            {"name": name, "from": f, "to": to, "action": "deny"},
            **({"ports": ports} if ports else {}))
        rules = [
            deny("web-db-deny", "web", "db", ["tcp/8080", "icmp"]),
            deny("db-web-deny", "db", "web"),
            deny("web-world-deny", "web", "world", ["tcp/8080"]),
            deny("db-host-deny", "db", "host", [f"tcp/{self.hport}"]),
            deny("admin-db-deny", "admin", "db", ["tcp/5432"]),
            deny("onb-web-deny", "onb", "web", ["tcp/80"]),
        ] + list(extra_rules)
        return {
            "version": 1,
            "groups": {
                "web": {"labels": {"app": "web", "nsgrun": t}},
                "db": {"labels": {"app": "db", "nsgrun": t}},
                "admin": {"name": f"{t}-admin*"},
                "onb": {"network": f"{t}-b"},
            },
            "rules": rules,
        }

    def write_policy(self, pol):
        self.policy = pol
        al.atomic_write(self.polpath, "# tests/agent docker\n" + al.scenarios.to_yaml(pol))

    # probes -----------------------------------------------------------------------------------
    def plan(self, only=None, isolated=()):
        """only: set of container short names; probes touching one of them (all if None)."""
        probes = []
        run = {n: c for n, c in self.ctrs.items() if c["running"]}

        def add(s, ns, src, d, dst, proto, port, osrc):
            probes.append({"id": f"{s}>{d}/4/{proto}/{port}", "ns": ns, "s": s, "d": d,
                           "fam": 4, "src": src, "dst": dst, "proto": proto, "port": port,
                           "osrc": osrc})

        gw0 = None
        for s, c in run.items():
            first_net = next(iter(c["ips"]))
            osrc = c["ips"][first_net]
            for d, cd in run.items():
                if d == s:
                    continue
                if only is not None and s not in only and d not in only:
                    continue
                for net, ip in cd["ips"].items():
                    src = c["ips"].get(net, osrc)
                    tgt = d if len(cd["ips"]) == 1 else f"{d}@{net}"
                    for port in CPORTS:
                        add(s, s, src, tgt, ip, "tcp", port, src)
                    add(s, s, src, tgt, ip, "icmp", 0, src)
            if only is not None and s not in only:
                continue
            for port in (80, 8080):
                add(s, s, osrc, "W", self.wnet[1], "tcp", port, osrc)
            gw = c["gw"][first_net]
            gw0 = gw0 or gw
            add(s, s, osrc, "H", gw, "tcp", self.hport, osrc)
        for d, cd in run.items():
            if only is not None and d not in only:
                continue
            for net, ip in cd["ips"].items():
                tgt = d if len(cd["ips"]) == 1 else f"{d}@{net}"
                add("H", "H", None, tgt, ip, "tcp", 80, self.gw_any())
                add("H", "H", None, tgt, ip, "icmp", 0, self.gw_any())
        return probes

    def gw_any(self):
        for c in self.ctrs.values():
            if c.get("gw"):
                return next(iter(c["gw"].values()))
        return "172.17.0.1"

    def truth(self, section, policy=None, isolated=(), only=None):
        pol = policy if policy is not None else (self.policy or {"version": 1})
        o = DockerOracle(self, pol, isolated)
        return nrun.judge(self.t, self.plan(only, isolated), o, self.tally, section, 1.0)

    def addrs(self, shorts=None):
        out = []
        for n, c in self.ctrs.items():
            if c["running"] and (shorts is None or n in shorts):
                out += list(c["ips"].values())
        return out

    def ok(self, cond, sec, text):
        return self.tally.ok(cond, sec, text)

    def begin(self, sec, what):
        print(f"== {sec}: {what}", flush=True)
        self.sec = sec
        self.pos = self.agent.logpos() if self.agent else 0
        self.f0 = self.tally.failed
        self.ts = time.monotonic()

    def end(self):
        if self.tally.failed > self.f0 and self.agent:
            print(f"  agent log for [{self.sec}]:\n{self.agent.excerpt(self.pos)}")
        print(f"  ({time.monotonic() - self.ts:.1f}s)", flush=True)

    def wait_in(self, present=(), absent=(), timeout=5.0, what=""):
        dt = al.wait_elements(present, absent, None, timeout)
        self.ok(dt is not None, self.sec, f"{what}: addresses {list(present)} in and "
                f"{list(absent)} out of `nft list table inet netseg` within {timeout}s")
        if dt is not None:
            print(f"  {what}: in the kernel after {dt * 1000:.0f} ms")
        return dt

    # sections ---------------------------------------------------------------------------------
    def s_setup(self):
        self.begin("baseline", "containers on docker0 and a user network; no agent: the "
                   "Docker model of the test (proves the oracle and the probes)")
        self.setup()
        self.run_ctr("web1", "web", "bridge")
        self.run_ctr("db1", "db", "bridge")
        self.run_ctr("web2", "web", self.neta)
        self.run_ctr("db2", "db", self.neta)
        self.run_ctr("admin", "admin", self.neta)
        self.wait_listening(self.ctrs)
        self.truth("baseline", policy={"version": 1})
        self.end()

    def s_start(self):
        tables = al.netseg_tables()
        if tables:
            return f"netseg tables already exist in the root namespace: {tables}"
        self.tables_ours = True
        if self.marker:
            open(self.marker, "w").close()
        self.write_policy(self.make_policy())
        self.agent = al.Agent(self.binary, ["-p", self.poldir, "--docker", SOCK],
                              os.path.join(self.work, "agent.log"))
        self.begin("start", "agent starts with 5 labelled containers running")
        ok = self.agent.start()
        self.ok(ok is not None, self.sec, f"agent logs 'started: enforcing' (alive "
                f"{self.agent.alive()})\n{self.agent.excerpt()}")
        if not ok:
            self.end()
            return "agent did not start"
        with open(self.work + "/agent.pid", "w") as f:
            f.write(str(self.agent.p.pid))
        ok, text = self.agent.least_privilege()
        print(f"  agent privileges: {text}", flush=True)
        self.ok(ok, self.sec, f"agent runs unprivileged with CAP_NET_ADMIN only: {text}")
        self.wait_in(self.addrs(), what="containers running before the agent started")
        self.truth(self.sec)
        self.end()
        return None

    def s_lifecycle(self):
        self.begin("stop", "docker stop TAG-db1")
        old = self.addrs(["db1"])
        docker("stop", "-t", "1", self.ctrs["db1"]["cname"])
        self.inspect("db1")
        self.wait_in((), old, what="db1 gone")
        self.truth(self.sec)
        self.end()

        self.begin("start-again", "docker start TAG-db1")
        docker("start", self.ctrs["db1"]["cname"])
        self.inspect("db1")
        self.wait_listening(["db1"])
        self.wait_in(self.addrs(["db1"]), what="db1 back")
        self.truth(self.sec)
        self.end()

        self.begin("restart", "docker restart TAG-web2")
        docker("restart", "-t", "1", self.ctrs["web2"]["cname"])
        self.inspect("web2")
        self.wait_listening(["web2"])
        self.wait_in(self.addrs(["web2"]), what="web2 after restart")
        time.sleep(0.2)
        self.truth(self.sec)
        self.end()

        self.begin("connect", "docker network connect TAG-b TAG-admin (group onb: admin->web "
                   "tcp/80 denied) and TAG-web1 (shares TAG-b with admin)")
        docker("network", "connect", self.netb, self.ctrs["admin"]["cname"])
        docker("network", "connect", self.netb, self.ctrs["web1"]["cname"])
        self.inspect("admin")
        self.inspect("web1")
        self.wait_in(self.addrs(["admin", "web1"]), what="new addresses on TAG-b")
        time.sleep(0.3)
        self.truth(self.sec)
        self.end()

        self.begin("disconnect", "docker network disconnect TAG-b TAG-admin")
        old = self.ctrs["admin"]["ips"][self.netb]
        docker("network", "disconnect", self.netb, self.ctrs["admin"]["cname"])
        self.inspect("admin")
        self.wait_in((), [old], what="admin's TAG-b address gone")
        time.sleep(0.3)
        self.truth(self.sec)
        self.end()

        self.begin("new-container", "docker run TAG-web3 on TAG-a while the agent runs")
        self.run_ctr("web3", "web", self.neta)
        self.wait_listening(["web3"])
        self.wait_in(self.addrs(["web3"]), what="web3")
        self.truth(self.sec)
        self.end()

    def s_policy(self):
        self.begin("policy-reload", "policy replaced: + web-web-deny tcp/80")
        p2 = self.make_policy([{"name": "web-web-deny", "from": "web", "to": "web",
                                "ports": ["tcp/80"], "action": "deny"}])
        pos = self.agent.logpos()
        self.write_policy(p2)
        m = self.agent.wait_log("policy reloaded: enforcing", pos, 5)
        self.ok(m is not None, self.sec, "log 'policy reloaded: enforcing' within 5 s")
        self.truth(self.sec)
        self.end()

        self.begin("bad-policy", "a bad policy (undefined group, line 6): the last good one "
                   "stays enforced and the log locates the error")
        pos = self.agent.logpos()
        al.atomic_write(self.polpath, "version: 1\ngroups:\n  web: {labels: {app: web}}\n"
                        "rules:\n  - name: bad\n    from: nosuchgroup\n    to: web\n")
        m = self.agent.wait_log("still enforcing the last good policy", pos, 5)
        self.ok(m is not None, self.sec, "log says it keeps the last good policy")
        log = self.agent.logtext(pos)
        loc = [ln for ln in log.splitlines() if "policy.yaml:6:" in ln and "error" in ln]
        self.ok(bool(loc), self.sec, f"log locates the error at policy.yaml:6:COL; got:\n{log}")
        if loc:
            print("  " + loc[0].split("netseg: ", 1)[-1])
        self.truth(self.sec)  # self.policy is still p2
        pos = self.agent.logpos()
        self.write_policy(self.policy)  # a good file again: a restart must find one
        m = self.agent.wait_log("policy reloaded: enforcing", pos, 5)
        self.ok(m is not None, self.sec, "good policy after the bad one: reloaded within 5 s")
        self.end()

    def s_tamper(self):
        self.begin("tamper", "nft delete table inet netseg / bridge netseg in the root "
                   "namespace (tables this run created)")
        a = self.addrs(["web2"])[0]
        for fam, check in (("inet", lambda: al._has(al.table_text(None), a)),
                           ("bridge", lambda: bool(al.table_text(None, "bridge").strip()))):
            t0 = time.monotonic()
            r = al.nft(["delete", "table", fam, "netseg"])
            if r.returncode:
                self.ok(False, self.sec, f"nft delete table {fam} netseg: {r.stderr.strip()}")
                continue
            dt = None
            while time.monotonic() - t0 < 3:
                if check():
                    dt = time.monotonic() - t0
                    break
                time.sleep(0.005)
            ms = f"{dt * 1000:.0f} ms" if dt is not None else "not within 3 s"
            print(f"  delete table {fam} netseg: restored after {ms}")
            self.ok(dt is not None and dt < 1.0, self.sec, f"table {fam} netseg restored "
                    f"within 1 s (took {ms})")
        self.truth(self.sec)
        self.end()

    def s_agent_restart(self):
        self.begin("agent-restart", "kill -9 under a probe loop; TAG-db3 started while the "
                   "agent is down (isolated), enforced after the restart")
        o = DockerOracle(self, self.policy)
        base = self.plan()
        denied = [p for p in base if not o.verdict(p["osrc"], p["dst"], p["proto"],
                                                   p["port"])[0]]
        state = {"phase": "up", "stop": False, "extra": []}
        iters = []

        def loop():
            while not state["stop"]:
                ph0, extra = state["phase"], list(state["extra"])
                res = nrun.run_probes(self.t, denied + extra, 0.5)
                iters.append((ph0, state["phase"], [p["id"] for p in extra], res))

        th = threading.Thread(target=loop, daemon=True)
        th.start()

        def wait_iters(n, phase):
            k = len([i for i in iters if i[0] == i[1] == phase])
            end = time.monotonic() + 30
            while len([i for i in iters if i[0] == i[1] == phase]) < k + n and \
                    time.monotonic() < end and th.is_alive():
                time.sleep(0.05)

        wait_iters(2, "up")
        state["phase"] = "down"
        self.agent.kill9()
        t_kill = time.monotonic()
        self.run_ctr("db3", "db", self.neta)
        self.wait_listening(["db3"], timeout=3)
        p3 = [p for p in self.plan(only={"db3"})]
        state["extra"] = p3
        wait_iters(2, "down")
        state["phase"] = "restarting"
        t0 = time.monotonic()
        ok = self.agent.start()
        print(f"  agent down {t0 - t_kill:.1f}s, restarted in {time.monotonic() - t0:.2f}s")
        self.ok(ok is not None, self.sec, "restarted agent logs 'started: enforcing'")
        self.wait_in(self.addrs(), what="every running container incl. db3 after the restart")
        state["phase"] = "up2"
        wait_iters(2, "up2")
        state["stop"] = True
        th.join(60)
        o2 = DockerOracle(self, self.policy)
        leaks, down_leaks, after_bad = [], [], []
        phases = {}
        for ph0, ph1, extra, res in iters:
            key = ph0 if ph0 == ph1 else f"{ph0}->{ph1}"
            phases[key] = phases.get(key, 0) + 1
            for p in denied:
                if res[p["id"]]["result"] in SUCCESS:
                    leaks.append((key, p["id"], res[p["id"]]["result"]))
            for p in p3:
                if p["id"] not in extra:
                    continue
                r = res[p["id"]]["result"]
                want, why = o2.verdict(p["osrc"], p["dst"], p["proto"], p["port"])
                if ph0 == ph1 == "down" and r in SUCCESS:
                    down_leaks.append((p["id"], r))
                elif not want and r in SUCCESS:
                    leaks.append((key, p["id"], r))
                elif want and ph0 == "up2" and r != "open":
                    after_bad.append((p["id"], r, why))
        print(f"  probe loop: {len(iters)} iterations {phases}; {len(denied)} denied + "
              f"{len(p3)} db3 probes each")
        self.ok(not leaks, self.sec, f"no denied connection succeeds during or after kill -9 "
                f"and restart: {len(leaks)} did, e.g. {leaks[:8]}")
        self.ok(not down_leaks, self.sec, f"db3 (started while the agent was down) isolated "
                f"until it returns: {len(down_leaks)} got through, e.g. {down_leaks[:8]}")
        self.ok(not after_bad, self.sec, f"db3's allowed connections work after the restart:"
                f" {len(after_bad)} did not, e.g. {after_bad[:6]}")
        self.ok(phases.get("down", 0) >= 2 and phases.get("up2", 0) >= 2, self.sec,
                f"loop covered the down and restarted phases: {phases}")
        self.truth(self.sec)
        self.end()

    def s_burst(self, n=50):
        self.begin("burst", f"{n} containers started concurrently on TAG-a (web/db "
                   "alternating)")
        names = [f"b{i}" for i in range(1, n + 1)]
        t0 = time.monotonic()
        errs = []

        def one(i):
            try:
                self.run_ctr(names[i], "web" if i % 2 == 0 else "db", self.neta)
            except Exception as e:
                errs.append(f"{names[i]}: {e}")

        with concurrent.futures.ThreadPoolExecutor(n) as ex:
            list(ex.map(one, range(n)))
        t_run = time.monotonic() - t0
        self.ok(not errs, self.sec, f"docker run of {n} containers: {errs[:3]}")
        names = [x for x in names if x in self.ctrs]
        dt = al.wait_elements(self.addrs(names), (), None, 20)
        print(f"  {n} concurrent docker runs took {t_run:.1f}s; all addresses in the kernel "
              f"{'%.0f ms' % (dt * 1000) if dt is not None else 'NOT within 20 s'} after the "
              f"last run returned")
        self.ok(dt is not None, self.sec, f"all {len(names)} burst containers classified "
                "(addresses in table inet netseg) within 20 s")
        self.wait_listening(names[:3])
        o = DockerOracle(self, self.policy)
        probes = []
        for b in names:
            c = self.ctrs[b]
            src = c["ips"][self.neta]
            for d, proto, port in (("db2", "tcp", 5432), ("db2", "tcp", 8080),
                                   ("web2", "tcp", 80), ("web2", "icmp", 0),
                                   ("admin", "tcp", 8080)):
                probes.append({"id": f"{b}>{d}/4/{proto}/{port}", "ns": b, "s": b, "d": d,
                               "fam": 4, "src": src, "osrc": src,
                               "dst": self.ctrs[d]["ips"][self.neta], "proto": proto,
                               "port": port})
            dst = c["ips"][self.neta]
            for s, proto, port in (("web2", "tcp", 8080), ("admin", "tcp", 5432)):
                sa = self.ctrs[s]["ips"][self.neta]
                probes.append({"id": f"{s}>{b}/4/{proto}/{port}", "ns": s, "s": s, "d": b,
                               "fam": 4, "src": sa, "osrc": sa, "dst": dst, "proto": proto,
                               "port": port})
        bad = nrun.judge(self.t, probes, o, self.tally, self.sec, 1.0)
        nexp = sum(1 for p in probes if not o.verdict(p["osrc"], p["dst"], p["proto"],
                                                      p["port"])[0])
        print(f"  burst: {len(probes)} probes, {nexp} expected blocked, {len(bad)} wrong")
        self.end()

    def s_status(self):
        """`netseg status --json` agrees with Docker: every running container of this run is
        an endpoint with Docker's id, addresses and labels, on a host veth of its network."""
        self.begin("status", "netseg status --json against docker inspect")
        r = subprocess.run([self.binary, "status", "--json"], capture_output=True, text=True,
                           timeout=10)
        self.ok(r.returncode == 0, self.sec, f"status exit {r.returncode}: {r.stderr.strip()}")
        if r.returncode != 0:
            self.end()
            return
        eps = json.loads(r.stdout)["endpoints"]
        for short, c in self.ctrs.items():
            self.inspect(short)
            if not c["running"]:
                continue
            js = json.loads(docker("inspect", c["cname"]).stdout)[0]
            mine = [e for e in eps if e.get("name") == c["cname"]]
            addrs = sorted(a for e in mine for a in e.get("addresses", []) if ":" not in a)
            self.ok(addrs == sorted(c["ips"].values()), self.sec,
                    f"{c['cname']}: status addresses {addrs} == docker {sorted(c['ips'].values())}")
            self.ok(all(e.get("id") == js["Id"] for e in mine) and mine, self.sec,
                    f"{c['cname']}: status ids == docker id {js['Id'][:12]}")
            labels = js["Config"]["Labels"] or {}
            self.ok(all(all(e.get("labels", {}).get(k) == v for k, v in labels.items())
                        for e in mine), self.sec, f"{c['cname']}: labels match docker's")
            for e in mine:
                master = os.path.realpath(f"/sys/class/net/{e.get('interface')}/master")
                self.ok(os.path.basename(master) == e.get("bridge"), self.sec,
                        f"{c['cname']}: {e.get('interface')} is a port of {e.get('bridge')}")
        ours = {c["cname"] for c in self.ctrs.values() if c["running"]}
        listed = {e.get("name") for e in eps if str(e.get("name", "")).startswith(self.tag)}
        self.ok(listed == ours, self.sec, f"status lists exactly this run's running containers: "
                f"extra {sorted(listed - ours)}, missing {sorted(ours - listed)}")
        self.end()

    def s_sigterm(self):
        self.begin("sigterm", "SIGTERM: exit 0, rules stay")
        before = al.table_text(None)
        rc = self.agent.term()
        self.ok(rc == 0, self.sec, f"exit status {rc}, want 0")
        self.ok(al.table_text(None) == before and before, self.sec,
                "table inet netseg unchanged after the agent exited")
        self.truth(self.sec, only={"web2", "db2", "admin"})
        self.end()


def main():
    if os.geteuid() != 0:
        print(f"{PFX}: skipped: needs root")
        print(f"{PFX}: 0 passed, 0 failed")
        return 77
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("NETSEG_BIN", "./build/netseg"))
    ap.add_argument("--burst", type=int, default=50)
    a = ap.parse_args()
    r = subprocess.run(["bash", os.path.join(os.path.dirname(al.HERE), "docker", "dockerd.sh")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        why = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"]
        print(f"{PFX}: skipped: Docker unavailable: {why[0]}")
        print(f"{PFX}: 0 passed, 0 failed")
        return 77
    if al.netseg_tables():
        print(f"{PFX}: skipped: netseg tables already exist in the root namespace "
              f"({al.netseg_tables()}): another agent? not touching them")
        print(f"{PFX}: 0 passed, 0 failed")
        return 77
    t0 = time.monotonic()
    s = Suite(os.path.abspath(a.bin), None)
    print(f"docker.py: tag {s.tag}; agent = {s.binary}; work dir {s.work}", flush=True)
    rc = 0
    try:
        s.s_setup()
        why = s.s_start()
        if why and not s.tables_ours:
            print(f"{PFX}: skipped: {why}")
            rc = 77
        elif not why:
            for st in (s.s_lifecycle, s.s_policy, s.s_tamper, s.s_agent_restart,
                       lambda: s.s_burst(a.burst), s.s_status, s.s_sigterm):
                try:
                    st()
                except Exception as e:
                    import traceback
                    traceback.print_exc()
                    s.tally.ok(False, getattr(st, "__name__", "step"),
                               f"step raised {type(e).__name__}: {e}")
                if st != s.s_sigterm and not s.agent.alive():
                    s.tally.ok(False, "agent", "agent died:\n" + s.agent.excerpt())
                    if not s.agent.start():
                        break
    finally:
        if s.agent is not None and os.environ.get("NETNS_KEEP_LOGS") == "1":
            print(f"agent log kept: {s.agent.log}")
        t1 = time.monotonic()
        s.t.cleanup()
        print(f"docker.py: cleanup {time.monotonic() - t1:.1f}s")
    left = al.netseg_tables()
    s.tally.ok(not left, "cleanup", f"netseg tables left in the root namespace: {left}")
    print(f"docker.py: {time.monotonic() - t0:.1f}s")
    if s.tally.failures:
        secs = {}
        for sec, _ in s.tally.failures:
            secs[sec] = secs.get(sec, 0) + 1
        print("docker.py failures by section: " + ", ".join(f"{k}: {v}" for k, v in secs.items()))
    print(f"{PFX}: {s.tally.passed} passed, {s.tally.failed} failed")
    if rc == 77:
        return 77
    return 1 if s.tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
