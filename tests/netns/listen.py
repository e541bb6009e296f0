#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Listener for the netns suite; run inside a namespace with `ip netns exec NS listen.py ...`.

TCP: on every --tcp port, IPv4 and IPv6 (wildcard), accept, write "<name>\\n", close.
UDP: on every --udp port and every --udp-addrs address (bound one by one so a reply always
leaves from the address the datagram was sent to, which keeps it a conntrack reply), answer
"<name>:<payload>". Every connection and datagram is appended to --log as one JSON line
{"t": "tcp"|"udp", "src": ADDR, "dst": ADDR, "port": N, "data": HEX}, so tests can check what
actually arrived (spoofing, fail-closed). Prints "ready" once every socket is bound.
"""

import argparse
import json
import selectors
import socket
import struct
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--tcp", default="")
    ap.add_argument("--udp", default="")
    ap.add_argument("--udp-addrs", default="")
    ap.add_argument("--bcast", type=int, default=0,
                    help="also a wildcard UDP port that gets broadcasts and multicasts "
                         "(224.0.0.251, ff02::fb joined), logged as t=bcast")
    a = ap.parse_args()

    sel = selectors.DefaultSelector()
    log = open(a.log, "a", buffering=1)
    name = a.name.encode()

    def record(kind, src, dst, port, data=b""):
        log.write(json.dumps({"t": kind, "src": src, "dst": dst, "port": port,
                              "data": data[:128].hex()}) + "\n")

    for port in [int(p) for p in a.tcp.split(",") if p]:
        for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
            s.listen(4096)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ("tcp", port))

    for port in [int(p) for p in a.udp.split(",") if p]:
        for addr in [x for x in a.udp_addrs.split(",") if x]:
            fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.IPPROTO_IP, 15, 1)  # IP_FREEBIND (IPv6 too on Linux)
            s.bind((addr, port))
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ("udp", port))

    if a.bcast:
        for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, a.bcast))
            for idx, ifname in socket.if_nameindex():
                if ifname == "lo":
                    continue
                try:
                    if fam == socket.AF_INET:
                        mreq = struct.pack("4s4si", socket.inet_aton("224.0.0.251"),
                                           socket.inet_aton("0.0.0.0"), idx)
                        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
                    else:
                        mreq = socket.inet_pton(socket.AF_INET6, "ff02::fb") + \
                            struct.pack("@I", idx)
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
                except OSError:
                    pass
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ("bcast", a.bcast))

    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            kind, port = key.data
            try:
                if kind == "tcp":
                    c, peer = s.accept()
                    record("tcp", peer[0], c.getsockname()[0], port)
                    try:
                        c.setblocking(True)
                        c.settimeout(1.0)
                        c.sendall(name + b"\n")
                        c.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    c.close()
                elif kind == "bcast":
                    data, peer = s.recvfrom(65535)
                    record("bcast", peer[0], "", port, data)
                else:
                    data, peer = s.recvfrom(65535)
                    record("udp", peer[0], s.getsockname()[0], port, data)
                    try:
                        s.sendto(name + b":" + data[:64], peer)
                    except OSError:
                        pass
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                print(f"listen {a.name}: {e}", file=sys.stderr)


if __name__ == "__main__":
    main()
