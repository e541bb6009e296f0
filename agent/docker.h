/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_DOCKER_H
#define NETSEG_DOCKER_H

/*
 * Docker as a source of endpoints: a client of the Engine API over its unix socket (HTTP/1.1,
 * JSON). Nothing here blocks an event loop: a request (a full list, one container's inspect)
 * is a sequence of GETs on non-blocking connections of their own, each bounded by
 * DOCKER_TIMEOUT_MS, that the caller drives from its loop (docker_*_begin, docker_op_fd,
 * docker_op_run); the event stream is a non-blocking fd too. docker_list_endpoints() and
 * docker_inspect_endpoints() are the same requests run to completion under poll(), for
 * tests and one-shot commands. Nothing here logs: failures return -errno and leave a
 * one-line reason in docker_client_last_error().
 *
 * Paths are unversioned, so the daemon answers in its own API version: Debian's docker.io
 * 20.10 (API 1.41) and later engines (whose minimum API version keeps rising) alike. Only
 * fields stable since API 1.22 are read.
 */

#include <stdbool.h>
#include <stdint.h>

#include "endpoints.h"

#define DOCKER_DEFAULT_SOCKET "/var/run/docker.sock"
/* Where Docker (default --exec-root) keeps the containers' namespace files, its SandboxKey. */
#define DOCKER_NETNS_DIR       "/var/run/docker/netns"
#define DOCKER_TIMEOUT_MS      5000 /* per GET */
#define DOCKER_EVENTS_REPLAY_S 2    /* the event stream starts this long in the past */
#define DOCKER_MAX_RESPONSE    (64u * 1024 * 1024)
#define DOCKER_MAX_EVENT       (1024u * 1024) /* one event line on the stream */
#define DOCKER_MAX_ATTACHMENTS 64	      /* networks per container */
#define DOCKER_MAX_LABELS      1024	      /* per container */

struct docker_client;

/* SOCKET_PATH NULL means DOCKER_DEFAULT_SOCKET. Does not connect yet. NULL on OOM or when
 * our own network namespace cannot be opened (errno says why). */
struct docker_client *docker_client_new(const char *socket_path);
/* Closes the event stream too. Accepts NULL. */
void docker_client_free(struct docker_client *c);
/* Why the last failing call failed: "GET /containers/x/json: 404 No such container: x",
 * "connect /var/run/docker.sock: Connection refused", ... Empty when there is nothing to say. */
const char *docker_client_last_error(const struct docker_client *c);

/*
 * Appends one endpoint per network attachment with a host-side veth of every running
 * container (as many as fit in DOCKER_MAX_RESPONSE): name = container name, id, image (as the user
 * gave it, Config.Image), labels (sorted by key), networks (every network of the container,
 * sorted), addrs (the attachment's IPv4 and global IPv6 address), interface = the host-side
 * veth, bridge = the network's bridge (bridge driver; NULL for other drivers). Containers
 * with --network host/none, and containers that stop while we look, contribute nothing.
 * Endpoints are sorted by name, then interface. On failure RET is unchanged.
 *
 * A container that fails on its own (its namespace cannot be entered, a Pid that is no
 * process, over a per-container limit, an inspect answered with an error) contributes
 * nothing and is named in docker_client_skipped(); only losing the daemon (or memory) fails
 * the whole list.
 */
int docker_list_endpoints(struct docker_client *c, struct endpoint_set *ret);
/* The same for one container (ID or name). -ENOENT if Docker does not know it; 0 and nothing
 * appended if it is not running. */
int docker_inspect_endpoints(struct docker_client *c, const char *container,
			     struct endpoint_set *ret);

/*
 * The same, driven by the caller: at most one request at a time (-EBUSY otherwise). After a
 * _begin, wait for docker_op_fd()'s fd (EPOLLIN or EPOLLOUT as it says) or its deadline
 * (CLOCK_MONOTONIC ms), then call docker_op_run(): -EAGAIN while under way; else the
 * request is over with the result its blocking form would have returned (endpoints appended
 * to RET on 0). docker_op_fd() is -1 when nothing is in flight; the fd may change between
 * runs (each GET has its own connection) and is closed by docker_op_run() and
 * docker_op_cancel(), so take it out of an epoll set before calling either.
 */
int docker_list_begin(struct docker_client *c);
int docker_inspect_begin(struct docker_client *c, const char *container);
bool docker_op_busy(const struct docker_client *c);
int docker_op_fd(const struct docker_client *c, uint32_t *ret_events, int64_t *ret_deadline_ms);
int docker_op_run(struct docker_client *c, struct endpoint_set *ret);
/* Drops the request in flight, if any. */
void docker_op_cancel(struct docker_client *c);

struct docker_skip {
	char *id;     /* the container */
	char *reason; /* one line */
};

/* The containers the last docker_list_endpoints() left out, in list order. */
size_t docker_client_skipped(const struct docker_client *c, const struct docker_skip **ret);

enum docker_event_kind {
	DOCKER_EVENT_START,
	DOCKER_EVENT_DIE,
	DOCKER_EVENT_DESTROY,
	DOCKER_EVENT_RENAME,
	DOCKER_EVENT_NETWORK_CONNECT,
	DOCKER_EVENT_NETWORK_DISCONNECT,
};

/* Strings are borrowed for the duration of the callback. */
struct docker_event {
	enum docker_event_kind kind;
	const char *container_id; /* never NULL */
	const char *network_id;	  /* connect/disconnect: the network; else NULL */
	const char *name;	  /* container events: the container's (new) name; connect/
				     disconnect: the network's name; may be NULL */
	int64_t time_nano;	  /* Docker's timestamp, 0 if missing */
};

typedef void (*docker_event_cb)(const struct docker_event *ev, void *userdata);

/*
 * Opens the event stream (container start/die/destroy/rename, network connect/disconnect)
 * and writes its non-blocking fd to ret_fd; the fd stays owned by the client. Any previous
 * stream is closed first. Events are requested from the moment of this call, so a snapshot
 * taken after it (docker_list_endpoints) misses nothing: open first, then list.
 */
int docker_events_open(struct docker_client *c, int *ret_fd);
/*
 * Reads what the stream has and calls CB for each complete event, in order. Returns -EAGAIN
 * once drained (wait for the fd again); -ECONNRESET when the daemon ended the stream (it
 * stopped or restarted: docker_events_close(), wait, docker_events_open(), list again);
 * -ENOTCONN without a stream; -EIO (status) / -EBADMSG / -EMSGSIZE (framing, an event
 * over DOCKER_MAX_EVENT) after which the stream is unusable too. Events that are not JSON
 * objects or lack a container id are skipped. CB must not open or close the stream.
 */
int docker_events_read(struct docker_client *c, docker_event_cb cb, void *userdata);
/* The daemon accepted the stream (a 2xx status has arrived). */
bool docker_events_ready(const struct docker_client *c);
/* Closes the stream (remove its fd from epoll first). No-op without one. */
void docker_events_close(struct docker_client *c);

#endif
