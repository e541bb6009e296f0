#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Cluster mode end to end: three hosts, one etcd, one policy, real packets.

            namespace U: bridge "ul" .254 (the underlay, 10.200.0.0/24, fd00:200::/64)
        |ue              |u1                  |u2                  |u3
   namespace E      namespace h1          namespace h2          namespace h3
   etcd .100        ul0 .1                ul0 .2                ul0 .3
                    br0 10.101.0.1/24     br0 10.102.0.1/24     br0 10.103.0.1/24
                        fd00:101::1/64        fd00:102::1/64        fd00:103::1/64
                    containers h1-<name>  containers h2-<name>  containers h3-<name>
                    agent --node h1       agent --node h2       agent --node h3

Each host routes the other hosts' container subnets over the underlay (no NAT), runs its own
`netseg agent --cluster` fed by an endpoint directory, and knows the other hosts' containers
only through etcd. The truth table (every container pair x tcp/80,443,5432 x IPv4/IPv6) is
judged against tests/netns/oracle.py with every container of the cluster as an endpoint:
after start, after containers come and go on each host, after a policy push; then a bad push
changes nothing, an address outside a node's cidrs is refused, a kill -9'd agent's
containers leave the others after the TTL and a restart within the TTL leaves no gap, etcd
stopped for 10 s while containers change converges, and a watch behind a compaction resyncs.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "agent"))
import agentlib  # noqa: E402
from agentlib import Agent, Oracle, topo, nrun  # noqa: E402

NAME = "cluster"
TTL = 3
PORTS = [("tcp", 80), ("tcp", 443), ("tcp", 5432)]
ETCD_V4 = "10.200.0.100"
ETCD_URL = f"http://{ETCD_V4}:2379"

POLICY1 = {
    "version": 1,
    "defaults": {"container_to_container": "deny", "log": "none"},
    "groups": {"web": {"labels": {"app": "web"}}, "api": {"labels": {"app": "api"}},
               "db": {"labels": {"app": "db"}}},
    "rules": [
        {"name": "web-to-api", "from": "web", "to": "api", "ports": ["tcp/80", "tcp/443"]},
        {"name": "api-to-db", "from": "api", "to": "db", "ports": ["tcp/5432"]},
    ],
}
POLICY2 = {
    "version": 1,
    "defaults": {"container_to_container": "deny", "log": "none"},
    "groups": POLICY1["groups"],
    "rules": [
        {"name": "web-to-api", "from": "web", "to": "api", "ports": ["tcp/443"]},
        {"name": "web-to-db", "from": "web", "to": {"labels": {"app": "db"}},
         "ports": ["tcp/5432"]},
        {"name": "no-db-from-h3", "action": "deny", "from": {"name": "*3"}, "to": "db"},
    ],
}


def host_net(h):
    n = int(h[1:])
    return {"v4": f"10.10{n}.0", "v6": f"fd00:10{n}:"}


class Cluster(topo.Topology):
    def __init__(self, binary):
        super().__init__(tag=f"ncl{os.getpid()}")
        self.bin = binary
        self.dir = f"/tmp/{self.tag}-work"
        os.makedirs(self.dir, exist_ok=True)
        self.ctrs = {}  # name -> {"host", "v4", "v6", "labels", "port"}
        self.agents = {}
        self.etcd = None
        self.nport = 0

    def addrs_of(self, end):
        c = self.ctrs[end]
        return [c["v4"], c["v6"]]

    def build(self, hosts):
        self.add_ns("U")
        # No multicast snooping on any test bridge: a container's MLD report for its
        # solicited-node group goes out before its port is on the bridge, and a snooping
        # bridge would then withhold the host's neighbour solicitations for it.
        self.ip("U", ["link", "add", "ul", "type", "bridge", "stp_state", "0",
                      "forward_delay", "0", "mcast_snooping", "0"])
        # The test's own vantage point (etcdctl, the CLI) on the underlay.
        self.ip("U", ["addr", "add", "10.200.0.254/24", "dev", "ul"])
        self.ip("U", ["addr", "add", "fd00:200::254/64", "dev", "ul", "nodad"])
        self.ip("U", ["link", "set", "ul", "up"])
        self.underlay("E", "ue", ETCD_V4, "fd00:200::100")
        for i, h in enumerate(hosts, 1):
            self.underlay(h, f"u{i}", f"10.200.0.{i}", f"fd00:200::{i}")
            for k in ("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"):
                self.sysctl(h, k, 1)
            net = host_net(h)
            self.ip(h, ["link", "add", "br0", "type", "bridge", "stp_state", "0",
                        "forward_delay", "0", "mcast_snooping", "0"])
            # A fixed MAC: a bridge without one takes its lowest port's, so a container
            # joining would change the gateway's MAC under the others' neighbour caches.
            self.ip(h, ["link", "set", "br0", "address", f"02:10:{int(h[1:]):02x}:00:00:01"])
            self.ip(h, ["addr", "add", net["v4"] + ".1/24", "dev", "br0"])
            self.ip(h, ["addr", "add", net["v6"] + ":1/64", "dev", "br0", "nodad"])
            self.ip(h, ["link", "set", "br0", "up"])
            for k, other in enumerate(hosts, 1):
                if other != h:
                    on = host_net(other)
                    self.ip(h, ["route", "add", on["v4"] + ".0/24", "via", f"10.200.0.{k}"])
                    self.ip(h, ["-6", "route", "add", on["v6"] + ":/64", "via",
                                f"fd00:200::{k}"])
            os.makedirs(self.epdir(h), exist_ok=True)

    def underlay(self, end, port, v4, v6):
        self.add_ns(end)
        self.ip("U", ["link", "add", port, "type", "veth", "peer", "name", "ul0", "netns",
                      self.ns(end)])
        self.ip("U", ["link", "set", port, "master", "ul", "up"])
        self.ip(end, ["addr", "add", v4 + "/24", "dev", "ul0"])
        self.ip(end, ["addr", "add", v6 + "/64", "dev", "ul0", "nodad"])
        self.ip(end, ["link", "set", "ul0", "up"])

    def epdir(self, h):
        return os.path.join(self.dir, f"ep-{h}")

    def add_ctr(self, name, h, idx, labels, addr_v4=None, write=True):
        """A container namespace NAME on H's br0, .10+IDX, and its endpoint file."""
        net = host_net(h)
        self.nport += 1
        c = {"host": h, "v4": addr_v4 or f"{net['v4']}.{10 + idx}",
             "v6": f"{net['v6']}:{10 + idx:x}", "labels": labels, "port": f"vp{self.nport}"}
        self.ctrs[name] = c
        self.add_ns(name)
        self.ip(h, ["link", "add", c["port"], "type", "veth", "peer", "name", "eth0", "netns",
                    self.ns(name)])
        self.ip(name, ["addr", "add", c["v4"] + "/24", "dev", "eth0"])
        self.ip(name, ["addr", "add", c["v6"] + "/64", "dev", "eth0", "nodad"])
        self.ip(name, ["link", "set", "eth0", "up"])
        self.ip(name, ["route", "add", "default", "via", net["v4"] + ".1"])
        self.ip(name, ["-6", "route", "add", "default", "via", net["v6"] + ":1"])
        self.ip(h, ["link", "set", c["port"], "master", "br0", "up"])
        self.start_listener(name)
        if write:
            self.write_ep(name)
        return c

    def write_ep(self, name):
        c = self.ctrs[name]
        doc = {"endpoints": [{"name": name, "interface": c["port"], "bridge": "br0",
                              "addresses": [c["v4"], c["v6"]], "labels": c["labels"]}]}
        agentlib.atomic_write(os.path.join(self.epdir(c["host"]), name + ".json"),
                              json.dumps(doc))

    def del_ctr(self, name):
        c = self.ctrs.pop(name)
        os.unlink(os.path.join(self.epdir(c["host"]), name + ".json"))
        subprocess.run(["ip", "netns", "del", self.ns(name)], capture_output=True)

    # etcd and the CLI -------------------------------------------------------------------------
    def start_etcd(self):
        data = os.path.join(self.dir, "etcd")
        log = open(os.path.join(self.dir, "etcd.log"), "a")
        self.etcd = subprocess.Popen(
            ["ip", "netns", "exec", self.ns("E"), "etcd", "--name", "e", "--data-dir", data,
             "--listen-client-urls", ETCD_URL, "--advertise-client-urls", ETCD_URL,
             "--listen-peer-urls", f"http://{ETCD_V4}:2380",
             "--initial-advertise-peer-urls", f"http://{ETCD_V4}:2380",
             "--initial-cluster", f"e=http://{ETCD_V4}:2380"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        self.procs.append(self.etcd)
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if self.etcdctl(["endpoint", "health"], check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("etcd did not start")

    def stop_etcd(self):
        self.etcd.terminate()
        self.etcd.wait(timeout=20)

    def etcdctl(self, args, check=True):
        return topo.run(["ip", "netns", "exec", self.ns("U"), "env", "ETCDCTL_API=3", "etcdctl",
                         "--endpoints", ETCD_URL] + args, check=check)

    def etcd_post(self, path, body):
        """A gateway call from the test (the underlay namespace reaches etcd)."""
        r = topo.run(["ip", "netns", "exec", self.ns("U"), "curl", "-sf", "--max-time", "20",
                      ETCD_URL + path, "-d", "@-"], input=json.dumps(body))
        return json.loads(r.stdout)

    def netseg(self, args, check=False):
        return topo.run(["ip", "netns", "exec", self.ns("U"), self.bin] + args, check=check)

    def push(self, policy):
        path = os.path.join(self.dir, "policy.yaml")
        with open(path, "w") as f:
            json.dump(policy, f)  # JSON is YAML
        return self.netseg(["cluster", "push", "-p", path, "--cluster", ETCD_URL])

    def agent(self, h):
        a = self.agents.get(h)
        if not a:
            a = Agent(self.bin, ["--docker", "none", "--endpoints-dir", self.epdir(h),
                                 "--control", os.path.join(self.dir, f"{h}.sock"),
                                 "--cluster", ETCD_URL, "--node", h,
                                 "--cluster-ttl", str(TTL)],
                      os.path.join(self.dir, f"agent-{h}.log"), netns=self.ns(h))
            self.agents[h] = a
        return a

    # checks -----------------------------------------------------------------------------------
    def converged(self, timeout=15, skip=()):
        """Every host's sets hold every other host's containers (and no one else's)."""
        for h in self.agents:
            if h in skip:
                continue
            present = [a for c in self.ctrs.values() if c["host"] != h
                       for a in (c["v4"], c["v6"])]
            absent = [a for a in self.gone if not any(a in (c["v4"], c["v6"])
                                                      for c in self.ctrs.values())]
            if agentlib.wait_elements(present, absent, netns=self.ns(h),
                                      timeout=timeout) is None:
                return h
        return None

    def probes(self, only=None):
        out = []
        names = sorted(self.ctrs)
        for s in names:
            for d in names:
                if s == d or (only and not only(s, d)):
                    continue
                for fam in (4, 6):
                    for proto, port in PORTS:
                        sc, dc = self.ctrs[s], self.ctrs[d]
                        k = "v4" if fam == 4 else "v6"
                        out.append({"id": f"{s}>{d}:{proto}{port}v{fam}", "ns": s,
                                    "src": sc[k], "osrc": sc[k], "dst": dc[k],
                                    "proto": proto, "port": port, "s": s, "d": d,
                                    "fam": fam})
        return out

    def oracle(self, policy):
        eps = [{"name": n, "addresses": [c["v4"], c["v6"]], "labels": c["labels"]}
               for n, c in self.ctrs.items()]
        return Oracle(policy, eps, [])


def section_table(cl, tally, name, policy, only=None):
    probes = cl.probes(only)
    bad = nrun.judge(cl, probes, cl.oracle(policy), tally, name)
    cl.counts.append((name, len(probes), len(probes) - len(bad)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("NETSEG_BIN", "build/netseg"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        print(f"{NAME}: skipped: needs root (network namespaces, nftables)")
        print(f"{NAME}: 0 passed, 0 failed")
        return 77
    if not shutil.which("etcd") or not shutil.which("etcdctl"):
        print(f"{NAME}: FAIL: etcd and etcdctl are needed (scripts/deps.sh installs them)")
        print(f"{NAME}: 0 passed, 1 failed")
        return 1
    binary = os.path.abspath(args.bin)
    tally = agentlib.Tally()
    cl = Cluster(binary)
    cl.gone, cl.counts = [], []
    t0 = time.monotonic()
    try:
        sys.path.insert(0, HERE)
        import cluster_cases
        cluster_cases.run_all(cl, tally, section_table, POLICY1, POLICY2, TTL)
    except Exception as e:  # a broken step is a failure, never a pass
        import traceback
        traceback.print_exc()
        tally.ok(False, "setup", f"exception: {e}")
    finally:
        for a in cl.agents.values():
            if a.alive():
                a.term()
            a.note_exit()
            if tally.failed and os.environ.get("CLUSTER_SHOW_LOGS", "1") == "1":
                print(f"--- {a.log} (tail)")
                print(a.excerpt())
        if os.environ.get("NETNS_KEEP_LOGS") != "1":
            shutil.rmtree(cl.dir, ignore_errors=True)
        cl.cleanup()
    for name, n, good in cl.counts:
        print(f"  truth table [{name}]: {good}/{n}")
    print(f"  ({time.monotonic() - t0:.0f} s)")
    print(f"{NAME}: {tally.passed} passed, {tally.failed} failed")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
