#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Records real seeds for fuzz_dns, fuzz_etcd and fuzz_cluster_values (root):

  dns      replies of the test DNS server of tests/agent/robust_fqdn.py, run in a network
           namespace of its own and asked over its loopback only (UDP and TCP, A and AAAA,
           CNAME chains, TC, NXDOMAIN-like empty answers), plus the same replies as glibc's
           res_query receives them (ctypes, resolv.conf pointing at that server);
  etcd     answers of an etcd started here on 127.0.0.1 (ports from this PID, a temporary
           data dir, stopped by its PID), recorded with curl: ranges, watch streams, leases,
           transactions, errors; the values in them written by `netseg cluster push`,
           `netseg cluster add-node` and, for endpoints, in cluster_ep_encode's format;
  cluster_values  those values, keyed as the harness takes them.

  python3 fuzz/capture-seeds-dns-etcd.py fuzz/seeds --bin build/netseg
"""

import argparse
import base64
import ctypes
import ctypes.util
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FQDN = os.path.join(HERE, "..", "tests", "agent", "robust_fqdn.py")


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- DNS ---------------------------------------------------------------------------------

def query(name, qtype, qid):
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + \
        b"".join(bytes([len(lb)]) + lb.encode() for lb in name.split(".")) + b"\0" + \
        struct.pack("!HH", qtype, 1)


def ask(server, name, qtype, tcp, qid):
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    q = query(name, qtype, qid)
    if not tcp:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(q, (server, 53))
        return s.recv(65535)
    s = socket.create_connection((server, 53), timeout=3)
    s.sendall(struct.pack("!H", len(q)) + q)
    out = b""
    while True:  # the whole stream: the 2-byte length, then the message
        d = s.recv(65535)
        if not d:
            return out
        out += d


def dns_client(out):
    """Runs inside the namespace: asks the server on loopback, writes the seeds."""
    names = [("t1.ci.example.com", 1), ("t7.ci.example.com", 28), ("alias3.ci.example.com", 1),
             ("alias4.ci.example.com", 28), ("many.ci.example.com", 1),
             ("huge.ci.example.com", 1), ("ci.example.com", 1), ("nothing.example.com", 1),
             ("short2.example.org", 1), ("T9.CI.Example.COM", 1)]
    qid = 0x1000
    # The harness puts TCP streams in IPv4 segments: one TCP capture per name is enough.
    for name, qtype in names:
        for server, tcp in (("127.0.0.1", False), ("127.0.0.1", True), ("::1", False)):
            qid += 1
            r = ask(server, name, qtype, tcp, qid)
            fam = "6" if ":" in server else "4"
            tag = f"{name.split('.')[0].lower()}-{'aaaa' if qtype == 28 else 'a'}"
            # byte 0: the path (0 UDP message, 1 TCP stream, 2 in IPv6 UDP), max_ips << 2
            for max_ips in ((16, 1) if fam == "4" else (16,)):
                sel = (max_ips << 2) | (1 if tcp else (2 if fam == "6" else 0))
                write(out, f"{tag}-{'tcp' if tcp else 'udp'}{fam}-max{max_ips}",
                      bytes([sel]) + r)
    # glibc's own stub resolver on the same server: what an application's lookup receives.
    lib = ctypes.CDLL(ctypes.util.find_library("resolv"))
    buf = ctypes.create_string_buffer(65535)
    for name, qtype in (("alias5.ci.example.com", 1), ("many.ci.example.com", 1)):
        query_fn = getattr(lib, "__res_query", None) or lib.res_query
        n = query_fn(name.encode(), 1, qtype, buf, len(buf))
        if n > 0:
            write(out, f"glibc-{name.split('.')[0]}", bytes([16 << 2]) + buf.raw[:n])


def capture_dns(out):
    ns = f"nsfzd{os.getpid()}"
    etc = f"/etc/netns/{ns}"
    srv = None
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        os.makedirs(etc, exist_ok=True)
        with open(os.path.join(etc, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\noptions edns0\n")
        srv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, FQDN, "--serve"],
                               stdout=subprocess.PIPE, text=True)
        if srv.stdout.readline().strip() != "ready":
            raise RuntimeError("DNS server did not start")
        subprocess.run(["ip", "netns", "exec", ns, sys.executable, __file__, "--dns-client",
                        out], check=True)
        with open(os.path.join(etc, "resolv.conf"), "rb") as f:
            write(os.path.join(os.path.dirname(out), "resolvconf"), "netns-stub", f.read())
    finally:
        if srv:
            srv.kill()
            srv.wait()
        shutil.rmtree(etc, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", ns], check=False)


# --- etcd --------------------------------------------------------------------------------

def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def capture_etcd(seeds, netseg):
    port = 20000 + os.getpid() % 20000
    url = f"http://127.0.0.1:{port}"
    tmp = tempfile.mkdtemp(prefix="fzetcd")
    etcd = None
    out, vals = os.path.join(seeds, "etcd"), os.path.join(seeds, "cluster_values")

    def post(path, body):
        r = subprocess.run(["curl", "-s", "--max-time", "10", url + path, "-d", "@-"],
                           input=json.dumps(body).encode(), stdout=subprocess.PIPE, check=True)
        return r.stdout

    def etcdctl(*args):
        subprocess.run(["etcdctl", "--endpoints", url] + list(args), check=True,
                       stdout=subprocess.DEVNULL, env=dict(os.environ, ETCDCTL_API="3"))

    try:
        etcd = subprocess.Popen(
            ["etcd", "--name", "fz", "--data-dir", os.path.join(tmp, "data"),
             "--listen-client-urls", url, "--advertise-client-urls", url,
             "--listen-peer-urls", f"http://127.0.0.1:{port + 1}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{port + 1}",
             "--initial-cluster", f"fz=http://127.0.0.1:{port + 1}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if subprocess.run(["curl", "-sf", url + "/health"], stdout=subprocess.DEVNULL
                              ).returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("etcd did not start")
        # A watch from revision 1, recorded while the values are written.
        watch = subprocess.Popen(
            ["curl", "-sN", "--max-time", "6", url + "/v3/watch", "-d",
             json.dumps({"create_request": {"key": b64("/netseg/v1/"),
                                            "range_end": b64("/netseg/v10"),
                                            "start_revision": 1}})],
            stdout=subprocess.PIPE)
        time.sleep(0.5)
        ex = os.path.join(HERE, "..", "examples")
        for d, f in (("demo", "policy.yaml"), ("egress-allowlist", "policy.json"),
                     ("fqdn", "policy.yaml")):
            pol = os.path.join(tmp, d)
            os.makedirs(pol)
            shutil.copy(os.path.join(ex, d, f), pol)
            subprocess.run([netseg, "cluster", "push", "-p", pol, "--cluster", url],
                           check=True, stdout=subprocess.DEVNULL)
        subprocess.run([netseg, "cluster", "add-node", "n1", "--cidr", "10.1.0.0/24,fd01::/64",
                        "--cluster", url], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([netseg, "cluster", "add-node", "n2", "--cidr", "10.2.0.0/24",
                        "--cluster", url], check=True, stdout=subprocess.DEVNULL)
        lease = json.loads(post("/v3/lease/grant", {"TTL": 30}))
        write(out, "lease-grant", b"l" + json.dumps(lease).encode())
        write(out, "lease-keepalive", b"l" + post("/v3/lease/keepalive", {"ID": lease["ID"]}))
        eps = [{"name": "web", "labels": {"app": "web", "tier": "front"}, "image": "nginx:1.25",
                "networks": ["front"], "addresses": ["10.1.0.5", "fd01::5"]},
               {"name": "db", "labels": {"app": "db"}, "image": None, "networks": [],
                "addresses": ["10.1.0.9"]},
               {"name": "stray", "labels": {}, "networks": ["x"], "addresses": ["10.9.0.1"]}]
        for e in eps:
            key = f"/netseg/v1/endpoints/n1/{e['name']}"
            val = json.dumps(e, sort_keys=True, separators=(",", ":"))
            txn = {"success": [{"request_put": {"key": b64(key), "value": b64(val),
                                                "lease": lease["ID"]}}]}
            write(out, f"txn-{e['name']}", b"t" + post("/v3/kv/txn", txn))
        post("/v3/kv/put", {"key": b64("/netseg/v1/status/n1"), "value": b64(
            json.dumps({"policy_revision": 3, "applied": 1733280000, "endpoints": 2}))})
        etcdctl("del", "/netseg/v1/endpoints/n1/stray")
        rng = post("/v3/kv/range", {"key": b64("/netseg/v1/"), "range_end": b64("/netseg/v10")})
        write(out, "range-all", b"r" + rng)
        write(out, "range-limit", b"r" + post("/v3/kv/range", {
            "key": b64("/netseg/v1/"), "range_end": b64("/netseg/v10"), "limit": 2}))
        write(out, "range-empty", b"r" + post("/v3/kv/range", {"key": b64("/none")}))
        write(out, "range-error", b"r" + post("/v3/kv/range", {"key": 5}))
        write(out, "lease-error", b"l" + post("/v3/lease/keepalive", {"ID": "12"}))
        write(out, "txn-compare-fail", b"t" + post("/v3/kv/txn", {
            "compare": [{"key": b64("/netseg/v1/policy"), "target": "VERSION",
                         "result": "EQUAL", "version": "0"}],
            "success": [{"request_put": {"key": b64("/x"), "value": b64("y")}}]}))
        write(out, "b64-key", b"b" + b64("/netseg/v1/endpoints/n1/web").encode())
        w, _ = watch.communicate()
        write(out, "watch-from-1", b"w\x07" + w)
        stored = {}
        for kv in json.loads(rng)["kvs"]:
            key = base64.b64decode(kv["key"])
            stored[key.decode()] = base64.b64decode(kv.get("value", ""))
            write(vals, "value-" + key.decode().strip("/").replace("/", "_"),
                  key + b"\0" + stored[key.decode()])
        # Selector forms: 'E' the node's value, a newline, an endpoint's; 'c' a --cidr list.
        for name in ("web", "db"):
            write(vals, f"node-then-{name}", b"E" + stored["/netseg/v1/nodes/n1"] + b"\n" +
                  stored[f"/netseg/v1/endpoints/n1/{name}"])
        write(vals, "cidr-list", b"c10.1.0.0/24,fd01::/64")
        write(vals, "cidr-list-v4", b"c10.2.0.0/24")
        post("/v3/kv/compaction", {"revision": json.loads(rng)["header"]["revision"]})
        compacted = subprocess.run(
            ["curl", "-sN", "--max-time", "2", url + "/v3/watch", "-d", json.dumps(
                {"create_request": {"key": b64("/netseg/v1/"), "start_revision": 1}})],
            stdout=subprocess.PIPE).stdout
        write(out, "watch-compacted", b"w\x31" + compacted)
    finally:
        if etcd:
            etcd.terminate()
            etcd.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds")
    ap.add_argument("--bin", default="build/netseg")
    ap.add_argument("--dns-client", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.dns_client:
        dns_client(args.seeds)
        return 0
    capture_dns(os.path.join(args.seeds, "dns"))
    capture_etcd(args.seeds, os.path.abspath(args.bin))
    return 0


if __name__ == "__main__":
    sys.exit(main())
