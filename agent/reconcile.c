/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "reconcile.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"
#include "elemtab.h"
#include "resolvconf.h"
#include "util.h"

struct reconcile {
	struct policy *policy;
	char **bridges;
	size_t nbridges;
	struct ir_ruleset *base; /* compiled without endpoints: the sets endpoints fill */
	struct elemtab *tab;
	struct reconcile_stats stats;
};

int reconcile_new(const char *const *bridges, size_t nbridges, struct reconcile **ret)
{
	struct reconcile *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return -ENOMEM;
	rc->tab = elemtab_new();
	rc->bridges = calloc(nbridges + 1, sizeof(*rc->bridges));
	if (!rc->tab || !rc->bridges)
		goto oom;
	for (; rc->nbridges < nbridges; rc->nbridges++)
		if (!(rc->bridges[rc->nbridges] = strdup(bridges[rc->nbridges])))
			goto oom;
	*ret = rc;
	return 0;
oom:
	reconcile_free(rc);
	return -ENOMEM;
}

void reconcile_free(struct reconcile *rc)
{
	if (!rc)
		return;
	for (size_t i = 0; i < rc->nbridges; i++)
		free(rc->bridges[i]);
	free(rc->bridges);
	ir_ruleset_free(rc->base);
	elemtab_free(rc->tab);
	policy_free(rc->policy);
	free(rc);
}

const struct policy *reconcile_policy(const struct reconcile *rc)
{
	return rc->policy;
}

const struct ir_ruleset *reconcile_base(const struct reconcile *rc)
{
	return rc->base;
}

const struct reconcile_stats *reconcile_stats(const struct reconcile *rc)
{
	return &rc->stats;
}

struct ref_args {
	struct elemtab *tab;
	int delta;
};

static int ref_elem(const struct ir_table *t, const struct ir_set *s, const struct ir_elem *e,
		    void *userdata)
{
	const struct ref_args *a = userdata;

	return elemtab_ref(a->tab, t->family, s->name, e, a->delta);
}

/* The baseline's own elements in the sets endpoints fill (configured bridges) count once, so no
 * endpoint leaving removes them. */
int reconcile_count(struct elemtab *tab, const struct policy *p, const struct ir_ruleset *base,
		    const struct endpoint_set *eps)
{
	struct ref_args add = {tab, +1};
	int r;

	elemtab_clear(tab);
	for (size_t ti = 0; ti < base->n; ti++) {
		const struct ir_table *t = base->tables[ti];

		for (size_t si = 0; si < t->nsets; si++) {
			const struct ir_set *s = t->sets[si];

			if (s->interval || s->constant)
				continue; /* endpoints never touch these */
			for (size_t k = 0; k < s->n; k++)
				if ((r = ref_elem(t, s, &s->elems[k], &add)) < 0)
					return r;
		}
	}
	for (size_t i = 0; eps && i < eps->n; i++)
		if ((r = compile_endpoint_elems(p, base, &eps->items[i], ref_elem, &add)) < 0)
			return r;
	return 0;
}

int reconcile_count_endpoint(struct elemtab *tab, const struct policy *p,
			     const struct ir_ruleset *base, const struct endpoint *ep, int delta)
{
	struct ref_args args = {tab, delta};

	return compile_endpoint_elems(p, base, ep, ref_elem, &args);
}

static int install(struct reconcile *rc, struct policy *p, const struct endpoint_set *eps,
		   struct nft_batch_error *ret_err)
{
	struct compile_input in = {.policy = p,
				   .endpoints = eps,
				   .bridges = (const char *const *)rc->bridges,
				   .nbridges = rc->nbridges};
	struct ir_ruleset *full = NULL, *base = NULL;
	struct policy_cidr *resolvers = NULL;
	double start = ((double)now_usec() / 1e3);
	int r;

	/* Read at every install, so a changed resolv.conf takes effect with the next one. */
	if (policy_has_fqdn(p) && !p->dns.resolvers_set &&
	    resolvconf_load(RESOLVCONF_PATH, &resolvers, &in.nresolvers) == 0)
		in.resolvers = resolvers;
	r = compile_ruleset(&in, &full);
	if (r == 0) {
		in.endpoints = NULL;
		r = compile_ruleset(&in, &base);
	}
	if (r == 0)
		r = nft_batch_apply(full, ret_err);
	if (r == 0)
		r = reconcile_count(rc->tab, p, base, eps);
	ir_ruleset_free(full);
	free(resolvers);
	if (r < 0) {
		ir_ruleset_free(base);
		rc->stats.failures++;
		return r;
	}
	elemtab_mark_installed(rc->tab);
	ir_ruleset_free(rc->base);
	rc->base = base;
	/* The full ruleset and its netlink batch were the agent's peak (tens of MiB at 10,000
	 * endpoints) and are freed now; glibc keeps freed pages mapped unless asked. */
	malloc_trim(0);
	rc->stats.last_ms = ((double)now_usec() / 1e3) - start;
	return 0;
}

int reconcile_full(struct reconcile *rc, struct policy *policy, const struct endpoint_set *eps,
		   struct nft_batch_error *ret_err)
{
	int r = install(rc, policy, eps, ret_err);

	if (r < 0)
		return r;
	if (rc->policy != policy)
		policy_free(rc->policy);
	rc->policy = policy;
	return 0;
}

int reconcile_reapply(struct reconcile *rc, const struct endpoint_set *eps,
		      struct nft_batch_error *ret_err)
{
	if (!rc->policy)
		return -EINVAL;
	return install(rc, rc->policy, eps, ret_err);
}

int reconcile_endpoint(struct reconcile *rc, const struct endpoint *ep, int delta)
{
	/* Before the first install there is nothing to update: reconcile_full counts every
	 * endpoint of the inventory. */
	if (!rc->policy || !rc->base)
		return 0;
	return reconcile_count_endpoint(rc->tab, rc->policy, rc->base, ep, delta);
}

struct changes {
	const struct ir_ruleset *base;
	struct reconcile_changes *out;
	size_t cap;
};

static int collect(enum ir_family family, const char *set, const struct ir_elem *e, bool add,
		   void *userdata)
{
	struct changes *c = userdata;
	struct reconcile_changes *o = c->out;
	const struct ir_table *t = ir_table_find(c->base, family, COMPILE_TABLE_NAME);
	const struct ir_set *s = t ? ir_set_find(t, set) : NULL;

	if (!s)
		return -ENOENT; /* cannot happen: elements come from the same base */
	if (o->n == c->cap)
		return -ENOBUFS;
	o->elems[o->n] = *e;
	o->deltas[o->n] = (struct nft_elem_delta){
	    .family = family,
	    .table = COMPILE_TABLE_NAME,
	    .set = s,
	    .elems = &o->elems[o->n],
	    .n = 1,
	    .del = !add,
	};
	o->n++;
	return 0;
}

int reconcile_changes(const struct elemtab *tab, const struct ir_ruleset *base,
		      struct reconcile_changes *ret)
{
	size_t pending = elemtab_pending(tab);
	struct reconcile_changes o = {0};
	struct changes c = {.base = base, .out = &o, .cap = pending};
	int r = 0;

	if (pending) {
		o.deltas = calloc(pending, sizeof(*o.deltas));
		o.elems = calloc(pending, sizeof(*o.elems));
		r = o.deltas && o.elems ? elemtab_changes(tab, collect, &c) : -ENOMEM;
	}
	if (r < 0) {
		reconcile_changes_free(&o);
		return r;
	}
	*ret = o;
	return 0;
}

void reconcile_changes_free(struct reconcile_changes *c)
{
	if (!c)
		return;
	free(c->deltas);
	free(c->elems);
	*c = (struct reconcile_changes){0};
}

int reconcile_commit(struct reconcile *rc, struct nft_batch_error *ret_err)
{
	struct reconcile_changes c = {0};
	double start = ((double)now_usec() / 1e3);
	int r;

	if (elemtab_pending(rc->tab) == 0)
		return 0;
	r = reconcile_changes(rc->tab, rc->base, &c);
	if (r == 0 && c.n > 0)
		r = nft_batch_elements(c.deltas, c.n, ret_err);
	if (r == 0) {
		for (size_t i = 0; i < c.n; i++) {
			if (c.deltas[i].del)
				rc->stats.elements_deleted++;
			else
				rc->stats.elements_added++;
		}
		elemtab_commit(rc->tab);
		rc->stats.last_ms = ((double)now_usec() / 1e3) - start;
	} else {
		rc->stats.failures++;
	}
	r = r < 0 ? r : c.n > 0;
	reconcile_changes_free(&c);
	return r;
}
