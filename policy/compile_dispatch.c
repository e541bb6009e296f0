/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The port dispatch of the policy chains (docs/design.md, "The policy chains"): the lines of
 * rules with tcp/udp/sctp ports, queued by compile_rules.c, placed into segment chains by the
 * packet's port, reached through one interval map per protocol.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_internal.h"
#include "util.h"

/* The line indices of one elementary port interval, or of one segment chain's lines. */
struct compile_idx {
	size_t *v;
	size_t n, cap;
};

static int compile_idx_push(struct compile_idx *x, size_t v)
{
	if (GROW(x->v, x->cap, x->n + 1, 4) < 0)
		return -ENOMEM;
	x->v[x->n++] = v;
	return 0;
}

static bool compile_idx_eq(const struct compile_idx *a, const struct compile_idx *b)
{
	return a->n == b->n && (a->n == 0 || memcmp(a->v, b->v, a->n * sizeof(*a->v)) == 0);
}

static int compile_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* First index in sorted B[0..n) whose value is >= V. */
static size_t compile_lower_bound(const uint32_t *b, size_t n, uint32_t v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One dispatch under construction: its maps (one per protocol) and its segment chains, which
 * are shared by every segment with the same lines (a rule's ports rarely overlap another's, so
 * a multi-port rule needs one chain, not one per port). */
struct compile_dispatch {
	struct compile_ctx *cx;
	struct ir_table *t;
	struct ir_chain *c;
	struct compile_port_lines *pl;
	struct ir_set *map; /* of the protocol being added; made with its first segment */
	struct compile_idx *seg_lines; /* [segment] */
	struct ir_chain **seg_chains;  /* [segment] */
	size_t nseg, seg_cap;
	/* The segments by their lines, so each new one is looked up, not compared with all
	 * (100k rules with their own ports make 65k segments). */
	struct compile_seg_slot *slots;
	size_t slots_cap;
};

struct compile_seg_slot {
	uint64_t hash;
	size_t seg1; /* 1 + segment index; 0: empty */
};

static uint64_t compile_idx_hash(const struct compile_idx *x)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a over the line indices */

	for (size_t i = 0; i < x->n; i++)
		for (size_t v = x->v[i], b = 0; b < sizeof(v); b++, v >>= 8)
			h = (h ^ (v & 0xff)) * 1099511628211ull;
	return h;
}

/* The slot of the segment with lines IDX (hash H), or the empty one where it would go. */
static size_t compile_seg_probe(const struct compile_dispatch *d, uint64_t h,
				const struct compile_idx *idx)
{
	size_t mask = d->slots_cap - 1, i = (size_t)h & mask;

	for (; d->slots[i].seg1; i = (i + 1) & mask)
		if (idx && d->slots[i].hash == h &&
		    compile_idx_eq(&d->seg_lines[d->slots[i].seg1 - 1], idx))
			break;
	return i;
}

/* Room for one more segment, the slots at most half full. */
static int compile_seg_reserve(struct compile_dispatch *d)
{
	struct compile_seg_slot *old = d->slots;
	size_t old_cap = d->slots_cap;

	if ((d->nseg + 1) * 2 <= d->slots_cap)
		return 0;
	d->slots_cap = old_cap ? old_cap * 2 : 64;
	d->slots = calloc(d->slots_cap, sizeof(*d->slots));
	if (!d->slots) {
		d->slots = old;
		d->slots_cap = old_cap;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].seg1)
			d->slots[compile_seg_probe(d, old[i].hash, NULL)] = old[i];
	free(old);
	return 0;
}

/* The segment chain holding lines IDX (deny lines before allow lines, as queued), made once. */
static int compile_segment_chain(struct compile_dispatch *d, struct compile_idx *idx,
				 struct ir_chain **ret)
{
	uint64_t h = compile_idx_hash(idx);
	char name[64 + 32];
	struct ir_chain *sc;
	size_t slot;
	int r;

	r = compile_seg_reserve(d);
	if (r < 0)
		return r;
	slot = compile_seg_probe(d, h, idx);
	if (d->slots[slot].seg1) {
		*ret = d->seg_chains[d->slots[slot].seg1 - 1];
		return 0;
	}
	if (d->nseg == d->seg_cap) {
		/* Two arrays, one capacity: recorded once both have grown. */
		size_t cap = d->seg_cap, ccap = d->seg_cap;

		if (GROW(d->seg_lines, cap, d->nseg + 1, 8) < 0 ||
		    GROW(d->seg_chains, ccap, d->nseg + 1, 8) < 0)
			return -ENOMEM;
		d->seg_cap = cap;
	}
	snprintf(name, sizeof(name), "pp_%s_%zu", d->c->name, d->nseg);
	sc = ir_chain_add(d->cx->rs, d->t, name);
	if (!sc)
		return -ENOMEM;
	/* No verdict at the end: a packet no line takes returns to the policy chain, on to the
	 * allow lines without ports and the defaults. */
	r = ir_chain_reserve(sc, idx->n);
	for (size_t i = 0; r == 0 && i < idx->n; i++) {
		struct compile_port_line *l = &d->pl->v[idx->v[i]];

		if (l->moved) {
			r = ir_rule_add_copy(sc, l->st, l->n);
		} else {
			r = ir_rule_add_owned(sc, l->st, l->n);
			l->moved = r == 0;
		}
	}
	if (r < 0)
		return r;
	/* The segment takes over IDX's array. */
	d->seg_lines[d->nseg] = *idx;
	d->seg_chains[d->nseg++] = sc;
	d->slots[slot] = (struct compile_seg_slot){.hash = h, .seg1 = d->nseg};
	*idx = (struct compile_idx){0};
	*ret = sc;
	return 0;
}

static const char *compile_proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "sctp";
}

/* pd_<chain>_<proto>: port interval -> verdict. One map per protocol, not one keyed by
 * protocol . port: the kernel keeps a one-field interval map in a tree searched in log n
 * steps, but a concatenation in pipapo, whose lookup walks a bitmap as wide as the map. */
static int compile_dispatch_map(struct compile_dispatch *d, uint8_t proto)
{
	static const enum ir_type types[] = {IR_TYPE_INET_SERVICE};
	char name[64 + 16];

	snprintf(name, sizeof(name), "pd_%s_%s", d->c->name, compile_proto_name(proto));
	d->map = ir_set_add(d->cx->rs, d->t, name, types, 1, true);
	if (!d->map)
		return -ENOMEM;
	d->map->is_vmap = true;
	return 0;
}

/* The sorted, distinct bounds of PROTO's rule ranges: each range's first port and the port
 * after its last. Fewer than two bounds (*RET_NB 0) when no line has a PROTO port. */
static int compile_proto_bounds(const struct compile_dispatch *d, uint8_t proto, uint32_t **ret_b,
				size_t *ret_nb)
{
	const struct policy_rule *rules = d->cx->p->rules;
	const struct compile_port_lines *pl = d->pl;
	uint32_t *b = NULL;
	size_t nb = 0, cap = 0, n = 0;

	for (size_t li = 0; li < pl->n; li++) {
		const struct policy_rule *rule = &rules[pl->v[li].ri];

		/* Rules queue consecutive lines: their bounds once. */
		if (li > 0 && pl->v[li - 1].ri == pl->v[li].ri)
			continue;
		for (size_t i = 0; i < rule->nports; i++) {
			if (rule->ports[i].proto != proto)
				continue;
			if (GROW(b, cap, nb + 2, 64) < 0) {
				free(b);
				return -ENOMEM;
			}
			b[nb++] = rule->ports[i].first;
			b[nb++] = (uint32_t)rule->ports[i].last + 1;
		}
	}
	if (nb > 0)
		qsort(b, nb, sizeof(*b), compile_u32_cmp);
	for (size_t i = 0; i < nb; i++)
		if (n == 0 || b[n - 1] != b[i])
			b[n++] = b[i];
	*ret_b = b;
	*ret_nb = n;
	return 0;
}

/* Lists in IV[k] the lines whose PROTO ports cover elementary interval k, [B[k], B[k+1]-1],
 * in line order, so every interval lists its deny lines before its allow lines. */
static int compile_proto_intervals(const struct compile_dispatch *d, uint8_t proto,
				   const uint32_t *b, size_t nb, struct compile_idx *iv)
{
	const struct policy_rule *rules = d->cx->p->rules;
	const struct compile_port_lines *pl = d->pl;
	size_t niv = nb - 1;

	for (size_t li = 0; li < pl->n; li++) {
		const struct policy_rule *rule = &rules[pl->v[li].ri];

		for (size_t i = 0; i < rule->nports; i++) {
			const struct policy_port *p = &rule->ports[i];

			if (p->proto != proto)
				continue;
			for (size_t k = compile_lower_bound(b, nb, p->first);
			     k < niv && b[k] <= p->last; k++) {
				/* Overlapping ranges of one rule: the line once. */
				if (iv[k].n && iv[k].v[iv[k].n - 1] == li)
					continue;
				if (compile_idx_push(&iv[k], li) < 0)
					return -ENOMEM;
			}
		}
	}
	return 0;
}

/* Maps each run of adjacent intervals with the same lines to one segment chain; the map
 * itself is made on the first element, so a protocol with no lines adds no map. */
static int compile_proto_segments(struct compile_dispatch *d, uint8_t proto, const uint32_t *b,
				  struct compile_idx *iv, size_t niv)
{
	for (size_t k = 0; k < niv; k++) {
		struct ir_elem e = {0};
		struct compile_idx cur;
		struct ir_chain *sc;
		size_t end = k;
		int r;

		if (iv[k].n == 0)
			continue;
		while (end + 1 < niv && compile_idx_eq(&iv[end + 1], &iv[k]))
			end++;
		cur = iv[k];
		iv[k] = (struct compile_idx){0};
		r = compile_segment_chain(d, &cur, &sc);
		free(cur.v);
		if (r == 0 && !d->map)
			r = compile_dispatch_map(d, proto);
		if (r < 0)
			return r;
		e.key[0] = ir_value_be16((uint16_t)b[k]);
		e.key_end[0] = ir_value_be16((uint16_t)(b[end + 1] - 1));
		e.verdict = (struct ir_verdict){.kind = IR_VERDICT_JUMP, .chain = sc->name};
		r = ir_elem_add(d->map, &e);
		if (r < 0)
			return r;
		k = end;
	}
	return 0;
}

/* Adds the segments of protocol PROTO: its port space cut at every rule range boundary,
 * adjacent pieces with the same lines merged, each mapped to its segment chain. */
static int compile_dispatch_proto(struct compile_dispatch *d, uint8_t proto)
{
	struct compile_idx *iv = NULL;
	uint32_t *b = NULL;
	size_t nb = 0, niv = 0;
	int r;

	r = compile_proto_bounds(d, proto, &b, &nb);
	if (r < 0 || nb == 0)
		goto out;
	niv = nb - 1;
	iv = calloc(niv + 1, sizeof(*iv));
	if (!iv) {
		r = -ENOMEM;
		goto out;
	}
	r = compile_proto_intervals(d, proto, b, nb, iv);
	if (r == 0)
		r = compile_proto_segments(d, proto, b, iv, niv);
out:
	for (size_t k = 0; iv && k < niv; k++)
		free(iv[k].v);
	free(iv);
	free(b);
	return r;
}

/*
 * The port dispatch of policy chain C: "meta l4proto P th dport vmap @pd_<C>_<P>" for each
 * protocol P with ports in C's rules, inserted at POS (after the deny lines without ports),
 * jumping to the segment chain of the packet's port, which holds the deny then allow lines of
 * every rule whose ports cover it. A new connection then meets only the lines that can match
 * its port, instead of every line with ports, and every deny that can match it still comes
 * before every allow.
 */
int compile_dispatch(struct compile_ctx *cx, int f, int k, size_t pos)
{
	static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP};
	struct compile_dispatch d = {
	    .cx = cx,
	    .t = k == COMPILE_FLOOD ? cx->bridge : cx->inet,
	    .c = cx->pchains[f][k],
	    .pl = &cx->port_lines[f * COMPILE_PCHAIN_COUNT + k],
	};
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(protos) && d.pl->n; i++) {
		d.map = NULL;
		r = compile_dispatch_proto(&d, protos[i]);
		if (r < 0 || !d.map)
			continue;

		struct ir_stmt line[] = {
		    compile_eq(IR_KEY_L4PROTO, ir_value_u8(protos[i])),
		    {.kind = IR_STMT_MATCH,
		     .match = {.keys = {IR_KEY_TH_DPORT},
			       .nkeys = 1,
			       .op = IR_OP_VMAP,
			       .set = d.map->name}},
		};
		struct ir_rule tmp;

		r = compile_line(d.c, 2, line);
		if (r < 0)
			break;
		/* compile_line appends; move the line up to POS, after the previous protocol's. */
		tmp = d.c->rules[d.c->n - 1];
		memmove(&d.c->rules[pos + 1], &d.c->rules[pos], (d.c->n - 1 - pos) * sizeof(tmp));
		d.c->rules[pos++] = tmp;
	}
	for (size_t i = 0; i < d.nseg; i++)
		free(d.seg_lines[i].v);
	free(d.seg_lines);
	free(d.seg_chains);
	free(d.slots);
	return r;
}
