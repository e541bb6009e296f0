/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The two br_netfilter switches, per network namespace under /proc/sys/net/bridge. They exist
 * only once br_netfilter is active in the kernel (built in here, so always).
 */
#include "brnf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#define BRNF_V4 "/proc/sys/net/bridge/bridge-nf-call-iptables"
#define BRNF_V6 "/proc/sys/net/bridge/bridge-nf-call-ip6tables"

/* Reads a 0/1 sysctl. */
static int brnf_read(const char *path, bool *ret)
{
	char buf[16];
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	if (n < 1 || (buf[0] != '0' && buf[0] != '1'))
		return -EIO;
	*ret = buf[0] == '1';
	return 0;
}

static int brnf_write_one(const char *path)
{
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, "1\n", 2);
	if (n < 0)
		r = -errno;
	else if (n != 2)
		r = -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Makes PATH 1; *CHANGED when it was 0. Reads back, since a write can be ignored silently. */
static int brnf_ensure_one(const char *path, bool *changed)
{
	bool on = false;
	int r;

	*changed = false;
	r = brnf_read(path, &on);
	if (r < 0)
		return r;
	if (on)
		return 0;
	r = brnf_write_one(path);
	if (r < 0)
		return r;
	r = brnf_read(path, &on);
	if (r < 0)
		return r;
	if (!on)
		return -EIO;
	*changed = true;
	return 0;
}

int brnf_ensure(struct brnf_state *ret)
{
	struct brnf_state st = {0};
	int r;

	r = brnf_ensure_one(BRNF_V4, &st.changed_v4);
	if (r < 0)
		return r;
	r = brnf_ensure_one(BRNF_V6, &st.changed_v6);
	if (r < 0)
		return r;
	if (ret)
		*ret = st;
	return 0;
}
