/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One RTM_GETADDR dump through libnl-route, read on demand by `netseg why`. */
#include "hostaddr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>

#include "link.h"

int hostaddr_list(struct endpoint_addr **ret, size_t *ret_n)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	struct endpoint_addr *v = NULL;
	size_t n = 0;
	int r = -ENOMEM;

	if (!sk)
		goto out;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		r = link_nl_errno(r);
		goto out;
	}
	r = rtnl_addr_alloc_cache(sk, &cache);
	if (r < 0) {
		r = link_nl_errno(r);
		goto out;
	}
	v = calloc(nl_cache_nitems(cache) + 1, sizeof(*v));
	if (!v) {
		r = -ENOMEM;
		goto out;
	}
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct nl_addr *a = rtnl_addr_get_local((struct rtnl_addr *)o);
		int fam = a ? nl_addr_get_family(a) : AF_UNSPEC;
		size_t len = fam == AF_INET ? 4 : 16;

		if ((fam != AF_INET && fam != AF_INET6) || (size_t)nl_addr_get_len(a) != len)
			continue;
		v[n].family = fam;
		memcpy(v[n].addr, nl_addr_get_binary_addr(a), len);
		n++;
	}
	*ret = v;
	*ret_n = n;
	v = NULL;
	r = 0;
out:
	free(v);
	if (cache)
		nl_cache_free(cache);
	if (sk)
		nl_socket_free(sk);
	return r;
}
