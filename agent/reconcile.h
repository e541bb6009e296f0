/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_RECONCILE_H
#define NETSEG_RECONCILE_H

/*
 * Desired state (policy + endpoints) to kernel state. A policy change, the agent's start and
 * a tamper repair replace netseg's tables in one transaction (reconcile_full). An endpoint
 * coming or going only changes set elements (reconcile_endpoint + reconcile_commit): one
 * transaction whose size depends on that endpoint alone.
 */

#include <stddef.h>
#include <stdint.h>

#include "endpoints.h"
#include "ir.h"
#include "nft_batch.h"
#include "policy.h"

struct reconcile;

struct reconcile_stats {
	uint64_t elements_added, elements_deleted, failures;
	double last_ms; /* duration of the last commit or full apply */
};

/* BRIDGES: managed even without containers (--bridge); copied. */
int reconcile_new(const char *const *bridges, size_t nbridges, struct reconcile **ret);
void reconcile_free(struct reconcile *rc);

/* Installs POLICY (ownership passes to RC on success) for ENDPOINTS, replacing our tables. */
int reconcile_full(struct reconcile *rc, struct policy *policy, const struct endpoint_set *eps,
		   struct nft_batch_error *ret_err);
/* Reinstalls the current policy for ENDPOINTS (tamper repair, resync). */
int reconcile_reapply(struct reconcile *rc, const struct endpoint_set *eps,
		      struct nft_batch_error *ret_err);
/* Adds (DELTA +1) or removes (-1) EP's elements from the pending change. */
int reconcile_endpoint(struct reconcile *rc, const struct endpoint *ep, int delta);
/* Sends the pending element changes, if any, in one transaction: 1 when one went out, 0 when
 * nothing was pending, -errno on failure. */
int reconcile_commit(struct reconcile *rc, struct nft_batch_error *ret_err);

/*
 * The kernel-free part, for reconcile.c and its check suite. reconcile_count: TAB := the
 * reference counts of BASE's own elements (each once) plus every endpoint of EPS (may be
 * NULL). reconcile_count_endpoint: EP's elements counted in (DELTA +1) or out (-1).
 * reconcile_changes: the elements whose wanted state differs from the installed one, as
 * nft_batch_elements() takes them (one element per delta, deletions first), table
 * COMPILE_TABLE_NAME of BASE; *RET owns the arrays (reconcile_changes_free).
 */
struct elemtab;
struct reconcile_changes {
	struct nft_elem_delta *deltas;
	struct ir_elem *elems; /* deltas[i].elems == &elems[i] */
	size_t n;
};
int reconcile_count(struct elemtab *tab, const struct policy *p, const struct ir_ruleset *base,
		    const struct endpoint_set *eps);
int reconcile_count_endpoint(struct elemtab *tab, const struct policy *p,
			     const struct ir_ruleset *base, const struct endpoint *ep, int delta);
int reconcile_changes(const struct elemtab *tab, const struct ir_ruleset *base,
		      struct reconcile_changes *ret);
void reconcile_changes_free(struct reconcile_changes *c);

const struct policy *reconcile_policy(const struct reconcile *rc);
/* The installed ruleset without endpoints (set definitions), or NULL before the first. */
const struct ir_ruleset *reconcile_base(const struct reconcile *rc);
const struct reconcile_stats *reconcile_stats(const struct reconcile *rc);

#endif
