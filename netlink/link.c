/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bridge of a port, from rtnetlink through libnl-route: one RTM_GETLINK for the port, one for
 * its master. Read on demand: compile and apply look at the same kernel, so they agree.
 */
#include "link.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

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

int link_bridge_of(const char *ifname, char *ret_master, size_t len)
{
	__attribute__((cleanup(link_sock_freep))) struct nl_sock *sk = NULL;
	__attribute__((cleanup(link_putp))) struct rtnl_link *port = NULL;
	__attribute__((cleanup(link_putp))) struct rtnl_link *master = NULL;
	const char *kind, *name;
	int r, mindex;

	if (!ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ || !ret_master || len == 0)
		return -EINVAL;
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0)
		return link_nl_errno(r);
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
