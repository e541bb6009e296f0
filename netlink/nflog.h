/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NFLOG_H
#define NETSEG_NFLOG_H

/*
 * Decisions the dataplane logged through NFLOG (libmnl, NETLINK_NETFILTER / NFULNL).
 * The compiler's log chains send the packet's headers with a prefix naming the counter and
 * verdict ("netseg r_web-to-db drop: "); this module turns each message into a record.
 * Log lines of the inet table and of the bridge table (flood chains) give the same records.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nflog;

struct nflog_record {
	uint64_t time_ns; /* CLOCK_REALTIME when read (or the kernel's timestamp) */
	char prefix[128]; /* as the rule set it, trailing ": " removed */
	int family;	  /* AF_INET or AF_INET6; 0 when the payload is neither */
	uint8_t proto;	  /* IPPROTO_*, after IPv6 extension headers */
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport; /* host order; 0 when the protocol has none (or a later fragment) */
	char indev[16], outdev[16]; /* "" when absent or gone; a bridge for bridged packets */
	/* Additions: */
	char physindev[16], physoutdev[16]; /* bridge ports of bridged packets, else "" */
	bool bridge;			    /* logged by the bridge table (a flood chain) */
	bool has_icmp;			    /* ICMP or ICMPv6: icmp_type/icmp_code are set */
	uint8_t icmp_type, icmp_code;
};

typedef void (*nflog_cb)(const struct nflog_record *rec, void *userdata);

/*
 * Binds GROUP (copy mode: headers only), non-blocking, for epoll. -EPERM when another socket
 * has bound the group in this network namespace (the kernel's answer; also without
 * CAP_NET_ADMIN).
 */
int nflog_open(uint16_t group, struct nflog **ret);
void nflog_free(struct nflog *n);
/* An nflog without a socket, for nflog_parse() alone (tests, fuzzers). */
int nflog_new_detached(struct nflog **ret);
/*
 * Decodes one datagram as nflog_read() receives it (any number of netlink messages; at most
 * 64 KiB are looked at), calling CB per packet record and counting malformed ones. BUF must be
 * 4-byte aligned, as a receive buffer is.
 */
void nflog_parse(struct nflog *n, const void *buf, size_t len, nflog_cb cb, void *userdata);
int nflog_fd(const struct nflog *n);
/* Reads everything pending; 0 when drained. Lost messages (ENOBUFS) are counted, not fatal. */
int nflog_read(struct nflog *n, nflog_cb cb, void *userdata);
/*
 * Messages the kernel could not queue to us (socket buffer full), exact: counted from the
 * instance's sequence numbers, so a loss is known when the next message arrives.
 */
uint64_t nflog_lost(const struct nflog *n);
/* Additions: ENOBUFS reports (overruns, each losing one or more messages) and messages
 * skipped because an attribute or the payload was malformed, or datagrams skipped because
 * they were cut short or not sent by the kernel. */
uint64_t nflog_overruns(const struct nflog *n);
uint64_t nflog_malformed(const struct nflog *n);

#endif
