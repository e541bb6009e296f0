# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared pieces of the agent suites (netns.py, docker.py): the agent process, waiting on the
kernel's view of netseg's tables, a probe comparator that tolerates "refused" where no
listener runs, and timing helpers.

The topology, the oracle, the prober and the truth-table judge are tests/netns's own
(topo.py, oracle.py, probe.py, run.py), imported, never copied.
"""

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NETNS_DIR = os.path.join(os.path.dirname(HERE), "netns")
sys.path.insert(0, NETNS_DIR)

import topo  # noqa: E402,F401
import scenarios  # noqa: E402,F401
import run as nrun  # noqa: E402  (plan, judge, run_probes, Tally)
from oracle import Oracle  # noqa: E402,F401

FAMILIES = ("inet", "bridge", "arp", "netdev", "ip", "ip6")


class Tally(nrun.Tally):
    def skip_note(self, section, text):
        print(f"  NOTE [{section}] {text}", flush=True)


class Agent:
    """`netseg agent` as a child process (its PID is ours to kill: `ip netns exec` and `env`
    exec the binary), stderr to LOG. NETNS None = the current (root) namespace."""

    def __init__(self, binary, args, log, netns=None):
        self.bin, self.args, self.log, self.netns = binary, list(args), log, netns
        self.p = None
        self.starts = 0

    def cmd(self):
        pre = ["ip", "netns", "exec", self.netns] if self.netns else []
        return pre + [self.bin, "agent"] + self.args

    def logtext(self, since=0):
        try:
            with open(self.log, errors="replace") as f:
                f.seek(since)
                return f.read()
        except FileNotFoundError:
            return ""

    def logpos(self):
        try:
            return os.path.getsize(self.log)
        except FileNotFoundError:
            return 0

    def start(self, timeout=15):
        """Starts and waits for the first full install ("started: enforcing")."""
        pos = self.logpos()
        f = open(self.log, "a")
        f.write(f"----- test: start #{self.starts + 1}: {' '.join(self.cmd())}\n")
        f.flush()
        self.p = subprocess.Popen(self.cmd(), stdout=f, stderr=f, stdin=subprocess.DEVNULL)
        f.close()
        self.starts += 1
        self.start_pos = pos
        ok = self.wait_log(r"started: enforcing", since=pos, timeout=timeout)
        self.note_exit()
        return ok

    def note_exit(self):
        """If the agent is gone, say how in its log (a crash logs nothing itself)."""
        if self.p is not None and self.p.poll() is not None and not getattr(self.p, "_noted",
                                                                             False):
            self.p._noted = True
            rc = self.p.returncode
            how = f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}"
            with open(self.log, "a") as f:
                f.write(f"----- test: agent pid {self.p.pid} ended: {how}\n")

    def wait_log(self, pattern, since=0, timeout=5.0):
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.logtext(since))
            if m:
                return m
            if self.p is not None and self.p.poll() is not None:
                return None
            if time.monotonic() > end:
                return None
            time.sleep(0.02)

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def least_privilege(self):
        """(ok, text): see least_privilege() below, for this agent's process."""
        # The drop and the seccomp filter come just after "started: enforcing".
        if not self.wait_log(r"netseg: info: confined: ", since=getattr(self, "start_pos", 0),
                             timeout=10):
            return False, "no 'confined:' line in the log (agent " + \
                ("running)" if self.alive() else "gone)")
        return least_privilege(self.p.pid)

    def kill9(self):
        if self.alive():
            os.kill(self.p.pid, signal.SIGKILL)
            self.p.wait(timeout=10)

    def term(self, timeout=10):
        if self.alive():
            os.kill(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return None
        return self.p.returncode if self.p else None

    def hup(self):
        if self.alive():
            os.kill(self.p.pid, signal.SIGHUP)

    def excerpt(self, since=0, n=25):
        self.note_exit()
        lines = self.logtext(since).splitlines()
        keep = [ln for ln in lines if ": error:" in ln or ": warning:" in ln]
        tail = lines[-n:]
        out = []
        for ln in keep[-10:] + ["..."] + tail:
            if ln not in out or ln == "...":
                out.append(ln)
        return "\n".join("      | " + ln for ln in out)


# ---------------------------------------------------------------------------------------------
# nftables, read-only except for the tamper test

CAP_NET_ADMIN = 1 << 12


def workdir(prefix):
    """A fresh temporary directory the agent can read: it runs as the unprivileged user
    netseg, so a 0700 root directory holding its policy or endpoint files would hide them."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    return d


def proc_status(pid):
    """/proc/PID/status as a dict: Uid/Gid/Groups as lists of ints, Cap* as ints."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid", "Groups"):
                out[k] = [int(x) for x in v.split()]
            elif k.startswith("Cap"):
                out[k] = int(v, 16)
            elif k in ("NoNewPrivs", "Seccomp"):
                out[k] = int(v)
    return out


def least_privilege(pid):
    """(ok, text): process PID runs as a non-root user (every uid and gid) with CapEff =
    CapPrm = CAP_NET_ADMIN only, nothing inheritable or ambient, a bounding set of CAP_NET_ADMIN
    alone, no_new_privs, and a seccomp filter (Seccomp: 2)."""
    st = proc_status(pid)
    text = (f"Uid {st['Uid']} Gid {st['Gid']} CapEff {st['CapEff']:#018x} CapPrm "
            f"{st['CapPrm']:#018x} CapInh {st['CapInh']:#018x} CapAmb {st.get('CapAmb', 0):#018x} "
            f"CapBnd {st['CapBnd']:#018x} NoNewPrivs {st.get('NoNewPrivs')} Seccomp {st.get('Seccomp')}")
    ok = (all(u != 0 for u in st["Uid"]) and all(g != 0 for g in st["Gid"]) and
          st["CapEff"] == CAP_NET_ADMIN and st["CapPrm"] == CAP_NET_ADMIN and
          st["CapInh"] == 0 and st.get("CapAmb", 0) == 0 and st["CapBnd"] == CAP_NET_ADMIN and
          st.get("NoNewPrivs") == 1 and st.get("Seccomp") == 2)
    return ok, text


def nft(args, netns=None, check=False, timeout=20):
    pre = ["ip", "netns", "exec", netns] if netns else []
    return subprocess.run(pre + ["nft"] + args, capture_output=True, text=True,
                          timeout=timeout, check=check)


def netseg_tables(netns=None):
    """[(family, name)] of tables named netseg in that namespace."""
    r = nft(["list", "tables"], netns)
    out = []
    for ln in r.stdout.splitlines():
        f = ln.split()
        if len(f) == 3 and f[0] == "table" and f[2] == "netseg":
            out.append((f[1], f[2]))
    return out


def table_text(netns=None, family="inet"):
    return nft(["list", "table", family, "netseg"], netns).stdout


def _has(text, token):
    # an address or a quoted interface name, never a prefix of a longer one
    return re.search(r'(?<![0-9a-fA-F:.])' + re.escape(token) + r'(?![0-9a-fA-F:.])', text) \
        is not None


def wait_elements(present=(), absent=(), netns=None, timeout=10.0, family="inet"):
    """Polls `nft list table FAMILY netseg` until every token of PRESENT is in it and none of
    ABSENT. Returns seconds waited, or None on timeout."""
    t0 = time.monotonic()
    while True:
        txt = table_text(netns, family)
        if all(_has(txt, p) for p in present) and not any(_has(txt, a) for a in absent):
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(0.01)


class NftMonitor:
    """`nft monitor elements` in a namespace; every line time-stamped on arrival, so the
    moment an element reached the kernel is known without polling granularity."""

    def __init__(self, netns=None):
        pre = ["ip", "netns", "exec", netns] if netns else []
        self.p = subprocess.Popen(pre + ["nft", "monitor", "elements"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.lines = []
        self.lock = threading.Lock()
        self.th = threading.Thread(target=self._read, daemon=True)
        self.th.start()
        time.sleep(0.2)

    def _read(self):
        for ln in self.p.stdout:
            t = time.monotonic()
            with self.lock:
                self.lines.append((t, ln))

    def first(self, token, after):
        with self.lock:
            for t, ln in self.lines:
                if t >= after and ln.startswith("add ") and _has(ln, token):
                    return t
        return None

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(timeout=5)


def percentile(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary_ms(xs):
    ms = [x * 1000 for x in xs]
    return (f"n={len(ms)} median {statistics.median(ms):.1f} ms, p99 {percentile(ms, 0.99):.1f} "
            f"ms, min {min(ms):.1f}, max {max(ms):.1f}")


def compare(results, probes, expect, tally, section, open_ok=("open",)):
    """Generic comparator: expect[id] = (allowed, why). Allowed wants a result in OPEN_OK
    (add "refused" where nothing listens: a RST proves the packet got through); denied wants
    "blocked". Returns the list of bad probe ids."""
    bad = []
    for p in probes:
        r = results[p["id"]]
        allowed, why = expect[p["id"]]
        good = r["result"] in open_ok if allowed else r["result"] == "blocked"
        if good:
            tally.passed += 1
        else:
            tally.failed += 1
            tally.failures.append((section, p["id"]))
            bad.append(p["id"])
            if len(bad) <= 40:
                print(f"    FAIL [{section}] {p['id']} ({p.get('src') or '-'} -> {p['dst']}): "
                      f"expected {'OPEN' if allowed else 'BLOCKED'} ({why}), got {r['result']} "
                      f"({r['detail']})", flush=True)
    if len(bad) > 40:
        print(f"    ... and {len(bad) - 40} more")
    print(f"  [{section}] {len(probes) - len(bad)}/{len(probes)} probes as expected", flush=True)
    return bad


def atomic_write(path, text):
    d, b = os.path.split(path)
    tmp = os.path.join(d, f".{b}.tmp{os.getpid()}")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)
