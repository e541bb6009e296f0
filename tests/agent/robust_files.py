#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Regression suite for the agent's file sources (issue 16: findings 2, 5, 8): what can be
put into `--endpoints-dir` must neither stall the agent nor make it lose track of files.

      nsrf<PID> (network namespace, lo only): netseg agent --docker none -p POL
                    --endpoints-dir WORK/run/endpoints --control WORK/ctl.sock
      WORK/stage: files are written here and renamed in (same filesystem)

Counts come from `netseg status --json` (endpoints managed) and from the kernel
(`nft -j list set inet netseg containers4` inside the namespace). Interfaces named in the
endpoint files do not exist; nothing here sends a packet.

Sections:
  fifo      a FIFO renamed into the directory: a warning is logged, status still answers, a
            valid file written after it is applied, SIGTERM is honoured, a restart with the
            FIFO present completes (before: open() blocked forever)
  sighup    a file hard-linked in (an event the agent does not read) is read on SIGHUP
            (before: SIGHUP reloaded the policy only)
  overflow  the agent stopped (SIGSTOP) while more events than fs.inotify.max_queued_events
            arrive and 10,000 endpoint files are renamed in: after SIGCONT the overflow is
            logged and every file is managed, and still every one after a restart (before:
            the rescan stopped at 4,096 directory entries without a word)
  burst     the 10,000 files moved out and back in while the agent runs: all removed, then
            all managed; every status request during the burst is answered, within 1 s more
            than the same answer takes without a burst (before: all 10,000 files were read in
            one wakeup, and the answer waited 1.8 s to over 5 s)
  dir-gone  the directory removed with rm -rf and re-created with new files; moved away and
            re-created; its parent removed and re-created with mkdir -p: each loss is logged,
            the old files' endpoints go, the new files' come (before: the watch was lost and
            nothing was read again)
Final line: `robust-files: N passed, N failed`.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import agentlib as al  # noqa: E402

PFX = "robust-files"
NBIG = 10000
BURST_STATUS_S = 1.0
POLICY = ("version: 1\n"
          "groups:\n"
          "  web: { labels: { app: web } }\n"
          "rules:\n"
          "  - name: web-out\n"
          "    from: web\n"
          "    to: world\n")


def addr4(j):
    return f"10.{64 + (j >> 16)}.{(j >> 8) & 255}.{j & 255}"


def ep_text(j):
    return ("endpoints:\n"
            f"  - name: e{j}\n"
            f"    interface: vf{j}\n"
            f"    addresses: [{addr4(j)}, \"fd00::{j:x}\"]\n"
            "    labels: { app: web }\n")


class Suite:
    def __init__(self, binary):
        self.bin = os.path.abspath(binary)
        self.ns = f"nsrf{os.getpid()}"
        self.work = al.workdir(prefix=f"{self.ns}-")
        self.run = os.path.join(self.work, "run")
        self.epdir = os.path.join(self.run, "endpoints")
        self.stage = os.path.join(self.work, "stage")
        self.sock = os.path.join(self.work, "ctl.sock")
        self.pol = os.path.join(self.work, "policy.yaml")
        self.passed = self.failed = 0
        self.agent = None

    # plumbing ---------------------------------------------------------------------------------
    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"  ok   {what}", flush=True)
        else:
            self.failed += 1
            print(f"  FAIL {what}{': ' + detail if detail else ''}", flush=True)
            if self.agent:
                print(self.agent.excerpt(n=3), flush=True)
        return ok

    def setup(self):
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        subprocess.run(["ip", "-n", self.ns, "link", "set", "lo", "up"], check=True)
        os.makedirs(self.epdir)
        os.makedirs(self.stage)
        with open(self.pol, "w") as f:
            f.write(POLICY)
        self.agent = al.Agent(self.bin, ["-p", self.pol, "--docker", "none", "--endpoints-dir",
                                         self.epdir, "--control", self.sock],
                              os.path.join(self.work, "agent.log"), netns=self.ns)

    def cleanup(self):
        if self.agent and self.agent.p is not None and self.agent.p.poll() is None:
            # SIGCONT first: a stopped process does not act on SIGTERM
            os.kill(self.agent.p.pid, signal.SIGCONT)
            if self.agent.term(timeout=5) is None:
                self.agent.kill9()
        subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)
        if os.environ.get("NETNS_KEEP_LOGS") == "1":
            print(f"  logs kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def status(self, timeout=10):
        """The agent's status document, or None when it does not answer within TIMEOUT."""
        try:
            r = subprocess.run([self.bin, "status", "--json", "--control", self.sock],
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    def raw_status(self, timeout=10):
        """(seconds until the agent's whole status answer is read over the control socket,
        endpoints managed), or None when it does not come within TIMEOUT: the agent's
        responsiveness, without the client's own start-up and formatting."""
        t0 = time.monotonic()
        end = t0 + timeout
        data = b""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                c.settimeout(timeout)
                c.connect(self.sock)
                c.sendall(b"status\n")
                while not data.endswith(b"\n") and time.monotonic() < end:
                    c.settimeout(max(0.01, end - time.monotonic()))
                    b = c.recv(1 << 20)
                    if not b:
                        break
                    data += b
        except OSError:
            return None
        took = time.monotonic() - t0
        try:
            return took, len(json.loads(data)["endpoints"])
        except (ValueError, KeyError, TypeError):
            return None

    def count(self, timeout=10):
        st = self.status(timeout)
        return None if st is None else len(st["endpoints"])

    def wait_count(self, want, timeout):
        """Polls status until WANT endpoints are managed; the last count seen."""
        end = time.monotonic() + timeout
        n = None
        while time.monotonic() < end and self.agent.alive():
            n = self.count(timeout=max(0.5, end - time.monotonic()))
            if n == want:
                return n
            time.sleep(0.1)
        return n

    def kernel_addrs4(self):
        """The addresses in the kernel's containers4 set, or None when it cannot be read."""
        r = al.nft(["-j", "list", "set", "inet", "netseg", "containers4"], self.ns, timeout=60)
        if r.returncode != 0:
            return None
        for obj in json.loads(r.stdout)["nftables"]:
            if "set" in obj:
                return {e if isinstance(e, str) else json.dumps(e)
                        for e in obj["set"].get("elem", [])}
        return None

    def restart_if_dead(self):
        """After a failed section the agent may be hung; start afresh for the next one."""
        if self.agent.alive() and self.status(timeout=5) is not None:
            return
        self.agent.kill9()
        self.agent.start(timeout=60)

    def stage_file(self, j, name=None):
        path = os.path.join(self.stage, name or f"e{j}.yaml")
        with open(path, "w") as f:
            f.write(ep_text(j))
        return path

    def put(self, j, epdir=None):
        src = self.stage_file(j)
        os.rename(src, os.path.join(epdir or self.epdir, f"e{j}.yaml"))

    # sections ---------------------------------------------------------------------------------
    def s_fifo(self):
        print("[fifo]", flush=True)
        self.put(20001)
        self.check("agent starts with one endpoint file", self.agent.start(timeout=20))
        self.check("one endpoint managed", self.wait_count(1, 10) == 1)
        pos = self.agent.logpos()
        fifo = os.path.join(self.stage, "fifo.yaml")
        os.mkfifo(fifo)
        os.rename(fifo, os.path.join(self.epdir, "fifo.yaml"))
        self.check("a FIFO renamed in is logged as skipped",
                   self.agent.wait_log(r"fifo\.yaml:1:1: warning: not a regular file \(a FIFO\)",
                                       since=pos, timeout=5) is not None)
        t0 = time.monotonic()
        st = self.status(timeout=10)
        self.check("status still answers", st is not None,
                   f"no answer in {time.monotonic() - t0:.1f} s")
        self.put(20002)
        self.check("a valid file written after the FIFO is applied",
                   self.wait_count(2, 10) == 2)
        rc = self.agent.term(timeout=10)
        self.check("SIGTERM is honoured (exit 0 within 10 s)", rc == 0, f"exit {rc}")
        if rc is None:
            self.agent.kill9()
        self.check("a restart with the FIFO present completes", self.agent.start(timeout=20))
        self.check("both endpoints managed after the restart", self.wait_count(2, 10) == 2)
        # the sections after this one measure other things
        os.unlink(os.path.join(self.epdir, "fifo.yaml"))

    def s_sighup(self):
        print("[sighup]", flush=True)
        self.restart_if_dead()
        # a hard link makes only IN_CREATE, which the agent does not act on: only a rescan
        # reads this file
        src = self.stage_file(20003)
        os.link(src, os.path.join(self.epdir, "e20003.yaml"))
        os.unlink(src)
        time.sleep(0.5)
        pos = self.agent.logpos()
        self.agent.hup()
        self.check("SIGHUP rescans the endpoints directory", self.wait_count(3, 10) == 3,
                   f"{self.count()} endpoints")
        self.check("the rescan is logged",
                   self.agent.wait_log(r"rescanning " + self.epdir, since=pos, timeout=2)
                   is not None)

    def churn(self, n):
        """N events on the watched directory that name no endpoint file (dotfiles), alternating
        between two names so the kernel cannot merge them."""
        names = [os.path.join(self.epdir, ".churn-a"), os.path.join(self.epdir, ".churn-b")]
        for i in range(n):
            with open(names[i & 1], "w"):
                pass
        for p in names:
            os.unlink(p)

    def s_overflow(self):
        print("[overflow]", flush=True)
        self.restart_if_dead()
        base = self.count()
        with open("/proc/sys/fs/inotify/max_queued_events") as f:
            qmax = int(f.read())
        for j in range(1, NBIG + 1):
            self.stage_file(j)
        pos = self.agent.logpos()
        os.kill(self.agent.p.pid, signal.SIGSTOP)
        try:
            self.churn(min(qmax + 100, 300000))
            for j in range(1, NBIG + 1):
                os.rename(os.path.join(self.stage, f"e{j}.yaml"),
                          os.path.join(self.epdir, f"e{j}.yaml"))
        finally:
            t0 = time.monotonic()
            os.kill(self.agent.p.pid, signal.SIGCONT)
        want = base + NBIG
        n = self.wait_count(want, 90)
        took = time.monotonic() - t0
        print(f"    {n} endpoints managed {took:.1f} s after SIGCONT "
              f"(max_queued_events {qmax})", flush=True)
        if qmax + 100 <= 300000:
            self.check("the queue overflow is logged",
                       self.agent.wait_log(r"overflow", since=pos, timeout=1) is not None)
        self.check(f"all {want} endpoints managed after the overflow", n == want,
                   f"{n} managed")
        k = self.kernel_addrs4()
        self.check(f"the kernel holds all {want} addresses", k is not None and len(k) == want,
                   f"{None if k is None else len(k)} in containers4")
        rc = self.agent.term(timeout=20)
        if rc is None:
            self.agent.kill9()
        t0 = time.monotonic()
        self.check("restart", self.agent.start(timeout=90))
        n = self.wait_count(want, 60)
        print(f"    {n} endpoints managed {time.monotonic() - t0:.1f} s after the restart",
              flush=True)
        self.check(f"all {want} endpoints managed after a restart", n == want, f"{n} managed")
        self.check("no file refused for a limit",
                   self.agent.wait_log(r"only the first|refus", since=pos, timeout=0.1)
                   is None)

    def s_burst(self):
        print("[burst]", flush=True)
        self.restart_if_dead()
        base = self.count()
        lat = []  # (seconds, answered, when: seconds since the burst began)
        seen = [None]  # endpoints managed, from the last answer
        stop = threading.Event()

        def poll():
            # The only status client during the burst: a second one would wait for this
            # one's answer, and the wait would be counted as the burst's.
            while not stop.is_set():
                t = time.monotonic()
                r = self.raw_status(timeout=30)
                lat.append((time.monotonic() - t, r is not None, t - t_begin))
                if r is not None:
                    seen[0] = r[1]
                time.sleep(0.05)

        def wait_seen(want, timeout):
            end = time.monotonic() + timeout
            while time.monotonic() < end and seen[0] != want and self.agent.alive():
                time.sleep(0.05)
            return seen[0]

        # What the same answer costs without a burst, before and after it: on a shared
        # machine that alone varies from 0.1 s to over 1 s.
        idle = [self.raw_status(timeout=30) for _ in range(5)]
        th = threading.Thread(target=poll, daemon=True)
        t_begin = time.monotonic()
        th.start()
        try:
            for j in range(1, NBIG + 1):
                os.rename(os.path.join(self.epdir, f"e{j}.yaml"),
                          os.path.join(self.stage, f"e{j}.yaml"))
            n = wait_seen(base - NBIG, 60)
            self.check(f"{NBIG} files moved out: their endpoints removed", n == base - NBIG,
                       f"{n} managed")
            t0 = time.monotonic()
            print(f"    moved out by {t0 - t_begin:.1f} s", flush=True)
            for j in range(1, NBIG + 1):
                os.rename(os.path.join(self.stage, f"e{j}.yaml"),
                          os.path.join(self.epdir, f"e{j}.yaml"))
            n = wait_seen(base, 60)
            print(f"    {n} endpoints managed {time.monotonic() - t0:.1f} s after the renames",
                  flush=True)
            self.check(f"{NBIG} files renamed in at once: all managed", n == base,
                       f"{n} managed")
        finally:
            stop.set()
            th.join(timeout=40)
        worst = max((t for t, _, _ in lat), default=float("nan"))
        slow = sorted(lat, reverse=True)[:3]
        idle += [self.raw_status(timeout=30) for _ in range(5)]
        idle_worst = max((r[0] for r in idle if r is not None), default=float("nan"))
        print(f"    status during the burst: {sum(ok for _, ok, _ in lat)} replies, longest "
              f"{worst * 1000:.0f} ms, median "
              f"{sorted(t for t, _, _ in lat)[len(lat) // 2] * 1000 if lat else 0:.0f} ms, "
              f"{sum(not ok for _, ok, _ in lat)} not answered within 30 s; with {base} "
              f"endpoints and no burst: longest {idle_worst * 1000:.0f} ms; slowest asked at "
              + ", ".join(f"{w:.1f} s ({t * 1000:.0f} ms)" for t, _, w in slow), flush=True)
        # A generous bound on what the burst adds to an answer. The answer itself (10,000
        # endpoints, 1.6 MB of JSON) takes 0.1 s to over 1 s on this shared machine; a batch of
        # files before it adds a few ms of work. Before the files were read in batches, one
        # wakeup read all 10,000 and the answer waited 1.8 s to over 5 s more.
        self.check(f"status answers all through the burst, within {BURST_STATUS_S:.0f} s more "
                   f"than without it",
                   len(lat) > 0 and all(ok for _, ok, _ in lat) and
                   worst < idle_worst + BURST_STATUS_S,
                   f"longest {worst * 1000:.0f} ms, {idle_worst * 1000:.0f} ms without the "
                   f"burst, {sum(not ok for _, ok, _ in lat)} not answered")
        self.check(f"all {base} endpoints still managed, the kernel holds their addresses",
                   self.count() == base and len(self.kernel_addrs4() or ()) == base)
        # a client that gave up while the loop was busy must not hurt the agent (SIGPIPE)
        self.check("the agent survives status clients that gave up, and answers",
                   self.agent.alive() and self.status() is not None)

    def s_dir_gone(self):
        print("[dir-gone]", flush=True)
        self.restart_if_dead()
        pos = self.agent.logpos()
        shutil.rmtree(self.epdir)
        self.check("rm -rf of the directory is logged",
                   self.agent.wait_log(r"endpoints directory .*gone", since=pos, timeout=20)
                   is not None)
        self.check("its endpoints are removed", self.wait_count(0, 30) == 0)
        os.mkdir(self.epdir)
        for j in (30001, 30002, 30003):
            self.put(j)
        self.check("files in the re-created directory are managed",
                   self.wait_count(3, 10) == 3, f"{self.count()} managed")
        k = self.kernel_addrs4()
        self.check("the kernel holds exactly their addresses",
                   k == {addr4(j) for j in (30001, 30002, 30003)}, f"{k}")
        self.put(30004)
        self.check("a file written later is read too (the new directory is watched)",
                   self.wait_count(4, 10) == 4)

        pos = self.agent.logpos()
        os.rename(self.epdir, self.epdir + ".old")
        os.mkdir(self.epdir)
        for j in (30011, 30012):
            self.put(j)
        self.check("moved away and re-created: the new files are managed, the old ones not",
                   self.wait_count(2, 10) == 2, f"{self.count()} managed")
        self.put(30013)
        self.check("a file written later is read", self.wait_count(3, 10) == 3)
        self.put(30099, epdir=self.epdir + ".old")
        time.sleep(0.3)
        self.check("the moved-away directory is no longer read", self.count() == 3)

        pos = self.agent.logpos()
        shutil.rmtree(self.run)
        self.check("the parent removed too: logged",
                   self.agent.wait_log(r"endpoints directory .*gone", since=pos, timeout=10)
                   is not None)
        os.makedirs(self.epdir)
        self.put(30021)
        self.check("mkdir -p of parent and directory: the new file is managed",
                   self.wait_count(1, 10) == 1, f"{self.count()} managed")
        self.check("the agent answers status", self.status() is not None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.environ.get("NETSEG_BIN", "build/netseg"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        print(f"{PFX}: skipped: needs root (network namespaces, nftables)")
        print(f"{PFX}: 0 passed, 0 failed")
        return 77
    s = Suite(args.bin)
    try:
        s.setup()
        for sec in (s.s_fifo, s.s_sighup, s.s_overflow, s.s_burst, s.s_dir_gone):
            try:
                sec()
            except Exception as e:  # a probe that errors is a failure, and the rest still runs
                s.check(f"{sec.__name__} ran", False, repr(e))
    finally:
        s.cleanup()
    print(f"{PFX}: {s.passed} passed, {s.failed} failed")
    return 1 if s.failed else 0


if __name__ == "__main__":
    sys.exit(main())
