/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_DIFF_H
#define NETSEG_DIFF_H

/*
 * `netseg diff`: what changing policy OLD to NEW opens and closes. Both are evaluated with
 * policy/explain.c for every pair of ends, in both families, for every protocol and every
 * port segment the two policies' port lists cut [1, 65535] into: within a segment no rule can
 * tell two ports apart, so one evaluation per segment is exact for the ends examined.
 *
 * The ends: every endpoint given (else one stand-in container per group and per inline match
 * of either policy, built to satisfy it, plus one container in no group); `world` and `host`
 * (addresses no cidr or net names); and one address of every cidr, net and except prefix of
 * either policy (the prefix's first address), as world.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoints.h"
#include "explain.h"
#include "policy.h"

struct diff_end {
	char *label; /* endpoint name, "group web", "world", "10.0.0.0/8" */
	enum explain_kind kind;
	const struct endpoint *ep; /* EXPLAIN_CONTAINER */
	bool has_addr;		   /* a fixed address (cidr representatives) */
	struct endpoint_addr addr;
};

/* One decision that differs, over the ports FIRST..LAST of PROTO (0..0 for icmp). */
struct diff_change {
	bool opened;
	size_t from, to; /* into policy_diff.ends */
	int family;	 /* AF_INET or AF_INET6 */
	uint8_t proto;
	uint16_t first, last;
	enum explain_reason old_reason, new_reason; /* EXPLAIN_RULE or EXPLAIN_DEFAULT */
	size_t old_rule, new_rule;		    /* when EXPLAIN_RULE */
	enum policy_category category;
};

struct policy_diff {
	struct diff_end *ends;
	size_t nends;
	struct diff_change *changes; /* by from, to, family, protocol, port */
	size_t nchanges;
	bool synthetic; /* the containers are stand-ins (no endpoints were given) */
	struct endpoint *synth;
	size_t nsynth;
};

/* The explain end of E in FAMILY; false when E has no address of it. */
bool policy_diff_end_in(const struct diff_end *e, int family, struct explain_end *ret);

/* 0 and *ret, or -ENOMEM. EPS may be NULL (stand-in containers). */
int policy_diff_compute(const struct policy *old, const struct policy *new,
			const struct endpoint_set *eps, struct policy_diff **ret);
void policy_diff_free(struct policy_diff *d);

#endif
