/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NFQUEUE_H
#define NETSEG_NFQUEUE_H

/*
 * One NFQUEUE queue over libmnl: packets the kernel holds until we give a verdict by id. The
 * socket is non-blocking and read from the agent's epoll loop. Bounded: the kernel holds at
 * most NFQUEUE_MAXLEN packets for us and, beyond that (fail-open), accepts the rest unseen;
 * each packet says whether such an overflow happened since the last one we read.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NFQUEUE_MAXLEN 4096

struct nfqueue;

struct nfqueue_packet {
	uint32_t id;
	const uint8_t *data; /* the network header onwards */
	size_t len;
	bool truncated; /* the kernel copied less than the whole packet */
};

/* Binds queue NUM (IPv4 and IPv6) in the caller's network namespace. 0 or -errno. */
int nfqueue_open(uint16_t num, struct nfqueue **ret);
void nfqueue_free(struct nfqueue *q);
int nfqueue_fd(const struct nfqueue *q);

/* Reads every pending packet, calling FN for each; FN must give each a verdict (now or
 * later). Returns 0 (EAGAIN reached), -ENOBUFS when the socket overflowed (packets were
 * lost to us: the kernel drops or, fail-open, accepts them), or -errno. */
typedef void (*nfqueue_fn)(const struct nfqueue_packet *pkt, void *ud);
int nfqueue_read(struct nfqueue *q, nfqueue_fn fn, void *ud);

/* Releases packet ID unchanged (NF_ACCEPT). 0 or -errno. */
int nfqueue_accept(struct nfqueue *q, uint32_t id);

#endif
