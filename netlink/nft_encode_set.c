/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Set objects: key types, flags and the user data nft writes for them (see nft_encode.c). */
#include "nft_encode.h"
#include "nft_encode_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nf_tables.h>

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

/* Whether nft declares the set by "typeof": a component type it has no name for. */
static bool enc_set_has_typeof(const struct ir_set *s)
{
	for (size_t i = 0; i < s->ntypes; i++)
		if (s->types[i] == IR_TYPE_ND_TARGET)
			return true;
	return false;
}

int enc_set_validate(const struct ir_set *s)
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

int enc_set(struct nft_encode *e, const struct ir_table *t, const struct ir_set *s, uint32_t set_id)
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
