/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent/sandbox.c: the agent's seccomp allow-list, installed by the same function the agent
 * calls, in a child process that then does what the agent does (which must keep working) or
 * what an attacker would (which must die with SIGSYS or fail with EPERM). Every check is the
 * kernel's real answer; nothing here is simulated.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "sandbox.h"
#include "testutil.h"
#include "util.h"

/* Exit codes a child reports with. */
enum { OK = 0, NOT_CONFINED = 10, WRONG_ERRNO = 11, FAILED = 12 };

typedef int (*child_fn)(void);

/* Runs FN in a confined child; returns its wait status. */
static int confined(child_fn fn)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (sandbox_install() < 0)
			_exit(FAILED);
		_exit(fn());
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static void assert_killed(int st, const char *what)
{
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
		      "%s: expected death by SIGSYS, got %s %d", what,
		      WIFSIGNALED(st) ? "signal" : "exit",
		      WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void assert_exit(int st, int code, const char *what)
{
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == code, "%s: expected exit %d, got %s %d",
		      what, code, WIFSIGNALED(st) ? "signal" : "exit",
		      WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void *thread_main(void *arg)
{
	return arg;
}

/* What the agent's loop does, all of it after the filter. */
static int agent_like(void)
{
	struct itimerspec its = {.it_value = {.tv_nsec = 1000000}};
	struct epoll_event ev = {.events = EPOLLIN};
	char buf[256], rnd[16];
	pthread_t t;
	void *ret;
	int ep, tfd, in, efd, fd, s;
	uint64_t n;

	if ((fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) < 0 || read(fd, buf, 255) <= 0)
		return FAILED;
	close(fd);
	ep = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ep < 0 || tfd < 0 || in < 0 || efd < 0 ||
	    inotify_add_watch(in, "/tmp", IN_CREATE) < 0 ||
	    timerfd_settime(tfd, 0, &its, NULL) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) < 0 ||
	    epoll_wait(ep, &ev, 1, 5000) != 1 || read(tfd, &n, sizeof(n)) != sizeof(n))
		return FAILED;
	int fams[][2] = {{AF_UNIX, 0}, {AF_INET, 0}, {AF_INET6, 0}, {AF_NETLINK, NETLINK_ROUTE}};
	for (size_t i = 0; i < ARRAY_SIZE(fams); i++) {
		int type = fams[i][0] == AF_NETLINK ? SOCK_RAW : SOCK_STREAM;

		if ((s = socket(fams[i][0], type | SOCK_CLOEXEC, fams[i][1])) < 0)
			return FAILED;
		close(s);
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return FAILED;
	/* libcurl's resolver runs in a thread. */
	if (pthread_create(&t, NULL, thread_main, buf) != 0 || pthread_join(t, &ret) != 0 ||
	    ret != buf)
		return FAILED;
	return OK;
}

static int do_execve(void)
{
	char *argv[] = {"/bin/true", NULL}, *envp[] = {NULL};

	execve("/bin/true", argv, envp);
	return NOT_CONFINED; /* not reached when the filter kills */
}

static int do_mount(void)
{
	mount("none", "/mnt", "tmpfs", 0, NULL);
	return NOT_CONFINED;
}

static int do_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return NOT_CONFINED;
}

static int do_setuid(void)
{
	syscall(SYS_setuid, 0);
	return NOT_CONFINED;
}

static int do_unshare(void)
{
	syscall(SYS_unshare, 0x40000000 /* CLONE_NEWNET */);
	return NOT_CONFINED;
}

/* Not on the list, not fatal: EPERM, and the process goes on. */
static int do_unlisted(void)
{
	if (socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0) >= 0)
		return NOT_CONFINED;
	if (errno != EPERM)
		return WRONG_ERRNO;
	if (chdir("/") == 0)
		return NOT_CONFINED;
	if (errno != EPERM)
		return WRONG_ERRNO;
	if (mkdir("/nonexistent-netseg/x", 0700) == 0)
		return NOT_CONFINED;
	return errno == EPERM ? OK : WRONG_ERRNO;
}

/* A new process (no CLONE_THREAD): refused. */
static int do_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		return NOT_CONFINED;
	return errno == EPERM ? OK : WRONG_ERRNO;
}

START_TEST(agent_calls_work)
{
	assert_exit(confined(agent_like), OK, "the agent's own calls");
}
END_TEST

START_TEST(forbidden_calls_kill)
{
	assert_killed(confined(do_execve), "execve");
	assert_killed(confined(do_mount), "mount");
	assert_killed(confined(do_setuid), "setuid");
	assert_killed(confined(do_unshare), "unshare");
	/* LeakSanitizer's tracer needs ptrace, so sanitizer builds allow it. */
	if (!sandbox_is_sanitized())
		assert_killed(confined(do_ptrace), "ptrace");
}
END_TEST

START_TEST(unlisted_calls_fail)
{
	assert_exit(confined(do_unlisted), OK, "AF_PACKET socket, chdir, mkdir");
	if (!sandbox_is_sanitized())
		assert_exit(confined(do_fork), OK, "fork");
}
END_TEST

/* The same calls without the filter: the checks above test the filter, not the machine. */
START_TEST(unconfined_baseline)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(do_execve());
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	assert_exit(st, 0, "/bin/true without the filter");
	pid = fork();
	if (pid == 0)
		_exit(socket(AF_PACKET, SOCK_RAW, 0) >= 0 || errno != EPERM ? OK : FAILED);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	assert_exit(st, OK, "AF_PACKET without the filter is not EPERM");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("sandbox");

	setvbuf(stdout, NULL, _IOLBF, 0);
	tcase_add_test(tc, agent_calls_work);
	tcase_add_test(tc, forbidden_calls_kill);
	tcase_add_test(tc, unlisted_calls_fail);
	tcase_add_test(tc, unconfined_baseline);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
