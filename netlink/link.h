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

/* A libnl error code (NLE_*, either sign) as -errno, for every one netseg's calls can meet:
 * the rtnetlink watcher shares it. */
int link_nl_errno(int nlerr);

#endif
