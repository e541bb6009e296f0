#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile clients of the agent's control socket and metrics endpoint (issue 16: 1, 11, 13).

The agent runs in a network namespace of its own (lo up, nothing else):
    netseg agent -p POL --docker none --endpoints-dir DIR --control SOCK
                 --metrics 127.0.0.1:PORT
and this process enters that namespace (setns) so its TCP connections reach it.

Sections; each proves the agent stays alive and a normal client is still answered:
  hangup      200 clients send `status\\n` and close at once, 50 more close after reading 16
              bytes: the agent is alive (no SIGPIPE) and `netseg status` answers
  slow        16 silent control clients (the finding), then 64 (more than the agent's client
              table holds), reconnected whenever the agent drops one: 4 of 4 `netseg status`
              calls succeed while they are connected
  slowloris   1,000 slowloris connections on the metrics port (a partial header, a byte
              dripped every second, reconnected when dropped): 4 of 4 scrapes get a 200 with
              the metrics
  crlf        `status\\r\\n` on the control socket gets the status, not "unknown request"
  addr        `netseg agent --metrics "127.0.0.1: 9474"` and other malformed ADDR:PORT:
              exit 2 with one line naming --metrics; [::1]:PORT and localhost:PORT serve
Final line: `robust-control: N passed, N failed`.
"""

import argparse
import ctypes
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import agentlib as al  # noqa: E402

PFX = "robust-control"
CLONE_NEWNET = 0x40000000
SLOWLORIS = 1000
SCRAPES = 4
STATUS_CALLS = 4


def enter_netns(name):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
    finally:
        os.close(fd)


class Holder:
    """Keeps N connections open to ADDR, each having sent PREFIX and then one byte of DRIP a
    second, never completing a request. One the agent closes is opened again, so the pressure
    lasts for as long as the holder runs."""

    def __init__(self, family, addr, n, prefix, drip=b""):
        self.family, self.addr, self.n = family, addr, n
        self.prefix, self.drip = prefix, drip
        self.sel = selectors.DefaultSelector()
        self.opened = self.dropped = self.errors = 0
        self.stop_ev = threading.Event()
        self.th = threading.Thread(target=self._run, daemon=True)

    def _open(self):
        s = socket.socket(self.family, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(self.addr)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.errors += 1
            s.close()
            return False
        self.sel.register(s, selectors.EVENT_WRITE, "connecting")
        self.opened += 1
        return True

    def _drop(self, s):
        self.sel.unregister(s)
        s.close()
        self.dropped += 1

    def start(self, settle=3.0):
        for _ in range(self.n):
            self._open()
        self.th.start()
        time.sleep(settle)  # the whole flood reaches the agent before anyone is measured

    def open_count(self):
        return len(self.sel.get_map())

    def _run(self):
        last_drip = time.monotonic()
        while not self.stop_ev.is_set():
            for key, ev in self.sel.select(timeout=0.05):
                s = key.fileobj
                if key.data == "connecting":
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        self._drop(s)
                        continue
                    try:
                        s.send(self.prefix)
                    except OSError:
                        self._drop(s)
                        continue
                    self.sel.modify(s, selectors.EVENT_READ, "held")
                    continue
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self._drop(s)
            if time.monotonic() - last_drip >= 1.0 and self.drip:
                last_drip = time.monotonic()
                for key in list(self.sel.get_map().values()):
                    if key.data == "held":
                        try:
                            key.fileobj.send(self.drip)
                        except OSError:
                            pass
            while self.open_count() < self.n and not self.stop_ev.is_set():
                if not self._open():
                    break

    def stop(self):
        self.stop_ev.set()
        if self.th.is_alive():
            self.th.join(timeout=10)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.sel.close()


class Suite:
    def __init__(self, binary):
        self.bin = binary
        self.passed = self.failed = 0
        self.ns = f"{os.environ.get('AGENT_TAG', 'nsr')}rc{os.getpid()}"
        self.work = al.workdir(prefix=f"{self.ns}-")
        self.sock = os.path.join(self.work, "run", "control.sock")
        self.pol = os.path.join(self.work, "policy.yaml")
        self.epdir = os.path.join(self.work, "endpoints")
        self.port = 20000 + os.getpid() % 20000
        self.agent = None

    def ok(self, cond, section, text):
        if cond:
            self.passed += 1
            print(f"  ok   [{section}] {text}", flush=True)
        else:
            self.failed += 1
            print(f"  FAIL [{section}] {text}", flush=True)
        return cond

    def status(self, timeout=10):
        """`netseg status --control SOCK`: (ok, how)."""
        try:
            r = subprocess.run([self.bin, "status", "--control", self.sock],
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, f"no answer within {timeout} s"
        good = r.returncode == 0 and r.stdout.startswith("agent ")
        how = f"rc {r.returncode}" if r.returncode >= 0 else f"killed by signal {-r.returncode}"
        return good, f"{how} {r.stderr.strip()[:120]!r}"

    def scrape(self, timeout=30, host="127.0.0.1"):
        """One GET /metrics: (ok, how)."""
        try:
            with socket.create_connection((host, self.port), timeout=timeout) as s:
                s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
                buf = b""
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    buf += d
        except OSError as e:
            return False, f"{type(e).__name__}: {e}"
        head = buf.split(b"\r\n", 1)[0].decode(errors="replace")
        good = " 200 " in head and b"\nnetseg_endpoints " in buf
        return good, head or "empty reply (closed)"

    def alive(self, section):
        self.agent.note_exit()
        return self.ok(self.agent.alive(), section,
                       "agent alive" + ("" if self.agent.alive() else
                                        f" -- it ended: rc {self.agent.p.returncode}"))

    # sections ---------------------------------------------------------------------------
    def s_hangup(self):
        sec = "hangup"
        closed = partial = 0
        for i in range(250):
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(self.sock)
                    s.sendall(b"status\n")
                    if i >= 200:
                        s.settimeout(5)
                        s.recv(16)
                        partial += 1
                    else:
                        closed += 1
            except OSError:
                pass  # the agent may be gone already: judged below
        time.sleep(0.5)
        print(f"  [{sec}] {closed} clients closed at once, {partial} after a partial read")
        if self.alive(sec):
            good, how = self.status()
            self.ok(good, sec, f"netseg status answers afterwards ({how})")

    def s_slow(self):
        for n in (16, 64):
            self.slow(n)

    def slow(self, nslow):
        sec = f"slow-{nslow}"
        h = Holder(socket.AF_UNIX, self.sock, nslow, b"sta")
        h.start(settle=0.5)
        try:
            t0 = time.monotonic()
            results = [self.status() for _ in range(STATUS_CALLS)]
            dt = time.monotonic() - t0
            held = h.open_count()
        finally:
            h.stop()
        n = sum(1 for g, _ in results if g)
        self.ok(n == STATUS_CALLS, sec,
                f"{n}/{STATUS_CALLS} netseg status succeed with {held} slow clients connected "
                f"({h.opened} opened, {h.dropped} dropped by the agent) in {dt:.2f} s; "
                f"{[w for _, w in results]}")
        self.alive(sec)

    def s_slowloris(self):
        sec = "slowloris"
        h = Holder(socket.AF_INET, ("127.0.0.1", self.port), SLOWLORIS,
                   b"GET /metrics HTTP/1.0\r\nX-a: ", drip=b"a")
        h.start(settle=3.0)
        try:
            t0 = time.monotonic()
            results = [self.scrape() for _ in range(SCRAPES)]
            dt = time.monotonic() - t0
            held = h.open_count()
        finally:
            h.stop()
        n = sum(1 for g, _ in results if g)
        self.ok(n == SCRAPES, sec,
                f"{n}/{SCRAPES} scrapes succeed under {SLOWLORIS} slowloris connections "
                f"({held} open at the end, {h.opened} opened, {h.dropped} dropped by the "
                f"agent, {h.errors} connect errors) in {dt:.2f} s; {[w for _, w in results]}")
        self.alive(sec)
        good, how = self.scrape()
        self.ok(good, sec, f"a scrape after the flood ({how})")

    def s_crlf(self):
        sec = "crlf"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(10)
                s.connect(self.sock)
                s.sendall(b"status\r\n")
                buf = b""
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    buf += d
            reply = json.loads(buf)
        except (OSError, ValueError) as e:
            self.ok(False, sec, f"status\\r\\n: no JSON reply ({e})")
            return
        self.ok(isinstance(reply, dict) and "error" not in reply and "endpoints" in reply, sec,
                f"status\\r\\n gets the status document (keys {sorted(reply)[:6]})")

    def s_addr(self):
        sec = "addr"
        for addr in ("127.0.0.1: 9474", "127.0.0.1:9474 ", "127.0.0.1:+9474", "::1:9474",
                     "[::1]:0", "127.0.0.1:65536"):
            p = subprocess.Popen([self.bin, "agent", "-p", self.pol, "--docker", "none",
                                  "--control", "none", "--metrics", addr],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                out, err = p.communicate(timeout=10)
                rc = p.returncode
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)  # it started: it took the address
                out, err = p.communicate()
                rc = "still running after 10 s"
            lines = [ln for ln in err.splitlines() if ln.strip()]
            self.ok(rc == 2 and len(lines) == 1 and "--metrics" in lines[0], sec,
                    f"--metrics {addr!r}: rc {rc}, {lines[:3]}")
        # the strict parse still takes what is documented
        for addr, host in ((f"[::1]:{self.port}", "::1"), (f"localhost:{self.port}",
                                                            "127.0.0.1")):
            a = al.Agent(self.bin, ["-p", self.pol, "--docker", "none", "--control", "none",
                                    "--metrics", addr],
                         os.path.join(self.work, "agent-addr.log"), netns=self.ns)
            try:
                started = a.start() is not None
                good, how = self.scrape(host=host) if started else (False, "not started")
            finally:
                a.term()
                if a.alive():
                    a.kill9()
            self.ok(started and good, sec, f"--metrics {addr!r}: serves ({how})")
        for fam, _ in al.netseg_tables():
            al.nft(["delete", "table", fam, "netseg"])

    # driver -----------------------------------------------------------------------------
    def run(self):
        try:
            subprocess.run(["ip", "netns", "add", self.ns], check=True)
            subprocess.run(["ip", "-n", self.ns, "link", "set", "lo", "up"], check=True)
            enter_netns(self.ns)
            os.makedirs(self.epdir)
            with open(self.pol, "w") as f:
                f.write("# tests/agent/robust_control.py\nversion: 1\n")
            # the holders' 1,000 sockets and the agent's own
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            want = max(soft, min(hard, 8192))
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            self.agent = al.Agent(self.bin, ["-p", self.pol, "--docker", "none",
                                             "--endpoints-dir", self.epdir, "--control",
                                             self.sock, "--metrics", f"127.0.0.1:{self.port}"],
                                  os.path.join(self.work, "agent.log"), netns=self.ns)
            if not self.ok(self.agent.start() is not None, "start", "agent started"):
                print(self.agent.excerpt())
                return
            for s in (self.s_hangup, self.s_slow, self.s_slowloris, self.s_crlf):
                print(f"== {s.__name__[2:]}", flush=True)
                # a crash is counted where it happened; the next section gets a fresh agent
                # so that each finding is judged on its own
                if not self.agent.alive() and self.agent.start() is None:
                    self.ok(False, s.__name__[2:], "agent does not start again")
                    continue
                s()
            if self.failed:
                print(self.agent.excerpt())
            rc = self.agent.term()
            self.ok(rc == 0, "exit", f"agent exits 0 on SIGTERM (got {rc})")
            print("== addr", flush=True)
            self.s_addr()
        finally:
            if self.agent is not None and self.agent.alive():
                self.agent.kill9()
            subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)
            if not os.environ.get("NETNS_KEEP_LOGS"):
                shutil.rmtree(self.work, ignore_errors=True)
        print(f"{PFX}: {self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print(f"{PFX}: skipped: needs root (network namespaces)")
        print(f"{PFX}: 0 passed, 0 failed")
        sys.exit(77)
    sys.exit(Suite(os.path.abspath(args.bin)).run())


if __name__ == "__main__":
    main()
