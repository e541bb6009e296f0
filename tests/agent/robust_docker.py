#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The agent's Docker source against a misbehaving daemon: a fake Docker Engine API on a unix
socket (a thread of this script), the agent in a network namespace of its own with
`--docker unix:SOCK --endpoints-dir DIR --control SOCK`.

    agent netns nsr<PID>a: netseg agent, bridge rdbr<PID> ── rd<PID>c1 ──veth── eth0 in
                           netns nsr<PID>c1 (a sleep there is container c1's Pid)

Proves:
  bad-container  one container with a foreign Pid (1: its namespace, found by PID, has no such
                 interface), one with a Pid that is no process, one with 65 networks, among
                 5,000: the good one is enforced (its veth in netseg's sets), Pid 1's is not
                 managed, the other two are named in the log as skipped
  events-fail    /events answered "500 {message}" right after each list: requests in 10 s
                 stay bounded, and the log carries the daemon's message and the status
  events-close   /events accepted, then closed at once, after each list: bounded too
  slow-daemon    inspects answered at 1 byte/s while four `start` events wait: an endpoint
                 file written meanwhile is enforced within 1 s and `netseg status` answers
  order          `start` then `die` of one container while its inspect is slow: die wins
"""

import argparse
import grp
import json
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agentlib as al  # noqa: E402

NAME = "robust-docker"
PID = os.getpid()
ANS = f"nsr{PID}a"
CNS = f"nsr{PID}c1"
BR = f"rdbr{PID}"[:15]
VETH = f"rd{PID}c1"[:15]
FILE_IF = f"rd{PID}f1"[:15]
C1_MAC = "02:00:5e:44:00:01"
C1_IP = "10.77.1.2"


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, capture_output=True, text=True)


# ---------------------------------------------------------------------------------------------
# The fake daemon


class Fake:
    """What the fake daemon answers. Every field may be changed while it runs."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Condition()
        self.containers = {}  # id -> inspect JSON (dict)
        self.events_mode = "hold"  # hold | fail500 | close
        self.slow = set()  # container ids whose inspect trickles at 1 byte/s
        self.delay = {}  # container id -> seconds before its inspect is answered
        self.events = []  # pushed to every held stream
        self.requests = 0
        self.stop = False
        srv = self

        class H(socketserver.BaseRequestHandler):
            def handle(self):
                srv.serve(self.request)

        class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = S(path, H)
        # Like Docker's own socket: root:docker 0660, which the agent's user (netseg, in the
        # docker group) reaches through its supplementary groups.
        try:
            os.chown(path, 0, grp.getgrnam("docker").gr_gid)
            os.chmod(path, 0o660)
        except KeyError:
            os.chmod(path, 0o666)
        self.th = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.th.start()

    def close(self):
        with self.lock:
            self.stop = True
            self.lock.notify_all()
        self.server.shutdown()
        self.server.server_close()

    def push(self, **ev):
        with self.lock:
            self.events.append(json.dumps(ev) + "\n")
            self.lock.notify_all()

    def count(self):
        with self.lock:
            return self.requests

    @staticmethod
    def resp(status, body):
        b = body.encode()
        return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(b)}\r\n\r\n").encode() + b

    def serve(self, sock):
        req = b""
        while b"\r\n\r\n" not in req:
            d = sock.recv(4096)
            if not d:
                return
            req += d
        path = req.split(b" ")[1].decode()
        with self.lock:
            self.requests += 1
        try:
            self.answer(sock, path)
        except OSError:
            pass

    def answer(self, sock, path):
        if path.startswith("/events"):
            return self.stream(sock)
        if path == "/containers/json":
            with self.lock:
                body = json.dumps([{"Id": i} for i in self.containers])
            return sock.sendall(self.resp("200 OK", body))
        if path.startswith("/networks"):
            return sock.sendall(self.resp("200 OK", "[]" if path == "/networks" else "{}"))
        cid = path.split("/")[2] if path.startswith("/containers/") else None
        with self.lock:
            ins = self.containers.get(cid)
            slow, delay = cid in self.slow, self.delay.get(cid, 0)
        if ins is None:
            return sock.sendall(self.resp("404 Not Found",
                                          json.dumps({"message": f"No such container: {cid}"})))
        data = self.resp("200 OK", json.dumps(ins))
        if delay:
            time.sleep(delay)
        if not slow:
            return sock.sendall(data)
        for i in range(len(data)):  # 1 byte/s until the client gives up
            if self.stop:
                return
            sock.sendall(data[i:i + 1])
            time.sleep(1)

    def stream(self, sock):
        mode = self.events_mode
        if mode == "fail500":
            return sock.sendall(self.resp("500 Internal Server Error", json.dumps(
                {"message": "events backend exploded (fake)"})))
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        if mode == "close":
            return
        with self.lock:
            sent = len(self.events)
        while True:
            with self.lock:
                while sent == len(self.events) and not self.stop:
                    self.lock.wait(0.5)
                if self.stop:
                    return
                new = self.events[sent:]
                sent = len(self.events)
            for ev in new:
                b = ev.encode()
                sock.sendall(b"%x\r\n" % len(b) + b + b"\r\n")


def container(cid, pid, running=True, nets=None, labels=None):
    if nets is None:
        nets = {"n0": {"MacAddress": C1_MAC, "IPAddress": C1_IP}}
    return {"Id": cid, "Name": "/" + cid, "State": {"Running": running, "Pid": pid},
            "Config": {"Image": "fake/img", "Labels": labels or {"app": "web"}},
            "NetworkSettings": {"Networks": nets}}


def event(action, cid):
    now = time.time()
    return {"Type": "container", "Action": action,
            "Actor": {"ID": cid, "Attributes": {"name": cid}},
            "time": int(now), "timeNano": int(now * 1e9)}


# ---------------------------------------------------------------------------------------------


class Suite:
    def __init__(self, binary):
        self.bin = os.path.abspath(binary)
        self.work = al.workdir(prefix=f"nsr{PID}-")
        self.passed = self.failed = 0
        self.child = None
        self.fake = None
        self.agent = None

    def ok(self, cond, sec, what):
        if cond:
            self.passed += 1
            print(f"  PASS [{sec}] {what}", flush=True)
        else:
            self.failed += 1
            print(f"  FAIL [{sec}] {what}", flush=True)
            if self.agent:
                print(self.agent.excerpt(), flush=True)

    def setup(self):
        sh(f"ip netns add {ANS} && ip netns add {CNS}")
        sh(f"ip -n {ANS} link set lo up && ip -n {ANS} link add {BR} type bridge && "
           f"ip -n {ANS} link set {BR} up && "
           f"ip -n {ANS} link add {VETH} type veth peer name eth0 netns {CNS} && "
           f"ip -n {ANS} link set {VETH} master {BR} up && "
           f"ip -n {CNS} link set eth0 address {C1_MAC} up && "
           f"ip -n {CNS} addr add {C1_IP}/24 dev eth0")
        self.child = subprocess.Popen(["ip", "netns", "exec", CNS, "sleep", "3600"])
        time.sleep(0.2)
        self.poldir = os.path.join(self.work, "policy")
        self.epdir = os.path.join(self.work, "endpoints")
        os.makedirs(self.poldir)
        os.makedirs(self.epdir)
        with open(os.path.join(self.poldir, "policy.yaml"), "w") as f:
            f.write("version: 1\ngroups:\n  web: { labels: { app: web } }\n")
        self.sock = os.path.join(self.work, "docker.sock")
        self.ctl = os.path.join(self.work, "control.sock")

    def start(self, log):
        self.fake = self.fake or Fake(self.sock)
        self.agent = al.Agent(self.bin, ["-p", self.poldir, "--docker", self.sock,
                                         "--endpoints-dir", self.epdir, "--control", self.ctl,
                                         "--bridge", BR],
                              os.path.join(self.work, log), netns=ANS)
        return self.agent.start(timeout=30)

    def stop(self):
        if self.agent:
            self.agent.term()
            self.agent.kill9()
        if self.fake:
            self.fake.close()
            os.unlink(self.sock)
        self.agent = self.fake = None

    @staticmethod
    def enforced(token, timeout, present=True):
        """Seconds until TOKEN is (or is no longer) in any of netseg's tables, or None."""
        t0 = time.monotonic()
        while True:
            txt = "".join(al.table_text(ANS, fam) for fam in al.FAMILIES)
            if al._has(txt, token) == present:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                return None
            time.sleep(0.01)

    # sections ---------------------------------------------------------------------------------
    def s_bad_container(self):
        sec = "bad-container"
        self.fake = Fake(self.sock)
        cs = {"c1": container("c1", self.child.pid),
              "bad-pid1": container("bad-pid1", 1),
              "bad-bigpid": container("bad-bigpid", 99999999999),
              "bad-nets": container("bad-nets", self.child.pid, nets={
                  f"n{k}": {"MacAddress": C1_MAC, "IPAddress": C1_IP} for k in range(65)})}
        for i in range(5000 - len(cs)):
            cs[f"idle{i:05d}"] = container(f"idle{i:05d}", 0, running=False)
        self.fake.containers = cs
        self.ok(self.start("bad.log"), sec, "agent started")
        dt = self.enforced(VETH, 30)
        self.ok(dt is not None, sec, f"5,000 containers, 3 bad: c1's veth {VETH} enforced "
                f"({'%.1f s' % dt if dt is not None else 'never, in 30 s'})")
        for cid, why in (("bad-bigpid", "is not a process"),
                         ("bad-nets", "65 networks, over the limit")):
            m = self.agent.wait_log(rf"container {cid} skipped, .*{why}", timeout=5)
            self.ok(m is not None, sec, f"{cid} logged as skipped ({why})")
        # Pid 1, as a daemon in another PID namespace would report: the agent (not root, no
        # CAP_SYS_PTRACE) finds that namespace by PID, and c1's interface is not in it.
        st = subprocess.run(["ip", "netns", "exec", ANS, self.bin, "status", "--json",
                             "--control", self.ctl], capture_output=True, text=True, timeout=30)
        names = sorted(e.get("name") for e in json.loads(st.stdout or "{}").get("endpoints", []))
        self.ok(st.returncode == 0 and "c1" in names and "bad-pid1" not in names, sec,
                f"bad-pid1 (Pid 1) not managed, c1 is: endpoints {names} (rc {st.returncode})")
        self.stop()

    def backoff(self, mode, bound):
        sec = f"events-{'fail' if mode == 'fail500' else 'close'}"
        self.fake = Fake(self.sock)
        self.fake.containers = {f"idle{i:03d}": container(f"idle{i:03d}", 0, running=False)
                                for i in range(200)}
        self.fake.events_mode = mode
        self.ok(self.start(f"{sec}.log"), sec, "agent started")
        n0 = self.fake.count()
        time.sleep(10)
        n = self.fake.count() - n0
        self.ok(n <= bound, sec, f"200 containers, /events failing after each list: {n} "
                f"requests in 10 s (bound {bound}; before the fix 10,556)")
        if mode == "fail500":
            m = self.agent.wait_log(r"HTTP 500: events backend exploded \(fake\)", timeout=1)
            self.ok(m is not None, sec, "the log has the daemon's message and the status")
        self.stop()

    def s_slow(self):
        sec = "slow-daemon"
        self.fake = Fake(self.sock)
        self.ok(self.start("slow.log"), sec, "agent started")
        ids = [f"slow{i}" for i in range(4)]
        with self.fake.lock:
            for cid in ids:
                self.fake.containers[cid] = container(cid, self.child.pid)
                self.fake.slow.add(cid)
        for cid in ids:
            self.fake.push(**event("start", cid))
        time.sleep(1.5)  # the first inspect is trickling now
        ep = os.path.join(self.epdir, "f1.yaml")
        with open(ep + ".tmp", "w") as f:
            f.write(f"endpoints:\n  - name: f1\n    interface: {FILE_IF}\n"
                    f"    addresses: [10.77.2.5]\n    labels: {{ app: web }}\n")
        t0 = time.monotonic()
        st = subprocess.run(["ip", "netns", "exec", ANS, self.bin, "status", "--control",
                             self.ctl], capture_output=True, text=True, timeout=30)
        dt = time.monotonic() - t0
        self.ok(st.returncode == 0 and dt < 1.0, sec,
                f"netseg status answered (rc {st.returncode}) in {dt:.2f} s (bound 1 s)")
        t0 = time.monotonic()
        os.rename(ep + ".tmp", ep)
        dt = self.enforced(FILE_IF, 25)
        self.ok(dt is not None and dt < 1.0, sec,
                "endpoint file written while inspects trickle at 1 byte/s: enforced in "
                + (f"{dt:.2f} s" if dt is not None else "more than 25 s") + " (bound 1 s)")
        self.stop()

    def s_order(self):
        sec = "order"
        self.fake = Fake(self.sock)
        self.ok(self.start("order.log"), sec, "agent started")
        self.fake.containers["o1"] = container("o1", self.child.pid)
        self.fake.delay["o1"] = 1.5
        self.fake.push(**event("start", "o1"))
        time.sleep(0.3)
        self.fake.push(**event("die", "o1"))
        self.fake.push(**event("destroy", "o1"))
        time.sleep(3)
        still = self.enforced(VETH, 0.5, present=False)
        self.ok(still is not None, sec, "start, then die while the inspect is in flight: "
                "the container is not managed afterwards")
        # The same container started for good, then resynced: it is managed.
        self.fake.delay.clear()
        self.fake.push(**event("start", "o1"))
        self.ok(self.enforced(VETH, 5) is not None, sec, "a later start: managed")
        self.stop()

    def cleanup(self):
        try:
            self.stop()
        except Exception as e:  # noqa: BLE001
            print(f"  cleanup: {e}")
        if self.child:
            self.child.kill()
            self.child.wait()
        sh(f"ip netns del {ANS}; ip netns del {CNS}", check=False)
        if os.environ.get("NETNS_KEEP_LOGS"):
            print(f"  logs kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("NETSEG_BIN", "build/netseg"))
    ap.add_argument("--only", action="append")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print(f"{NAME}: skipped: needs root (network namespaces)")
        print(f"{NAME}: 0 passed, 0 failed")
        return 77
    s = Suite(a.bin)
    sections = {"bad-container": s.s_bad_container,
                "events-fail": lambda: s.backoff("fail500", 300),
                "events-close": lambda: s.backoff("close", 2500),
                "slow-daemon": s.s_slow,
                "order": s.s_order}
    try:
        s.setup()
        for name, fn in sections.items():
            if a.only and name not in a.only:
                continue
            print(f"{NAME}: {name}", flush=True)
            try:
                fn()
            except Exception as e:  # noqa: BLE001  a probe that errors is a failure
                s.ok(False, name, f"raised {type(e).__name__}: {e}")
                s.stop()
    finally:
        s.cleanup()
    print(f"{NAME}: {s.passed} passed, {s.failed} failed")
    return 1 if s.failed else 0


if __name__ == "__main__":
    sys.exit(main())
