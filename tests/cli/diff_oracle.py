#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`netseg diff` against tests/netns/oracle.py, which implements the spec on its own.

For every tests/netns scenario A over the standard endpoints (scenarios.py) and B = the next
scenario (cyclically), and B = A, `netseg diff -p A -p B -e ENDPOINTS` is run and its lines parsed; then, for every
container-to-container probe tuple of the truth tables (run.plan(): source and destination
among c1..c8, both families, every service probed), the tuple must be covered by a `+` line
exactly when the oracle allows it under B and not under A, by a `-` line exactly when it is
the other way round, and by no line when the oracle decides both alike. Exit status 0 must
mean the oracle sees no difference at all. (World and host ends are left out: diff speaks of
`world`, `host` and one address per prefix, the probes of particular addresses.)
One count per policy pair (all its tuples and its exit status right). Prints
`diff-oracle: N passed, N failed` last.
"""

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "netns"))

import scenarios  # noqa: E402
import run as nrun  # noqa: E402
from oracle import Oracle  # noqa: E402
from topo import HOST_ADDRS  # noqa: E402

LINE = re.compile(r"^  ([+-]) (\S+) -> (\S+) (.*?)( \((IPv4|IPv6)\))?$")
ITEM = re.compile(r"^(tcp|udp|sctp)(?:/(\d+)(?:-(\d+))?| \(every port\))$|^(icmp|icmpv6)$")


def parse(out):
    """{(sign, from, to, fam or None): [(proto, lo, hi)]}"""
    cov = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        fam = {"IPv4": 4, "IPv6": 6}.get(m.group(6))
        items = cov.setdefault((m.group(1), m.group(2), m.group(3), fam), [])
        for it in m.group(4).split(", "):
            i = ITEM.match(it)
            if not i:
                raise ValueError(f"cannot parse port item {it!r} in {line!r}")
            if i.group(4):
                items.append((i.group(4), 0, 0))
            elif i.group(2):
                items.append((i.group(1), int(i.group(2)), int(i.group(3) or i.group(2))))
            else:
                items.append((i.group(1), 1, 65535))
    return cov


def covered(cov, sign, src, dst, fam, proto, port):
    want = proto if proto != "icmp" else ("icmp" if fam == 4 else "icmpv6")
    for f in (fam, None):
        for p, lo, hi in cov.get((sign, src, dst, f), []):
            if p == want and (p.startswith("icmp") or lo <= port <= hi):
                return True
    return False


def main():
    binary = os.environ.get("NETSEG_BIN", os.path.join(ROOT, "build", "netseg"))
    passed = failed = 0
    work = tempfile.mkdtemp(prefix="netseg-diff-oracle.")
    eps = scenarios.write_endpoints(os.path.join(work, "endpoints.yaml"))
    names = {scenarios.END_OF[e["name"]]: e["name"] for e in scenarios.endpoints()}
    scen = [s for s in scenarios.SCENARIOS if not s.get("endpoints") and not s.get("isolated")]
    paths = {s["name"]: scenarios.write_policy(work, s) for s in scen}
    host = HOST_ADDRS[4] + HOST_ADDRS[6]
    oracles = {s["name"]: Oracle(scenarios.policy_of(s), scenarios.endpoints(), host)
               for s in scen}
    probes = [p for p in nrun.plan() if p["s"] in names and p["d"] in names]
    tuples = 0
    pairs = [(a, b) for i, a in enumerate(scen) for b in (scen[(i + 1) % len(scen)], a)]
    for a, b in pairs:
        r = subprocess.run([binary, "diff", "-p", paths[a["name"]], "-p", paths[b["name"]],
                            "-e", eps], capture_output=True, text=True, timeout=120)
        try:
            cov = parse(r.stdout)
        except ValueError as e:
            failed += 1
            print(f"FAIL: {a['name']} -> {b['name']}: {e}")
            continue
        differ = wrong = 0
        for p in probes:
            va = oracles[a["name"]].verdict(p["osrc"], p["dst"], p["proto"], p["port"])[0]
            vb = oracles[b["name"]].verdict(p["osrc"], p["dst"], p["proto"], p["port"])[0]
            args = (names[p["s"]], names[p["d"]], p["fam"], p["proto"], p["port"])
            plus, minus = covered(cov, "+", *args), covered(cov, "-", *args)
            want = (vb and not va, va and not vb)
            differ += va != vb
            tuples += 1
            if (plus, minus) != want:
                wrong += 1
                if wrong <= 5:
                    print(f"FAIL: diff {a['name']} -> {b['name']}: {p['id']}: oracle "
                          f"{va}->{vb}, diff shows {'+' if plus else ''}"
                          f"{'-' if minus else ''}{'' if plus or minus else 'nothing'}")
        # exit 1 exactly when lines are printed; never 0 when the oracle sees a difference;
        # always 0 for a policy against itself
        ok = (r.returncode in (0, 1) and (r.returncode == 1) == bool(cov)
              and not (differ and r.returncode == 0) and (a is not b or r.returncode == 0))
        if not ok:
            print(f"FAIL: diff {a['name']} -> {b['name']}: exit {r.returncode}, "
                  f"{differ} oracle differences: {r.stderr[:200]}")
        if ok and not wrong:
            passed += 1
        else:
            failed += 1
            if wrong:
                print(f"FAIL: diff {a['name']} -> {b['name']}: {wrong} of {len(probes)} "
                      f"tuples disagree with the oracle")
    subprocess.run(["rm", "-rf", work])
    print(f"diff-oracle: {len(pairs)} policy pairs, {tuples} container tuples compared")
    print(f"diff-oracle: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
