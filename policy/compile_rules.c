/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy chains (docs/design.md, "The policy chains"): the deny lines without tcp/udp/sctp
 * ports, the port dispatch to the segment chains holding the lines with ports, the allow lines
 * without ports, then the category defaults, in from_container4/6, to_container4/6,
 * to_host4/6 and the bridge's flood4/6. A rule becomes one line per (from term, to term,
 * family, chain, port alternative) that can match; lines with ports are queued for the port
 * dispatch (compile_dispatch.c).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_internal.h"
#include "util.h"

enum compile_side { COMPILE_FROM, COMPILE_TO };

/* What a term says in one chain. */
enum compile_tm { COMPILE_TM_NONE, COMPILE_TM_IMPLIED, COMPILE_TM_SET, COMPILE_TM_NOT_SET };

/* Port alternatives of a rule in one family: each is 0-1 match (no ports: one empty one). L4:
 * the rule's tcp/udp/sctp ports, matched by the chain's port dispatch instead of the line. */
struct compile_alt {
	size_t n;
	struct ir_stmt st[1];
	bool l4;
};

/* Sets a rule's terms use, created on first use: [side][term][family]; bsets are the bridge
 * table's (the flood chains'). */
struct compile_rule_sets {
	struct ir_set **sets;
	struct ir_set **bsets;
	size_t nfrom;
};

/* The design's term table: which terms can match in which chain, and how. */
static enum compile_tm compile_term_kind(enum policy_term_kind k, enum compile_side side,
					 enum compile_pchain pc)
{
	/* The flood chains only ever see container -> container: both ends are ports. */
	if (pc == COMPILE_FLOOD) {
		switch (k) {
		case POLICY_TERM_ANY:
		case POLICY_TERM_CONTAINERS:
			return COMPILE_TM_IMPLIED;
		case POLICY_TERM_WORLD:
		case POLICY_TERM_HOST:
		case POLICY_TERM_FQDN: /* broadcasts are not to a name */
			return COMPILE_TM_NONE;
		default:
			return COMPILE_TM_SET;
		}
	}
	switch (k) {
	case POLICY_TERM_ANY:
		return COMPILE_TM_IMPLIED;
	case POLICY_TERM_NET:
	case POLICY_TERM_CIDR:
	case POLICY_TERM_FQDN: /* learned addresses, as a cidr: containers included */
		return COMPILE_TM_SET;
	case POLICY_TERM_CONTAINERS:
		if (side == COMPILE_FROM)
			return pc == COMPILE_TO_CONTAINER ? COMPILE_TM_NONE : COMPILE_TM_IMPLIED;
		if (pc == COMPILE_FROM_CONTAINER)
			return COMPILE_TM_SET; /* ip daddr @containers4 */
		return pc == COMPILE_TO_CONTAINER ? COMPILE_TM_IMPLIED : COMPILE_TM_NONE;
	case POLICY_TERM_GROUP:
	case POLICY_TERM_MATCH:
		if (side == COMPILE_FROM)
			return pc == COMPILE_TO_CONTAINER ? COMPILE_TM_NONE : COMPILE_TM_SET;
		return pc == COMPILE_TO_HOST ? COMPILE_TM_NONE : COMPILE_TM_SET;
	case POLICY_TERM_WORLD:
		if (side == COMPILE_FROM)
			return pc == COMPILE_TO_CONTAINER ? COMPILE_TM_IMPLIED : COMPILE_TM_NONE;
		/* ip daddr != @containers4: in from_container, the rest is the world (the host's
		 * own addresses never reach the forward hook). */
		return pc == COMPILE_FROM_CONTAINER ? COMPILE_TM_NOT_SET : COMPILE_TM_NONE;
	case POLICY_TERM_HOST:
		if (side == COMPILE_FROM)
			return COMPILE_TM_NONE; /* host -> container is always allowed */
		return pc == COMPILE_TO_HOST ? COMPILE_TM_IMPLIED : COMPILE_TM_NONE;
	}
	return COMPILE_TM_NONE;
}

static const char compile_fam_char[COMPILE_FAM_COUNT] = {'4', '6'};

/* An interval set of the FAM prefixes of CIDRS minus EXCEPT, or NULL in *ret when nothing
 * is left (no prefix of that family, or all of it excepted). */
static int compile_cidr_set(struct compile_ctx *cx, const char *name, enum compile_fam fam,
			    const struct policy_cidr *cidrs, size_t n,
			    const struct policy_cidr *except, size_t nexcept, struct ir_set **ret)
{
	enum ir_type t = fam == COMPILE_V4 ? IR_TYPE_IPV4 : IR_TYPE_IPV6;
	struct ir_set tmp = {.types = {t}, .ntypes = 1, .interval = true};
	struct ir_set *s;
	int r;

	*ret = NULL;
	/* Built aside first: an empty result must not leave an unused set in the table. */
	r = compile_cidr_fill(&tmp, fam, cidrs, n, except, nexcept);
	if (r < 0 || tmp.n == 0) {
		free(tmp.elems);
		return r;
	}
	s = compile_set1(cx, cx->inet, name, t, true);
	if (!s) {
		free(tmp.elems);
		return -ENOMEM;
	}
	s->elems = tmp.elems;
	s->n = tmp.n;
	s->cap = tmp.cap;
	*ret = s;
	return 0;
}

/* The set a term of rule RI looks up in FAM, created on first use; NULL: matches nothing. */
static int compile_term_set(struct compile_ctx *cx, size_t ri, struct compile_rule_sets *rsets,
			    enum compile_side side, size_t ti, enum compile_fam fam,
			    enum compile_pchain pc, struct ir_set **ret)
{
	const struct policy_rule *rule = &cx->p->rules[ri];
	const struct policy_selector *sel = side == COMPILE_FROM ? &rule->from : &rule->to;
	const struct policy_term *term = &sel->terms[ti];
	struct ir_set **slot;
	char name[POLICY_NAME_MAX * 2 + 32];
	const char *sname = side == COMPILE_FROM ? "from" : "to";
	int r;

	switch (term->kind) {
	case POLICY_TERM_CONTAINERS:
	case POLICY_TERM_WORLD:
		*ret = cx->containers[fam];
		return 0;
	case POLICY_TERM_GROUP:
		*ret = cx->group_sets[term->group * 2 + fam];
		return 0;
	case POLICY_TERM_NET: {
		const struct policy_net *net = &cx->p->nets[term->net];

		slot = &cx->net_sets[term->net * 2 + fam];
		if (!*slot && compile_cidrs_have(net->cidrs, net->ncidrs, fam)) {
			snprintf(name, sizeof(name), "n_%s%c", net->name, compile_fam_char[fam]);
			r = compile_cidr_set(cx, name, fam, net->cidrs, net->ncidrs, NULL, 0, slot);
			if (r < 0)
				return r;
		}
		*ret = *slot;
		return 0;
	}
	case POLICY_TERM_MATCH:
	case POLICY_TERM_CIDR:
	case POLICY_TERM_FQDN:
		break;
	default:
		*ret = NULL;
		return 0;
	}
	(void)pc;
	slot = &rsets->sets[((side == COMPILE_FROM ? 0 : rsets->nfrom) + ti) * 2 + fam];
	if (*slot) {
		*ret = *slot;
		return 0;
	}
	snprintf(name, sizeof(name), "%c_%s_%s_%zu%c",
		 term->kind == POLICY_TERM_MATCH  ? 'm'
		 : term->kind == POLICY_TERM_FQDN ? 'f'
						  : 'c',
		 rule->name, sname, ti, compile_fam_char[fam]);
	if (term->kind == POLICY_TERM_FQDN) {
		/* Empty: the agent fills it from DNS replies, each element with its TTL. */
		*slot = compile_set1(cx, cx->inet, name,
				     fam == COMPILE_V4 ? IR_TYPE_IPV4 : IR_TYPE_IPV6, false);
		if (!*slot)
			return -ENOMEM;
		(*slot)->timeout = true;
	} else if (term->kind == POLICY_TERM_CIDR) {
		r = compile_cidr_set(cx, name, fam, term->cidrs, term->ncidrs, term->except,
				     term->nexcept, slot);
		if (r < 0)
			return r;
	} else {
		*slot = compile_set1(cx, cx->inet, name,
				     fam == COMPILE_V4 ? IR_TYPE_IPV4 : IR_TYPE_IPV6, false);
		if (!*slot)
			return -ENOMEM;
		r = compile_members_fill(cx, &term->match, fam, *slot);
		if (r < 0)
			return r;
	}
	*ret = *slot;
	return 0;
}

/* Cheap test, before any set is created: can this term say anything in FAM? */
static bool compile_term_has_fam(const struct compile_ctx *cx, const struct policy_term *t,
				 enum compile_fam fam)
{
	if (t->kind == POLICY_TERM_NET)
		return compile_cidrs_have(cx->p->nets[t->net].cidrs, cx->p->nets[t->net].ncidrs,
					  fam);
	if (t->kind == POLICY_TERM_CIDR)
		return compile_cidrs_have(t->cidrs, t->ncidrs, fam);
	return true;
}

/* --- the flood chains' sets (bridge table) --- */

/* A bridge copy of inet set SRC, same name and elements (constant with the inventory), made
 * once into *SLOT. */
static struct ir_set *compile_bridge_copy(struct compile_ctx *cx, const struct ir_set *src,
					  struct ir_set **slot)
{
	struct ir_set *s;

	if (*slot)
		return *slot;
	s = ir_set_add(cx->rs, cx->bridge, src->name, src->types, src->ntypes, src->interval);
	for (size_t i = 0; s && i < src->n; i++)
		if (ir_elem_add(s, &src->elems[i]) < 0)
			return NULL;
	*slot = s;
	return s;
}

static int compile_add_port(struct ir_set *s, const struct endpoint *ep)
{
	struct ir_elem e = {0};

	if (!ep->interface) /* a remote endpoint has no port */
		return 0;
	e.key[0] = ir_value_ifname(ep->interface);
	return ir_elem_add(s, &e);
}

/* An ifname set of the ports of every endpoint matching M. */
static struct ir_set *compile_match_ports(struct compile_ctx *cx, const char *name,
					  const struct policy_match *m)
{
	struct ir_set *s = compile_set1(cx, cx->bridge, name, IR_TYPE_IFNAME, false);
	const size_t *ids;
	size_t n;

	if (!s || compile_members_query(cx->members, m, &ids, &n) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (compile_add_port(s, &cx->in->endpoints->items[ids[i]]) < 0)
			return NULL;
	return s;
}

/* An ifname set of the ports with a FAM address in interval set IN (the receiving end of a
 * flood judged by its address, as a net or cidr selector says). */
static struct ir_set *compile_addr_ports(struct compile_ctx *cx, const char *name,
					 enum compile_fam fam, const struct ir_set *in)
{
	struct ir_set *s = compile_set1(cx, cx->bridge, name, IR_TYPE_IFNAME, false);
	const struct endpoint_set *eps = cx->in->endpoints;

	for (size_t i = 0; s && eps && i < eps->n; i++)
		if (compile_endpoint_in_set(&eps->items[i], fam, in) &&
		    compile_add_port(s, &eps->items[i]) < 0)
			return NULL;
	return s;
}

/*
 * The set and key a term of rule RI looks up in the flood chain of FAM; NULL set: the term
 * matches nothing there. Groups and inline matches are port sets, on either end. A net or
 * cidr is the source address on the sending end (anti-spoofed, so exact), and on the
 * receiving end the ports with an address in it: the packet's destination is the broadcast
 * or group address, not the receiver's.
 */
static int compile_flood_term_set(struct compile_ctx *cx, size_t ri,
				  struct compile_rule_sets *rsets, enum compile_side side,
				  size_t ti, enum compile_fam fam, struct ir_set **ret,
				  enum ir_key *ret_key)
{
	const struct policy_rule *rule = &cx->p->rules[ri];
	const struct policy_term *term =
	    &(side == COMPILE_FROM ? &rule->from : &rule->to)->terms[ti];
	struct ir_set **slot =
	    &rsets->bsets[((side == COMPILE_FROM ? 0 : rsets->nfrom) + ti) * 2 + fam];
	const char *sname = side == COMPILE_FROM ? "from" : "to";
	char name[POLICY_NAME_MAX * 2 + 32];
	struct ir_set *inet_set = NULL;
	int r;

	*ret = NULL;
	*ret_key = side == COMPILE_FROM ? IR_KEY_IIFNAME : IR_KEY_OIFNAME;
	switch (term->kind) {
	case POLICY_TERM_GROUP:
		if (!cx->group_ports[term->group]) {
			snprintf(name, sizeof(name), "gp_%s", cx->p->groups[term->group].name);
			cx->group_ports[term->group] =
			    compile_match_ports(cx, name, &cx->p->groups[term->group].match);
			if (!cx->group_ports[term->group])
				return -ENOMEM;
		}
		*ret = cx->group_ports[term->group];
		return 0;
	case POLICY_TERM_MATCH:
		/* One set for both families: a port is a member or not. */
		slot = &rsets->bsets[((side == COMPILE_FROM ? 0 : rsets->nfrom) + ti) * 2];
		if (!*slot) {
			snprintf(name, sizeof(name), "mp_%s_%s_%zu", rule->name, sname, ti);
			*slot = compile_match_ports(cx, name, &term->match);
			if (!*slot)
				return -ENOMEM;
		}
		*ret = *slot;
		return 0;
	case POLICY_TERM_NET:
	case POLICY_TERM_CIDR:
		break;
	default:
		return 0;
	}
	/* The inet set of the same term holds the addresses (net minus nothing, cidr minus
	 * except); NULL when the family has none. */
	r = compile_term_set(cx, ri, rsets, side, ti, fam, COMPILE_FROM_CONTAINER, &inet_set);
	if (r < 0 || !inet_set)
		return r;
	if (side == COMPILE_FROM) {
		*ret_key = fam == COMPILE_V4 ? IR_KEY_IP_SADDR : IR_KEY_IP6_SADDR;
		if (term->kind == POLICY_TERM_NET)
			slot = &cx->bridge_net_sets[term->net * 2 + fam];
		*ret = compile_bridge_copy(cx, inet_set, slot);
		return *ret ? 0 : -ENOMEM;
	}
	if (term->kind == POLICY_TERM_NET)
		slot = &cx->net_ports[term->net * 2 + fam];
	if (!*slot) {
		/* "n_corp4" -> "np_corp4", "c_r_to_04" -> "cp_r_to_04" */
		snprintf(name, sizeof(name), "%cp%s", inet_set->name[0], inet_set->name + 1);
		*slot = compile_addr_ports(cx, name, fam, inet_set);
		if (!*slot)
			return -ENOMEM;
	}
	*ret = *slot;
	return 0;
}

static bool compile_is_l4(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

/* The rule's port alternatives in FAM (docs/design.md, "Ports"). The tcp/udp/sctp ports are
 * one alternative with no match (L4): its lines go to the port dispatch, which matches them. */
static void compile_ports(const struct compile_ctx *cx, size_t ri, enum compile_fam fam,
			  struct compile_alt *alts, size_t *ret_n)
{
	const struct policy_rule *rule = &cx->p->rules[ri];
	size_t n = 0;
	bool l4 = false, icmp = false, icmpv6 = false;

	if (rule->nports == 0) {
		alts[0] = (struct compile_alt){0};
		*ret_n = 1;
		return;
	}
	for (size_t i = 0; i < rule->nports; i++) {
		l4 |= compile_is_l4(rule->ports[i].proto);
		icmp |= rule->ports[i].proto == IPPROTO_ICMP;
		icmpv6 |= rule->ports[i].proto == IPPROTO_ICMPV6;
	}
	if (l4)
		alts[n++] = (struct compile_alt){.l4 = true};
	if ((fam == COMPILE_V4 && icmp) || (fam == COMPILE_V6 && icmpv6)) {
		alts[n] = (struct compile_alt){.n = 1};
		alts[n++].st[0] = compile_eq(
		    IR_KEY_L4PROTO, ir_value_u8(fam == COMPILE_V4 ? IPPROTO_ICMP : IPPROTO_ICMPV6));
	}
	*ret_n = n;
}

/*
 * "goto log_X" target: logs then applies VERDICT. The per-chain limit keeps a flood from
 * drowning the agent; the packets beyond it skip the log line but are counted in s_<label>, so
 * that log records + s_<label> = packets that reached the chain, exactly, and the agent can
 * report what it did not see. Both branches end in VERDICT: the limit never changes it.
 */
static int compile_log_chain(struct compile_ctx *cx, struct ir_table *t, const char *chain_name,
			     const char *label, enum ir_verdict_kind verdict, struct ir_chain **ret)
{
	char prefix[128], sname[POLICY_NAME_MAX + 16];
	struct ir_chain *c = ir_chain_add(cx->rs, t, chain_name);
	const char *pfx, *suppressed;

	if (!c)
		return -ENOMEM;
	/* "netseg <counter> <verdict>: " names the rule (or default) and what happened; the
	 * counter name is what `netseg status` shows next to it. */
	snprintf(prefix, sizeof(prefix), "netseg %s %s: ", label,
		 verdict == IR_VERDICT_DROP ? "drop" : "accept");
	snprintf(sname, sizeof(sname), "s_%s", label);
	pfx = ir_strdup(cx->rs, prefix);
	if (!pfx || ir_counter_add(cx->rs, t, sname) < 0)
		return -ENOMEM;
	suppressed = t->counters[t->ncounters - 1];
	struct ir_stmt over[] = {
	    {.kind = IR_STMT_LIMIT, .limit = {COMPILE_LOG_RATE, COMPILE_LOG_BURST, true}},
	    compile_counter(suppressed),
	    compile_verdict(verdict, NULL)};
	struct ir_stmt log = {.kind = IR_STMT_LOG, .log = {pfx, COMPILE_NFLOG_GROUP}};
	struct ir_stmt v = compile_verdict(verdict, NULL);
	int r = compile_line(c, 3, over);

	if (r == 0)
		r = compile_line(c, 1, &log);
	if (r == 0)
		r = compile_line(c, 1, &v);
	if (r == 0)
		*ret = c;
	return r;
}

/* The verdict of rule RI's lines in the inet table, or in the bridge table (BRIDGE), where
 * the rule's counter is created with its first line. */
static int compile_rule_verdict(struct compile_ctx *cx, size_t ri, bool bridge, struct ir_stmt *ret)
{
	const struct policy_rule *rule = &cx->p->rules[ri];
	enum ir_verdict_kind v = rule->action == POLICY_DENY ? IR_VERDICT_DROP : IR_VERDICT_ACCEPT;
	struct ir_chain **log = bridge ? &cx->bridge_log_chains[ri] : &cx->log_chains[ri];
	char name[POLICY_NAME_MAX + 8];
	int r;

	if (bridge && !cx->bridge_counted[ri]) {
		if (ir_counter_add(cx->rs, cx->bridge, cx->rule_counters[ri]) < 0)
			return -ENOMEM;
		cx->bridge_counted[ri] = true;
	}
	if (!policy_rule_logs(cx->p, rule)) {
		*ret = compile_verdict(v, NULL);
		return 0;
	}
	if (!*log) {
		snprintf(name, sizeof(name), "log_%s", rule->name);
		r = compile_log_chain(cx, bridge ? cx->bridge : cx->inet, name,
				      cx->rule_counters[ri], v, log);
		if (r < 0)
			return r;
	}
	*ret = compile_verdict(IR_VERDICT_GOTO, *log);
	return 0;
}

static int compile_term_stmt(struct compile_ctx *cx, size_t ri, struct compile_rule_sets *rsets,
			     enum compile_side side, size_t ti, enum compile_fam fam,
			     enum compile_pchain pc, struct ir_stmt *st, size_t *n, bool *ret_none)
{
	const struct policy_rule *rule = &cx->p->rules[ri];
	const struct policy_term *term =
	    &(side == COMPILE_FROM ? &rule->from : &rule->to)->terms[ti];
	enum compile_tm tm = compile_term_kind(term->kind, side, pc);
	enum ir_key key;
	struct ir_set *s;
	int r;

	*ret_none = false;
	if (tm == COMPILE_TM_IMPLIED)
		return 0;
	if (side == COMPILE_FROM)
		key = fam == COMPILE_V4 ? IR_KEY_IP_SADDR : IR_KEY_IP6_SADDR;
	else
		key = fam == COMPILE_V4 ? IR_KEY_IP_DADDR : IR_KEY_IP6_DADDR;
	if (pc == COMPILE_FLOOD)
		r = compile_flood_term_set(cx, ri, rsets, side, ti, fam, &s, &key);
	else
		r = compile_term_set(cx, ri, rsets, side, ti, fam, pc, &s);
	if (r < 0)
		return r;
	if (!s) {
		*ret_none = true;
		return 0;
	}
	st[(*n)++] = tm == COMPILE_TM_NOT_SET ? compile_not_lookup(key, s) : compile_lookup(key, s);
	return 0;
}

/* One rule being compiled: its sets, the port alternatives of the family at hand, and its
 * verdicts, made on first use (a rule without lines needs no log chain). */
struct compile_rule_run {
	size_t ri;
	struct compile_rule_sets rsets;
	struct compile_alt alts[3];
	size_t nalts;
	struct ir_stmt verdict[2]; /* [in the bridge table] */
	bool have_verdict[2];
};

/* The lines of from term I and to term J of the rule in policy chain [F][K], one per port
 * alternative: queued for the port dispatch when it has tcp/udp/sctp ports. */
static int compile_rule_chain(struct compile_ctx *cx, struct compile_rule_run *run, size_t i,
			      size_t j, int f, int k)
{
	const struct policy_rule *rule = &cx->p->rules[run->ri];
	const struct policy_term *ft = &rule->from.terms[i], *tt = &rule->to.terms[j];
	struct ir_stmt st[COMPILE_LINE_MAX];
	size_t n = 0;
	bool none = false, br = k == COMPILE_FLOOD;
	int r;

	if (compile_term_kind(ft->kind, COMPILE_FROM, k) == COMPILE_TM_NONE ||
	    compile_term_kind(tt->kind, COMPILE_TO, k) == COMPILE_TM_NONE)
		return 0;
	r = compile_term_stmt(cx, run->ri, &run->rsets, COMPILE_FROM, i, f, k, st, &n, &none);
	if (r < 0 || none)
		return r;
	r = compile_term_stmt(cx, run->ri, &run->rsets, COMPILE_TO, j, f, k, st, &n, &none);
	if (r < 0 || none)
		return r;
	/* Only now: a rule without lines needs no log chain. */
	if (!run->have_verdict[br]) {
		r = compile_rule_verdict(cx, run->ri, br, &run->verdict[br]);
		run->have_verdict[br] = r == 0;
	}
	for (size_t a = 0; r == 0 && a < run->nalts; a++) {
		const struct compile_alt *alt = &run->alts[a];
		size_t m = n;

		for (size_t x = 0; x < alt->n; x++)
			st[m++] = alt->st[x];
		st[m++] = compile_counter(cx->rule_counters[run->ri]);
		st[m++] = run->verdict[br];
		if (alt->l4)
			r = compile_port_line_add(cx->seen,
						  &cx->port_lines[f * COMPILE_PCHAIN_COUNT + k],
						  run->ri, m, st);
		else
			r = compile_rule_line(cx->seen, cx->pchains[f][k], m, st);
	}
	return r;
}

static int compile_rule(struct compile_ctx *cx, size_t ri)
{
	const struct policy_rule *rule = &cx->p->rules[ri];
	struct compile_rule_run run = {.ri = ri, .rsets = {.nfrom = rule->from.n}};
	struct compile_rule_sets *rsets = &run.rsets;
	int r = 0;

	rsets->sets = calloc((rule->from.n + rule->to.n) * 2 + 1, sizeof(*rsets->sets));
	rsets->bsets = calloc((rule->from.n + rule->to.n) * 2 + 1, sizeof(*rsets->bsets));
	if (!rsets->sets || !rsets->bsets) {
		free(rsets->sets);
		free(rsets->bsets);
		return -ENOMEM;
	}
	/* A new generation: no line of this rule seen yet. */
	cx->seen->gen++;
	cx->seen->n = 0;
	for (size_t i = 0; r == 0 && i < rule->from.n; i++) {
		const struct policy_term *ft = &rule->from.terms[i];

		for (size_t j = 0; r == 0 && j < rule->to.n; j++) {
			const struct policy_term *tt = &rule->to.terms[j];

			for (int f = 0; r == 0 && f < COMPILE_FAM_COUNT; f++) {
				if (!compile_term_has_fam(cx, ft, f) ||
				    !compile_term_has_fam(cx, tt, f))
					continue;
				/* Whether the ports say anything in this family at all, before the
				 * terms create their sets. */
				run.nalts = 0;
				compile_ports(cx, ri, f, run.alts, &run.nalts);
				for (int k = 0; r == 0 && run.nalts && k < COMPILE_PCHAIN_COUNT;
				     k++)
					r = compile_rule_chain(cx, &run, i, j, f, k);
			}
		}
	}
	free(rsets->sets);
	free(rsets->bsets);
	return r;
}

/* A category's default line: counted, logged when the defaults say so. */
static int compile_default(struct compile_ctx *cx, struct ir_chain *c, enum policy_category cat,
			   const struct ir_set *only_to)
{
	enum ir_verdict_kind v =
	    cx->p->defaults[cat] == POLICY_DENY ? IR_VERDICT_DROP : IR_VERDICT_ACCEPT;
	struct ir_stmt st[3];
	size_t n = 0;
	char name[32];
	int r;

	if (only_to)
		st[n++] = compile_lookup(c == cx->pchains[COMPILE_V4][COMPILE_FROM_CONTAINER]
					     ? IR_KEY_IP_DADDR
					     : IR_KEY_IP6_DADDR,
					 only_to);
	st[n++] = compile_counter(cx->default_counters[cat]);
	if (policy_default_logs(cx->p, cat)) {
		bool br = c == cx->pchains[COMPILE_V4][COMPILE_FLOOD] ||
			  c == cx->pchains[COMPILE_V6][COMPILE_FLOOD];
		struct ir_chain **log = br ? &cx->bridge_log_c2c : &cx->log_default[cat];

		if (!*log) {
			snprintf(name, sizeof(name), "log_d_%s", policy_category_short(cat));
			r = compile_log_chain(cx, br ? cx->bridge : cx->inet, name,
					      cx->default_counters[cat], v, log);
			if (r < 0)
				return r;
		}
		st[n++] = compile_verdict(IR_VERDICT_GOTO, *log);
	} else {
		st[n++] = compile_verdict(v, NULL);
	}
	return compile_line(c, n, st);
}

int compile_policy_chains(struct compile_ctx *cx)
{
	size_t deny_end[COMPILE_FAM_COUNT][COMPILE_PCHAIN_COUNT];
	int r = 0;

	cx->port_lines = calloc(COMPILE_FAM_COUNT * COMPILE_PCHAIN_COUNT, sizeof(*cx->port_lines));
	cx->seen = calloc(1, sizeof(*cx->seen));
	if (!cx->port_lines || !cx->seen) {
		free(cx->port_lines);
		free(cx->seen);
		cx->port_lines = NULL;
		cx->seen = NULL;
		return -ENOMEM;
	}
	/* Deny lines first, then allow lines: a drop ends evaluation, so any matching deny wins
	 * whatever the order of rules and files. The port dispatch sits between the two: its
	 * segment chains keep the same order among the lines with ports. */
	for (int pass = 0; pass < 2; pass++) {
		enum policy_action want = pass == 0 ? POLICY_DENY : POLICY_ALLOW;

		for (size_t i = 0; r == 0 && i < cx->p->nrules; i++)
			if (cx->p->rules[i].action == want)
				r = compile_rule(cx, i);
		for (int f = 0; pass == 0 && f < COMPILE_FAM_COUNT; f++)
			for (int k = 0; k < COMPILE_PCHAIN_COUNT; k++)
				deny_end[f][k] = cx->pchains[f][k]->n;
	}
	for (int f = 0; r == 0 && f < COMPILE_FAM_COUNT; f++)
		for (int k = 0; r == 0 && k < COMPILE_PCHAIN_COUNT; k++)
			r = compile_dispatch(cx, f, k, deny_end[f][k]);
	for (size_t i = 0; i < COMPILE_FAM_COUNT * COMPILE_PCHAIN_COUNT; i++) {
		for (size_t j = 0; j < cx->port_lines[i].n; j++)
			if (!cx->port_lines[i].v[j].moved)
				free(cx->port_lines[i].v[j].st);
		free(cx->port_lines[i].v);
	}
	free(cx->port_lines);
	cx->port_lines = NULL;
	free(cx->seen->v);
	free(cx->seen);
	cx->seen = NULL;
	for (int f = 0; r == 0 && f < COMPILE_FAM_COUNT; f++) {
		struct ir_chain **pc = cx->pchains[f];

		r = compile_default(cx, pc[COMPILE_FROM_CONTAINER], POLICY_C2C, cx->containers[f]);
		if (r == 0)
			r = compile_default(cx, pc[COMPILE_FROM_CONTAINER], POLICY_C2W, NULL);
		if (r == 0)
			r = compile_default(cx, pc[COMPILE_TO_CONTAINER], POLICY_W2C, NULL);
		if (r == 0)
			r = compile_default(cx, pc[COMPILE_TO_HOST], POLICY_C2H, NULL);
		if (r == 0)
			r = compile_default(cx, pc[COMPILE_FLOOD], POLICY_C2C, NULL);
	}
	return r;
}
