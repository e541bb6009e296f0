/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_BRNF_H
#define NETSEG_BRNF_H

/*
 * br_netfilter: bridged IPv4/IPv6 reaches the inet hooks (and conntrack) only when
 * net.bridge.bridge-nf-call-iptables / -ip6tables are 1 in the current network namespace.
 * Same-bridge policy depends on it, so we check and set it explicitly, never silently.
 */

#include <stdbool.h>

struct brnf_state {
	bool changed_v4; /* we switched call-iptables from 0 to 1 */
	bool changed_v6;
};

/* Ensures both sysctls are 1. -ENOENT: br_netfilter absent; other -errno: cannot write. */
int brnf_ensure(struct brnf_state *ret);

#endif
