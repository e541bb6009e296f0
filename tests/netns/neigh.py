# SPDX-License-Identifier: GPL-2.0-or-later
"""Headroom in the kernel's neighbour tables while netseg's namespace tests run.

The ARP and NDISC tables are one table each for the whole machine, shared by every network
namespace, and gc_thresh3 (1,024 by default) caps their entries. A forced collection frees
only entries idle for 5 s, so when the truth tables probe every pair of a hundred namespaces
(and other test runs do the same on a shared machine), creating a neighbour fails and the
kernel returns EINVAL from send()/sendto() (ip6_finish_output2, ip_finish_output2): a probe
error that is a property of the machine, not of the rules under test. /proc/net/stat/
ndisc_cache's table_fulls column counts it (17,800 seen on one loaded machine).

While at least one test holds a claim, gc_thresh2/3 are raised to TESTING_THRESH; the last
claim to leave restores what it found. Claims are files named by PID, so a test killed hard
never pins the raised values: its claim is dropped once its PID is gone.
"""

import json
import os

CLAIMS = "/run/netseg-tests/neigh"
KEYS = [f"/proc/sys/net/{fam}/neigh/default/gc_thresh{n}"
        for fam in ("ipv4", "ipv6") for n in (2, 3)]
TESTING_THRESH = {"gc_thresh2": 32768, "gc_thresh3": 65536}


def _read(path):
    with open(path) as f:
        return int(f.read().split()[0])


def _write(path, value):
    with open(path, "w") as f:
        f.write(str(value))


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _claims():
    pids = []
    for name in os.listdir(CLAIMS):
        if not name.isdigit():
            continue
        if _alive(int(name)):
            pids.append(int(name))
        else:
            os.unlink(os.path.join(CLAIMS, name))
    return pids


def _locked(fn):
    import fcntl
    os.makedirs(CLAIMS, exist_ok=True)
    with open(os.path.join(CLAIMS, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return fn()


def claim():
    """Raise the thresholds (first claim saves the originals). Never fails a test: without
    permission it does nothing, and table_fulls() still tells what happened."""
    def do():
        orig = os.path.join(CLAIMS, "orig.json")
        if not _claims() or not os.path.exists(orig):
            with open(orig, "w") as f:
                json.dump({k: _read(k) for k in KEYS}, f)
        open(os.path.join(CLAIMS, str(os.getpid())), "w").close()
        for k in KEYS:
            want = TESTING_THRESH[os.path.basename(k)]
            if _read(k) < want:
                _write(k, want)
    try:
        _locked(do)
    except OSError:
        pass


def release():
    def do():
        try:
            os.unlink(os.path.join(CLAIMS, str(os.getpid())))
        except FileNotFoundError:
            return
        if _claims():
            return
        orig = os.path.join(CLAIMS, "orig.json")
        with open(orig) as f:
            saved = json.load(f)
        for k, v in saved.items():
            _write(k, v)
        os.unlink(orig)
    try:
        _locked(do)
    except OSError:
        pass


def table_fulls():
    """Sum of table_fulls over CPUs for (arp_cache, ndisc_cache): how often creating a
    neighbour failed because its table was full."""
    out = []
    for name in ("arp_cache", "ndisc_cache"):
        with open(f"/proc/net/stat/{name}") as f:
            head = f.readline().split()
            col = head.index("table_fulls")
            out.append(sum(int(line.split()[col], 16) for line in f))
    return tuple(out)
