#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The layering as a check on the text (meson's per-layer include paths enforce it in the
# compiler too): a layer includes only its own headers and those of the layers below it,
#   common/  <-  policy/  <-  netlink/  <-  agent/
# and only netlink/ includes the kernel libraries' headers (libnftnl, libmnl, libnl, linux
# netlink uapi). Prints every violation as FILE:LINE: error: ... and exits 1 on any.
#
#   scripts/layers.sh [ROOT]     check the tree at ROOT (default: this checkout)
#   scripts/layers.sh --self-test
#                                plant a violation of each kind in a temporary copy and
#                                require the check to refuse every one and to pass the clean copy
set -eu

check_tree() { # root -> 0 clean, 1 violations (printed)
	local root=$1 l files=()
	for l in common policy netlink agent; do
		[ -d "$root/$l" ] && files+=("$root/$l"/*.[ch])
	done
	[ ${#files[@]} -gt 0 ] || return 0
	# The headers each layer holds, then every #include line as FILE:LINE:TEXT.
	{
		for l in common policy netlink agent; do
			[ -d "$root/$l" ] && (cd "$root/$l" && ls) | sed "s#^#H $l #"
		done
		grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]' "${files[@]}" | sed "s#^$root/##; s#^#I #"
	} | awk '
	BEGIN {
		allowed["common"] = " common "
		allowed["policy"] = " policy common "
		allowed["netlink"] = " netlink policy common "
		allowed["agent"] = " agent netlink policy common "
		order = "common policy netlink agent"
		n = split(order, layers, " ")
		bad = 0
	}
	$1 == "H" { has[$2 "/" $3] = 1; next }
	{
		line = substr($0, 3)
		split(line, p, ":")
		file = p[1]; ln = p[2]
		text = substr(line, length(file) + length(ln) + 3)
		layer = file; sub(/\/.*/, "", layer)
		list = allowed[layer]; gsub(/^ | $/, "", list); gsub(/ /, "/, ", list); list = list "/"
		if (text ~ /"/) {
			name = text; sub(/^[^"]*"/, "", name); sub(/".*/, "", name)
			owner = ""
			if (name ~ /\//) {
				owner = name; sub(/^(\.\.\/)*/, "", owner); sub(/\/.*/, "", owner)
			} else if (has[layer "/" name]) {
				owner = layer
			} else {
				for (i = 1; i <= n; i++)
					if (has[layers[i] "/" name]) { owner = layers[i]; break }
			}
			if (owner == "" || index(allowed[layer], " " owner " ") == 0) {
				printf "%s:%s: error: %s/ includes \"%s\" (%s); %s/ may include only %s\n", file, ln, layer, name, owner == "" ? "not in any layer" : owner "/", layer, list
				bad = 1
			}
		} else if (layer != "netlink" && text ~ /<(libnftnl\/|libmnl\/|netlink\/|linux\/netlink\.h|linux\/rtnetlink\.h|linux\/netfilter)/) {
			name = text; sub(/^[^<]*</, "", name); sub(/>.*/, "", name)
			printf "%s:%s: error: %s/ includes a kernel library header (%s); only netlink/ talks to the kernel\n", file, ln, layer, name
			bad = 1
		}
	}
	END { exit bad }'
}

tmp=
self_test() {
	local src pass=0 fail=0 what
	src=$(cd "$(dirname "$0")/.." && pwd)
	tmp=$(mktemp -d /tmp/netseg-layers.XXXXXX)
	trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT
	expect() { # description want(0|1) -> runs check_tree on $tmp/t
		local rc=0 out
		out=$(check_tree "$tmp/t") || rc=$?
		if [ "$rc" -eq "$2" ] && { [ "$2" -eq 0 ] || grep -q "error:" <<<"$out"; }; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "layers self-test: $1: exit $rc, want $2: $out"
		fi
	}
	fresh() {
		rm -rf "$tmp/t"
		mkdir -p "$tmp/t"
		for l in common policy netlink agent; do
			[ -d "$src/$l" ] && cp -r "$src/$l" "$tmp/t/"
		done
		return 0
	}
	fresh
	expect "the clean tree" 0
	for what in 'policy/ir.c:#include "nft_batch.h"' 'policy/ir.c:#include "log.h"' \
		'policy/ir.c:#include "../netlink/link.h"' 'netlink/link.c:#include "log.h"' \
		'netlink/link.c:#include "agent/agent.h"' 'common/util.h:#include "ir.h"' \
		'agent/agent.c:#include <netlink/route/link.h>' 'policy/ir.c:#include <libnftnl/rule.h>'; do
		fresh
		[ -e "$tmp/t/${what%%:*}" ] || continue
		printf '%s\n' "${what#*:}" >>"$tmp/t/${what%%:*}"
		expect "planted ${what}" 1
	done
	echo "layers self-test: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

if [ "${1:-}" = --self-test ]; then
	self_test
else
	root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
	if check_tree "$root"; then
		echo "layers: no include crosses a layer upward or sideways"
	else
		exit 1
	fi
fi
