#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The extra delay a DNS reply sees while the agent holds it (fqdn rules), at 1,000 replies/s.

The topology and the DNS server are tests/agent/robust_fqdn.py's (imported): container c1
(group ci) sends UDP queries to the world's server at RATE per second for SECS seconds, each
a fresh name, and times each reply. Three runs:
  learned     names ci-out allows (t<N>.ci.example.com): every reply held, parsed, and its
              address committed to the kernel before release
  not learned names no rule allows (x<N>.example.org): held, parsed, released
  bypass      the agent stopped: the queue's bypass delivers the replies unheld
The extra delay is a run's percentile minus bypass's. Prints one JSON object.

Usage: fqdn_delay.py NETSEG [RATE] [SECS]   (root)
"""
import json
import os
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "agent"))
import robust_fqdn as rf  # noqa: E402


def client(rate, secs, fmt, start):
    """In the container: paced queries, one fresh name each; per-reply RTT in ms."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("10.77.0.2", 53))
    n = int(rate * secs)
    sent, rtt = [0.0] * n, [None] * n
    done = threading.Event()

    def rx():
        s.settimeout(2)
        try:
            while True:
                r = s.recv(4096)
                t = time.monotonic()
                i = struct.unpack("!H", r[:2])[0]
                if i < n:
                    rtt[i] = (t - sent[i]) * 1000
        except OSError:
            done.set()

    th = threading.Thread(target=rx, daemon=True)
    th.start()
    t0 = time.monotonic()
    for i in range(n):
        due = t0 + i / rate
        while True:
            now = time.monotonic()
            if now >= due:
                break
            time.sleep(min(due - now, 0.0005))
        q = struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + \
            rf.encode_name(fmt.format(start + i)) + struct.pack("!HH", 1, 1)
        sent[i] = time.monotonic()
        s.send(q)
    achieved = n / (time.monotonic() - t0)
    th.join(timeout=5)
    got = sorted(x for x in rtt if x is not None)
    print(json.dumps({"sent": n, "answered": len(got), "rate": achieved, "rtt_ms": got}))


def pct(xs, q):
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else None


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client(float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
        return 0
    if os.geteuid() != 0:
        print("fqdn_delay: needs root", file=sys.stderr)
        return 1
    netseg = sys.argv[1]
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 1000
    secs = float(sys.argv[3]) if len(sys.argv) > 3 else 5
    s = rf.Suite(netseg)
    out = {"rate": rate, "secs": secs}
    try:
        s.setup()

        def run(label, fmt, start):
            r = s.t.nsexec("c1", [rf.PY, os.path.abspath(__file__), "--client", str(rate),
                                  str(secs), fmt, str(start)], timeout=120)
            d = json.loads(r.stdout)
            x = d["rtt_ms"]
            out[label] = {"sent": d["sent"], "answered": d["answered"],
                          "achieved_rate": round(d["rate"], 1),
                          "median_ms": round(pct(x, 0.5), 3), "p99_ms": round(pct(x, 0.99), 3),
                          "max_ms": round(x[-1], 3)}

        run("learned", "t{}.ci.example.com", 20000)
        run("not_learned", "u{}.example.org", 20000)
        st = s.status() or {}
        out["agent"] = {k: v for k, v in st.get("fqdn", {}).items() if k != "learned"}
        s.agent.term()
        run("bypass", "t{}.ci.example.com", 40000)
        for k in ("learned", "not_learned"):
            out[k]["extra_median_ms"] = round(out[k]["median_ms"] - out["bypass"]["median_ms"], 3)
            out[k]["extra_p99_ms"] = round(out[k]["p99_ms"] - out["bypass"]["p99_ms"], 3)
    finally:
        s.cleanup()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
