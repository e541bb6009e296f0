/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_UTIL_H
#define NETSEG_UTIL_H

/*
 * Helpers every layer may use (systemd's macro.h and alloc-util.h are the model). Header-only,
 * so the pure policy layer gains no object code it does not call.
 */

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Make room for NEED elements of ELEM bytes in *P, whose capacity is *CAP: doubles (starting at
 * FIRST) until NEED fits. 0, -ENOMEM, or -EOVERFLOW when the size does not fit in a size_t;
 * on failure *P and *CAP are unchanged.
 */
static inline int grow_array(void **p, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t ncap = *cap ? *cap : (first ? first : 1);
	void *q;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -EOVERFLOW;
		ncap *= 2;
	}
	if (elem && ncap > SIZE_MAX / elem)
		return -EOVERFLOW;
	q = realloc(*p, ncap * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = ncap;
	return 0;
}

/* Room for NEED elements in the array PTR of capacity CAP (a size_t lvalue). */
#define GROW(ptr, cap, need, first)                                                                \
	grow_array((void **)&(ptr), &(cap), (need), sizeof(*(ptr)), (first))

/* CLOCK_MONOTONIC: the one clock for timeouts, deadlines and durations. */
static inline int64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t now_ms(void)
{
	return now_usec() / 1000;
}

/* The lowercase name of an IP protocol netseg handles (as in the policy and the logs), or NULL. */
static inline const char *ip_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_IGMP:
		return "igmp";
	default:
		return NULL;
	}
}

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_(f)	 __attribute__((cleanup(f)))
#define _cleanup_free_	 _cleanup_(freep)
#define _cleanup_close_	 _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

#endif
