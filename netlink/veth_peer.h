/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_VETH_PEER_H
#define NETSEG_VETH_PEER_H

/*
 * The host-side end of a container's veth, found from here without entering the container's
 * namespace (netlink/netns_peer.h): CAP_NET_ADMIN is all it needs.
 */

#include <net/if.h>
#include <stdint.h>

#include "endpoints.h"

/*
 * HOST_NS_FD: our own network namespace (to recognise --network host). NETNS_DIR_FD: Docker's
 * namespace directory opened while still root (/run/docker is 0700), or -1. PID: a process
 * inside the container. SANDBOX_KEY: Docker's bind mount of the container's namespace, or
 * NULL; the namespace is read from it when it can be opened (and must then be PID's when
 * /proc/PID/ns/net can be opened too, which guards against PID reuse), else from
 * /proc/PID/ns/net, else from PID alone. MAC (6 bytes) or, when NULL, ADDR identifies the
 * interface. Writes the peer's name to ret_ifname (IFNAMSIZ bytes).
 *
 * 0 on success; -ENOENT the process or its namespace is gone; -ESTALE PID is no longer the
 * container; -ENODEV no such interface, it is not a veth, or it has no peer in our namespace
 * (this also covers --network host and none); other -errno.
 */
int veth_host_peer(int host_ns_fd, int netns_dir_fd, int pid, const char *sandbox_key,
		   const uint8_t *mac, const struct endpoint_addr *addr, char ret_ifname[IFNAMSIZ]);

#endif
