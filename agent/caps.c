/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "caps.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int caps_user_lookup(const char *name, struct caps_user *ret)
{
	struct caps_user u = {0};
	struct passwd *pw;

	if (!name || !*name || strlen(name) >= sizeof(u.name))
		return -EINVAL;
	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		return errno && errno != ENOENT && errno != ESRCH ? -errno : -ENOENT;
	snprintf(u.name, sizeof(u.name), "%s", name);
	u.uid = pw->pw_uid;
	u.gid = pw->pw_gid;
	u.ngroups = CAPS_MAX_GROUPS;
	if (getgrouplist(name, u.gid, u.groups, &u.ngroups) < 0)
		return -E2BIG;
	*ret = u;
	return 0;
}

static int set_net_admin_only(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};

	data[CAP_NET_ADMIN / 32].effective = 1u << (CAP_NET_ADMIN % 32);
	data[CAP_NET_ADMIN / 32].permitted = 1u << (CAP_NET_ADMIN % 32);
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

static bool net_admin_only(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};
	uint32_t want = 1u << (CAP_NET_ADMIN % 32);

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[0].effective == want && data[0].permitted == want && !data[1].effective &&
	       !data[1].permitted;
}

int caps_drop_to_user(const struct caps_user *u)
{
	bool root = geteuid() == 0;
	int r;

	/* Bounding set first: it needs CAP_SETPCAP, which the capset below gives up. Without
	 * it (started unprivileged) the bounding set is whoever started us' business. */
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (cap != CAP_NET_ADMIN && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL && (root || errno != EPERM))
			return -errno;
	if (root && u->uid != 0) {
		/* Keep the permitted set across the uid change; effective comes back below. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
		    setgroups((size_t)u->ngroups, u->groups) < 0 ||
		    setresgid(u->gid, u->gid, u->gid) < 0 || setresuid(u->uid, u->uid, u->uid) < 0)
			return -errno;
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			return -errno;
	}
	/* Started by systemd as the user with ambient CAP_NET_ADMIN, the sets may already be
	 * right (but for inheritable, which ambient needs) while its SystemCallFilter=~@privileged
	 * refuses capset: that is fine, there is no exec to inherit anything. */
	if ((r = set_net_admin_only()) < 0 && (root || !net_admin_only()))
		return r;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}
