/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Node trees -> policy model. Every problem becomes one located error at the node that is
 * wrong, and validation goes on after it so that one run of `netseg check` shows them all.
 * Allocation failures are the only thing that stops early (-ENOMEM).
 *
 * Order: the top level of every file, then every group and net of every file, then the rules,
 * so a rule may use a group defined in any file of the merged set.
 */
#include "name_index.h"
#include "policy.h"
#include "schema.h"
#include "util.h"
#include "validate_dns.h"
#include "validate_ports.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct vctx {
	struct diag_list *d;
	struct policy *p;
	const struct node *defaults_key; /* the first file's `defaults`, for the duplicate error */
	const struct node *dns_key;	 /* likewise for `dns` */
	/* name -> index in p->groups, p->nets, p->rules: one lookup per name, not a scan */
	struct name_index groups, nets, rules;
};

static const char *const root_keys[] = {"version", "defaults", "groups", "nets", "rules", "dns"};
static const char *const defaults_keys[] = {"container_to_container", "container_to_world",
					    "container_to_host", "world_to_container", "log"};
static const char *const match_keys[] = {"labels", "name", "image", "compose_service", "network"};
static const char *const selector_keys[] = {
    "group",  "net",  "cidr",  "except",	  "fqdn",
    "labels", "name", "image", "compose_service", "network"};
static const char *const rule_keys[] = {"name", "from", "to", "ports", "action", "log"};
static const char *const reserved_words[] = {"containers", "world", "host", "any"};
static const char *const action_words[] = {"allow", "deny"};
static const char *const log_words[] = {"none", "deny", "all"};

static const struct schema_keys root_ks = SCHEMA_KEYS("the policy", root_keys);
static const struct schema_keys defaults_ks = SCHEMA_KEYS("defaults", defaults_keys);
static const struct schema_keys group_ks = SCHEMA_KEYS("a group", match_keys);
static const struct schema_keys selector_ks = SCHEMA_KEYS("a selector", selector_keys);
static const struct schema_keys rule_ks = SCHEMA_KEYS("a rule", rule_keys);

#define COMPOSE_LABEL "com.docker.compose.service"

/* --- small helpers ---------------------------------------------------------------------- */

static bool in_list(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w, list[i]) == 0)
			return true;
	return false;
}

static size_t index_of(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w, list[i]) == 0)
			return i;
	return n;
}

/* One-of-words value (action, defaults); the hint is the closest word or the full list. */
static int want_word(struct vctx *v, const struct node *n, const char *what,
		     const char *const *words, size_t nwords)
{
	char hint[SCHEMA_HINT_MAX], list[SCHEMA_HINT_MAX] = "";
	const char *close;
	size_t i;

	for (i = 0; i < nwords; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i ? (i + 1 == nwords ? " or " : ", ") : "", words[i]);
	if (!schema_is_str(n)) {
		schema_type_error(v->d, n, what, list);
		return -1;
	}
	i = index_of(n->str, words, nwords);
	if (i < nwords)
		return (int)i;
	close = diag_closest(n->str, words, nwords);
	diag_error(v->d, n->loc,
		   close ? schema_hintf(hint, sizeof(hint), "did you mean '%s'?", close) : NULL,
		   "'%s' must be %s, got '%s'", what, list, n->str);
	return -1;
}

/* --- names ------------------------------------------------------------------------------ */

static bool check_name(struct vctx *v, const struct node *n, const char *what)
{
	if (policy_name_valid(n->str))
		return true;
	diag_error(v->d, n->loc, "names are 1 to 63 characters of a-z, 0-9, '_' and '-'",
		   "invalid %s name '%s'", what, n->str);
	return false;
}

static size_t find_group(const struct vctx *v, const char *name)
{
	size_t i;

	return name_index_find(&v->groups, name, &i) ? i : v->p->ngroups;
}

static size_t find_net(const struct vctx *v, const char *name)
{
	size_t i;

	return name_index_find(&v->nets, name, &i) ? i : v->p->nnets;
}

static void duplicate_error(struct vctx *v, const struct node *n, const char *what,
			    struct loc first)
{
	char at[SCHEMA_HINT_MAX];

	diag_error(v->d, n->loc, NULL, "duplicate %s name '%s' (first defined at %s)", what, n->str,
		   schema_fmt_loc(at, sizeof(at), first));
}

/* --- addresses -------------------------------------------------------------------------- */

/* A CIDR string to a network; reports invalid text, bad prefixes and host bits set. */
static bool cidr_from_node(struct vctx *v, const struct node *n, const char *what,
			   struct policy_cidr *ret)
{
	char hint[SCHEMA_HINT_MAX], net[POLICY_CIDR_STRLEN];
	struct policy_cidr c, v4;
	int r;

	if (!schema_is_str(n)) {
		schema_type_error(v->d, n, what, "a string");
		return false;
	}
	r = policy_cidr_parse(n->str, &c);
	if (r == -ERANGE) {
		diag_error(v->d, n->loc,
			   strchr(n->str, ':') ? "IPv6 prefixes are 0 to 128"
					       : "IPv4 prefixes are 0 to 32",
			   "invalid prefix length in '%s'", n->str);
		return false;
	}
	if (r < 0) {
		diag_error(v->d, n->loc, "write an IPv4 or IPv6 address, optionally with /PREFIX",
			   "invalid CIDR '%s'", n->str);
		return false;
	}
	if (policy_cidr_v4_mapped(&c, &v4)) {
		diag_error(v->d, n->loc,
			   schema_hintf(hint, sizeof(hint), "did you mean %s?",
					policy_cidr_format(&v4, net, sizeof(net))),
			   "IPv4-mapped IPv6 address '%s' never matches: packets carry the IPv4 "
			   "address",
			   n->str);
		return false;
	}
	if (policy_cidr_mask(&c)) {
		diag_error(v->d, n->loc,
			   schema_hintf(hint, sizeof(hint), "did you mean %s?",
					policy_cidr_format(&c, net, sizeof(net))),
			   "host bits set in '%s'", n->str);
		return false;
	}
	*ret = c;
	return true;
}

/* A non-empty list of CIDRs. Bad entries are reported and skipped. */
static int cidrs_from_node(struct vctx *v, const struct node *n, const char *what, bool empty_ok,
			   struct policy_cidr **ret, size_t *ret_n)
{
	struct policy_cidr *out = NULL;
	size_t k = 0;

	if (!schema_want_seq(v->d, n, what))
		return 0;
	if (n->n == 0 && !empty_ok) {
		diag_error(v->d, n->loc, NULL, "'%s' must not be empty", what);
		return 0;
	}
	for (size_t i = 0; i < n->n; i++) {
		struct policy_cidr c;

		if (!cidr_from_node(v, n->items[i], "address", &c))
			continue;
		if (SCHEMA_GROW(out, k) < 0) {
			free(out);
			return -ENOMEM;
		}
		out[k++] = c;
	}
	*ret = out;
	*ret_n = k;
	return 0;
}

/* --- matches (groups and inline selectors) ---------------------------------------------- */

/* As in endpoint files, except that a match must match something. */
static int labels_from_node(struct vctx *v, const struct node *n, struct policy_match *m)
{
	if (n->kind == NODE_MAP && n->n == 0) {
		diag_error(v->d, n->loc, NULL, "'labels' must not be empty");
		return 0;
	}
	return schema_labels(v->d, n, &m->labels, &m->nlabels);
}

/* The match keys of mapping M (a group, or an inline selector) into OUT. */
static int match_from_map(struct vctx *v, const struct node *m, struct policy_match *out)
{
	struct node *labels = node_map_get(m, "labels", NULL), *key;
	struct node *svc = node_map_get(m, "compose_service", &key);
	int r;

	if (labels && (r = labels_from_node(v, labels, out)) < 0)
		return r;
	if (svc && schema_want_str(v->d, svc, "compose_service")) {
		for (size_t i = 0; i < out->nlabels; i++)
			if (strcmp(out->labels[i].key, COMPOSE_LABEL) == 0) {
				diag_error(v->d, key->loc, NULL,
					   "'compose_service' repeats label '" COMPOSE_LABEL "'");
				svc = NULL;
				break;
			}
		if (svc &&
		    schema_add_label(&out->labels, &out->nlabels, COMPOSE_LABEL, svc->str) < 0)
			return -ENOMEM;
	}
	if ((r = schema_optional_str(v->d, m, "name", &out->name_glob)) < 0 ||
	    (r = schema_optional_str(v->d, m, "image", &out->image_glob)) < 0 ||
	    (r = schema_optional_str(v->d, m, "network", &out->network)) < 0)
		return r;
	return 0;
}

/* --- top level: groups, nets, defaults --------------------------------------------------- */

static int group_from_node(struct vctx *v, const struct node *key, const struct node *val)
{
	struct policy *p = v->p;
	struct policy_group *g;
	size_t dup = find_group(v, key->str);

	if (in_list(key->str, reserved_words, ARRAY_SIZE(reserved_words)))
		diag_error(v->d, key->loc,
			   "containers, world, host and any are built in; pick another name",
			   "group name '%s' is a reserved word", key->str);
	else
		check_name(v, key, "group");
	if (dup < p->ngroups) {
		duplicate_error(v, key, "group", p->groups[dup].loc);
		return 0;
	}
	/* Even a broken group is recorded, so rules using it get no "undefined group" too. */
	if (SCHEMA_GROW(p->groups, p->ngroups) < 0)
		return -ENOMEM;
	g = &p->groups[p->ngroups];
	*g = (struct policy_group){0};
	if (schema_dup_str(key->str, &g->name) < 0)
		return -ENOMEM;
	p->ngroups++;
	if (name_index_add(&v->groups, g->name, p->ngroups - 1) < 0)
		return -ENOMEM;
	if (schema_own_loc(&v->p->files, &v->p->nfiles, key->loc, &g->loc) < 0)
		return -ENOMEM;
	if (!schema_want_map(v->d, val, key->str))
		return 0;
	if (val->n == 0) {
		diag_error(v->d, val->loc, "use labels, name, image, compose_service or network",
			   "group '%s' has no match keys", key->str);
		return 0;
	}
	schema_check_keys(v->d, val, &group_ks);
	return match_from_map(v, val, &g->match);
}

static int net_from_node(struct vctx *v, const struct node *key, const struct node *val)
{
	struct policy *p = v->p;
	struct policy_net *net;
	size_t dup = find_net(v, key->str);

	check_name(v, key, "net");
	if (dup < p->nnets) {
		duplicate_error(v, key, "net", p->nets[dup].loc);
		return 0;
	}
	if (SCHEMA_GROW(p->nets, p->nnets) < 0)
		return -ENOMEM;
	net = &p->nets[p->nnets];
	*net = (struct policy_net){0};
	if (schema_dup_str(key->str, &net->name) < 0)
		return -ENOMEM;
	p->nnets++;
	if (name_index_add(&v->nets, net->name, p->nnets - 1) < 0)
		return -ENOMEM;
	if (schema_own_loc(&v->p->files, &v->p->nfiles, key->loc, &net->loc) < 0)
		return -ENOMEM;
	return cidrs_from_node(v, val, key->str, false, &net->cidrs, &net->ncidrs);
}

static int section_from_map(struct vctx *v, const struct node *root, const char *section,
			    int (*fn)(struct vctx *, const struct node *, const struct node *))
{
	const struct node *m = node_map_get(root, section, NULL);
	int r;

	if (!m)
		return 0;
	if (m->kind != NODE_MAP) {
		diag_error(v->d, m->loc,
			   m->kind == NODE_SCALAR && m->type == NODE_NULL ? "write '{}' for none"
									  : NULL,
			   "'%s' must be a mapping, got %s", section, node_kind_name(m));
		return 0;
	}
	for (size_t i = 0; i < m->n; i++)
		if ((r = fn(v, m->keys[i], m->items[i])) < 0)
			return r;
	return 0;
}

static void defaults_from_node(struct vctx *v, const struct node *key, const struct node *m)
{
	struct policy *p = v->p;
	char at[SCHEMA_HINT_MAX];

	if (v->defaults_key) {
		diag_error(v->d, key->loc, "'defaults' may be set in one file only",
			   "'defaults' set again (first set at %s)",
			   schema_fmt_loc(at, sizeof(at), v->defaults_key->loc));
		return;
	}
	v->defaults_key = key;
	if (!schema_want_map(v->d, m, "defaults"))
		return;
	schema_check_keys(v->d, m, &defaults_ks);
	for (size_t i = 0; i < m->n; i++) {
		size_t k = index_of(m->keys[i]->str, defaults_keys, ARRAY_SIZE(defaults_keys));
		int w;

		if (k == ARRAY_SIZE(defaults_keys))
			continue;
		if (k < POLICY_CATEGORY_COUNT) {
			w = want_word(v, m->items[i], m->keys[i]->str, action_words,
				      ARRAY_SIZE(action_words));
			if (w < 0)
				continue;
			p->defaults[k] = w ? POLICY_DENY : POLICY_ALLOW;
			/* `netseg why` points at it; on OOM it shows as built-in, nothing worse. */
			if (schema_own_loc(&p->files, &p->nfiles, m->keys[i]->loc,
					   &p->default_locs[k]) < 0)
				p->default_locs[k] = (struct loc){0};
		} else {
			w = want_word(v, m->items[i], "log", log_words, ARRAY_SIZE(log_words));
			if (w >= 0)
				p->log = (enum policy_log)w;
		}
	}
}

static void version_from_root(struct vctx *v, const struct node *root)
{
	const struct node *n = node_map_get(root, "version", NULL);

	if (!n) {
		if (!schema_misspelt(root, "version", &root_ks))
			diag_error(v->d, root->loc, "add 'version: 1'", "missing 'version'");
	} else if (!schema_is_int(n))
		diag_error(v->d, n->loc, "write 'version: 1'",
			   "'version' must be an integer, got %s", node_kind_name(n));
	else if (n->ival != 1)
		diag_error(v->d, n->loc, "this netseg reads version 1", "unsupported version %s",
			   n->str);
}

/* The parts of one file that need no other file: shape, version, defaults. */
static bool root_check(struct vctx *v, const struct node *root)
{
	struct node *key, *defaults;

	if (root->kind != NODE_MAP) {
		diag_error(v->d, root->loc,
			   root->kind == NODE_SCALAR ? "start with 'version: 1'" : NULL,
			   "a policy must be a mapping, got %s", node_kind_name(root));
		return false;
	}
	schema_check_keys(v->d, root, &root_ks);
	version_from_root(v, root);
	defaults = node_map_get(root, "defaults", &key);
	if (defaults)
		defaults_from_node(v, key, defaults);
	return true;
}

static int dns_from_root(struct vctx *v, const struct node *root)
{
	struct node *key, *m = node_map_get(root, "dns", &key);
	char at[SCHEMA_HINT_MAX];

	if (!m)
		return 0;
	if (v->dns_key) {
		diag_error(v->d, key->loc, "'dns' may be set in one file only",
			   "'dns' set again (first set at %s)",
			   schema_fmt_loc(at, sizeof(at), v->dns_key->loc));
		return 0;
	}
	v->dns_key = key;
	return validate_dns_block(v->d, v->p, m);
}

/* --- selectors --------------------------------------------------------------------------- */

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
	r = cidrs_from_node(v, cidr, "cidr", false, &t->cidrs, &t->ncidrs);
	if (r < 0 || !except)
		return r;
	r = cidrs_from_node(v, except, "except", true, &t->except, &t->nexcept);
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
		return match_from_map(v, m, &t->match);
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

static int selector_from_node(struct vctx *v, const struct node *n, const char *what,
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

/* --- rules ------------------------------------------------------------------------------- */

enum { END_C = 1, END_W = 2, END_H = 4 };

/* Which kinds of end (container, world, host) a term can stand for. */
static unsigned term_ends(const struct policy_term *t)
{
	switch (t->kind) {
	case POLICY_TERM_GROUP:
	case POLICY_TERM_CONTAINERS:
	case POLICY_TERM_MATCH:
		return END_C;
	case POLICY_TERM_WORLD:
		return END_W;
	case POLICY_TERM_HOST:
		return END_H;
	default: /* any, net, cidr: addresses can be anything, containers included */
		return END_C | END_W | END_H;
	}
}

static unsigned selector_ends(const struct policy_selector *s)
{
	unsigned e = 0;

	for (size_t i = 0; i < s->n; i++)
		e |= term_ends(&s->terms[i]);
	return e;
}

/*
 * netseg filters container->anything and world->container; host->container is always allowed
 * and traffic with no container end is never seen. A rule outside those can never match.
 */
/* LOC is the rule's node's: diagnostics must not borrow the model's file names. */
static void warn_unmatchable(struct vctx *v, const struct policy_rule *r, struct loc loc)
{
	unsigned from = selector_ends(&r->from), to = selector_ends(&r->to);

	if ((from & END_C) || ((from & END_W) && (to & END_C)))
		return;
	if (from == END_H && (to & END_C))
		diag_warning(v->d, loc, NULL,
			     "rule '%s' can never match: traffic from the host to containers is "
			     "always allowed",
			     r->name);
	else
		diag_warning(v->d, loc, NULL,
			     "rule '%s' can never match: traffic that touches no managed container "
			     "is never filtered",
			     r->name);
}

/* The rule being built is the last one in p->rules, so earlier ones are its possible twins. */
static int rule_name(struct vctx *v, const struct node *n, struct policy_rule *r)
{
	const struct policy *p = v->p;
	size_t twin;

	if (!schema_want_str(v->d, n, "name") || !check_name(v, n, "rule"))
		return 0;
	if (name_index_find(&v->rules, n->str, &twin)) {
		duplicate_error(v, n, "rule", p->rules[twin].loc);
		return 0;
	}
	if (schema_dup_str(n->str, &r->name) < 0)
		return -ENOMEM;
	return name_index_add(&v->rules, r->name, p->nrules - 1);
}

static void rule_log(struct vctx *v, const struct node *n, struct policy_rule *r)
{
	if (n->kind == NODE_SCALAR && n->type == NODE_BOOL) {
		r->log = n->bval;
		return;
	}
	diag_error(v->d, n->loc,
		   schema_is_str(n) && in_list(n->str, log_words, ARRAY_SIZE(log_words))
		       ? "a rule's 'log' is true or false; none, deny and all are for defaults.log"
		       : NULL,
		   "'log' must be true or false, got %s", node_kind_name(n));
}

/*
 * A deny by name would be bypassed by connecting to the address: names only ever allow. The
 * error is located at the node (TO, the rule's `to`): diagnostics outlive the model.
 */
static void deny_fqdn_check(struct vctx *v, const struct node *to)
{
	size_t n = to->kind == NODE_SEQ ? to->n : 1;

	for (size_t i = 0; i < n; i++) {
		const struct node *it = to->kind == NODE_SEQ ? to->items[i] : to;
		struct node *key;

		if (it->kind == NODE_MAP && node_map_get(it, "fqdn", &key))
			diag_error(v->d, key->loc,
				   "deny the addresses with cidr or net, or allow only the names "
				   "wanted",
				   "fqdn cannot be used in a deny rule: a deny by name is bypassed "
				   "by connecting to an address");
	}
}

static int rule_body(struct vctx *v, const struct node *m, struct policy_rule *r)
{
	struct node *name = node_map_get(m, "name", NULL), *from = node_map_get(m, "from", NULL);
	struct node *to = node_map_get(m, "to", NULL), *ports = node_map_get(m, "ports", NULL);
	struct node *action = node_map_get(m, "action", NULL), *log = node_map_get(m, "log", NULL);
	size_t errors = v->d->nerrors;
	int ret;

	schema_check_keys(v->d, m, &rule_ks);
	if (name && (ret = rule_name(v, name, r)) < 0)
		return ret;
	if (!name)
		schema_missing(v->d, m, &rule_ks, "rule", r->name, "name");
	if (!from)
		schema_missing(v->d, m, &rule_ks, "rule", r->name, "from");
	if (!to)
		schema_missing(v->d, m, &rule_ks, "rule", r->name, "to");
	if ((from && (ret = selector_from_node(v, from, "from", &r->from)) < 0) ||
	    (to && (ret = selector_from_node(v, to, "to", &r->to)) < 0) ||
	    (ports && (ret = validate_ports(v->d, ports, r)) < 0))
		return ret;
	if (action &&
	    (ret = want_word(v, action, "action", action_words, ARRAY_SIZE(action_words))) >= 0)
		r->action = ret ? POLICY_DENY : POLICY_ALLOW;
	if (log)
		rule_log(v, log, r);
	if (r->action == POLICY_DENY && to)
		deny_fqdn_check(v, to);
	if (v->d->nerrors == errors && r->from.n && r->to.n)
		warn_unmatchable(v, r, m->loc);
	return 0;
}

static int rule_from_node(struct vctx *v, const struct node *m)
{
	struct policy *p = v->p;
	struct policy_rule *r;

	if (m->kind != NODE_MAP) {
		diag_error(v->d, m->loc, NULL, "a rule must be a mapping, got %s",
			   node_kind_name(m));
		return 0;
	}
	if (SCHEMA_GROW(p->rules, p->nrules) < 0)
		return -ENOMEM;
	r = &p->rules[p->nrules++];
	*r = (struct policy_rule){.action = POLICY_ALLOW, .log = -1};
	if (schema_own_loc(&v->p->files, &v->p->nfiles, m->loc, &r->loc) < 0)
		return -ENOMEM;
	return rule_body(v, m, r);
}

static int rules_from_root(struct vctx *v, const struct node *root)
{
	const struct node *rules = node_map_get(root, "rules", NULL);
	int r;

	if (!rules)
		return 0;
	if (rules->kind != NODE_SEQ) {
		diag_error(v->d, rules->loc,
			   rules->kind == NODE_SCALAR && rules->type == NODE_NULL
			       ? "write '[]' for none"
			       : NULL,
			   "'rules' must be a list, got %s", node_kind_name(rules));
		return 0;
	}
	for (size_t i = 0; i < rules->n; i++)
		if ((r = rule_from_node(v, rules->items[i])) < 0)
			return r;
	return 0;
}

/* --- entry point ------------------------------------------------------------------------- */

int policy_from_nodes(struct node *const *roots, size_t n, struct diag_list *diags,
		      struct policy **ret)
{
	struct vctx v = {.d = diags};
	size_t errors = diags->nerrors;
	bool *ok = NULL;
	int r = -ENOMEM;

	v.p = calloc(1, sizeof(*v.p));
	ok = calloc(n ? n : 1, sizeof(*ok));
	if (!v.p || !ok)
		goto out;
	v.p->log = POLICY_LOG_DENY;
	v.p->dns.min_ttl = 30;
	v.p->dns.max_ips_per_name = 64;
	for (size_t i = 0; i < n; i++)
		ok[i] = roots[i] && root_check(&v, roots[i]);
	for (size_t i = 0; i < n; i++)
		if (ok[i] && (r = dns_from_root(&v, roots[i])) < 0)
			goto out;
	for (size_t i = 0; i < n; i++)
		if (ok[i] && ((r = section_from_map(&v, roots[i], "groups", group_from_node)) < 0 ||
			      (r = section_from_map(&v, roots[i], "nets", net_from_node)) < 0))
			goto out;
	for (size_t i = 0; i < n; i++)
		if (ok[i] && (r = rules_from_root(&v, roots[i])) < 0)
			goto out;
	r = diags->nerrors > errors ? -EINVAL : 0;
	if (r == 0) {
		*ret = v.p;
		v.p = NULL;
	}
out:
	free(ok);
	name_index_clear(&v.groups);
	name_index_clear(&v.nets);
	name_index_clear(&v.rules);
	policy_free(v.p);
	return r;
}
