/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "inventory.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct epstate {
	bool active;   /* enforced: holds its keys and its elements are referenced */
	bool by_check; /* refused by the checker: only inventory_recheck() tries it again */
	char *reason;  /* why not, while refused */
};

struct owner {
	char *name;
	uint64_t seq; /* when it first appeared: owners[] is sorted by it */
	struct endpoint_set *eps;
	struct epstate *st; /* one per eps->items[i] */
};

/* Interfaces and addresses of enforced endpoints, open addressing with backward-shift
 * deletion: a claim costs one lookup however many endpoints there are. */
struct keyslot {
	uint64_t hash;	 /* 0: free */
	char kind;	 /* 'i' interface, 'a' address, 'o' owner name */
	const void *key; /* into the holder's own strings and addresses */
	size_t len;
	const struct endpoint *holder;
	const char *owner; /* the holder's owner name */
	uint64_t seq;	   /* 'o': that owner's seq */
};

struct inventory {
	struct owner *owners; /* in the order they first appeared */
	size_t n, cap;
	uint64_t next_seq;
	uint64_t generation;  /* bumped on every change, so views know when they are stale */
	const char **scratch; /* inventory_owners() result */
	struct keyslot *keys;
	size_t kcap, kused;
	size_t nactive, ntotal; /* enforced endpoints, all endpoints */
	inventory_check_fn check;
	void *check_ud;
};

struct inventory *inventory_new(void)
{
	return calloc(1, sizeof(struct inventory));
}

void inventory_set_checker(struct inventory *inv, inventory_check_fn fn, void *ud)
{
	inv->check = fn;
	inv->check_ud = ud;
}

static void owner_free_state(struct owner *o)
{
	for (size_t i = 0; o->st && o->eps && i < o->eps->n; i++)
		free(o->st[i].reason);
	free(o->st);
	o->st = NULL;
}

void inventory_free(struct inventory *inv)
{
	if (!inv)
		return;
	for (size_t i = 0; i < inv->n; i++) {
		owner_free_state(&inv->owners[i]);
		free(inv->owners[i].name);
		endpoint_set_free(inv->owners[i].eps);
	}
	free(inv->owners);
	free(inv->scratch);
	free(inv->keys);
	free(inv);
}

static uint64_t key_hash(char kind, const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 0xcbf29ce484222325ull ^ (uint8_t)kind;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h | 1;
}

static struct keyslot *key_find(const struct inventory *inv, char kind, const void *key, size_t len)
{
	uint64_t h = key_hash(kind, key, len);

	for (size_t i = h & (inv->kcap - 1); inv->kcap && inv->keys[i].hash;
	     i = (i + 1) & (inv->kcap - 1)) {
		struct keyslot *s = &inv->keys[i];

		if (s->hash == h && s->kind == kind && s->len == len && !memcmp(s->key, key, len))
			return s;
	}
	return NULL;
}

static void key_place(struct keyslot *slots, size_t cap, const struct keyslot *k)
{
	size_t i;

	for (i = k->hash & (cap - 1); slots[i].hash; i = (i + 1) & (cap - 1))
		;
	slots[i] = *k;
}

static int key_add(struct inventory *inv, struct keyslot k)
{
	k.hash = key_hash(k.kind, k.key, k.len);
	if ((inv->kused + 1) * 2 > inv->kcap) {
		size_t cap = inv->kcap ? inv->kcap * 2 : 256;
		struct keyslot *bigger = calloc(cap, sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		for (size_t i = 0; i < inv->kcap; i++)
			if (inv->keys[i].hash)
				key_place(bigger, cap, &inv->keys[i]);
		free(inv->keys);
		inv->keys = bigger;
		inv->kcap = cap;
	}
	key_place(inv->keys, inv->kcap, &k);
	inv->kused++;
	return 0;
}

/* Backward shift: later entries of the probe run move up, so lookups never stop early. */
static void key_del(struct inventory *inv, struct keyslot *s)
{
	size_t mask = inv->kcap - 1, i = (size_t)(s - inv->keys), j = i;

	for (;;) {
		j = (j + 1) & mask;
		if (!inv->keys[j].hash)
			break;
		size_t home = inv->keys[j].hash & mask;

		/* Move J into the hole at I unless its home lies cyclically in (I, J]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			inv->keys[i] = inv->keys[j];
			i = j;
		}
	}
	inv->keys[i] = (struct keyslot){0};
	inv->kused--;
}

static void keys_release(struct inventory *inv, const struct endpoint *e)
{
	struct keyslot *s;

	if (e->interface && (s = key_find(inv, 'i', e->interface, strlen(e->interface))) &&
	    s->holder == e)
		key_del(inv, s);
	for (size_t k = 0; k < e->naddrs; k++)
		if ((s = key_find(inv, 'a', &e->addrs[k], sizeof(e->addrs[k]))) && s->holder == e)
			key_del(inv, s);
}

static void addr_text(const struct endpoint_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

/* The first key of E another enforced endpoint holds, as a reason; false when none. */
static bool keys_conflict(const struct inventory *inv, const struct endpoint *e, char *why,
			  size_t len)
{
	const struct keyslot *s = NULL;
	char what[INET6_ADDRSTRLEN + 16] = "";

	if (e->interface && (s = key_find(inv, 'i', e->interface, strlen(e->interface))))
		snprintf(what, sizeof(what), "interface %s", e->interface);
	for (size_t k = 0; !s && k < e->naddrs; k++)
		if ((s = key_find(inv, 'a', &e->addrs[k], sizeof(e->addrs[k])))) {
			char t[INET6_ADDRSTRLEN];

			addr_text(&e->addrs[k], t, sizeof(t));
			snprintf(what, sizeof(what), "address %s", t);
		}
	if (!s)
		return false;
	snprintf(why, len, "%s is already used by endpoint '%s' (%s)", what,
		 s->holder->name ? s->holder->name : "?", s->owner);
	return true;
}

static int keys_take(struct inventory *inv, const struct endpoint *e, const char *owner)
{
	int r = 0;

	if (e->interface)
		r = key_add(inv, (struct keyslot){.kind = 'i',
						  .key = e->interface,
						  .len = strlen(e->interface),
						  .holder = e,
						  .owner = owner});
	for (size_t k = 0; r == 0 && k < e->naddrs; k++)
		r = key_add(inv, (struct keyslot){.kind = 'a',
						  .key = &e->addrs[k],
						  .len = sizeof(e->addrs[k]),
						  .holder = e,
						  .owner = owner});
	if (r < 0)
		keys_release(inv, e);
	return r;
}

static int reference_one(struct reconcile *rc, const struct endpoint *e, int delta)
{
	return rc ? reconcile_endpoint(rc, e, delta) : 0;
}

/*
 * Enforces endpoint I of O if the checker and the key index allow it: 1 when it is now
 * enforced, 0 when refused (reason kept; logged when LOG_REFUSAL), -errno.
 */
static int try_activate(struct inventory *inv, struct owner *o, size_t i, struct reconcile *rc,
			bool log_refusal)
{
	const struct endpoint *e = &o->eps->items[i];
	struct epstate *st = &o->st[i];
	char why[512];
	int r;

	if (st->active)
		return 1;
	st->by_check = inv->check && inv->check(e, why, sizeof(why), inv->check_ud) > 0;
	if (st->by_check || keys_conflict(inv, e, why, sizeof(why))) {
		if (log_refusal || !st->reason || strcmp(st->reason, why) != 0)
			log_warn("endpoint '%s' (%s) refused: %s; ignoring it", e->name, o->name,
				 why);
		if (!st->reason || strcmp(st->reason, why) != 0) {
			free(st->reason);
			st->reason = strdup(why);
		}
		return 0;
	}
	if ((r = keys_take(inv, e, o->name)) < 0)
		return r;
	if ((r = reference_one(rc, e, +1)) < 0) {
		keys_release(inv, e);
		return r;
	}
	if (st->reason) {
		log_info("endpoint '%s' (%s) accepted: it no longer conflicts", e->name, o->name);
		free(st->reason);
		st->reason = NULL;
	}
	st->active = true;
	inv->nactive++;
	return 1;
}

static int deactivate(struct inventory *inv, struct owner *o, size_t i, struct reconcile *rc)
{
	struct epstate *st = &o->st[i];

	if (!st->active)
		return 0;
	keys_release(inv, &o->eps->items[i]);
	st->active = false;
	inv->nactive--;
	return reference_one(rc, &o->eps->items[i], -1);
}

/* Keys were freed (or, with ONLY, that interface changed): refused endpoints, oldest owner
 * first, may be enforced now. */
static int reconsider(struct inventory *inv, struct reconcile *rc, const char *only)
{
	bool changed = false;
	int r;

	if (inv->ntotal == inv->nactive)
		return 0;
	for (size_t i = 0; i < inv->n; i++)
		for (size_t j = 0; j < inv->owners[i].eps->n; j++) {
			const char *ifn = inv->owners[i].eps->items[j].interface;

			const struct epstate *st = &inv->owners[i].st[j];

			/* Freed keys do not change what the checker said about an interface. */
			if (st->active || (only ? !ifn || strcmp(ifn, only) : st->by_check))
				continue;
			if ((r = try_activate(inv, &inv->owners[i], j, rc, false)) < 0)
				return r;
			changed |= r > 0;
		}
	return changed;
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

/* One hash lookup and a binary search: a scan per call made a burst of N endpoint files cost
 * N^2 / 2 name comparisons (17% of a 10,000-file start-up). */
static struct owner *owner_find(struct inventory *inv, const char *name)
{
	const struct keyslot *k = key_find(inv, 'o', name, strlen(name));
	size_t lo = 0, hi = inv->n;

	while (k && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (inv->owners[mid].seq == k->seq)
			return &inv->owners[mid];
		if (inv->owners[mid].seq < k->seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct owner *owner_add(struct inventory *inv, const char *name)
{
	struct owner *o;

	if (GROW(inv->owners, inv->cap, inv->n + 1, 16) < 0)
		return NULL;
	o = &inv->owners[inv->n];
	*o = (struct owner){.name = strdup(name), .seq = ++inv->next_seq};
	if (!o->name)
		return NULL;
	if (key_add(inv, (struct keyslot){.kind = 'o',
					  .key = o->name,
					  .len = strlen(o->name),
					  .owner = o->name,
					  .seq = o->seq}) < 0) {
		free(o->name);
		return NULL;
	}
	inv->n++;
	return o;
}

/* Keeps the owners' order (it decides who is reconsidered first). */
static void owner_remove(struct inventory *inv, struct owner *o)
{
	size_t i = (size_t)(o - inv->owners);
	struct keyslot *k = key_find(inv, 'o', o->name, strlen(o->name));

	if (k)
		key_del(inv, k);
	owner_free_state(o);
	free(o->name);
	endpoint_set_free(o->eps);
	memmove(o, o + 1, (inv->n - i - 1) * sizeof(*o));
	inv->n--;
}

int inventory_set(struct inventory *inv, const char *owner, struct endpoint_set *eps,
		  struct reconcile *rc)
{
	struct owner *o = owner_find(inv, owner);
	struct endpoint_set *old;
	struct epstate *old_st, *st = NULL;
	bool freed = false;
	int r = 0;

	if (eps && eps->n == 0) {
		endpoint_set_free(eps);
		eps = NULL;
	}
	if (sets_eq(o ? o->eps : NULL, eps)) {
		endpoint_set_free(eps);
		return 0;
	}
	if ((eps && !(st = calloc(eps->n, sizeof(*st)))) || (!o && !(o = owner_add(inv, owner)))) {
		free(st);
		endpoint_set_free(eps);
		return -ENOMEM;
	}
	inv->generation++;
	old = o->eps;
	inv->ntotal += (eps ? eps->n : 0) - (old ? old->n : 0);
	old_st = o->st;
	/* The old endpoints give up their keys first, so a changed file keeps what it holds;
	 * their elements are released only after the new ones are referenced, so elements both
	 * versions share never drop to zero. */
	for (size_t i = 0; old && i < old->n; i++)
		if (old_st[i].active) {
			keys_release(inv, &old->items[i]);
			freed = true;
		}
	o->eps = eps;
	o->st = st;
	for (size_t i = 0; eps && i < eps->n && r >= 0; i++)
		r = try_activate(inv, o, i, rc, true);
	for (size_t i = 0; old && i < old->n; i++) {
		if (old_st[i].active) {
			inv->nactive--;
			if (r >= 0 && (r = reference_one(rc, &old->items[i], -1)) > 0)
				r = 0;
		}
		free(old_st[i].reason);
	}
	free(old_st);
	endpoint_set_free(old);
	if (!eps)
		owner_remove(inv, o);
	if (r >= 0 && freed && (r = reconsider(inv, rc, NULL)) > 0)
		r = 0;
	return r < 0 ? r : 1;
}

static struct owner *owner_of(struct inventory *inv, const struct endpoint *e, size_t *ret_i)
{
	for (size_t i = 0; i < inv->n; i++) {
		struct endpoint_set *s = inv->owners[i].eps;

		if (e >= s->items && e < s->items + s->n) {
			*ret_i = (size_t)(e - s->items);
			return &inv->owners[i];
		}
	}
	return NULL;
}

int inventory_recheck(struct inventory *inv, const char *ifname, struct reconcile *rc)
{
	struct keyslot *s = key_find(inv, 'i', ifname, strlen(ifname));
	char why[512];
	size_t i;
	bool freed = false;
	int r = 0, changed = 0;

	if (!inv->check)
		return 0;
	if (s) {
		struct owner *o = owner_of(inv, s->holder, &i);

		if (o && inv->check(&o->eps->items[i], why, sizeof(why), inv->check_ud) > 0) {
			if ((r = deactivate(inv, o, i, rc)) < 0)
				return r;
			log_warn("endpoint '%s' (%s) withdrawn: %s; ignoring it",
				 o->eps->items[i].name, o->name, why);
			o->st[i].reason = strdup(why);
			o->st[i].by_check = true;
			inv->generation++;
			changed = 1;
			freed = true;
		}
	}
	if (inv->ntotal == inv->nactive)
		return changed;
	uint64_t before = inv->nactive;

	if ((r = reconsider(inv, rc, freed ? NULL : ifname)) < 0)
		return r;
	if (inv->nactive != before) {
		inv->generation++;
		changed = 1;
	}
	return changed;
}

void inventory_refused(const struct inventory *inv, inventory_refused_fn fn, void *ud)
{
	for (size_t i = 0; i < inv->n; i++)
		for (size_t j = 0; j < inv->owners[i].eps->n; j++)
			if (!inv->owners[i].st[j].active)
				fn(inv->owners[i].name, &inv->owners[i].eps->items[j],
				   inv->owners[i].st[j].reason ? inv->owners[i].st[j].reason : "?",
				   ud);
}

size_t inventory_refused_count(const struct inventory *inv)
{
	return inv->ntotal - inv->nactive;
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
	return inv->nactive;
}

int inventory_view(const struct inventory *inv, struct endpoint_set *ret)
{
	size_t n = inventory_count(inv), k = 0;
	struct endpoint *items = calloc(n + 1, sizeof(*items));

	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < inv->n; i++)
		for (size_t j = 0; j < inv->owners[i].eps->n; j++)
			if (inv->owners[i].st[j].active)
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
