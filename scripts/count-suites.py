#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turns meson's testlog.json into "passed failed skipped" lines, one per suite, counting the
test cases that check reports ("Checks: N, Failures: F, Errors: E"). A suite that crashed or
printed no summary counts as one failure; exit 77 counts as skipped."""
import json
import re
import sys

summary = re.compile(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)")
for line in open(sys.argv[1]):
    t = json.loads(line)
    out = (t.get("stdout") or t.get("stdo") or "") + (t.get("stderr") or t.get("stde") or "")
    if t.get("result") == "SKIP":
        reason = out.strip().splitlines()[-1] if out.strip() else "no reason printed"
        print(f"skipped suite {t['name']}: {reason}", file=sys.stderr)
        print(0, 0, 1)
        continue
    checks = summary.findall(out)
    if not checks:
        print(f"suite {t['name']}: {t.get('result')} with no check summary", file=sys.stderr)
        print(0, 1, 0)
        continue
    n = sum(int(c[0]) for c in checks)
    bad = sum(int(c[1]) + int(c[2]) for c in checks)
    if t.get("result") != "OK" and bad == 0:
        bad = 1  # exited non-zero (sanitizer, leak) after all cases passed
    print(n - bad if n >= bad else 0, bad, 0)
