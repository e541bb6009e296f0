/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static const int keep[] = {CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_SYS_PTRACE};

static int is_kept(int cap)
{
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		if (keep[i] == cap)
			return 1;
	return 0;
}

int caps_drop_to_agent_set(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {0};
	int last = CAP_LAST_CAP;

	/* Bounding set first: it needs CAP_SETPCAP, which the capset below gives up. */
	for (int cap = 0; cap <= last; cap++)
		if (!is_kept(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		data[keep[i] / 32].effective |= 1u << (keep[i] % 32);
		data[keep[i] / 32].permitted |= 1u << (keep[i] % 32);
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}
