# SPDX-License-Identifier: GPL-2.0-or-later
"""Test topology for the netseg kernel truth-table suite: namespaces, veths, bridges, listeners.

                              namespace W ("world")
                     eth0 10.77.0.2 .3 .254/24  fd77::2 ::3 ::254/64
                                   |  (routed veth; W's default route -> 10.77.0.1 / fd77::1)
  namespace H ("host")            vw 10.77.0.1/24 fd77::1/64
    ip_forward=1, ipv6 forwarding=1, bridge-nf-call-ip(6)tables=0 at start (netseg must set 1)
    netseg runs here: `ip netns exec H netseg apply ...`; every table it installs lives in H
    br0 10.88.0.1/24 fd88::1/64                          br1 10.89.0.1/24 fd89::1/64
     |vc1  |vc2  |vc3  |vc4  |vc5  |vc6  (|vc9 |vc10)      |vc7   |vc8
     c1    c2    c3    c4    c5    c6    (c9   c10)        c7     c8
    .11   .12   .13   .14   .15   .16    (.19  .20)        .17    .18   (fd88::11 .. fd89::18)
  c1..c8 are managed "containers" (declared in the endpoint file); c9/c10 are unknown
  interfaces that appear on br0 and must be isolated (spec Meaning 6).

Every namespace is named <tag>-<end>, tag = NETNS_TAG or "nsg<pid>", so concurrent runs never
clash; Topology.cleanup() (called from atexit and signal handlers) kills the listeners this
process started, by PID, and deletes the namespaces it created and its log directory
(/tmp/<tag>-logs; NETNS_KEEP_LOGS=1 keeps it for debugging).
"""

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable or "python3"
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import neigh  # noqa: E402

TCP_PORTS = [80, 443, 5432, 8080, 9100]
BCAST_PORT = 6000  # wildcard UDP listener for broadcast/multicast
UDP_PORTS = [53, 5353]
# (proto, port) probed between every pair of ends, for IPv4 and IPv6; icmp = echo request.
SERVICES = [("tcp", p) for p in TCP_PORTS] + [("udp", p) for p in UDP_PORTS] + [("icmp", 0)]

BRIDGES = {
    "br0": {"v4": "10.88.0.1", "v6": "fd88::1", "mac": "02:88:00:00:00:01"},
    "br1": {"v4": "10.89.0.1", "v6": "fd89::1", "mac": "02:89:00:00:00:01"},
}


def _ctr(n, br):
    net = {"br0": "88", "br1": "89", "br2": "90"}[br]
    return {
        "bridge": br,
        "v4": f"10.{net}.0.{10 + n}",
        "v6": f"fd{net}::{10 + n}",
        "mac": f"02:{net}:00:00:00:{10 + n:02d}",
        "port": f"vc{n}",
    }


# Managed containers (c1..c8) and the unknown interfaces (c9, c10) the fail-closed test adds.
CONTAINERS = {f"c{n}": _ctr(n, "br0" if n <= 6 else "br1") for n in range(1, 9)}
UNKNOWN = {"c9": _ctr(9, "br0"), "c10": _ctr(10, "br0"), "c11": _ctr(11, "br2")}
# br2 exists only for the --bridge test: no managed container on it, c11 its only port
BR2 = {"v4": "10.90.0.1", "v6": "fd90::1", "mac": "02:90:00:00:00:01"}

HOST_LINK = {"v4": "10.77.0.1", "v6": "fd77::1", "mac": "02:77:00:00:00:01"}
WORLD = {"v4": "10.77.0.2", "v6": "fd77::2", "mac": "02:77:00:00:00:02"}
WORLD3 = {"v4": "10.77.0.3", "v6": "fd77::3"}  # second source address in W (cidr except)
META = {"v4": "10.77.0.254", "v6": "fd77::254"}  # the "metadata" address, also in W

HOST_ADDRS = {
    4: [BRIDGES["br0"]["v4"], BRIDGES["br1"]["v4"], HOST_LINK["v4"]],
    6: [BRIDGES["br0"]["v6"], BRIDGES["br1"]["v6"], HOST_LINK["v6"]],
}


def run(cmd, check=True, input=None, timeout=60):
    r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.strip()}")
    return r


def require_root():
    if os.geteuid() != 0:
        print("netns: skipped: needs root (network namespaces, nftables)")
        print("netns: 0 passed, 0 failed")
        sys.exit(77)


class Topology:
    def __init__(self, tag=None, logdir=None):
        self.tag = tag or os.environ.get("NETNS_TAG") or f"nsg{os.getpid()}"
        self.made = []  # namespaces created, in creation order
        self.procs = []  # Popen of the processes this object started
        self.logdir = logdir or f"/tmp/{self.tag}-logs"
        os.makedirs(self.logdir, exist_ok=True)
        self._cleaned = False
        # Every pair of ends probed at once needs more neighbours than the machine-wide
        # default allows; tests/netns/neigh.py says why and gives them back at cleanup.
        neigh.claim()
        atexit.register(self.cleanup)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame):
        self.cleanup()
        sys.exit(128 + signum)

    # names ------------------------------------------------------------------------------------
    def ns(self, end):
        return f"{self.tag}-{end}"

    def exec_prefix(self, end):
        """The command prefix that runs a program in END's network namespace (subclasses of
        Topology whose ends are not `ip netns` namespaces, e.g. Docker containers, override
        it; tests/agent uses `nsenter -t PID -n`)."""
        return ["ip", "netns", "exec", self.ns(end)]

    def nsexec(self, end, cmd, **kw):
        return run(["ip", "netns", "exec", self.ns(end)] + cmd, **kw)

    def sysctl(self, end, key, val):
        self.nsexec(end, ["sysctl", "-qw", f"{key}={val}"])

    def sysctl_get(self, end, key):
        return self.nsexec(end, ["sysctl", "-n", key]).stdout.strip()

    def ip(self, end, args, check=True):
        return run(["ip", "-n", self.ns(end)] + args, check=check)

    # building ---------------------------------------------------------------------------------
    def add_ns(self, end):
        name = self.ns(end)
        run(["ip", "netns", "add", name])
        self.made.append(name)
        self.ip(end, ["link", "set", "lo", "up"])
        # No DAD anywhere (link-local included): addresses are usable at once.
        for k in ("net.ipv6.conf.all.accept_dad", "net.ipv6.conf.default.accept_dad"):
            self.sysctl(end, k, 0)
        self.sysctl(end, "net.ipv6.conf.default.accept_ra", 0)
        self.sysctl(end, "net.ipv4.ping_group_range", "0 2147483647")

    def add_container(self, end, c):
        """A container-like namespace END on c["bridge"], host end c["port"] in H."""
        self.add_ns(end)
        self.ip("H", ["link", "add", c["port"], "type", "veth", "peer", "name", "eth0",
                      "netns", self.ns(end)])
        self.ip(end, ["link", "set", "eth0", "address", c["mac"]])
        self.ip(end, ["addr", "add", c["v4"] + "/24", "dev", "eth0"])
        self.ip(end, ["addr", "add", c["v6"] + "/64", "dev", "eth0", "nodad"])
        self.ip(end, ["link", "set", "eth0", "up"])
        br = BRIDGES.get(c["bridge"]) or BR2
        self.ip(end, ["route", "add", "default", "via", br["v4"]])
        self.ip(end, ["-6", "route", "add", "default", "via", br["v6"]])
        self.ip("H", ["link", "set", c["port"], "master", c["bridge"], "up"])

    def add_bridge(self, name, b):
        self.ip("H", ["link", "add", name, "type", "bridge", "stp_state", "0",
                      "forward_delay", "0"])
        self.ip("H", ["link", "set", name, "address", b["mac"]])
        self.ip("H", ["addr", "add", b["v4"] + "/24", "dev", name])
        self.ip("H", ["addr", "add", b["v6"] + "/64", "dev", name, "nodad"])
        self.ip("H", ["link", "set", name, "up"])

    def build(self):
        self.add_ns("H")
        for k in ("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"):
            self.sysctl("H", k, 1)
        for name, b in BRIDGES.items():
            self.add_bridge(name, b)
        # netseg must notice and turn these on itself (spec: checks and sets what it needs).
        for k in ("net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables"):
            self.sysctl("H", k, 0)
        for end, c in CONTAINERS.items():
            self.add_container(end, c)
        # world
        self.add_ns("W")
        self.ip("H", ["link", "add", "vw", "type", "veth", "peer", "name", "eth0",
                      "netns", self.ns("W")])
        self.ip("H", ["link", "set", "vw", "address", HOST_LINK["mac"]])
        self.ip("H", ["addr", "add", HOST_LINK["v4"] + "/24", "dev", "vw"])
        self.ip("H", ["addr", "add", HOST_LINK["v6"] + "/64", "dev", "vw", "nodad"])
        self.ip("H", ["link", "set", "vw", "up"])
        self.ip("W", ["link", "set", "eth0", "address", WORLD["mac"]])
        for a in (WORLD, WORLD3, META):
            self.ip("W", ["addr", "add", a["v4"] + "/24", "dev", "eth0"])
            self.ip("W", ["addr", "add", a["v6"] + "/64", "dev", "eth0", "nodad"])
        self.ip("W", ["link", "set", "eth0", "up"])
        self.ip("W", ["route", "add", "default", "via", HOST_LINK["v4"], "src", WORLD["v4"]])
        self.ip("W", ["-6", "route", "add", "default", "via", HOST_LINK["v6"],
                      "src", WORLD["v6"]])
        for end in list(CONTAINERS) + ["W", "H"]:
            self.start_listener(end)
        return self

    def addrs_of(self, end):
        if end == "H":
            return HOST_ADDRS[4] + HOST_ADDRS[6] + [BR2["v4"], BR2["v6"]]
        if end == "W":
            return [a[f] for a in (WORLD, WORLD3, META) for f in ("v4", "v6")]
        c = CONTAINERS.get(end) or UNKNOWN[end]
        return [c["v4"], c["v6"]]

    def start_listener(self, end, extra=()):
        log = os.path.join(self.logdir, f"listen-{end}.jsonl")
        cmd = ["ip", "netns", "exec", self.ns(end), PY, os.path.join(HERE, "listen.py"),
               "--name", end, "--log", log,
               "--tcp", ",".join(map(str, TCP_PORTS)), "--udp", ",".join(map(str, UDP_PORTS)),
               "--udp-addrs", ",".join(self.addrs_of(end)), "--bcast", str(BCAST_PORT)] + \
            list(extra)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        if not line.startswith("ready"):
            err = p.stderr.read() if p.poll() is not None else ""
            raise RuntimeError(f"listener in {end} did not start: {line!r} {err}")
        self.procs.append(p)
        return log

    def spawn(self, end, cmd, **kw):
        """Start a background process in END's namespace; it is killed at cleanup."""
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(end)] + cmd, **kw)
        self.procs.append(p)
        return p

    def listener_log(self, end):
        path = os.path.join(self.logdir, f"listen-{end}.jsonl")
        out = []
        try:
            with open(path) as f:
                for line in f:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
        except FileNotFoundError:
            pass
        return out

    # probing ----------------------------------------------------------------------------------
    def probe(self, end, probes, timeout=0.8):
        """Run probe.py in END; probes: list of dicts (id, dst, proto, port, src?)."""
        p = self.probe_start(end, probes, timeout)
        return self.probe_wait(p)

    def probe_start(self, end, probes, timeout=0.8):
        self._nprobe = getattr(self, "_nprobe", 0) + 1
        path = os.path.join(self.logdir, f"probe-{end}-{self._nprobe}.json")
        # Fresh source ports per namespace for the whole run (20000-59999, then wrap): a
        # conntrack entry left by an allowed flow of an earlier scenario must never make a
        # probe look like an established reply.
        if not hasattr(self, "_sport"):
            self._sport = {}
        probes = [dict(p) for p in probes]
        for p in probes:
            n = self._sport.get(end, 0)
            self._sport[end] = n + 1
            p["sport"] = 20000 + n % 40000
        with open(path, "w") as f:
            json.dump({"timeout": timeout, "probes": probes}, f)
        cmd = self.exec_prefix(end) + [PY, os.path.join(HERE, "probe.py"), path]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def probe_wait(self, p):
        out, err = p.communicate(timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"probe.py failed: {err.strip()}")
        return {r["id"]: r for r in json.loads(out)}

    # teardown ---------------------------------------------------------------------------------
    def cleanup(self):
        if self._cleaned:
            return
        self._cleaned = True
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.kill()
                except OSError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except Exception:
                pass
        for name in reversed(self.made):
            # anything still inside one of our namespaces was started by us
            r = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
            for pid in r.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self.made = []
        neigh.release()
        if os.environ.get("NETNS_KEEP_LOGS") != "1":
            shutil.rmtree(self.logdir, ignore_errors=True)
