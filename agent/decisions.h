/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_DECISIONS_H
#define NETSEG_DECISIONS_H

/*
 * Decision logs: each NFLOG record becomes one JSON line (time, verdict, the rule or default
 * that decided, protocol, both ends' addresses and ports, and for an end that is a managed
 * container its name, id and labels). Ends are found through an address index rebuilt
 * lazily after the inventory changed, so attribution costs a binary search per end.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "endpoints.h"
#include "nflog.h"
#include "policy.h"

struct decisions;

int decisions_new(struct decisions **ret);
void decisions_free(struct decisions *d);

/* Names of destination addresses learned from DNS (fqdn rules): NAME_OF returns the name
 * ADDR was learned from, or NULL; decision lines then carry dst.fqdn. */
typedef const char *(*decisions_name_fn)(int family, const uint8_t *addr, void *ud);
void decisions_set_names(struct decisions *d, decisions_name_fn name_of, void *ud);

/* The endpoints changed: the index is rebuilt from the next VIEW given to decisions_write. */
void decisions_invalidate(struct decisions *d);
/* Our tables were replaced: the kernel's counters restart from zero, so do the per-counter
 * counts that pair with them. */
void decisions_reset_epoch(struct decisions *d);

/*
 * Writes REC as one JSON line to OUT and flushes. VIEW (borrowed, must stay valid until the
 * next decisions_invalidate) is indexed when the index is stale. Records whose prefix is not
 * netseg's are ignored (-EINVAL).
 */
int decisions_write(struct decisions *d, const struct nflog_record *rec,
		    const struct endpoint_set *view, FILE *out);

/* Lines written for COUNTER ("r_web-to-db", "d_c2c"): in total, and since the last reset. */
void decisions_logged(const struct decisions *d, const char *counter, uint64_t *ret_total,
		      uint64_t *ret_epoch);
uint64_t decisions_total(const struct decisions *d);

/* Splits "netseg r_x drop" into the counter and the verdict; false when not ours. */
bool decisions_parse_prefix(const char *prefix, char *counter, size_t clen, char *verdict,
			    size_t vlen);

#endif
