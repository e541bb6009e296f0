/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_INVENTORY_H
#define NETSEG_INVENTORY_H

/*
 * Every endpoint the agent manages, grouped by owner: "docker:<container id>",
 * "file:<path>", later a cluster datastore's keys. Sources replace an owner's endpoints as a
 * whole; the inventory tells the reconciler which endpoints left and which came, and never
 * needs to know where they came from.
 */

#include <stddef.h>
#include <stdint.h>

#include "endpoints.h"
#include "reconcile.h"

struct inventory;

struct inventory *inventory_new(void);
void inventory_free(struct inventory *inv);

/*
 * Replaces OWNER's endpoints with EPS (taken over, freed by the inventory; NULL or empty
 * removes the owner). With RC, the old endpoints' elements are released and the new ones'
 * referenced, ready for reconcile_commit(). Returns 1 when something changed, 0 when not.
 */
int inventory_set(struct inventory *inv, const char *owner, struct endpoint_set *eps,
		  struct reconcile *rc);

/* Owners whose name starts with PREFIX, in *ret (strings valid until the next change). */
size_t inventory_owners(const struct inventory *inv, const char *prefix, const char ***ret);

/* A flat view of every endpoint, borrowing the inventory's; free with inventory_view_free. */
int inventory_view(const struct inventory *inv, struct endpoint_set *ret);
void inventory_view_free(struct endpoint_set *view);
size_t inventory_count(const struct inventory *inv);
/* Changes whenever inventory_set() changed something: a view taken at another generation is
 * stale. */
uint64_t inventory_generation(const struct inventory *inv);

#endif
