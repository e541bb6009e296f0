/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ir.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

/*
 * Ownership: the ruleset owns its tables, their sets, chains, rules and elements, and every
 * string in ->strings. Statements and verdicts only borrow names, so the builders hand out
 * pointers into the ruleset (ir_strdup, set->name, chain->name) for callers to store.
 */

struct ir_ruleset *ir_ruleset_new(void)
{
	return calloc(1, sizeof(struct ir_ruleset));
}

static void ir_chain_free(struct ir_chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->rules[i].stmts);
	free(c->rules);
	free(c);
}

static void ir_table_free(struct ir_table *t)
{
	for (size_t i = 0; i < t->nsets; i++) {
		free(t->sets[i]->elems);
		free(t->sets[i]);
	}
	for (size_t i = 0; i < t->nchains; i++)
		ir_chain_free(t->chains[i]);
	free(t->sets);
	free(t->set_slots);
	free(t->chains);
	free(t->counters);
	free(t);
}

void ir_ruleset_free(struct ir_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		ir_table_free(rs->tables[i]);
	for (size_t i = 0; i < rs->nstrings; i++)
		free(rs->strings[i]);
	free(rs->tables);
	free(rs->strings);
	free(rs);
}

const char *ir_strdup(struct ir_ruleset *rs, const char *s)
{
	char *d;

	if (GROW(rs->strings, rs->strings_cap, rs->nstrings + 1, 8) < 0)
		return NULL;
	d = strdup(s);
	if (!d)
		return NULL;
	rs->strings[rs->nstrings++] = d;
	return d;
}

struct ir_table *ir_table_add(struct ir_ruleset *rs, enum ir_family family, const char *name)
{
	struct ir_table *t;

	if (GROW(rs->tables, rs->cap, rs->n + 1, 8) < 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->family = family;
	t->name = ir_strdup(rs, name);
	if (!t->name) {
		free(t);
		return NULL;
	}
	rs->tables[rs->n++] = t;
	return t;
}

struct ir_table *ir_table_find(const struct ir_ruleset *rs, enum ir_family family, const char *name)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->tables[i]->family == family && strcmp(rs->tables[i]->name, name) == 0)
			return rs->tables[i];
	return NULL;
}

int ir_counter_add(struct ir_ruleset *rs, struct ir_table *t, const char *name)
{
	const char *s;

	if (GROW(t->counters, t->counters_cap, t->ncounters + 1, 8) < 0)
		return -ENOMEM;
	s = ir_strdup(rs, name);
	if (!s)
		return -ENOMEM;
	t->counters[t->ncounters++] = s;
	return 0;
}

static uint32_t ir_name_hash(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h;
}

/* The slot of NAME: its set's, or the empty one where it would go. */
static uint32_t *ir_set_slot(const struct ir_table *t, const char *name)
{
	size_t mask = t->set_slots_cap - 1, i = ir_name_hash(name) & mask;

	while (t->set_slots[i] && strcmp(t->sets[t->set_slots[i] - 1]->name, name) != 0)
		i = (i + 1) & mask;
	return &t->set_slots[i];
}

/* Keeps the slots at most half full, so a probe ends soon. */
static int ir_set_slots_reserve(struct ir_table *t)
{
	size_t cap = t->set_slots_cap ? t->set_slots_cap : 64;
	uint32_t *old = t->set_slots;
	size_t old_cap = t->set_slots_cap;

	if (old && (t->nsets + 1) * 2 <= old_cap)
		return 0;
	while ((t->nsets + 1) * 2 > cap)
		cap *= 2;
	t->set_slots = calloc(cap, sizeof(*t->set_slots));
	if (!t->set_slots) {
		t->set_slots = old;
		return -ENOMEM;
	}
	t->set_slots_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			*ir_set_slot(t, t->sets[old[i] - 1]->name) = old[i];
	free(old);
	return 0;
}

struct ir_set *ir_set_add(struct ir_ruleset *rs, struct ir_table *t, const char *name,
			  const enum ir_type *types, size_t ntypes, bool interval)
{
	struct ir_set *s;

	if (ntypes == 0 || ntypes > IR_CONCAT_MAX || t->nsets >= UINT32_MAX - 1)
		return NULL;
	if (GROW(t->sets, t->sets_cap, t->nsets + 1, 8) < 0 || ir_set_slots_reserve(t) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->name = ir_strdup(rs, name);
	if (!s->name) {
		free(s);
		return NULL;
	}
	memcpy(s->types, types, ntypes * sizeof(*types));
	s->ntypes = (uint8_t)ntypes;
	s->interval = interval;
	t->sets[t->nsets++] = s;
	/* A second set of one name (never made) would stay unfindable, as the first one
	 * found is what the linear search returned. */
	uint32_t *slot = ir_set_slot(t, s->name);

	if (!*slot)
		*slot = (uint32_t)t->nsets;
	return s;
}

struct ir_set *ir_set_find_index(const struct ir_table *t, const char *name, size_t *ret_idx)
{
	uint32_t slot;

	if (!t->set_slots_cap)
		return NULL;
	slot = *ir_set_slot(t, name);
	if (!slot)
		return NULL;
	if (ret_idx)
		*ret_idx = slot - 1;
	return t->sets[slot - 1];
}

struct ir_set *ir_set_find(const struct ir_table *t, const char *name)
{
	return ir_set_find_index(t, name, NULL);
}

struct ir_chain *ir_chain_add(struct ir_ruleset *rs, struct ir_table *t, const char *name)
{
	struct ir_chain *c;

	if (GROW(t->chains, t->chains_cap, t->nchains + 1, 8) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->name = ir_strdup(rs, name);
	if (!c->name) {
		free(c);
		return NULL;
	}
	t->chains[t->nchains++] = c;
	return c;
}

struct ir_chain *ir_chain_find(const struct ir_table *t, const char *name)
{
	for (size_t i = 0; i < t->nchains; i++)
		if (strcmp(t->chains[i]->name, name) == 0)
			return t->chains[i];
	return NULL;
}

struct ir_rule *ir_rule_add(struct ir_chain *c)
{
	struct ir_rule *r;

	if (GROW(c->rules, c->cap, c->n + 1, 8) < 0)
		return NULL;
	r = &c->rules[c->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

int ir_rule_push(struct ir_rule *r, const struct ir_stmt *s)
{
	if (GROW(r->stmts, r->cap, r->n + 1, 8) < 0)
		return -ENOMEM;
	r->stmts[r->n++] = *s;
	return 0;
}

int ir_rule_add_owned(struct ir_chain *c, struct ir_stmt *stmts, size_t n)
{
	struct ir_rule *r = ir_rule_add(c);

	if (!r)
		return -ENOMEM;
	*r = (struct ir_rule){.stmts = stmts, .n = n, .cap = n};
	return 0;
}

int ir_rule_add_copy(struct ir_chain *c, const struct ir_stmt *stmts, size_t n)
{
	struct ir_stmt *v = reallocarray(NULL, n ? n : 1, sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	if (n)
		memcpy(v, stmts, n * sizeof(*v));
	r = ir_rule_add_owned(c, v, n);
	if (r < 0)
		free(v);
	return r;
}

int ir_chain_reserve(struct ir_chain *c, size_t n)
{
	struct ir_rule *v;

	if (c->cap - c->n >= n)
		return 0;
	v = reallocarray(c->rules, c->n + n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->rules = v;
	c->cap = c->n + n;
	return 0;
}

int ir_elem_add(struct ir_set *s, const struct ir_elem *e)
{
	if (GROW(s->elems, s->cap, s->n + 1, 8) < 0)
		return -ENOMEM;
	s->elems[s->n++] = *e;
	return 0;
}

/* --- normalization --- */

static int ir_value_cmp(const struct ir_value *a, const struct ir_value *b)
{
	size_t la = a->len, lb = b->len;
	int r = memcmp(a->data, b->data, la < lb ? la : lb);

	if (r)
		return r;
	return la < lb ? -1 : la > lb;
}

static int ir_verdict_cmp(const struct ir_verdict *a, const struct ir_verdict *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (!a->chain || !b->chain)
		return (a->chain != NULL) - (b->chain != NULL);
	return strcmp(a->chain, b->chain);
}

/* Compares components [0, n) of keys, then (for intervals) of ends. */
static int ir_elem_cmp_n(const struct ir_elem *a, const struct ir_elem *b, size_t n, bool interval)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		r = ir_value_cmp(&a->key[i], &b->key[i]);
		if (r)
			return r;
		if (interval) {
			r = ir_value_cmp(&a->key_end[i], &b->key_end[i]);
			if (r)
				return r;
		}
	}
	return 0;
}

/* qsort has no context argument; the comparison needs the set's shape. Sorting happens on one
 * thread at a time per process in practice, but keep it reentrant anyway with qsort_r. */
struct ir_sort_ctx {
	size_t n;
	bool interval;
	bool is_vmap;
};

static int ir_elem_qcmp(const void *pa, const void *pb, void *pctx)
{
	const struct ir_sort_ctx *ctx = pctx;
	const struct ir_elem *a = pa, *b = pb;
	int r = ir_elem_cmp_n(a, b, ctx->n, ctx->interval);

	if (r || !ctx->is_vmap)
		return r;
	/* Same key with different verdicts: order them too, so the survivor is deterministic. */
	return ir_verdict_cmp(&a->verdict, &b->verdict);
}

/* Whether B starts at or before the successor of A's end, i.e. [a] and [b] overlap or touch. */
static bool ir_value_reaches(const struct ir_value *a_end, const struct ir_value *b_start)
{
	uint8_t succ[IR_IFNAMSIZ];
	size_t len = a_end->len;
	int i;

	if (ir_value_cmp(b_start, a_end) <= 0)
		return true;
	memcpy(succ, a_end->data, len);
	for (i = (int)len - 1; i >= 0; i--)
		if (++succ[i] != 0)
			break;
	if (i < 0)
		return true; /* a_end is the largest value: nothing can start after it */
	return memcmp(b_start->data, succ, len) <= 0;
}

static void ir_set_fix_values(struct ir_set *s)
{
	/* Elements are full values: a prefix length inside a set would mean nothing. Intervals
	 * carry the range in key/key_end; single-value sets keep key_end zeroed so comparison
	 * and dedup only see the key. */
	for (size_t i = 0; i < s->n; i++) {
		struct ir_elem *e = &s->elems[i];

		for (size_t k = 0; k < s->ntypes; k++) {
			e->key[k].prefix = (uint8_t)(e->key[k].len * 8);
			if (s->interval) {
				if (e->key_end[k].len == 0)
					e->key_end[k] = e->key[k];
				e->key_end[k].prefix = (uint8_t)(e->key_end[k].len * 8);
			} else {
				memset(&e->key_end[k], 0, sizeof(e->key_end[k]));
			}
		}
		for (size_t k = s->ntypes; k < IR_CONCAT_MAX; k++) {
			memset(&e->key[k], 0, sizeof(e->key[k]));
			memset(&e->key_end[k], 0, sizeof(e->key_end[k]));
		}
		if (!s->is_vmap)
			memset(&e->verdict, 0, sizeof(e->verdict));
	}
}

void ir_set_normalize(struct ir_set *s)
{
	struct ir_sort_ctx ctx = {.n = s->ntypes, .interval = s->interval, .is_vmap = s->is_vmap};
	size_t last = s->ntypes ? s->ntypes - 1 : 0;
	size_t out = 0;

	if (s->n == 0)
		return;
	ir_set_fix_values(s);
	/* Inventory often arrives in address order already; a linear check skips the sort. */
	for (size_t i = 1; i < s->n; i++) {
		if (ir_elem_qcmp(&s->elems[i - 1], &s->elems[i], &ctx) > 0) {
			qsort_r(s->elems, s->n, sizeof(*s->elems), ir_elem_qcmp, &ctx);
			break;
		}
	}

	for (size_t i = 0; i < s->n; i++) {
		struct ir_elem *e = &s->elems[i];
		struct ir_elem *prev = out ? &s->elems[out - 1] : NULL;

		if (prev && !s->interval) {
			if (ir_elem_cmp_n(prev, e, s->ntypes, false) == 0)
				continue; /* duplicate key: the first (smallest verdict) wins */
		} else if (prev) {
			/* Interval: merge when the leading components are identical and the last
			 * component's ranges overlap or touch. Sorted by start, so a merge only
			 * ever extends prev's end. */
			if (ir_elem_cmp_n(prev, e, last, true) == 0 &&
			    (!s->is_vmap || ir_verdict_cmp(&prev->verdict, &e->verdict) == 0) &&
			    ir_value_reaches(&prev->key_end[last], &e->key[last])) {
				if (ir_value_cmp(&e->key_end[last], &prev->key_end[last]) > 0)
					prev->key_end[last] = e->key_end[last];
				continue;
			}
		}
		if (out != i)
			s->elems[out] = *e;
		out++;
	}
	s->n = out;
}

void ir_ruleset_normalize(struct ir_ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		for (size_t j = 0; j < rs->tables[i]->nsets; j++)
			ir_set_normalize(rs->tables[i]->sets[j]);
}

/* --- values --- */

int ir_key_len(enum ir_key k)
{
	switch (k) {
	case IR_KEY_IIFNAME:
	case IR_KEY_OIFNAME:
		return IR_IFNAMSIZ;
	case IR_KEY_MARK:
	case IR_KEY_CT_STATE:
	case IR_KEY_IP_SADDR:
	case IR_KEY_IP_DADDR:
	case IR_KEY_ARP_SADDR_IP:
		return 4;
	case IR_KEY_PKTTYPE:
	case IR_KEY_L4PROTO:
	case IR_KEY_ICMPV6_TYPE:
		return 1;
	case IR_KEY_ETHER_TYPE:
	case IR_KEY_TH_DPORT:
	case IR_KEY_TH_SPORT:
		return 2;
	case IR_KEY_IP6_SADDR:
	case IR_KEY_IP6_DADDR:
	case IR_KEY_ND_TARGET:
		return 16;
	}
	return -EINVAL;
}

enum ir_type ir_type_of_key(enum ir_key k)
{
	switch (k) {
	case IR_KEY_IIFNAME:
	case IR_KEY_OIFNAME:
		return IR_TYPE_IFNAME;
	case IR_KEY_IP_SADDR:
	case IR_KEY_IP_DADDR:
	case IR_KEY_ARP_SADDR_IP:
		return IR_TYPE_IPV4;
	case IR_KEY_IP6_SADDR:
	case IR_KEY_IP6_DADDR:
		return IR_TYPE_IPV6;
	case IR_KEY_L4PROTO:
		return IR_TYPE_INET_PROTO;
	case IR_KEY_TH_DPORT:
	case IR_KEY_TH_SPORT:
		return IR_TYPE_INET_SERVICE;
	case IR_KEY_ICMPV6_TYPE:
		return IR_TYPE_ICMPV6_TYPE;
	case IR_KEY_ND_TARGET:
		return IR_TYPE_ND_TARGET;
	default:
		break;
	}
	return (enum ir_type) - 1; /* not a set key: callers never ask (see ir.h) */
}

int ir_type_len(enum ir_type t)
{
	switch (t) {
	case IR_TYPE_IFNAME:
		return IR_IFNAMSIZ;
	case IR_TYPE_IPV4:
		return 4;
	case IR_TYPE_IPV6:
	case IR_TYPE_ND_TARGET:
		return 16;
	case IR_TYPE_INET_PROTO:
	case IR_TYPE_ICMPV6_TYPE:
		return 1;
	case IR_TYPE_INET_SERVICE:
		return 2;
	}
	return -EINVAL;
}

struct ir_value ir_value_ifname(const char *name)
{
	struct ir_value v = {.len = IR_IFNAMSIZ, .prefix = IR_IFNAMSIZ * 8};
	size_t n = strnlen(name, IR_IFNAMSIZ - 1);

	memcpy(v.data, name, n); /* NUL padded, as the kernel compares all 16 bytes */
	return v;
}

struct ir_value ir_value_u8(uint8_t x)
{
	struct ir_value v = {.len = 1, .prefix = 8};

	v.data[0] = x;
	return v;
}

struct ir_value ir_value_be16(uint16_t x)
{
	struct ir_value v = {.len = 2, .prefix = 16};

	v.data[0] = (uint8_t)(x >> 8);
	v.data[1] = (uint8_t)x;
	return v;
}

struct ir_value ir_value_u32_host(uint32_t x)
{
	struct ir_value v = {.len = 4, .prefix = 32};

	memcpy(v.data, &x, sizeof(x));
	return v;
}

struct ir_value ir_value_addr(int family, const uint8_t *addr, int prefix)
{
	struct ir_value v = {0};
	int bits;

	v.len = family == AF_INET6 ? 16 : 4;
	bits = v.len * 8;
	if (prefix < 0 || prefix > bits)
		prefix = bits;
	v.prefix = (uint8_t)prefix;
	memcpy(v.data, addr, v.len);
	/* Host bits cleared: the kernel compares (addr & mask) with the value, so set bits
	 * there would make a prefix match that never matches. */
	for (int i = 0; i < v.len; i++) {
		int keep = prefix - i * 8;

		if (keep >= 8)
			continue;
		v.data[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
	return v;
}
