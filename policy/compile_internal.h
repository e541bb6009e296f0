/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_COMPILE_INTERNAL_H
#define NETSEG_COMPILE_INTERNAL_H

/*
 * Shared by the compiler's files: compile.c (the fixed layout and the inventory sets),
 * compile_stmt.c (statement helpers, line equality and hash), compile_rules.c (the policy
 * chains), compile_dispatch.c (their port dispatch), compile_sets.c (group membership and
 * address sets) and compile_fqdn.c (DNS snooping). Not part of the module's interface.
 */

#include "compile.h"

enum compile_fam { COMPILE_V4, COMPILE_V6, COMPILE_FAM_COUNT };
/* The policy chains of docs/design.md, per family: three in the inet table and flood4/6 in
 * the bridge table (broadcast and multicast between containers, judged per receiving port). */
enum compile_pchain {
	COMPILE_FROM_CONTAINER,
	COMPILE_TO_CONTAINER,
	COMPILE_TO_HOST,
	COMPILE_FLOOD,
	COMPILE_PCHAIN_COUNT
};

/* A line of a rule with tcp/udp/sctp ports, without its port match, waiting for the chain's
 * port dispatch (compile_dispatch) to place it into the segment chains its ports cover. Its
 * statements are allocated to size once and handed to the first segment chain that takes the
 * line (MOVED; later ones copy them): 100k rules with ports queue 400k lines, and a fixed-size
 * copy in the queue plus another in the chains was most of the compiler's peak memory. */
struct compile_port_line {
	size_t ri;
	size_t n;
	struct ir_stmt *st;
	bool moved;
};

struct compile_port_lines {
	struct compile_port_line *v;
	size_t n, cap;
};

/* The most statements one line of a rule holds (compile_port_line_add refuses more). */
#define COMPILE_LINE_MAX 6

/*
 * The lines one rule has placed so far, by hash, to drop repeats (lists like [containers, any]
 * would otherwise repeat a line) in one probe instead of a scan of the rule's earlier lines:
 * a rule with 100k inline selectors has 100k lines per chain. A slot is in use when its gen
 * is the rule's, so starting the next rule clears the table in O(1).
 */
struct compile_seen_slot {
	uint64_t hash;
	const void *owner; /* the ir_chain, or the compile_port_lines, holding the line */
	size_t idx;	   /* its index there */
	size_t gen;
	bool port_line;
};

struct compile_seen {
	struct compile_seen_slot *v;
	size_t cap, n, gen;
};

struct compile_ctx {
	const struct compile_input *in;
	const struct policy *p;
	struct ir_ruleset *rs;
	struct ir_table *inet;
	struct ir_table *bridge;
	struct ir_set *containers[COMPILE_FAM_COUNT];
	struct ir_set **group_sets; /* [group * 2 + fam] */
	struct ir_set **net_sets;   /* [net * 2 + fam], created on first use; NULL before */
	/* Bridge table, created on first use by the flood chains: */
	struct ir_set **group_ports;	 /* [group]: gp_<group>, the members' ports */
	struct ir_set **bridge_net_sets; /* [net * 2 + fam]: copy of n_<net><fam> */
	struct ir_set **net_ports; /* [net * 2 + fam]: np_<net><fam>, ports with an address in it */
	bool *bridge_counted;	   /* [rule]: r_<rule> exists in the bridge table */
	struct ir_chain **bridge_log_chains; /* [rule] */
	struct ir_chain *bridge_log_c2c;
	struct ir_chain *pchains[COMPILE_FAM_COUNT][COMPILE_PCHAIN_COUNT];
	struct ir_chain **log_chains; /* [rule], created on first use */
	struct ir_chain *log_default[POLICY_CATEGORY_COUNT];
	const char **rule_counters; /* [rule]: "r_<rule>", owned by the ruleset */
	const char *default_counters[POLICY_CATEGORY_COUNT];
	struct compile_members *members;
	/* [fam][pchain], only while compile_policy_chains() runs */
	struct compile_port_lines *port_lines;
	struct compile_seen *seen; /* likewise */
};

/* --- statements (compile_stmt.c) --- */
struct ir_stmt compile_lookup(enum ir_key k, const struct ir_set *s);
struct ir_stmt compile_not_lookup(enum ir_key k, const struct ir_set *s);
struct ir_stmt compile_lookup2(enum ir_key k1, enum ir_key k2, const struct ir_set *s);
struct ir_stmt compile_eq(enum ir_key k, struct ir_value v);
struct ir_stmt compile_verdict(enum ir_verdict_kind kind, const struct ir_chain *target);
struct ir_stmt compile_counter(const char *name);
/* Appends one rule made of STMTS[0..N) to C. */
int compile_line(struct ir_chain *c, size_t n, const struct ir_stmt *stmts);
bool compile_rule_eq(const struct ir_rule *a, const struct ir_rule *b);
/* A hash of the line STMTS[0..N) that equal lines (compile_rule_eq) share. */
uint64_t compile_rule_hash(const struct ir_stmt *stmts, size_t n);
/* Appends STMTS as a line of the current rule unless the rule already has the same line in
 * C (lists like [containers, any] would otherwise repeat it). */
int compile_rule_line(struct compile_seen *seen, struct ir_chain *c, size_t n,
		      const struct ir_stmt *stmts);
/* Queues STMTS as a port line of rule RI unless the rule already queued the same line. */
int compile_port_line_add(struct compile_seen *seen, struct compile_port_lines *pl, size_t ri,
			  size_t n, const struct ir_stmt *stmts);
/* A one-field set of TYPE named NAME in T (compile.c). */
struct ir_set *compile_set1(struct compile_ctx *cx, struct ir_table *t, const char *name,
			    enum ir_type type, bool interval);

/* --- sets (compile_sets.c) --- */
/* Adds the FAM addresses of every endpoint matching M to S. */
int compile_members_fill(struct compile_ctx *cx, const struct policy_match *m, enum compile_fam fam,
			 struct ir_set *s);
/* Whether EP has a FAM address in interval set S (sorted, as normalization leaves it). */
bool compile_endpoint_in_set(const struct endpoint *ep, enum compile_fam fam,
			     const struct ir_set *s);
/* Whether any of CIDRS[0..n) has family FAM. */
bool compile_cidrs_have(const struct policy_cidr *cidrs, size_t n, enum compile_fam fam);
/* Fills interval set S with the FAM prefixes of CIDRS minus EXCEPT. */
int compile_cidr_fill(struct ir_set *s, enum compile_fam fam, const struct policy_cidr *cidrs,
		      size_t n, const struct policy_cidr *except, size_t nexcept);

/* --- DNS snooping for fqdn selectors (compile_fqdn.c) --- */
/* Appends "jump dns_snoop" to FWD and fills dns_snoop, when the policy has fqdn selectors. */
int compile_fqdn_snoop(struct compile_ctx *cx, struct ir_chain *fwd);

/* --- policy chains (compile_rules.c) --- */
int compile_policy_chains(struct compile_ctx *cx);

/* --- the port dispatch (compile_dispatch.c) --- */
/* Places the queued port lines of policy chain [F][K] into segment chains and inserts the
 * per-protocol dispatch lines at POS. */
int compile_dispatch(struct compile_ctx *cx, int f, int k, size_t pos);

#endif
