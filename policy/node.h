/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NODE_H
#define NETSEG_NODE_H

/*
 * A format-neutral document tree. YAML (libyaml) and JSON (jansson) both parse into it, so
 * validation is written once and every error carries the line and column of its node.
 */

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

enum node_kind { NODE_SCALAR, NODE_SEQ, NODE_MAP };

/* What a scalar is, resolved the same way for both formats (YAML 1.2 core schema). */
enum node_scalar_type { NODE_STR, NODE_INT, NODE_BOOL, NODE_NULL, NODE_FLOAT };

struct node {
	enum node_kind kind;
	struct loc loc;
	/* NODE_SCALAR */
	enum node_scalar_type type;
	char *str;	/* text as written (for JSON numbers/bools: their JSON spelling) */
	long long ival; /* NODE_INT */
	bool bval;	/* NODE_BOOL */
	double fval;	/* NODE_FLOAT */
	/* NODE_SEQ: items; NODE_MAP: keys[i] (always scalars) -> items[i] */
	struct node **keys;
	struct node **items;
	size_t n;
	size_t cap; /* allocated slots in items (and keys) */
};

/* Limits every parser enforces (spec: bad input). */
#define NODE_MAX_FILE_BYTES (16u << 20)
#define NODE_MAX_DEPTH	    64

void node_free(struct node *n);

/* Value of KEY in map M, or NULL. Also returns the key node when ret_key is not NULL. */
struct node *node_map_get(const struct node *m, const char *key, struct node **ret_key);

const char *node_kind_name(const struct node *n); /* "a string", "a list", "a mapping", ... */

/* Tree building, shared by the parsers. */

/* A zeroed node of KIND at LOC (a NODE_STR scalar with str NULL until set), or NULL on OOM. */
struct node *node_new(enum node_kind kind, struct loc loc);

/*
 * Appends ITEM to sequence PARENT (KEY NULL) or KEY -> ITEM to map PARENT. Takes ownership of
 * KEY and ITEM only on success; -ENOMEM otherwise.
 */
int node_append(struct node *parent, struct node *key, struct node *item);

/*
 * Appends "duplicate key 'K' (first at LINE:COL)" at every key of map M that repeats an earlier
 * one (keys compare by their text). Returns -EINVAL if there was one, 0 otherwise.
 */
int node_check_duplicate_keys(const struct node *m, struct diag_list *diags);

#endif
