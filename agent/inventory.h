/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_INVENTORY_H
#define NETSEG_INVENTORY_H

/*
 * Every endpoint the agent manages, grouped by owner: "docker:<container id>",
 * "file:<path>", later a cluster datastore's keys. Sources replace an owner's endpoints as a
 * whole; the inventory tells the reconciler which endpoints left and which came, and never
 * needs to know where they came from.
 *
 * An interface or an address belongs to one endpoint at a time. An endpoint claiming one that
 * an enforced endpoint of another owner holds is refused: it is not enforced at all (its
 * interface stays an unknown, isolated port) and is listed by inventory_refused(). The holder
 * keeps it. When keys are freed (an owner changes or goes), refused endpoints are tried again
 * in inventory order: owners in the order they first appeared, endpoints in their source's
 * order; the first one that no longer conflicts gets the keys. The checker (the agent's kernel
 * view of interfaces) can refuse an endpoint too, and inventory_recheck() asks it again.
 */

#include <stddef.h>
#include <stdint.h>

#include "endpoints.h"
#include "reconcile.h"

struct inventory;

/* 0 to enforce E; 1 to refuse it, with the reason in WHY (one line). */
typedef int (*inventory_check_fn)(const struct endpoint *e, char *why, size_t len, void *ud);

struct inventory *inventory_new(void);
/* Applies to endpoints added from now on and to inventory_recheck(). */
void inventory_set_checker(struct inventory *inv, inventory_check_fn fn, void *ud);
void inventory_free(struct inventory *inv);

/*
 * Replaces OWNER's endpoints with EPS (taken over, freed by the inventory; NULL or empty
 * removes the owner). With RC, the old endpoints' elements are released and the new ones'
 * referenced, ready for reconcile_commit(). Returns 1 when something changed, 0 when not.
 */
int inventory_set(struct inventory *inv, const char *owner, struct endpoint_set *eps,
		  struct reconcile *rc);

/*
 * Asks the checker again about the endpoints on interface IFNAME (it appeared or changed):
 * an enforced one it now refuses is withdrawn, a refused one it now accepts is tried again.
 * Returns 1 when something changed, 0 when not, -errno.
 */
int inventory_recheck(struct inventory *inv, const char *ifname, struct reconcile *rc);

/* Calls FN for every refused endpoint, in inventory order. */
typedef void (*inventory_refused_fn)(const char *owner, const struct endpoint *e,
				     const char *reason, void *ud);
void inventory_refused(const struct inventory *inv, inventory_refused_fn fn, void *ud);
size_t inventory_refused_count(const struct inventory *inv);

/* Owners whose name starts with PREFIX, in *ret (strings valid until the next change). */
size_t inventory_owners(const struct inventory *inv, const char *prefix, const char ***ret);

/* A flat view of every enforced endpoint, borrowing the inventory's; free with inventory_view_free.
 */
int inventory_view(const struct inventory *inv, struct endpoint_set *ret);
void inventory_view_free(struct endpoint_set *view);
size_t inventory_count(const struct inventory *inv);
/* Changes whenever inventory_set() changed something: a view taken at another generation is
 * stale. */
uint64_t inventory_generation(const struct inventory *inv);

#endif
