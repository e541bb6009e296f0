/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_VETH_PEER_H
#define NETSEG_VETH_PEER_H

/*
 * The host-side end of a container's veth, found without shelling out: enter the container's
 * network namespace just long enough to open a NETLINK_ROUTE socket there, find the interface
 * by MAC (or address), and follow IFLA_LINK back to its peer in our namespace.
 */

#include <net/if.h>
#include <stdint.h>

#include "endpoints.h"

/*
 * HOST_NS_FD: our own network namespace (opened once at start, so we can always go back).
 * PID: a process inside the container. SANDBOX_KEY: Docker's bind mount of the container's
 * namespace, or NULL; when it can be stat'ed it must be the namespace of PID, which guards
 * against PID reuse. MAC (6 bytes) or, when NULL, ADDR identifies the interface.
 * Writes the peer's name to ret_ifname (IFNAMSIZ bytes).
 *
 * 0 on success; -ENOENT the process or its namespace is gone; -ESTALE PID is no longer the
 * container; -ENODEV no such interface, it is not a veth, or it has no peer in our namespace
 * (this also covers --network host and none); other -errno (e.g. -EPERM without
 * CAP_SYS_ADMIN).
 *
 * Switches the calling thread's network namespace for the duration of one socket(2) call.
 */
int veth_host_peer(int host_ns_fd, int pid, const char *sandbox_key, const uint8_t *mac,
		   const struct endpoint_addr *addr, char ret_ifname[IFNAMSIZ]);

#endif
