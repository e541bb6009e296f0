/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The event stream: a GET /events that the daemon answers with one JSON object per line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "docker_int.h"

void docker_events_close(struct docker_client *c)
{
	if (!c)
		return;
	if (c->ev_in_cb) {
		c->ev_close_pending = true;
		return;
	}
	if (c->ev_fd >= 0)
		close(c->ev_fd);
	c->ev_fd = -1;
	c->ev_err = 0;
	c->ev_close_pending = false;
	docker_http_release(&c->ev_http);
}

int docker_events_open(struct docker_client *c, int *ret_fd)
{
	static const char filters[] =
	    "{\"type\":[\"container\",\"network\"],"
	    "\"event\":[\"start\",\"die\",\"destroy\",\"rename\",\"connect\",\"disconnect\"]}";
	char *esc = NULL, *path = NULL, *req = NULL;
	struct timespec ts;
	size_t len = 0;
	ssize_t n;
	int fd = -1, r;

	if (c->ev_in_cb)
		return -EBUSY;
	docker_events_close(c);
	c->error[0] = '\0';
	esc = dk_url_escape(filters);
	clock_gettime(CLOCK_REALTIME, &ts);
	/*
	 * "since" a little before now: Docker replays buffered events from that moment before
	 * streaming live ones. That closes the window between our request and its subscription,
	 * and also catches a container that was still starting when the caller listed them
	 * (seen after a daemon restart). Replays cost a re-inspect each and change nothing.
	 */
	ts.tv_sec -= DOCKER_EVENTS_REPLAY_S;
	if (!esc || asprintf(&path, "/events?since=%lld.%09ld&filters=%s", (long long)ts.tv_sec,
			     ts.tv_nsec, esc) < 0) {
		r = -ENOMEM;
		goto out;
	}
	r = dk_connect_unix(c->socket_path, &fd);
	if (r < 0) {
		dk_set_error(c, "connect %s: %s", c->socket_path,
			     r == -EAGAIN ? "the daemon accepts no more connections"
					  : strerror(-r));
		goto out;
	}
	r = -ENOMEM;
	req = dk_request_text(path, &len);
	if (!req)
		goto out;
	/* A few hundred bytes into a new socket's empty buffer: all of it goes, or nothing. */
	n = send(fd, req, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 || (size_t)n != len) {
		r = n < 0 ? -errno : -EAGAIN;
		dk_set_error(c, "GET /events: send: %s", strerror(-r));
		goto out;
	}
	r = 0;
	/* The status arrives with a later read (docker_events_ready()): nothing waits here. */
	docker_http_init(&c->ev_http, DOCKER_MAX_EVENT + 16384);
	c->ev_fd = fd;
	fd = -1;
	*ret_fd = c->ev_fd;
out:
	if (fd >= 0)
		close(fd);
	free(req);
	free(path);
	free(esc);
	return r;
}

static void dispatch_line(const char *line, size_t len, docker_event_cb cb, void *userdata)
{
	json_t *j = json_loadb(line, len, 0, NULL);
	const char *type, *action, *actor_id;
	const json_t *attrs;
	struct docker_event ev = {0};

	if (!json_is_object(j))
		goto out;
	type = dk_jstr(j, "Type");
	action = dk_jstr(j, "Action");
	actor_id = dk_jstr(json_object_get(j, "Actor"), "ID");
	attrs = json_object_get(json_object_get(j, "Actor"), "Attributes");
	if (!type || !action || !actor_id)
		goto out;
	if (strcmp(type, "container") == 0) {
		if (strcmp(action, "start") == 0)
			ev.kind = DOCKER_EVENT_START;
		else if (strcmp(action, "die") == 0)
			ev.kind = DOCKER_EVENT_DIE;
		else if (strcmp(action, "destroy") == 0)
			ev.kind = DOCKER_EVENT_DESTROY;
		else if (strcmp(action, "rename") == 0)
			ev.kind = DOCKER_EVENT_RENAME;
		else
			goto out;
		ev.container_id = actor_id;
	} else if (strcmp(type, "network") == 0) {
		if (strcmp(action, "connect") == 0)
			ev.kind = DOCKER_EVENT_NETWORK_CONNECT;
		else if (strcmp(action, "disconnect") == 0)
			ev.kind = DOCKER_EVENT_NETWORK_DISCONNECT;
		else
			goto out;
		ev.network_id = actor_id;
		ev.container_id = dk_jstr(attrs, "container");
		if (!ev.container_id)
			goto out;
	} else {
		goto out;
	}
	ev.name = dk_jstr(attrs, "name");
	ev.time_nano = json_integer_value(json_object_get(j, "timeNano"));
	cb(&ev, userdata);
out:
	json_decref(j);
}

/* Calls back for every complete line in the buffered body; -EMSGSIZE if a line is too long. */
static int dispatch(struct docker_client *c, docker_event_cb cb, void *userdata)
{
	struct docker_http *h = &c->ev_http;
	size_t off = 0;
	int r = 0;

	c->ev_in_cb = true;
	while (off < h->body_len && !c->ev_close_pending) {
		const char *nl = memchr(h->body + off, '\n', h->body_len - off);
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - (h->body + off));
		if (len > 0)
			dispatch_line(h->body + off, len, cb, userdata);
		off += len + 1;
	}
	c->ev_in_cb = false;
	docker_http_consume(h, off);
	if (h->body_len > DOCKER_MAX_EVENT) {
		dk_set_error(c, "events: an event over %u bytes", DOCKER_MAX_EVENT);
		r = -EMSGSIZE;
	}
	return r;
}

int docker_events_read(struct docker_client *c, docker_event_cb cb, void *userdata)
{
	struct docker_http *h = &c->ev_http;
	char buf[16384];
	int r;

	if (c->ev_fd < 0)
		return -ENOTCONN;
	if (c->ev_in_cb)
		return -EBUSY;
	if (c->ev_err)
		return c->ev_err;
	for (;;) {
		ssize_t n = recv(c->ev_fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -EAGAIN;
		if (n < 0) {
			r = -errno;
			if (r == -EPIPE)
				r = -ECONNRESET;
			dk_set_error(c, "events: %s", strerror(-r));
			break;
		}
		if (n == 0) {
			bool whole = docker_http_eof(h) == 0;

			r = -ECONNRESET;
			dk_set_error(c, "events: the daemon closed the stream");
			if (!docker_http_have_headers(h))
				break;
			if (h->status < 200 || h->status > 299) {
				if (whole)
					dk_describe_failure(c, "/events", h->status,
							    h->body ? h->body : "", h->body_len);
				r = -EIO;
				break;
			}
			(void)dispatch(c, cb, userdata);
			if (c->ev_close_pending) {
				docker_events_close(c);
				return -ENOTCONN;
			}
			break;
		}
		r = docker_http_feed(h, buf, (size_t)n);
		if (r < 0) {
			dk_set_error(c, "events: %s",
				     r == -EMSGSIZE ? "over a size limit" : "malformed HTTP");
			break;
		}
		if (!docker_http_have_headers(h))
			continue;
		if (h->status < 200 || h->status > 299) {
			/* The error body is short; wait for all of it so the message is whole. */
			if (!docker_http_done(h))
				continue;
			dk_describe_failure(c, "/events", h->status, h->body ? h->body : "",
					    h->body_len);
			r = -EIO;
			break;
		}
		r = dispatch(c, cb, userdata);
		if (c->ev_close_pending) {
			docker_events_close(c);
			return -ENOTCONN;
		}
		if (r < 0)
			break;
		if (docker_http_done(h)) {
			dk_set_error(c, "events: the daemon ended the stream");
			r = -ECONNRESET;
			break;
		}
	}
	c->ev_err = r;
	return r;
}

bool docker_events_ready(const struct docker_client *c)
{
	const struct docker_http *h = &c->ev_http;

	return c->ev_fd >= 0 && !c->ev_err && docker_http_have_headers(h) && h->status >= 200 &&
	       h->status <= 299;
}
