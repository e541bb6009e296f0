/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fixed part of the layout in docs/design.md: the three tables, the inventory sets
 * (ports, addresses, dispatch maps, group membership) and the chains that do not depend on
 * the policy's rules. compile_rules.c fills the policy chains.
 */
#include "compile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "compile_internal.h"

/* ct state bits (NF_CT_STATE_*_BIT), host order as the kernel's ct expression loads them. */
#define COMPILE_CT_INVALID	 0x1u
#define COMPILE_CT_ESTABLISHED	 0x2u
#define COMPILE_CT_RELATED	 0x4u
#define COMPILE_PACKET_BROADCAST 1
#define COMPILE_PACKET_MULTICAST 2
#define COMPILE_IPPROTO_ICMPV6	 58
#define COMPILE_ND_NEIGHBOR_ADV	 136

/* The only ICMPv6 messages a port may send from :: or fe80::/10, and that reach the host or
 * another container whatever the policy: RS, NS, NA, MLDv1 report, MLDv2 report. Without them
 * neither address autoconfiguration nor neighbour discovery works. */
static const uint8_t compile_nd_types[] = {133, 135, 136, 131, 143};

/* --- statement helpers (the shared ones are in compile_stmt.c) --- */

static struct ir_stmt compile_bits(enum ir_key k, enum ir_op op, uint32_t bits)
{
	return (struct ir_stmt){
	    .kind = IR_STMT_MATCH,
	    .match = {.keys = {k}, .nkeys = 1, .op = op, .value = ir_value_u32_host(bits)}};
}

static struct ir_stmt compile_vmap(enum ir_key k, const struct ir_set *map)
{
	return (struct ir_stmt){
	    .kind = IR_STMT_MATCH,
	    .match = {.keys = {k}, .nkeys = 1, .op = IR_OP_VMAP, .set = map->name}};
}

struct ir_set *compile_set1(struct compile_ctx *cx, struct ir_table *t, const char *name,
			    enum ir_type type, bool interval)
{
	return ir_set_add(cx->rs, t, name, &type, 1, interval);
}

static struct ir_set *compile_set2(struct compile_ctx *cx, struct ir_table *t, const char *name,
				   enum ir_type a, enum ir_type b)
{
	enum ir_type types[] = {a, b};

	return ir_set_add(cx->rs, t, name, types, 2, false);
}

static struct ir_chain *compile_base(struct compile_ctx *cx, struct ir_table *t, const char *name,
				     enum ir_hook hook, int prio)
{
	struct ir_chain *c = ir_chain_add(cx->rs, t, name);

	if (c) {
		c->base = true;
		c->hook = hook;
		c->priority = prio;
	}
	return c;
}

static enum compile_fam compile_fam_of(int af)
{
	return af == AF_INET6 ? COMPILE_V6 : COMPILE_V4;
}

static struct ir_value compile_addr(const struct endpoint_addr *a)
{
	return ir_value_addr(a->family, a->addr, a->family == AF_INET6 ? 128 : 32);
}

/* --- inventory sets --- */

static int compile_add_ifname(struct ir_set *s, const char *name, enum ir_verdict_kind kind,
			      const struct ir_chain *target)
{
	struct ir_elem e = {0};

	if (!name) /* a remote endpoint: addresses only */
		return 0;
	e.key[0] = ir_value_ifname(name);
	if (target)
		e.verdict = (struct ir_verdict){.kind = kind, .chain = target->name};
	return ir_elem_add(s, &e);
}

/*
 * ports, port_addrs4/6 and port_targets6 and containers4/6. ROUTED_ONLY: the port sets hold
 * only ports without a bridge (inet: bridged ports are never an inet iifname, their
 * anti-spoofing is the bridge table's, and each element would be kernel memory and commit
 * work for nothing).
 */
static int compile_fill_ports(const struct endpoint_set *eps, struct ir_set *ports,
			      struct ir_set *pa[COMPILE_FAM_COUNT], struct ir_set *targets,
			      struct ir_set *containers[COMPILE_FAM_COUNT], bool routed_only)
{
	for (size_t i = 0; eps && i < eps->n; i++) {
		const struct endpoint *ep = &eps->items[i];
		/* A remote endpoint (no interface) is only its addresses in containers. */
		bool port = ep->interface && (!routed_only || !ep->bridge);

		if (ports && compile_add_ifname(ports, ep->interface, IR_VERDICT_ACCEPT, NULL) < 0)
			return -ENOMEM;
		for (size_t j = 0; j < ep->naddrs; j++) {
			enum compile_fam f = compile_fam_of(ep->addrs[j].family);
			struct ir_elem e = {0};

			if (ep->interface)
				e.key[0] = ir_value_ifname(ep->interface);
			e.key[1] = compile_addr(&ep->addrs[j]);
			if (port && pa && ir_elem_add(pa[f], &e) < 0)
				return -ENOMEM;
			if (port && targets && f == COMPILE_V6 && ir_elem_add(targets, &e) < 0)
				return -ENOMEM;
			if (containers) {
				struct ir_elem c = {0};

				c.key[0] = e.key[1];
				if (ir_elem_add(containers[f], &c) < 0)
					return -ENOMEM;
			}
		}
	}
	return 0;
}

static struct ir_set *compile_nd_set(struct compile_ctx *cx, struct ir_table *t)
{
	struct ir_set *s = compile_set1(cx, t, "nd_types", IR_TYPE_ICMPV6_TYPE, false);

	if (!s)
		return NULL;
	s->constant = true;
	for (size_t i = 0; i < sizeof(compile_nd_types); i++) {
		struct ir_elem e = {0};

		e.key[0] = ir_value_u8(compile_nd_types[i]);
		if (ir_elem_add(s, &e) < 0)
			return NULL;
	}
	return s;
}

/* Managed bridges: the input list plus every endpoint's own bridge, duplicates removed by
 * set normalization. */
static int compile_fill_bridges(const struct compile_input *in, struct ir_set *s,
				enum ir_verdict_kind kind, const struct ir_chain *target)
{
	for (size_t i = 0; i < in->nbridges; i++)
		if (compile_add_ifname(s, in->bridges[i], kind, target) < 0)
			return -ENOMEM;
	for (size_t i = 0; in->endpoints && i < in->endpoints->n; i++) {
		const char *br = in->endpoints->items[i].bridge;

		if (br && compile_add_ifname(s, br, kind, target) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ICMPv6 from :: or fe80::/10 with an ND/MLD type: the exception to anti-spoofing. */
static int compile_nd_exceptions(struct ir_chain *c, const struct ir_set *nd,
				 enum ir_verdict_kind verdict)
{
	static const uint8_t fe80[16] = {0xfe, 0x80};
	static const uint8_t any[16];
	struct ir_stmt ll[] = {compile_eq(IR_KEY_IP6_SADDR, ir_value_addr(AF_INET6, fe80, 10)),
			       compile_lookup(IR_KEY_ICMPV6_TYPE, nd),
			       compile_verdict(verdict, NULL)};
	struct ir_stmt unspec[] = {compile_eq(IR_KEY_IP6_SADDR, ir_value_addr(AF_INET6, any, 128)),
				   compile_lookup(IR_KEY_ICMPV6_TYPE, nd),
				   compile_verdict(verdict, NULL)};
	int r = compile_line(c, 3, ll);

	return r < 0 ? r : compile_line(c, 3, unspec);
}

/*
 * port_targets6 and na_target: a neighbour advertisement must announce an address of its own
 * port, or a link-local one (those are not in the inventory). Anti-spoofing vouches for the
 * packet's source only; the NA's target is what neighbour caches learn, so without this a
 * container could take over another's IPv6 address in every cache on the link.
 */
static int compile_na_target(struct compile_ctx *cx, struct ir_table *t, struct ir_set **ret_set,
			     struct ir_chain **ret_chain)
{
	static const uint8_t fe80[16] = {0xfe, 0x80};
	enum ir_type types[] = {IR_TYPE_IFNAME, IR_TYPE_ND_TARGET};
	struct ir_set *s = ir_set_add(cx->rs, t, "port_targets6", types, 2, false);
	struct ir_chain *c = ir_chain_add(cx->rs, t, "na_target");
	struct ir_stmt ret = compile_verdict(IR_VERDICT_RETURN, NULL);
	struct ir_stmt drop = compile_verdict(IR_VERDICT_DROP, NULL);
	int r;

	if (!s || !c)
		return -ENOMEM;
	struct ir_stmt own[] = {compile_lookup2(IR_KEY_IIFNAME, IR_KEY_ND_TARGET, s), ret};
	struct ir_stmt ll[] = {compile_eq(IR_KEY_ND_TARGET, ir_value_addr(AF_INET6, fe80, 10)),
			       ret};

	if ((r = compile_line(c, 2, own)) < 0 || (r = compile_line(c, 2, ll)) < 0 ||
	    (r = compile_line(c, 1, &drop)) < 0)
		return r;
	*ret_set = s;
	*ret_chain = c;
	return 0;
}

/* "icmpv6 type nd-neighbor-advert jump na_target": first in a chain that vouches for a port. */
static int compile_na_check(struct ir_chain *c, const struct ir_chain *na_target)
{
	struct ir_stmt na[] = {compile_eq(IR_KEY_ICMPV6_TYPE, ir_value_u8(COMPILE_ND_NEIGHBOR_ADV)),
			       compile_verdict(IR_VERDICT_JUMP, na_target)};

	return compile_line(c, 2, na);
}

/* --- bridge netseg --- */

/* The bridge table's sets and chains, created in the order they are listed (and printed). */
struct compile_bridge {
	struct ir_set *ports, *pa[COMPILE_FAM_COUNT], *nd, *targets;
	struct ir_chain *pre, *in, *in4, *in6, *na, *arp, *fwd, *pfwd, *flood, *flood4, *flood6;
};

static int compile_bridge_objects(struct compile_ctx *cx, struct ir_table *t,
				  struct compile_bridge *b)
{
	int r;

	b->ports = compile_set1(cx, t, "ports", IR_TYPE_IFNAME, false);
	b->pa[COMPILE_V4] = compile_set2(cx, t, "port_addrs4", IR_TYPE_IFNAME, IR_TYPE_IPV4);
	b->pa[COMPILE_V6] = compile_set2(cx, t, "port_addrs6", IR_TYPE_IFNAME, IR_TYPE_IPV6);
	b->nd = compile_nd_set(cx, t);
	b->pre = compile_base(cx, t, "prerouting", IR_HOOK_PREROUTING, -300);
	b->in = ir_chain_add(cx->rs, t, "port_in");
	b->in4 = ir_chain_add(cx->rs, t, "port_in4");
	b->in6 = ir_chain_add(cx->rs, t, "port_in6");
	r = compile_na_target(cx, t, &b->targets, &b->na);
	if (r < 0)
		return r;
	b->arp = ir_chain_add(cx->rs, t, "port_arp");
	b->fwd = compile_base(cx, t, "forward", IR_HOOK_FORWARD, -300);
	b->pfwd = ir_chain_add(cx->rs, t, "port_forward");
	b->flood = ir_chain_add(cx->rs, t, "flood");
	b->flood4 = ir_chain_add(cx->rs, t, "flood4");
	b->flood6 = ir_chain_add(cx->rs, t, "flood6");
	if (!b->ports || !b->pa[0] || !b->pa[1] || !b->nd || !b->pre || !b->in || !b->in4 ||
	    !b->in6 || !b->arp || !b->fwd || !b->pfwd || !b->flood || !b->flood4 || !b->flood6)
		return -ENOMEM;
	return 0;
}

/* prerouting and port_in: a frame from a port is marked classified, then sorted by type. */
static int compile_bridge_port_in(const struct compile_bridge *b)
{
	struct ir_stmt drop = compile_verdict(IR_VERDICT_DROP, NULL);
	struct ir_stmt mark = {.kind = IR_STMT_MARK_OR, .mark_or = COMPILE_MARK_CLASSIFIED};
	struct ir_stmt to_in[] = {compile_lookup(IR_KEY_IIFNAME, b->ports),
				  compile_verdict(IR_VERDICT_GOTO, b->in)};
	struct ir_stmt by_type[][2] = {
	    {compile_eq(IR_KEY_ETHER_TYPE, ir_value_be16(0x0800)),
	     compile_verdict(IR_VERDICT_GOTO, b->in4)},
	    {compile_eq(IR_KEY_ETHER_TYPE, ir_value_be16(0x86dd)),
	     compile_verdict(IR_VERDICT_GOTO, b->in6)},
	    {compile_eq(IR_KEY_ETHER_TYPE, ir_value_be16(0x0806)),
	     compile_verdict(IR_VERDICT_GOTO, b->arp)},
	};
	int r;

	if ((r = compile_line(b->pre, 2, to_in)) < 0 || (r = compile_line(b->in, 1, &mark)) < 0)
		return r;
	for (size_t i = 0; i < 3; i++)
		if ((r = compile_line(b->in, 2, by_type[i])) < 0)
			return r;
	return compile_line(b->in, 1, &drop);
}

/* port_in4, port_in6 and port_arp: anti-spoofing, a port sends from its own addresses only. */
static int compile_bridge_own_addrs(const struct compile_bridge *b)
{
	struct ir_stmt drop = compile_verdict(IR_VERDICT_DROP, NULL);
	struct ir_stmt own4[] = {compile_lookup2(IR_KEY_IIFNAME, IR_KEY_IP_SADDR, b->pa[0]),
				 compile_verdict(IR_VERDICT_ACCEPT, NULL)};
	struct ir_stmt own6[] = {compile_lookup2(IR_KEY_IIFNAME, IR_KEY_IP6_SADDR, b->pa[1]),
				 compile_verdict(IR_VERDICT_ACCEPT, NULL)};
	struct ir_stmt own_arp[] = {compile_lookup2(IR_KEY_IIFNAME, IR_KEY_ARP_SADDR_IP, b->pa[0]),
				    compile_verdict(IR_VERDICT_ACCEPT, NULL)};
	/* 0.0.0.0: ARP probes (RFC 5227) before the address is configured. */
	struct ir_stmt probe[] = {
	    compile_eq(IR_KEY_ARP_SADDR_IP, ir_value_addr(AF_INET, (const uint8_t[4]){0}, 32)),
	    compile_verdict(IR_VERDICT_ACCEPT, NULL)};
	int r;

	if ((r = compile_line(b->in4, 2, own4)) < 0 || (r = compile_line(b->in4, 1, &drop)) < 0 ||
	    (r = compile_na_check(b->in6, b->na)) < 0 || (r = compile_line(b->in6, 2, own6)) < 0 ||
	    (r = compile_nd_exceptions(b->in6, b->nd, IR_VERDICT_ACCEPT)) < 0 ||
	    (r = compile_line(b->in6, 1, &drop)) < 0 ||
	    (r = compile_line(b->arp, 2, own_arp)) < 0 || (r = compile_line(b->arp, 2, probe)) < 0)
		return r;
	return compile_line(b->arp, 1, &drop);
}

/* forward, port_forward and flood: where classified and unclassified ports are kept apart
 * and broadcast and multicast between containers is handed to the flood chains. */
static int compile_bridge_forward(const struct compile_bridge *b)
{
	struct ir_stmt drop = compile_verdict(IR_VERDICT_DROP, NULL);
	/*
	 * A frame between a classified and an unclassified port never crosses the bridge: the
	 * bridge family cannot say which bridge a port is on, and does not need to. Every
	 * bridged frame passes here, so each side's port set is looked up once: two lookups
	 * for a frame between containers, not five as with one flat rule per case.
	 */
	struct ir_stmt from_port[] = {compile_lookup(IR_KEY_IIFNAME, b->ports),
				      compile_verdict(IR_VERDICT_GOTO, b->pfwd)};
	struct ir_stmt into[] = {compile_lookup(IR_KEY_OIFNAME, b->ports), drop};
	struct ir_stmt out_of[] = {compile_not_lookup(IR_KEY_OIFNAME, b->ports), drop};
	/*
	 * Broadcast and multicast between two containers: the only hook that sees the receiving
	 * port is this one (run once per output port; in inet, oifname is the bridge), so the
	 * container_to_container policy is judged here, statelessly, per receiver. The inet
	 * forward chain then accepts these frames without judging them again.
	 */
	struct ir_stmt to_flood[][2] = {
	    {compile_eq(IR_KEY_PKTTYPE, ir_value_u8(COMPILE_PACKET_BROADCAST)),
	     compile_verdict(IR_VERDICT_GOTO, b->flood)},
	    {compile_eq(IR_KEY_PKTTYPE, ir_value_u8(COMPILE_PACKET_MULTICAST)),
	     compile_verdict(IR_VERDICT_GOTO, b->flood)},
	};
	/* ARP falls through (accept): the policy is about IP, and ARP must work for it to. */
	struct ir_stmt by_fam[][2] = {
	    {compile_eq(IR_KEY_ETHER_TYPE, ir_value_be16(0x0800)),
	     compile_verdict(IR_VERDICT_GOTO, b->flood4)},
	    {compile_eq(IR_KEY_ETHER_TYPE, ir_value_be16(0x86dd)),
	     compile_verdict(IR_VERDICT_GOTO, b->flood6)},
	};
	/* Neighbour discovery between containers works whatever the policy, as in inet. */
	struct ir_stmt nd_ok[] = {compile_lookup(IR_KEY_ICMPV6_TYPE, b->nd),
				  compile_verdict(IR_VERDICT_ACCEPT, NULL)};
	int r;

	if ((r = compile_line(b->fwd, 2, from_port)) < 0 ||
	    (r = compile_line(b->fwd, 2, into)) < 0 || (r = compile_line(b->pfwd, 2, out_of)) < 0 ||
	    (r = compile_line(b->pfwd, 2, to_flood[0])) < 0 ||
	    (r = compile_line(b->pfwd, 2, to_flood[1])) < 0 ||
	    (r = compile_line(b->flood, 2, by_fam[0])) < 0 ||
	    (r = compile_line(b->flood, 2, by_fam[1])) < 0)
		return r;
	return compile_line(b->flood6, 2, nd_ok);
}

static int compile_bridge_table(struct compile_ctx *cx)
{
	struct ir_table *t = ir_table_add(cx->rs, IR_FAMILY_BRIDGE, COMPILE_TABLE_NAME);
	struct compile_bridge b = {0};
	int r;

	if (!t)
		return -ENOMEM;
	cx->bridge = t;
	/* The flood chains count their default like the inet chains do (same name). */
	if (ir_counter_add(cx->rs, t, "d_c2c") < 0)
		return -ENOMEM;
	r = compile_bridge_objects(cx, t, &b);
	if (r < 0)
		return r;
	cx->pchains[COMPILE_V4][COMPILE_FLOOD] = b.flood4;
	cx->pchains[COMPILE_V6][COMPILE_FLOOD] = b.flood6;
	r = compile_fill_ports(cx->in->endpoints, b.ports, b.pa, b.targets, NULL, false);
	if (r == 0)
		r = compile_bridge_port_in(&b);
	if (r == 0)
		r = compile_bridge_own_addrs(&b);
	if (r == 0)
		r = compile_bridge_forward(&b);
	return r;
}

/* --- arp netseg --- */

static int compile_arp_table(struct compile_ctx *cx)
{
	struct ir_table *t = ir_table_add(cx->rs, IR_FAMILY_ARP, COMPILE_TABLE_NAME);
	struct ir_set *bridges;
	struct ir_chain *input;
	int r;

	if (!t)
		return -ENOMEM;
	bridges = compile_set1(cx, t, "bridges", IR_TYPE_IFNAME, false);
	input = compile_base(cx, t, "input", IR_HOOK_INPUT, 0);
	if (!bridges || !input)
		return -ENOMEM;
	r = compile_fill_bridges(cx->in, bridges, IR_VERDICT_ACCEPT, NULL);
	if (r < 0)
		return r;

	struct ir_stmt unclassified[] = {
	    compile_lookup(IR_KEY_IIFNAME, bridges),
	    compile_bits(IR_KEY_MARK, IR_OP_BITS_ZERO, COMPILE_MARK_CLASSIFIED),
	    compile_verdict(IR_VERDICT_DROP, NULL)};
	return compile_line(input, 3, unclassified);
}

/* --- inet netseg --- */

static int compile_inet_counters(struct compile_ctx *cx)
{
	const struct policy *p = cx->p;
	char name[POLICY_NAME_MAX + 8];

	cx->rule_counters = calloc(p->nrules ? p->nrules : 1, sizeof(*cx->rule_counters));
	if (!cx->rule_counters)
		return -ENOMEM;
	for (size_t i = 0; i < p->nrules; i++) {
		snprintf(name, sizeof(name), "r_%s", p->rules[i].name);
		if (ir_counter_add(cx->rs, cx->inet, name) < 0)
			return -ENOMEM;
		cx->rule_counters[i] = cx->inet->counters[cx->inet->ncounters - 1];
	}
	for (int c = 0; c < POLICY_CATEGORY_COUNT; c++) {
		snprintf(name, sizeof(name), "d_%s", policy_category_short(c));
		if (ir_counter_add(cx->rs, cx->inet, name) < 0)
			return -ENOMEM;
		cx->default_counters[c] = cx->inet->counters[cx->inet->ncounters - 1];
	}
	return 0;
}

static int compile_group_sets(struct compile_ctx *cx)
{
	const struct policy *p = cx->p;
	char name[POLICY_NAME_MAX + 8];

	cx->group_sets = calloc(p->ngroups * 2 + 1, sizeof(*cx->group_sets));
	if (!cx->group_sets)
		return -ENOMEM;
	for (size_t g = 0; g < p->ngroups; g++) {
		for (int f = 0; f < COMPILE_FAM_COUNT; f++) {
			struct ir_set *s;
			int r;

			snprintf(name, sizeof(name), "g_%s%c", p->groups[g].name,
				 f == COMPILE_V4 ? '4' : '6');
			s = compile_set1(cx, cx->inet, name,
					 f == COMPILE_V4 ? IR_TYPE_IPV4 : IR_TYPE_IPV6, false);
			if (!s)
				return -ENOMEM;
			r = compile_members_fill(cx, &p->groups[g].match, f, s);
			if (r < 0)
				return r;
			cx->group_sets[g * 2 + f] = s;
		}
	}
	return 0;
}

/* The inet table's own sets and chains (the policy chains are cx->pchains). */
struct compile_inet {
	struct ir_set *in_d, *out_d, *pa[COMPILE_FAM_COUNT], *nd, *targets;
	struct ir_chain *pre, *from_bridge, *from_port, *na, *fwd, *to_bridge, *invalid, *input;
};

static int compile_inet_sets(struct compile_ctx *cx, struct ir_table *t, struct compile_inet *n)
{
	struct ir_set **c = cx->containers;

	n->in_d = compile_set1(cx, t, "in_dispatch", IR_TYPE_IFNAME, false);
	n->out_d = compile_set1(cx, t, "out_dispatch", IR_TYPE_IFNAME, false);
	n->pa[COMPILE_V4] = compile_set2(cx, t, "port_addrs4", IR_TYPE_IFNAME, IR_TYPE_IPV4);
	n->pa[COMPILE_V6] = compile_set2(cx, t, "port_addrs6", IR_TYPE_IFNAME, IR_TYPE_IPV6);
	c[COMPILE_V4] = compile_set1(cx, t, "containers4", IR_TYPE_IPV4, false);
	c[COMPILE_V6] = compile_set1(cx, t, "containers6", IR_TYPE_IPV6, false);
	n->nd = compile_nd_set(cx, t);
	if (!n->in_d || !n->out_d || !n->pa[0] || !n->pa[1] || !c[0] || !c[1] || !n->nd)
		return -ENOMEM;
	n->in_d->is_vmap = n->out_d->is_vmap = true;
	return compile_group_sets(cx);
}

static int compile_inet_chains(struct compile_ctx *cx, struct ir_table *t, struct compile_inet *n)
{
	static const char *const pnames[COMPILE_FAM_COUNT][COMPILE_FLOOD] = {
	    {"from_container4", "to_container4", "to_host4"},
	    {"from_container6", "to_container6", "to_host6"}};
	int r;

	n->pre = compile_base(cx, t, "prerouting", IR_HOOK_PREROUTING, -300);
	n->from_bridge = ir_chain_add(cx->rs, t, "from_bridge");
	n->from_port = ir_chain_add(cx->rs, t, "from_port");
	r = compile_na_target(cx, t, &n->targets, &n->na);
	if (r < 0)
		return r;
	n->fwd = compile_base(cx, t, "forward", IR_HOOK_FORWARD, -10);
	n->to_bridge = ir_chain_add(cx->rs, t, "to_bridge");
	n->invalid = ir_chain_add(cx->rs, t, "invalid");
	n->input = compile_base(cx, t, "input", IR_HOOK_INPUT, -10);
	for (int f = 0; f < COMPILE_FAM_COUNT; f++)
		for (int k = 0; k < COMPILE_FLOOD; k++)
			if (!(cx->pchains[f][k] = ir_chain_add(cx->rs, t, pnames[f][k])))
				return -ENOMEM;
	if (!n->pre || !n->from_bridge || !n->from_port || !n->fwd || !n->to_bridge ||
	    !n->invalid || !n->input)
		return -ENOMEM;
	return 0;
}

/* The elements of in_dispatch, out_dispatch, port_addrs4/6, port_targets6, containers4/6. */
static int compile_inet_inventory(struct compile_ctx *cx, struct compile_inet *n)
{
	const struct endpoint_set *eps = cx->in->endpoints;
	int r;

	/* Dispatch: a bridge's traffic is checked for the classified mark; a routed port (no
	 * bridge) for its source address. The out_dispatch verdict must be a jump: to_bridge
	 * returns, and a return from a goto'd chain would end the base chain (accept) before
	 * the policy chains ever ran. */
	r = compile_fill_bridges(cx->in, n->in_d, IR_VERDICT_GOTO, n->from_bridge);
	if (r == 0)
		r = compile_fill_bridges(cx->in, n->out_d, IR_VERDICT_JUMP, n->to_bridge);
	/* Only routed ports: a bridged port never shows up as iifname in the inet hooks (the
	 * bridge does), and every goto element costs the kernel a walk of the whole map at
	 * commit (chain loop validation), which would make adding a container grow with the
	 * number of containers. */
	for (size_t i = 0; r == 0 && eps && i < eps->n; i++)
		if (!eps->items[i].bridge)
			r = compile_add_ifname(n->in_d, eps->items[i].interface, IR_VERDICT_GOTO,
					       n->from_port);
	if (r == 0)
		r = compile_fill_ports(eps, NULL, n->pa, n->targets, cx->containers, true);
	return r;
}

/* prerouting, from_bridge and from_port: unclassified bridge traffic and spoofed routed
 * traffic stop here. */
static int compile_inet_prerouting(const struct compile_inet *n)
{
	struct ir_stmt drop = compile_verdict(IR_VERDICT_DROP, NULL);
	struct ir_stmt ret = compile_verdict(IR_VERDICT_RETURN, NULL);
	struct ir_stmt dispatch_in[] = {compile_vmap(IR_KEY_IIFNAME, n->in_d)};
	struct ir_stmt unclassified[] = {
	    compile_bits(IR_KEY_MARK, IR_OP_BITS_ZERO, COMPILE_MARK_CLASSIFIED), drop};
	struct ir_stmt own4[] = {compile_lookup2(IR_KEY_IIFNAME, IR_KEY_IP_SADDR, n->pa[0]), ret};
	struct ir_stmt own6[] = {compile_lookup2(IR_KEY_IIFNAME, IR_KEY_IP6_SADDR, n->pa[1]), ret};
	int r;

	if ((r = compile_line(n->pre, 1, dispatch_in)) < 0 ||
	    (r = compile_line(n->from_bridge, 2, unclassified)) < 0 ||
	    (r = compile_na_check(n->from_port, n->na)) < 0 ||
	    (r = compile_line(n->from_port, 2, own4)) < 0 ||
	    (r = compile_line(n->from_port, 2, own6)) < 0 ||
	    (r = compile_nd_exceptions(n->from_port, n->nd, IR_VERDICT_RETURN)) < 0)
		return r;
	return compile_line(n->from_port, 1, &drop);
}

/* "ct state established,related accept; ct state invalid jump invalid": shared by forward
 * and input, so a reply never meets the policy and an invalid packet always meets invalid. */
static int compile_inet_ct_state(struct ir_chain *c, const struct ir_chain *invalid)
{
	struct ir_stmt est[] = {compile_bits(IR_KEY_CT_STATE, IR_OP_BITS_ANY,
					     COMPILE_CT_ESTABLISHED | COMPILE_CT_RELATED),
				compile_verdict(IR_VERDICT_ACCEPT, NULL)};
	struct ir_stmt inv[] = {compile_bits(IR_KEY_CT_STATE, IR_OP_BITS_ANY, COMPILE_CT_INVALID),
				compile_verdict(IR_VERDICT_JUMP, invalid)};
	int r = compile_line(c, 2, est);

	return r < 0 ? r : compile_line(c, 2, inv);
}

/* forward and invalid: each direction to its policy chain by the container address. */
static int compile_inet_forward(struct compile_ctx *cx, const struct compile_inet *n)
{
	struct ir_set **c = cx->containers;
	struct ir_chain *(*pc)[COMPILE_PCHAIN_COUNT] = cx->pchains;
	struct ir_stmt drop = compile_verdict(IR_VERDICT_DROP, NULL);
	struct ir_stmt dispatch_out[] = {compile_vmap(IR_KEY_OIFNAME, n->out_d)};
	struct ir_stmt fwd_disp[][2] = {
	    {compile_lookup(IR_KEY_IP_SADDR, c[0]),
	     compile_verdict(IR_VERDICT_GOTO, pc[COMPILE_V4][COMPILE_FROM_CONTAINER])},
	    {compile_lookup(IR_KEY_IP_DADDR, c[0]),
	     compile_verdict(IR_VERDICT_GOTO, pc[COMPILE_V4][COMPILE_TO_CONTAINER])},
	    {compile_lookup(IR_KEY_IP6_SADDR, c[1]),
	     compile_verdict(IR_VERDICT_GOTO, pc[COMPILE_V6][COMPILE_FROM_CONTAINER])},
	    {compile_lookup(IR_KEY_IP6_DADDR, c[1]),
	     compile_verdict(IR_VERDICT_GOTO, pc[COMPILE_V6][COMPILE_TO_CONTAINER])},
	};
	struct ir_stmt invl[][2] = {
	    {compile_lookup(IR_KEY_IP_SADDR, c[0]), drop},
	    {compile_lookup(IR_KEY_IP_DADDR, c[0]), drop},
	    {compile_lookup(IR_KEY_IP6_SADDR, c[1]), drop},
	    {compile_lookup(IR_KEY_IP6_DADDR, c[1]), drop},
	};
	int r;

	if ((r = compile_line(n->fwd, 1, dispatch_out)) < 0 ||
	    (r = compile_fqdn_snoop(cx, n->fwd)) < 0 ||
	    (r = compile_inet_ct_state(n->fwd, n->invalid)) < 0)
		return r;
	for (size_t i = 0; i < 4; i++)
		if ((r = compile_line(n->fwd, 2, fwd_disp[i])) < 0 ||
		    (r = compile_line(n->invalid, 2, invl[i])) < 0)
			return r;
	return 0;
}

/* to_bridge: what leaves by a managed bridge must be for a container (or flooded, or
 * link-local); input: container traffic to the host goes to the to_host chains. */
static int compile_inet_to_bridge_input(struct compile_ctx *cx, const struct compile_inet *n)
{
	static const uint8_t fe80[16] = {0xfe, 0x80};
	struct ir_set **c = cx->containers;
	struct ir_chain *(*pc)[COMPILE_PCHAIN_COUNT] = cx->pchains;
	struct ir_stmt drop = compile_verdict(IR_VERDICT_DROP, NULL);
	struct ir_stmt ret = compile_verdict(IR_VERDICT_RETURN, NULL);
	struct ir_stmt tb[][2] = {
	    {compile_eq(IR_KEY_PKTTYPE, ir_value_u8(COMPILE_PACKET_BROADCAST)), ret},
	    {compile_eq(IR_KEY_PKTTYPE, ir_value_u8(COMPILE_PACKET_MULTICAST)), ret},
	    {compile_lookup(IR_KEY_IP_DADDR, c[0]), ret},
	    {compile_lookup(IR_KEY_IP6_DADDR, c[1]), ret},
	    {compile_eq(IR_KEY_IP6_DADDR, ir_value_addr(AF_INET6, fe80, 10)), ret},
	};
	struct ir_stmt in_disp[][2] = {
	    {compile_lookup(IR_KEY_IP_SADDR, c[0]),
	     compile_verdict(IR_VERDICT_GOTO, pc[COMPILE_V4][COMPILE_TO_HOST])},
	    {compile_lookup(IR_KEY_IP6_SADDR, c[1]),
	     compile_verdict(IR_VERDICT_GOTO, pc[COMPILE_V6][COMPILE_TO_HOST])},
	};
	int r;

	for (size_t i = 0; i < 5; i++)
		if ((r = compile_line(n->to_bridge, 2, tb[i])) < 0)
			return r;
	if ((r = compile_line(n->to_bridge, 1, &drop)) < 0 ||
	    (r = compile_inet_ct_state(n->input, n->invalid)) < 0 ||
	    (r = compile_line(n->input, 2, in_disp[0])) < 0)
		return r;
	return compile_line(n->input, 2, in_disp[1]);
}

/* The first lines of the policy chains, before any rule: what no rule or default judges. */
static int compile_inet_pchain_heads(struct compile_ctx *cx, const struct compile_inet *n)
{
	struct ir_chain *(*pc)[COMPILE_PCHAIN_COUNT] = cx->pchains;
	/* Neighbour discovery first in every IPv6 chain a container's own traffic reaches: to
	 * the host (the gateway) and, over a bridge, to other containers, whose solicitations
	 * carry the global source address and are untracked, so no rule or default may stop
	 * them. Anti-spoofing at the port already vouched for the source. */
	struct ir_stmt nd_ok[] = {compile_lookup(IR_KEY_ICMPV6_TYPE, n->nd),
				  compile_verdict(IR_VERDICT_ACCEPT, NULL)};
	/* Broadcast and multicast from a container were judged per receiving port by the bridge
	 * table's flood chains (bridged frames only: IP forwarding drops them before this hook),
	 * which see what this hook cannot: who receives. Judging them again here would make a
	 * broadcast to other containers container_to_world traffic. */
	struct ir_stmt flooded[][2] = {
	    {compile_eq(IR_KEY_PKTTYPE, ir_value_u8(COMPILE_PACKET_BROADCAST)),
	     compile_verdict(IR_VERDICT_ACCEPT, NULL)},
	    {compile_eq(IR_KEY_PKTTYPE, ir_value_u8(COMPILE_PACKET_MULTICAST)),
	     compile_verdict(IR_VERDICT_ACCEPT, NULL)},
	};
	int r;

	for (int f = 0; f < COMPILE_FAM_COUNT; f++)
		for (size_t i = 0; i < 2; i++)
			if ((r = compile_line(pc[f][COMPILE_FROM_CONTAINER], 2, flooded[i])) < 0)
				return r;
	r = compile_line(pc[COMPILE_V6][COMPILE_FROM_CONTAINER], 2, nd_ok);
	return r < 0 ? r : compile_line(pc[COMPILE_V6][COMPILE_TO_HOST], 2, nd_ok);
}

static int compile_inet_table(struct compile_ctx *cx)
{
	struct ir_table *t = ir_table_add(cx->rs, IR_FAMILY_INET, COMPILE_TABLE_NAME);
	struct compile_inet n = {0};
	int r;

	if (!t)
		return -ENOMEM;
	cx->inet = t;
	/* Creation order is print order: counters, sets, chains, then what the rules add. */
	r = compile_inet_counters(cx);
	if (r == 0)
		r = compile_inet_sets(cx, t, &n);
	if (r == 0)
		r = compile_inet_chains(cx, t, &n);
	if (r == 0)
		r = compile_inet_inventory(cx, &n);
	if (r == 0)
		r = compile_inet_prerouting(&n);
	if (r == 0)
		r = compile_inet_forward(cx, &n);
	if (r == 0)
		r = compile_inet_to_bridge_input(cx, &n);
	if (r == 0)
		r = compile_inet_pchain_heads(cx, &n);
	return r < 0 ? r : compile_policy_chains(cx);
}

static void compile_ctx_done(struct compile_ctx *cx)
{
	compile_members_free(cx->members);
	free(cx->group_sets);
	free(cx->group_ports);
	free(cx->bridge_net_sets);
	free(cx->net_ports);
	free(cx->bridge_counted);
	free(cx->bridge_log_chains);
	free(cx->net_sets);
	free(cx->log_chains);
	free(cx->rule_counters);
}

int compile_ruleset(const struct compile_input *in, struct ir_ruleset **ret)
{
	struct compile_ctx cx = {.in = in, .p = in->policy};
	int r = -ENOMEM;

	cx.rs = ir_ruleset_new();
	cx.net_sets = calloc(in->policy->nnets * 2 + 1, sizeof(*cx.net_sets));
	cx.log_chains = calloc(in->policy->nrules + 1, sizeof(*cx.log_chains));
	cx.group_ports = calloc(in->policy->ngroups + 1, sizeof(*cx.group_ports));
	cx.bridge_net_sets = calloc(in->policy->nnets * 2 + 1, sizeof(*cx.bridge_net_sets));
	cx.net_ports = calloc(in->policy->nnets * 2 + 1, sizeof(*cx.net_ports));
	cx.bridge_counted = calloc(in->policy->nrules + 1, sizeof(*cx.bridge_counted));
	cx.bridge_log_chains = calloc(in->policy->nrules + 1, sizeof(*cx.bridge_log_chains));
	if (!cx.rs || !cx.net_sets || !cx.log_chains || !cx.group_ports || !cx.bridge_net_sets ||
	    !cx.net_ports || !cx.bridge_counted || !cx.bridge_log_chains)
		goto out;
	r = compile_members_new(in->endpoints, &cx.members);
	if (r < 0)
		goto out;
	r = compile_bridge_table(&cx);
	if (r == 0)
		r = compile_inet_table(&cx);
	if (r == 0)
		r = compile_arp_table(&cx);
	if (r < 0)
		goto out;
	/* Elements were added in inventory order; sorted and merged they print the same
	 * whatever order the endpoints and files came in. */
	ir_ruleset_normalize(cx.rs);
	*ret = cx.rs;
	cx.rs = NULL;
out:
	ir_ruleset_free(cx.rs);
	compile_ctx_done(&cx);
	return r;
}
