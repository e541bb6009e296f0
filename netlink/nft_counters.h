/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NFT_COUNTERS_H
#define NETSEG_NFT_COUNTERS_H

/* Named counter objects of one table, read from the kernel (NFT_MSG_GETOBJ dump). */

#include <stdint.h>

#include "ir.h"

typedef int (*nft_counters_cb)(const char *name, uint64_t packets, uint64_t bytes, void *userdata);

/* Calls CB for every named counter in FAMILY TABLE. -ENOENT when the table is absent. */
int nft_counters_read(enum ir_family family, const char *table, nft_counters_cb cb, void *userdata);

#endif
