/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_COMPILE_H
#define NETSEG_COMPILE_H

/* Policy + endpoints + managed bridges -> ruleset IR, laid out as docs/design.md describes. */

#include <stddef.h>

#include "endpoints.h"
#include "ir.h"
#include "policy.h"

#define COMPILE_TABLE_NAME	"netseg"
#define COMPILE_MARK_CLASSIFIED 0x02000000u
#define COMPILE_NFLOG_GROUP	1650
#define COMPILE_LOG_RATE	10 /* per rule, per second */
#define COMPILE_LOG_BURST	20
#define COMPILE_DNS_QUEUE	1650 /* NFQUEUE number of the DNS replies fqdn rules learn from */

struct compile_input {
	const struct policy *policy;
	const struct endpoint_set *endpoints; /* may be NULL: no containers yet */
	const char *const *bridges;	      /* managed bridges, deduplicated by the compiler */
	size_t nbridges;
	/* Trusted DNS resolvers when the policy's dns block names none (the host's resolv.conf,
	 * read by the caller: the compiler reads no files). */
	const struct policy_cidr *resolvers;
	size_t nresolvers;
};

/* Returns 0 and *ret, or -ENOMEM. The policy is already valid, so nothing else can fail. */
int compile_ruleset(const struct compile_input *in, struct ir_ruleset **ret);

/*
 * The set elements one endpoint contributes to RS, a ruleset compile_ruleset() built from the
 * same policy: its port, (port, address) pairs, addresses in containers4/6 and in every group
 * or inline-match set it belongs to, and its bridge's dispatch elements (shared with the other
 * endpoints on that bridge: the caller counts references). Calls FN once per element; FN's
 * negative return stops the walk and is returned. This is the agent's incremental path: a
 * container starting or stopping is exactly these elements, whatever else is installed.
 */
typedef int (*compile_elem_fn)(const struct ir_table *t, const struct ir_set *s,
			       const struct ir_elem *e, void *userdata);
int compile_endpoint_elems(const struct policy *p, const struct ir_ruleset *rs,
			   const struct endpoint *ep, compile_elem_fn fn, void *userdata);

/*
 * A label index over EPS (borrowed; keep it alive and unchanged) that answers "which endpoints
 * does this match select" without testing every endpoint: the compiler fills group sets with
 * it, and `status` lists group members with it.
 */
struct compile_members;
int compile_members_new(const struct endpoint_set *eps, struct compile_members **ret);
void compile_members_free(struct compile_members *m);
/* Indices of the endpoints matching M, ascending, in *ret (valid until the next query). */
int compile_members_query(struct compile_members *idx, const struct policy_match *m,
			  const size_t **ret, size_t *ret_n);

#endif
