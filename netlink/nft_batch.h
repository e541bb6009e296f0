/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NFT_BATCH_H
#define NETSEG_NFT_BATCH_H

/*
 * The only code that sends nf_tables messages. A ruleset IR becomes libnftnl objects in one
 * batch (nftnl_batch_begin ... nftnl_batch_end), sent with one sendmsg; the kernel applies all
 * of it or none. Errors come back with NETLINK_EXT_ACK and are mapped to the object that caused
 * them.
 */

#include <stdbool.h>
#include <stddef.h>

#include "ir.h"

struct nft_batch_error {
	int err; /* negative errno */
	/* One line naming the object, the reason and what the kernel added, e.g. "cannot install
	 * rule 3 of chain from_container4 in table inet netseg: No such file or directory (at
	 * expression 5 (immediate))". */
	char message[512];
};

/* Replaces every table of RS (add, delete, re-create) in one transaction. */
int nft_batch_apply(const struct ir_ruleset *rs, struct nft_batch_error *ret_err);

/* Deletes the named tables, if present, in one transaction. */
int nft_batch_flush(const struct ir_ruleset *tables_only, struct nft_batch_error *ret_err);

/*
 * A change of some elements of one set or map that exists in the kernel: the agent's
 * incremental path. SET gives the definition (name, key types, is_vmap); its own elements are
 * not read, so the batch's size depends only on N.
 */
struct nft_elem_delta {
	enum ir_family family;
	const char *table;
	const struct ir_set *set;
	const struct ir_elem *elems;
	size_t n;
	bool del;
};

/*
 * Applies the N deltas, in order, in one transaction: all of them or none. Adding an element
 * that is present is fine; deleting one that is absent fails the whole batch with -ENOENT, e.g.
 * "cannot delete element 10.0.0.9 from set containers4 in table inet netseg: No such file or
 * directory (the element is not in the set)". Interval and constant sets: -EOPNOTSUPP.
 */
int nft_batch_elements(const struct nft_elem_delta *d, size_t n, struct nft_batch_error *ret_err);

#endif
