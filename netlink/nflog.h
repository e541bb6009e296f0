/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NFLOG_H
#define NETSEG_NFLOG_H

/*
 * Decisions the dataplane logged through NFLOG (libmnl, NETLINK_NETFILTER / NFULNL).
 * The compiler's log chains send the packet's headers with a prefix naming the counter and
 * verdict ("netseg r_web-to-db drop: "); this module turns each message into a record.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nflog;

struct nflog_record {
	uint64_t time_ns;    /* CLOCK_REALTIME when read (or the kernel's timestamp) */
	char prefix[128];    /* as the rule set it, trailing ": " removed */
	int family;          /* AF_INET or AF_INET6 */
	uint8_t proto;       /* IPPROTO_* */
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport; /* host order; 0 when the protocol has none */
	char indev[16], outdev[16];
};

typedef void (*nflog_cb)(const struct nflog_record *rec, void *userdata);

/* Binds GROUP (copy mode: headers only), non-blocking, for epoll. */
int nflog_open(uint16_t group, struct nflog **ret);
void nflog_free(struct nflog *n);
int nflog_fd(const struct nflog *n);
/* Reads everything pending; 0 when drained. Lost messages (ENOBUFS) are counted, not fatal. */
int nflog_read(struct nflog *n, nflog_cb cb, void *userdata);
uint64_t nflog_lost(const struct nflog *n);

#endif
