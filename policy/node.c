/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			node_free(n->keys[i]);
		node_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->str);
	free(n);
}

struct node *node_map_get(const struct node *m, const char *key, struct node **ret_key)
{
	if (!m || m->kind != NODE_MAP)
		return NULL;
	/* Last match wins only in theory: the parsers reject duplicate keys. */
	for (size_t i = 0; i < m->n; i++) {
		if (m->keys[i]->str && strcmp(m->keys[i]->str, key) == 0) {
			if (ret_key)
				*ret_key = m->keys[i];
			return m->items[i];
		}
	}
	return NULL;
}

const char *node_kind_name(const struct node *n)
{
	if (!n)
		return "nothing";
	switch (n->kind) {
	case NODE_SEQ:
		return "a list";
	case NODE_MAP:
		return "a mapping";
	case NODE_SCALAR:
		break;
	}
	switch (n->type) {
	case NODE_STR:
		return "a string";
	case NODE_INT:
		return "an integer";
	case NODE_BOOL:
		return "a boolean";
	case NODE_NULL:
		return "null";
	case NODE_FLOAT:
		return "a number";
	}
	return "a value";
}

struct node *node_new(enum node_kind kind, struct loc loc)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	n->loc = loc;
	n->type = NODE_STR;
	return n;
}

/* ITEMS and KEYS share one capacity: grow both from it, record it once both have grown. */
static int node_reserve(struct node *parent, bool with_keys)
{
	size_t cap = parent->cap, kcap = parent->cap;
	int r;

	r = GROW(parent->items, cap, parent->n + 1, 4);
	if (r == 0 && with_keys)
		r = GROW(parent->keys, kcap, parent->n + 1, 4);
	if (r < 0)
		return r;
	parent->cap = cap;
	return 0;
}

int node_append(struct node *parent, struct node *key, struct node *item)
{
	int r = node_reserve(parent, key != NULL);

	if (r < 0)
		return r;
	if (key)
		parent->keys[parent->n] = key;
	parent->items[parent->n++] = item;
	return 0;
}

struct node_key_ref {
	const struct node *key;
	size_t index;
};

static const char *node_key_text(const struct node *key)
{
	return key->str ? key->str : "";
}

static int node_key_ref_cmp(const void *pa, const void *pb)
{
	const struct node_key_ref *a = pa, *b = pb;
	int c = strcmp(node_key_text(a->key), node_key_text(b->key));

	if (c)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

int node_check_duplicate_keys(const struct node *m, struct diag_list *diags)
{
	struct node_key_ref *refs;
	int r = 0;

	if (!m || m->kind != NODE_MAP || m->n < 2)
		return 0;
	/* Sorting keeps a 16 MiB map with a million keys linearithmic instead of quadratic. */
	refs = calloc(m->n, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++)
		refs[i] = (struct node_key_ref){m->keys[i], i};
	qsort(refs, m->n, sizeof(*refs), node_key_ref_cmp);
	for (size_t i = 1, first = 0; i < m->n; i++) {
		if (strcmp(node_key_text(refs[first].key), node_key_text(refs[i].key)) != 0) {
			first = i;
			continue;
		}
		diag_error(diags, refs[i].key->loc, NULL, "duplicate key '%s' (first at %d:%d)",
			   node_key_text(refs[i].key), refs[first].key->loc.line,
			   refs[first].key->loc.col);
		r = -EINVAL;
	}
	free(refs);
	return r;
}
