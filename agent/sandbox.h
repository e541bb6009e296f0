/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_SANDBOX_H
#define NETSEG_SANDBOX_H

#include <stdbool.h>

/*
 * The agent's own seccomp allow-list (libseccomp), installed after setup and the privilege
 * drop, so it is confined also when no systemd unit confines it. What the running agent does
 * is allowed: files it reads, the epoll loop and its fds (inotify, timerfd, eventfd,
 * signalfd), unix, netlink and IP sockets (control, metrics, Docker, etcd over libcurl,
 * NFQUEUE), memory, time, threads (libcurl's resolver). Anything else fails with EPERM, so a
 * call nobody thought of is an error the agent logs, not a crash; the calls that only an
 * attacker would make kill the process: executing (execve, execveat), other processes
 * (ptrace, process_vm_*), mounts, namespaces, modules, kexec, bpf, io_uring, keys, and
 * changing credentials.
 *
 * Sanitizer builds (ASan, UBSan, LSan) need more: LeakSanitizer stops the world with a cloned
 * tracer that ptraces the agent, so there ptrace, clone, wait4 and prctl are allowed, and the
 * process is made dumpable again after its uid change.
 */

/* 0, or -errno (e.g. -EINVAL when the kernel has no seccomp filter support). */
int sandbox_install(void);

/* Whether this binary is a sanitizer build (and so got the wider list). */
bool sandbox_is_sanitized(void);

#endif
