# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tests/cli/run.sh ($bin, $tmp, expect_exit, check): the operator tools `netseg
# why` and `netseg diff` on the examples and goldens. The kernel agreement of `why` is proven
# with real packets by tests/netns/run.py (why_checks).

# --- why: the deciding rule with its FILE:LINE:COL, the losers, the category
g=tests/golden/deny-beats-allow
expect_exit "why deny-beats-allow" 0 "$bin" why web-1 db-1 tcp/5432 -p $g/policy.yaml -e $g/endpoints.yaml
check "why names the deny and where it is" grep -qx \
	"decided by: rule web-never-db (deny) at $g/policy.yaml:11:5" "$tmp/out"
check "why says each allow lost to it" test "$(grep -c ': lost: deny beats allow$' "$tmp/out")" -eq 2
check "why gives the category" grep -qx "category: container_to_container" "$tmp/out"
c=examples/compose
expect_exit "why default" 0 "$bin" why shop-app-1 shop-postgres-1 tcp/22 -p $c/policy.d -e $c/endpoints.yaml
check "why locates the default it applies" grep -qx "decided by: default container_to_container: deny at $c/policy.d/00-defaults.yaml:4:3, no rule matched" "$tmp/out"
expect_exit "why by address" 0 "$bin" why 172.31.0.3 172.31.0.7 tcp/5432 -p $c/policy.d -e $c/endpoints.yaml
check "an endpoint's address is that endpoint" grep -qx "decided by: rule app-to-data (allow) at $c/policy.d/20-rules.yaml:7:5" "$tmp/out"
expect_exit "why world -> container" 0 "$bin" why world shop-proxy-1 tcp/443 --json -p $c/policy.d -e $c/endpoints.yaml
check "why --json" python3 -c '
import json, sys
w = json.load(open(sys.argv[1]))
assert w["verdict"] == "allow" and w["reason"] == "rule", w
assert w["category"] == "world_to_container" and w["to"]["address"] == "172.31.0.2", w
assert w["decided_by"] == {"rule": "public-proxy", "action": "allow", "line": 11, "column": 5,
                           "file": sys.argv[2] + "/policy.d/20-rules.yaml"}, w
assert [m["rule"] for m in w["matched"]] == ["public-proxy"], w' "$tmp/out" $c
expect_exit "why host -> container" 0 "$bin" why host shop-postgres-1 tcp/5432 -p $c/policy.d -e $c/endpoints.yaml
check "host -> container is always allowed" grep -qx "decided by: the host may always reach its containers" "$tmp/out"
expect_exit "why world -> world" 0 "$bin" why 192.0.2.1 198.51.100.1 udp/53 -p $c/policy.d -e $c/endpoints.yaml
check "traffic without a container is untouched" grep -q "^decided by: nothing: it touches no managed container" "$tmp/out"
m=tests/golden/metadata-deny
expect_exit "why v6 metadata" 0 "$bin" why web-1 fd00:ec2::254 icmpv6 -p $m/policy.yaml -e $m/endpoints.yaml
check "a name takes the address of the other end's family" grep -q "^new connection web-1 (container fd20::2) -> " "$tmp/out"
check "net selector by address" grep -qx "decided by: rule no-metadata (deny) at $m/policy.yaml:7:5" "$tmp/out"
expect_exit "why to itself" 0 "$bin" why web-1 web-1 tcp/80 -p $m/policy.yaml -e $m/endpoints.yaml
check "a container to itself never leaves it" grep -qx "decided by: nothing: a container's traffic to itself never leaves it" "$tmp/out"
expect_exit "why multicast" 0 "$bin" why web-1 224.0.0.251 udp/5353 -p $m/policy.yaml -e $m/endpoints.yaml
check "a multicast destination gets a note" grep -q "^note: a multicast or broadcast destination reaches every receiver" "$tmp/out"
printf 'web-1 169.254.169.254 tcp/80\n# comment\n\nweb-1 db-1\ndb-1 world udp/53\n' >"$tmp/q"
expect_exit "why --batch with a bad line" 2 "$bin" why --batch "$tmp/q" --json -p $m/policy.yaml -e $m/endpoints.yaml
check "why --batch answers every good line" test "$(grep -c '"verdict"' "$tmp/out")" -eq 2
check "why --batch locates the bad line" grep -qx "netseg: why: $tmp/q:4: want FROM TO PROTO/PORT" "$tmp/err"
{ printf 'web-1 %02000d tcp/1\n' 0; echo 'web-1 db-1 tcp/1'; } >"$tmp/q"
expect_exit "why --batch with an overlong line" 2 "$bin" why --batch "$tmp/q" --json -p $m/policy.yaml -e $m/endpoints.yaml
check "an overlong line is one error, the next line is answered" test "$(wc -l <"$tmp/err")" -eq 1 -a "$(wc -l <"$tmp/out")" -eq 1
expect_exit "why without arguments" 2 "$bin" why -p $m/policy.yaml
expect_exit "why bad protocol" 2 "$bin" why web-1 db-1 tcp/0 -p $m/policy.yaml -e $m/endpoints.yaml
expect_exit "why icmp over IPv6" 2 "$bin" why web-1 fd20::3 icmp -p $m/policy.yaml -e $m/endpoints.yaml
expect_exit "why unknown endpoint" 1 "$bin" why nosuch db-1 tcp/1 -p $m/policy.yaml -e $m/endpoints.yaml
check "why says which end it cannot find" grep -qx "netseg: why: 'nosuch' is not an endpoint name, an address, 'world' or 'host'" "$tmp/err"
expect_exit "why no IPv6 address" 1 "$bin" why db-1 fd20::2 tcp/1 -p $m/policy.yaml -e $m/endpoints.yaml
expect_exit "why bad policy" 1 "$bin" why a b tcp/1 -p tests/cli/bad/undefined-group.yaml

# --- diff: what a change opens and closes, grouped by rule; exit 0 same, 1 changed, 2 trouble
x=examples/icc-off
for d in examples/*/; do
	p=$(policy_of "$d")
	[ -n "$p" ] || continue
	expect_exit "diff of $p with itself" 0 "$bin" diff -p "$p" -p "$p" -e "$d/endpoints.yaml"
	check "diff of $p with itself says so" grep -q "^no change: " "$tmp/out"
done
cp $x/policy.yaml "$tmp/added.yaml"
printf '  - name: web-metrics\n    from: web\n    to: db\n    ports: [tcp/9100, udp/53]\n' >>"$tmp/added.yaml"
expect_exit "diff with a rule added" 1 "$bin" diff -p $x/policy.yaml -p "$tmp/added.yaml" -e $x/endpoints.yaml
check "diff names the rule that opens, where it is, and what decided before" grep -qx \
	"opened by rule web-metrics (allow) at $tmp/added.yaml:26:5; before: default container_to_container: deny at $x/policy.yaml:5:3" "$tmp/out"
check "diff shows each container pair it opens" test "$(grep -c '^  + web-[12] -> db-1 tcp/9100, udp/53$' "$tmp/out")" -eq 2
check "diff shows nothing else" test "$(wc -l <"$tmp/out")" -eq 3
cp $x/policy.yaml "$tmp/denied.yaml"
printf '  - name: no-api-db\n    from: api\n    to: db\n    action: deny\n' >>"$tmp/denied.yaml"
expect_exit "diff with a deny added" 1 "$bin" diff -p $x/policy.yaml -p "$tmp/denied.yaml" -e $x/endpoints.yaml
check "diff names the deny that closes" grep -qx \
	"closed by rule no-api-db (deny) at $tmp/denied.yaml:26:5; before: rule api-to-db (allow) at $x/policy.yaml:18:5" "$tmp/out"
check "diff shows the pair it closes" grep -qx "  - api-1 -> db-1 tcp/5432" "$tmp/out"
expect_exit "diff back the other way" 1 "$bin" diff -p "$tmp/denied.yaml" -p $x/policy.yaml -e $x/endpoints.yaml
check "diff the other way opens it again" grep -qx "  + api-1 -> db-1 tcp/5432" "$tmp/out"
expect_exit "diff without endpoints" 1 "$bin" diff -p $x/policy.yaml -p "$tmp/added.yaml"
check "diff without endpoints uses stand-ins per group" grep -qx "  + group web -> group db tcp/9100, udp/53" "$tmp/out"
expect_exit "diff with one -p" 2 "$bin" diff -p $x/policy.yaml
expect_exit "diff with three -p" 2 "$bin" diff -p a -p b -p c
expect_exit "diff with a bad policy" 2 "$bin" diff -p $x/policy.yaml -p tests/cli/bad/undefined-group.yaml
check "diff with a bad policy says where" grep -q "^tests/cli/bad/undefined-group.yaml:[0-9]*:[0-9]*: error: " "$tmp/err"

# --- the policy JSON Schema: every valid policy we have passes, every bad case is refused
python3 tests/cli/schema.py >"$tmp/schema.log" 2>&1 || true
grep '^FAIL' "$tmp/schema.log" >&2 || true
add_result schema "$tmp/schema.log"

# --- diff against the oracle: every container tuple of the netns truth tables, 34 policy pairs
NETSEG_BIN=$bin python3 tests/cli/diff_oracle.py >"$tmp/diff-oracle.log" 2>&1 || true
grep '^FAIL' "$tmp/diff-oracle.log" | head -20 >&2 || true
add_result diff-oracle "$tmp/diff-oracle.log"
