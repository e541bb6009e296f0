/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_DNS_REPLY_H
#define NETSEG_DNS_REPLY_H

/*
 * What a DNS reply teaches fqdn rules: the question's name, the CNAME chain from it inside the
 * answer section, and the A/AAAA addresses of the names of that chain, with their TTLs. The
 * wire format is glibc's libresolv's job (ns_initparse, ns_parserr, ns_name_uncompress), never
 * ours. Pure: a buffer in, a model or an error out (the fuzzer calls it as it is).
 */

#include <stddef.h>
#include <stdint.h>

#define DNS_REPLY_NAMES_MAX 16 /* the question and up to 15 CNAME targets */
#define DNS_REPLY_NAME_LEN  1025

struct dns_reply_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint32_t ttl; /* seconds */
	uint8_t name; /* index in names of the name it is an address of */
};

struct dns_reply {
	char names[DNS_REPLY_NAMES_MAX][DNS_REPLY_NAME_LEN]; /* [0]: the question, lower case */
	size_t nnames;
	struct dns_reply_addr *addrs; /* at most the caller's max_ips */
	size_t naddrs;
};

/*
 * Parses the DNS message BUF[0..len). 0 and *ret filled (free its addrs with
 * dns_reply_clear), or: -EBADMSG not a reply libresolv can parse (or no question), -EMSGSIZE
 * truncated (TC), -E2BIG more than MAX_IPS addresses or a longer CNAME chain, -ENOMEM.
 * A reply with an error rcode or without addresses is 0 with naddrs 0.
 */
int dns_reply_parse(const uint8_t *buf, size_t len, size_t max_ips, struct dns_reply *ret);
void dns_reply_clear(struct dns_reply *r);

#endif
