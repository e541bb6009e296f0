#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hand-made frames for the spoofing tests, sent on a packet socket (no scapy).

Run inside a namespace: `ip netns exec NS craft.py FILE`, FILE a JSON list of frames:
  {"kind": "udp4", "ifname", "smac", "dmac", "src", "dst", "sport", "dport", "payload"}
  {"kind": "udp6", ... same ...}
  {"kind": "arp", "ifname", "smac", "dmac", "op": 1|2, "sha", "spa", "tha", "tpa"}
  {"kind": "na", "ifname", "smac", "dmac", "src", "dst", "target", "tll", "override": true}
Each frame is sent "count" times (default 3), 50 ms apart.
"""

import ipaddress
import json
import socket
import struct
import sys
import time


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return ipaddress.IPv4Address(a).packed


def ip6(a):
    return ipaddress.IPv6Address(a).packed


def udp4(f):
    payload = f["payload"].encode()
    src, dst = ip4(f["src"]), ip4(f["dst"])
    ulen = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, ulen)
    u = struct.pack("!HHHH", f["sport"], f["dport"], ulen, 0) + payload
    c = csum(pseudo + u) or 0xFFFF
    u = u[:6] + struct.pack("!H", c) + u[8:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0x1234, 0x4000, 64, 17, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return 0x0800, hdr + u


def udp6(f):
    payload = f["payload"].encode()
    src, dst = ip6(f["src"]), ip6(f["dst"])
    ulen = 8 + len(payload)
    pseudo = src + dst + struct.pack("!I3xB", ulen, 17)
    u = struct.pack("!HHHH", f["sport"], f["dport"], ulen, 0) + payload
    c = csum(pseudo + u) or 0xFFFF
    u = u[:6] + struct.pack("!H", c) + u[8:]
    hdr = struct.pack("!IHBB16s16s", 6 << 28, ulen, 17, 64, src, dst)
    return 0x86DD, hdr + u


def arp(f):
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, f["op"], mac(f["sha"]), ip4(f["spa"]),
                       mac(f["tha"]), ip4(f["tpa"]))
    return 0x0806, body


def na(f):
    src, dst = ip6(f["src"]), ip6(f["dst"])
    flags = 0x20000000 if f.get("override", True) else 0
    if f.get("solicited"):
        flags |= 0x40000000
    icmp = struct.pack("!BBHI16s", 136, 0, 0, flags, ip6(f["target"]))
    icmp += struct.pack("!BB6s", 2, 1, mac(f["tll"]))
    pseudo = src + dst + struct.pack("!I3xB", len(icmp), 58)
    c = csum(pseudo + icmp)
    icmp = icmp[:2] + struct.pack("!H", c) + icmp[4:]
    hdr = struct.pack("!IHBB16s16s", 6 << 28, len(icmp), 58, 255, src, dst)
    return 0x86DD, hdr + icmp


BUILD = {"udp4": udp4, "udp6": udp6, "arp": arp, "na": na}


def main():
    with open(sys.argv[1]) as fh:
        frames = json.load(fh)
    socks = {}
    for rnd in range(max(f.get("count", 3) for f in frames)):
        for f in frames:
            if rnd >= f.get("count", 3):
                continue
            etype, body = BUILD[f["kind"]](f)
            s = socks.get(f["ifname"])
            if s is None:
                s = socks[f["ifname"]] = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
                s.bind((f["ifname"], 0))
            frame = mac(f["dmac"]) + mac(f["smac"]) + struct.pack("!H", etype) + body
            s.send(frame.ljust(60, b"\0"))
        time.sleep(0.05)


if __name__ == "__main__":
    main()
