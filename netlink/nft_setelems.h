/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NFT_SETELEMS_H
#define NETSEG_NFT_SETELEMS_H

/* Reading the elements of one set back from the kernel (a dump), with their lifetimes. */

#include <stddef.h>
#include <stdint.h>

#include "ir.h"

/* KEY[0..len) as the kernel holds it; EXPIRES_MS: what is left of its timeout (0: none). */
typedef void (*nft_setelems_fn)(const uint8_t *key, size_t len, uint64_t expires_ms, void *ud);

/* Calls FN for every element of set SET of table FAMILY TABLE. 0, -ENOENT (no such set or
 * table), or -errno. */
int nft_setelems_dump(enum ir_family family, const char *table, const char *set, nft_setelems_fn fn,
		      void *ud);

#endif
