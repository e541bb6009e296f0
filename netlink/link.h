/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_LINK_H
#define NETSEG_LINK_H

/* Interface facts from rtnetlink (libnl-route). */

#include <stddef.h>

/*
 * Name of the bridge IFNAME is a port of, in ret_master (IFNAMSIZ bytes).
 * 0 on success, -ENOENT if IFNAME does not exist, -ENODEV if it has no master or its master is
 * not a bridge, other -errno on netlink failure.
 */
int link_bridge_of(const char *ifname, char *ret_master, size_t len);

/* What an interface is to the host, for refusing it as a container's endpoint. */
enum link_role {
	LINK_ROLE_PORT,	    /* anything else: may be a container's host side */
	LINK_ROLE_LOOPBACK, /* IFF_LOOPBACK */
	LINK_ROLE_BRIDGE,   /* a bridge itself, not a port of one */
	LINK_ROLE_UPLINK,   /* the device of a default route (IPv4 or IPv6, any table) */
};

/* IFNAME's role in *ret_role: 0, -ENOENT if it does not exist, other -errno. */
int link_role_of(const char *ifname, enum link_role *ret_role);
const char *link_role_name(enum link_role role);

struct nl_sock;

/* A NETLINK_ROUTE socket connected in the calling thread's namespace, in *ret: 0 or -errno
 * (nothing to free on failure). The route-socket queries here and in veth_peer.c and
 * rtnl_watch.c start with it. */
int link_route_socket(struct nl_sock **ret);

/* A libnl error code (NLE_*, either sign) as -errno, for every one netseg's calls can meet:
 * the rtnetlink watcher shares it. */
int link_nl_errno(int nlerr);

#endif
