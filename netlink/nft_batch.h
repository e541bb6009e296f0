/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NFT_BATCH_H
#define NETSEG_NFT_BATCH_H

/*
 * The only code that sends nf_tables messages. A ruleset IR becomes libnftnl objects in one
 * batch (nftnl_batch_begin ... nftnl_batch_end), sent with one sendmsg; the kernel applies all
 * of it or none. Errors come back with NETLINK_EXT_ACK and are mapped to the object that caused
 * them.
 */

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

#endif
