/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Set elements: a whole set's elements when a table is replaced (single-key intervals as
 * the rbtree wants them), and incremental element changes (nft_encode_elems).
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

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

/* One element as the kernel receives it. */
struct enc_elem {
	uint8_t key[64], key_end[64];
	uint32_t key_len, key_end_len; /* key_end_len 0: none */
	uint32_t flags;		       /* NFT_SET_ELEM_INTERVAL_END */
	bool open;		       /* start of an interval that runs to the end of the range */
	const struct ir_verdict *verdict;
};

/* Copies V into OUT as LEN bytes (names and short values zero padded). */
int enc_value_bytes(const struct ir_value *v, uint32_t len, uint8_t *out)
{
	if (v->len > len || len > 16)
		return -EINVAL;
	memset(out, 0, len);
	memcpy(out, v->data, v->len < len ? v->len : len);
	return 0;
}

/* Last value of a prefix: host bits set. */
void enc_prefix_last(uint8_t *buf, uint32_t len, uint32_t prefix)
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

/* IV[i]: element i of S as an interval of LEN-byte keys, with its verdict in a map. */
static int enc_iv_collect(const struct ir_set *s, uint32_t len, struct enc_iv *iv)
{
	for (size_t i = 0; i < s->n; i++) {
		int r = enc_elem_range(&s->elems[i], 0, len, iv[i].first, iv[i].last);

		if (r < 0)
			return r;
		if (memcmp(iv[i].first, iv[i].last, len) > 0)
			return -EINVAL;
		if (s->is_vmap)
			iv[i].verdict = &s->elems[i].verdict;
	}
	return 0;
}

/* Merges sorted IV[0..s->n) in place into *RET_N intervals, as the IR's normalisation does. A
 * map's intervals are disjoint and adjacent ones differ in data: nft keeps them apart, an end
 * element and the next start at the same key. */
static int enc_iv_merge(const struct ir_set *s, uint32_t len, struct enc_iv *iv, size_t *ret_n)
{
	size_t n = 0;

	for (size_t i = 1; i < s->n; i++) {
		if (s->is_vmap) {
			/* Overlapping map intervals have no meaning (which verdict?): refuse. */
			if (memcmp(iv[i].first, iv[n].last, len) <= 0)
				return -EINVAL;
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
	*ret_n = n + 1;
	return 0;
}

/* An INTERVAL_END element at KEY, or at 0 when KEY is NULL. */
static int enc_iv_end(struct enc_elems *out, const uint8_t *key, uint32_t len)
{
	struct enc_elem *el = enc_elems_push(out);

	if (!el)
		return -ENOMEM;
	if (key)
		memcpy(el->key, key, len);
	el->key_len = len;
	el->flags = NFT_SET_ELEM_INTERVAL_END;
	return 0;
}

/* The kernel's elements of merged IV[0..n): each start, and an end where the one before
 * stops (at 0 before a first interval that does not start at 0). */
static int enc_iv_emit(const struct enc_iv *iv, size_t n, uint32_t len, struct enc_elems *out)
{
	uint8_t next[16];
	bool have_next = false;

	for (size_t i = 0; i < n; i++) {
		struct enc_elem *el;
		bool zero = true;

		for (uint32_t b = 0; b < len; b++)
			zero = zero && iv[i].first[b] == 0;
		if ((have_next || !zero) && enc_iv_end(out, have_next ? next : NULL, len) < 0)
			return -ENOMEM;
		el = enc_elems_push(out);
		if (!el)
			return -ENOMEM;
		memcpy(el->key, iv[i].first, len);
		el->key_len = len;
		el->verdict = iv[i].verdict;
		memcpy(next, iv[i].last, len);
		have_next = enc_be_inc(next, len);
		el->open = !have_next;
	}
	return have_next ? enc_iv_end(out, next, len) : 0;
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
	int r;

	if (s->n == 0)
		return 0;
	iv = calloc(s->n, sizeof(*iv));
	if (!iv)
		return -ENOMEM;
	r = enc_iv_collect(s, len, iv);
	if (r == 0) {
		qsort_r(iv, s->n, sizeof(*iv), enc_iv_cmp, &len);
		r = enc_iv_merge(s, len, iv, &n);
	}
	if (r == 0)
		r = enc_iv_emit(iv, n, len, out);
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

int enc_verdict_code(const struct ir_verdict *v, int32_t *ret)
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
int enc_elems(struct nft_encode *e, const struct ir_table *t, const struct ir_set *s,
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
