/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_POLICY_H
#define NETSEG_POLICY_H

/*
 * The validated policy model (policy-v1). Built only by policy_from_nodes(), which checks
 * everything the spec lists; everything downstream may trust it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "node.h"

#define POLICY_NAME_MAX 63

enum policy_action { POLICY_ALLOW, POLICY_DENY };
enum policy_log { POLICY_LOG_NONE, POLICY_LOG_DENY, POLICY_LOG_ALL };

/* Traffic categories by the kinds of the two ends (spec: Meaning 2). */
enum policy_category {
	POLICY_C2C, /* container_to_container */
	POLICY_C2W, /* container_to_world */
	POLICY_C2H, /* container_to_host */
	POLICY_W2C, /* world_to_container */
	POLICY_CATEGORY_COUNT
};

struct policy_label {
	char *key;
	char *value;
};

/* An inline container match; every present field must match (AND). */
struct policy_match {
	struct policy_label *labels; /* compose_service is folded in as a label */
	size_t nlabels;
	char *name_glob;  /* fnmatch(3) pattern or NULL */
	char *image_glob; /* fnmatch(3) pattern or NULL */
	char *network;	  /* NULL when absent */
};

struct policy_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;
};

struct policy_group {
	char *name;
	struct policy_match match;
	struct loc loc;
};

struct policy_net {
	char *name;
	struct policy_cidr *cidrs;
	size_t ncidrs;
	struct loc loc;
};

enum policy_term_kind {
	POLICY_TERM_GROUP,	/* .group */
	POLICY_TERM_CONTAINERS, /* every managed container */
	POLICY_TERM_WORLD,
	POLICY_TERM_HOST,
	POLICY_TERM_ANY,
	POLICY_TERM_MATCH, /* inline match, .match */
	POLICY_TERM_NET,   /* .net */
	POLICY_TERM_CIDR,  /* .cidrs minus .except */
	POLICY_TERM_FQDN,  /* .fqdns: addresses learned from DNS (to of allow rules only) */
};

/* A DNS name of an fqdn selector, lower case, without the trailing dot. WILDCARD: "*.NAME",
 * one or more labels before NAME, never NAME itself. */
struct policy_fqdn {
	char *name;
	bool wildcard;
};

#define POLICY_FQDN_MAX		 253  /* a DNS name in text, without the trailing dot */
#define POLICY_FQDNS_MAX	 1024 /* names in one selector */
#define POLICY_DNS_TTL_MAX	 86400
#define POLICY_DNS_IPS_MAX	 4096
#define POLICY_DNS_RESOLVERS_MAX 64

/* The dns block (spec: DNS, limits, audit). */
struct policy_dns {
	struct policy_cidr *resolvers; /* host addresses; nresolvers 0: the caller's default */
	size_t nresolvers;
	bool resolvers_set;
	uint32_t min_ttl;	   /* seconds, default 30 */
	uint32_t max_ips_per_name; /* default 64 */
};

struct policy_term {
	enum policy_term_kind kind;
	size_t group; /* index into policy.groups */
	size_t net;   /* index into policy.nets */
	struct policy_match match;
	struct policy_cidr *cidrs, *except;
	size_t ncidrs, nexcept;
	struct policy_fqdn *fqdns;
	size_t nfqdns;
	struct loc loc;
};

/* A selector is the union of its terms. */
struct policy_selector {
	struct policy_term *terms;
	size_t n;
};

struct policy_port {
	uint8_t proto;	      /* IPPROTO_TCP, _UDP, _SCTP, _ICMP, _ICMPV6 */
	uint16_t first, last; /* inclusive; 0,0 for icmp/icmpv6 */
};

struct policy_rule {
	char *name;
	struct policy_selector from, to;
	struct policy_port *ports; /* nports == 0: all traffic */
	size_t nports;
	enum policy_action action;
	int log; /* -1: follow defaults.log, 0: never, 1: always */
	struct loc loc;
};

struct policy {
	enum policy_action defaults[POLICY_CATEGORY_COUNT];
	struct loc default_locs[POLICY_CATEGORY_COUNT]; /* .file NULL: not written (built-in) */
	enum policy_log log;
	struct policy_group *groups;
	size_t ngroups;
	struct policy_net *nets;
	size_t nnets;
	struct policy_rule *rules;
	size_t nrules;
	struct policy_dns dns;
	/* File names the locs above borrow, owned here so the model outlives its diag_list. */
	char **files;
	size_t nfiles;
};

/*
 * Validates and merges the documents ROOTS[0..N) (one per file, in name order) into a policy.
 * Returns 0 and *ret, or -EINVAL with every error found appended to DIAGS. Warnings (e.g. a
 * rule that can never match) are appended without failing.
 */
int policy_from_nodes(struct node *const *roots, size_t n, struct diag_list *diags,
		      struct policy **ret);
void policy_free(struct policy *p);

/* Convenience: parse_path() then policy_from_nodes(). */
int policy_load(const char *path, struct diag_list *diags, struct policy **ret);

/* Whether a rule's (resp. a category default's) verdicts are logged, given defaults.log. */
bool policy_rule_logs(const struct policy *p, const struct policy_rule *r);
bool policy_default_logs(const struct policy *p, enum policy_category c);

const char *policy_category_name(enum policy_category c);  /* "container_to_world" */
const char *policy_category_short(enum policy_category c); /* "c2w" */

/* Whether some rule has an fqdn selector (then DNS replies are snooped). */
bool policy_has_fqdn(const struct policy *p);
/*
 * Whether NAME (as it comes from a DNS message: any case, trailing dot optional) is matched by
 * F. Pure string work, shared by the agent and the tests.
 */
bool policy_fqdn_match(const struct policy_fqdn *f, const char *name);
/*
 * Checks and normalizes the DNS name S ("API.Example.com." -> "api.example.com"), "*." allowed
 * in front when WILDCARD_OK. 0 and *ret (malloc'd) with *ret_wildcard, or -EINVAL with a
 * static reason in *ret_why, or -ENOMEM.
 */
int policy_fqdn_parse(const char *s, bool wildcard_ok, struct policy_fqdn *ret,
		      const char **ret_why);

/* Group, net and rule names: 1 to POLICY_NAME_MAX characters of [a-z0-9_-]. */
bool policy_name_valid(const char *name);

/*
 * CIDR helpers, shared by validation, endpoint files and the agent (Docker reports addresses
 * as "172.17.0.2/16"). policy_cidr_parse() accepts "ADDR/PREFIX" or a bare address (/32, /128)
 * and keeps host bits: 0, -EINVAL (not an address) or -ERANGE (prefix too long or malformed).
 */
#define POLICY_CIDR_STRLEN 50 /* INET6_ADDRSTRLEN + "/128" */
int policy_cidr_parse(const char *s, struct policy_cidr *ret);
/* Clears host bits; returns whether any were set. */
bool policy_cidr_mask(struct policy_cidr *c);
/* Whether every address of INNER is in OUTER (same family, OUTER no longer than INNER). */
bool policy_cidr_contains(const struct policy_cidr *outer, const struct policy_cidr *inner);
/*
 * Whether C lies inside ::ffff:0:0/96, the IPv4-mapped IPv6 addresses: those exist only inside
 * dual-stack sockets, never in a packet (IPv4 packets carry the IPv4 address). On true and
 * when RET_V4 is not NULL, *RET_V4 is the IPv4 network meant, host bits cleared.
 */
bool policy_cidr_v4_mapped(const struct policy_cidr *c, struct policy_cidr *ret_v4);
/* "10.0.0.0/8"; bare addresses keep their /32 or /128. Returns BUF. */
char *policy_cidr_format(const struct policy_cidr *c, char *buf, size_t len);

#endif
