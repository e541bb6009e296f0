/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "veth_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns_peer.h"

static bool same_file(int fd, const struct stat *st)
{
	struct stat fst;

	return fstat(fd, &fst) == 0 && fst.st_dev == st->st_dev && fst.st_ino == st->st_ino;
}

/*
 * Docker's namespace file SANDBOX_KEY, opened directly (as root) or, when its directory is
 * closed to us (/run/docker is 0700), through NETNS_DIR_FD, Docker's namespace directory
 * held from before the agent gave up root. -1 when neither works.
 */
static int open_sandbox(int netns_dir_fd, const char *sandbox_key)
{
	const char *base;
	int fd;

	if (!sandbox_key || !*sandbox_key)
		return -1;
	fd = open(sandbox_key, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || netns_dir_fd < 0)
		return fd;
	base = strrchr(sandbox_key, '/');
	base = base ? base + 1 : sandbox_key;
	if (!*base || !strcmp(base, "..") || !strcmp(base, "."))
		return -1;
	return openat(netns_dir_fd, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

/*
 * The nsid of the container's namespace: from its namespace file when we can open one (the
 * sandbox, which also guards against PID reuse, or /proc/PID/ns/net as root), else from the
 * PID alone (RTM_GETNSID with NETNSA_PID needs no permission on the process).
 */
static int container_nsid(int host_ns_fd, int netns_dir_fd, int pid, const char *sandbox_key,
			  int *ret_nsid)
{
	char path[64];
	struct stat st;
	int sfd = open_sandbox(netns_dir_fd, sandbox_key), pfd, fd, r;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	/* Not a verdict when it fails: under ProtectProc=invisible another user's process has
	 * no /proc entry at all. A process that is really gone fails RTM_GETNSID by PID. */
	pfd = open(path, O_RDONLY | O_CLOEXEC);
	r = -ESTALE;
	if (sfd >= 0 && pfd >= 0 && (fstat(sfd, &st) < 0 || !same_file(pfd, &st)))
		goto out;
	fd = sfd >= 0 ? sfd : pfd;
	/* --network host: the "container" interfaces are the host's own. */
	r = -ENODEV;
	if (fd >= 0 && fstat(host_ns_fd, &st) == 0 && same_file(fd, &st))
		goto out;
	r = netns_peer_nsid(fd, pid, ret_nsid);
out:
	if (sfd >= 0)
		close(sfd);
	if (pfd >= 0)
		close(pfd);
	return r;
}

int veth_host_peer(int host_ns_fd, int netns_dir_fd, int pid, const char *sandbox_key,
		   const uint8_t *mac, const struct endpoint_addr *addr, char ret_ifname[IFNAMSIZ])
{
	int nsid, r;

	if (pid <= 0 || host_ns_fd < 0 || (!mac && !addr) ||
	    (!mac && addr->family != AF_INET && addr->family != AF_INET6))
		return -EINVAL;
	if ((r = container_nsid(host_ns_fd, netns_dir_fd, pid, sandbox_key, &nsid)) < 0)
		return r;
	return netns_peer_veth(nsid, mac, mac ? 0 : addr->family, mac ? NULL : addr->addr,
			       ret_ifname);
}
