/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IR -> libnftnl messages, mirroring what nft 1.0.x sends for the same ruleset as text (see
 * nft --debug=netlink,mnl and docs/.nft-debug-sample.txt). Where nft's choice looks arbitrary
 * (a byteorder expression on a one-byte key, the empty typeof user data of a concatenation),
 * we copy it anyway: the reference listing of the kernel state must be identical.
 */
#include "nft_encode.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter_arp.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>

/* nft's datatype ids (src/datatype.h), as the kernel stores them in NFTA_SET_KEY_TYPE. */
#define NFT_TYPE_INTEGER       4 /* raw payloads, e.g. the ND target @th,64,128 */
#define NFT_TYPE_IPADDR	       7
#define NFT_TYPE_IP6ADDR       8
#define NFT_TYPE_INET_PROTOCOL 12
#define NFT_TYPE_INET_SERVICE  13
#define NFT_TYPE_ICMP6_TYPE    29
#define NFT_TYPE_IFNAME	       41
#define NFT_TYPE_BITS	       6 /* concatenated type: (a << 6) | b */

/* nft's enum byteorder, stored in the set's user data (NFTNL_UDATA_SET_KEYBYTEORDER). */
#define NFT_BYTEORDER_INVALID 0
#define NFT_BYTEORDER_HOST    1
#define NFT_BYTEORDER_BIG     2

/* nft 1.0.x's EXPR_CONCAT, written into the typeof user data of concatenated keys, and the
 * expression kinds of "typeof" components (EXPR_PAYLOAD, EXPR_META), with the user data
 * attributes nft writes for them (src/payload.c, src/meta.c build_udata). */
#define NFT_UDATA_EXPR_CONCAT  13
#define NFT_UDATA_EXPR_PAYLOAD 7
#define NFT_UDATA_EXPR_META    9
#define NFT_UDATA_META_KEY     0
#define NFT_UDATA_PAYLOAD_DESC 0
#define NFT_UDATA_PAYLOAD_TYPE 1
#define NFT_UDATA_PAYLOAD_BASE 2
#define NFT_UDATA_PAYLOAD_OFF  3
#define NFT_UDATA_PAYLOAD_LEN  4
#define NFT_PROTO_BASE_TH      3 /* nft's PROTO_BASE_TRANSPORT_HDR */

/*
 * A page holds many messages; the overrun must fit the largest single message, an element
 * message whose nest is capped at 64 KiB by the 16-bit attribute length.
 */
#define ENC_PAGE_SIZE	 (256u * 1024u)
#define ENC_PAGE_OVERRUN (UINT16_MAX + 8192u)

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

__attribute__((format(printf, 2, 3))) static int enc_describe(struct nft_encode *e, const char *fmt,
							      ...)
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
static struct nlmsghdr *enc_begin_msg(struct nft_encode *e, uint16_t type, enum ir_family family,
				      uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(e->batch), type, (uint16_t)family, flags,
				     e->seq);
}

static int enc_end_msg(struct nft_encode *e)
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

/* ---------------------------------------------------------------------------- sets */

static int enc_type_id(enum ir_type t)
{
	switch (t) {
	case IR_TYPE_IFNAME:
		return NFT_TYPE_IFNAME;
	case IR_TYPE_IPV4:
		return NFT_TYPE_IPADDR;
	case IR_TYPE_IPV6:
		return NFT_TYPE_IP6ADDR;
	case IR_TYPE_INET_PROTO:
		return NFT_TYPE_INET_PROTOCOL;
	case IR_TYPE_INET_SERVICE:
		return NFT_TYPE_INET_SERVICE;
	case IR_TYPE_ICMPV6_TYPE:
		return NFT_TYPE_ICMP6_TYPE;
	case IR_TYPE_ND_TARGET:
		return NFT_TYPE_INTEGER;
	}
	return -EINVAL;
}

/* The byte order nft records for a key of this type (its datatype's). */
static uint32_t enc_type_byteorder(enum ir_type t)
{
	switch (t) {
	case IR_TYPE_IFNAME:
		return NFT_BYTEORDER_HOST;
	case IR_TYPE_INET_PROTO:
		return NFT_BYTEORDER_INVALID;
	default:
		return NFT_BYTEORDER_BIG;
	}
}

static uint32_t round_up4(uint32_t n)
{
	return (n + REG32_SIZE - 1) / REG32_SIZE * REG32_SIZE;
}

/* Whether nft declares the set by "typeof": a component type it has no name for. */
static bool enc_set_has_typeof(const struct ir_set *s)
{
	for (size_t i = 0; i < s->ntypes; i++)
		if (s->types[i] == IR_TYPE_ND_TARGET)
			return true;
	return false;
}

static int enc_set_validate(const struct ir_set *s)
{
	if (s->ntypes < 1 || s->ntypes > IR_CONCAT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < s->ntypes; i++)
		if (enc_type_id(s->types[i]) < 0)
			return -EINVAL;
	/* Verdict maps: single keys (the interface dispatch), single-key intervals (the port
	 * dispatch: enc_interval_elems carries the verdicts) or concatenated intervals (one
	 * pipapo element per range, like a concatenated interval set). */
	if (s->is_vmap && !s->interval && s->ntypes != 1)
		return -EINVAL;
	/* A typeof key (enc_typeof_parts): only iifname . @th,64,128 is written out. */
	if (enc_set_has_typeof(s) &&
	    (s->is_vmap || s->interval || s->ntypes != 2 || s->types[0] != IR_TYPE_IFNAME ||
	     s->types[1] != IR_TYPE_ND_TARGET))
		return -EOPNOTSUPP;
	return 0;
}

/* The components of a "typeof iifname . @th,64,128" key, as nft records them. */
static bool enc_typeof_parts(struct nftnl_udata_buf *ud)
{
	struct nftnl_udata *part, *data;

	part = nftnl_udata_nest_start(ud, 0);
	if (!part || !nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_TYPEOF_EXPR, NFT_UDATA_EXPR_META))
		return false;
	data = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_TYPEOF_DATA);
	if (!data || !nftnl_udata_put_u32(ud, NFT_UDATA_META_KEY, NFT_META_IIFNAME))
		return false;
	nftnl_udata_nest_end(ud, data);
	nftnl_udata_nest_end(ud, part);
	part = nftnl_udata_nest_start(ud, 1);
	if (!part || !nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_TYPEOF_EXPR, NFT_UDATA_EXPR_PAYLOAD))
		return false;
	data = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_TYPEOF_DATA);
	/* desc 0, template 0: a raw payload, located by base, offset and length (bits) */
	if (!data || !nftnl_udata_put_u32(ud, NFT_UDATA_PAYLOAD_DESC, 0) ||
	    !nftnl_udata_put_u32(ud, NFT_UDATA_PAYLOAD_TYPE, 0) ||
	    !nftnl_udata_put_u32(ud, NFT_UDATA_PAYLOAD_BASE, NFT_PROTO_BASE_TH) ||
	    !nftnl_udata_put_u32(ud, NFT_UDATA_PAYLOAD_OFF, 64) ||
	    !nftnl_udata_put_u32(ud, NFT_UDATA_PAYLOAD_LEN, 128))
		return false;
	nftnl_udata_nest_end(ud, data);
	nftnl_udata_nest_end(ud, part);
	return true;
}

static int enc_set_userdata(const struct ir_set *s, struct nftnl_set *ns)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	struct nftnl_udata *n1, *n2;
	uint32_t keyorder;
	int r = -ENOMEM;

	if (!ud)
		return -ENOMEM;
	keyorder = s->ntypes > 1 ? NFT_BYTEORDER_INVALID : enc_type_byteorder(s->types[0]);
	if (!nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, keyorder))
		goto out;
	if (s->is_vmap &&
	    !nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATABYTEORDER, NFT_BYTEORDER_INVALID))
		goto out;
	if (s->ntypes > 1) {
		/*
		 * nft records a typeof for concatenations even when declared with "type": the
		 * concat marker with an empty component list, which it ignores when listing.
		 */
		n1 = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_KEY_TYPEOF);
		if (!n1 ||
		    !nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_TYPEOF_EXPR, NFT_UDATA_EXPR_CONCAT))
			goto out;
		n2 = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_TYPEOF_DATA);
		if (!n2 || (enc_set_has_typeof(s) && !enc_typeof_parts(ud)))
			goto out;
		nftnl_udata_nest_end(ud, n2);
		nftnl_udata_nest_end(ud, n1);
	}
	if (s->is_vmap && !nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATA_INTERVAL, 0))
		goto out;
	if (nftnl_set_set_data(ns, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
			       nftnl_udata_buf_len(ud)) < 0)
		goto out;
	r = 0;
out:
	nftnl_udata_buf_free(ud);
	return r;
}

static int enc_set(struct nft_encode *e, const struct ir_table *t, const struct ir_set *s,
		   uint32_t set_id)
{
	struct nftnl_set *ns;
	struct nlmsghdr *nlh;
	uint32_t flags = 0, keytype = 0, keylen = 0;
	int r;

	/* Described first, so an error of our own is reported against this set too. */
	r = enc_describe(e, "install %s %s in table %s %s", s->is_vmap ? "map" : "set", s->name,
			 nft_encode_family_name(t->family), t->name);
	if (r == 0)
		r = enc_set_validate(s);
	if (r < 0)
		return r;
	ns = nftnl_set_alloc();
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < s->ntypes; i++) {
		uint32_t len = (uint32_t)ir_type_len(s->types[i]);

		keytype = (keytype << NFT_TYPE_BITS) | (uint32_t)enc_type_id(s->types[i]);
		keylen += s->ntypes > 1 ? round_up4(len) : len;
	}
	if (s->interval)
		flags |= NFT_SET_INTERVAL;
	if (s->interval && s->ntypes > 1)
		flags |= NFT_SET_CONCAT;
	if (s->constant)
		flags |= NFT_SET_CONSTANT;
	if (s->is_vmap)
		flags |= NFT_SET_MAP;
	if (s->timeout)
		flags |= NFT_SET_TIMEOUT;

	if (nftnl_set_set_str(ns, NFTNL_SET_TABLE, t->name) < 0 ||
	    nftnl_set_set_str(ns, NFTNL_SET_NAME, s->name) < 0) {
		r = -ENOMEM;
		goto out;
	}
	nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, t->family);
	nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, keytype);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, keylen);
	if (s->is_vmap) {
		nftnl_set_set_u32(ns, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(ns, NFTNL_SET_DATA_LEN, 0);
	}
	nftnl_set_set_u32(ns, NFTNL_SET_ID, set_id);
	if (s->constant)
		/* nft counts a constant set's elements as its NFTA_SET_DESC_SIZE. */
		nftnl_set_set_u32(ns, NFTNL_SET_DESC_SIZE, (uint32_t)s->n);
	if (s->interval && s->ntypes > 1) {
		/* pipapo needs each field's length; nft sends the unpadded lengths. */
		uint8_t fl[IR_CONCAT_MAX]; /* libnftnl's desc.field_len is a byte array */

		for (size_t i = 0; i < s->ntypes; i++)
			fl[i] = (uint8_t)ir_type_len(s->types[i]);
		if (nftnl_set_set_data(ns, NFTNL_SET_DESC_CONCAT, fl,
				       (uint32_t)(s->ntypes * sizeof(fl[0]))) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = enc_set_userdata(s, ns);
	if (r < 0)
		goto out;
	nlh = enc_begin_msg(e, NFT_MSG_NEWSET, t->family, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, ns);
	r = enc_end_msg(e);
out:
	nftnl_set_free(ns);
	return r;
}

/* ------------------------------------------------------------------------ elements */

/* One element as the kernel receives it. */
struct enc_elem {
	uint8_t key[64], key_end[64];
	uint32_t key_len, key_end_len; /* key_end_len 0: none */
	uint32_t flags;		       /* NFT_SET_ELEM_INTERVAL_END */
	bool open;		       /* start of an interval that runs to the end of the range */
	const struct ir_verdict *verdict;
};

/* Copies V into OUT as LEN bytes (names and short values zero padded). */
static int enc_value_bytes(const struct ir_value *v, uint32_t len, uint8_t *out)
{
	if (v->len > len || len > 16)
		return -EINVAL;
	memset(out, 0, len);
	memcpy(out, v->data, v->len < len ? v->len : len);
	return 0;
}

/* Last value of a prefix: host bits set. */
static void enc_prefix_last(uint8_t *buf, uint32_t len, uint32_t prefix)
{
	for (uint32_t bit = prefix; bit < len * 8; bit++)
		buf[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
}

static void enc_prefix_first(uint8_t *buf, uint32_t len, uint32_t prefix)
{
	for (uint32_t bit = prefix; bit < len * 8; bit++)
		buf[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

/* The inclusive range [FIRST, LAST] of component C of an interval element. */
static int enc_elem_range(const struct ir_elem *el, size_t c, uint32_t len, uint8_t *first,
			  uint8_t *last)
{
	const struct ir_value *k = &el->key[c];
	int r;

	r = enc_value_bytes(k, len, first);
	if (r < 0)
		return r;
	if (k->prefix && k->prefix < len * 8) {
		enc_prefix_first(first, len, k->prefix);
		memcpy(last, first, len);
		enc_prefix_last(last, len, k->prefix);
	} else if (el->key_end[c].len) {
		r = enc_value_bytes(&el->key_end[c], len, last);
	} else {
		memcpy(last, first, len);
	}
	return r;
}

/* Big-endian increment; false when it wraps (the range runs to the end). */
static bool enc_be_inc(uint8_t *buf, uint32_t len)
{
	for (uint32_t i = len; i-- > 0;) {
		if (++buf[i] != 0)
			return true;
	}
	return false;
}

struct enc_elems {
	struct enc_elem *v;
	size_t n, cap;
};

static struct enc_elem *enc_elems_push(struct enc_elems *l)
{
	if (GROW(l->v, l->cap, l->n + 1, 64) < 0)
		return NULL;
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

struct enc_iv {
	uint8_t first[16], last[16];
	const struct ir_verdict *verdict; /* maps: the start element's data */
};

/* qsort_r context: the key length. */
static int enc_iv_cmp(const void *a, const void *b, void *len)
{
	return memcmp(((const struct enc_iv *)a)->first, ((const struct enc_iv *)b)->first,
		      *(const uint32_t *)len);
}

/*
 * Single-key interval sets: the kernel's rbtree wants each interval as a start element and an
 * end element one past its last value, flagged INTERVAL_END. Like nft, we send them in order
 * with an end element at 0 first when the first interval does not start at 0, and mark the
 * start of an interval that reaches the top of the range (no end element exists) as open in
 * the element's user data.
 */
static int enc_interval_elems(const struct ir_set *s, struct enc_elems *out)
{
	uint32_t len = (uint32_t)ir_type_len(s->types[0]);
	struct enc_iv *iv;
	size_t n = 0;
	uint8_t next[16];
	bool have_next = false;
	int r = 0;

	if (s->n == 0)
		return 0;
	iv = calloc(s->n, sizeof(*iv));
	if (!iv)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		r = enc_elem_range(&s->elems[i], 0, len, iv[i].first, iv[i].last);
		if (r < 0)
			goto out;
		if (memcmp(iv[i].first, iv[i].last, len) > 0) {
			r = -EINVAL;
			goto out;
		}
		if (s->is_vmap)
			iv[i].verdict = &s->elems[i].verdict;
	}
	qsort_r(iv, s->n, sizeof(*iv), enc_iv_cmp, &len);
	/* Merge overlapping and adjacent intervals, as the IR's normalisation does. A map's
	 * intervals are disjoint and adjacent ones differ in data: nft keeps them apart, an end
	 * element and the next start at the same key. */
	for (size_t i = 1; i < s->n; i++) {
		if (s->is_vmap) {
			/* Overlapping map intervals have no meaning (which verdict?): refuse. */
			if (memcmp(iv[i].first, iv[n].last, len) <= 0) {
				r = -EINVAL;
				goto out;
			}
			iv[++n] = iv[i];
			continue;
		}
		uint8_t after[16];
		bool fits;

		memcpy(after, iv[n].last, len);
		fits = enc_be_inc(after, len);
		if (!fits || memcmp(iv[i].first, after, len) <= 0) {
			if (memcmp(iv[i].last, iv[n].last, len) > 0)
				memcpy(iv[n].last, iv[i].last, len);
		} else {
			iv[++n] = iv[i];
		}
	}
	n++;

	for (size_t i = 0; i < n; i++) {
		struct enc_elem *el;
		bool zero = true;

		for (uint32_t b = 0; b < len; b++)
			zero = zero && iv[i].first[b] == 0;
		if (have_next || !zero) {
			el = enc_elems_push(out);
			if (!el) {
				r = -ENOMEM;
				goto out;
			}
			if (have_next)
				memcpy(el->key, next, len);
			el->key_len = len;
			el->flags = NFT_SET_ELEM_INTERVAL_END;
		}
		el = enc_elems_push(out);
		if (!el) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(el->key, iv[i].first, len);
		el->key_len = len;
		el->verdict = iv[i].verdict;
		memcpy(next, iv[i].last, len);
		have_next = enc_be_inc(next, len);
		el->open = !have_next;
	}
	if (have_next) {
		struct enc_elem *el = enc_elems_push(out);

		if (!el) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(el->key, next, len);
		el->key_len = len;
		el->flags = NFT_SET_ELEM_INTERVAL_END;
	}
out:
	free(iv);
	return r;
}

/* A plain, concatenated, concatenated-interval or map element of S: one kernel element. */
static int enc_plain_elem(const struct ir_set *s, const struct ir_elem *ie, struct enc_elem *el)
{
	bool concat = s->ntypes > 1;
	uint32_t off = 0;
	int r;

	for (size_t c = 0; c < s->ntypes; c++) {
		uint32_t len = (uint32_t)ir_type_len(s->types[c]);
		uint32_t slot = concat ? round_up4(len) : len;

		if (s->interval) {
			r = enc_elem_range(ie, c, len, el->key + off, el->key_end + off);
		} else {
			r = enc_value_bytes(&ie->key[c], len, el->key + off);
		}
		if (r < 0)
			return r;
		off += slot;
	}
	el->key_len = off;
	if (s->interval)
		el->key_end_len = off;
	if (s->is_vmap)
		el->verdict = &ie->verdict;
	return 0;
}

static int enc_plain_elems(const struct ir_set *s, struct enc_elems *out)
{
	for (size_t i = 0; i < s->n; i++) {
		struct enc_elem *el = enc_elems_push(out);
		int r;

		if (!el)
			return -ENOMEM;
		r = enc_plain_elem(s, &s->elems[i], el);
		if (r < 0)
			return r;
	}
	return 0;
}

static int enc_verdict_code(const struct ir_verdict *v, int32_t *ret)
{
	switch (v->kind) {
	case IR_VERDICT_ACCEPT:
		*ret = NF_ACCEPT;
		return 0;
	case IR_VERDICT_DROP:
		*ret = NF_DROP;
		return 0;
	case IR_VERDICT_RETURN:
		*ret = NFT_RETURN;
		return 0;
	case IR_VERDICT_JUMP:
		*ret = NFT_JUMP;
		return v->chain ? 0 : -EINVAL;
	case IR_VERDICT_GOTO:
		*ret = NFT_GOTO;
		return v->chain ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static struct nftnl_set_elem *enc_elem_build(const struct enc_elem *el)
{
	struct nftnl_set_elem *ne = nftnl_set_elem_alloc();
	struct nftnl_udata_buf *ud = NULL;
	int32_t code;

	if (!ne)
		return NULL;
	if (el->flags)
		nftnl_set_elem_set_u32(ne, NFTNL_SET_ELEM_FLAGS, el->flags);
	if (nftnl_set_elem_set(ne, NFTNL_SET_ELEM_KEY, el->key, el->key_len) < 0)
		goto err;
	if (el->key_end_len &&
	    nftnl_set_elem_set(ne, NFTNL_SET_ELEM_KEY_END, el->key_end, el->key_end_len) < 0)
		goto err;
	if (el->verdict) {
		if (enc_verdict_code(el->verdict, &code) < 0)
			goto err;
		nftnl_set_elem_set_u32(ne, NFTNL_SET_ELEM_VERDICT, (uint32_t)code);
		if (el->verdict->chain &&
		    nftnl_set_elem_set_str(ne, NFTNL_SET_ELEM_CHAIN, el->verdict->chain) < 0)
			goto err;
	}
	if (el->open) {
		ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
		if (!ud ||
		    !nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_ELEM_FLAGS,
					 NFTNL_SET_ELEM_F_INTERVAL_OPEN) ||
		    nftnl_set_elem_set(ne, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(ud),
				       nftnl_udata_buf_len(ud)) < 0)
			goto err;
		nftnl_udata_buf_free(ud);
	}
	return ne;
err:
	if (ud)
		nftnl_udata_buf_free(ud);
	nftnl_set_elem_free(ne);
	return NULL;
}

static struct nlmsghdr *enc_elem_msg_start(struct nft_encode *e, const struct ir_table *t,
					   const struct ir_set *s, uint32_t set_id,
					   struct nlattr **ret_nest)
{
	struct nlmsghdr *nlh = enc_begin_msg(e, NFT_MSG_NEWSETELEM, t->family, NLM_F_CREATE);

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, t->name);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, s->name);
	mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(set_id));
	*ret_nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	return nlh;
}

/*
 * Element messages: at most NFT_ENCODE_ELEMS_PER_MSG elements each and never more than the
 * 64 KiB an attribute nest can hold, all in the same batch so the set is complete or absent.
 */
static int enc_elems(struct nft_encode *e, const struct ir_table *t, const struct ir_set *s,
		     uint32_t set_id)
{
	struct enc_elems l = {0};
	struct nlmsghdr *nlh = NULL;
	struct nlattr *nest = NULL;
	size_t in_msg = 0, first = 0;
	int r;

	r = (s->interval && s->ntypes == 1) ? enc_interval_elems(s, &l) : enc_plain_elems(s, &l);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		struct nftnl_set_elem *ne = enc_elem_build(&l.v[i]);
		struct nlattr *at;

		if (!ne) {
			r = l.v[i].verdict ? -EINVAL : -ENOMEM;
			goto out;
		}
		if (!nlh) {
			nlh = enc_elem_msg_start(e, t, s, set_id, &nest);
			first = i;
			in_msg = 0;
		}
		at = nftnl_set_elem_nlmsg_build(nlh, ne, (int)++in_msg);
		nftnl_set_elem_free(ne);
		if ((char *)at + at->nla_len - (char *)nest > UINT16_MAX) {
			/* Did not fit the nest: drop it from this message, redo it in the next. */
			nlh->nlmsg_len -= at->nla_len;
			in_msg--;
			i--;
		} else if (in_msg < NFT_ENCODE_ELEMS_PER_MSG && i + 1 < l.n) {
			continue;
		}
		mnl_attr_nest_end(nlh, nest);
		r = enc_describe(e, "install elements %zu-%zu of %s %s in table %s %s", first + 1,
				 first + in_msg, s->is_vmap ? "map" : "set", s->name,
				 nft_encode_family_name(t->family), t->name);
		if (r < 0)
			goto out;
		r = enc_end_msg(e);
		if (r < 0)
			goto out;
		nlh = NULL;
	}
out:
	free(l.v);
	return r;
}

/* ------------------------------------------------------------------ element deltas */

/* Appends to BUF at *O, never past LEN, keeping *O meaningful for the next call. */
__attribute__((format(printf, 4, 5))) static void enc_bprintf(char *buf, size_t len, size_t *o,
							      const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*o >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *o, len - *o, fmt, ap);
	va_end(ap);
	if (n > 0)
		*o = *o + (size_t)n < len ? *o + (size_t)n : len;
}

/* One key component as nft prints it; interface names come from outside, so escape them. */
static void enc_value_format(enum ir_type t, const struct ir_value *v, char *buf, size_t len,
			     size_t *o)
{
	char addr[INET6_ADDRSTRLEN];

	switch (t) {
	case IR_TYPE_IFNAME:
		enc_bprintf(buf, len, o, "\"");
		for (size_t i = 0; i < v->len && v->data[i]; i++) {
			uint8_t c = v->data[i];

			if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
				enc_bprintf(buf, len, o, "%c", c);
			else
				enc_bprintf(buf, len, o, "\\x%02x", c);
		}
		enc_bprintf(buf, len, o, "\"");
		return;
	case IR_TYPE_IPV4:
	case IR_TYPE_IPV6:
		/* By the value's length: an address of the wrong family is shown as it is. */
		if ((v->len == 4 || v->len == 16) &&
		    inet_ntop(v->len == 4 ? AF_INET : AF_INET6, v->data, addr, sizeof(addr))) {
			enc_bprintf(buf, len, o, "%s", addr);
			if (v->prefix < v->len * 8)
				enc_bprintf(buf, len, o, "/%u", (unsigned)v->prefix);
			return;
		}
		break;
	case IR_TYPE_INET_SERVICE:
		if (v->len != 2)
			break;
		enc_bprintf(buf, len, o, "%u", (unsigned)(v->data[0] << 8 | v->data[1]));
		return;
	case IR_TYPE_INET_PROTO:
	case IR_TYPE_ICMPV6_TYPE:
		if (v->len != 1)
			break;
		enc_bprintf(buf, len, o, "%u", (unsigned)v->data[0]);
		return;
	default:
		/* Types without a friendlier form (or added later) print as raw bytes. */
		break;
	}
	enc_bprintf(buf, len, o, "0x");
	for (size_t i = 0; i < v->len && i < sizeof(v->data); i++)
		enc_bprintf(buf, len, o, "%02x", v->data[i]);
}

/* `"veth1" . 10.0.0.2`, `"br0" : goto from_bridge`: what nft would print for the element. */
static void enc_elem_format(const struct ir_set *s, const struct ir_elem *ie, bool data, char *buf,
			    size_t len)
{
	static const char *const kinds[] = {
	    [IR_VERDICT_ACCEPT] = "accept", [IR_VERDICT_DROP] = "drop",
	    [IR_VERDICT_RETURN] = "return", [IR_VERDICT_JUMP] = "jump",
	    [IR_VERDICT_GOTO] = "goto",
	};
	const struct ir_verdict *v = &ie->verdict;
	size_t o = 0;

	buf[0] = '\0';
	for (size_t c = 0; c < s->ntypes; c++) {
		if (c)
			enc_bprintf(buf, len, &o, " . ");
		enc_value_format(s->types[c], &ie->key[c], buf, len, &o);
	}
	if (!data || !s->is_vmap)
		return;
	if ((size_t)v->kind < ARRAY_SIZE(kinds) && kinds[v->kind])
		enc_bprintf(buf, len, &o, " : %s", kinds[v->kind]);
	else
		enc_bprintf(buf, len, &o, " : ?");
	if ((v->kind == IR_VERDICT_JUMP || v->kind == IR_VERDICT_GOTO) && v->chain)
		enc_bprintf(buf, len, &o, " %s", v->chain);
}

/*
 * Keys of a delta come from the agent's inventory, not from the compiler's normalisation:
 * insist on the exact byte length of each component, so a value of the wrong family is an
 * error instead of a zero-padded element that never matches.
 */
static int enc_delta_elem_validate(const struct ir_set *s, const struct ir_elem *ie, bool del)
{
	int32_t code;

	for (size_t c = 0; c < s->ntypes; c++) {
		const struct ir_value *v = &ie->key[c];
		int len = ir_type_len(s->types[c]);

		if (s->types[c] == IR_TYPE_IFNAME) {
			/* At most IFNAMSIZ - 1 characters: the kernel keeps the terminating NUL. */
			if (v->len == 0 || v->len > IR_IFNAMSIZ || v->data[0] == '\0' ||
			    strnlen((const char *)v->data, v->len) > IR_IFNAMSIZ - 1)
				return -EINVAL;
		} else if (v->len != len) {
			return -EINVAL;
		} else if ((s->types[c] == IR_TYPE_IPV4 || s->types[c] == IR_TYPE_IPV6) &&
			   v->prefix != len * 8) {
			return -EINVAL;
		}
	}
	if (s->is_vmap && !del)
		return enc_verdict_code(&ie->verdict, &code);
	return 0;
}

int nft_encode_elems(struct nft_encode *e, enum ir_family family, const char *table,
		     const struct ir_set *set, const struct ir_elem *elems, size_t n, bool del)
{
	const char *fam = nft_encode_family_name(family);
	char text[256];
	int r;

	if (e->finished || !table || !set || !set->name || (n && !elems))
		return -EINVAL;
	if (n > NFT_ENCODE_DELTA_MAX)
		return -E2BIG;
	r = enc_set_validate(set);
	if (r < 0)
		return r;
	/*
	 * Interval elements are pairs of kernel elements whose neighbours depend on the whole set;
	 * constant sets refuse changes in the kernel. Neither belongs in an incremental update.
	 */
	if (set->interval || set->constant)
		return -EOPNOTSUPP;
	for (size_t i = 0; i < n; i++) {
		const struct ir_elem *ie = &elems[i];
		struct enc_elem el = {0};
		struct nftnl_set_elem *ne;
		struct nlmsghdr *nlh;
		struct nlattr *nest;

		/*
		 * One element per message: a delta is a handful of elements, and the kernel's error
		 * then names exactly the element that caused it. Described first, so that our own
		 * refusal of a malformed element can name it too.
		 */
		enc_elem_format(set, ie, !del, text, sizeof(text));
		r = enc_describe(e, "%s element %s %s %s %s in table %s %s", del ? "delete" : "add",
				 text, del ? "from" : "to", set->is_vmap ? "map" : "set", set->name,
				 fam, table);
		if (r < 0)
			return r;
		r = enc_delta_elem_validate(set, ie, del);
		if (r < 0)
			return r;
		r = enc_plain_elem(set, ie, &el);
		if (r < 0)
			return r;
		/* The kernel finds the element by its key alone; a deletion carries no data. */
		if (del)
			el.verdict = NULL;
		ne = enc_elem_build(&el);
		if (!ne)
			return -ENOMEM;
		/* Learned (fqdn) addresses expire in the kernel; re-adding one refreshes it. */
		if (set->timeout && ie->timeout_ms && !del)
			nftnl_set_elem_set_u64(ne, NFTNL_SET_ELEM_TIMEOUT, ie->timeout_ms);
		/* No NLM_F_EXCL: adding an element that is already there is not an error. */
		nlh = enc_begin_msg(e, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM, family,
				    del ? 0 : NLM_F_CREATE);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set->name);
		nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		nftnl_set_elem_nlmsg_build(nlh, ne, 1);
		mnl_attr_nest_end(nlh, nest);
		nftnl_set_elem_free(ne);
		r = enc_end_msg(e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* --------------------------------------------------------------------------- rules */

/* What the rule has established so far, as nft's protocol context tracks it. */
struct enc_rule {
	const struct ir_table *t;
	uint32_t set_id_base;
	struct nftnl_rule *r;
	int net; /* 0 unknown, ETH_P_IP, ETH_P_IPV6, ETH_P_ARP */
	int l4;	 /* -1 unknown, else IPPROTO_* */
};

/* nft's register numbering: 32-bit slot S is a 128-bit register when aligned to one. */
static uint32_t enc_reg(uint32_t slot)
{
	if (slot % 4 == 0)
		return NFT_REG_1 + slot / 4;
	return NFT_REG32_00 + slot;
}

static int enc_add(struct enc_rule *rc, struct nftnl_expr *ex)
{
	if (!ex)
		return -ENOMEM;
	nftnl_rule_add_expr(rc->r, ex);
	return 0;
}

static int enc_meta_load(struct enc_rule *rc, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *ex = nftnl_expr_alloc("meta");

	if (ex) {
		nftnl_expr_set_u32(ex, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(ex, NFTNL_EXPR_META_DREG, dreg);
	}
	return enc_add(rc, ex);
}

static int enc_payload(struct enc_rule *rc, uint32_t base, uint32_t off, uint32_t len,
		       uint32_t dreg)
{
	struct nftnl_expr *ex = nftnl_expr_alloc("payload");

	if (ex) {
		nftnl_expr_set_u32(ex, NFTNL_EXPR_PAYLOAD_DREG, dreg);
		nftnl_expr_set_u32(ex, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(ex, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(ex, NFTNL_EXPR_PAYLOAD_LEN, len);
	}
	return enc_add(rc, ex);
}

static int enc_cmp(struct enc_rule *rc, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *ex = nftnl_expr_alloc("cmp");

	if (ex) {
		nftnl_expr_set_u32(ex, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(ex, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(ex, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return enc_add(rc, ex);
}

static int enc_bitwise(struct enc_rule *rc, const void *mask, const void * xor, uint32_t len)
{
	struct nftnl_expr *ex = nftnl_expr_alloc("bitwise");

	if (ex) {
		nftnl_expr_set_u32(ex, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(ex, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(ex, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
		nftnl_expr_set_u32(ex, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(ex, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(ex, NFTNL_EXPR_BITWISE_XOR, xor, len);
	}
	return enc_add(rc, ex);
}

static int enc_byteorder_hton(struct enc_rule *rc, uint32_t reg, uint32_t len, uint32_t size)
{
	struct nftnl_expr *ex = nftnl_expr_alloc("byteorder");

	if (ex) {
		nftnl_expr_set_u32(ex, NFTNL_EXPR_BYTEORDER_SREG, reg);
		nftnl_expr_set_u32(ex, NFTNL_EXPR_BYTEORDER_DREG, reg);
		nftnl_expr_set_u32(ex, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(ex, NFTNL_EXPR_BYTEORDER_LEN, len);
		nftnl_expr_set_u32(ex, NFTNL_EXPR_BYTEORDER_SIZE, size);
	}
	return enc_add(rc, ex);
}

static int enc_verdict(struct enc_rule *rc, const struct ir_verdict *v)
{
	struct nftnl_expr *ex;
	int32_t code;
	int r;

	r = enc_verdict_code(v, &code);
	if (r < 0)
		return r;
	ex = nftnl_expr_alloc("immediate");
	if (!ex)
		return -ENOMEM;
	nftnl_expr_set_u32(ex, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(ex, NFTNL_EXPR_IMM_VERDICT, (uint32_t)code);
	if (v->chain && (v->kind == IR_VERDICT_JUMP || v->kind == IR_VERDICT_GOTO) &&
	    nftnl_expr_set_str(ex, NFTNL_EXPR_IMM_CHAIN, v->chain) < 0) {
		nftnl_expr_free(ex);
		return -ENOMEM;
	}
	return enc_add(rc, ex);
}

/* Implicit dependency: a one-byte or two-byte equality nft inserts before a protocol field. */
static int enc_dep_meta(struct enc_rule *rc, uint32_t key, const void *val, uint32_t len)
{
	int r = enc_meta_load(rc, key, NFT_REG_1);

	return r < 0 ? r : enc_cmp(rc, NFT_CMP_EQ, val, len);
}

static int enc_need_net(struct enc_rule *rc, int proto)
{
	uint8_t nfproto = proto == ETH_P_IP ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint16_t ethertype = htons((uint16_t)proto);
	int r;

	if (rc->net == proto)
		return 0;
	if (rc->net != 0)
		return -EINVAL; /* e.g. ip saddr after ip6 saddr: can never match */
	switch (rc->t->family) {
	case IR_FAMILY_INET:
		if (proto == ETH_P_ARP)
			return -EINVAL;
		r = enc_dep_meta(rc, NFT_META_NFPROTO, &nfproto, 1);
		break;
	case IR_FAMILY_BRIDGE:
		/* nft: "ip"/"ip6" fields depend on meta protocol, "arp" ones on ether type. */
		if (proto == ETH_P_ARP) {
			r = enc_payload(rc, NFT_PAYLOAD_LL_HEADER, 12, 2, NFT_REG_1);
			if (r == 0)
				r = enc_cmp(rc, NFT_CMP_EQ, &ethertype, 2);
		} else {
			r = enc_dep_meta(rc, NFT_META_PROTOCOL, &ethertype, 2);
		}
		break;
	default:
		return -EINVAL;
	}
	if (r == 0)
		rc->net = proto;
	return r;
}

static int enc_key_deps(struct enc_rule *rc, enum ir_key k)
{
	uint8_t icmpv6 = IPPROTO_ICMPV6;
	uint16_t ethertype = htons(ETH_P_IPV6);
	int r = 0;

	switch (k) {
	case IR_KEY_IP_SADDR:
	case IR_KEY_IP_DADDR:
		return enc_need_net(rc, ETH_P_IP);
	case IR_KEY_IP6_SADDR:
	case IR_KEY_IP6_DADDR:
		return enc_need_net(rc, ETH_P_IPV6);
	case IR_KEY_ARP_SADDR_IP:
		if (rc->t->family == IR_FAMILY_ARP)
			return 0;
		return enc_need_net(rc, ETH_P_ARP);
	case IR_KEY_ICMPV6_TYPE:
		if (rc->t->family == IR_FAMILY_ARP)
			return -EINVAL;
		/* An explicit meta l4proto ipv6-icmp satisfies nft without a network dependency. */
		if (rc->l4 == IPPROTO_ICMPV6)
			return 0;
		if (rc->net == 0 && rc->t->family == IR_FAMILY_BRIDGE) {
			/* Without a network context nft resolves icmpv6 through ether type. */
			r = enc_payload(rc, NFT_PAYLOAD_LL_HEADER, 12, 2, NFT_REG_1);
			if (r == 0)
				r = enc_cmp(rc, NFT_CMP_EQ, &ethertype, 2);
			if (r == 0)
				rc->net = ETH_P_IPV6;
		} else {
			r = enc_need_net(rc, ETH_P_IPV6);
		}
		if (r == 0) {
			r = enc_dep_meta(rc, NFT_META_L4PROTO, &icmpv6, 1);
			if (r == 0)
				rc->l4 = IPPROTO_ICMPV6;
		}
		return r;
	case IR_KEY_ETHER_TYPE:
		return rc->t->family == IR_FAMILY_BRIDGE ? 0 : -EINVAL;
	default:
		return 0;
	}
}

/* Loads key K into 32-bit register slot SLOT. LEN: bytes to load (payload keys may be cut). */
static int enc_key_load(struct enc_rule *rc, enum ir_key k, uint32_t slot, uint32_t len)
{
	uint32_t reg = enc_reg(slot);
	struct nftnl_expr *ex;

	switch (k) {
	case IR_KEY_IIFNAME:
		return enc_meta_load(rc, NFT_META_IIFNAME, reg);
	case IR_KEY_OIFNAME:
		return enc_meta_load(rc, NFT_META_OIFNAME, reg);
	case IR_KEY_MARK:
		return enc_meta_load(rc, NFT_META_MARK, reg);
	case IR_KEY_PKTTYPE:
		return enc_meta_load(rc, NFT_META_PKTTYPE, reg);
	case IR_KEY_L4PROTO:
		return enc_meta_load(rc, NFT_META_L4PROTO, reg);
	case IR_KEY_CT_STATE:
		ex = nftnl_expr_alloc("ct");
		if (ex) {
			nftnl_expr_set_u32(ex, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
			nftnl_expr_set_u32(ex, NFTNL_EXPR_CT_DREG, reg);
		}
		return enc_add(rc, ex);
	case IR_KEY_ETHER_TYPE:
		return enc_payload(rc, NFT_PAYLOAD_LL_HEADER, 12, len, reg);
	case IR_KEY_IP_SADDR:
		return enc_payload(rc, NFT_PAYLOAD_NETWORK_HEADER, 12, len, reg);
	case IR_KEY_IP_DADDR:
		return enc_payload(rc, NFT_PAYLOAD_NETWORK_HEADER, 16, len, reg);
	case IR_KEY_IP6_SADDR:
		return enc_payload(rc, NFT_PAYLOAD_NETWORK_HEADER, 8, len, reg);
	case IR_KEY_IP6_DADDR:
		return enc_payload(rc, NFT_PAYLOAD_NETWORK_HEADER, 24, len, reg);
	case IR_KEY_ARP_SADDR_IP:
		return enc_payload(rc, NFT_PAYLOAD_NETWORK_HEADER, 14, len, reg);
	case IR_KEY_TH_DPORT:
		return enc_payload(rc, NFT_PAYLOAD_TRANSPORT_HEADER, 2, len, reg);
	case IR_KEY_TH_SPORT:
		return enc_payload(rc, NFT_PAYLOAD_TRANSPORT_HEADER, 0, len, reg);
	case IR_KEY_ICMPV6_TYPE:
		return enc_payload(rc, NFT_PAYLOAD_TRANSPORT_HEADER, 0, len, reg);
	case IR_KEY_ND_TARGET:
		return enc_payload(rc, NFT_PAYLOAD_TRANSPORT_HEADER, 8, len, reg);
	}
	return -EINVAL;
}

static bool enc_key_is_addr(enum ir_key k)
{
	switch (k) {
	case IR_KEY_IP_SADDR:
	case IR_KEY_IP_DADDR:
	case IR_KEY_IP6_SADDR:
	case IR_KEY_IP6_DADDR:
	case IR_KEY_ARP_SADDR_IP:
		return true;
	default:
		return false;
	}
}

/* Keys held in host byte order (meta mark, ct state): ranges compare them after hton. */
static bool enc_key_is_host_order(enum ir_key k)
{
	return k == IR_KEY_MARK || k == IR_KEY_CT_STATE;
}

static int enc_match_lookup(struct enc_rule *rc, const struct ir_match *m)
{
	const struct ir_set *s;
	struct nftnl_expr *ex;
	uint32_t slot = 0;
	size_t idx;
	int r;

	s = m->set ? ir_set_find_index(rc->t, m->set, &idx) : NULL;
	if (!s || s->ntypes != m->nkeys || (m->op == IR_OP_VMAP) != s->is_vmap)
		return -EINVAL;
	for (size_t i = 0; i < m->nkeys; i++) {
		r = enc_key_deps(rc, m->keys[i]);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < m->nkeys; i++) {
		int len = ir_key_len(m->keys[i]);

		if (len < 0 || len != ir_type_len(s->types[i]))
			return -EINVAL;
		r = enc_key_load(rc, m->keys[i], slot, (uint32_t)len);
		if (r < 0)
			return r;
		/*
		 * Concatenated ranges compare big-endian bytes, so nft converts host-order
		 * components; for meta l4proto it emits hton with size 2 and length 1.
		 */
		if (m->nkeys > 1 && s->interval) {
			if (m->keys[i] == IR_KEY_L4PROTO)
				r = enc_byteorder_hton(rc, enc_reg(slot), 1, 2);
			else if (enc_key_is_host_order(m->keys[i]))
				r = -EOPNOTSUPP;
			if (r < 0)
				return r;
		}
		slot += round_up4((uint32_t)len) / REG32_SIZE;
	}
	ex = nftnl_expr_alloc("lookup");
	if (!ex)
		return -ENOMEM;
	nftnl_expr_set_u32(ex, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (m->op == IR_OP_VMAP)
		nftnl_expr_set_u32(ex, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	if (nftnl_expr_set_str(ex, NFTNL_EXPR_LOOKUP_SET, s->name) < 0) {
		nftnl_expr_free(ex);
		return -ENOMEM;
	}
	nftnl_expr_set_u32(ex, NFTNL_EXPR_LOOKUP_SET_ID, rc->set_id_base + (uint32_t)idx);
	if (m->op == IR_OP_NOT_LOOKUP)
		nftnl_expr_set_u32(ex, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	return enc_add(rc, ex);
}

static void enc_swap32(uint8_t *b)
{
	uint8_t t0 = b[0], t1 = b[1];

	b[0] = b[3];
	b[1] = b[2];
	b[2] = t1;
	b[3] = t0;
}

static int enc_match(struct enc_rule *rc, const struct ir_match *m)
{
	uint8_t val[16], end[16], mask[16], zero[16] = {0};
	enum ir_key k = m->keys[0];
	int klen = ir_key_len(k);
	uint32_t len, prefix;
	int r;

	if (m->op == IR_OP_LOOKUP || m->op == IR_OP_NOT_LOOKUP || m->op == IR_OP_VMAP)
		return enc_match_lookup(rc, m);
	if (m->nkeys != 1 || klen < 0)
		return -EINVAL;
	len = (uint32_t)klen;
	r = enc_key_deps(rc, k);
	if (r < 0)
		return r;
	r = enc_value_bytes(&m->value, len, val);
	if (r < 0)
		return r;

	switch (m->op) {
	case IR_OP_EQ:
	case IR_OP_NE:
		/* Only addresses have prefixes (emit_nft prints "/N" for those alone). */
		prefix =
		    enc_key_is_addr(k) && m->value.prefix < len * 8 ? m->value.prefix : len * 8;
		if (k == IR_KEY_ND_TARGET && m->value.prefix > 0 && m->value.prefix < len * 8) {
			/* A raw payload prefix (emit_nft: "@th,64,16 & 0xffc0 == 0xfe80"): nft
			 * loads, masks and compares only the bytes the prefix touches. */
			prefix = m->value.prefix;
			len = (prefix + 7) / 8;
			r = enc_key_load(rc, k, 0, len);
			if (r == 0 && prefix % 8) {
				memset(mask, 0, sizeof(mask));
				for (uint32_t bit = 0; bit < prefix; bit++)
					mask[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
				r = enc_bitwise(rc, mask, zero, len);
			}
		} else if (prefix == len * 8) {
			r = enc_key_load(rc, k, 0, len);
		} else if (prefix % 8 == 0 && prefix > 0) {
			/* nft loads only the prefix bytes when the prefix ends on a byte. */
			len = prefix / 8;
			r = enc_key_load(rc, k, 0, len);
		} else {
			memset(mask, 0, sizeof(mask));
			enc_prefix_last(mask, len, prefix);
			for (uint32_t i = 0; i < len; i++) {
				mask[i] = (uint8_t)~mask[i];
				val[i] &= mask[i];
			}
			r = enc_key_load(rc, k, 0, len);
			if (r == 0)
				r = enc_bitwise(rc, mask, zero, len);
		}
		if (r == 0)
			r = enc_cmp(rc, m->op == IR_OP_EQ ? NFT_CMP_EQ : NFT_CMP_NEQ, val, len);
		break;
	case IR_OP_RANGE:
		r = enc_value_bytes(&m->value_end, len, end);
		if (r == 0)
			r = enc_key_load(rc, k, 0, len);
		if (r == 0 && enc_key_is_host_order(k)) {
			enc_swap32(val);
			enc_swap32(end);
			r = enc_byteorder_hton(rc, NFT_REG_1, len, len);
		}
		if (r == 0)
			r = enc_cmp(rc, NFT_CMP_GTE, val, len);
		if (r == 0)
			r = enc_cmp(rc, NFT_CMP_LTE, end, len);
		break;
	case IR_OP_BITS_ZERO:
	case IR_OP_BITS_ANY:
		r = enc_key_load(rc, k, 0, len);
		if (r == 0)
			r = enc_bitwise(rc, val, zero, len);
		if (r == 0)
			r = enc_cmp(rc, m->op == IR_OP_BITS_ZERO ? NFT_CMP_EQ : NFT_CMP_NEQ, zero,
				    len);
		break;
	default:
		return -EINVAL;
	}
	if (r < 0)
		return r;

	/* Equalities establish protocol context, so nft adds no dependency after them. */
	if (m->op == IR_OP_EQ) {
		if (k == IR_KEY_L4PROTO)
			rc->l4 = m->value.data[0];
		else if (k == IR_KEY_ETHER_TYPE && rc->net == 0)
			rc->net = (m->value.data[0] << 8) | m->value.data[1];
	}
	return 0;
}

/*
 * "queue flags bypass to NUM" as the xtables NFQUEUE target (v3) through nft_compat, not nft's
 * queue expression: kernels built without CONFIG_NFT_QUEUE (these machines) only reach
 * nfnetlink_queue through xt_NFQUEUE, and nft_compat with it runs wherever nf_tables does.
 * The one statement where the text form (nft's spelling, for kernels with nft_queue) and the
 * bytecode differ; both queue the same packets to NUM and accept them without a listener.
 */
static struct nftnl_expr *enc_queue_expr(uint16_t num)
{
	struct nftnl_expr *ex = nftnl_expr_alloc("target");
	struct xt_NFQ_info_v3 *info = calloc(1, sizeof(*info));

	if (!ex || !info || nftnl_expr_set_str(ex, NFTNL_EXPR_TG_NAME, "NFQUEUE") < 0) {
		free(info);
		nftnl_expr_free(ex);
		return NULL;
	}
	info->queuenum = num;
	info->queues_total = 1;
	info->flags = NFQ_FLAG_BYPASS;
	nftnl_expr_set_u32(ex, NFTNL_EXPR_TG_REV, 3);
	/* libnftnl keeps (and frees) the pointer it is given. */
	nftnl_expr_set(ex, NFTNL_EXPR_TG_INFO, info, sizeof(*info));
	return ex;
}

static int enc_stmt(struct enc_rule *rc, const struct ir_stmt *st)
{
	struct nftnl_expr *ex;
	uint32_t mask, xor;
	int r;

	switch (st->kind) {
	case IR_STMT_MATCH:
		return enc_match(rc, &st->match);
	case IR_STMT_COUNTER:
		if (!st->counter)
			return -EINVAL;
		ex = nftnl_expr_alloc("objref");
		if (!ex)
			return -ENOMEM;
		nftnl_expr_set_u32(ex, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
		if (nftnl_expr_set_str(ex, NFTNL_EXPR_OBJREF_IMM_NAME, st->counter) < 0) {
			nftnl_expr_free(ex);
			return -ENOMEM;
		}
		return enc_add(rc, ex);
	case IR_STMT_LIMIT:
		ex = nftnl_expr_alloc("limit");
		if (ex) {
			nftnl_expr_set_u64(ex, NFTNL_EXPR_LIMIT_RATE, st->limit.rate);
			nftnl_expr_set_u64(ex, NFTNL_EXPR_LIMIT_UNIT, 1); /* per second */
			nftnl_expr_set_u32(ex, NFTNL_EXPR_LIMIT_BURST, st->limit.burst);
			nftnl_expr_set_u32(ex, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
			/* "over": nft inverts the match rather than the verdict. */
			nftnl_expr_set_u32(ex, NFTNL_EXPR_LIMIT_FLAGS,
					   st->limit.over ? NFT_LIMIT_F_INV : 0);
		}
		return enc_add(rc, ex);
	case IR_STMT_LOG:
		ex = nftnl_expr_alloc("log");
		if (!ex)
			return -ENOMEM;
		if (st->log.prefix &&
		    nftnl_expr_set_str(ex, NFTNL_EXPR_LOG_PREFIX, st->log.prefix) < 0) {
			nftnl_expr_free(ex);
			return -ENOMEM;
		}
		nftnl_expr_set_u16(ex, NFTNL_EXPR_LOG_GROUP, st->log.group);
		return enc_add(rc, ex);
	case IR_STMT_MARK_OR:
		/* meta mark set meta mark | BITS: mark = (mark & ~BITS) ^ BITS, host order. */
		mask = ~st->mark_or;
		xor = st->mark_or;
		r = enc_meta_load(rc, NFT_META_MARK, NFT_REG_1);
		if (r == 0)
			r = enc_bitwise(rc, &mask, &xor, sizeof(mask));
		if (r < 0)
			return r;
		ex = nftnl_expr_alloc("meta");
		if (ex) {
			nftnl_expr_set_u32(ex, NFTNL_EXPR_META_KEY, NFT_META_MARK);
			nftnl_expr_set_u32(ex, NFTNL_EXPR_META_SREG, NFT_REG_1);
		}
		return enc_add(rc, ex);
	case IR_STMT_QUEUE:
		return enc_add(rc, enc_queue_expr(st->queue_num));
	case IR_STMT_VERDICT:
		return enc_verdict(rc, &st->verdict);
	}
	return -EINVAL;
}

static int enc_rule(struct nft_encode *e, const struct ir_table *t, const struct ir_chain *c,
		    size_t idx, uint32_t set_id_base)
{
	const struct ir_rule *ir = &c->rules[idx];
	struct enc_rule rc = {.t = t, .set_id_base = set_id_base, .l4 = -1};
	struct nlmsghdr *nlh;
	int r;

	if (t->family == IR_FAMILY_ARP)
		rc.net = ETH_P_ARP;
	r = enc_describe(e, "install rule %zu of chain %s in table %s %s", idx + 1, c->name,
			 nft_encode_family_name(t->family), t->name);
	if (r < 0)
		return r;
	rc.r = nftnl_rule_alloc();
	if (!rc.r)
		return -ENOMEM;
	if (nftnl_rule_set_str(rc.r, NFTNL_RULE_TABLE, t->name) < 0 ||
	    nftnl_rule_set_str(rc.r, NFTNL_RULE_CHAIN, c->name) < 0) {
		r = -ENOMEM;
		goto out;
	}
	nftnl_rule_set_u32(rc.r, NFTNL_RULE_FAMILY, t->family);
	for (size_t i = 0; i < ir->n; i++) {
		r = enc_stmt(&rc, &ir->stmts[i]);
		if (r < 0)
			goto out;
	}
	nlh = enc_begin_msg(e, NFT_MSG_NEWRULE, t->family, NLM_F_CREATE | NLM_F_APPEND);
	nftnl_rule_nlmsg_build_payload(nlh, rc.r);
	r = enc_end_msg(e);
out:
	nftnl_rule_free(rc.r);
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

/* Index (1-based) and attribute of the nested attribute of NEST that contains OFFSET. */
static const struct nlattr *enc_attr_at(const struct nlattr *nest, const char *base,
					uint32_t offset, int *ret_idx)
{
	const struct nlattr *a;
	int idx = 0;

	mnl_attr_for_each_nested(a, nest)
	{
		uint32_t start = (uint32_t)((const char *)a - base);

		idx++;
		if (offset >= start && offset < start + a->nla_len) {
			*ret_idx = idx;
			return a;
		}
	}
	return NULL;
}

void nft_encode_describe_offset(const struct nft_encode *e, uint32_t seq, uint32_t offset,
				char *buf, size_t len)
{
	const struct nlmsghdr *nlh = nft_encode_msg(e, seq);
	const struct nlattr *a, *in;
	const char *base = (const char *)nlh;
	int idx;

	buf[0] = '\0';
	if (!nlh || offset < mnl_nlmsg_size(sizeof(struct nfgenmsg)) || offset >= nlh->nlmsg_len)
		return;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		uint32_t start = (uint32_t)((const char *)a - base);
		uint16_t type = mnl_attr_get_type(a);
		uint16_t msg = NFNL_MSG_TYPE(nlh->nlmsg_type);

		if (offset < start || offset >= start + a->nla_len)
			continue;
		if (msg == NFT_MSG_NEWRULE && type == NFTA_RULE_EXPRESSIONS) {
			in = enc_attr_at(a, base, offset, &idx);
			if (!in) {
				snprintf(buf, len, "its expression list");
				return;
			}
			/* Each NFTA_LIST_ELEM holds NFTA_EXPR_NAME first. */
			const struct nlattr *name = mnl_attr_get_payload(in);

			if (mnl_attr_get_payload_len(in) >= sizeof(*name) + 1 &&
			    mnl_attr_get_type(name) == NFTA_EXPR_NAME &&
			    mnl_attr_validate(name, MNL_TYPE_NUL_STRING) == 0)
				snprintf(buf, len, "expression %d (%s)", idx,
					 mnl_attr_get_str(name));
			else
				snprintf(buf, len, "expression %d", idx);
			return;
		}
		if ((msg == NFT_MSG_NEWSETELEM || msg == NFT_MSG_DELSETELEM) &&
		    type == NFTA_SET_ELEM_LIST_ELEMENTS) {
			const struct nlattr *k;
			size_t o = 0;

			in = enc_attr_at(a, base, offset, &idx);
			if (!in) {
				snprintf(buf, len, "its element list");
				return;
			}
			o = (size_t)snprintf(buf, len, "element %d of the message", idx);
			mnl_attr_for_each_nested(k, in)
			{
				const struct nlattr *v;

				if (mnl_attr_get_type(k) != NFTA_SET_ELEM_KEY)
					continue;
				v = mnl_attr_get_payload(k);
				if (mnl_attr_get_payload_len(k) < sizeof(*v) ||
				    mnl_attr_get_type(v) != NFTA_DATA_VALUE)
					break;
				o += (size_t)snprintf(buf + o, o < len ? len - o : 0, ", key 0x");
				for (uint16_t i = 0; i < mnl_attr_get_payload_len(v) && o < len;
				     i++)
					o += (size_t)snprintf(
					    buf + o, len - o, "%02x",
					    ((const uint8_t *)mnl_attr_get_payload(v))[i]);
				break;
			}
			return;
		}
		snprintf(buf, len, "attribute %u", type);
		return;
	}
}
