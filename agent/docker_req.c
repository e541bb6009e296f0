/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "docker_req.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Bytes taken from the socket per call: a large answer yields to the loop's other work. */
#define RUN_BUDGET (1024 * 1024)

int dk_connect_unix(const char *socket_path, int *ret_fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, socket_path);
	/* A unix connect completes at once or fails: EAGAIN is a full backlog, not progress. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

char *dk_request_text(const char *path, size_t *ret_len)
{
	char *req = NULL;
	int n = asprintf(&req,
			 "GET %s HTTP/1.1\r\n"
			 "Host: docker\r\n"
			 "User-Agent: netseg/" NETSEG_VERSION "\r\n"
			 "Accept: application/json\r\n"
			 "\r\n",
			 path);

	if (n < 0)
		return NULL;
	*ret_len = (size_t)n;
	return req;
}

void dk_req_init(struct dk_req *q)
{
	memset(q, 0, sizeof(*q));
	q->fd = -1;
}

void dk_req_reset(struct dk_req *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	free(q->out);
	free(q->path);
	q->out = q->path = NULL;
	q->out_len = q->out_off = 0;
	docker_http_release(&q->h);
}

int dk_req_start(struct dk_req *q, const char *socket_path, const char *path, size_t max_body,
		 int timeout_ms)
{
	int r;

	dk_req_reset(q);
	q->error[0] = '\0';
	q->path = strdup(path);
	q->out = dk_request_text(path, &q->out_len);
	if (!q->path || !q->out) {
		snprintf(q->error, sizeof(q->error), "out of memory");
		dk_req_reset(q);
		return -ENOMEM;
	}
	r = dk_connect_unix(socket_path, &q->fd);
	if (r < 0) {
		snprintf(q->error, sizeof(q->error), "connect %s: %s", socket_path,
			 r == -EAGAIN ? "the daemon accepts no more connections" : strerror(-r));
		dk_req_reset(q);
		return r;
	}
	docker_http_init(&q->h, max_body);
	q->timeout_ms = timeout_ms;
	q->deadline_ms = now_ms() + timeout_ms;
	return 0;
}

uint32_t dk_req_events(const struct dk_req *q)
{
	return q->out_off < q->out_len ? EPOLLOUT : EPOLLIN;
}

static int fail(struct dk_req *q, int r, const char *what)
{
	snprintf(q->error, sizeof(q->error), "GET %.160s: %.80s", q->path,
		 what ? what : strerror(-r));
	return r;
}

static int run_send(struct dk_req *q)
{
	while (q->out_off < q->out_len) {
		/* MSG_NOSIGNAL: a daemon going away must not SIGPIPE the agent. */
		ssize_t n = send(q->fd, q->out + q->out_off, q->out_len - q->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return -EAGAIN;
		if (n < 0)
			return fail(q, -errno, NULL);
		q->out_off += (size_t)n;
	}
	return 0;
}

int dk_req_run(struct dk_req *q)
{
	char buf[16384];
	size_t budget = RUN_BUDGET;
	int r;

	if (q->fd < 0)
		return -ENOTCONN;
	r = run_send(q);
	while (r == 0 && !docker_http_done(&q->h)) {
		ssize_t n = recv(q->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			r = -EAGAIN;
		else if (n < 0)
			r = fail(q, -errno, NULL);
		else if (n == 0)
			r = docker_http_eof(&q->h) < 0
				? fail(q, -ECONNRESET, "the daemon closed the connection early")
				: 0;
		else if ((r = docker_http_feed(&q->h, buf, (size_t)n)) < 0)
			fail(q, r,
			     r == -EMSGSIZE ? "response over the size limit" : "malformed HTTP");
		else if ((budget = budget > (size_t)n ? budget - (size_t)n : 0) == 0)
			r = -EAGAIN; /* still readable: level-triggered epoll comes back */
		if (n == 0)
			break;
	}
	if (r == -EAGAIN && now_ms() >= q->deadline_ms) {
		char what[64];

		snprintf(what, sizeof(what), "no complete answer within %d ms", q->timeout_ms);
		r = fail(q, -ETIMEDOUT, what);
	}
	return r;
}
