/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_RTNL_WATCH_H
#define NETSEG_RTNL_WATCH_H

/*
 * The agent's live view of interfaces: rtnetlink link and address events (libnl-route), on one
 * non-blocking socket the event loop polls.
 *
 * Semantics the caller can rely on:
 * - LINK_NEW means "new or changed" and is idempotent; it is reported only when a field of
 *   struct rtnl_link_info changed (carrier and statistics churn is filtered), and again for every
 *   port of a master that appears, is renamed or changes kind, so master names resolve lazily
 *   (a port may be announced before its master).
 * - A rename is reported as LINK_DEL under the old name, then LINK_NEW under the new one: the
 *   dataplane keys interfaces by name. Moving a link to another network namespace is LINK_DEL.
 * - LINK_DEL carries the name (from the message, else from the cache).
 * - Addresses are not cached: ADDR_NEW may repeat (IPv6 lifetime and DAD updates).
 * - RESYNC: the socket overflowed (ENOBUFS) and events were lost. The callback is followed by
 *   LINK_DEL for every cached link that no longer exists, then the complete state (LINK_NEW for
 *   every link, then ADDR_NEW for every address). Forget addresses not replayed.
 * - Callbacks run inside rtnl_watch_open and rtnl_watch_read. From rtnl_watch_read they may call
 *   rtnl_watch_find* (the cache already reflects the event); they must not free the watch or
 *   call rtnl_watch_read. During rtnl_watch_open the handle does not exist yet.
 * - No threads: one watch belongs to one event loop.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/if.h>

struct rtnl_watch;

struct rtnl_link_info {
	int ifindex;
	char name[IFNAMSIZ];
	int master_ifindex;    /* 0 if none */
	char master[IFNAMSIZ]; /* "" if none, or if the master is not known yet */
	bool master_is_bridge; /* false while the master is unknown */
	bool is_bridge;
	bool up; /* IFF_UP (administrative state) */
};

enum rtnl_watch_event {
	RTNL_WATCH_LINK_NEW, /* new or changed */
	RTNL_WATCH_LINK_DEL,
	RTNL_WATCH_ADDR_NEW,
	RTNL_WATCH_ADDR_DEL,
};

struct rtnl_watch_cb {
	void (*link)(enum rtnl_watch_event ev, const struct rtnl_link_info *link, void *ud);
	/* ADDR is 4 bytes for AF_INET, 16 for AF_INET6, network order. */
	void (*addr)(enum rtnl_watch_event ev, int ifindex, int family, const uint8_t *addr,
		     int prefixlen, void *ud);
	void (*resync)(void *ud);
	void *ud;
};

/*
 * Subscribes to RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR in the current network
 * namespace, then reports the current state through CB (links, then addresses). Any callback
 * may be NULL. 0 or -errno; *ret_watch is written only on success.
 */
int rtnl_watch_open(const struct rtnl_watch_cb *cb, struct rtnl_watch **ret_watch);

/* The descriptor to poll for POLLIN (level-triggered: rtnl_watch_read drains it). */
int rtnl_watch_fd(const struct rtnl_watch *w);

/*
 * Processes everything pending (under a sustained overflow, at most a few resyncs per call).
 * 0, or -errno on a fatal socket error. On overflow it re-dumps, reports RESYNC and the full
 * state (see above) and returns 0. If that dump fails, it returns the dump's -errno and retries
 * the resync first thing on the next call; the fd may not become readable again by itself, so
 * the caller should retry from a timer rather than wait for POLLIN.
 * Not reentrant: do not call it from a callback.
 */
int rtnl_watch_read(struct rtnl_watch *w);

void rtnl_watch_free(struct rtnl_watch *w);

/*
 * A watch without a socket or a dump, for rtnl_watch_parse() alone (tests, fuzzers): it
 * processes one datagram's messages (BUF 4-byte aligned) as rtnl_watch_read() does those the
 * kernel sends, callbacks and cache included. 0 or -ENOMEM.
 */
int rtnl_watch_new_detached(const struct rtnl_watch_cb *cb, struct rtnl_watch **ret_watch);
int rtnl_watch_parse(struct rtnl_watch *w, const void *buf, size_t len);

/* Cached link by name or by ifindex: 0, -ENOENT, or -EINVAL. ret is written only on success. */
int rtnl_watch_find(const struct rtnl_watch *w, const char *name, struct rtnl_link_info *ret);
int rtnl_watch_find_ifindex(const struct rtnl_watch *w, int ifindex, struct rtnl_link_info *ret);

#endif
