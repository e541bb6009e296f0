/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_CONTROL_H
#define NETSEG_CONTROL_H

/*
 * One-request servers inside the agent's loop: the control socket (`netseg status`) and the
 * metrics endpoint. A client sends one request, gets one answer, and is closed. Everything is
 * non-blocking, and clients live in the server's own epoll set, so the agent's loop sees one
 * fd per server and a slow or silent client never stalls it: one that has not sent its
 * request within CONTROL_REQUEST_MS, or not read its answer within CONTROL_REPLY_MS, is
 * dropped. At most CONTROL_MAX_CLIENTS are held; a newcomer to a full table takes the place
 * of the oldest one still waiting for its request (once that one is CONTROL_GRACE_MS old), so
 * silent clients cannot lock others out; newcomers wait in the kernel's queue meanwhile.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CONTROL_DEFAULT_SOCKET "/run/netseg/control.sock"
#define CONTROL_REQUEST_MS     1000
#define CONTROL_REPLY_MS       5000
#define CONTROL_MAX_CLIENTS    32
/* How long a client is safe from eviction: far more than sending a request takes. */
#define CONTROL_GRACE_MS 50
/* Connections the kernel queues for accept(), in order, while the table is full (the kernel
 * caps it at net.core.somaxconn). */
#define CONTROL_BACKLOG 4096

struct control;

/* Returns the whole answer (malloc'd; *RET_LEN bytes), NULL to just close. */
typedef char *(*control_respond_fn)(const char *request, size_t *ret_len, void *ud);

struct control_ops {
	const char *terminator; /* the request is complete when this is seen: "\n", "\r\n\r\n" */
	size_t max_request;	/* bytes; a longer request is dropped */
	bool check_peer;	/* unix sockets: SO_PEERCRED uid must be 0 or ours */
	control_respond_fn respond;
	void *ud;
};

/*
 * Creates the unix socket PATH, mode 0600 from the start (its directory made 0700 when
 * missing). -EADDRINUSE when another process answers there; a stale socket is replaced.
 */
int control_open_unix(const char *path, const struct control_ops *ops, struct control **ret);
/* Serves an already listening, non-blocking socket, which it takes over. */
int control_open_fd(int listen_fd, const struct control_ops *ops, struct control **ret);
/* Closes every client; removes the unix socket if it is still ours. NULL ok. */
/* Hands the unix socket (and its directory, if control_open_unix made it) to UID:GID, so an
 * agent that gives up root can still remove them when it exits. 0 or -errno. */
int control_chown(const struct control *c, uid_t uid, gid_t gid);
void control_free(struct control *c);

int control_fd(const struct control *c); /* for the agent's epoll set */
/* Accepts, reads, answers, drops expired clients. Never blocks. Returns clients answered. */
int control_process(struct control *c);
/* Milliseconds until the next client expires, -1 when none waits. */
int control_timeout_ms(const struct control *c);

/* The client: `netseg status` (cmd_status.c). */
int cmd_status(int argc, char **argv);

/* Sends REQUEST (a line, newline included) to the agent at PATH and reads the whole answer
 * (NUL-terminated, malloc'd) into *RET; 5 s timeouts. 0 or -errno. */
int control_ask(const char *path, const char *request, char **ret);

#endif
