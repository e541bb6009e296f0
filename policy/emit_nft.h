/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_EMIT_NFT_H
#define NETSEG_EMIT_NFT_H

/*
 * IR -> nft(8) text that `nft -f` installs as one transaction: for each table "table X",
 * "delete table X", then the full table. Byte-identical for the same IR.
 */

#include <stdio.h>

#include "ir.h"

int emit_nft(const struct ir_ruleset *rs, FILE *out);
/* Text of one value as nft prints it for KEY (e.g. "\"eth0\"", "10.0.0.0/8", "tcp"). */
int emit_nft_value(enum ir_key key, const struct ir_value *v, char *buf, size_t len);

#endif
