#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The netseg command line as a user meets it: exit codes, located errors, byte-identical
# compile output that nft accepts, apply/flush. Kernel steps run in a private network
# namespace (unshare -n), so the machine's own ruleset is never read or touched.
#
#   examples/*/ ──check──► exit 0        tests/cli/bad/*.yaml ──check──► exit 1 + exact line
#               ──compile×2──► identical ──nft -c -f──► accepted (in a netns)
#               ──apply / apply bad / flush──► in a netns: previous state kept, then empty
set -eu
cd "$(dirname "$0")/../.."
. tests/lib.sh
bin=${NETSEG_BIN:-build/netseg}
tmp=$(mktemp -d /tmp/netseg-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

policy_of() { # example dir -> its policy path
	local d=$1
	for p in "$d/policy.d" "$d/policy.yaml" "$d/policy.json"; do
		[ -e "$p" ] && { echo "$p"; return; }
	done
}

expect_exit() { # description expected-code command...
	local what=$1 want=$2 rc=0
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" -eq "$want" ]; then pass; else
		fail "$what: exit $rc, want $want; stderr: $(head -c 400 "$tmp/err")"
	fi
}

# --- usage errors: exit 2, one line naming the problem
expect_exit "no command" 2 "$bin"
expect_exit "unknown command" 2 "$bin" frobnicate
expect_exit "unknown option" 2 "$bin" check --frobnicate
expect_exit "missing option value" 2 "$bin" check -p
expect_exit "stray argument" 2 "$bin" check -p x.yaml extra
expect_exit "option of another command" 2 "$bin" flush -p x.yaml
expect_exit "help" 0 "$bin" --help
# --help is an answer, not a usage error: exit 0 on stdout for every command
for c in check compile apply flush status agent; do
	expect_exit "$c --help" 0 "$bin" "$c" --help
	check "$c --help prints usage on stdout" grep -q '^usage: netseg' "$tmp/out"
	check "$c --help writes nothing to stderr" test ! -s "$tmp/err"
done
expect_exit "agent: unknown option" 2 "$bin" agent --frobnicate
expect_exit "status: unknown option" 2 "$bin" status --frobnicate
check "unknown command names it" grep -q "unknown command 'frobnicate'" <("$bin" frobnicate 2>&1)

# --- missing and unreadable policy: exit 1, located
expect_exit "missing policy file" 1 "$bin" check -p "$tmp/nope.yaml"
# whole-file problems keep the FILE:LINE:COL: shape of every other error (at 1:1)
check "missing file is located" grep -qE "^$tmp/nope.yaml:1:1: error: cannot read: " "$tmp/err"
echo 'version: 1' >"$tmp/p.txt"
expect_exit "unknown extension" 1 "$bin" check -p "$tmp/p.txt"
check "unknown extension is located" grep -qE "^$tmp/p.txt:1:1: error: unknown file type" "$tmp/err"
truncate -s $((16 * 1024 * 1024 + 1)) "$tmp/big.yaml"
expect_exit "file over 16 MiB" 1 "$bin" check -p "$tmp/big.yaml"
check "file over 16 MiB is located" grep -qE "^$tmp/big.yaml:1:1: error: file is larger than 16 MiB" "$tmp/err"
rm -f "$tmp/big.yaml"
mkdir "$tmp/empty.d"
expect_exit "directory without policies" 1 "$bin" check -p "$tmp/empty.d"
check "directory without policies is located" grep -qE "^$tmp/empty.d:1:1: error: no policy files" "$tmp/err"

# --- only regular files are read: a FIFO must not hang check (timeout 10: a hang is exit 124)
mkfifo "$tmp/fifo.yaml"
expect_exit "check -p FIFO" 1 timeout 10 "$bin" check -p "$tmp/fifo.yaml"
check "check -p FIFO says why, in one line" test "$(cat "$tmp/err")" = \
	"$tmp/fifo.yaml:1:1: error: not a regular file (a FIFO); only regular files are read"
# a policy directory: the FIFO, a directory and a dangling symlink named *.yaml are skipped
# with a warning each; a symlink to a regular file (ConfigMap mounts) is read
mkdir -p "$tmp/pd/dir.yaml" "$tmp/cm"
printf 'version: 1\ngroups:\n  web: { labels: { app: web } }\nrules:\n  - name: a\n    from: web\n    to: world\n' >"$tmp/pd/a.yaml"
printf 'version: 1\nrules:\n  - name: linked\n    from: web\n    to: world\n    ports: [tcp/443]\n' >"$tmp/cm/b.yaml"
ln -s ../cm/b.yaml "$tmp/pd/b.yaml"
ln -s ../cm/nothing.yaml "$tmp/pd/c.yaml"
mkfifo "$tmp/pd/d.yaml"
expect_exit "check -p DIR with a FIFO, a directory, symlinks" 0 timeout 10 "$bin" check -p "$tmp/pd"
check "the symlinked file's rule is read" grep -q "^$tmp/pd: ok: 2 rules" "$tmp/out"
check "a directory named x.yaml is warned about" grep -qx \
	"$tmp/pd/dir.yaml:1:1: warning: not a regular file (a directory); skipped" "$tmp/err"
check "a dangling symlink is warned about" grep -qx \
	"$tmp/pd/c.yaml:1:1: warning: not a regular file (a dangling symlink); skipped" "$tmp/err"
check "a FIFO in the directory is warned about" grep -qx \
	"$tmp/pd/d.yaml:1:1: warning: not a regular file (a FIFO); skipped" "$tmp/err"
check "nothing else is said" test "$(wc -l <"$tmp/err")" -eq 3

# --- every example validates, compiles byte-identically, and nft accepts it
# Kernels without nft_queue (CONFIG_NFT_QUEUE off) refuse nft's queue statement.
nft_queue_ok() {
	printf 'table inet t {\n chain c {\n  queue flags bypass to 0\n }\n}\n' |
		unshare -n nft -c -f - >/dev/null 2>&1
}
for d in examples/*/; do
	p=$(policy_of "$d")
	[ -n "$p" ] || continue
	e=()
	[ -f "$d/endpoints.yaml" ] && e=(-e "$d/endpoints.yaml")
	expect_exit "check $p" 0 "$bin" check -p "$p" "${e[@]}"
	"$bin" compile -p "$p" "${e[@]}" >"$tmp/a.nft" 2>"$tmp/err" || fail "compile $p: $(cat "$tmp/err")"
	"$bin" compile -p "$p" "${e[@]}" >"$tmp/b.nft" 2>/dev/null || true
	check "compile $p is byte-identical" cmp -s "$tmp/a.nft" "$tmp/b.nft"
	if [ "$(id -u)" -eq 0 ] && grep -q "queue flags bypass" "$tmp/a.nft" && ! nft_queue_ok; then
		# fqdn's queue lines: apply sends them as the xt NFQUEUE target (docs/design.md)
		sed 's/ queue flags bypass to [0-9]*$/ accept/' "$tmp/a.nft" >"$tmp/q.nft"
		check "nft -c accepts $p (queue as accept: no nft_queue in this kernel)" \
			unshare -n nft -c -f "$tmp/q.nft"
	elif [ "$(id -u)" -eq 0 ]; then
		check "nft -c accepts $p" unshare -n nft -c -f "$tmp/a.nft"
	fi
done

# --- bad inputs: exit 1 and the exact first diagnostic line (tests/cli/bad/NAME.expected)
for f in tests/cli/bad/*.yaml tests/cli/bad/*.json; do
	[ -e "$f" ] || continue
	expect_exit "check $f" 1 "$bin" check -p "$f"
	want=$(head -n1 "${f%.*}.expected")
	got=$(head -n1 "$tmp/err")
	if [ "$got" = "$want" ]; then pass; else fail "$f: got '$got', want '$want'"; fi
	# every line is a located diagnostic or its hint (spec: FILE:LINE:COL: error: MESSAGE)
	bad=$(grep -vE "^$f:[0-9]+:[0-9]+: (error|warning): |^  hint: " "$tmp/err" | head -n1 || true)
	if [ -z "$bad" ]; then pass; else fail "$f: not a located diagnostic: '$bad'"; fi
done

# --- apply, failed apply, flush: inside a private network namespace
if [ "$(id -u)" -ne 0 ]; then
	echo "cli: apply/flush steps skipped: not root"
else
	ex=examples/icc-off
	cat >"$tmp/ns.sh" <<NS
set -eu
nft add table ip filter
nft add chain ip filter FORWARD '{ type filter hook forward priority 0; policy accept; }'
nft list ruleset >"$tmp/before"
"$bin" apply -p "$(policy_of $ex)" -e $ex/endpoints.yaml --bridge br-test >/dev/null
nft list ruleset >"$tmp/applied"
printf 'version: 1\nrules:\n  - name: x\n    from: nosuchgroup\n    to: world\n' >"$tmp/bad.yaml"
if "$bin" apply -p "$tmp/bad.yaml" -e $ex/endpoints.yaml 2>"$tmp/bad.err"; then exit 11; fi
nft list ruleset >"$tmp/after-bad"
"$bin" flush >/dev/null
nft list ruleset >"$tmp/flushed"
"$bin" flush >/dev/null
NS
	if [ -d "$ex" ]; then
		check "apply/flush sequence in a netns" unshare -n bash "$tmp/ns.sh"
		check "apply installed three tables" test "$(grep -c '^table .* netseg' "$tmp/applied")" -eq 3
		check "a bad policy changes nothing" cmp -s "$tmp/applied" "$tmp/after-bad"
		check "a bad policy says where" grep -qE "^$tmp/bad.yaml:4:11: error: " "$tmp/bad.err"
		check "flush restores the ruleset exactly" cmp -s "$tmp/before" "$tmp/flushed"
	fi
fi

# Large policies: a robustness bound, not a benchmark. These shapes took minutes when
# validation and compile were quadratic (200k groups check 128 s, 100k inline selectors
# compile over 120 s); now a few seconds, so 60 s is a margin of over 10x. Skipped under
# ASan, which is several times slower and proves nothing more here.
if ldd "$bin" 2>/dev/null | grep -q libasan; then
	echo "cli: large-policy bounds skipped under ASan" >&2
else
	python3 bench/gen_scale.py groups 200000 "$tmp/groups.yaml"
	python3 bench/gen_scale.py inline 100000 "$tmp/inline.yaml"
	expect_exit "check of 200k groups within 60 s" 0 timeout 60 "$bin" check -p "$tmp/groups.yaml"
	expect_exit "compile of 100k inline selectors within 60 s" 0 \
		timeout 60 "$bin" compile -p "$tmp/inline.yaml"
	rm -f "$tmp/groups.yaml" "$tmp/inline.yaml"
	# Memory: 100k rules with ports compiled in 651 MiB while each port line was copied
	# twice (issue 16's goal is 500 MB); now about 335 MiB. Peak RSS of the child, from
	# getrusage: it does not depend on the machine's load.
	python3 bench/gen_scale.py rules 100000 "$tmp/rules.yaml"
	expect_exit "compile of 100k rules with ports within 500 MB peak RSS" 0 python3 -c '
import resource, subprocess, sys
subprocess.run([sys.argv[1], "compile", "-p", sys.argv[2]], stdout=subprocess.DEVNULL,
               check=True, timeout=60)
kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"peak RSS {kb // 1024} MiB", file=sys.stderr)
sys.exit(0 if kb * 1024 <= 500e6 else 1)
' "$bin" "$tmp/rules.yaml"
	rm -f "$tmp/rules.yaml"
fi

. tests/cli/tools.sh # why, diff

# --- agent --user: a missing user stops the start with a hint; --user root runs, with a
# warning (in a private network namespace; timeout's SIGTERM ends it: 124)
if [ "$(id -u)" -ne 0 ]; then
	echo "cli: agent --user steps skipped: not root"
else
	pol=examples/icc-off/policy.yaml
	expect_exit "agent --user with no such user" 1 \
		unshare -n "$bin" agent -p "$pol" --docker none --control none --user "nosuch$$"
	check "no such user: named, with a hint" \
		grep -q "agent: --user nosuch$$: no such user; create it" "$tmp/err"
	expect_exit "agent --user root runs" 124 \
		unshare -n timeout 3 "$bin" agent -p "$pol" --docker none --control none --user root
	check "--user root warns" \
		grep -q "warning: --user root: still root, with CAP_NET_ADMIN only" "$tmp/err"
fi

# --- the shipped unit is confined: systemd's own rating, exposure at most 2.0 (issue 14), with
# the user and the single capability the agent is written for
unit=packaging/netseg.service
if ! command -v systemd-analyze >/dev/null; then
	fail "systemd-analyze not found (scripts/deps.sh installs systemd)"
else
	systemd-analyze security --offline=yes "$unit" >"$tmp/sec" 2>&1 || true
	exposure=$(sed -nE 's/^→ Overall exposure level for [^:]*: ([0-9.]+).*/\1/p' "$tmp/sec")
	check "systemd-analyze rates $unit (got: $(tail -1 "$tmp/sec"))" test -n "$exposure"
	check "$unit exposure ${exposure:-?} <= 2.0" \
		awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.0) }'
	echo "cli: $unit exposure $exposure" >&2
fi
check "$unit runs as User=netseg" grep -qx "User=netseg" "$unit"
check "$unit bounds capabilities to CAP_NET_ADMIN" grep -qx "CapabilityBoundingSet=CAP_NET_ADMIN" "$unit"
check "$unit grants CAP_NET_ADMIN as ambient" grep -qx "AmbientCapabilities=CAP_NET_ADMIN" "$unit"

summary cli
