#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Records real kernel messages as seeds for the netlink harnesses: rtnetlink link/address
dumps and events, nf_tables notifications, NFLOG packet records. Runs as root inside a network
namespace of its own (it creates and deletes it), so it touches nothing of the host. Every seed
is a sequence of datagrams, each preceded by its 2-byte little-endian length, as the
harnesses (fuzz_rtnl, fuzz_nft_monitor, fuzz_nflog) read them.

    python3 fuzz/capture-seeds.py fuzz/seeds
"""
import os
import socket
import struct
import subprocess
import sys
import time

NETLINK_ROUTE, NETLINK_NETFILTER = 0, 12
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP = 270, 1
RTMGRP_LINK, RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR = 0x1, 0x10, 0x100
NFNLGRP_NFTABLES = 7
GROUP = 5


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL)


def collect(sock, quiet=0.3):
    out = []
    sock.settimeout(quiet)
    while True:
        try:
            out.append(sock.recv(65535))
        except socket.timeout:
            return out


def frame(datagrams):
    return b"".join(struct.pack("<H", len(d)) + d for d in datagrams)


def save(outdir, harness, name, datagrams):
    if not datagrams:
        raise SystemExit(f"capture-seeds: nothing captured for {harness}/{name}")
    d = os.path.join(outdir, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(frame(datagrams))


def rtnl_dump(msgtype, family):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    body = struct.pack("BxHiII", family, 0, 0, 0, 0) if msgtype == 18 else struct.pack("BBBBI", family, 0, 0, 0, 0)
    s.send(struct.pack("=IHHII", 16 + len(body), msgtype, 0x301, 1, 0) + body)
    out = []
    while True:
        d = s.recv(65535)
        out.append(d)
        if struct.unpack_from("=IH", d)[1] == 3:  # NLMSG_DONE
            break
    s.close()
    return out


def capture_rtnl(outdir):
    sh("ip link set lo up && ip link add fzbr0 type bridge && ip link set fzbr0 up")
    sh("ip link add fzv0 type veth peer name fzv0p && ip link set fzv0 master fzbr0 up")
    sh("ip addr add 10.99.0.1/24 dev fzbr0 && ip addr add fd00:99::1/64 dev fzbr0 nodad")
    save(outdir, "rtnl", "dump-links", rtnl_dump(18, 0))
    save(outdir, "rtnl", "dump-addrs", rtnl_dump(22, 0))
    ev = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    ev.bind((0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR))
    sh("ip link add fzv1 type veth peer name fzv1p && ip link set fzv1 master fzbr0 up")
    save(outdir, "rtnl", "events-veth-join", collect(ev))
    sh("ip link set fzv1 down && ip link set fzv1 name fzv1r && ip link set fzv1r nomaster")
    save(outdir, "rtnl", "events-rename-leave", collect(ev))
    sh("ip addr add 10.99.0.7/24 dev fzv0 && ip addr del 10.99.0.7/24 dev fzv0")
    sh("ip -6 addr add fd00:99::7/64 dev fzv0 nodad && ip link del fzv1r && ip link del fzbr0")
    save(outdir, "rtnl", "events-addr-del", collect(ev))


def nfnl_socket(group=None):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    if group is not None:
        s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    return s


def capture_nft(outdir):
    mon = nfnl_socket(NFNLGRP_NFTABLES)
    sh("nft add table inet netseg")
    sh("nft add chain inet netseg fwdc '{ type filter hook forward priority 0; policy accept; }'")
    sh("nft add set inet netseg ifs '{ type ifname; }'")
    save(outdir, "nft_monitor", "foreign-table-chain-set", collect(mon))
    sh("nft add element inet netseg ifs '{ \"veth1\", \"veth2\" }'")
    sh("nft add rule inet netseg fwdc iifname @ifs counter drop")
    save(outdir, "nft_monitor", "foreign-element-rule", collect(mon))
    sh("nft add table ip other && nft delete table ip other")
    save(outdir, "nft_monitor", "unrelated-table", collect(mon))
    sh("nft flush set inet netseg ifs && nft delete table inet netseg")
    save(outdir, "nft_monitor", "foreign-flush-delete", collect(mon))


def nflog_bind(group):
    s = nfnl_socket()
    attrs = struct.pack("=HHBxxx", 5, 1, 1)  # NFULA_CFG_CMD: BIND
    attrs += struct.pack("=HH", 10, 2) + struct.pack(">IBx", 0xFFFF, 2) + b"\0\0"  # MODE
    attrs += struct.pack("=HH", 6, 6) + struct.pack(">H", 1) + b"\0\0"  # NFULA_CFG_FLAGS: SEQ
    attrs += struct.pack("=HH", 8, 4) + struct.pack(">I", 1)  # NFULA_CFG_QTHRESH
    nfg = struct.pack("=BBH", 0, 0, socket.htons(group))
    body = nfg + attrs
    s.send(struct.pack("=IHHII", 16 + len(body), (4 << 8) | 1, 0x5, 1, 0) + body)
    ack = s.recv(65535)
    err = struct.unpack_from("=i", ack, 16)[0]
    if err:
        raise SystemExit(f"capture-seeds: NFLOG bind: {os.strerror(-err)}")
    return s


def capture_nflog(outdir):
    s = nflog_bind(GROUP)
    rules = f"""table inet fzlog {{
  chain out {{
    type filter hook output priority 0; policy accept;
    udp dport 7777 log prefix "netseg r_fz-udp drop: " group {GROUP}
    tcp dport 7778 log prefix "netseg r_fz-tcp accept: " group {GROUP}
    icmp type echo-request log prefix "netseg d_c2c drop: " group {GROUP}
    icmpv6 type echo-request log prefix "netseg d_c2w drop: " group {GROUP}
  }}
}}"""
    subprocess.run(["nft", "-f", "-"], input=rules.encode(), check=True)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"x" * 16, ("127.0.0.1", 7777))
    save(outdir, "nflog", "udp4", collect(s))
    u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u6.sendto(b"y" * 16, ("::1", 7777))
    save(outdir, "nflog", "udp6", collect(s))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.settimeout(1)
    try:
        t.connect(("127.0.0.1", 7778))
    except OSError:
        pass
    save(outdir, "nflog", "tcp4-syn", collect(s))
    # Echo requests from raw sockets (ping need not be installed); the kernel fills in the
    # ICMPv6 checksum.
    echo = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + b"fz"
    csum = sum(struct.unpack("!4H", echo[:8])) + struct.unpack("!H", echo[8:])[0]
    csum = ~((csum & 0xFFFF) + (csum >> 16)) & 0xFFFF
    echo = echo[:2] + struct.pack("!H", csum) + echo[4:]
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).sendto(echo, ("127.0.0.1", 0))
    echo6 = struct.pack("!BBHHH", 128, 0, 0, 0x1234, 1) + b"fz"
    socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6).sendto(echo6, ("::1", 0))
    save(outdir, "nflog", "icmp-echo", collect(s))
    sh("nft delete table inet fzlog")


def main():
    outdir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "fuzz/seeds")
    if os.environ.get("FZ_IN_NETNS") != "1":
        ns = f"nsfz{os.getpid()}"
        subprocess.run(["ip", "netns", "add", ns], check=True)
        try:
            env = dict(os.environ, FZ_IN_NETNS="1")
            r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, __file__, outdir], env=env)
        finally:
            subprocess.run(["ip", "netns", "del", ns])
        sys.exit(r.returncode)
    sh("ip link set lo up")
    capture_rtnl(outdir)
    capture_nft(outdir)
    capture_nflog(outdir)
    print(f"capture-seeds: seeds written under {outdir}")


if __name__ == "__main__":
    main()
