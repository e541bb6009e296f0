/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_IR_H
#define NETSEG_IR_H

/*
 * The compiled ruleset: tables, sets, maps, named counters, chains, rules. It is the single
 * input of both emitters (emit_nft.c renders nft text, netlink/nft_encode*.c build libnftnl
 * objects), so it only holds what both can express, with values already in the byte layout the
 * kernel compares (network order for packet fields, host order for meta mark and ct state).
 * See docs/design.md for the layout the compiler builds with it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IR_CONCAT_MAX 3
#define IR_IFNAMSIZ   16

/* Values are NFPROTO_* so the encoder can use them as they are. */
enum ir_family { IR_FAMILY_INET = 1, IR_FAMILY_ARP = 3, IR_FAMILY_BRIDGE = 7 };

enum ir_hook { IR_HOOK_PREROUTING, IR_HOOK_INPUT, IR_HOOK_FORWARD, IR_HOOK_OUTPUT };

/* Data types of set keys (nft type names in comments). */
enum ir_type {
	IR_TYPE_IFNAME,	      /* ifname: 16 bytes, NUL padded */
	IR_TYPE_IPV4,	      /* ipv4_addr: 4 bytes */
	IR_TYPE_IPV6,	      /* ipv6_addr: 16 bytes */
	IR_TYPE_INET_PROTO,   /* inet_proto: 1 byte */
	IR_TYPE_INET_SERVICE, /* inet_service: 2 bytes, network order */
	IR_TYPE_ICMPV6_TYPE,  /* icmpv6_type: 1 byte */
	/* The IPv6 address an ND message is about (NS/NA target), 16 bytes. nft 1.0.6 has no
	 * "icmpv6 taddr": sets with it are declared "typeof ... @th,64,128" (an integer). */
	IR_TYPE_ND_TARGET,
};

/* What a match reads from the packet. Each has a fixed type and byte length. */
enum ir_key {
	IR_KEY_IIFNAME,	     /* meta iifname: ifname */
	IR_KEY_OIFNAME,	     /* meta oifname: ifname */
	IR_KEY_MARK,	     /* meta mark: 4 bytes host order */
	IR_KEY_PKTTYPE,	     /* meta pkttype: 1 byte (PACKET_*) */
	IR_KEY_L4PROTO,	     /* meta l4proto: inet_proto */
	IR_KEY_CT_STATE,     /* ct state: 4 bytes host order, NF_CT_STATE_* bits */
	IR_KEY_ETHER_TYPE,   /* ether type: 2 bytes network order (bridge family) */
	IR_KEY_IP_SADDR,     /* ip saddr: ipv4_addr */
	IR_KEY_IP_DADDR,     /* ip daddr */
	IR_KEY_IP6_SADDR,    /* ip6 saddr: ipv6_addr */
	IR_KEY_IP6_DADDR,    /* ip6 daddr */
	IR_KEY_ARP_SADDR_IP, /* arp saddr ip: ipv4_addr */
	IR_KEY_TH_DPORT,     /* th dport: inet_service */
	IR_KEY_TH_SPORT,     /* th sport: inet_service (DNS replies, sport 53) */
	IR_KEY_ICMPV6_TYPE,  /* icmpv6 type: icmpv6_type */
	IR_KEY_ND_TARGET,    /* @th,64,128 (NS/NA target address): nd_target. With a short
			      * prefix, EQ loads and compares only the prefix's bytes. */
};

/*
 * A constant. DATA holds LEN bytes exactly as the kernel register holds them. For addresses,
 * PREFIX < LEN * 8 makes a prefix match (nft: "ip saddr 10.0.0.0/8"); otherwise PREFIX is LEN*8.
 */
struct ir_value {
	uint8_t len;
	uint8_t prefix;
	uint8_t data[IR_IFNAMSIZ];
};

enum ir_op {
	IR_OP_EQ,	  /* key == value (prefix match when value.prefix is short) */
	IR_OP_NE,	  /* key != value */
	IR_OP_RANGE,	  /* value <= key <= value_end (nft: cmp gte, cmp lte) */
	IR_OP_BITS_ZERO,  /* (key & value) == 0   e.g. meta mark & 0x02000000 == 0 */
	IR_OP_BITS_ANY,	  /* (key & value) != 0   e.g. ct state established,related */
	IR_OP_LOOKUP,	  /* key(s) in @set */
	IR_OP_NOT_LOOKUP, /* key(s) not in @set */
	IR_OP_VMAP,	  /* key vmap @map */
};

struct ir_match {
	enum ir_key keys[IR_CONCAT_MAX]; /* nkeys > 1 only with LOOKUP/NOT_LOOKUP/VMAP */
	uint8_t nkeys;
	enum ir_op op;
	struct ir_value value, value_end;
	const char *set; /* set or map name for LOOKUP/NOT_LOOKUP/VMAP (owned by the ruleset) */
};

enum ir_verdict_kind {
	IR_VERDICT_ACCEPT,
	IR_VERDICT_DROP,
	IR_VERDICT_RETURN,
	IR_VERDICT_JUMP,
	IR_VERDICT_GOTO
};

struct ir_verdict {
	enum ir_verdict_kind kind;
	const char *chain; /* JUMP/GOTO target (owned by the ruleset) */
};

enum ir_stmt_kind {
	IR_STMT_MATCH,
	IR_STMT_COUNTER, /* counter name "NAME" (a table counter object) */
	IR_STMT_LIMIT,	 /* limit rate [over] RATE/second burst BURST packets */
	IR_STMT_LOG,	 /* log prefix "PREFIX" group GROUP */
	IR_STMT_MARK_OR, /* meta mark set meta mark | BITS */
	IR_STMT_QUEUE,	 /* queue flags bypass to NUM (NFQUEUE; no listener: accept) */
	IR_STMT_VERDICT,
};

struct ir_stmt {
	enum ir_stmt_kind kind;
	union {
		struct ir_match match;
		const char *counter;
		struct {
			uint32_t rate; /* per second */
			uint32_t burst;
			bool over; /* matches the packets beyond the limit (NFT_LIMIT_F_INV) */
		} limit;
		struct {
			const char *prefix;
			uint16_t group;
		} log;
		uint32_t mark_or;
		uint16_t queue_num; /* always with bypass */
		struct ir_verdict verdict;
	};
};

struct ir_rule {
	struct ir_stmt *stmts;
	size_t n, cap;
};

struct ir_chain {
	const char *name;
	bool base; /* base chains: hook, priority, policy accept */
	enum ir_hook hook;
	int priority;
	struct ir_rule *rules;
	size_t n, cap;
};

struct ir_elem {
	struct ir_value key[IR_CONCAT_MAX];
	struct ir_value key_end[IR_CONCAT_MAX]; /* interval sets: inclusive end, per component */
	struct ir_verdict verdict;		/* maps */
	uint64_t timeout_ms; /* sets with timeout, agent deltas only: lifetime (0: none) */
};

struct ir_set {
	const char *name;
	enum ir_type types[IR_CONCAT_MAX];
	uint8_t ntypes;
	bool interval;
	bool constant; /* elements never change with the inventory (e.g. nd_types) */
	bool is_vmap;  /* data type verdict */
	bool timeout;  /* flags timeout: the agent adds elements that expire (fqdn) */
	struct ir_elem *elems;
	size_t n, cap;
};

struct ir_table {
	enum ir_family family;
	const char *name;
	const char **counters; /* named counter objects, in creation order */
	size_t ncounters, counters_cap;
	struct ir_set **sets; /* in creation order */
	size_t nsets, sets_cap;
	/* Name -> 1 + index in sets (0: empty slot), open addressing: the agent looks sets up
	 * by name for every element of every endpoint, and tables hold thousands of sets. */
	uint32_t *set_slots;
	size_t set_slots_cap;
	struct ir_chain **chains; /* in creation order */
	size_t nchains, chains_cap;
};

struct ir_ruleset {
	struct ir_table **tables;
	size_t n, cap;
	/* strings and objects are owned by the ruleset; see ir.c */
	char **strings;
	size_t nstrings, strings_cap;
};

/* --- building (all return NULL / -ENOMEM on allocation failure) --- */
struct ir_ruleset *ir_ruleset_new(void);
void ir_ruleset_free(struct ir_ruleset *rs);
const char *ir_strdup(struct ir_ruleset *rs, const char *s);
struct ir_table *ir_table_add(struct ir_ruleset *rs, enum ir_family family, const char *name);
struct ir_table *ir_table_find(const struct ir_ruleset *rs, enum ir_family family,
			       const char *name);
int ir_counter_add(struct ir_ruleset *rs, struct ir_table *t, const char *name);
struct ir_set *ir_set_add(struct ir_ruleset *rs, struct ir_table *t, const char *name,
			  const enum ir_type *types, size_t ntypes, bool interval);
struct ir_set *ir_set_find(const struct ir_table *t, const char *name);
/* The same, with the set's index in t->sets (its creation order) in *ret_idx. */
struct ir_set *ir_set_find_index(const struct ir_table *t, const char *name, size_t *ret_idx);
struct ir_chain *ir_chain_add(struct ir_ruleset *rs, struct ir_table *t, const char *name);
struct ir_chain *ir_chain_find(const struct ir_table *t, const char *name);
/* The returned rule lives in C's array: valid until the next ir_rule_add() on C. */
struct ir_rule *ir_rule_add(struct ir_chain *c);
int ir_rule_push(struct ir_rule *r, const struct ir_stmt *s);
/* A rule of exactly the N statements STMTS, copied: no spare capacity, since a ruleset of
 * 100k rules holds hundreds of thousands of lines that never grow. */
int ir_rule_add_copy(struct ir_chain *c, const struct ir_stmt *stmts, size_t n);
/* The same, taking over STMTS (malloc'd, N long) on success: a line built once is not copied. */
int ir_rule_add_owned(struct ir_chain *c, struct ir_stmt *stmts, size_t n);
/* Room for N more rules in C, exactly, when the caller knows how many it adds. */
int ir_chain_reserve(struct ir_chain *c, size_t n);
int ir_elem_add(struct ir_set *s, const struct ir_elem *e);

/* Sorts elements by key bytes, removes duplicates and, in interval sets, merges overlapping or
 * adjacent intervals (per leading components for concatenations). Makes output deterministic. */
void ir_set_normalize(struct ir_set *s);
void ir_ruleset_normalize(struct ir_ruleset *rs);

/* --- values --- */
int ir_key_len(enum ir_key k);
enum ir_type ir_type_of_key(enum ir_key k); /* only for keys that can be set keys */
int ir_type_len(enum ir_type t);
struct ir_value ir_value_ifname(const char *name);
struct ir_value ir_value_u8(uint8_t v);
struct ir_value ir_value_be16(uint16_t v);     /* host value, stored big-endian */
struct ir_value ir_value_u32_host(uint32_t v); /* meta mark, ct state */
struct ir_value ir_value_addr(int family, const uint8_t *addr, int prefix);

#endif
