/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NETNS_PEER_H
#define NETSEG_NETNS_PEER_H

/*
 * The host-side end of a veth whose other end sits in another network namespace, found from
 * here, never entering that namespace: the kernel names the namespace by an nsid (RTM_GETNSID),
 * lists its links for us (RTM_GETLINK with IFLA_TARGET_NETNSID), and our veth points at its
 * peer by IFLA_LINK and IFLA_LINK_NETNSID. CAP_NET_ADMIN is all it takes: no setns(), so no
 * CAP_SYS_ADMIN, and with a namespace file handed in, no /proc/PID/ns (CAP_SYS_PTRACE) either.
 */

#include <net/if.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The nsid our namespace knows the namespace NS_FD (an open nsfs file) by, or, when NS_FD < 0,
 * the namespace of process PID (NETNSA_PID: no file, no permission needed, but a reused PID
 * names another namespace). Assigns one (RTM_NEWNSID) when there is none yet.
 * 0 and *ret_nsid >= 0; -ENOENT no such process; -EINVAL NS_FD is not a network namespace;
 * other -errno.
 */
int netns_peer_nsid(int ns_fd, pid_t pid, int *ret_nsid);

/*
 * Name of our veth (ret_ifname, IFNAMSIZ bytes) whose peer lives in namespace NSID and is
 * identified there by MAC (6 bytes) or, when MAC is NULL, carries address ADDR of FAMILY
 * (AF_INET: 4 bytes, AF_INET6: 16).
 * 0; -ENODEV no such interface there, it is not a veth, or its peer is not ours; -EINVAL bad
 * arguments; other -errno.
 */
int netns_peer_veth(int nsid, const uint8_t *mac, int family, const void *addr,
		    char ret_ifname[IFNAMSIZ]);

#endif
