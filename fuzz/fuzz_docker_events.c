/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the Docker event stream (agent/docker_events.c): the input is what the
 * daemon sends on the GET /events connection (status line, headers, chunked body of one JSON
 * object per line), written into a socket pair whose other end the client reads exactly as it
 * reads the daemon's, by docker_events_read(), until the stream ends or fails. Byte 0 says
 * whether the peer closes (EOF) after the input or leaves the stream open.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "docker_int.h"

static size_t events_seen;

static void on_event(const struct docker_event *ev, void *userdata)
{
	(void)userdata;
	/* The callback's contract: a container id always, strings readable. */
	if (!ev->container_id)
		abort();
	events_seen += strlen(ev->container_id) + (ev->name ? strlen(ev->name) : 0) +
		       (ev->network_id ? strlen(ev->network_id) : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct docker_client *c;
	bool close_peer;
	int sv[2], r;

	if (size < 1 || size > 128 * 1024)
		return 0;
	close_peer = data[0] & 1;
	data++;
	size--;
	/* One client for the run: docker_events_close() resets all the stream's state. */
	if (!c && !(c = docker_client_new("/nonexistent/docker.sock")))
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	/* What docker_events_open() sets up once its request is sent. */
	docker_http_init(&c->ev_http, DOCKER_MAX_EVENT + 16384);
	c->ev_fd = sv[0];
	while (size > 0) {
		ssize_t n = write(sv[1], data, size);

		if (n < 0 && errno != EAGAIN)
			break;
		if (n > 0) {
			data += n;
			size -= (size_t)n;
		}
		/* Read what arrived, as the loop would (and a full socket buffer needs). */
		r = docker_events_read(c, on_event, NULL);
		if (r != -EAGAIN)
			break;
	}
	if (close_peer)
		close(sv[1]);
	do
		r = docker_events_read(c, on_event, NULL);
	while (r == -EINTR);
	(void)docker_events_ready(c);
	if (!close_peer)
		close(sv[1]);
	docker_events_close(c);
	return 0;
}
