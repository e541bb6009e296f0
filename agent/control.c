/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct client {
	int fd; /* -1: free slot */
	uint64_t accepted_ms, deadline_ms;
	char *in;
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	uid_t refused_uid; /* refused by the peer check: answered with an error */
	bool refused;
};

struct control {
	int lfd, epfd;
	struct control_ops ops;
	struct client clients[CONTROL_MAX_CLIENTS];
	uint64_t paused_until_ms; /* 0: the listener is watched */
	char *path;		  /* unix socket we created, removed at the end if still ours */
	dev_t dev;
	ino_t ino;
};

/* epoll data: 0 the listener, i + 1 client i. */
static int watch(struct control *c, int fd, uint32_t events, uint64_t data, int op)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};

	return epoll_ctl(c->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

/* A reply this large (status of thousands of endpoints) was a heap peak worth returning. */
#define CONTROL_TRIM_BYTES (1u << 20)

static void client_close(struct client *cl)
{
	bool big = cl->outlen > CONTROL_TRIM_BYTES;

	if (cl->fd >= 0)
		close(cl->fd); /* closing also leaves the epoll set */
	free(cl->in);
	free(cl->out);
	*cl = (struct client){.fd = -1};
	/* glibc keeps freed pages mapped unless asked: without this the agent stays as large
	 * as the biggest status it ever answered. */
	if (big)
		malloc_trim(0);
}

int control_open_fd(int listen_fd, const struct control_ops *ops, struct control **ret)
{
	struct control *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		close(listen_fd);
		return -ENOMEM;
	}
	c->lfd = listen_fd;
	c->ops = *ops;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = watch(c, listen_fd, EPOLLIN, 0, EPOLL_CTL_ADD)) < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	control_free(c);
	return r;
}

/* Whether something answers at PATH: a live agent, not a stale socket file. */
static bool socket_alive(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	alive = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return alive;
}

int control_open_unix(const char *path, const struct control_ops *ops, struct control **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[PATH_MAX];
	struct stat st;
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	/* Only the agent's directory is made: a missing /run would be a broken system. */
	if (mkdir(dirname(dir), 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (socket_alive(path))
			return -EADDRINUSE;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The mode is right at bind time: no window in which anyone could connect. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (r == 0 && listen(fd, CONTROL_BACKLOG) < 0)
		r = -errno;
	if (r == 0 && stat(path, &st) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	if ((r = control_open_fd(fd, ops, ret)) < 0) {
		unlink(path);
		return r;
	}
	(*ret)->path = strdup(path);
	(*ret)->dev = st.st_dev;
	(*ret)->ino = st.st_ino;
	return 0;
}

void control_free(struct control *c)
{
	struct stat st;

	if (!c)
		return;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		client_close(&c->clients[i]);
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->epfd >= 0)
		close(c->epfd);
	/* A newer agent may have replaced our socket: leave its one alone. */
	if (c->path && stat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	free(c->path);
	free(c);
}

int control_fd(const struct control *c)
{
	return c->epfd;
}

static bool peer_ok(int fd, uid_t *ret_uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*ret_uid = cred.uid;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void client_write(struct client *cl)
{
	while (cl->outoff < cl->outlen) {
		/* MSG_NOSIGNAL: a client that hung up must cost an EPIPE, not the agent. */
		ssize_t n =
		    send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN)
			return; /* EPOLLOUT brings us back */
		if (n <= 0)
			break;
		cl->outoff += (size_t)n;
	}
	client_close(cl);
}

static int client_read(struct control *c, struct client *cl);

/*
 * The slot for a newcomer: a free one, else the oldest client still waiting for its request
 * (the oldest of all when every one is draining a reply). Refusing newcomers to a full table
 * would let silent clients lock everyone out for as long as they keep reconnecting. No client
 * is taken before CONTROL_GRACE_MS, time enough to send a request after connecting: without
 * it a burst of newcomers would evict one another before any was read. NULL when every
 * client is that young; *RET_WAIT_MS then says until when.
 */
static struct client *pick_slot(struct control *c, uint64_t now, uint64_t *ret_wait_ms)
{
	struct client *victim = NULL;

	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct client *cl = &c->clients[i];

		if (cl->fd < 0)
			return cl;
		if (!victim || (!cl->out && victim->out) ||
		    (!cl->out == !victim->out && cl->accepted_ms < victim->accepted_ms))
			victim = cl;
	}
	if (now < victim->accepted_ms + CONTROL_GRACE_MS) {
		*ret_wait_ms = victim->accepted_ms + CONTROL_GRACE_MS;
		return NULL;
	}
	return victim;
}

/* Whatever the victim already sent is served first: a client that asked in time is
 * answered, not cut. */
static void evict(struct control *c, struct client *victim)
{
	if (victim->out)
		client_write(victim);
	else if (victim->fd >= 0)
		(void)client_read(c, victim);
	if (victim->fd >= 0)
		client_close(victim);
}

/*
 * Accepts while there is room. When there is none, the rest wait in the kernel's queue
 * (CONTROL_BACKLOG), in the order they came, and the listener is not watched until a client
 * can be evicted: the loop sleeps rather than spins on a listener it will not serve.
 */
static void do_accept(struct control *c)
{
	uint64_t now = now_ms(), wait_ms = 0;
	struct client *cl;
	int fd;

	while ((cl = pick_slot(c, now, &wait_ms)) &&
	       (fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		uid_t uid = 0;

		evict(c, cl); /* only now: a spurious wakeup must not cost a client its place */
		bool refused = c->ops.check_peer && !peer_ok(fd, &uid);

		if (watch(c, fd, EPOLLIN, (uint64_t)(cl - c->clients) + 1, EPOLL_CTL_ADD) < 0) {
			close(fd);
			continue;
		}
		/* A refused peer still gets to send its request and read the refusal: closing on
		 * it with its request unread would reset the connection before it could. */
		*cl = (struct client){.fd = fd,
				      .accepted_ms = now,
				      .deadline_ms = now + CONTROL_REQUEST_MS,
				      .refused = refused,
				      .refused_uid = uid};
	}
	if (!cl && watch(c, c->lfd, 0, 0, EPOLL_CTL_MOD) == 0)
		c->paused_until_ms = wait_ms;
}

static char *refusal(uid_t uid, size_t *ret_len)
{
	char *msg = NULL;
	int n = asprintf(&msg, "{\"error\": \"permission denied: uid %u is not root\"}\n",
			 (unsigned)uid);

	if (n < 0)
		return NULL;
	*ret_len = (size_t)n;
	return msg;
}

/* Returns 1 when the client was answered. */
static int client_read(struct control *c, struct client *cl)
{
	char buf[1024];
	ssize_t n;

	while ((n = recv(cl->fd, buf, sizeof(buf), 0)) > 0) {
		char *in;

		if (cl->inlen + (size_t)n > c->ops.max_request) {
			client_close(cl);
			return 0;
		}
		if (!(in = realloc(cl->in, cl->inlen + (size_t)n + 1))) {
			client_close(cl);
			return 0;
		}
		memcpy(in + cl->inlen, buf, (size_t)n);
		cl->in = in;
		cl->inlen += (size_t)n;
		cl->in[cl->inlen] = '\0';
		char *end = strstr(cl->in, c->ops.terminator);
		if (!end)
			continue;
		*end = '\0';
		/* Line requests may end in CRLF (telnet, socat -t): the CR is not the request's. */
		if (!strcmp(c->ops.terminator, "\n") && end > cl->in && end[-1] == '\r')
			end[-1] = '\0';
		cl->out = cl->refused ? refusal(cl->refused_uid, &cl->outlen)
				      : c->ops.respond(cl->in, &cl->outlen, c->ops.ud);
		if (!cl->out) {
			client_close(cl);
			return 0;
		}
		cl->deadline_ms = now_ms() + CONTROL_REPLY_MS;
		if (watch(c, cl->fd, EPOLLOUT, (uint64_t)(cl - c->clients) + 1, EPOLL_CTL_MOD) <
		    0) {
			client_close(cl);
			return 0;
		}
		client_write(cl);
		return 1;
	}
	if (n == 0 || (n < 0 && errno != EAGAIN))
		client_close(cl); /* hung up before asking */
	return 0;
}

int control_process(struct control *c)
{
	struct epoll_event evs[CONTROL_MAX_CLIENTS + 1];
	bool pending = false;
	uint64_t now;
	int n, answered = 0;

	n = epoll_wait(c->epfd, evs, CONTROL_MAX_CLIENTS + 1, 0);
	/* Clients before the listener: what they sent is read before any of them is evicted. */
	for (int i = 0; i < n; i++) {
		struct client *cl;

		if (evs[i].data.u64 == 0) {
			pending = true;
			continue;
		}
		cl = &c->clients[evs[i].data.u64 - 1];
		if (cl->fd < 0)
			continue;
		if (cl->out)
			client_write(cl);
		else
			answered += client_read(c, cl);
	}
	now = now_ms();
	if (c->paused_until_ms && now >= c->paused_until_ms &&
	    watch(c, c->lfd, EPOLLIN, 0, EPOLL_CTL_MOD) == 0) {
		c->paused_until_ms = 0;
		pending = true;
	}
	if (pending)
		do_accept(c);
	now = now_ms();
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0 && now >= c->clients[i].deadline_ms)
			client_close(&c->clients[i]);
	return answered;
}

int control_timeout_ms(const struct control *c)
{
	uint64_t now = now_ms(), next = c->paused_until_ms ? c->paused_until_ms : UINT64_MAX;

	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0 && c->clients[i].deadline_ms < next)
			next = c->clients[i].deadline_ms;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}
