/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "veth_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "link.h"

/* link.c's mapping, except that a missing object is this lookup's "no such interface". */
static int nlerr(int e)
{
	e = e < 0 ? -e : e;
	return e == NLE_OBJ_NOTFOUND || e == NLE_NODEV ? -ENODEV : link_nl_errno(e);
}

static bool same_file(int fd, const struct stat *st)
{
	struct stat fst;

	return fstat(fd, &fst) == 0 && fst.st_dev == st->st_dev && fst.st_ino == st->st_ino;
}

/*
 * A NETLINK_ROUTE socket bound to the namespace NS_FD. A netlink socket stays in the namespace
 * it was created in, so only socket(2) needs to run inside; everything after happens back home.
 */
static int connect_in_ns(int host_ns_fd, int ns_fd, struct nl_sock **ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -ENOMEM;
	if (setns(ns_fd, CLONE_NEWNET) < 0) {
		r = -errno;
		nl_socket_free(sk);
		return r;
	}
	r = nl_connect(sk, NETLINK_ROUTE);
	/*
	 * Staying in the container's namespace would make every later netlink call of this
	 * thread (the agent's firewall included) act on the container: there is no safe way on.
	 */
	if (setns(host_ns_fd, CLONE_NEWNET) < 0)
		abort();
	if (r < 0) {
		nl_socket_free(sk);
		return nlerr(r);
	}
	*ret = sk;
	return 0;
}

static bool nl_addr_equals(struct nl_addr *a, int family, const void *bytes, size_t len)
{
	return a && nl_addr_get_family(a) == family && nl_addr_get_len(a) == len &&
	       memcmp(nl_addr_get_binary_addr(a), bytes, len) == 0;
}

/* ifindex of the interface in SK's namespace that carries ADDR, or 0. */
static int ifindex_by_addr(struct nl_sock *sk, const struct endpoint_addr *addr, int *ret)
{
	struct nl_cache *cache = NULL;
	size_t len = addr->family == AF_INET ? 4 : 16;
	int r, found = 0;

	r = rtnl_addr_alloc_cache(sk, &cache);
	if (r < 0)
		return nlerr(r);
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;

		if (nl_addr_equals(rtnl_addr_get_local(a), addr->family, addr->addr, len)) {
			found = rtnl_addr_get_ifindex(a);
			break;
		}
	}
	nl_cache_free(cache);
	*ret = found;
	return 0;
}

/* The container-side veth: its own ifindex and its peer's ifindex in the other namespace. */
static int find_container_veth(struct nl_sock *sk, const uint8_t *mac,
			       const struct endpoint_addr *addr, int *ret_ifindex, int *ret_peer)
{
	struct nl_cache *cache = NULL;
	struct rtnl_link *link = NULL;
	int ifindex = 0, peer, r;
	int32_t netnsid;
	const char *kind;

	if (!mac) {
		r = ifindex_by_addr(sk, addr, &ifindex);
		if (r < 0)
			return r;
		if (ifindex <= 0)
			return -ENODEV;
	}
	r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r < 0)
		return nlerr(r);
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;

		if (mac ? nl_addr_equals(rtnl_link_get_addr(l), AF_LLC, mac, 6)
			: rtnl_link_get_ifindex(l) == ifindex) {
			link = l;
			break;
		}
	}
	r = -ENODEV;
	if (!link)
		goto out;
	kind = rtnl_link_get_type(link);
	if (!kind || strcmp(kind, "veth") != 0)
		goto out;
	/* Without a link-netnsid the peer lives in the container's own namespace: not ours. */
	if (rtnl_link_get_link_netnsid(link, &netnsid) < 0 || netnsid < 0)
		goto out;
	peer = rtnl_link_get_link(link);
	if (peer <= 0 || rtnl_link_get_ifindex(link) <= 0)
		goto out;
	*ret_ifindex = rtnl_link_get_ifindex(link);
	*ret_peer = peer;
	r = 0;
out:
	nl_cache_free(cache);
	return r;
}

/*
 * Name of our veth with index PEER, checked to point back at the container's CIFINDEX:
 * ifindexes are per namespace, so a bare index could name an unrelated interface here.
 */
static int host_peer_name(int peer, int cifindex, char ret_ifname[IFNAMSIZ])
{
	struct nl_sock *sk = NULL;
	struct rtnl_link *link = NULL;
	const char *kind, *name;
	int r;

	r = link_route_socket(&sk);
	if (r < 0)
		return r;
	r = rtnl_link_get_kernel(sk, peer, NULL, &link);
	if (r < 0) {
		r = nlerr(r);
		goto out;
	}
	r = -ENODEV;
	kind = rtnl_link_get_type(link);
	name = rtnl_link_get_name(link);
	if (!kind || strcmp(kind, "veth") != 0 || rtnl_link_get_link(link) != cifindex || !name ||
	    !*name || strlen(name) >= IFNAMSIZ)
		goto out;
	strcpy(ret_ifname, name);
	r = 0;
out:
	rtnl_link_put(link);
	nl_socket_free(sk);
	return r;
}

int veth_host_peer(int host_ns_fd, int pid, const char *sandbox_key, const uint8_t *mac,
		   const struct endpoint_addr *addr, char ret_ifname[IFNAMSIZ])
{
	char path[64];
	struct nl_sock *sk = NULL;
	struct stat st;
	int ns_fd, cifindex = 0, peer = 0, r;

	if (pid <= 0 || host_ns_fd < 0 || (!mac && !addr) ||
	    (!mac && addr->family != AF_INET && addr->family != AF_INET6))
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0)
		return errno == ESRCH ? -ENOENT : -errno;

	r = -ESTALE;
	if (sandbox_key && *sandbox_key && stat(sandbox_key, &st) == 0 && !same_file(ns_fd, &st))
		goto out;
	/* --network host: the "container" interfaces are the host's own. */
	r = -ENODEV;
	if (fstat(host_ns_fd, &st) == 0 && same_file(ns_fd, &st))
		goto out;

	r = connect_in_ns(host_ns_fd, ns_fd, &sk);
	if (r < 0)
		goto out;
	r = find_container_veth(sk, mac, addr, &cifindex, &peer);
	if (r < 0)
		goto out;
	r = host_peer_name(peer, cifindex, ret_ifname);
out:
	nl_socket_free(sk);
	close(ns_fd);
	return r;
}
