#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Policy reloads under a write storm (issue 16, finding 12).

A writer rewrites the agent's policy every 18 ms for 10 s, each version with a rule name of its
own (so the kernel says which version it enforces: `counter name r_<rule>` in
`nft list table inet netseg`). The agent runs in a network namespace of this test
(`--docker none --endpoints-dir DIR --control SOCK -p POLICY`). Proven, from the kernel and the
agent's own status and log:

  during   the agent reloads while the storm lasts (a debounce that only waits for quiet
           would not reload until the writer stops): never 3 s without a reload attempt
           (the agent's cap is 1 s), and at least 2 different valid versions really
           installed, also when every other write is invalid;
  after    the kernel enforces exactly the final version, and still does a while later;
  invalid  when the final write is invalid, the agent keeps one earlier valid version, says
           why with a located error, and takes the next valid write.

Storms: the file rewritten by rename (temp + rename), in place, and vim-style (old file
renamed away, new one written); in place alternating valid/invalid so that the final valid
version follows an invalid one; by rename ending invalid; and a policy directory whose file is
replaced by rename.
"""

import argparse
import calendar
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from agentlib import Agent, table_text, workdir  # noqa: E402

NAME = "robust-reload"
STORM_S = 10.0
PERIOD_S = 0.018
# The agent caps a burst's wait at 1 s; 3 s leaves room for a loaded machine.
MAX_WITHOUT_RELOAD_S = 3.0
RELOAD_RX = re.compile(r"^(\S+) netseg: info: policy changed on disk: reloading$", re.M)
TAG_RX = re.compile(r"counter name \"?r_(s\d+-v\d+)\b")


def policy_text(storm, i, valid):
    key = "ports" if valid else "prots"  # an unknown key: a located error, nothing installed
    return (f"version: 1\nrules:\n  - name: s{storm}-v{i}\n    from: containers\n"
            f"    to: world\n    {key}: [tcp/{1000 + i % 60000}]\n")


def write_rename(path, text):
    d, b = os.path.split(path)
    tmp = os.path.join(d, f".{b}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def write_inplace(path, text):
    with open(path, "w") as f:
        f.write(text)


def write_vim(path, text):
    backup = path + "~"
    os.rename(path, backup)
    with open(path, "w") as f:
        f.write(text)
    os.unlink(backup)


class Result:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"  ok   {what}", flush=True)
        else:
            self.failed += 1
            print(f"  FAIL {what}{': ' + detail if detail else ''}", flush=True)
        return ok


def stamp_seconds(stamp):
    """The agent's log stamp (UTC, 2026-12-04T00:55:18.723Z) as seconds since the epoch."""
    return calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + \
        float("0" + stamp[19:-1])


def kernel_tags(ns):
    return set(TAG_RX.findall(table_text(ns)))


def status(bin_, sock):
    r = subprocess.run([bin_, "status", "--json", "--control", sock], capture_output=True,
                       text=True, timeout=10)
    if r.returncode != 0:
        raise RuntimeError(f"netseg status failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout)


def storm(path, storm_id, writers, validity, final_valid, stop_after=STORM_S):
    """Rewrites PATH on a PERIOD_S grid (so the writer never drifts into pauses), the last
    write valid or not as FINAL_VALID says; returns ([(i, valid)] in write order, the longest
    pause between two writes)."""
    written, last, max_gap = [], None, 0.0
    t0 = time.monotonic()
    i = 0
    while time.monotonic() < t0 + stop_after:
        valid = validity(i)
        writers[i % len(writers)](path, policy_text(storm_id, i, valid))
        now = time.monotonic()
        if last is not None:
            max_gap = max(max_gap, now - last)
        last = now
        written.append((i, valid))
        i += 1
        time.sleep(max(0.0, t0 + i * PERIOD_S - time.monotonic()))
    if written[-1][1] != final_valid:
        writers[i % len(writers)](path, policy_text(storm_id, i, final_valid))
        written.append((i, final_valid))
    return written, max_gap


def sample_kernel(ns, stop, seen):
    while not stop.is_set():
        seen.update(kernel_tags(ns))
        time.sleep(0.1)


def wait_tags(ns, want, timeout=10.0):
    end = time.monotonic() + timeout
    while True:
        got = kernel_tags(ns)
        if got == want or time.monotonic() > end:
            return got
        time.sleep(0.05)


def run_storm(res, ctx, label, storm_id, path, writers, validity, final_valid):
    """One storm against the running agent; checks during and after."""
    ag, ns, sock = ctx["agent"], ctx["ns"], ctx["sock"]
    print(f"[{label}]", flush=True)
    full0 = status(ctx["bin"], sock)["reconcile"]["full"]
    pos0 = ag.logpos()
    stop, seen = threading.Event(), set()
    sampler = threading.Thread(target=sample_kernel, args=(ns, stop, seen), daemon=True)
    sampler.start()
    try:
        w0 = time.time()
        written, max_gap = storm(path, storm_id, writers, validity, final_valid)
        w1 = time.time()
    finally:
        stop.set()
        sampler.join(timeout=10)
    during = ag.logtext(pos0)
    full1 = status(ctx["bin"], sock)["reconcile"]["full"]
    stamps = [w0] + [stamp_seconds(m) for m in RELOAD_RX.findall(during)] + [w1]
    attempts = len(stamps) - 2
    longest = max(b - a for a, b in zip(stamps, stamps[1:]))
    installs = during.count("policy reloaded: enforcing")
    mine = {t for t in seen if t.startswith(f"s{storm_id}-")}
    print(f"    {len(written)} writes in {STORM_S:.0f} s (longest pause {max_gap * 1000:.0f} ms); "
          f"during the storm: {attempts} reload attempts, longest time without one "
          f"{longest:.2f} s; {installs} installed (status full reconciles {full0} -> {full1}), "
          f"{len(mine)} of this storm's versions seen in the kernel", flush=True)
    res.check(attempts >= 2 and longest <= MAX_WITHOUT_RELOAD_S,
              f"{label}: the agent reloads during the storm, at least every "
              f"{MAX_WITHOUT_RELOAD_S:.0f} s",
              f"{attempts} reload attempts in {STORM_S:.0f} s, {longest:.2f} s without one")
    # Bad versions among good ones (or a file caught half-written) must not keep the good
    # ones out for the whole storm.
    if any(v for _, v in written):
        res.check(len(mine) >= 2 and full1 - full0 >= 2,
                  f"{label}: versions are installed during the storm",
                  f"{len(mine)} versions in the kernel, {full1 - full0} full reconciles")
    last_i, last_valid = written[-1]
    final = f"s{storm_id}-v{last_i}"
    valid_tags = {f"s{storm_id}-v{i}" for i, v in written if v}
    if last_valid:
        got = wait_tags(ns, {final})
        res.check(got == {final}, f"{label}: the final version is enforced",
                  f"kernel has {sorted(got)}, want [{final}]\n{ag.excerpt(pos0)}")
        time.sleep(1.5)
        got = kernel_tags(ns)
        res.check(got == {final}, f"{label}: and stays enforced",
                  f"kernel has {sorted(got)} 1.5 s later")
    else:
        # The final write was invalid: once the agent has settled, its last attempt failed
        # with a located error and one earlier valid version (or the previous one) stays.
        time.sleep(POLICY_SETTLE_S)
        tail = ag.logtext(pos0)
        last_attempt = tail.rsplit("policy changed on disk: reloading", 1)[-1]
        located = re.search(re.escape(path) + r":\d+:\d+: error: unknown key 'prots'",
                            last_attempt)
        res.check(located is not None and "still enforcing the last good policy" in last_attempt,
                  f"{label}: the invalid final version is refused with a located error",
                  f"after the last reload attempt:\n{last_attempt[-1500:]}")
        got = kernel_tags(ns)
        ok = len(got) == 1 and (got <= valid_tags or got == ctx["before"])
        res.check(ok, f"{label}: one earlier valid version stays enforced",
                  f"kernel has {sorted(got)}")
        res.check(ag.alive(), f"{label}: the agent is still running")
        fixed = f"s{storm_id}-v{last_i + 1}"
        write_rename(path, policy_text(storm_id, last_i + 1, True))
        got = wait_tags(ns, {fixed})
        res.check(got == {fixed}, f"{label}: the next valid write is enforced",
                  f"kernel has {sorted(got)}")
    ctx["before"] = kernel_tags(ns)


POLICY_SETTLE_S = 3.0


def run_agent(res, bin_, tmp, ns, label, policy_arg, scenarios):
    eps = os.path.join(tmp, f"eps-{label}")
    os.makedirs(eps, exist_ok=True)
    sock = os.path.join(tmp, f"ctl-{label}.sock")
    ag = Agent(bin_, ["--docker", "none", "--endpoints-dir", eps, "--control", sock,
                      "-p", policy_arg], os.path.join(tmp, f"agent-{label}.log"), netns=ns)
    try:
        if not res.check(ag.start(), f"{label}: agent starts", ag.excerpt()):
            return
        ctx = {"agent": ag, "ns": ns, "sock": sock, "bin": bin_, "before": kernel_tags(ns)}
        for sc in scenarios:
            run_storm(res, ctx, *sc)
        res.check(ag.alive(), f"{label}: agent survived every storm", ag.excerpt())
    finally:
        if ag.term() is None:
            ag.kill9()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="build/netseg")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print(f"{NAME}: skipped: needs root (network namespaces, nftables)")
        print(f"{NAME}: 0 passed, 0 failed")
        return 77
    bin_ = os.path.realpath(args.bin)
    res = Result()
    ns = f"nsr{os.getpid()}"
    tmp = workdir(prefix=f"{ns}-")
    made_ns = False
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        made_ns = True
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)

        pfile = os.path.join(tmp, "file", "policy.yaml")
        os.makedirs(os.path.dirname(pfile))
        write_rename(pfile, policy_text(0, 0, True))
        run_agent(res, bin_, tmp, ns, "file", pfile, [
            ("file: rename, in place and vim-style, all valid", 1, pfile,
             [write_rename, write_inplace, write_vim], lambda i: True, True),
            ("file: in place, alternating valid/invalid, ending valid", 2, pfile,
             [write_inplace], lambda i: i % 2 == 0, True),
            ("file: rename, alternating, ending invalid", 3, pfile,
             [write_rename], lambda i: i % 2 == 0, False),
        ])

        pdir = os.path.join(tmp, "dir")
        os.makedirs(pdir)
        with open(os.path.join(pdir, "00-base.yaml"), "w") as f:
            f.write("version: 1\ngroups:\n  web:\n    labels: { app: web }\n")
        pdfile = os.path.join(pdir, "10-rules.yaml")
        write_rename(pdfile, policy_text(4, 0, True))
        run_agent(res, bin_, tmp, ns, "dir", pdir, [
            ("directory: one file replaced by rename, all valid", 4, pdfile,
             [write_rename], lambda i: True, True),
        ])
    except Exception as e:  # a probe that errors is an error
        res.check(False, "suite ran without an error", repr(e))
    finally:
        if made_ns:
            subprocess.run(["ip", "netns", "del", ns], check=False)
        if os.environ.get("NETNS_KEEP_LOGS") == "1":
            print(f"  logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{NAME}: {res.passed} passed, {res.failed} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
