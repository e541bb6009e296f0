/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bridge of a port, from rtnetlink through libnl-route: one RTM_GETLINK for the port, one for
 * its master. Read on demand: compile and apply look at the same kernel, so they agree.
 */
#include "link.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
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

/* Opens a route socket and fetches IFNAME: the first step of every query here. On success the
 * caller owns *ret_sk and *ret_link, whatever it returns itself. */
static int link_open_get(const char *ifname, struct nl_sock **ret_sk, struct rtnl_link **ret_link)
{
	int r;

	if (!ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	r = link_route_socket(ret_sk);
	if (r < 0)
		return r;
	r = rtnl_link_get_kernel(*ret_sk, 0, ifname, ret_link);
	return r < 0 ? link_nl_errno(r) : 0;
}

int link_bridge_of(const char *ifname, char *ret_master, size_t len)
{
	_cleanup_(link_sock_freep) struct nl_sock *sk = NULL;
	_cleanup_(link_putp) struct rtnl_link *port = NULL;
	_cleanup_(link_putp) struct rtnl_link *master = NULL;
	const char *kind, *name;
	int r, mindex;

	if (!ret_master || len == 0)
		return -EINVAL;
	r = link_open_get(ifname, &sk, &port);
	if (r < 0)
		return r;
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

struct uplink_args {
	int ifindex;
	bool found;
};

static void nexthop_on(struct rtnl_nexthop *nh, void *ud)
{
	struct uplink_args *a = ud;

	if (rtnl_route_nh_get_ifindex(nh) == a->ifindex)
		a->found = true;
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

/* A default route out of IFINDEX in any table and either family: the host's way out. */
static int is_uplink(struct nl_sock *sk, int ifindex, bool *ret)
{
	static const int families[] = {AF_INET, AF_INET6};
	struct uplink_args a = {.ifindex = ifindex};

	for (size_t i = 0; i < 2 && !a.found; i++) {
		_cleanup_(cache_freep) struct nl_cache *cache = NULL;
		int r = rtnl_route_alloc_cache(sk, families[i], 0, &cache);

		if (r < 0)
			return link_nl_errno(r);
		nl_cache_foreach(cache, route_on, &a);
	}
	*ret = a.found;
	return 0;
}

int link_role_of(const char *ifname, enum link_role *ret_role)
{
	_cleanup_(link_sock_freep) struct nl_sock *sk = NULL;
	_cleanup_(link_putp) struct rtnl_link *l = NULL;
	const char *kind;
	bool uplink = false;
	int r;

	if (!ret_role)
		return -EINVAL;
	r = link_open_get(ifname, &sk, &l);
	if (r < 0)
		return r;
	kind = rtnl_link_get_type(l);
	if (rtnl_link_get_flags(l) & IFF_LOOPBACK) {
		*ret_role = LINK_ROLE_LOOPBACK;
		return 0;
	}
	if (kind && !strcmp(kind, "bridge")) {
		*ret_role = LINK_ROLE_BRIDGE;
		return 0;
	}
	r = is_uplink(sk, rtnl_link_get_ifindex(l), &uplink);
	if (r < 0)
		return r;
	*ret_role = uplink ? LINK_ROLE_UPLINK : LINK_ROLE_PORT;
	return 0;
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
