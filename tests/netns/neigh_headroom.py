#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Regression test for the IPv6 probe errors (EINVAL) seen on loaded machines (issue 14).

  namespace A  e0 10.99.0.1/16 fd99::1/64 ── veth ── e1  namespace B (no addresses)

Creating a neighbour fails once the machine-wide NDISC table holds gc_thresh3 entries that
were all used in the last 5 s; send() then returns EINVAL. With the default 1,024, sending to
2,000 on-link IPv6 addresses from A fails 976 times. Under neigh.claim() (what every
Topology does) it must fail 0 times, and the last release must put the thresholds back.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import neigh  # noqa: E402
import topo  # noqa: E402

FILL = r'''
import errno, socket, sys
fails = 0
for i in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        s.sendto(b"x", (f"fd99::1:{i:x}", 9))
    except OSError as e:
        if e.errno != errno.EINVAL:
            raise
        fails += 1
    finally:
        s.close()
print(fails)
'''

passed = failed = 0


def check(ok, what):
    global passed, failed
    print(("  ok   " if ok else "  FAIL ") + what)
    if ok:
        passed += 1
    else:
        failed += 1


def main():
    topo.require_root()
    before = {k: neigh._read(k) for k in neigh.KEYS}
    tag = f"nsh{os.getpid()}"
    a, b = tag + "a", tag + "b"
    try:
        neigh.claim()
        for k in neigh.KEYS:
            want = neigh.TESTING_THRESH[os.path.basename(k)]
            check(neigh._read(k) >= want, f"{k} >= {want} while claimed")
        for ns in (a, b):
            topo.run(["ip", "netns", "add", ns])
        topo.run(["ip", "-n", a, "link", "add", "e0", "type", "veth", "peer", "name", "e1",
                  "netns", b])
        topo.run(["ip", "-n", a, "addr", "add", "10.99.0.1/16", "dev", "e0"])
        topo.run(["ip", "-n", a, "addr", "add", "fd99::1/64", "dev", "e0", "nodad"])
        for ns, dev in ((a, "e0"), (b, "e1")):
            topo.run(["ip", "-n", ns, "link", "set", dev, "up"])
        fulls = neigh.table_fulls()[1]
        r = topo.run(["ip", "netns", "exec", a, topo.PY, "-c", FILL, "2000"])
        fails = int(r.stdout.strip())
        check(fails == 0, f"2000 new IPv6 neighbours in 1 burst: {fails} EINVAL "
              f"(table_fulls +{neigh.table_fulls()[1] - fulls})")
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        neigh.release()
    if not neigh._claims():
        after = {k: neigh._read(k) for k in neigh.KEYS}
        check(after == before, f"thresholds restored after the last release: {after}")
    print(f"netns: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
