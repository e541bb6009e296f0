/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sandbox.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <seccomp.h>

#include "util.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANDBOX_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANDBOX_SANITIZED 1
#endif
#endif
#ifndef SANDBOX_SANITIZED
#define SANDBOX_SANITIZED 0
#endif

/* What the agent does after setup, by name: a name this architecture lacks is skipped. */
/* One line per kind of call reads better than one per call. */
/* clang-format off */
static const char *const allowed[] = {
    /* files: policy and endpoint files, /proc and /sys reads, the log, the socket at exit */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "close", "close_range",
    "open", "openat", "stat", "fstat", "lstat", "newfstatat", "statx", "fstatfs", "statfs",
    "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64", "getcwd",
    "unlink", "unlinkat", "fsync", "fdatasync", "fadvise64", "fcntl", "dup", "dup2", "dup3",
    "pipe", "pipe2", "ioctl", "flock",
    /* memory (no PROT_EXEC games: MemoryDenyWriteExecute in the unit says so too) */
    "mmap", "munmap", "mremap", "mprotect", "brk", "madvise", "membarrier",
    /* signals, to ourselves only (abort() is tgkill on our own pid) */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
    "tgkill", "gettid",
    /* sockets (socket(2) itself is limited to four families below) */
    "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto", "sendmsg",
    "sendmmsg", "recvfrom", "recvmsg", "recvmmsg", "getsockname", "getpeername", "getsockopt",
    "setsockopt", "shutdown",
    /* the event loop and its fds */
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
    "poll", "ppoll", "select", "pselect6", "inotify_init1", "inotify_add_watch",
    "inotify_rm_watch", "timerfd_create", "timerfd_settime", "timerfd_gettime", "eventfd2",
    "signalfd4",
    /* time, identity, randomness */
    "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
    "getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid",
    "getresgid", "getrandom", "uname", "sysinfo", "getrlimit", "prlimit64",
    "sched_getaffinity", "sched_yield",
    /* threads (libcurl's resolver; clone itself below) and their exit */
    "futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "exit",
    "exit_group",
};

/* What only an attacker who took over the agent would do: kill rather than answer. */
static const char *const fatal[] = {
    "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "mount",
    "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
    "pivot_root", "chroot", "setns", "unshare", "init_module", "finit_module", "delete_module",
    "kexec_load", "kexec_file_load", "bpf", "perf_event_open", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key", "userfaultfd",
    "reboot", "swapon", "swapoff", "setuid", "setgid", "setreuid", "setregid", "setresuid",
    "setresgid", "setgroups", "setfsuid", "setfsgid", "capset", "personality", "iopl",
    "ioperm", "acct", "quotactl", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "open_by_handle_at", "name_to_handle_at", "kcmp", "pidfd_getfd",
};

/* LeakSanitizer's stop-the-world: a cloned tracer ptracing the agent, waited for; x86_64
 * sanitizers list directories with the old getdents. */
static const char *const sanitizer_extra[] = {
    "ptrace", "clone", "clone3", "wait4", "waitid", "prctl", "kill", "mincore", "setrlimit",
    "getdents", "sched_getparam",
};
/* clang-format on */

static const int socket_families[] = {AF_UNIX, AF_NETLINK, AF_INET, AF_INET6};

bool sandbox_is_sanitized(void)
{
	return SANDBOX_SANITIZED;
}

static bool listed(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* Adds ACTION for every name of LIST this architecture has. */
static int add_names(scmp_filter_ctx ctx, uint32_t action, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(list[i]), r;

		if (nr == __NR_SCMP_ERROR)
			continue;
		if (SANDBOX_SANITIZED && action != SCMP_ACT_ALLOW &&
		    listed(sanitizer_extra, ARRAY_SIZE(sanitizer_extra), list[i]))
			continue;
		if ((r = seccomp_rule_add(ctx, action, nr, 0)) < 0)
			return r;
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx)
{
	int r;

	if ((r = add_names(ctx, SCMP_ACT_ALLOW, allowed, ARRAY_SIZE(allowed))) < 0 ||
	    (r = add_names(ctx, SCMP_ACT_KILL_PROCESS, fatal, ARRAY_SIZE(fatal))) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(socket_families); i++)
		if ((r = seccomp_rule_add(
			 ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
			 /* datum_b spelled out: clang checks every field is set */
			 SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)socket_families[i], 0))) < 0)
			return r;
	if (SANDBOX_SANITIZED)
		return add_names(ctx, SCMP_ACT_ALLOW, sanitizer_extra, ARRAY_SIZE(sanitizer_extra));
	/* Threads, never processes: a new process could only be there to run something. clone3
	 * hides its flags behind a pointer, so glibc is told it is missing and uses clone. */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD))) < 0)
		return r;
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
}

int sandbox_install(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int r;

	if (!ctx)
		return -ENOMEM;
	/* Changing uid made the process undumpable, and LeakSanitizer's tracer may only attach
	 * to a dumpable one. Release builds stay undumpable. */
	if (SANDBOX_SANITIZED && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) {
		seccomp_release(ctx);
		return -errno;
	}
	r = add_rules(ctx);
	/* Every thread, should a library have started one; where seccomp(2) itself is filtered
	 * (prctl is the fallback) there is no thread sync, and none is needed before the loop. */
	if (r == 0)
		(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}
