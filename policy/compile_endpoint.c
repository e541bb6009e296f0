/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One endpoint's elements, for the agent's incremental updates. Sets are looked up by name in
 * the compiled ruleset rather than re-derived, so an element can only land in a set the full
 * compile created; tests/unit/test_compile_endpoint.c holds this file to the full compile
 * (baseline + every endpoint's elements == compile with all endpoints).
 */
#include "compile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "compile_internal.h"

struct walk {
	const struct ir_ruleset *rs;
	compile_elem_fn fn;
	void *userdata;
};

static int walk_emit(struct walk *w, enum ir_family family, const char *set,
		     const struct ir_elem *e)
{
	const struct ir_table *t = ir_table_find(w->rs, family, COMPILE_TABLE_NAME);
	const struct ir_set *s = t ? ir_set_find(t, set) : NULL;

	return s ? w->fn(t, s, e, w->userdata) : 0;
}

static int walk_ifname(struct walk *w, enum ir_family family, const char *set, const char *name,
		       enum ir_verdict_kind kind, const char *chain)
{
	const struct ir_table *t = ir_table_find(w->rs, family, COMPILE_TABLE_NAME);
	const struct ir_chain *c = chain && t ? ir_chain_find(t, chain) : NULL;
	struct ir_elem e = {0};

	/* A remote endpoint (another host's container) has no interface: no port elements. */
	if (!name || (chain && !c))
		return 0;
	e.key[0] = ir_value_ifname(name);
	if (c)
		e.verdict = (struct ir_verdict){.kind = kind, .chain = c->name};
	return walk_emit(w, family, set, &e);
}

static int walk_addr(struct walk *w, const char *set_prefix, const struct endpoint_addr *a)
{
	struct ir_elem e = {0};
	char name[POLICY_NAME_MAX * 2 + 48];

	snprintf(name, sizeof(name), "%s%c", set_prefix, a->family == AF_INET6 ? '6' : '4');
	e.key[0] = ir_value_addr(a->family, a->addr, a->family == AF_INET6 ? 128 : 32);
	return walk_emit(w, IR_FAMILY_INET, name, &e);
}

static int walk_port_addr(struct walk *w, enum ir_family family, const struct endpoint *ep,
			  const struct endpoint_addr *a)
{
	struct ir_elem e = {0};
	int r;

	if (!ep->interface)
		return 0;
	e.key[0] = ir_value_ifname(ep->interface);
	e.key[1] = ir_value_addr(a->family, a->addr, a->family == AF_INET6 ? 128 : 32);
	r = walk_emit(w, family, a->family == AF_INET6 ? "port_addrs6" : "port_addrs4", &e);
	/* The same pair, as the neighbour advertisement targets the port may announce. */
	if (r == 0 && a->family == AF_INET6)
		r = walk_emit(w, family, "port_targets6", &e);
	return r;
}

/* --- the flood chains' port sets (bridge table), each named once per endpoint --- */

static int walk_port(struct walk *w, const char *set, const struct endpoint *ep)
{
	return walk_ifname(w, IR_FAMILY_BRIDGE, set, ep->interface, IR_VERDICT_ACCEPT, NULL);
}

/* np_<net>4/6 and cp_<rule>_to_<n>4/6: EP's port when it has an address of that family in
 * the addresses of the inet set of the same name without the "p" (as compile_rules.c). */
static int walk_addr_port(struct walk *w, const struct endpoint *ep, const char *port_set)
{
	const struct ir_table *b = ir_table_find(w->rs, IR_FAMILY_BRIDGE, COMPILE_TABLE_NAME);
	const struct ir_table *in = ir_table_find(w->rs, IR_FAMILY_INET, COMPILE_TABLE_NAME);
	char addr_set[POLICY_NAME_MAX * 2 + 32];
	const struct ir_set *s;
	size_t n = strlen(port_set);

	if (!b || !in || n < 3 || !ir_set_find(b, port_set))
		return 0;
	snprintf(addr_set, sizeof(addr_set), "%c%s", port_set[0], port_set + 2);
	s = ir_set_find(in, addr_set);
	if (!s || !compile_endpoint_in_set(ep, port_set[n - 1] == '6' ? COMPILE_V6 : COMPILE_V4, s))
		return 0;
	return walk_port(w, port_set, ep);
}

/* The addresses of EP in <PREFIX>4 and <PREFIX>6. */
static int walk_addrs(struct walk *w, const char *prefix, const struct endpoint *ep)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < ep->naddrs; i++)
		r = walk_addr(w, prefix, &ep->addrs[i]);
	return r;
}

/* The groups EP is a member of: their address sets g_ and their port sets gp_. */
static int walk_groups(struct walk *w, const struct policy *p, const struct endpoint *ep)
{
	char name[POLICY_NAME_MAX + 8];
	int r;

	for (size_t g = 0; g < p->ngroups; g++) {
		if (!endpoint_matches(ep, &p->groups[g].match))
			continue;
		snprintf(name, sizeof(name), "gp_%s", p->groups[g].name);
		if ((r = walk_port(w, name, ep)) < 0)
			return r;
		snprintf(name, sizeof(name), "g_%s", p->groups[g].name);
		if ((r = walk_addrs(w, name, ep)) < 0)
			return r;
	}
	return 0;
}

/* The rule terms EP belongs to, named as compile_rules.c does: an inline match's address sets
 * m_ and port set mp_, and a receiving cidr's port sets cp_ (only that end is a port set). */
static int walk_rule_terms(struct walk *w, const struct policy *p, const struct endpoint *ep)
{
	char name[POLICY_NAME_MAX * 2 + 32];
	int r;

	for (size_t ri = 0; ri < p->nrules; ri++) {
		const struct policy_rule *rule = &p->rules[ri];
		const struct policy_selector *sides[] = {&rule->from, &rule->to};

		for (int side = 0; side < 2; side++) {
			const char *sname = side ? "to" : "from";

			for (size_t ti = 0; ti < sides[side]->n; ti++) {
				const struct policy_term *term = &sides[side]->terms[ti];

				if (term->kind == POLICY_TERM_MATCH &&
				    endpoint_matches(ep, &term->match)) {
					snprintf(name, sizeof(name), "mp_%s_%s_%zu", rule->name,
						 sname, ti);
					if ((r = walk_port(w, name, ep)) < 0)
						return r;
					snprintf(name, sizeof(name), "m_%s_%s_%zu", rule->name,
						 sname, ti);
					if ((r = walk_addrs(w, name, ep)) < 0)
						return r;
				}
				for (int f = 0; term->kind == POLICY_TERM_CIDR && side && f < 2;
				     f++) {
					snprintf(name, sizeof(name), "cp_%s_%s_%zu%c", rule->name,
						 sname, ti, f ? '6' : '4');
					if ((r = walk_addr_port(w, ep, name)) < 0)
						return r;
				}
			}
		}
	}
	return 0;
}

/* The port sets np_ of the named nets EP has an address in. */
static int walk_nets(struct walk *w, const struct policy *p, const struct endpoint *ep)
{
	char name[POLICY_NAME_MAX + 8];
	int r;

	for (size_t i = 0; i < p->nnets; i++)
		for (int f = 0; f < 2; f++) {
			snprintf(name, sizeof(name), "np_%s%c", p->nets[i].name, f ? '6' : '4');
			if ((r = walk_addr_port(w, ep, name)) < 0)
				return r;
		}
	return 0;
}

static int walk_bridge(struct walk *w, const char *bridge)
{
	int r;

	if ((r = walk_ifname(w, IR_FAMILY_INET, "in_dispatch", bridge, IR_VERDICT_GOTO,
			     "from_bridge")) < 0 ||
	    (r = walk_ifname(w, IR_FAMILY_INET, "out_dispatch", bridge, IR_VERDICT_JUMP,
			     "to_bridge")) < 0)
		return r;
	return walk_ifname(w, IR_FAMILY_ARP, "bridges", bridge, IR_VERDICT_ACCEPT, NULL);
}

int compile_endpoint_elems(const struct policy *p, const struct ir_ruleset *rs,
			   const struct endpoint *ep, compile_elem_fn fn, void *userdata)
{
	struct walk w = {.rs = rs, .fn = fn, .userdata = userdata};
	int r;

	if ((r = walk_ifname(&w, IR_FAMILY_BRIDGE, "ports", ep->interface, IR_VERDICT_ACCEPT,
			     NULL)) < 0)
		return r;
	/* Routed ports only, as compile.c: see there. */
	if (!ep->bridge && (r = walk_ifname(&w, IR_FAMILY_INET, "in_dispatch", ep->interface,
					    IR_VERDICT_GOTO, "from_port")) < 0)
		return r;
	if (ep->bridge && (r = walk_bridge(&w, ep->bridge)) < 0)
		return r;
	for (size_t i = 0; i < ep->naddrs; i++) {
		const struct endpoint_addr *a = &ep->addrs[i];

		/* inet: routed ports only, as compile.c. */
		if ((r = walk_port_addr(&w, IR_FAMILY_BRIDGE, ep, a)) < 0 ||
		    (!ep->bridge && (r = walk_port_addr(&w, IR_FAMILY_INET, ep, a)) < 0) ||
		    (r = walk_addr(&w, "containers", a)) < 0)
			return r;
	}
	/* Each group and rule term is matched once, for its address and port sets alike. */
	if ((r = walk_groups(&w, p, ep)) < 0 || (r = walk_nets(&w, p, ep)) < 0)
		return r;
	return walk_rule_terms(&w, p, ep);
}
