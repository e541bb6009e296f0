/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_CAPS_H
#define NETSEG_CAPS_H

/*
 * Least privilege for the long-running agent. Started as root, it does what needs root (the
 * bridge-nf sysctls, the control socket's directory, opening Docker's namespace directory),
 * then becomes an unprivileged user keeping only
 *   CAP_NET_ADMIN   nftables transactions, rtnetlink (the nsid-based veth lookup included),
 *                   the bridge-nf sysctls of its network namespace
 * in its effective and permitted sets; inheritable, ambient and bounding sets are emptied and
 * no_new_privs is set, so nothing it could execute regains anything.
 */

#include <stdbool.h>
#include <sys/types.h>

#define CAPS_DEFAULT_USER "netseg"
#define CAPS_MAX_GROUPS	  64

struct caps_user {
	char name[64];
	uid_t uid;
	gid_t gid;
	gid_t groups[CAPS_MAX_GROUPS]; /* supplementary: the docker group gives the Docker socket */
	int ngroups;
};

/* NAME from the user database, with its supplementary groups. 0; -ENOENT no such user;
 * -E2BIG more than CAPS_MAX_GROUPS groups; other -errno. */
int caps_user_lookup(const char *name, struct caps_user *ret);

/*
 * Becomes U when running as root (U may be root itself: then only the capabilities go) and
 * keeps CAP_NET_ADMIN alone. Already unprivileged (systemd's User= with ambient
 * CAP_NET_ADMIN), U is ignored and only the capability sets shrink. 0 or -errno; on failure
 * the process may be half-way, so the caller must not go on.
 */
int caps_drop_to_user(const struct caps_user *u);

#endif
