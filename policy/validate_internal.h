/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_VALIDATE_INTERNAL_H
#define NETSEG_VALIDATE_INTERNAL_H

/*
 * Shared by the validator's files: validate.c (the top level, groups, nets, defaults and
 * rules) and validate_selector.c (a rule's from and to). Not part of the module's interface.
 */

#include <stdbool.h>
#include <string.h>

#include "diag.h"
#include "name_index.h"
#include "node.h"
#include "policy.h"

struct vctx {
	struct diag_list *d;
	struct policy *p;
	const struct node *defaults_key; /* the first file's `defaults`, for the duplicate error */
	const struct node *dns_key;	 /* likewise for `dns` */
	/* name -> index in p->groups, p->nets, p->rules: one lookup per name, not a scan */
	struct name_index groups, nets, rules;
};

/* The keys of a match (a group, or an inline selector), and the words no group may be named. */
static const char *const match_keys[] = {"labels", "name", "image", "compose_service", "network"};
static const char *const reserved_words[] = {"containers", "world", "host", "any"};

static inline bool in_list(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w, list[i]) == 0)
			return true;
	return false;
}

static inline size_t index_of(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w, list[i]) == 0)
			return i;
	return n;
}

static inline size_t find_group(const struct vctx *v, const char *name)
{
	size_t i;

	return name_index_find(&v->groups, name, &i) ? i : v->p->ngroups;
}

static inline size_t find_net(const struct vctx *v, const char *name)
{
	size_t i;

	return name_index_find(&v->nets, name, &i) ? i : v->p->nnets;
}

/* A non-empty list of CIDRs (validate.c). Bad entries are reported and skipped. */
int validate_cidrs(struct vctx *v, const struct node *n, const char *what, bool empty_ok,
		   struct policy_cidr **ret, size_t *ret_n);
/* The match keys of mapping M (a group, or an inline selector) into OUT (validate.c). */
int validate_match(struct vctx *v, const struct node *m, struct policy_match *out);
/* A rule's `from` or `to` (WHAT) N into S (validate_selector.c). */
int validate_selector(struct vctx *v, const struct node *n, const char *what,
		      struct policy_selector *s);

#endif
