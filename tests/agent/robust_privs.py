#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The agent's least privilege (issue 14), on a real agent in a network namespace of this test
with one endpoint file (`--docker none`), read from /proc/PID/status and the kernel:

  root-start   started as root (as an operator would): it runs as the user netseg with
               CapEff = CapPrm = CapBnd = CAP_NET_ADMIN, nothing inheritable or ambient,
               NoNewPrivs 1, Seccomp 2 (filter); it still enforces (its tables, the endpoint's
               interface in them) and still re-reads an endpoint file written afterwards; the
               control socket and the directory it made are the user's, and are gone after
               SIGTERM (exit 0).
  unit-start   started the way packaging/netseg.service starts it (setpriv: user netseg,
               ambient and bounding CAP_NET_ADMIN): same sets, same enforcement.
  no-user      --user naming no user: exit 1 before touching the kernel (no tables).
"""

import argparse
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import agentlib as al  # noqa: E402

NAME = "robust-privs"
PID = os.getpid()
NS = f"nsp{PID}"
USER = "netseg"


class UnitAgent(al.Agent):
    """The agent as the systemd unit starts it: never root, CAP_NET_ADMIN ambient."""

    def cmd(self):
        return (["ip", "netns", "exec", self.netns, "setpriv", f"--reuid={USER}",
                 f"--regid={USER}", "--init-groups", "--inh-caps=-all,+net_admin",
                 "--ambient-caps=-all,+net_admin", "--bounding-set=-all,+net_admin",
                 self.bin, "agent"] + self.args)


class Suite:
    def __init__(self, binary):
        self.bin = os.path.abspath(binary)
        self.passed = self.failed = 0
        self.work = al.workdir(prefix=f"{NS}-")
        self.epdir = os.path.join(self.work, "endpoints")
        os.mkdir(self.epdir)
        self.pol = os.path.join(self.work, "policy.yaml")
        with open(self.pol, "w") as f:
            f.write("version: 1\ndefaults:\n  container_to_container: deny\n")
        self.agents = []

    def ok(self, cond, sec, text):
        print(f"  {'PASS' if cond else 'FAIL'} [{sec}] {text}", flush=True)
        if cond:
            self.passed += 1
        else:
            self.failed += 1

    def write_ep(self, name, ifname):
        path = os.path.join(self.epdir, f"{name}.yaml")
        al.atomic_write(path, f"endpoints:\n  - name: {name}\n    interface: {ifname}\n"
                        f"    addresses: [10.97.0.{len(os.listdir(self.epdir)) + 2}]\n"
                        f"    labels: {{ app: web }}\n")

    def sock(self, sec):
        return os.path.join(self.work, f"run-{sec}", "control.sock")

    def start(self, cls, sec):
        a = cls(self.bin, ["-p", self.pol, "--endpoints-dir", self.epdir, "--docker", "none",
                           "--control", self.sock(sec), "--bridge", f"pbr{PID}"],
                os.path.join(self.work, f"{sec}.log"), netns=NS)
        self.agents.append(a)
        ok = a.start()
        self.ok(ok is not None, sec, "agent started" + ("" if ok else "\n" + a.excerpt()))
        return a if ok else None

    def enforced(self, token, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if al._has(al.table_text(NS, "inet") + al.table_text(NS, "bridge"), token):
                return True
            time.sleep(0.05)
        return False

    def common(self, a, sec, ifname):
        ok, text = a.least_privilege()
        print(f"  agent privileges: {text}", flush=True)
        self.ok(ok, sec, f"non-root, CAP_NET_ADMIN only, seccomp: {text}")
        self.ok(self.enforced(ifname), sec, f"{ifname} is in netseg's tables")
        later = f"pl{sec[0]}{PID % 10000}"
        self.write_ep(f"later-{sec}", later)
        self.ok(self.enforced(later), sec, f"an endpoint file written after the drop is "
                f"read and enforced ({later})")

    def s_root_start(self):
        sec = "root-start"
        self.write_ep("first", f"pv{PID % 100000}")
        a = self.start(al.Agent, sec)
        if not a:
            return
        self.common(a, sec, f"pv{PID % 100000}")
        uid = pwd.getpwnam(USER).pw_uid
        sock = self.sock(sec)
        owners = (os.stat(sock).st_uid, os.stat(os.path.dirname(sock)).st_uid)
        self.ok(owners == (uid, uid), sec, f"control socket and its directory owned by "
                f"{USER} ({uid}): {owners}")
        st = subprocess.run(["ip", "netns", "exec", NS, self.bin, "status", "--control", sock],
                            capture_output=True, text=True, timeout=10)
        self.ok(st.returncode == 0, sec, f"netseg status (as root) answers: rc {st.returncode}")
        rc = a.term()
        self.ok(rc == 0 and not os.path.exists(sock), sec, f"SIGTERM: exit {rc}, control "
                f"socket removed ({not os.path.exists(sock)})")

    def s_unit_start(self):
        sec = "unit-start"
        # RuntimeDirectory=netseg, as systemd makes it: the user's, 0700.
        d = os.path.dirname(self.sock(sec))
        os.mkdir(d, 0o700)
        pw = pwd.getpwnam(USER)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        a = self.start(UnitAgent, sec)
        if not a:
            return
        self.common(a, sec, f"pv{PID % 100000}")
        st = subprocess.run(["ip", "netns", "exec", NS, self.bin, "status", "--control",
                             self.sock(sec)], capture_output=True, text=True, timeout=10)
        self.ok(st.returncode == 0, sec, f"netseg status (as root) answers: rc {st.returncode}")
        rc = a.term()
        self.ok(rc == 0, sec, f"SIGTERM: exit {rc}")

    def s_no_user(self):
        sec = "no-user"
        subprocess.run(["ip", "netns", "exec", NS, self.bin, "flush"], capture_output=True)
        r = subprocess.run(["ip", "netns", "exec", NS, self.bin, "agent", "-p", self.pol,
                            "--docker", "none", "--control", "none", "--user", f"nosuch{PID}"],
                           capture_output=True, text=True, timeout=10)
        self.ok(r.returncode == 1 and "no such user" in r.stderr, sec,
                f"exit {r.returncode}: {r.stderr.strip()!r}")
        self.ok(al.netseg_tables(NS) == [], sec, f"no tables installed: {al.netseg_tables(NS)}")

    def cleanup(self):
        for a in self.agents:
            if a.alive():
                a.kill9()
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        if os.environ.get("NETNS_KEEP_LOGS"):
            print(f"  logs kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("NETSEG_BIN", "build/netseg"))
    a = ap.parse_args()
    if os.geteuid() != 0:
        print(f"{NAME}: skipped: needs root")
        print(f"{NAME}: 0 passed, 0 failed")
        return 77
    try:
        pwd.getpwnam(USER)
    except KeyError:
        # Not a skip: without it the agent does not start at all.
        print(f"  FAIL no user {USER} (scripts/deps.sh creates it)")
        print(f"{NAME}: 0 passed, 1 failed")
        return 1
    if not shutil.which("setpriv"):
        print(f"{NAME}: skipped: setpriv(1) not found")
        print(f"{NAME}: 0 passed, 0 failed")
        return 77
    subprocess.run(["ip", "netns", "add", NS], check=True)
    s = Suite(a.bin)
    try:
        subprocess.run(["ip", "-n", NS, "link", "set", "lo", "up"], check=True)
        for name, fn in (("root-start", s.s_root_start), ("unit-start", s.s_unit_start),
                         ("no-user", s.s_no_user)):
            print(f"{NAME}: {name}", flush=True)
            try:
                fn()
            except Exception as e:  # noqa: BLE001 (a probe that errors is a failure)
                s.ok(False, name, f"error: {e!r}")
    finally:
        s.cleanup()
    print(f"{NAME}: {s.passed} passed, {s.failed} failed")
    return 1 if s.failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
