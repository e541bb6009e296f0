/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netlink/netns_peer.c against the kernel, in namespaces this test makes (main unshares the
 * "host" one, each test a host of its own; each test makes its "containers" as bare namespace
 * files, no names, so they go away with the test's process):
 *
 *   host (unshared)            container C                       container D
 *     hA ──veth────────────── cA 02:00:5e:20:00:01 192.0.2.1
 *                                2001:db8::1                          dA 02:00:5e:20:00:11
 *     hB ──veth────────────── cB 02:00:5e:20:00:02             ┌──── (same ifindex as cA)
 *     hD ──veth──────────────────────────────────────────────-─┘
 *                             i0 ──veth── i1 (both in C, i0 :03)
 *                             d0 bridge (:04)
 *   container E: nothing in it (no nsid until asked for one)
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "netns_peer.h"
#include "testutil.h"

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A new network namespace as an open file; the caller stays where it was. */
static int new_ns(void)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), fd;

	ck_assert_int_ge(home, 0);
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	fd = open("/proc/thread-self/ns/net", O_RDONLY); /* inherited by ip(8) */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setns(home, CLONE_NEWNET), 0);
	close(home);
	return fd;
}

struct scene {
	int c, d, e;
};

static void scene_build(struct scene *s)
{
	pid_t me = getpid();

	/* check forks per test, and a dead namespace's links linger a while: a host of its own. */
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	s->c = new_ns();
	s->d = new_ns();
	s->e = new_ns();
	/* D's veth first, so that dA and cA get the same ifindex in their namespaces. */
	ck_assert_int_eq(sh("ip link add hD type veth peer name dA netns /proc/%d/fd/%d address "
			    "02:00:5e:20:00:11 && "
			    "ip link add hA type veth peer name cA netns /proc/%d/fd/%d address "
			    "02:00:5e:20:00:01 && "
			    "ip link add hB type veth peer name cB netns /proc/%d/fd/%d address "
			    "02:00:5e:20:00:02",
			    me, s->d, me, s->c, me, s->c),
			 0);
	ck_assert_int_eq(sh("nsenter --net=/proc/%d/fd/%d sh -c '"
			    "ip link set cA up && ip addr add 192.0.2.1/24 dev cA && "
			    "ip addr add 2001:db8::1/64 dev cA nodad && "
			    "ip link add i0 address 02:00:5e:20:00:03 type veth peer name i1 && "
			    "ip link add d0 address 02:00:5e:20:00:04 type bridge'",
			    me, s->c),
			 0);
	ck_assert_int_eq(sh("[ \"$(nsenter --net=/proc/%d/fd/%d cat /sys/class/net/cA/ifindex)\" = "
			    "\"$(nsenter --net=/proc/%d/fd/%d cat /sys/class/net/dA/ifindex)\" ]",
			    me, s->c, me, s->d),
			 0);
}

static const uint8_t mac_ca[6] = {2, 0, 0x5e, 0x20, 0, 1};
static const uint8_t mac_cb[6] = {2, 0, 0x5e, 0x20, 0, 2};
static const uint8_t mac_i0[6] = {2, 0, 0x5e, 0x20, 0, 3};
static const uint8_t mac_d0[6] = {2, 0, 0x5e, 0x20, 0, 4};
static const uint8_t mac_da[6] = {2, 0, 0x5e, 0x20, 0, 0x11};
static const uint8_t mac_none[6] = {2, 0, 0x5e, 0x20, 0, 0x99};

static int nsid_of(int fd)
{
	int nsid = -100;

	ck_assert_int_eq(netns_peer_nsid(fd, 0, &nsid), 0);
	ck_assert_int_ge(nsid, 0);
	return nsid;
}

START_TEST(nsid_by_fd_and_pid)
{
	struct scene s;
	int c, e, again = -100, bypid = -100, st;
	pid_t child;

	scene_build(&s);
	c = nsid_of(s.c);
	ck_assert_int_ne(c, nsid_of(s.d));
	/* E has no link to us, so no nsid until one is assigned; then it keeps it. */
	e = nsid_of(s.e);
	ck_assert_int_eq(netns_peer_nsid(s.e, 0, &again), 0);
	ck_assert_int_eq(e, again);
	ck_assert_int_ne(e, c);

	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		if (setns(s.c, CLONE_NEWNET) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	usleep(100000);
	ck_assert_int_eq(netns_peer_nsid(-1, child, &bypid), 0);
	ck_assert_int_eq(bypid, c);
	kill(child, SIGKILL);
	waitpid(child, &st, 0);

	/* Errors leave the out-parameter alone. */
	again = -100;
	ck_assert_int_eq(netns_peer_nsid(-1, child, &again), -ENOENT);
	int devnull = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(netns_peer_nsid(devnull, 0, &again), -EINVAL);
	ck_assert_int_eq(netns_peer_nsid(-1, 0, &again), -EINVAL);
	ck_assert_int_eq(again, -100);
	close(devnull);
}
END_TEST

START_TEST(veth_by_mac_and_addr)
{
	struct scene s;
	char name[IFNAMSIZ];
	uint8_t a4[4], a6[16], a4none[4];
	int c, d, e;

	scene_build(&s);
	c = nsid_of(s.c);
	d = nsid_of(s.d);
	e = nsid_of(s.e);
	ck_assert_int_eq(netns_peer_veth(c, mac_ca, 0, NULL, name), 0);
	ck_assert_str_eq(name, "hA");
	ck_assert_int_eq(netns_peer_veth(c, mac_cb, 0, NULL, name), 0);
	ck_assert_str_eq(name, "hB");
	/* Same ifindex as cA, other namespace: its own peer, not hA. */
	ck_assert_int_eq(netns_peer_veth(d, mac_da, 0, NULL, name), 0);
	ck_assert_str_eq(name, "hD");

	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.1", a4), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", a6), 1);
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.9", a4none), 1);
	memset(name, 0, sizeof(name));
	ck_assert_int_eq(netns_peer_veth(c, NULL, AF_INET, a4, name), 0);
	ck_assert_str_eq(name, "hA");
	memset(name, 0, sizeof(name));
	ck_assert_int_eq(netns_peer_veth(c, NULL, AF_INET6, a6, name), 0);
	ck_assert_str_eq(name, "hA");

	/* Not there, not a veth, a veth with both ends inside, the wrong namespace: -ENODEV and
	 * nothing written. */
	memset(name, 0, sizeof(name));
	ck_assert_int_eq(netns_peer_veth(c, mac_none, 0, NULL, name), -ENODEV);
	ck_assert_int_eq(netns_peer_veth(c, mac_d0, 0, NULL, name), -ENODEV);
	ck_assert_int_eq(netns_peer_veth(c, mac_i0, 0, NULL, name), -ENODEV);
	ck_assert_int_eq(netns_peer_veth(d, mac_ca, 0, NULL, name), -ENODEV);
	ck_assert_int_eq(netns_peer_veth(e, mac_ca, 0, NULL, name), -ENODEV);
	ck_assert_int_eq(netns_peer_veth(c, NULL, AF_INET, a4none, name), -ENODEV);
	ck_assert_int_eq(netns_peer_veth(c, NULL, 0, a4, name), -EINVAL);
	ck_assert_int_eq(netns_peer_veth(c, NULL, AF_INET, NULL, name), -EINVAL);
	ck_assert_int_eq(netns_peer_veth(-1, mac_ca, 0, NULL, name), -EINVAL);
	ck_assert_str_eq(name, "");
	/* An nsid nobody assigned: the kernel refuses the dump. */
	ck_assert_int_lt(netns_peer_veth(4000, mac_ca, 0, NULL, name), 0);
}
END_TEST

/*
 * The point of it all: a non-root process holding CAP_NET_ADMIN only, and no way into other
 * namespaces, finds the peer from a namespace file opened before it dropped the rest.
 */
START_TEST(veth_with_net_admin_only)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};
	struct scene s;
	char name[IFNAMSIZ];
	int nsid;

	scene_build(&s);
	ck_assert_int_eq(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), 0);
	ck_assert_int_eq(setresgid(65534, 65534, 65534), 0);
	ck_assert_int_eq(setresuid(65534, 65534, 65534), 0);
	data[0].effective = data[0].permitted = 1u << CAP_NET_ADMIN;
	ck_assert_int_eq(syscall(SYS_capset, &hdr, data), 0);
	/* Proof of the confinement: no setns, no ptrace-guarded /proc/PID/ns. */
	ck_assert_int_eq(setns(s.c, CLONE_NEWNET), -1);
	ck_assert_int_eq(errno, EPERM);

	ck_assert_int_eq(netns_peer_nsid(s.c, 0, &nsid), 0);
	ck_assert_int_eq(netns_peer_veth(nsid, mac_cb, 0, NULL, name), 0);
	ck_assert_str_eq(name, "hB");
	/* E gets its nsid assigned with CAP_NET_ADMIN alone, too. */
	ck_assert_int_eq(netns_peer_nsid(s.e, 0, &nsid), 0);
	ck_assert_int_ge(nsid, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("netns_peer");
	TCase *tc = tcase_create("netns_peer");

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("netns_peer: skipped: needs root to create network namespaces\n");
		return 77;
	}
	/* Never touch the host's interfaces: the "host" here is a namespace of our own. */
	if (unshare(CLONE_NEWNET) < 0) {
		printf("netns_peer: skipped: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 77;
	}
	if (system("ip -V >/dev/null 2>&1 && nsenter -V >/dev/null 2>&1") != 0) {
		printf("netns_peer: skipped: ip(8) or nsenter(1) not found\n");
		return 77;
	}
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, nsid_by_fd_and_pid);
	tcase_add_test(tc, veth_by_mac_and_addr);
	tcase_add_test(tc, veth_with_net_admin_only);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
