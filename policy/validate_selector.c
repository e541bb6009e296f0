/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A rule's `from` and `to`: reserved words, group and net names, cidr with except, fqdn and
 * inline matches, with located errors as the rest of validate.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "schema.h"
#include "util.h"
#include "validate_dns.h"
#include "validate_internal.h"

static const char *const selector_keys[] = {
    "group",  "net",  "cidr",  "except",	  "fqdn",
    "labels", "name", "image", "compose_service", "network"};
static const struct schema_keys selector_ks = SCHEMA_KEYS("a selector", selector_keys);

static struct policy_term *new_term(struct policy_selector *s, struct loc loc)
{
	if (SCHEMA_GROW(s->terms, s->n) < 0)
		return NULL;
	s->terms[s->n] = (struct policy_term){.loc = loc};
	return &s->terms[s->n++];
}

/* Hint for an unknown group name: a near miss, a net of that name, or an address. */
static const char *undefined_group_hint(struct vctx *v, const char *name, char *hint, size_t len)
{
	const struct policy *p = v->p;
	const char **cands;
	const char *close = NULL;
	struct policy_cidr c;
	size_t n = 0;

	if (find_net(v, name) < p->nnets)
		return schema_hintf(hint, len, "'%s' is a net: write { net: %s }", name, name);
	if (policy_cidr_parse(name, &c) == 0)
		return schema_hintf(hint, len, "for addresses write { cidr: [%s] }", name);
	cands = calloc(p->ngroups + ARRAY_SIZE(reserved_words), sizeof(*cands));
	if (cands) {
		for (size_t i = 0; i < p->ngroups; i++)
			cands[n++] = p->groups[i].name;
		for (size_t i = 0; i < ARRAY_SIZE(reserved_words); i++)
			cands[n++] = reserved_words[i];
		close = diag_closest(name, cands, n);
		close = close ? schema_hintf(hint, len, "did you mean '%s'?", close) : NULL;
		free(cands);
	}
	return close;
}

static bool resolve_group(struct vctx *v, const struct node *n, size_t *ret)
{
	char hint[SCHEMA_HINT_MAX];
	size_t i = find_group(v, n->str);

	if (i < v->p->ngroups) {
		*ret = i;
		return true;
	}
	diag_error(v->d, n->loc, undefined_group_hint(v, n->str, hint, sizeof(hint)),
		   "undefined group '%s'", n->str);
	return false;
}

static bool resolve_net(struct vctx *v, const struct node *n, size_t *ret)
{
	const struct policy *p = v->p;
	const char *cands[64], *close = NULL;
	char hint[SCHEMA_HINT_MAX];
	size_t i = find_net(v, n->str);

	if (i < p->nnets) {
		*ret = i;
		return true;
	}
	/* Beyond 64 nets the hint is best effort; the error is not. */
	for (i = 0; i < p->nnets && i < ARRAY_SIZE(cands); i++)
		cands[i] = p->nets[i].name;
	close = diag_closest(n->str, cands, i);
	diag_error(v->d, n->loc,
		   close ? schema_hintf(hint, sizeof(hint), "did you mean '%s'?", close) : NULL,
		   "undefined net '%s'", n->str);
	return false;
}

static int term_from_name(struct vctx *v, const struct node *n, struct policy_selector *s)
{
	static const enum policy_term_kind kinds[] = {POLICY_TERM_CONTAINERS, POLICY_TERM_WORLD,
						      POLICY_TERM_HOST, POLICY_TERM_ANY};
	size_t w = index_of(n->str, reserved_words, ARRAY_SIZE(reserved_words));
	struct policy_term *t;
	struct loc loc;
	size_t g = 0;

	if (w == ARRAY_SIZE(reserved_words) && !resolve_group(v, n, &g))
		return 0;
	if (schema_own_loc(&v->p->files, &v->p->nfiles, n->loc, &loc) < 0 ||
	    !(t = new_term(s, loc)))
		return -ENOMEM;
	t->kind = w < ARRAY_SIZE(reserved_words) ? kinds[w] : POLICY_TERM_GROUP;
	t->group = g;
	return 0;
}

static int cidr_order(const void *pa, const void *pb)
{
	const struct policy_cidr *a = pa, *b = pb;
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, a->family == AF_INET6 ? 16 : 4);
	if (c)
		return c;
	return (a->prefix > b->prefix) - (a->prefix < b->prefix);
}

/*
 * CIDRS[0..n) sorted, without those inside another: what is left is disjoint, so the one
 * that can contain a prefix is the last starting at or before it. The count left.
 */
static size_t cidrs_outermost(struct policy_cidr *c, size_t n)
{
	size_t out = 0;

	qsort(c, n, sizeof(*c), cidr_order);
	for (size_t i = 0; i < n; i++)
		if (out == 0 || !policy_cidr_contains(&c[out - 1], &c[i]))
			c[out++] = c[i];
	return out;
}

/* Whether C lies inside one of OUTER[0..n) (as cidrs_outermost() leaves them). */
static bool cidrs_cover(const struct policy_cidr *outer, size_t n, const struct policy_cidr *c)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cidr_order(&outer[mid], c) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && policy_cidr_contains(&outer[lo - 1], c);
}

/*
 * except entries must each lie inside one of the cidrs, or they are a typo. One binary search
 * each, not a scan of the cidrs: both lists may be 100k long.
 */
static int check_except(struct vctx *v, const struct node *exc, const struct policy_term *t)
{
	struct policy_cidr *outer = calloc(t->ncidrs + 1, sizeof(*outer));
	size_t k = 0, nouter;

	if (!outer)
		return -ENOMEM;
	if (t->ncidrs) /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(outer, t->cidrs, t->ncidrs * sizeof(*outer));
	nouter = cidrs_outermost(outer, t->ncidrs);
	for (size_t i = 0; i < exc->n && k < t->nexcept; i++) {
		const struct node *n = exc->items[i];
		struct policy_cidr tmp;

		/* Entries that failed to parse were skipped; re-parse to keep nodes and cidrs
		 * aligned. */
		if (!schema_is_str(n) || policy_cidr_parse(n->str, &tmp) < 0 ||
		    policy_cidr_v4_mapped(&tmp, NULL) || policy_cidr_mask(&tmp))
			continue;
		if (!cidrs_cover(outer, nouter, &t->except[k]))
			diag_error(v->d, n->loc, NULL,
				   "except '%s' is not inside any cidr of its selector", n->str);
		k++;
	}
	free(outer);
	return 0;
}

static int cidr_term(struct vctx *v, const struct node *m, struct policy_term *t)
{
	struct node *cidr = node_map_get(m, "cidr", NULL), *except;
	struct node *ekey;
	int r;

	except = node_map_get(m, "except", &ekey);
	t->kind = POLICY_TERM_CIDR;
	if (!cidr) {
		diag_error(v->d, ekey->loc, "add the 'cidr' it carves from",
			   "'except' needs 'cidr'");
		return 0;
	}
	r = validate_cidrs(v, cidr, "cidr", false, &t->cidrs, &t->ncidrs);
	if (r < 0 || !except)
		return r;
	r = validate_cidrs(v, except, "except", true, &t->except, &t->nexcept);
	if (r == 0 && except->kind == NODE_SEQ)
		r = check_except(v, except, t);
	return r;
}

enum sel_kind { SEL_GROUP, SEL_NET, SEL_CIDR, SEL_FQDN, SEL_MATCH, SEL_KINDS };

static enum sel_kind sel_kind_of(const char *key)
{
	if (!strcmp(key, "group"))
		return SEL_GROUP;
	if (!strcmp(key, "net"))
		return SEL_NET;
	if (!strcmp(key, "cidr") || !strcmp(key, "except"))
		return SEL_CIDR;
	if (!strcmp(key, "fqdn"))
		return SEL_FQDN;
	return in_list(key, match_keys, ARRAY_SIZE(match_keys)) ? SEL_MATCH : SEL_KINDS;
}

/*
 * Which kind of selector mapping M is. Mixing kinds ({group, net}) is an error rather than an
 * implicit AND or OR: the user asked for one of them and we cannot tell which.
 */
static bool sel_kind_from_map(struct vctx *v, const struct node *m, enum sel_kind *ret)
{
	const struct node *first = NULL;
	enum sel_kind kind = SEL_KINDS;

	for (size_t i = 0; i < m->n; i++) {
		enum sel_kind k = sel_kind_of(m->keys[i]->str);

		if (k == SEL_KINDS)
			continue; /* unknown key, reported by check_keys */
		if (kind == SEL_KINDS) {
			kind = k;
			first = m->keys[i];
		} else if (k != kind) {
			diag_error(v->d, m->keys[i]->loc, "use a list of selectors for a union",
				   "'%s' cannot be combined with '%s' in one selector",
				   m->keys[i]->str, first->str);
			return false;
		}
	}
	*ret = kind;
	return kind != SEL_KINDS;
}

static int term_from_map(struct vctx *v, const struct node *m, const char *what,
			 struct policy_selector *s)
{
	struct node *val, *key;
	struct policy_term *t;
	enum sel_kind kind;
	struct loc loc;

	if (m->n == 0) {
		diag_error(v->d, m->loc, "name a group, or use containers, world, host or any",
			   "empty selector");
		return 0;
	}
	schema_check_keys(v->d, m, &selector_ks);
	if (!sel_kind_from_map(v, m, &kind))
		return 0;
	if (kind == SEL_FQDN && strcmp(what, "to") != 0) {
		node_map_get(m, "fqdn", &key);
		diag_error(v->d, key->loc, "put the names in 'to' of an allow rule",
			   "fqdn cannot be used in '%s': a DNS name says nothing about who sends "
			   "a packet",
			   what);
		return 0;
	}
	if (schema_own_loc(&v->p->files, &v->p->nfiles, m->loc, &loc) < 0 ||
	    !(t = new_term(s, loc)))
		return -ENOMEM;
	switch (kind) {
	case SEL_GROUP:
		t->kind = POLICY_TERM_GROUP;
		val = node_map_get(m, "group", NULL);
		if (schema_want_str(v->d, val, "group"))
			resolve_group(v, val, &t->group);
		return 0;
	case SEL_NET:
		t->kind = POLICY_TERM_NET;
		val = node_map_get(m, "net", NULL);
		if (schema_want_str(v->d, val, "net"))
			resolve_net(v, val, &t->net);
		return 0;
	case SEL_CIDR:
		return cidr_term(v, m, t);
	case SEL_FQDN:
		t->kind = POLICY_TERM_FQDN;
		return validate_fqdn_list(v->d, node_map_get(m, "fqdn", NULL), t);
	default:
		t->kind = POLICY_TERM_MATCH;
		return validate_match(v, m, &t->match);
	}
}

static int term_from_node(struct vctx *v, const struct node *n, const char *what,
			  struct policy_selector *s)
{
	if (schema_is_str(n))
		return term_from_name(v, n, s);
	if (n->kind == NODE_MAP)
		return term_from_map(v, n, what, s);
	schema_type_error(v->d, n, what, "a name, a mapping or a list of them");
	return 0;
}

int validate_selector(struct vctx *v, const struct node *n, const char *what,
		      struct policy_selector *s)
{
	int r;

	if (n->kind != NODE_SEQ)
		return term_from_node(v, n, what, s);
	if (n->n == 0) {
		diag_error(v->d, n->loc, "name a group, or use containers, world, host or any",
			   "'%s' must not be empty", what);
		return 0;
	}
	for (size_t i = 0; i < n->n; i++) {
		if (n->items[i]->kind == NODE_SEQ) {
			schema_type_error(v->d, n->items[i], what, "a name or a mapping");
			continue;
		}
		if ((r = term_from_node(v, n->items[i], what, s)) < 0)
			return r;
	}
	return 0;
}
