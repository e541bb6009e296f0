/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IR -> libnftnl messages, mirroring what nft 1.0.x sends for the same ruleset as text (see
 * nft --debug=netlink,mnl and docs/.nft-debug-sample.txt). Where nft's choice looks arbitrary
 * (a byteorder expression on a one-byte key, the empty typeof user data of a concatenation),
 * we copy it anyway: the reference listing of the kernel state must be identical.
 */
#include "nft_encode.h"
#include "nft_encode_int.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter_arp.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

/*
 * A page holds many messages; the overrun must fit the largest single message, an element
 * message whose nest is capped at 64 KiB by the 16-bit attribute length.
 */
#define ENC_PAGE_SIZE	 (256u * 1024u)
#define ENC_PAGE_OVERRUN (UINT16_MAX + 8192u)

const char *nft_encode_family_name(enum ir_family family)
{
	switch (family) {
	case IR_FAMILY_INET:
		return "inet";
	case IR_FAMILY_ARP:
		return "arp";
	case IR_FAMILY_BRIDGE:
		return "bridge";
	}
	return "unknown";
}

struct nft_encode *nft_encode_new(uint32_t first_seq)
{
	struct nft_encode *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->batch = nftnl_batch_alloc(ENC_PAGE_SIZE, ENC_PAGE_OVERRUN);
	if (!e->batch) {
		free(e);
		return NULL;
	}
	e->first_seq = first_seq;
	e->seq = first_seq;
	nftnl_batch_begin(nftnl_batch_buffer(e->batch), e->seq++);
	if (nftnl_batch_update(e->batch) < 0) {
		nft_encode_free(e);
		return NULL;
	}
	return e;
}

void nft_encode_free(struct nft_encode *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->ndescs; i++)
		free(e->descs[i]);
	free(e->descs);
	if (e->batch)
		nftnl_batch_free(e->batch);
	free(e);
}

struct nftnl_batch *nft_encode_batch(const struct nft_encode *e)
{
	return e->batch;
}

uint32_t nft_encode_first_seq(const struct nft_encode *e)
{
	return e->first_seq;
}

uint32_t nft_encode_last_seq(const struct nft_encode *e)
{
	return e->first_seq + (uint32_t)e->ndescs;
}

size_t nft_encode_nmsgs(const struct nft_encode *e)
{
	return e->ndescs;
}

const char *nft_encode_describe(const struct nft_encode *e, uint32_t seq)
{
	uint32_t i = seq - e->first_seq - 1;

	if (seq == e->first_seq)
		return "commit the transaction";
	if (i >= e->ndescs)
		return NULL;
	return e->descs[i];
}

int enc_describe(struct nft_encode *e, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	if (GROW(e->descs, e->descs_cap, e->ndescs + 1, 64) < 0)
		return -ENOMEM;
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	e->descs[e->ndescs++] = s;
	return 0;
}

/* Starts the next message in the batch (enc_describe() names its object). */
struct nlmsghdr *enc_begin_msg(struct nft_encode *e, uint16_t type, enum ir_family family,
			       uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(e->batch), type, (uint16_t)family, flags,
				     e->seq);
}

int enc_end_msg(struct nft_encode *e)
{
	e->seq++;
	return nftnl_batch_update(e->batch) < 0 ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------- tables, chains, objects */

static int enc_table_msg(struct nft_encode *e, uint16_t type, enum ir_family family,
			 const char *name)
{
	const char *fam = nft_encode_family_name(family);
	struct nftnl_table *t = NULL;
	struct nlmsghdr *nlh;
	int r;

	r = enc_describe(e, type == NFT_MSG_DELTABLE ? "delete table %s %s" : "install table %s %s",
			 fam, name);
	if (r < 0)
		return r;
	t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, name) < 0) {
		r = -ENOMEM;
		goto out;
	}
	/* nft sends flags 0 on every add: keeps a previously dormant table from staying so. */
	if (type == NFT_MSG_NEWTABLE)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
	nlh = enc_begin_msg(e, type, family, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	r = enc_end_msg(e);
out:
	nftnl_table_free(t);
	return r;
}

static int enc_hooknum(enum ir_family family, enum ir_hook hook, uint32_t *ret)
{
	if (family == IR_FAMILY_ARP) {
		/* arp has only input and output (NF_ARP_IN, NF_ARP_OUT). */
		if (hook == IR_HOOK_INPUT)
			*ret = NF_ARP_IN;
		else if (hook == IR_HOOK_OUTPUT)
			*ret = NF_ARP_OUT;
		else
			return -EINVAL;
		return 0;
	}
	switch (hook) {
	case IR_HOOK_PREROUTING:
		*ret = NF_INET_PRE_ROUTING;
		return 0;
	case IR_HOOK_INPUT:
		*ret = NF_INET_LOCAL_IN;
		return 0;
	case IR_HOOK_FORWARD:
		*ret = NF_INET_FORWARD;
		return 0;
	case IR_HOOK_OUTPUT:
		*ret = NF_INET_LOCAL_OUT;
		return 0;
	}
	return -EINVAL;
}

static int enc_chain(struct nft_encode *e, const struct ir_table *t, const struct ir_chain *c)
{
	struct nftnl_chain *ch;
	struct nlmsghdr *nlh;
	uint32_t hooknum;
	int r;

	r = enc_describe(e, "install chain %s in table %s %s", c->name,
			 nft_encode_family_name(t->family), t->name);
	if (r < 0)
		return r;
	ch = nftnl_chain_alloc();
	if (!ch)
		return -ENOMEM;
	if (nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, t->name) < 0 ||
	    nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, c->name) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (c->base) {
		r = enc_hooknum(t->family, c->hook, &hooknum);
		if (r < 0)
			goto out;
		if (nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter") < 0) {
			r = -ENOMEM;
			goto out;
		}
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, hooknum);
		nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, c->priority);
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = enc_begin_msg(e, NFT_MSG_NEWCHAIN, t->family, NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	r = enc_end_msg(e);
out:
	nftnl_chain_free(ch);
	return r;
}

static int enc_counter(struct nft_encode *e, const struct ir_table *t, const char *name)
{
	struct nftnl_obj *o;
	struct nlmsghdr *nlh;
	int r;

	r = enc_describe(e, "install counter %s in table %s %s", name,
			 nft_encode_family_name(t->family), t->name);
	if (r < 0)
		return r;
	o = nftnl_obj_alloc();
	if (!o)
		return -ENOMEM;
	/* nftnl_obj_set_str() returns nothing: check that the copies were made. */
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, t->name);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	if (!nftnl_obj_is_set(o, NFTNL_OBJ_TABLE) || !nftnl_obj_is_set(o, NFTNL_OBJ_NAME)) {
		r = -ENOMEM;
		goto out;
	}
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, t->family);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, 0);
	nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, 0);
	nlh = enc_begin_msg(e, NFT_MSG_NEWOBJ, t->family, NLM_F_CREATE);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	r = enc_end_msg(e);
out:
	nftnl_obj_free(o);
	return r;
}

/* ------------------------------------------------------------------------- public */

int nft_encode_table_delete(struct nft_encode *e, enum ir_family family, const char *name)
{
	int r;

	if (e->finished || !name)
		return -EINVAL;
	r = enc_table_msg(e, NFT_MSG_NEWTABLE, family, name);
	if (r == 0)
		r = enc_table_msg(e, NFT_MSG_DELTABLE, family, name);
	return r;
}

int nft_encode_table_replace(struct nft_encode *e, const struct ir_table *t)
{
	uint32_t set_id_base;
	int r;

	if (e->finished || !t->name)
		return -EINVAL;
	r = nft_encode_table_delete(e, t->family, t->name);
	if (r == 0)
		r = enc_table_msg(e, NFT_MSG_NEWTABLE, t->family, t->name);
	for (size_t i = 0; r == 0 && i < t->nchains; i++)
		r = enc_chain(e, t, t->chains[i]);
	for (size_t i = 0; r == 0 && i < t->ncounters; i++)
		r = enc_counter(e, t, t->counters[i]);
	/* Set ids tie lookups to sets created in the same batch; unique per batch. */
	set_id_base = e->next_set_id + 1;
	e->next_set_id += (uint32_t)t->nsets;
	for (size_t i = 0; r == 0 && i < t->nsets; i++) {
		r = enc_set(e, t, t->sets[i], set_id_base + (uint32_t)i);
		if (r == 0)
			r = enc_elems(e, t, t->sets[i], set_id_base + (uint32_t)i);
	}
	for (size_t i = 0; r == 0 && i < t->nchains; i++)
		for (size_t j = 0; r == 0 && j < t->chains[i]->n; j++)
			r = enc_rule(e, t, t->chains[i], j, set_id_base);
	return r;
}

int nft_encode_finish(struct nft_encode *e)
{
	if (e->finished)
		return -EINVAL;
	if (e->ndescs) {
		/*
		 * Errors come back unasked; one acknowledgement of the last message tells the
		 * receiver the kernel went through the whole batch.
		 */
		struct nlmsghdr *last = (struct nlmsghdr *)nft_encode_msg(e, e->seq - 1);

		if (!last)
			return -EINVAL;
		last->nlmsg_flags |= NLM_F_ACK;
	}
	nftnl_batch_end(nftnl_batch_buffer(e->batch), e->seq);
	e->finished = true;
	return nftnl_batch_update(e->batch) < 0 ? -ENOMEM : 0;
}

const struct nlmsghdr *nft_encode_msg(const struct nft_encode *e, uint32_t seq)
{
	int n = nftnl_batch_iovec_len(e->batch);
	struct iovec *iov;
	const struct nlmsghdr *found = NULL;

	if (n <= 0)
		return NULL;
	iov = calloc((size_t)n, sizeof(*iov));
	if (!iov)
		return NULL;
	nftnl_batch_iovec(e->batch, iov, (uint32_t)n);
	for (int i = 0; i < n && !found; i++) {
		const struct nlmsghdr *nlh = iov[i].iov_base;
		int left = (int)iov[i].iov_len;

		while (mnl_nlmsg_ok(nlh, left)) {
			if (nlh->nlmsg_seq == seq) {
				found = nlh;
				break;
			}
			nlh = mnl_nlmsg_next(nlh, &left);
		}
	}
	free(iov);
	return found;
}
