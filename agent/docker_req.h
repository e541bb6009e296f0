/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_DOCKER_REQ_H
#define NETSEG_DOCKER_REQ_H

/*
 * One GET to the Docker daemon on a connection of its own, never blocking: the caller waits
 * for dk_req_events() on fd (epoll or poll) or for the deadline, then calls dk_req_run()
 * again. The response is framed by docker_http into h. Internal to the Docker client.
 */

#include <stdint.h>

#include "docker_http.h"

struct dk_req {
	int fd; /* -1: no request */
	char *out;
	size_t out_len, out_off;
	int64_t deadline_ms; /* CLOCK_MONOTONIC */
	int timeout_ms;
	char *path;
	struct docker_http h;
	char error[256]; /* why the last failing call failed, one line */
};

void dk_req_init(struct dk_req *q);
/* Closes the connection and frees the buffers; the request can be started again. */
void dk_req_reset(struct dk_req *q);
/* Connects (without waiting) and queues the request. 0, or -errno with q->error set. */
int dk_req_start(struct dk_req *q, const char *socket_path, const char *path, size_t max_body,
		 int timeout_ms);
/*
 * Sends and receives what the socket takes without waiting. -EAGAIN: wait again; 0: the
 * response is complete in q->h (any status); -ETIMEDOUT, -ECONNRESET, -EMSGSIZE, -EBADMSG
 * and other -errno with q->error set.
 */
int dk_req_run(struct dk_req *q);
/* EPOLLOUT while the request is being sent, EPOLLIN after. */
uint32_t dk_req_events(const struct dk_req *q);

/* A non-blocking connected unix stream socket to SOCKET_PATH. */
int dk_connect_unix(const char *socket_path, int *ret_fd);
/* "GET PATH HTTP/1.1" and our headers, allocated; NULL on OOM. */
char *dk_request_text(const char *path, size_t *ret_len);

#endif
