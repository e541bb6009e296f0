/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for rtnetlink link and address messages (netlink/rtnl_watch.c): the input
 * is a sequence of datagrams from the kernel (each preceded by a 2-byte little-endian length),
 * processed by rtnl_watch_parse() as rtnl_watch_read() processes what it receives: libnl's
 * nlmsg_parse against the module's policies, then the link cache (renames, masters, ports).
 * One watch per input, so the cache starts empty; the callbacks check what they are given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rtnl_watch.h"

static void on_link(enum rtnl_watch_event ev, const struct rtnl_link_info *l, void *ud)
{
	(void)ev;
	(void)ud;
	if (l->ifindex <= 0 || strnlen(l->name, IFNAMSIZ) == IFNAMSIZ ||
	    strnlen(l->master, IFNAMSIZ) == IFNAMSIZ)
		abort();
}

static void on_addr(enum rtnl_watch_event ev, int ifindex, int family, const uint8_t *addr,
		    int prefixlen, void *ud)
{
	volatile uint8_t sink;

	(void)ev;
	(void)ud;
	if (ifindex <= 0 || prefixlen < 0 || prefixlen > (family == AF_INET ? 32 : 128))
		abort();
	sink = addr[family == AF_INET ? 3 : 15];
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct rtnl_watch_cb cb = {.link = on_link, .addr = on_addr};
	struct rtnl_watch *w;
	struct rtnl_link_info info;

	if (rtnl_watch_new_detached(&cb, &w) < 0)
		return 0;
	while (size >= 2) {
		size_t n = (size_t)data[0] | (size_t)data[1] << 8;
		void *buf;

		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		buf = malloc(n ? n : 1);
		if (!buf)
			break;
		memcpy(buf, data, n);
		(void)rtnl_watch_parse(w, buf, n);
		free(buf);
		data += n;
		size -= n;
	}
	(void)rtnl_watch_find(w, "eth0", &info);
	(void)rtnl_watch_find_ifindex(w, 1, &info);
	rtnl_watch_free(w);
	return 0;
}
