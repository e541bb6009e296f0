#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes one large, valid policy of a given shape, for bench/run_scale.sh and tests/scale.sh.

Usage: gen_scale.py SHAPE N OUT.yaml
  rules    N rules between 100 groups, each with its own port
  groups   N groups, 1000 rules using some of them
  excepts  one rule from {cidr: [10.0.0.0/8], except: N /32 addresses}
  inline   N rules, each from its own inline label selector
  bigexcept  like excepts in flow style with bare addresses (40000: about 480 KB)
"""
import sys


def addr(i):
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32"


def rules(n, w):
    w("groups:\n")
    for g in range(100):
        w(f"  g{g}: {{ labels: {{ app: a{g} }} }}\n")
    w("rules:\n")
    for i in range(n):
        w(f"  - {{ name: r{i}, from: g{i % 100}, to: g{(i * 7 + 1) % 100}, "
          f"ports: [tcp/{i % 65535 + 1}] }}\n")


def groups(n, w):
    w("groups:\n")
    for g in range(n):
        w(f"  g{g}: {{ labels: {{ app: a{g} }} }}\n")
    w("rules:\n")
    for i in range(1000):
        w(f"  - {{ name: r{i}, from: g{(i * 7919) % n}, to: world, ports: [tcp/443] }}\n")


def excepts(n, w):
    w("groups:\n  web: { labels: { app: web } }\nrules:\n")
    w("  - name: scrape\n    from:\n      cidr: [10.0.0.0/8]\n      except:\n")
    for i in range(n):
        w(f"        - {addr(i * 3 + 1)}\n")
    w("    to: web\n    ports: [tcp/9100]\n")


def bigexcept(n, w):
    # Flow style and bare addresses, as a generated allowlist would be written.
    w("groups:\n  web: { labels: { app: web } }\nrules:\n")
    w("  - name: scrape\n    from:\n      cidr: [10.0.0.0/8]\n      except: [")
    w(",".join(addr(i * 3 + 1)[:-3] for i in range(n)))
    w("]\n    to: web\n    ports: [tcp/9100]\n")


def inline(n, w):
    w("rules:\n")
    for i in range(n):
        w(f"  - {{ name: r{i}, from: {{ labels: {{ app: a{i} }} }}, to: world, "
          f"ports: [tcp/443] }}\n")


def main():
    shape, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    gen = {"rules": rules, "groups": groups, "excepts": excepts, "inline": inline,
           "bigexcept": bigexcept}[shape]
    with open(out, "w") as f:
        f.write("version: 1\n")
        gen(n, f.write)


main()
