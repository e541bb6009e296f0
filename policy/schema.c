/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared node-tree checks; see schema.h. The wording here is what the test suites pin. */
#include "schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *schema_hintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return buf;
}

const char *schema_fmt_loc(char *buf, size_t len, struct loc l)
{
	return schema_hintf(buf, len, "%s:%d:%d", l.file ? l.file : "?", l.line, l.col);
}

bool schema_is_str(const struct node *n)
{
	return n->kind == NODE_SCALAR && n->type == NODE_STR;
}

bool schema_is_int(const struct node *n)
{
	return n->kind == NODE_SCALAR && n->type == NODE_INT;
}

void schema_type_error(struct diag_list *d, const struct node *n, const char *what,
		       const char *want)
{
	diag_error(d, n->loc, NULL, "'%s' must be %s, got %s", what, want, node_kind_name(n));
}

bool schema_want_map(struct diag_list *d, const struct node *n, const char *what)
{
	if (n->kind == NODE_MAP)
		return true;
	schema_type_error(d, n, what, "a mapping");
	return false;
}

bool schema_want_seq(struct diag_list *d, const struct node *n, const char *what)
{
	if (n->kind == NODE_SEQ)
		return true;
	schema_type_error(d, n, what, "a list");
	return false;
}

const char *schema_want_str(struct diag_list *d, const struct node *n, const char *what)
{
	if (!schema_is_str(n)) {
		schema_type_error(d, n, what, "a string");
		return NULL;
	}
	if (!n->str[0]) {
		diag_error(d, n->loc, NULL, "'%s' must not be empty", what);
		return NULL;
	}
	return n->str;
}

static bool schema_known(const char *k, const struct schema_keys *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		if (strcmp(k, ks->keys[i]) == 0)
			return true;
	return false;
}

/*
 * The known key a misspelt K most likely meant. Keys already present are no candidates:
 * "prot" next to "proto" means "port".
 */
static const char *schema_closest_absent(const struct node *m, const char *k,
					 const struct schema_keys *ks)
{
	const char *cands[16];
	size_t n = 0;

	for (size_t i = 0; i < ks->n && n < ARRAY_SIZE(cands); i++)
		if (!node_map_get(m, ks->keys[i], NULL))
			cands[n++] = ks->keys[i];
	return diag_closest(k, cands, n);
}

void schema_check_keys(struct diag_list *d, const struct node *m, const struct schema_keys *ks)
{
	char hint[SCHEMA_HINT_MAX];

	for (size_t i = 0; i < m->n; i++) {
		const struct node *k = m->keys[i];
		const char *close;

		if (schema_known(k->str, ks))
			continue;
		close = schema_closest_absent(m, k->str, ks);
		diag_error(d, k->loc,
			   close ? schema_hintf(hint, sizeof(hint), "did you mean '%s'?", close)
				 : NULL,
			   "unknown key '%s' in %s", k->str, ks->what);
	}
}

bool schema_misspelt(const struct node *m, const char *key, const struct schema_keys *ks)
{
	for (size_t i = 0; i < m->n; i++) {
		const char *k = m->keys[i]->str, *close;

		if (schema_known(k, ks))
			continue;
		close = schema_closest_absent(m, k, ks);
		if (close && strcmp(close, key) == 0)
			return true;
	}
	return false;
}

void schema_missing(struct diag_list *d, const struct node *m, const struct schema_keys *ks,
		    const char *what, const char *name, const char *key)
{
	if (schema_misspelt(m, key, ks))
		return;
	if (name)
		diag_error(d, m->loc, NULL, "%s '%s' is missing '%s'", what, name, key);
	else
		diag_error(d, m->loc, NULL, "%s is missing '%s'", what, key);
}

int schema_optional_str(struct diag_list *d, const struct node *m, const char *key, char **ret)
{
	const struct node *n = node_map_get(m, key, NULL);
	const char *s;

	if (!n || !(s = schema_want_str(d, n, key)))
		return 0;
	return schema_dup_str(s, ret);
}

int schema_add_label(struct policy_label **labels, size_t *nlabels, const char *key,
		     const char *value)
{
	struct policy_label l = {0};

	if (schema_grow((void **)labels, *nlabels, sizeof(**labels)) < 0 ||
	    schema_dup_str(key, &l.key) < 0)
		return -ENOMEM;
	if (schema_dup_str(value, &l.value) < 0) {
		free(l.key);
		return -ENOMEM;
	}
	(*labels)[(*nlabels)++] = l;
	return 0;
}

int schema_labels(struct diag_list *d, const struct node *n, struct policy_label **labels,
		  size_t *nlabels)
{
	char hint[SCHEMA_HINT_MAX];

	if (!schema_want_map(d, n, "labels"))
		return 0;
	for (size_t i = 0; i < n->n; i++) {
		const struct node *val = n->items[i];

		if (!schema_is_str(val)) {
			/* YAML `true`, `80` or `null` are not strings; quoting is the usual fix. */
			diag_error(
			    d, val->loc,
			    val->kind == NODE_SCALAR
				? schema_hintf(hint, sizeof(hint), "quote it: \"%s\"", val->str)
				: NULL,
			    "label value must be a string, got %s", node_kind_name(val));
			continue;
		}
		if (schema_add_label(labels, nlabels, n->keys[i]->str, val->str) < 0)
			return -ENOMEM;
	}
	return 0;
}

int schema_grow(void **items, size_t n, size_t size)
{
	/* The capacity the count implies: 0, then 4, then the powers of two. */
	size_t cap = n == 0 ? 0 : 4;

	while (cap < n)
		cap *= 2;
	return grow_array(items, &cap, n + 1, size, 4);
}

int schema_dup_str(const char *s, char **ret)
{
	char *c = strdup(s);

	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

int schema_own_loc(char ***files, size_t *nfiles, struct loc in, struct loc *ret)
{
	char *copy;

	*ret = in;
	if (!in.file)
		return 0;
	for (size_t i = 0; i < *nfiles; i++)
		if (strcmp((*files)[i], in.file) == 0) {
			ret->file = (*files)[i];
			return 0;
		}
	if (schema_grow((void **)files, *nfiles, sizeof(**files)) < 0 || !(copy = strdup(in.file)))
		return -ENOMEM;
	(*files)[(*nfiles)++] = copy;
	ret->file = copy;
	return 0;
}
