/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Set contents: which endpoints a group or inline match selects, and the address intervals of
 * nets and {cidr, except} selectors.
 *
 * Membership is asked once per group and once per inline selector; with thousands of both and
 * tens of thousands of endpoints a full scan each time is the compiler's whole cost. So the
 * endpoints are indexed by label (key=value -> endpoints), a match with labels only looks at
 * the endpoints carrying its rarest label, and endpoint_matches() has the last word.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile_internal.h"
#include "util.h"

struct compile_posting {
	const char *key, *value; /* borrowed from the endpoint set; NULL key: empty slot */
	uint64_t hash;
	size_t *ids;
	size_t n, cap;
};

struct compile_members {
	const struct endpoint_set *eps;
	struct compile_posting *tab; /* open addressing, linear probing */
	size_t tab_cap;		     /* power of two */
	size_t *all;		     /* 0..n-1: candidates for matches without labels */
	size_t *out;		     /* query result */
};

static uint64_t compile_label_hash(const char *k, const char *v)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *k; k++)
		h = (h ^ (uint8_t)*k) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull; /* separator no key byte can be */
	for (; *v; v++)
		h = (h ^ (uint8_t)*v) * 1099511628211ull;
	return h;
}

static struct compile_posting *compile_posting_find(const struct compile_members *m, const char *k,
						    const char *v, bool *ret_new)
{
	uint64_t h = compile_label_hash(k, v);
	size_t mask = m->tab_cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct compile_posting *p = &m->tab[i];

		if (!p->key) {
			if (ret_new) {
				p->hash = h;
				*ret_new = true;
				return p;
			}
			return NULL;
		}
		if (p->hash == h && strcmp(p->key, k) == 0 && strcmp(p->value, v) == 0)
			return p;
	}
}

void compile_members_free(struct compile_members *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->tab_cap; i++)
		free(m->tab[i].ids);
	free(m->tab);
	free(m->all);
	free(m->out);
	free(m);
}

int compile_members_new(const struct endpoint_set *eps, struct compile_members **ret)
{
	struct compile_members *m = calloc(1, sizeof(*m));
	size_t nlabels = 0, n = eps ? eps->n : 0;

	if (!m)
		return -ENOMEM;
	m->eps = eps;
	for (size_t i = 0; i < n; i++)
		nlabels += eps->items[i].nlabels;
	/* At most half full, so probes stay short. */
	m->tab_cap = 16;
	while (m->tab_cap < nlabels * 2)
		m->tab_cap *= 2;
	m->tab = calloc(m->tab_cap, sizeof(*m->tab));
	m->all = calloc(n + 1, sizeof(*m->all));
	m->out = calloc(n + 1, sizeof(*m->out));
	if (!m->tab || !m->all || !m->out)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		const struct endpoint *e = &eps->items[i];

		m->all[i] = i;
		for (size_t j = 0; j < e->nlabels; j++) {
			const struct policy_label *l = &e->labels[j];
			bool fresh = false;
			struct compile_posting *p =
			    compile_posting_find(m, l->key, l->value, &fresh);

			if (fresh) {
				p->key = l->key;
				p->value = l->value;
			}
			if (p->n && p->ids[p->n - 1] == i)
				continue; /* the same label twice on one endpoint */
			if (GROW(p->ids, p->cap, p->n + 1, 4) < 0)
				goto oom;
			p->ids[p->n++] = i;
		}
	}
	*ret = m;
	return 0;
oom:
	compile_members_free(m);
	return -ENOMEM;
}

/* Length of GLOB's leading run of ordinary characters, which any match must start with
 * (fnmatch without flags: only '*', '?', '[' and '\\' are special). */
static size_t compile_glob_literal(const char *glob)
{
	return strcspn(glob, "*?[\\");
}

int compile_members_query(struct compile_members *idx, const struct policy_match *m,
			  const size_t **ret, size_t *ret_n)
{
	const size_t *cand = idx->all;
	size_t ncand = idx->eps ? idx->eps->n : 0, n = 0;

	for (size_t i = 0; i < m->nlabels; i++) {
		struct compile_posting *p =
		    compile_posting_find(idx, m->labels[i].key, m->labels[i].value, NULL);

		if (!p) {
			ncand = 0;
			break;
		}
		if (p->n < ncand || cand == idx->all) {
			cand = p->ids;
			ncand = p->n;
		}
	}
	/* fnmatch() on every endpoint is the cost of glob groups; most globs start with a
	 * literal ("registry.local/ci/" then a star), and a strncmp rules out nearly everything
	 * first. */
	size_t name_lit = m->name_glob ? compile_glob_literal(m->name_glob) : 0;
	size_t image_lit = m->image_glob ? compile_glob_literal(m->image_glob) : 0;

	for (size_t i = 0; i < ncand; i++) {
		const struct endpoint *e = &idx->eps->items[cand[i]];

		if (name_lit && (!e->name || strncmp(e->name, m->name_glob, name_lit) != 0))
			continue;
		if (image_lit && (!e->image || strncmp(e->image, m->image_glob, image_lit) != 0))
			continue;
		if (endpoint_matches(e, m))
			idx->out[n++] = cand[i];
	}
	*ret = idx->out;
	*ret_n = n;
	return 0;
}

int compile_members_fill(struct compile_ctx *cx, const struct policy_match *m, enum compile_fam fam,
			 struct ir_set *s)
{
	int af = fam == COMPILE_V6 ? AF_INET6 : AF_INET;
	const size_t *ids;
	size_t n;
	int r = compile_members_query(cx->members, m, &ids, &n);

	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct endpoint *e = &cx->in->endpoints->items[ids[i]];

		for (size_t j = 0; r == 0 && j < e->naddrs; j++) {
			struct ir_elem el = {0};

			if (e->addrs[j].family != af)
				continue;
			el.key[0] = ir_value_addr(af, e->addrs[j].addr, af == AF_INET6 ? 128 : 32);
			r = ir_elem_add(s, &el);
		}
	}
	return r;
}

/* --- address intervals --- */

bool compile_endpoint_in_set(const struct endpoint *ep, enum compile_fam fam,
			     const struct ir_set *s)
{
	int af = fam == COMPILE_V6 ? AF_INET6 : AF_INET;
	size_t len = fam == COMPILE_V6 ? 16 : 4;

	for (size_t i = 0; i < ep->naddrs; i++) {
		if (ep->addrs[i].family != af)
			continue;
		for (size_t j = 0; j < s->n; j++) {
			const struct ir_elem *e = &s->elems[j];
			const struct ir_value *hi = e->key_end[0].len ? &e->key_end[0] : &e->key[0];

			if (memcmp(ep->addrs[i].addr, e->key[0].data, len) >= 0 &&
			    memcmp(ep->addrs[i].addr, hi->data, len) <= 0)
				return true;
		}
	}
	return false;
}

bool compile_cidrs_have(const struct policy_cidr *cidrs, size_t n, enum compile_fam fam)
{
	int af = fam == COMPILE_V6 ? AF_INET6 : AF_INET;

	for (size_t i = 0; i < n; i++)
		if (cidrs[i].family == af)
			return true;
	return false;
}

/* [lo, hi] of a prefix: network address and broadcast-like last address. */
static void compile_cidr_range(const struct policy_cidr *c, struct ir_value *lo,
			       struct ir_value *hi)
{
	*lo = ir_value_addr(c->family, c->addr, c->prefix);
	*hi = *lo;
	for (int i = 0; i < hi->len; i++) {
		int keep = c->prefix - i * 8;

		if (keep < 8)
			hi->data[i] |= keep <= 0 ? 0xff : (uint8_t)(0xff >> keep);
	}
	lo->prefix = hi->prefix = (uint8_t)(lo->len * 8);
}

/* V +/- 1 in place (big-endian); false on wrap-around. */
static bool compile_value_step(struct ir_value *v, int delta)
{
	for (int i = v->len - 1; i >= 0; i--) {
		if (delta > 0 && ++v->data[i] != 0)
			return true;
		if (delta < 0 && v->data[i]-- != 0)
			return true;
	}
	return false;
}

static int compile_value_cmp(const struct ir_value *a, const struct ir_value *b)
{
	return memcmp(a->data, b->data, a->len);
}

struct compile_range {
	struct ir_value lo, hi;
};

static int compile_range_cmp(const void *pa, const void *pb)
{
	const struct compile_range *a = pa, *b = pb;

	return compile_value_cmp(&a->lo, &b->lo);
}

/* Sorts R[0..n) and merges overlapping ranges; the count left. */
static size_t compile_ranges_merge(struct compile_range *r, size_t n)
{
	size_t out = 0;

	qsort(r, n, sizeof(*r), compile_range_cmp);
	for (size_t i = 0; i < n; i++) {
		if (out && compile_value_cmp(&r[i].lo, &r[out - 1].hi) <= 0) {
			if (compile_value_cmp(&r[i].hi, &r[out - 1].hi) > 0)
				r[out - 1].hi = r[i].hi;
			continue;
		}
		r[out++] = r[i];
	}
	return out;
}

static int compile_add_range(struct ir_set *s, const struct ir_value *lo, const struct ir_value *hi)
{
	struct ir_elem e = {0};

	e.key[0] = *lo;
	e.key_end[0] = *hi;
	return ir_elem_add(s, &e);
}

/*
 * The disjoint sorted intervals of IN minus the disjoint sorted ranges X[0..nx), into OUT: one
 * sweep over both, where removing each except from every interval was quadratic (40k excepts
 * of one cidr took the agent 15 s).
 */
static int compile_subtract(const struct ir_set *in, const struct compile_range *x, size_t nx,
			    struct ir_set *out)
{
	size_t j = 0;

	for (size_t i = 0; i < in->n; i++) {
		struct ir_value cur = in->elems[i].key[0];
		const struct ir_value *end = &in->elems[i].key_end[0];
		bool left = true; /* [cur, end] is still to be placed */

		while (j < nx && compile_value_cmp(&x[j].hi, &cur) < 0)
			j++;
		for (size_t k = j; left && k < nx && compile_value_cmp(&x[k].lo, end) <= 0; k++) {
			if (compile_value_cmp(&x[k].lo, &cur) > 0) {
				struct ir_value below = x[k].lo;

				compile_value_step(&below, -1);
				if (compile_add_range(out, &cur, &below) < 0)
					return -ENOMEM;
			}
			/* An except reaching past this interval may cut the next one too: j stays.
			 */
			if (compile_value_cmp(&x[k].hi, end) >= 0)
				left = false;
			else {
				cur = x[k].hi;
				compile_value_step(&cur, +1);
			}
		}
		if (left && compile_add_range(out, &cur, end) < 0)
			return -ENOMEM;
	}
	return 0;
}

int compile_cidr_fill(struct ir_set *s, enum compile_fam fam, const struct policy_cidr *cidrs,
		      size_t n, const struct policy_cidr *except, size_t nexcept)
{
	int af = fam == COMPILE_V6 ? AF_INET6 : AF_INET;
	struct ir_set whole = {.types = {s->types[0]}, .ntypes = 1, .interval = true};
	struct compile_range *x = NULL;
	size_t nx = 0;
	int r = -ENOMEM;

	for (size_t i = 0; i < n; i++) {
		struct ir_elem e = {0};

		if (cidrs[i].family != af)
			continue;
		compile_cidr_range(&cidrs[i], &e.key[0], &e.key_end[0]);
		if (ir_elem_add(&whole, &e) < 0)
			goto out;
	}
	ir_set_normalize(&whole);
	x = calloc(nexcept + 1, sizeof(*x));
	if (!x)
		goto out;
	for (size_t i = 0; i < nexcept; i++) {
		if (except[i].family != af)
			continue;
		compile_cidr_range(&except[i], &x[nx].lo, &x[nx].hi);
		nx++;
	}
	nx = compile_ranges_merge(x, nx);
	r = compile_subtract(&whole, x, nx, s);
	/* Sorted and disjoint already; normalizing sets the values' shape as everywhere. */
	if (r == 0)
		ir_set_normalize(s);
out:
	free(whole.elems);
	free(x);
	return r;
}
