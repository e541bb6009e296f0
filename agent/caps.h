/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_CAPS_H
#define NETSEG_CAPS_H

/*
 * Least privilege for the long-running agent. After start it keeps only:
 *   CAP_NET_ADMIN   nftables transactions, rtnetlink, bridge sysctls of its netns
 *   CAP_SYS_ADMIN   setns() into a container's network namespace to find its host veth
 *   CAP_SYS_PTRACE  open /proc/PID/ns/net of containers started by another user
 * and drops every other capability from its effective, permitted, inheritable and bounding
 * sets, with no_new_privs set so nothing it executes can regain them.
 */

int caps_drop_to_agent_set(void);

#endif
