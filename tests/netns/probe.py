#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Prober for the netns suite; run inside a namespace with `ip netns exec NS probe.py FILE`.

FILE is JSON {"timeout": SECONDS, "probes": [{"id", "dst", "proto", "port", "src"?, "sport"?}]}.
"sport" is the source port (the ICMP echo id for icmp): the caller hands out fresh ones so a
probe never reuses the conntrack tuple of an earlier, possibly allowed, flow.
Every probe runs in parallel; prints a JSON list of {"id", "result", "detail"} where result is
  open     TCP handshake done and the listener's banner read / UDP echo / ICMP echo reply
  blocked  nothing came back before the timeout (what a drop looks like)
  refused  RST or ICMP unreachable came back (something answered, but not the listener)
  partial  TCP connected but no banner (replies of an established flow lost)
  error    local failure (detail says what)
"""

import errno
import json
import os
import random
import socket
import struct
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def fam_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def probe_tcp(p, timeout):
    s = socket.socket(fam_of(p["dst"]), socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((p.get("src") or "", p.get("sport", 0)))
        s.settimeout(timeout)
        t0 = time.monotonic()
        try:
            s.connect((p["dst"], p["port"]))
        except socket.timeout:
            return "blocked", "timeout"
        except ConnectionRefusedError:
            return "refused", "RST"
        except OSError as e:
            if e.errno in (113, 101):  # EHOSTUNREACH, ENETUNREACH
                return "refused", os.strerror(e.errno)
            return "error", str(e)
        s.settimeout(max(0.2, timeout - (time.monotonic() - t0)) + 0.5)
        try:
            data = s.recv(256)
        except OSError as e:
            return "partial", f"connected, no banner: {e}"
        if not data:
            return "partial", "connected, EOF without banner"
        return "open", data.decode(errors="replace").strip()
    finally:
        s.close()


def probe_udp(p, timeout):
    s = socket.socket(fam_of(p["dst"]), socket.SOCK_DGRAM)
    try:
        s.bind((p.get("src") or "", p.get("sport", 0)))
        s.settimeout(timeout)
        s.connect((p["dst"], p["port"]))
        tag = f"probe-{p['id']}".encode()
        s.send(tag)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "blocked", "timeout"
            s.settimeout(left)
            try:
                data = s.recv(512)
            except socket.timeout:
                return "blocked", "timeout"
            except ConnectionRefusedError:
                return "refused", "ICMP port unreachable"
            except OSError as e:
                return "refused", str(e)
            if data.endswith(b":" + tag):
                return "open", data.split(b":")[0].decode(errors="replace")
    finally:
        s.close()


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def probe_icmp(p, timeout):
    v6 = fam_of(p["dst"]) == socket.AF_INET6
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        if p.get("src"):
            s.bind((p["src"], 0))
        ident = p.get("sport") or random.randrange(1, 65536)
        payload = f"probe-{p['id']}".encode()
        if v6:
            pkt = struct.pack("!BBHHH", 128, 0, 0, ident, 1) + payload  # kernel sums ICMPv6
        else:
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
            pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, 1) + payload
        s.sendto(pkt, (p["dst"], 0))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "blocked", "timeout"
            s.settimeout(left)
            try:
                data, peer = s.recvfrom(2048)
            except socket.timeout:
                return "blocked", "timeout"
            if not v6:
                data = data[(data[0] & 0xF) * 4:]
            if len(data) < 8:
                continue
            typ, code, _, rid, _ = struct.unpack("!BBHHH", data[:8])
            if peer[0] != p["dst"] and socket.inet_pton(fam_of(peer[0]), peer[0]) != \
                    socket.inet_pton(fam_of(p["dst"]), p["dst"]):
                continue
            if rid != ident:
                continue
            if typ == (129 if v6 else 0):
                return "open", "echo reply"
            if typ in ((1, 3) if v6 else (3, 11)):
                return "refused", f"icmp type {typ} code {code}"
    finally:
        s.close()


def run_one(p, timeout):
    try:
        fn = {"tcp": probe_tcp, "udp": probe_udp, "icmp": probe_icmp}[p["proto"]]
        result, detail = fn(p, timeout)
    except Exception as e:  # report, never crash the batch
        result, detail = "error", f"{type(e).__name__}: {e}"
        if isinstance(e, OSError) and e.errno == errno.EINVAL:
            detail += " (no neighbour entry could be made: table full? tests/netns/neigh.py)"
    return {"id": p["id"], "result": result, "detail": detail}


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    timeout = float(spec.get("timeout", 0.8))
    probes = spec["probes"]
    if not probes:
        print("[]")
        return
    with ThreadPoolExecutor(max_workers=min(256, len(probes))) as ex:
        results = list(ex.map(lambda p: run_one(p, timeout), probes))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
