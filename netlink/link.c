/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bridge of a port, from rtnetlink through libnl-route: one RTM_GETLINK for the port, one for
 * its master. Read on demand: compile and apply look at the same kernel, so they agree.
 */
#include "link.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "util.h"

int link_nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENOENT;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_INVAL:
	case NLE_RANGE:
		return -EINVAL;
	case NLE_MSGSIZE:
	case NLE_MSG_TRUNC:
		return -EMSGSIZE;
	case NLE_MSG_TOOSHORT:
		return -EBADMSG;
	case NLE_DUMP_INTR:
		return -EBUSY;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_PROTO_MISMATCH:
		return -EPROTONOSUPPORT;
	default:
		return -EIO;
	}
}

static void link_sock_freep(struct nl_sock **sk)
{
	if (*sk)
		nl_socket_free(*sk);
}

static void link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}

int link_route_socket(struct nl_sock **ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return link_nl_errno(r);
	}
	*ret = sk;
	return 0;
}

static int link_bridge_on(struct nl_sock *sk, const char *ifname, char *ret_master, size_t len)
{
	_cleanup_(link_putp) struct rtnl_link *port = NULL;
	_cleanup_(link_putp) struct rtnl_link *master = NULL;
	const char *kind, *name;
	int r, mindex;

	if (!ret_master || len == 0 || !ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	r = rtnl_link_get_kernel(sk, 0, ifname, &port);
	if (r < 0)
		return link_nl_errno(r);
	mindex = rtnl_link_get_master(port);
	if (mindex <= 0)
		return -ENODEV;
	r = rtnl_link_get_kernel(sk, mindex, NULL, &master);
	if (r < 0)
		return r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV ? -ENODEV : link_nl_errno(r);
	/* A port of a bond or a VRF has a master too; only a bridge makes it ours to filter. */
	kind = rtnl_link_get_type(master);
	if (!kind || strcmp(kind, "bridge") != 0)
		return -ENODEV;
	name = rtnl_link_get_name(master);
	if (!name || strlen(name) >= len)
		return -ENAMETOOLONG;
	snprintf(ret_master, len, "%s", name);
	return 0;
}

int link_bridge_of(const char *ifname, char *ret_master, size_t len)
{
	_cleanup_(link_sock_freep) struct nl_sock *sk = NULL;
	int r;

	if (!ret_master || len == 0 || !ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	r = link_route_socket(&sk);
	if (r < 0)
		return r;
	return link_bridge_on(sk, ifname, ret_master, len);
}

/* The default-route devices of both families, any table: read once per query. */
struct link_query {
	struct nl_sock *sk;
	int *uplinks; /* ifindexes */
	size_t nuplinks, cap;
	bool have_routes;
	int route_err; /* the dump's failure, repeated to every later question */
};

static void nexthop_on(struct rtnl_nexthop *nh, void *ud)
{
	struct link_query *q = ud;
	int ifindex = rtnl_route_nh_get_ifindex(nh);
	int *v;

	if (q->route_err)
		return;
	for (size_t i = 0; i < q->nuplinks; i++)
		if (q->uplinks[i] == ifindex)
			return;
	if (q->nuplinks == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 4;

		v = reallocarray(q->uplinks, cap, sizeof(*v));
		if (!v) {
			q->route_err = -ENOMEM;
			return;
		}
		q->uplinks = v;
		q->cap = cap;
	}
	q->uplinks[q->nuplinks++] = ifindex;
}

static void route_on(struct nl_object *obj, void *ud)
{
	struct rtnl_route *rt = (struct rtnl_route *)obj;
	struct nl_addr *dst = rtnl_route_get_dst(rt);

	if (rtnl_route_get_type(rt) == RTN_UNICAST && (!dst || nl_addr_get_prefixlen(dst) == 0))
		rtnl_route_foreach_nexthop(rt, nexthop_on, ud);
}

static void cache_freep(struct nl_cache **c)
{
	if (*c)
		nl_cache_free(*c);
}

static int link_query_routes(struct link_query *q)
{
	static const int families[] = {AF_INET, AF_INET6};

	if (q->have_routes)
		return q->route_err;
	q->have_routes = true;
	for (size_t i = 0; i < 2 && !q->route_err; i++) {
		_cleanup_(cache_freep) struct nl_cache *cache = NULL;
		int r = rtnl_route_alloc_cache(q->sk, families[i], 0, &cache);

		if (r < 0)
			q->route_err = link_nl_errno(r);
		else
			nl_cache_foreach(cache, route_on, q);
	}
	return q->route_err;
}

int link_query_new(struct link_query **ret)
{
	struct link_query *q = calloc(1, sizeof(*q));
	int r;

	if (!q)
		return -ENOMEM;
	r = link_route_socket(&q->sk);
	if (r < 0) {
		free(q);
		return r;
	}
	*ret = q;
	return 0;
}

void link_query_free(struct link_query *q)
{
	if (!q)
		return;
	nl_socket_free(q->sk);
	free(q->uplinks);
	free(q);
}

int link_query_role(struct link_query *q, const char *ifname, enum link_role *ret_role)
{
	_cleanup_(link_putp) struct rtnl_link *l = NULL;
	const char *kind;
	int r, ifindex;

	if (!q || !ret_role || !ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	r = rtnl_link_get_kernel(q->sk, 0, ifname, &l);
	if (r < 0)
		return link_nl_errno(r);
	kind = rtnl_link_get_type(l);
	if (rtnl_link_get_flags(l) & IFF_LOOPBACK) {
		*ret_role = LINK_ROLE_LOOPBACK;
		return 0;
	}
	if (kind && !strcmp(kind, "bridge")) {
		*ret_role = LINK_ROLE_BRIDGE;
		return 0;
	}
	r = link_query_routes(q);
	if (r < 0)
		return r;
	ifindex = rtnl_link_get_ifindex(l);
	*ret_role = LINK_ROLE_PORT;
	for (size_t i = 0; i < q->nuplinks; i++)
		if (q->uplinks[i] == ifindex)
			*ret_role = LINK_ROLE_UPLINK;
	return 0;
}

int link_query_bridge_of(struct link_query *q, const char *ifname, char *ret_master, size_t len)
{
	return q ? link_bridge_on(q->sk, ifname, ret_master, len) : -EINVAL;
}

int link_role_of(const char *ifname, enum link_role *ret_role)
{
	struct link_query *q;
	int r;

	if (!ret_role)
		return -EINVAL;
	r = link_query_new(&q);
	if (r < 0)
		return r;
	r = link_query_role(q, ifname, ret_role);
	link_query_free(q);
	return r;
}

const char *link_role_name(enum link_role role)
{
	switch (role) {
	case LINK_ROLE_LOOPBACK:
		return "the loopback device";
	case LINK_ROLE_BRIDGE:
		return "a bridge";
	case LINK_ROLE_UPLINK:
		return "a default-route device (the host's uplink)";
	default:
		return "a port";
	}
}
