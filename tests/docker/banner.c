// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netseg-banner TEXT PORT...: the TCP listener inside the test containers. Every accepted
 * connection gets "TEXT\n" and is closed; the probes call a connection "open" only when they
 * read it.
 *
 * Why not busybox `nc -ll -p PORT -e echo TEXT`: it listens with a backlog of 1 and forks a
 * shell per connection. When fifty containers probe one at once, its accept queue overflows,
 * the kernel drops the clients' final ACKs, and an allowed connection looks connected but
 * silent for seconds: a test failure that says nothing about the firewall. This one listens
 * with the largest backlog the kernel allows and answers from a single poll loop.
 *
 * Built statically by tests/docker/dockerd.sh into the test image, which has no libc.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BANNER_MAX_PORTS 16

/* Dual-stack where the container has IPv6, IPv4 only where Docker disabled it. */
static int banner_listen(unsigned port)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	int one = 1, zero = 0;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0 &&
		    listen(fd, SOMAXCONN * 64) == 0)
			return fd;
		close(fd);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) < 0 || listen(fd, SOMAXCONN * 64) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Drain the accept queue: answer and close every pending connection. */
static void banner_serve(int lfd, const char *line, size_t len)
{
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			/* Out of descriptors: the connection stays queued and poll() would wake
			 * us at once, forever; give the closes a moment. EAGAIN: queue empty;
			 * anything else: that client gave up. */
			if (errno == EMFILE || errno == ENFILE)
				usleep(10000);
			return;
		}
		/* A fresh socket's send buffer always holds a short line; a failure means the
		 * client is gone, which is its probe's business. */
		ssize_t sent = write(c, line, len);
		(void)sent;
		close(c);
	}
}

/* As a container's PID 1 it has no default signal actions: without this, `docker stop`
 * waits out its timeout and kills. */
static void banner_exit(int sig)
{
	(void)sig;
	_exit(0);
}

int main(int argc, char **argv)
{
	struct pollfd pfd[BANNER_MAX_PORTS];
	char line[256];
	int n = 0;

	if (argc < 3 || argc - 2 > BANNER_MAX_PORTS) {
		fprintf(stderr, "usage: netseg-banner TEXT PORT... (at most %d ports)\n",
			BANNER_MAX_PORTS);
		return 2;
	}
	int len = snprintf(line, sizeof(line), "%s\n", argv[1]);
	if (len < 0 || (size_t)len >= sizeof(line)) {
		fprintf(stderr, "netseg-banner: TEXT longer than %zu bytes\n", sizeof(line) - 2);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		char *end;
		unsigned long port = strtoul(argv[i], &end, 10);
		if (*end || port < 1 || port > 65535) {
			fprintf(stderr, "netseg-banner: %s: not a port (1-65535)\n", argv[i]);
			return 2;
		}
		int fd = banner_listen((unsigned)port);
		if (fd < 0) {
			fprintf(stderr, "netseg-banner: listen on tcp/%lu: %s\n", port,
				strerror(-fd));
			return 1;
		}
		pfd[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	signal(SIGTERM, banner_exit);
	signal(SIGINT, banner_exit);
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("netseg-banner: poll");
			return 1;
		}
		for (int i = 0; i < n; i++)
			if (pfd[i].revents & POLLIN)
				banner_serve(pfd[i].fd, line, (size_t)len);
	}
}
