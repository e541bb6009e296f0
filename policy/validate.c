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
#include "validate_internal.h"
#include "validate_ports.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *const root_keys[] = {"version", "defaults", "groups", "nets", "rules", "dns"};
static const char *const defaults_keys[] = {"container_to_container", "container_to_world",
					    "container_to_host", "world_to_container", "log"};
static const char *const rule_keys[] = {"name", "from", "to", "ports", "action", "log"};
static const char *const action_words[] = {"allow", "deny"};
static const char *const log_words[] = {"none", "deny", "all"};

static const struct schema_keys root_ks = SCHEMA_KEYS("the policy", root_keys);
static const struct schema_keys defaults_ks = SCHEMA_KEYS("defaults", defaults_keys);
static const struct schema_keys group_ks = SCHEMA_KEYS("a group", match_keys);
static const struct schema_keys rule_ks = SCHEMA_KEYS("a rule", rule_keys);

#define COMPOSE_LABEL "com.docker.compose.service"

/* --- small helpers ---------------------------------------------------------------------- */

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
int validate_cidrs(struct vctx *v, const struct node *n, const char *what, bool empty_ok,
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
int validate_match(struct vctx *v, const struct node *m, struct policy_match *out)
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
	return validate_match(v, val, &g->match);
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
	return validate_cidrs(v, val, key->str, false, &net->cidrs, &net->ncidrs);
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
	if ((from && (ret = validate_selector(v, from, "from", &r->from)) < 0) ||
	    (to && (ret = validate_selector(v, to, "to", &r->to)) < 0) ||
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
