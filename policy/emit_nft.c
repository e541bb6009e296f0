/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "emit_nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/*
 * Every IR construct maps to exactly one nft spelling, chosen so that nft 1.0.6 generates the
 * bytecode the IR means and nothing else (netlink/nft_encode*.c build the same bytecode from the
 * same IR, and a test compares the two). Where nft has several spellings we take the explicit
 * one: "meta l4proto tcp th dport 22", not "tcp dport 22", because the IR has two matches.
 */

static const char *emit_nft_family(enum ir_family f)
{
	switch (f) {
	case IR_FAMILY_INET:
		return "inet";
	case IR_FAMILY_ARP:
		return "arp";
	case IR_FAMILY_BRIDGE:
		return "bridge";
	}
	return NULL;
}

static const char *emit_nft_hook(enum ir_hook h)
{
	switch (h) {
	case IR_HOOK_PREROUTING:
		return "prerouting";
	case IR_HOOK_INPUT:
		return "input";
	case IR_HOOK_FORWARD:
		return "forward";
	case IR_HOOK_OUTPUT:
		return "output";
	}
	return NULL;
}

static const char *emit_nft_type(enum ir_type t)
{
	switch (t) {
	case IR_TYPE_IFNAME:
		return "ifname";
	case IR_TYPE_IPV4:
		return "ipv4_addr";
	case IR_TYPE_IPV6:
		return "ipv6_addr";
	case IR_TYPE_INET_PROTO:
		return "inet_proto";
	case IR_TYPE_INET_SERVICE:
		return "inet_service";
	case IR_TYPE_ICMPV6_TYPE:
		return "icmpv6_type";
	case IR_TYPE_ND_TARGET:
		return NULL; /* no nft type name: sets with it are declared by typeof */
	}
	return NULL;
}

static const char *emit_nft_key(enum ir_key k)
{
	switch (k) {
	case IR_KEY_IIFNAME:
		return "iifname";
	case IR_KEY_OIFNAME:
		return "oifname";
	case IR_KEY_MARK:
		return "meta mark";
	case IR_KEY_PKTTYPE:
		return "meta pkttype";
	case IR_KEY_L4PROTO:
		return "meta l4proto";
	case IR_KEY_CT_STATE:
		return "ct state";
	case IR_KEY_ETHER_TYPE:
		return "ether type";
	case IR_KEY_IP_SADDR:
		return "ip saddr";
	case IR_KEY_IP_DADDR:
		return "ip daddr";
	case IR_KEY_IP6_SADDR:
		return "ip6 saddr";
	case IR_KEY_IP6_DADDR:
		return "ip6 daddr";
	case IR_KEY_ARP_SADDR_IP:
		return "arp saddr ip";
	case IR_KEY_TH_DPORT:
		return "th dport";
	case IR_KEY_TH_SPORT:
		return "th sport";
	case IR_KEY_ICMPV6_TYPE:
		return "icmpv6 type";
	case IR_KEY_ND_TARGET:
		return "@th,64,128"; /* nft 1.0.6 has no "icmpv6 taddr" */
	}
	return NULL;
}

/* The key whose value syntax a set element of type T uses. */
static enum ir_key emit_nft_key_of_type(enum ir_type t)
{
	switch (t) {
	case IR_TYPE_IFNAME:
		return IR_KEY_IIFNAME;
	case IR_TYPE_IPV4:
		return IR_KEY_IP_SADDR;
	case IR_TYPE_IPV6:
		return IR_KEY_IP6_SADDR;
	case IR_TYPE_INET_PROTO:
		return IR_KEY_L4PROTO;
	case IR_TYPE_INET_SERVICE:
		return IR_KEY_TH_DPORT;
	case IR_TYPE_ICMPV6_TYPE:
		return IR_KEY_ICMPV6_TYPE;
	case IR_TYPE_ND_TARGET:
		return IR_KEY_ND_TARGET;
	}
	return IR_KEY_IIFNAME;
}

struct emit_nft_name {
	unsigned value;
	const char *name;
};

static const struct emit_nft_name emit_nft_l4protos[] = {
    {1, "icmp"}, {6, "tcp"}, {17, "udp"}, {58, "ipv6-icmp"}, {132, "sctp"}, {0, NULL},
};

/* nft 1.0.6's icmpv6_type symbols. */
static const struct emit_nft_name emit_nft_icmpv6_types[] = {
    {1, "destination-unreachable"}, {2, "packet-too-big"},
    {3, "time-exceeded"},	    {4, "parameter-problem"},
    {128, "echo-request"},	    {129, "echo-reply"},
    {130, "mld-listener-query"},    {131, "mld-listener-report"},
    {132, "mld-listener-done"},	    {133, "nd-router-solicit"},
    {134, "nd-router-advert"},	    {135, "nd-neighbor-solicit"},
    {136, "nd-neighbor-advert"},    {137, "nd-redirect"},
    {143, "mld2-listener-report"},  {0, NULL},
};

static const struct emit_nft_name emit_nft_pkttypes[] = {
    {0, "host"}, {1, "broadcast"}, {2, "multicast"}, {3, "other"}, {0, NULL},
};

static const struct emit_nft_name emit_nft_ether_types[] = {
    {0x0800, "ip"}, {0x0806, "arp"}, {0x86dd, "ip6"}, {0x8100, "vlan"}, {0, NULL},
};

static const struct emit_nft_name emit_nft_ct_states[] = {
    {1, "invalid"}, {2, "established"}, {4, "related"}, {8, "new"}, {64, "untracked"}, {0, NULL},
};

static const char *emit_nft_lookup_name(const struct emit_nft_name *t, unsigned v)
{
	for (; t->name; t++)
		if (t->value == v)
			return t->name;
	return NULL;
}

/* snprintf into BUF at *OFF; -ENOSPC when it does not fit. */
__attribute__((format(printf, 4, 5))) static int emit_nft_bprintf(char *buf, size_t len,
								  size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off)
		return -ENOSPC;
	*off += (size_t)n;
	return 0;
}

/* Fast paths for set elements, which are most of the text of a large ruleset. */
static int emit_nft_bput(char *buf, size_t len, size_t *off, const char *str, size_t n)
{
	if (n >= len - *off)
		return -ENOSPC;
	memcpy(buf + *off, str, n);
	*off += n;
	buf[*off] = '\0';
	return 0;
}

static int emit_nft_bputs(char *buf, size_t len, size_t *off, const char *str)
{
	return emit_nft_bput(buf, len, off, str, strlen(str));
}

static int emit_nft_buint(char *buf, size_t len, size_t *off, unsigned v)
{
	char tmp[16];
	size_t n = sizeof(tmp);

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return emit_nft_bput(buf, len, off, tmp + n, sizeof(tmp) - n);
}

static uint32_t emit_nft_host32(const struct ir_value *v)
{
	uint32_t x = 0;

	memcpy(&x, v->data, v->len < 4 ? v->len : 4);
	return x;
}

/* "established,related": a ct state bitmask in nft's symbol list syntax. */
static int emit_nft_ct_state(uint32_t bits, char *buf, size_t len, size_t *off)
{
	bool first = true;
	int r;

	for (const struct emit_nft_name *n = emit_nft_ct_states; n->name; n++) {
		if (!(bits & n->value))
			continue;
		r = emit_nft_bprintf(buf, len, off, "%s%s", first ? "" : ",", n->name);
		if (r < 0)
			return r;
		bits &= ~n->value;
		first = false;
	}
	if (bits || first)
		return -EINVAL; /* bits nft has no name for: the text could not say them */
	return 0;
}

static int emit_nft_hex(const uint8_t *data, size_t n, char *buf, size_t len, size_t *off)
{
	int r = emit_nft_bput(buf, len, off, "0x", 2);

	for (size_t i = 0; i < n && r == 0; i++)
		r = emit_nft_bprintf(buf, len, off, "%02x", data[i]);
	return r;
}

/* An interface name, quoted. */
static int emit_nft_ifname(const struct ir_value *v, char *buf, size_t len, size_t *off)
{
	size_t n = strnlen((const char *)v->data, v->len);

	/* nft strings have no escapes: refuse what would change the text's meaning. */
	for (size_t i = 0; i < n; i++)
		if (v->data[i] < 0x21 || v->data[i] > 0x7e || v->data[i] == '"' ||
		    v->data[i] == '\\')
			return -EINVAL;
	if (emit_nft_bput(buf, len, off, "\"", 1) < 0 ||
	    emit_nft_bput(buf, len, off, (const char *)v->data, n) < 0)
		return -ENOSPC;
	return emit_nft_bput(buf, len, off, "\"", 1);
}

/* An IPv4 or IPv6 address, with its prefix length when WITH_PREFIX and it is one. */
static int emit_nft_addr(const struct ir_value *v, bool with_prefix, char *buf, size_t len,
			 size_t *off)
{
	char addr[INET6_ADDRSTRLEN];
	int af = v->len == 16 ? AF_INET6 : AF_INET;
	int r;

	if (v->len != 4 && v->len != 16)
		return -EINVAL;
	if (af == AF_INET) {
		/* inet_ntop is most of the cost of a large IPv4 set */
		r = 0;
		for (int i = 0; i < 4 && r == 0; i++) {
			if (i)
				r = emit_nft_bput(buf, len, off, ".", 1);
			if (r == 0)
				r = emit_nft_buint(buf, len, off, v->data[i]);
		}
	} else {
		if (!inet_ntop(af, v->data, addr, sizeof(addr)))
			return -errno;
		r = emit_nft_bputs(buf, len, off, addr);
	}
	if (r == 0 && with_prefix && v->prefix < v->len * 8) {
		r = emit_nft_bput(buf, len, off, "/", 1);
		if (r == 0)
			r = emit_nft_buint(buf, len, off, v->prefix);
	}
	return r;
}

/* Like emit_nft_value but ignores the prefix (set elements and range ends are full values). */
static int emit_nft_value_at(enum ir_key key, const struct ir_value *v, bool with_prefix, char *buf,
			     size_t len, size_t *off)
{
	const char *name;
	unsigned x;

	switch (key) {
	case IR_KEY_IIFNAME:
	case IR_KEY_OIFNAME:
		return emit_nft_ifname(v, buf, len, off);
	case IR_KEY_IP_SADDR:
	case IR_KEY_IP_DADDR:
	case IR_KEY_ARP_SADDR_IP:
	case IR_KEY_IP6_SADDR:
	case IR_KEY_IP6_DADDR:
		return emit_nft_addr(v, with_prefix, buf, len, off);
	case IR_KEY_L4PROTO:
		name = emit_nft_lookup_name(emit_nft_l4protos, v->data[0]);
		if (name)
			return emit_nft_bputs(buf, len, off, name);
		return emit_nft_buint(buf, len, off, v->data[0]);
	case IR_KEY_ICMPV6_TYPE:
		name = emit_nft_lookup_name(emit_nft_icmpv6_types, v->data[0]);
		if (name)
			return emit_nft_bputs(buf, len, off, name);
		return emit_nft_buint(buf, len, off, v->data[0]);
	case IR_KEY_PKTTYPE:
		name = emit_nft_lookup_name(emit_nft_pkttypes, v->data[0]);
		if (name)
			return emit_nft_bputs(buf, len, off, name);
		return emit_nft_buint(buf, len, off, v->data[0]);
	case IR_KEY_TH_DPORT:
	case IR_KEY_TH_SPORT:
		if (v->len != 2)
			return -EINVAL;
		return emit_nft_buint(buf, len, off, (unsigned)v->data[0] << 8 | v->data[1]);
	case IR_KEY_ETHER_TYPE:
		if (v->len != 2)
			return -EINVAL;
		x = (unsigned)v->data[0] << 8 | v->data[1];
		name = emit_nft_lookup_name(emit_nft_ether_types, x);
		if (name)
			return emit_nft_bputs(buf, len, off, name);
		return emit_nft_bprintf(buf, len, off, "0x%04x", x);
	case IR_KEY_MARK:
		return emit_nft_bprintf(buf, len, off, "0x%08x", emit_nft_host32(v));
	case IR_KEY_CT_STATE:
		return emit_nft_ct_state(emit_nft_host32(v), buf, len, off);
	case IR_KEY_ND_TARGET:
		/* A raw payload is an integer to nft: all 16 bytes in hex, big-endian. */
		if (v->len != 16)
			return -EINVAL;
		return emit_nft_hex(v->data, v->len, buf, len, off);
	}
	return -EINVAL;
}

int emit_nft_value(enum ir_key key, const struct ir_value *v, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	return emit_nft_value_at(key, v, true, buf, len, &off);
}

/* Prefix length P when [lo, hi] is exactly one prefix, -1 otherwise. */
static int emit_nft_exact_prefix(const struct ir_value *lo, const struct ir_value *hi)
{
	int bits = lo->len * 8, p;

	if (lo->len != hi->len)
		return -1;
	for (p = 0; p < bits; p++) {
		int bl = lo->data[p / 8] >> (7 - p % 8) & 1;
		int bh = hi->data[p / 8] >> (7 - p % 8) & 1;

		if (bl != bh)
			break;
	}
	/* From bit p on, lo must be all zeros and hi all ones. */
	for (int i = p; i < bits; i++) {
		if ((lo->data[i / 8] >> (7 - i % 8) & 1) != 0 ||
		    (hi->data[i / 8] >> (7 - i % 8) & 1) != 1)
			return -1;
	}
	return p;
}

/* One component of a set element: a value, a prefix, or "lo-hi". */
static int emit_nft_elem_part(enum ir_type t, const struct ir_value *lo, const struct ir_value *hi,
			      bool interval, char *buf, size_t len, size_t *off)
{
	enum ir_key key = emit_nft_key_of_type(t);
	int p, r;

	if (!interval || hi->len == 0 || memcmp(lo->data, hi->data, lo->len) == 0)
		return emit_nft_value_at(key, lo, false, buf, len, off);
	if (t == IR_TYPE_IPV4 || t == IR_TYPE_IPV6) {
		p = emit_nft_exact_prefix(lo, hi);
		if (p >= 0) {
			r = emit_nft_value_at(key, lo, false, buf, len, off);
			return r < 0 ? r : emit_nft_bprintf(buf, len, off, "/%d", p);
		}
	}
	r = emit_nft_value_at(key, lo, false, buf, len, off);
	if (r == 0)
		r = emit_nft_bprintf(buf, len, off, "-");
	if (r == 0)
		r = emit_nft_value_at(key, hi, false, buf, len, off);
	return r;
}

static int emit_nft_verdict(const struct ir_verdict *v, char *buf, size_t len, size_t *off)
{
	switch (v->kind) {
	case IR_VERDICT_ACCEPT:
		return emit_nft_bprintf(buf, len, off, "accept");
	case IR_VERDICT_DROP:
		return emit_nft_bprintf(buf, len, off, "drop");
	case IR_VERDICT_RETURN:
		return emit_nft_bprintf(buf, len, off, "return");
	case IR_VERDICT_JUMP:
		return v->chain ? emit_nft_bprintf(buf, len, off, "jump %s", v->chain) : -EINVAL;
	case IR_VERDICT_GOTO:
		return v->chain ? emit_nft_bprintf(buf, len, off, "goto %s", v->chain) : -EINVAL;
	}
	return -EINVAL;
}

/* Whole element (all components, and ": verdict" for maps) into BUF. */
static int emit_nft_elem(const struct ir_set *s, const struct ir_elem *e, char *buf, size_t len)
{
	size_t off = 0;
	int r = 0;

	for (size_t k = 0; k < s->ntypes && r == 0; k++) {
		if (k)
			r = emit_nft_bput(buf, len, &off, " . ", 3);
		if (r == 0)
			r = emit_nft_elem_part(s->types[k], &e->key[k], &e->key_end[k], s->interval,
					       buf, len, &off);
	}
	if (r == 0 && s->is_vmap) {
		r = emit_nft_bprintf(buf, len, &off, " : ");
		if (r == 0)
			r = emit_nft_verdict(&e->verdict, buf, len, &off);
	}
	return r;
}

static int emit_nft_keys(const struct ir_match *m, char *buf, size_t len, size_t *off)
{
	int r = 0;

	if (m->nkeys == 0 || m->nkeys > IR_CONCAT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < m->nkeys && r == 0; i++) {
		const char *k = emit_nft_key(m->keys[i]);

		if (!k)
			return -EINVAL;
		r = emit_nft_bprintf(buf, len, off, "%s%s", i ? " . " : "", k);
	}
	return r;
}

/*
 * A prefix of the ND target. A raw payload takes no "/N": nft loads only the prefix's bytes,
 * so say those, with the mask spelled out when the prefix does not end on a byte
 * ("@th,64,16 & 0xffc0 == 0xfe80" for fe80::/10).
 */
static int emit_nft_nd_target_prefix(const struct ir_match *m, char *buf, size_t len, size_t *off)
{
	unsigned p = m->value.prefix, n = (p + 7) / 8;
	uint8_t mask[16] = {0};
	int r;

	if (m->nkeys != 1 || m->value.len != 16 || p == 0 ||
	    (m->op != IR_OP_EQ && m->op != IR_OP_NE))
		return -EINVAL;
	for (unsigned bit = 0; bit < p; bit++)
		mask[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	r = emit_nft_bprintf(buf, len, off, "@th,64,%u ", n * 8);
	if (r == 0 && p % 8) {
		r = emit_nft_bprintf(buf, len, off, "& ");
		if (r == 0)
			r = emit_nft_hex(mask, n, buf, len, off);
		if (r == 0)
			r = emit_nft_bprintf(buf, len, off, " %s ",
					     m->op == IR_OP_EQ ? "==" : "!=");
	} else if (r == 0 && m->op == IR_OP_NE) {
		r = emit_nft_bprintf(buf, len, off, "!= ");
	}
	return r < 0 ? r : emit_nft_hex(m->value.data, n, buf, len, off);
}

static int emit_nft_match(const struct ir_match *m, char *buf, size_t len, size_t *off)
{
	enum ir_key k = m->keys[0];
	int r;

	if (k == IR_KEY_ND_TARGET && m->value.len && m->value.prefix < 128)
		return emit_nft_nd_target_prefix(m, buf, len, off);
	r = emit_nft_keys(m, buf, len, off);

	if (r < 0)
		return r;
	switch (m->op) {
	case IR_OP_EQ:
	case IR_OP_NE:
		if (m->nkeys != 1)
			return -EINVAL;
		r = emit_nft_bprintf(buf, len, off, m->op == IR_OP_EQ ? " " : " != ");
		return r < 0 ? r : emit_nft_value_at(k, &m->value, true, buf, len, off);
	case IR_OP_RANGE:
		r = emit_nft_bprintf(buf, len, off, " ");
		if (r == 0)
			r = emit_nft_value_at(k, &m->value, false, buf, len, off);
		if (r == 0)
			r = emit_nft_bprintf(buf, len, off, "-");
		return r < 0 ? r : emit_nft_value_at(k, &m->value_end, false, buf, len, off);
	case IR_OP_BITS_ZERO:
	case IR_OP_BITS_ANY:
		if (k == IR_KEY_CT_STATE && m->op == IR_OP_BITS_ANY) {
			/* "ct state a,b" is nft's (state & (a|b)) != 0 */
			r = emit_nft_bprintf(buf, len, off, " ");
			return r < 0 ? r : emit_nft_value_at(k, &m->value, false, buf, len, off);
		}
		if (k != IR_KEY_MARK && k != IR_KEY_CT_STATE)
			return -EINVAL;
		/* "ct state != a,b" would be a plain compare in nft, so spell the mask out. */
		r = emit_nft_bprintf(buf, len, off, " & 0x%08x %s 0x00000000",
				     emit_nft_host32(&m->value),
				     m->op == IR_OP_BITS_ZERO ? "==" : "!=");
		return r;
	case IR_OP_LOOKUP:
		return m->set ? emit_nft_bprintf(buf, len, off, " @%s", m->set) : -EINVAL;
	case IR_OP_NOT_LOOKUP:
		return m->set ? emit_nft_bprintf(buf, len, off, " != @%s", m->set) : -EINVAL;
	case IR_OP_VMAP:
		return m->set ? emit_nft_bprintf(buf, len, off, " vmap @%s", m->set) : -EINVAL;
	}
	return -EINVAL;
}

static int emit_nft_stmt(const struct ir_stmt *s, char *buf, size_t len, size_t *off)
{
	switch (s->kind) {
	case IR_STMT_MATCH:
		return emit_nft_match(&s->match, buf, len, off);
	case IR_STMT_COUNTER:
		return s->counter ? emit_nft_bprintf(buf, len, off, "counter name %s", s->counter)
				  : -EINVAL;
	case IR_STMT_LIMIT:
		return emit_nft_bprintf(buf, len, off, "limit rate %s%u/second burst %u packets",
					s->limit.over ? "over " : "", s->limit.rate,
					s->limit.burst);
	case IR_STMT_LOG:
		if (!s->log.prefix || strchr(s->log.prefix, '"'))
			return -EINVAL;
		return emit_nft_bprintf(buf, len, off, "log prefix \"%s\" group %u", s->log.prefix,
					s->log.group);
	case IR_STMT_MARK_OR:
		return emit_nft_bprintf(buf, len, off, "meta mark set meta mark | 0x%08x",
					s->mark_or);
	case IR_STMT_QUEUE:
		return emit_nft_bprintf(buf, len, off, "queue flags bypass to %u", s->queue_num);
	case IR_STMT_VERDICT:
		return emit_nft_verdict(&s->verdict, buf, len, off);
	}
	return -EINVAL;
}

/* Lines are short (a rule is a handful of statements); 4 KiB bounds them with a margin. */
#define EMIT_NFT_LINE 4096

static int emit_nft_set(const struct ir_set *s, FILE *out)
{
	char line[EMIT_NFT_LINE];
	int r;

	bool by_typeof = false;

	for (size_t k = 0; k < s->ntypes; k++)
		by_typeof |= s->types[k] == IR_TYPE_ND_TARGET;
	/* A type nft cannot name (a raw payload) makes the whole key a typeof: each component
	 * is then the expression whose values it holds (an ifname is an iifname). */
	fprintf(out, "\n\t%s %s {\n\t\t%s ", s->is_vmap ? "map" : "set", s->name,
		by_typeof ? "typeof" : "type");
	for (size_t k = 0; k < s->ntypes; k++) {
		const char *t = by_typeof ? emit_nft_key(emit_nft_key_of_type(s->types[k]))
					  : emit_nft_type(s->types[k]);

		if (!t || (by_typeof && s->is_vmap))
			return -EINVAL;
		fprintf(out, "%s%s", k ? " . " : "", t);
	}
	if (s->is_vmap)
		fputs(" : verdict", out);
	fputc('\n', out);
	if (s->constant || s->interval)
		fprintf(out, "\t\tflags %s%s%s\n", s->constant ? "constant" : "",
			s->constant && s->interval ? "," : "", s->interval ? "interval" : "");
	else if (s->timeout)
		fputs("\t\tflags timeout\n", out);
	/* One element per line, as nft lists them: large sets stay readable and diffable. */
	for (size_t i = 0; i < s->n; i++) {
		r = emit_nft_elem(s, &s->elems[i], line, sizeof(line));
		if (r < 0)
			return r;
		fputs(i == 0 ? "\t\telements = { " : "\t\t\t     ", out);
		fputs(line, out);
		fputs(i + 1 == s->n ? " }\n" : ",\n", out);
	}
	fputs("\t}\n", out);
	return 0;
}

static int emit_nft_chain(const struct ir_chain *c, FILE *out)
{
	char line[EMIT_NFT_LINE];
	size_t off;
	int r;

	fprintf(out, "\n\tchain %s {\n", c->name);
	if (c->base) {
		const char *h = emit_nft_hook(c->hook);

		if (!h)
			return -EINVAL;
		fprintf(out, "\t\ttype filter hook %s priority %d; policy accept;\n", h,
			c->priority);
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct ir_rule *rule = &c->rules[i];

		if (rule->n == 0)
			continue; /* nothing to say; nft rejects an empty rule */
		off = 0;
		line[0] = '\0';
		for (size_t j = 0; j < rule->n; j++) {
			if (j) {
				r = emit_nft_bprintf(line, sizeof(line), &off, " ");
				if (r < 0)
					return r;
			}
			r = emit_nft_stmt(&rule->stmts[j], line, sizeof(line), &off);
			if (r < 0)
				return r;
		}
		fprintf(out, "\t\t%s\n", line);
	}
	fputs("\t}\n", out);
	return 0;
}

static int emit_nft_table(const struct ir_table *t, FILE *out)
{
	const char *fam = emit_nft_family(t->family);
	int r;

	if (!fam)
		return -EINVAL;
	/* "table" first so that "delete" cannot fail when the table does not exist yet: the
	 * same add/delete/re-create the netlink batch does, in one nft -f transaction. */
	fprintf(out, "table %s %s\ndelete table %s %s\ntable %s %s {", fam, t->name, fam, t->name,
		fam, t->name);
	for (size_t i = 0; i < t->ncounters; i++)
		fprintf(out, "\n\tcounter %s {\n\t}\n", t->counters[i]);
	for (size_t i = 0; i < t->nsets; i++) {
		r = emit_nft_set(t->sets[i], out);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < t->nchains; i++) {
		r = emit_nft_chain(t->chains[i], out);
		if (r < 0)
			return r;
	}
	fputs("}\n", out);
	return 0;
}

int emit_nft(const struct ir_ruleset *rs, FILE *out)
{
	int r;

	for (size_t i = 0; i < rs->n; i++) {
		r = emit_nft_table(rs->tables[i], out);
		if (r < 0)
			return r;
	}
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}
