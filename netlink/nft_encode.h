/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NFT_ENCODE_H
#define NETSEG_NFT_ENCODE_H

/*
 * Ruleset IR -> nf_tables netlink messages (libnftnl), appended to one batch. The messages are
 * the ones nft(8) 1.0.x sends for the text emit_nft() renders from the same IR: same
 * expressions, same implicit dependencies, same register allocation, same set flags, key types
 * and user data, same interval element encoding. tests/unit/test_nft_encode.c holds us to it.
 *
 * Every message gets its own sequence number and a description of what it does ("install set
 * g_web4 in table inet netseg"), so a kernel error can be reported against that object.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"

struct nft_encode;
struct nftnl_batch;
struct nlmsghdr;

/* Element messages carry at most this many elements (and always fit the 64 KiB nest limit). */
#define NFT_ENCODE_ELEMS_PER_MSG 1024

/* A batch with BATCH_BEGIN already appended, numbered from FIRST_SEQ. NULL on OOM. */
struct nft_encode *nft_encode_new(uint32_t first_seq);
void nft_encode_free(struct nft_encode *e);

/*
 * Appends, for table T: NEWTABLE (so the delete cannot fail), DELTABLE, NEWTABLE, then its
 * chains, counters, sets with their elements, and rules. Chains come before sets because map
 * elements may jump to them; that is also nft's order. 0, -ENOMEM, or -EINVAL when the IR holds
 * something nft could not express (e.g. a lookup of an unknown set, ip saddr in an arp table).
 */
int nft_encode_table_replace(struct nft_encode *e, const struct ir_table *t);
/* Appends NEWTABLE + DELTABLE: deletes the table whether or not it exists. */
int nft_encode_table_delete(struct nft_encode *e, enum ir_family family, const char *name);
/* Element messages one nft_encode_elems() call may append (a delta is a handful). */
#define NFT_ENCODE_DELTA_MAX 65536

/*
 * Appends N element changes to SET (its definition: name, key types, is_vmap; its own
 * elements are not read) of table FAMILY TABLE, which must already exist in the kernel: one
 * NEWSETELEM (DEL: DELSETELEM) message per element, described as "add element \"veth1\" .
 * 10.0.0.2 to set port_addrs4 in table bridge netseg". The batch holds only these elements,
 * whatever the set holds. Adding an element that exists is not an error (no NLM_F_EXCL) unless
 * it is a map element with a different verdict (EBUSY): change a verdict with a delete and an
 * add in the same batch. Deleting an element that does not exist fails with ENOENT.
 * 0; -EOPNOTSUPP for interval or constant sets; -EINVAL for a key of the wrong length, an
 * address with a prefix, an empty or over-long interface name, or a jump/goto without a chain;
 * -E2BIG above NFT_ENCODE_DELTA_MAX; -ENOMEM. After an error, only describe and free.
 */
int nft_encode_elems(struct nft_encode *e, enum ir_family family, const char *table,
		     const struct ir_set *set, const struct ir_elem *elems, size_t n, bool del);

/*
 * Asks for an acknowledgement of the last message (so the receiver knows the kernel went
 * through the whole batch) and appends BATCH_END. Nothing may be appended afterwards.
 */
int nft_encode_finish(struct nft_encode *e);

struct nftnl_batch *nft_encode_batch(const struct nft_encode *e);
uint32_t nft_encode_first_seq(const struct nft_encode *e); /* BATCH_BEGIN */
uint32_t nft_encode_last_seq(const struct nft_encode *e);  /* last message before BATCH_END */
size_t nft_encode_nmsgs(const struct nft_encode *e);	   /* object messages, without BEGIN/END */

/*
 * What the message numbered SEQ does, as a verb phrase ("install set g_web4 in table inet
 * netseg", "delete table arp netseg", "commit the transaction" for BATCH_BEGIN, against which
 * nfnetlink reports batch-wide errors); NULL if SEQ is not ours.
 */
const char *nft_encode_describe(const struct nft_encode *e, uint32_t seq);
/*
 * Refines a description with the attribute at byte OFFSET of message SEQ (the kernel's
 * NLMSGERR_ATTR_OFFS): e.g. "expression 3 (lookup)" of a rule or "element 17" of an element
 * message, with the element's key in hex. Writes "" when it cannot tell.
 */
void nft_encode_describe_offset(const struct nft_encode *e, uint32_t seq, uint32_t offset,
				char *buf, size_t len);
/* The message numbered SEQ inside the batch, or NULL. */
const struct nlmsghdr *nft_encode_msg(const struct nft_encode *e, uint32_t seq);

/* "inet", "arp", "bridge". */
const char *nft_encode_family_name(enum ir_family family);

#endif
