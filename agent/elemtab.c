/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "elemtab.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Set names are few (one per group, inline match and inventory set): interned, compared by
 * pointer. */
struct entry {
	uint64_t hash;
	const char *set; /* interned; NULL: free slot */
	struct ir_elem elem;
	int count;
	uint8_t family;
	bool installed;
	bool pending;
};

struct elemtab {
	struct entry *slots;
	size_t cap, used; /* cap is a power of two */
	size_t *pending;  /* slot indexes touched since the last commit */
	size_t npending, pending_cap;
	char **names;
	size_t nnames, names_cap;
};

static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull; /* FNV-1a */
	}
	return h;
}

static uint64_t elem_hash(uint8_t family, const char *set, const struct ir_elem *e)
{
	uint64_t h = hash_bytes(0xcbf29ce484222325ull, &family, 1);

	h = hash_bytes(h, &set, sizeof(set));
	for (int i = 0; i < IR_CONCAT_MAX && e->key[i].len; i++)
		h = hash_bytes(h, e->key[i].data, e->key[i].len);
	return h | 1; /* never 0 */
}

static bool elem_key_eq(const struct ir_elem *a, const struct ir_elem *b)
{
	for (int i = 0; i < IR_CONCAT_MAX; i++)
		if (a->key[i].len != b->key[i].len ||
		    memcmp(a->key[i].data, b->key[i].data, a->key[i].len) != 0)
			return false;
	return true;
}

struct elemtab *elemtab_new(void)
{
	struct elemtab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = 1024;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void elemtab_free(struct elemtab *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nnames; i++)
		free(t->names[i]);
	free(t->names);
	free(t->pending);
	free(t->slots);
	free(t);
}

void elemtab_clear(struct elemtab *t)
{
	memset(t->slots, 0, t->cap * sizeof(*t->slots));
	t->used = 0;
	t->npending = 0;
}

static const char *intern(struct elemtab *t, const char *name)
{
	for (size_t i = 0; i < t->nnames; i++)
		if (!strcmp(t->names[i], name))
			return t->names[i];
	if (GROW(t->names, t->names_cap, t->nnames + 1, 32) < 0)
		return NULL;
	t->names[t->nnames] = strdup(name);
	return t->names[t->nnames] ? t->names[t->nnames++] : NULL;
}

static size_t probe(const struct elemtab *t, uint64_t hash, uint8_t family, const char *set,
		    const struct ir_elem *e)
{
	size_t mask = t->cap - 1, i = hash & mask;

	while (t->slots[i].set) {
		const struct entry *s = &t->slots[i];

		if (s->hash == hash && s->set == set && s->family == family &&
		    elem_key_eq(&s->elem, e))
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static int grow(struct elemtab *t)
{
	struct entry *old = t->slots;
	size_t oldcap = t->cap;

	t->slots = calloc(oldcap * 2, sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old;
		return -ENOMEM;
	}
	t->cap = oldcap * 2;
	t->npending = 0;
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;

		if (!old[i].set)
			continue;
		j = probe(t, old[i].hash, old[i].family, old[i].set, &old[i].elem);
		t->slots[j] = old[i];
		if (t->slots[j].pending) /* slot indexes moved: rebuild the pending list */
			t->pending[t->npending++] = j;
	}
	free(old);
	return 0;
}

static int mark_pending(struct elemtab *t, size_t slot)
{
	if (t->slots[slot].pending)
		return 0;
	if (GROW(t->pending, t->pending_cap, t->npending + 1, 64) < 0)
		return -ENOMEM;
	t->slots[slot].pending = true;
	t->pending[t->npending++] = slot;
	return 0;
}

int elemtab_ref(struct elemtab *t, enum ir_family family, const char *set, const struct ir_elem *e,
		int delta)
{
	const char *name = intern(t, set);
	uint64_t hash;
	size_t i;

	if (!name)
		return -ENOMEM;
	/* The pending list may hold every slot; keep it able to (grow() rebuilds it). */
	if ((t->used + 1) * 4 > t->cap * 3 && grow(t) < 0)
		return -ENOMEM;
	hash = elem_hash((uint8_t)family, name, e);
	i = probe(t, hash, (uint8_t)family, name, e);
	if (!t->slots[i].set) {
		t->slots[i] = (struct entry){
		    .hash = hash, .set = name, .elem = *e, .family = (uint8_t)family};
		t->used++;
	}
	t->slots[i].count += delta;
	return mark_pending(t, i);
}

size_t elemtab_pending(const struct elemtab *t)
{
	return t->npending;
}

int elemtab_changes(const struct elemtab *t, elemtab_change_fn fn, void *userdata)
{
	/* Deletions first, so a name or address that moves between endpoints in one burst is
	 * free again before it is added. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < t->npending; k++) {
			const struct entry *s = &t->slots[t->pending[k]];
			bool want = s->count > 0;
			int r;

			if (want == s->installed || want != (pass == 1))
				continue;
			r = fn((enum ir_family)s->family, s->set, &s->elem, want, userdata);
			if (r < 0)
				return r;
		}
	return 0;
}

/* Linear probing without tombstones: close the gap by moving later entries back. */
static void remove_slot(struct elemtab *t, size_t i)
{
	size_t mask = t->cap - 1, j = i;

	t->slots[i].set = NULL;
	t->used--;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!t->slots[j].set)
			return;
		home = t->slots[j].hash & mask;
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			t->slots[i] = t->slots[j];
			t->slots[j].set = NULL;
			i = j;
		}
	}
}

static void remove_dead_everywhere(struct elemtab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		while (t->slots[i].set && t->slots[i].count <= 0)
			remove_slot(t, i);
}

void elemtab_commit(struct elemtab *t)
{
	struct entry *dead;
	size_t ndead = 0;

	for (size_t k = 0; k < t->npending; k++) {
		struct entry *s = &t->slots[t->pending[k]];

		s->installed = s->count > 0;
		s->pending = false;
		ndead += s->count <= 0;
	}
	if (ndead == 0) {
		t->npending = 0;
		return;
	}
	/* Removing a slot moves its neighbours, so save the dead keys first and look each up
	 * again: the cost follows the size of the change, not of the table. */
	dead = malloc(ndead * sizeof(*dead));
	if (!dead) {
		t->npending = 0;
		remove_dead_everywhere(t);
		return;
	}
	ndead = 0;
	for (size_t k = 0; k < t->npending; k++)
		if (t->slots[t->pending[k]].count <= 0)
			dead[ndead++] = t->slots[t->pending[k]];
	t->npending = 0;
	for (size_t k = 0; k < ndead; k++) {
		size_t i = probe(t, dead[k].hash, dead[k].family, dead[k].set, &dead[k].elem);

		if (t->slots[i].set && t->slots[i].count <= 0)
			remove_slot(t, i);
	}
	free(dead);
}

void elemtab_mark_installed(struct elemtab *t)
{
	for (size_t k = 0; k < t->npending; k++)
		t->slots[t->pending[k]].pending = false;
	t->npending = 0;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].set)
			t->slots[i].installed = t->slots[i].count > 0;
}
