/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_FQDN_H
#define NETSEG_FQDN_H

/*
 * fqdn rules, the agent's side: DNS replies held in NFQUEUE (compile_fqdn.c queues them) are
 * parsed, every name of their CNAME chain is matched against the fqdn rules whose `from`
 * selects the receiving container, the addresses go into those rules' f_* sets with a kernel
 * timeout of max(TTL, dns.min_ttl) in one netlink batch, and only after the kernel acked it is
 * the reply released. Anything it cannot use (unparsable, truncated, over the limits, not
 * for a managed container) is released unchanged and counted.
 */

#include <jansson.h>
#include <stdint.h>

#include "endpoints.h"
#include "ir.h"
#include "nfqueue.h"
#include "policy.h"

struct fqdn_stats {
	uint64_t held;		 /* replies seen in the queue */
	uint64_t learned;	 /* addresses added (or refreshed) in a set */
	uint64_t parse_failures; /* unparsable, truncated (TC or capture), TCP not one message */
	uint64_t over_limits;	 /* more than max_ips_per_name, or a longer CNAME chain */
	uint64_t overflows;	 /* socket overflows: replies the kernel passed unseen */
	uint64_t commit_failures;
};

struct fqdn;

/* Binds the DNS queue. 0 or -errno (the caller says fqdn rules will not learn). */
int fqdn_open(struct fqdn **ret);
void fqdn_free(struct fqdn *f);
int fqdn_fd(const struct fqdn *f);

/*
 * Handles every held reply against policy P, the installed ruleset BASE (for the f_* sets)
 * and the endpoints EPS. Never blocks: element batches are answered by the kernel within the
 * send. 0, or -errno for a socket error (already counted).
 */
int fqdn_read(struct fqdn *f, const struct policy *p, const struct ir_ruleset *base,
	      const struct endpoint_set *eps);

const struct fqdn_stats *fqdn_stats(const struct fqdn *f);
/* [{"rule", "name", "address", "expires_in"}] of the addresses learned and not expired. */
json_t *fqdn_status(const struct fqdn *f);
/*
 * After our tables were replaced (reload, repair, restart of the loop), puts the learned
 * addresses that are not expired and that the policy P still allows back into BASE's sets
 * with their remaining lifetime. The number restored, or -errno.
 */
int fqdn_reinstall(struct fqdn *f, const struct policy *p, const struct ir_ruleset *base);
/*
 * Before the first install of a (re)started agent: takes over what the f_* sets of policy P
 * still hold in the kernel (learned by the previous agent), so fqdn_reinstall() puts it back
 * with its remaining lifetime. Their names are unknown (status shows ""). The number adopted.
 */
int fqdn_adopt(struct fqdn *f, const struct policy *p);
/* The name ADDR (FAMILY) was learned from, or NULL. */
const char *fqdn_name_of(const struct fqdn *f, int family, const uint8_t *addr);

/* A queued reply's headers: IPv4 or IPv6, then UDP, or TCP with one length-prefixed message
 * in the segment (what fqdn_read does with each packet; the fuzzer calls it too). */
struct fqdn_pkt {
	int family;
	uint8_t daddr[16];
	const uint8_t *dns; /* the DNS message, inside the packet */
	size_t dnslen;
};
/* 1 and *ret: a DNS message to look at; 0: nothing to learn (a bare TCP segment); -EBADMSG. */
int fqdn_split(const struct nfqueue_packet *p, struct fqdn_pkt *ret);

#endif
