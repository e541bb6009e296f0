#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""docs/netseg-policy.schema.json stays in step with the validator.

  - the schema is a valid JSON Schema (draft 2020-12);
  - every example policy, every golden's policy and every tests/netns scenario's policy
    validates against it (those are all policies `netseg check` accepts);
  - every case of tests/cli/bad (all rejected by `netseg check`) is rejected by the schema,
    unless listed below as a parser error (not a document at all) or as a rule JSON Schema
    cannot express; those listed as inexpressible must still pass the schema, so the lists
    stay true, and a new bad case must be classified here or be rejected;
  - a few fqdn/dns cases of the spec the bad directory does not hold yet.

YAML is read as YAML 1.2 core, as netseg's parser does (PyYAML alone reads YAML 1.1, where
`on` and `no` are booleans). Prints `schema: N passed, N failed` last; exit 1 on a failure.
"""

import glob
import json
import os
import re
import sys

import jsonschema
import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SCHEMA = os.path.join(ROOT, "docs", "netseg-policy.schema.json")

PARSER_ERRORS = {
    "malformed-yaml": "not YAML",
    "malformed-json": "not JSON",
    "not-utf8": "not UTF-8",
    "long-key": "an implicit key over 1024 characters, YAML's own limit",
}
NOT_EXPRESSIBLE = {
    "bad-range": "a reversed range compares two numbers inside one string",
    "host-bits": "host bits are arithmetic on the address",
    "except-outside": "containment of one prefix in another is arithmetic",
    "undefined-group": "references across the document (and across files)",
}

# Spec cases (policy-v1.md, "Selectors" and "DNS") the bad directory does not hold yet.
EXTRA_BAD = {
    "fqdn in from": {"version": 1, "rules": [
        {"name": "r", "from": {"fqdn": ["example.com"]}, "to": "world"}]},
    "fqdn in a deny": {"version": 1, "rules": [
        {"name": "r", "from": "containers", "to": [{"fqdn": ["example.com"]}],
         "action": "deny"}]},
    "fqdn wildcard in the middle": {"version": 1, "rules": [
        {"name": "r", "from": "containers", "to": {"fqdn": ["a.*.example.com"]}}]},
    "dns min_ttl over a day": {"version": 1, "dns": {"min_ttl": 86401}},
    "dns resolver with a prefix": {"version": 1, "dns": {"resolvers": ["10.0.0.0/8"]}},
    "fqdn mixed with cidr": {"version": 1, "rules": [
        {"name": "r", "from": "containers",
         "to": {"fqdn": ["example.com"], "cidr": ["10.0.0.0/8"]}}]},
}
EXTRA_GOOD = {
    "fqdn allow with dns block": {"version": 1, "dns": {"resolvers": ["10.0.0.2", "fd00::53"],
                                                        "min_ttl": 30, "max_ips_per_name": 64},
                                  "rules": [{"name": "r", "from": "containers",
                                             "to": [{"fqdn": ["api.example.com",
                                                              "*.example.org"]}, "host"],
                                             "ports": ["tcp/443"]}]},
}


class Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 core schema: only true/false are booleans, no sexagesimal or timestamps."""


Yaml12Loader.yaml_implicit_resolvers = {}
for tag, rx, first in (
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("null", r"^(?:~|null|Null|NULL|)$", "~nN\0"),
        ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
        ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                  r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+.0123456789")):
    Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:" + tag, re.compile(rx),
                                       list(first))
Yaml12Loader.add_constructor("tag:yaml.org,2002:int",
                             lambda loader, node: int(loader.construct_scalar(node), 0)
                             if loader.construct_scalar(node).startswith(("0o", "0x"))
                             else int(loader.construct_scalar(node)))


def load(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8-sig")  # netseg accepts a leading BOM
    if path.endswith(".json"):
        return json.loads(text)
    return yaml.load(text, Loader=Yaml12Loader)


def policy_files():
    out = []
    for pat in ("examples/*/policy.yaml", "examples/*/policy.yml", "examples/*/policy.json",
                "examples/*/policy.d/*", "tests/golden/*/policy.*"):
        out += sorted(glob.glob(os.path.join(ROOT, pat)))
    return [p for p in out if p.endswith((".yaml", ".yml", ".json"))]


def scenario_docs():
    sys.path.insert(0, os.path.join(ROOT, "tests", "netns"))
    import scenarios  # noqa: E402 (plain data; topo.py needs no root to import)

    for s in scenarios.SCENARIOS:
        if s.get("files"):
            for fn, doc in sorted(s["files"].items()):
                yield f"scenario {s['name']}/{fn}", doc
        else:
            yield f"scenario {s['name']}", s["policy"]


def main():
    passed = failed = 0

    def ok(cond, what):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: {what}")

    with open(SCHEMA) as f:
        schema = json.load(f)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
        ok(True, "")
    except jsonschema.SchemaError as e:
        ok(False, f"{SCHEMA} is not a valid JSON Schema: {e.message}")
    v = jsonschema.Draft202012Validator(schema)

    def errors(doc):
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
                for e in v.iter_errors(doc)]

    good = [(os.path.relpath(p, ROOT), None) for p in policy_files()]
    good += list(scenario_docs()) + list(EXTRA_GOOD.items())
    for name, doc in good:
        if doc is None:
            doc = load(os.path.join(ROOT, name))
        e = errors(doc)
        ok(not e, f"{name} is a valid policy but the schema rejects it: {e[:2]}")
    nbad = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/cli/bad/*.*"))):
        if path.endswith(".expected"):
            continue
        case = os.path.splitext(os.path.basename(path))[0]
        nbad += 1
        try:
            doc = load(path)
        except (ValueError, yaml.YAMLError) as exc:
            ok(case in PARSER_ERRORS, f"bad/{case}: the loader fails ({str(exc)[:80]}) but it "
               "is not listed as a parser error")
            continue
        ok(case not in PARSER_ERRORS, f"bad/{case} is listed as a parser error but loads")
        e = errors(doc)
        if case in NOT_EXPRESSIBLE:
            ok(not e, f"bad/{case} is listed as inexpressible ({NOT_EXPRESSIBLE[case]}) but "
               f"the schema rejects it: move it out of the list")
        else:
            ok(bool(e), f"bad/{case}: netseg check rejects it, the schema accepts it")
    for name, doc in EXTRA_BAD.items():
        ok(bool(errors(doc)), f"{name}: the spec forbids it, the schema accepts it")
    print(f"schema: checked {len(good)} valid policies, {nbad} bad cases, "
          f"{len(EXTRA_BAD)} spec cases")
    print(f"schema: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
