#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Event to enforced, netseg's agent next to regenerate-everything; agent idle CPU and RSS.

For each size N, in namespaces of our own (names carry our PID):

  nsa<PID>  bridges br0..br7 ── vb0..vbK  (one new veth per event; its peer is eth0 in a
            netns ce<PID>-<i> of its own, like a container)
            netseg agent -p POLICY --endpoints-dir D --docker none   (N endpoints in D/bulk.yaml)
  nsr<PID>  the same bridges and veths, no agent: the regenerate-everything tool

Agent: started with N endpoints; after it settles we read its CPU time over IDLE seconds and
its RSS (section 5). Then EVENTS times: a container namespace and its veth appear on br0, the
endpoint record is renamed into D (t0), and we stop the clock when `nft monitor` prints the
container's address being added to containers4 (the agent commits every element of the
endpoint in one transaction, so that line means all of them are in the kernel).

Regenerate-everything (what dfw and ufw-docker style tools do on each Docker event): on each
event render the whole ruleset for N+i endpoints (`netseg compile`, a fast C renderer, to a file)
and load it with `nft -f` (one atomic transaction, as netseg's own text is add/delete/re-add).
The clock stops when `nft -f` exits, i.e. at its commit (no monitor in the way, which favours it).

Usage: event_latency.py NETSEG BENCH_COMPILE OUT.json RULES SIZES EVENTS REGEN_EVENTS IDLE_SECS
  SIZES and REGEN_EVENTS are comma lists (REGEN_EVENTS per size).
"""
import ctypes
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

netseg, bench_compile, out = sys.argv[1], sys.argv[2], sys.argv[3]
rules = int(sys.argv[4])
sizes = [int(x) for x in sys.argv[5].split(",")]
events = int(sys.argv[6])
regen_events = [int(x) for x in sys.argv[7].split(",")]
idle_secs = float(sys.argv[8])

PID = os.getpid()
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
root_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
created_ns = []
procs = []
work = tempfile.mkdtemp(prefix="netseg-event-bench.")


def setns(name):
    """Moves this thread (and the processes it starts) into netns NAME, or back (None)."""
    fd = root_ns if name is None else os.open(f"/var/run/netns/{name}", os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), f"setns {name}")
    if fd != root_ns:
        os.close(fd)


def run(*args, **kw):
    return subprocess.run(list(args), check=True, **kw)


def add_ns(name):
    setns(None)
    run("ip", "netns", "add", name)
    created_ns.append(name)


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    setns(None)
    for name in reversed(created_ns):
        subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)
    shutil.rmtree(work, ignore_errors=True)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def stats(xs):
    return {"n": len(xs), "median": statistics.median(xs), "p99": pct(xs, 99), "max": max(xs),
            "min": min(xs), "over_5ms": sum(x >= 5 for x in xs),
            "samples": [round(x, 3) for x in xs]}


def proc_status(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime + stime


def event_endpoint(i):
    # Labels of app1: a member of the groups and inline matches that name it, as in bulk.
    return (f"  - name: ev{i}\n    interface: vb{i}\n    bridge: br0\n"
            f"    addresses: [10.250.{i // 250}.{i % 250 + 1}, \"fd00:250::{i + 1:x}\"]\n"
            f"    labels: {{ app: app1, tier: t1, env: e1 }}\n")


def topology(ns):
    """Bridges in NS; the caller stays in NS."""
    add_ns(ns)
    setns(ns)
    for b in range(8):
        run("ip", "link", "add", f"br{b}", "type", "bridge")
        run("ip", "link", "set", f"br{b}", "up")


def new_container(ns, i):
    """A container namespace with eth0, whose host side vb<i> joins br0 in NS."""
    cns = f"ce{PID}-{ns[:3]}{i}"
    add_ns(cns)
    setns(ns)
    run("ip", "link", "add", f"vb{i}", "type", "veth", "peer", "name", "eth0", "netns", cns)
    run("ip", "link", "set", f"vb{i}", "master", "br0", "up")


def del_containers(prefix):
    setns(None)
    for name in [n for n in created_ns if n.startswith(prefix)]:
        subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)
        created_ns.remove(name)


def agent_run(n, gen):
    ns = f"nsa{PID}"
    topology(ns)
    epdir = os.path.join(work, f"eps{n}")
    os.mkdir(epdir)
    shutil.copy(os.path.join(gen, "endpoints.yaml"), os.path.join(epdir, "bulk.yaml"))
    logpath = os.path.join(work, f"agent{n}.log")
    log = open(logpath, "w")
    t_start = time.monotonic()
    agent = subprocess.Popen([netseg, "agent", "-p", os.path.join(gen, "policy.yaml"),
                              "--endpoints-dir", epdir, "--docker", "none"],
                             stdout=log, stderr=subprocess.STDOUT)
    procs.append(agent)
    deadline = time.time() + 120
    while "started:" not in open(logpath).read():
        if time.time() > deadline or agent.poll() is not None:
            sys.exit("agent did not start: " + open(logpath).read()[-3000:])
        time.sleep(0.02)
    startup_s = time.monotonic() - t_start
    hwm_start = proc_status(agent.pid, "VmHWM")
    time.sleep(2)  # settle: the first link dump, the nft monitor echo of our own install
    c0, t0 = cpu_ticks(agent.pid), time.monotonic()
    time.sleep(idle_secs)
    c1, t1 = cpu_ticks(agent.pid), time.monotonic()
    hz = os.sysconf("SC_CLK_TCK")
    idle = {"seconds": t1 - t0, "cpu_ms": (c1 - c0) * 1000 / hz,
            "cpu_percent": (c1 - c0) / hz / (t1 - t0) * 100,
            "rss_kib": proc_status(agent.pid, "VmRSS"), "peak_rss_kib": hwm_start}

    mon = subprocess.Popen(["nft", "monitor", "elements"], stdout=subprocess.PIPE, text=True,
                           bufsize=1)
    procs.append(mon)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put((time.monotonic(), l)) for l in mon.stdout],
                     daemon=True).start()
    # `nft monitor` reads the whole ruleset before it listens, which takes a while at 10,000
    # endpoints: a first event sent before then would never be seen. Wait until it echoes
    # an element of a scratch table of ours (in this benchmark's own namespace).
    ready = f"nsready{PID}"
    run("nft", "-f", "-", input=f"table inet {ready} {{\n set s {{ type inet_service; }}\n}}\n",
        text=True)
    deadline = time.monotonic() + 60
    while True:
        run("nft", "add", "element", "inet", ready, "s", "{ 9 }")
        run("nft", "delete", "element", "inet", ready, "s", "{ 9 }")
        try:
            if ready in lines.get(timeout=1)[1]:
                break
        except queue.Empty:
            pass
        if time.monotonic() > deadline:
            sys.exit("nft monitor never started listening")
    run("nft", "delete", "table", "inet", ready)

    def wait_for(text, t0):
        while True:
            try:
                t, line = lines.get(timeout=10)
            except queue.Empty:
                sys.exit(f"no commit seen for {text}; agent log:\n" + open(logpath).read()[-3000:])
            if text in line and t >= t0:
                return t - t0

    add_ms, del_ms = [], []
    for i in range(events):
        new_container(ns, i)
        tmp = os.path.join(work, f"ep{i}.tmp")
        with open(tmp, "w") as f:
            f.write("endpoints:\n" + event_endpoint(i))
        while not lines.empty():
            lines.get_nowait()
        t0 = time.monotonic()
        os.rename(tmp, os.path.join(epdir, f"ep{i}.yaml"))
        add_ms.append(wait_for(f"add element inet netseg containers4 {{ 10.250.{i // 250}.{i % 250 + 1} ", t0) * 1e3)
    rss_after = proc_status(agent.pid, "VmRSS")
    for i in range(0, events, 2):  # half of them stop again
        while not lines.empty():
            lines.get_nowait()
        t0 = time.monotonic()
        os.unlink(os.path.join(epdir, f"ep{i}.yaml"))
        del_ms.append(wait_for(f"delete element inet netseg containers4 {{ 10.250.{i // 250}.{i % 250 + 1} ", t0) * 1e3)
    agent.terminate()
    mon.terminate()
    agent.wait()
    mon.wait()
    log.close()
    del_containers(f"ce{PID}-nsa")
    setns(None)
    run("ip", "netns", "del", ns)
    created_ns.remove(ns)
    return {"startup_s": startup_s, "idle": idle, "rss_after_events_kib": rss_after,
            "add_ms": stats(add_ms), "delete_ms": stats(del_ms)}


def regen_run(n, gen, k):
    ns = f"nsr{PID}"
    topology(ns)
    policy = os.path.join(gen, "policy.yaml")
    base = open(os.path.join(gen, "endpoints.yaml")).read()
    epfile = os.path.join(work, f"regen{n}.yaml")
    nftfile = os.path.join(work, f"regen{n}.nft")
    devnull = subprocess.DEVNULL

    def regenerate(extra):
        with open(epfile, "w") as f:
            f.write(base + extra)
        with open(nftfile, "w") as f:
            run(netseg, "compile", "-p", policy, "-e", epfile, stdout=f, stderr=devnull)
        run("nft", "-f", nftfile)

    t0 = time.monotonic()
    regenerate("")
    initial_ms = (time.monotonic() - t0) * 1e3
    add_ms, render_ms = [], []
    extra = ""
    for i in range(k):
        new_container(ns, i)
        extra += event_endpoint(i)
        t0 = time.monotonic()
        with open(epfile, "w") as f:
            f.write(base + extra)
        with open(nftfile, "w") as f:
            run(netseg, "compile", "-p", policy, "-e", epfile, stdout=f, stderr=devnull)
        t1 = time.monotonic()
        run("nft", "-f", nftfile)
        add_ms.append((time.monotonic() - t0) * 1e3)
        render_ms.append((t1 - t0) * 1e3)
    nft_bytes = os.path.getsize(nftfile)
    del_containers(f"ce{PID}-nsr")
    setns(None)
    run("ip", "netns", "del", ns)
    created_ns.remove(ns)
    return {"initial_load_ms": initial_ms, "add_ms": stats(add_ms),
            "render_ms": stats(render_ms), "ruleset_text_bytes": nft_bytes}


try:
    results = {"rules": rules, "events": events, "sizes": []}
    for idx, n in enumerate(sizes):
        gen = os.path.join(work, f"gen{n}")
        os.mkdir(gen)
        run(bench_compile, "-w", gen, str(rules), str(n))
        a = agent_run(n, gen)
        k = regen_events[min(idx, len(regen_events) - 1)]
        r = regen_run(n, gen, k)
        results["sizes"].append({"endpoints": n, "agent": a, "regenerate": r})
        print(f"N={n}: agent add median {a['add_ms']['median']:.2f} p99 {a['add_ms']['p99']:.2f} ms"
              f" (delete median {a['delete_ms']['median']:.2f}); regenerate median "
              f"{r['add_ms']['median']:.1f} p99 {r['add_ms']['p99']:.1f} ms over {k}; idle CPU "
              f"{a['idle']['cpu_percent']:.3f}% RSS {a['idle']['rss_kib'] / 1024:.1f} MiB",
              file=sys.stderr)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    json.dump(results, open(out, "w"), indent=2)
finally:
    cleanup()
