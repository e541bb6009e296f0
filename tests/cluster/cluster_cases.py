# SPDX-License-Identifier: GPL-2.0-or-later
"""The steps of tests/cluster/run.py, in order; each one leaves the cluster converged."""

import json
import os
import signal
import sys
import time

import agentlib

HOSTS = ["h1", "h2", "h3"]

# Run in the underlay namespace: 1200 revisions of 20 x 3 kB under a prefix the agents ignore,
# deleted again, then a compaction at the last revision.
NOISE = r"""
import base64, json, sys, urllib.request
url = sys.argv[1]
b = lambda s: base64.b64encode(s.encode()).decode()
def post(path, body):
    req = urllib.request.Request(url + path, json.dumps(body).encode())
    return json.loads(urllib.request.urlopen(req, timeout=30).read())
blob = b("x" * 3000)
for i in range(int(sys.argv[2])):
    post("/v3/kv/txn", {"success": [{"request_put": {"key": b(f"/netseg/v1/noise/{i}/{k}"),
                                                     "value": blob}} for k in range(20)]})
post("/v3/kv/deleterange", {"key": b("/netseg/v1/noise/"), "range_end": b("/netseg/v1/noise0")})
rev = int(post("/v3/kv/range", {"key": b("/x")})["header"]["revision"])
post("/v3/kv/compaction", {"revision": rev, "physical": True})
"""


def start(cl, tally, table, p1):
    cl.build(HOSTS)
    cl.start_etcd()
    for h in HOSTS:
        n = int(h[1:])
        r = cl.netseg(["cluster", "add-node", h, "--cidr", f"10.10{n}.0.0/24,fd00:10{n}::/64",
                       "--cluster", "http://10.200.0.100:2379"])
        tally.ok(r.returncode == 0, "add-node", f"{h}: {r.stderr.strip()}")
    # One source of truth: a policy file with --cluster is a usage error.
    r = cl.nsexec("h1", [cl.bin, "agent", "-p", "/dev/null", "--cluster",
                         "http://10.200.0.100:2379"], check=False)
    tally.ok(r.returncode == 2 and "exclude each other" in r.stderr, "start",
             f"-p with --cluster is refused (rc {r.returncode}: {r.stderr.strip()})")
    # Before any push: an agent enforces fail-closed and says so.
    cl.add_ctr("web1", "h1", 1, {"app": "web"})
    a = cl.agent("h1")
    tally.ok(a.start(), "start", "h1 started without a pushed policy")
    tally.ok(a.wait_log(r"no policy pushed yet.*fail-closed", timeout=1) is not None,
             "start", "h1 says it enforces fail-closed without a policy")
    r = cl.push(p1)
    tally.ok(r.returncode == 0, "push", f"first push: {r.stderr.strip()}")
    tally.ok(a.wait_log(r"cluster policy revision \d+: enforcing", timeout=5) is not None,
             "push", "h1 picked up the pushed policy")
    cl.add_ctr("api1", "h1", 2, {"app": "api"})
    cl.add_ctr("api2", "h2", 1, {"app": "api"})
    cl.add_ctr("db2", "h2", 2, {"app": "db"})
    cl.add_ctr("web3", "h3", 1, {"app": "web"})
    cl.add_ctr("db3", "h3", 2, {"app": "db"})
    for h in HOSTS[1:]:
        tally.ok(cl.agent(h).start(), "start", f"{h} started")
    bad = cl.converged()
    tally.ok(bad is None, "start", f"every host knows every remote container (not {bad})")
    table("after start", p1)


def churn(cl, tally, table, p1):
    cl.add_ctr("api3", "h3", 3, {"app": "api"})
    cl.add_ctr("web2", "h2", 3, {"app": "web"})
    cl.gone += [cl.ctrs["web1"]["v4"], cl.ctrs["web1"]["v6"]]
    cl.del_ctr("web1")
    bad = cl.converged()
    tally.ok(bad is None, "churn", f"adds and removals reached every host (not {bad})")
    table("after add/remove", p1)


def push2(cl, tally, table, p2):
    pos = {h: a.logpos() for h, a in cl.agents.items()}
    r = cl.push(p2)
    tally.ok(r.returncode == 0, "push2", f"second push: {r.stderr.strip()}")
    for h, a in cl.agents.items():
        tally.ok(a.wait_log(r"cluster policy revision \d+: enforcing", since=pos[h],
                            timeout=5) is not None, "push2", f"{h} enforces the new policy")
    table("after policy push", p2)


def bad_push(cl, tally):
    before = cl.etcd_post("/v3/kv/range", {"key": "L25ldHNlZy92MS9wb2xpY3k="})
    pos = {h: a.logpos() for h, a in cl.agents.items()}
    path = os.path.join(cl.dir, "bad.yaml")
    with open(path, "w") as f:
        f.write("version: 1\nrules:\n  - name: x\n    from: nosuchgroup\n    to: world\n")
    r = cl.netseg(["cluster", "push", "-p", path, "--cluster", "http://10.200.0.100:2379"])
    tally.ok(r.returncode == 1 and "bad.yaml:4:11: error" in r.stderr, "bad-push",
             f"bad push fails with a located error (rc {r.returncode}: {r.stderr.strip()})")
    after = cl.etcd_post("/v3/kv/range", {"key": "L25ldHNlZy92MS9wb2xpY3k="})
    tally.ok(before["kvs"][0]["mod_revision"] == after["kvs"][0]["mod_revision"], "bad-push",
             "the stored policy is unchanged")
    time.sleep(1)
    for h, a in cl.agents.items():
        tally.ok("cluster policy" not in a.logtext(pos[h]), "bad-push",
                 f"{h} did not reload anything")


def outside_cidrs(cl, tally):
    """h2 declares a container with an address of h1's range: the others refuse it."""
    pos = {h: a.logpos() for h, a in cl.agents.items()}
    doc = {"endpoints": [{"name": "thief", "interface": "vthief", "bridge": "br0",
                          "addresses": ["10.101.0.99"], "labels": {"app": "db"}}]}
    agentlib.atomic_write(os.path.join(cl.epdir("h2"), "thief.json"), json.dumps(doc))
    for h in ("h1", "h3"):
        a = cl.agents[h]
        tally.ok(a.wait_log(r"endpoint thief of node h2 refused: address 10\.101\.0\.99 is "
                            r"outside", since=pos[h], timeout=5) is not None, "cidrs",
                 f"{h} refuses h2's address outside its cidrs")
        tally.ok(agentlib.wait_elements([], ["10.101.0.99"], netns=cl.ns(h), timeout=1)
                 is not None, "cidrs", f"{h} has no element for it")
    os.unlink(os.path.join(cl.epdir("h2"), "thief.json"))


def remote_addrs(cl, h):
    return [a for c in cl.ctrs.values() if c["host"] == h for a in (c["v4"], c["v6"])]


def kill9(cl, tally, table, p2, ttl):
    a3 = cl.agents["h3"]
    mine = remote_addrs(cl, "h3")
    # Restart within the TTL: no other node ever deletes h3's elements.
    mons = {h: agentlib.NftMonitor(cl.ns(h)) for h in ("h1", "h2")}
    try:
        t0 = time.monotonic()
        a3.kill9()
        tally.ok(a3.start(), "kill9", "h3 restarted")
        restart = time.monotonic() - t0
        time.sleep(ttl + 2)
        for h, m in mons.items():
            with m.lock:
                dels = [ln for _, ln in m.lines if ln.startswith("delete")
                        and any(agentlib._has(ln, x) for x in mine)]
            tally.ok(not dels, "kill9", f"{h}: no gap for h3's containers when it restarts "
                     f"within the TTL ({restart:.1f} s; deletes seen: {dels[:2]})")
    finally:
        for m in mons.values():
            m.stop()
    # Dead for good: the others drop h3's containers once its lease expires.
    t0 = time.monotonic()
    a3.kill9()
    for h in ("h1", "h2"):
        w = agentlib.wait_elements([], mine, netns=cl.ns(h), timeout=ttl * 10)
        tally.ok(w is not None, "kill9", f"{h} dropped h3's containers after the TTL")
    gone = time.monotonic() - t0
    tally.ok(gone >= ttl - 1, "kill9", f"not before the TTL ({gone:.1f} s, ttl {ttl} s)")
    tally.ok(a3.start(), "kill9", "h3 started again")
    bad = cl.converged()
    tally.ok(bad is None, "kill9", f"h3's containers are back everywhere (not {bad})")
    table("after kill -9 and restart", p2)


def etcd_outage(cl, tally, table, p2):
    cl.stop_etcd()
    t0 = time.monotonic()
    # Containers come and go while etcd is away: each host still enforces what it knows.
    cl.add_ctr("api1b", "h1", 4, {"app": "api"})
    cl.gone += [cl.ctrs["db3"]["v4"], cl.ctrs["db3"]["v6"]]
    cl.del_ctr("db3")
    time.sleep(2)
    # What every host knows: the containers that were there before, and its own.
    known = [n for n in cl.ctrs if n != "api1b"]
    table("etcd down: known containers", p2,
          only=lambda s, d: (s in known and d in known) or
          (cl.ctrs[s]["host"] == cl.ctrs[d]["host"]))
    time.sleep(max(0, 10 - (time.monotonic() - t0)))
    cl.start_etcd()
    bad = cl.converged(timeout=20)
    tally.ok(bad is None, "etcd", f"after etcd came back everything converged (not {bad})")
    table("after etcd outage", p2)


def compaction(cl, tally, table, p2):
    a2 = cl.agents["h2"]
    # etcd cancels a watch with compact_revision only if the watcher fell behind (a "slow"
    # watcher) before the compaction; whether the noise fills the buffers in between depends
    # on timing, so a round that left h2 in step is repeated with twice the noise (at most 3).
    noise = int(os.environ.get("CLUSTER_NOISE", "1200"))
    m = None
    for attempt in range(3):
        pos = a2.logpos()
        os.kill(a2.p.pid, signal.SIGSTOP)
        try:
            cl.add_ctr(f"web1b{attempt or ''}", "h1", 5 + attempt, {"app": "web"})
            time.sleep(1)
            # Enough revisions and bytes that h2's watch falls behind etcd's buffers, then
            # everything before now compacted: when h2 reads again, etcd cancels its watch.
            cl.nsexec("U", [sys.executable, "-c", NOISE, "http://10.200.0.100:2379",
                            str(noise << attempt)], timeout=180)
        finally:
            os.kill(a2.p.pid, signal.SIGCONT)
        m = a2.wait_log(r"was compacted", since=pos, timeout=20)
        if m:
            break
        print(f"  compaction: round {attempt + 1}: h2's watch kept up; again with more noise",
              flush=True)
    tally.ok(m is not None, "compaction", "h2's watch was canceled by the compaction and it "
             "read everything again")
    print(f"  compaction: h2 logged: {m.group(0) if m else None}", flush=True)
    bad = cl.converged(timeout=20)
    tally.ok(bad is None, "compaction", f"converged after the compaction (not {bad})")
    table("after compaction resync", p2)


def status(cl, tally):
    r = cl.netseg(["cluster", "status", "--cluster", "http://10.200.0.100:2379", "--json"])
    st = json.loads(r.stdout or "{}")
    nodes = {n["name"]: n for n in st.get("nodes", [])}
    for h in HOSTS:
        n = nodes.get(h, {})
        mine = sum(1 for c in cl.ctrs.values() if c["host"] == h)
        tally.ok(n.get("live") and n.get("endpoints") == mine and
                 n.get("applied_revision") == st.get("policy_revision"), "status",
                 f"{h}: live, {mine} endpoints, applied the policy ({n})")
    r = topo_status(cl, "h1")
    remote = [e for e in r.get("endpoints", []) if e.get("node")]
    tally.ok(remote and all(e.get("interface") is None for e in remote), "status",
             f"h1's status names remote endpoints with their node ({len(remote)})")


def topo_status(cl, h):
    r = cl.nsexec(h, [cl.bin, "status", "--json", "--control",
                      os.path.join(cl.dir, f"{h}.sock")], check=False)
    return json.loads(r.stdout or "{}")


def b64(s):
    import base64
    return base64.b64encode(s.encode()).decode()


def run_all(cl, tally, table, p1, p2, ttl):
    def tab(name, policy, only=None):
        table(cl, tally, name, policy, only)

    steps = [lambda: start(cl, tally, tab, p1), lambda: churn(cl, tally, tab, p1),
             lambda: push2(cl, tally, tab, p2), lambda: bad_push(cl, tally),
             lambda: outside_cidrs(cl, tally), lambda: kill9(cl, tally, tab, p2, ttl),
             lambda: etcd_outage(cl, tally, tab, p2), lambda: compaction(cl, tally, tab, p2),
             lambda: status(cl, tally)]
    only = os.environ.get("CLUSTER_STEPS")
    for i, step in enumerate(steps):
        if only and str(i) not in only.split(",") and i > 0:
            continue
        step()
        print(f"  step {i} done: {tally.passed} passed, {tally.failed} failed", flush=True)
