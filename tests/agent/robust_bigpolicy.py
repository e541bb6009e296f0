#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A large policy keeps the agent responsive (issue 16, finding 3).

The agent runs in its own network namespace (--docker none, --endpoints-dir, --control). It is
given a 480 KB policy whose one cidr selector has 40,000 except entries, then SIGHUP. The
reload must finish within the bound, `netseg status --control SOCK` must answer, and a SIGTERM
sent with the next SIGHUP must end the
agent within the bound; the reload must be installed (the except set's elements in the
kernel). Before the compile was linear the reload took over 15 s, unresponsive throughout.

Usage: robust_bigpolicy.py --bin build/netseg
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import agentlib as al  # noqa: E402

NAME = "robust-bigpolicy"
# Seconds. Before: the reload took over 15 s (compile 12 s, then the apply). Now the
# compile takes 0.2 s and the apply about 5 s on a loaded 2-core machine, most of it the
# kernel inserting 80k interval elements in one transaction.
BOUND = 12.0

SMALL = """version: 1
groups:
  web: { labels: { app: web } }
rules:
  - { name: web-out, from: web, to: world, ports: [tcp/443] }
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/netseg")
    binary = os.path.abspath(ap.parse_args().bin)
    if os.geteuid() != 0:
        print(f"{NAME}: skipped: needs root (network namespaces)")
        print(f"{NAME}: 0 passed, 0 failed")
        return 77
    passed = failed = 0

    def check(ok, what, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"  ok   {what}", flush=True)
        else:
            failed += 1
            print(f"  FAIL {what} {detail}", flush=True)

    ns = f"nsr{os.getpid()}bp"
    work = al.workdir(prefix="netseg-bigpolicy.")
    poldir, epdir = os.path.join(work, "policy"), os.path.join(work, "endpoints")
    sock = os.path.join(work, "control.sock")
    os.makedirs(poldir)
    os.makedirs(epdir)
    agent = None
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        with open(os.path.join(poldir, "policy.yaml"), "w") as f:
            f.write(SMALL)
        agent = al.Agent(binary, ["-p", poldir, "--endpoints-dir", epdir, "--docker", "none",
                                  "--control", sock], os.path.join(work, "agent.log"), netns=ns)
        check(agent.start(), "agent starts with a small policy", agent.excerpt())
        big = os.path.join(work, "big.yaml")
        subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "bench", "gen_scale.py"),
                        "bigexcept", "40000", big], check=True)
        print(f"  policy: {os.path.getsize(big)} bytes, 40000 except entries", flush=True)
        pos = agent.logpos()
        os.replace(big, os.path.join(poldir, "policy.yaml"))
        t0 = time.monotonic()
        agent.hup()
        m = agent.wait_log(r"policy reloaded", since=pos, timeout=BOUND)
        dt = time.monotonic() - t0
        check(m is not None, f"the big policy is installed ({dt:.2f} s after SIGHUP, bound "
              f"{BOUND} s)", agent.excerpt(pos))
        t0 = time.monotonic()
        st = subprocess.run([binary, "status", "--control", sock], capture_output=True,
                            text=True, timeout=60)
        dt = time.monotonic() - t0
        # Bound: the finding was > 15 s; the reply takes 0.3-2.5 s on a loaded 2-core machine.
        check(st.returncode == 0 and dt < 6, f"status answers ({dt:.2f} s, bound 6 s)",
              f"rc {st.returncode} {st.stderr.strip()[:200]}")
        elems = al.nft(["list", "table", "inet", "netseg"], netns=ns).stdout
        check("10.0.0.2/31" in elems and "10.0.0.5-10.0.0.6" in elems,
              "the except set is in the kernel")
        # Once more, and SIGTERM straight after the SIGHUP: honoured within the bound.
        agent.hup()
        t0 = time.monotonic()
        os.kill(agent.p.pid, 15)
        try:
            rc = agent.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = None
        dt = time.monotonic() - t0
        check(rc == 0 and dt < BOUND, f"SIGTERM during a reload ends it ({dt:.2f} s, rc {rc})")
    finally:
        if agent is not None and agent.alive():
            agent.kill9()
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)
    print(f"{NAME}: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
