/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NFT_ENCODE_INT_H
#define NETSEG_NFT_ENCODE_INT_H

/* Shared by the nft_encode*.c files only: the batch under construction and the helpers that
 * append to it. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"

struct nftnl_batch;
struct nlmsghdr;

#define REG32_SIZE 4

struct nft_encode {
	struct nftnl_batch *batch;
	uint32_t first_seq; /* BATCH_BEGIN */
	uint32_t seq;	    /* next message */
	char **descs;	    /* descs[i]: message first_seq + 1 + i */
	size_t ndescs, descs_cap;
	uint32_t next_set_id;
	bool finished;
};

/* Appends the description of the next message (see nft_encode_describe). */
__attribute__((format(printf, 2, 3))) int enc_describe(struct nft_encode *e, const char *fmt, ...);
/* Starts the next message in the batch (enc_describe() names its object). */
struct nlmsghdr *enc_begin_msg(struct nft_encode *e, uint16_t type, enum ir_family family,
			       uint16_t flags);
int enc_end_msg(struct nft_encode *e);

static inline uint32_t round_up4(uint32_t n)
{
	return (n + REG32_SIZE - 1) / REG32_SIZE * REG32_SIZE;
}

/* nft_encode_set.c */
int enc_set_validate(const struct ir_set *s);
int enc_set(struct nft_encode *e, const struct ir_table *t, const struct ir_set *s,
	    uint32_t set_id);

/* nft_encode_elem.c */
int enc_value_bytes(const struct ir_value *v, uint32_t len, uint8_t *out);
void enc_prefix_last(uint8_t *buf, uint32_t len, uint32_t prefix);
int enc_verdict_code(const struct ir_verdict *v, int32_t *ret);
int enc_elems(struct nft_encode *e, const struct ir_table *t, const struct ir_set *s,
	      uint32_t set_id);

/* nft_encode_rule.c */
int enc_rule(struct nft_encode *e, const struct ir_table *t, const struct ir_chain *c, size_t idx,
	     uint32_t set_id_base);

#endif
