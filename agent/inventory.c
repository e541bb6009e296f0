/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "inventory.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct owner {
	char *name;
	struct endpoint_set *eps;
};

struct inventory {
	struct owner *owners;
	size_t n, cap;
	uint64_t generation;  /* bumped on every change, so views know when they are stale */
	const char **scratch; /* inventory_owners() result */
};

struct inventory *inventory_new(void)
{
	return calloc(1, sizeof(struct inventory));
}

void inventory_free(struct inventory *inv)
{
	if (!inv)
		return;
	for (size_t i = 0; i < inv->n; i++) {
		free(inv->owners[i].name);
		endpoint_set_free(inv->owners[i].eps);
	}
	free(inv->owners);
	free(inv->scratch);
	free(inv);
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool addrs_eq(const struct endpoint *a, const struct endpoint *b)
{
	if (a->naddrs != b->naddrs)
		return false;
	for (size_t i = 0; i < a->naddrs; i++)
		if (a->addrs[i].family != b->addrs[i].family ||
		    memcmp(a->addrs[i].addr, b->addrs[i].addr, 16) != 0)
			return false;
	return true;
}

/* Everything the compiler looks at; a source re-reporting the same container is no change. */
static bool endpoint_eq(const struct endpoint *a, const struct endpoint *b)
{
	if (!str_eq(a->name, b->name) || !str_eq(a->interface, b->interface) ||
	    !str_eq(a->bridge, b->bridge) || !str_eq(a->image, b->image) || !addrs_eq(a, b) ||
	    a->nlabels != b->nlabels || a->nnetworks != b->nnetworks)
		return false;
	for (size_t i = 0; i < a->nlabels; i++)
		if (!str_eq(a->labels[i].key, b->labels[i].key) ||
		    !str_eq(a->labels[i].value, b->labels[i].value))
			return false;
	for (size_t i = 0; i < a->nnetworks; i++)
		if (!str_eq(a->networks[i], b->networks[i]))
			return false;
	return true;
}

static bool sets_eq(const struct endpoint_set *a, const struct endpoint_set *b)
{
	size_t na = a ? a->n : 0, nb = b ? b->n : 0;

	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!endpoint_eq(&a->items[i], &b->items[i]))
			return false;
	return true;
}

static int reference(struct reconcile *rc, const struct endpoint_set *eps, int delta)
{
	int r;

	for (size_t i = 0; rc && eps && i < eps->n; i++)
		if ((r = reconcile_endpoint(rc, &eps->items[i], delta)) < 0)
			return r;
	return 0;
}

int inventory_set(struct inventory *inv, const char *owner, struct endpoint_set *eps,
		  struct reconcile *rc)
{
	struct owner *o = NULL;
	size_t i;
	int r;

	for (i = 0; i < inv->n; i++)
		if (!strcmp(inv->owners[i].name, owner)) {
			o = &inv->owners[i];
			break;
		}
	if (eps && eps->n == 0) {
		endpoint_set_free(eps);
		eps = NULL;
	}
	if (sets_eq(o ? o->eps : NULL, eps)) {
		endpoint_set_free(eps);
		return 0;
	}
	/* New references first: elements both versions share never drop to zero. */
	if ((r = reference(rc, eps, +1)) < 0 || (r = reference(rc, o ? o->eps : NULL, -1)) < 0) {
		endpoint_set_free(eps);
		return r;
	}
	inv->generation++;
	if (o && !eps) {
		free(o->name);
		endpoint_set_free(o->eps);
		*o = inv->owners[--inv->n];
		return 1;
	}
	if (o) {
		endpoint_set_free(o->eps);
		o->eps = eps;
		return 1;
	}
	if (inv->n == inv->cap) {
		size_t cap = inv->cap ? inv->cap * 2 : 16;
		struct owner *grown = realloc(inv->owners, cap * sizeof(*grown));

		if (!grown)
			goto oom;
		inv->owners = grown;
		inv->cap = cap;
	}
	inv->owners[inv->n].name = strdup(owner);
	if (!inv->owners[inv->n].name)
		goto oom;
	inv->owners[inv->n++].eps = eps;
	return 1;
oom:
	/* Undo the references so the pending change matches the inventory. */
	(void)reference(rc, eps, -1);
	endpoint_set_free(eps);
	return -ENOMEM;
}

size_t inventory_owners(const struct inventory *inv, const char *prefix, const char ***ret)
{
	struct inventory *m = (struct inventory *)inv;
	const char **grown = realloc(m->scratch, (inv->n + 1) * sizeof(*grown));
	size_t n = 0, plen = strlen(prefix);

	if (!grown) {
		*ret = NULL;
		return 0;
	}
	m->scratch = grown;
	for (size_t i = 0; i < inv->n; i++)
		if (!strncmp(inv->owners[i].name, prefix, plen))
			grown[n++] = inv->owners[i].name;
	*ret = grown;
	return n;
}

uint64_t inventory_generation(const struct inventory *inv)
{
	return inv->generation;
}

size_t inventory_count(const struct inventory *inv)
{
	size_t n = 0;

	for (size_t i = 0; i < inv->n; i++)
		n += inv->owners[i].eps->n;
	return n;
}

int inventory_view(const struct inventory *inv, struct endpoint_set *ret)
{
	size_t n = inventory_count(inv), k = 0;
	struct endpoint *items = calloc(n + 1, sizeof(*items));

	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < inv->n; i++)
		for (size_t j = 0; j < inv->owners[i].eps->n; j++)
			items[k++] = inv->owners[i].eps->items[j];
	*ret = (struct endpoint_set){.items = items, .n = n, .cap = n + 1};
	return 0;
}

void inventory_view_free(struct endpoint_set *view)
{
	free(view->items);
	view->items = NULL;
	view->n = view->cap = 0;
}
