/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rules: IR statements linearized into nf_tables expressions, with nft's implicit dependencies. */
#include "nft_encode.h"
#include "nft_encode_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>

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

/* "KEY == VALUE" or "!=": loads only what VALUE's prefix covers, masked where the prefix
 * ends inside a byte, as nft does. VAL holds VALUE's LEN bytes (masked here). */
static int enc_match_eq(struct enc_rule *rc, const struct ir_match *m, uint32_t len, uint8_t *val)
{
	uint8_t mask[16], zero[16] = {0};
	enum ir_key k = m->keys[0];
	uint32_t prefix;
	int r;

	/* Only addresses have prefixes (emit_nft prints "/N" for those alone). */
	prefix = enc_key_is_addr(k) && m->value.prefix < len * 8 ? m->value.prefix : len * 8;
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
	return r;
}

/* "KEY VALUE-VALUE_END": two comparisons, in network order (host-order keys are swapped). */
static int enc_match_range(struct enc_rule *rc, const struct ir_match *m, uint32_t len,
			   uint8_t *val)
{
	enum ir_key k = m->keys[0];
	uint8_t end[16];
	int r;

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
	return r;
}

static int enc_match(struct enc_rule *rc, const struct ir_match *m)
{
	uint8_t val[16], zero[16] = {0};
	enum ir_key k = m->keys[0];
	int klen = ir_key_len(k);
	uint32_t len;
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
		r = enc_match_eq(rc, m, len, val);
		break;
	case IR_OP_RANGE:
		r = enc_match_range(rc, m, len, val);
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

int enc_rule(struct nft_encode *e, const struct ir_table *t, const struct ir_chain *c, size_t idx,
	     uint32_t set_id_base)
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
