# SPDX-License-Identifier: GPL-2.0-or-later
"""Expected verdicts, straight from the "Meaning" section of spec/policy-v1.md.

Deliberately independent of netseg's compiler and of docs/design.md: it reads the policy as
plain data (the same data run.py writes to the YAML/JSON file netseg is given) and the endpoint
list, and answers, for one new connection (src address, dst address, proto, port), whether the
spec says it may start.

  1. only new connections are judged (established replies always pass: a probe is "open" only
     when the replies of the allowed direction came back);
  2. any matching deny -> drop; else any matching allow -> accept; else the default of the
     category given by the kinds of the two ends (container / world / host);
  3. host -> container always allowed; traffic that touches no managed container untouched;
  6. an unknown interface on a managed bridge is isolated: nothing in, nothing out.
"""

import fnmatch
import ipaddress

RESERVED = ("containers", "world", "host", "any")
CATEGORY = {
    ("container", "container"): "container_to_container",
    ("container", "world"): "container_to_world",
    ("container", "host"): "container_to_host",
    ("world", "container"): "world_to_container",
}


def merge_policies(docs):
    """A policy directory: every file's groups, nets and rules merged; defaults from one."""
    out = {"version": 1, "defaults": {}, "groups": {}, "nets": {}, "rules": []}
    for d in docs:
        out["defaults"].update(d.get("defaults") or {})
        out["groups"].update(d.get("groups") or {})
        out["nets"].update(d.get("nets") or {})
        out["rules"] += d.get("rules") or []
    return out


def _net(s):
    return ipaddress.ip_network(s, strict=True)


class Oracle:
    def __init__(self, policy, endpoints, host_addrs, isolated_addrs=()):
        self.p = policy
        self.defaults = {k: "allow" for k in CATEGORY.values()}
        self.defaults.update({k: v for k, v in (policy.get("defaults") or {}).items()
                              if k in self.defaults})
        self.groups = policy.get("groups") or {}
        self.nets = {k: [_net(x) for x in v] for k, v in (policy.get("nets") or {}).items()}
        self.rules = policy.get("rules") or []
        self.by_addr = {}
        for ep in endpoints:
            for a in ep["addresses"]:
                self.by_addr[ipaddress.ip_address(a)] = ep
        self.host = {ipaddress.ip_address(a) for a in host_addrs}
        self.isolated = {ipaddress.ip_address(a) for a in isolated_addrs}

    # who is at an address ---------------------------------------------------------------------
    def kind(self, addr):
        a = ipaddress.ip_address(addr)
        if a in self.isolated:
            return "isolated", None
        if a in self.by_addr:
            return "container", self.by_addr[a]
        if a in self.host:
            return "host", None
        return "world", None

    # selectors --------------------------------------------------------------------------------
    @staticmethod
    def match_ep(m, ep):
        """Inline match / group body: every key present must match (AND)."""
        labels = ep.get("labels") or {}
        for k, v in m.items():
            if k == "labels":
                if any(labels.get(lk) != lv for lk, lv in v.items()):
                    return False
            elif k == "compose_service":
                if labels.get("com.docker.compose.service") != v:
                    return False
            elif k == "name":
                if not fnmatch.fnmatchcase(ep["name"], v):
                    return False
            elif k == "image":
                if not fnmatch.fnmatchcase(ep.get("image") or "", v):
                    return False
            elif k == "network":
                if v not in (ep.get("networks") or []):
                    return False
            else:
                raise ValueError(f"oracle: unknown match key {k}")
        return True

    def sel(self, s, addr):
        kind, ep = self.kind(addr)
        a = ipaddress.ip_address(addr)
        if isinstance(s, list):
            return any(self.sel(x, addr) for x in s)
        if isinstance(s, str):
            if s == "containers":
                return kind == "container"
            if s == "world":
                return kind == "world"
            if s == "host":
                return kind == "host"
            if s == "any":
                return True
            return kind == "container" and self.match_ep(self.groups[s], ep)
        if "group" in s:
            return kind == "container" and self.match_ep(self.groups[s["group"]], ep)
        if "net" in s:
            return any(a in n for n in self.nets[s["net"]] if n.version == a.version)
        if "cidr" in s:
            inside = any(a in _net(n) for n in s["cidr"] if _net(n).version == a.version)
            out = any(a in _net(n) for n in s.get("except", []) if _net(n).version == a.version)
            return inside and not out
        if "fqdn" in s:
            raise ValueError("oracle: fqdn not supported")
        return kind == "container" and self.match_ep(s, ep)

    # ports ------------------------------------------------------------------------------------
    @staticmethod
    def ports(ports, proto, port, fam):
        """proto is the probe's: tcp | udp | icmp (echo, ICMPv6 in IPv6)."""
        if ports is None:
            return True
        for p in ports:
            if isinstance(p, dict):
                pp, lo = p["proto"], p.get("port")
                hi = p.get("end_port", lo)
            elif "/" in p:
                pp, rng = p.split("/")
                lo, _, hi = rng.partition("-")
                lo = int(lo)
                hi = int(hi) if hi else lo
            else:
                pp, lo, hi = p, None, None
            if pp == "icmp":
                if proto == "icmp" and fam == 4:
                    return True
            elif pp == "icmpv6":
                if proto == "icmp" and fam == 6:
                    return True
            elif pp == proto and lo <= port <= hi:
                return True
        return False

    # the verdict ------------------------------------------------------------------------------
    def explain(self, src, dst, proto, port):
        """The whole decision: {allowed, reason, category, matched: [rule names], why}, reason
        one of isolated, host_to_container, untouched, rule, default (what `netseg why
        --json` reports, which tests/netns/run.py compares with this)."""
        fam = ipaddress.ip_address(dst).version
        sk, _ = self.kind(src)
        dk, _ = self.kind(dst)

        def out(allowed, reason, why, category=None, matched=()):
            return {"allowed": allowed, "reason": reason, "category": category,
                    "matched": list(matched), "why": why}

        if sk == "isolated" or dk == "isolated":
            return out(False, "isolated", "unknown interface isolated (Meaning 6)")
        if sk == "host" and dk == "container":
            return out(True, "host_to_container", "host->container always allowed (Meaning 3)")
        if sk != "container" and dk != "container":
            return out(True, "untouched", "touches no managed container (Meaning 3)")
        cat = CATEGORY[(sk, dk)]
        hits = [r for r in self.rules
                if self.sel(r["from"], src) and self.sel(r["to"], dst)
                and self.ports(r.get("ports"), proto, port, fam)]
        names = [r["name"] for r in hits]
        deny = [r["name"] for r in hits if r.get("action", "allow") == "deny"]
        if deny:
            return out(False, "rule", "deny " + ",".join(deny), cat, names)
        allow = [r["name"] for r in hits if r.get("action", "allow") == "allow"]
        if allow:
            return out(True, "rule", "allow " + ",".join(allow), cat, names)
        return out(self.defaults[cat] == "allow", "default",
                   f"default {cat}={self.defaults[cat]}", cat, names)

    def verdict(self, src, dst, proto, port):
        """Returns (allowed: bool, why: str)."""
        e = self.explain(src, dst, proto, port)
        return e["allowed"], e["why"]
