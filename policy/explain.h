/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_EXPLAIN_H
#define NETSEG_EXPLAIN_H

/*
 * `netseg why`: the spec's "Meaning" section evaluated directly over the validated model and
 * the endpoints, for one new connection. It never looks at the compiled ruleset, so the
 * agreement test (tests/netns/run.py) checks the compiler and this against each other and
 * against real packets.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoints.h"
#include "policy.h"

enum explain_kind { EXPLAIN_CONTAINER, EXPLAIN_HOST, EXPLAIN_WORLD };

/* One end of a connection. Without an address (the words `world`, `host`) no cidr or net
 * term can match it: an abstract end is "an address no cidr or net of the policy names". */
struct explain_end {
	enum explain_kind kind;
	const struct endpoint *ep; /* EXPLAIN_CONTAINER only; borrowed */
	bool has_addr;
	struct endpoint_addr addr;
};

struct explain_query {
	struct explain_end from, to;
	uint8_t proto; /* IPPROTO_TCP, _UDP, _SCTP, _ICMP, _ICMPV6 */
	uint16_t port; /* 0 for icmp/icmpv6 */
	int family;    /* AF_INET or AF_INET6 */
};

enum explain_reason {
	EXPLAIN_UNTOUCHED,	   /* touches no managed container (Meaning 3) */
	EXPLAIN_HOST_TO_CONTAINER, /* always allowed (Meaning 3) */
	EXPLAIN_RULE,		   /* .decider decides (Meaning 2) */
	EXPLAIN_DEFAULT,	   /* .category's default decides */
	EXPLAIN_SAME_CONTAINER,	   /* a container to itself: it never leaves the container */
};

struct explain_result {
	enum policy_action verdict;
	enum explain_reason reason;
	bool has_category;
	enum policy_category category;
	size_t decider;	 /* EXPLAIN_RULE: index into policy.rules */
	size_t *matched; /* every rule that matched, in policy order, decider included */
	size_t nmatched;
	bool abstract; /* an end without address met a cidr or net term: it did not match */
	bool learned;  /* a term matching addresses learned at run time (fqdn): not evaluated */
};

/*
 * Resolves SPEC: an endpoint name, an address (an endpoint's, one of HOST[0..NHOST), else the
 * world) or the words `world` and `host`. FAMILY (AF_INET, AF_INET6, or AF_UNSPEC) picks a
 * named endpoint's address. 0, -ENOENT (no such endpoint), -EAFNOSUPPORT (it has no address of
 * FAMILY).
 */
int explain_end_parse(const struct endpoint_set *eps, const struct endpoint_addr *host,
		      size_t nhost, const char *spec, int family, struct explain_end *ret);

/* "tcp/80", "udp/53", "sctp/9", "icmp", "icmpv6". 0 or -EINVAL. */
int explain_proto_parse(const char *s, uint8_t *ret_proto, uint16_t *ret_port);

/* What a rule's evaluation met that it could not decide: ORed into *ret_flags. */
enum { EXPLAIN_F_ABSTRACT = 1, EXPLAIN_F_LEARNED = 2 };

/* Whether rule R of P matches Q; EXPLAIN_F_* ORed into *RET_FLAGS when not NULL. */
bool explain_rule_matches(const struct policy *p, const struct policy_rule *r,
			  const struct explain_query *q, unsigned *ret_flags);

/* The decision for Q. 0 or -ENOMEM; the result owns .matched (explain_result_clear()). */
int explain_decide(const struct policy *p, const struct explain_query *q,
		   struct explain_result *ret);
void explain_result_clear(struct explain_result *r);

const char *explain_kind_name(enum explain_kind k); /* "container", "host", "world" */

#endif
