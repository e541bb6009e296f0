/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Docker as an inventory source: owner "docker:<container id>" holds that container's
 * endpoints (one per network attachment). The event stream drives updates; when it ends
 * (daemon restart, socket gone) we reconnect with backoff and resync from a full list.
 * Nothing is flushed meanwhile: what is installed keeps being enforced, and containers that
 * start while we are blind stay isolated by the fail-closed rules until we see them.
 *
 * Nothing here waits on the daemon: the stream, the request in flight and one timer (the
 * retry backoff, the stream's answer, the request's deadline) sit in an epoll set of their
 * own whose fd the agent's loop watches. Requests run one at a time, in the order their
 * events arrived: a `die` after a `start` is applied after that start's inspect, and a
 * resync never overlaps an inspect.
 */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "docker.h"
#include "log.h"
#include "util.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* A stream that stayed up this long (or carried an event) was a success: back off anew. */
#define STREAM_STABLE_MS 10000
#define QUEUE_MAX	 65536 /* events waiting for their turn; past it, a full resync */

enum ds_state {
	DS_IDLE,    /* no stream; retry_at says when to try again */
	DS_OPENING, /* /events sent, waiting for its status */
	DS_SYNCING, /* the stream is up, the full list in flight */
	DS_LIVE,    /* events are followed */
};

enum { TAG_TIMER = 1, TAG_EVENTS, TAG_OP };
enum { NOTHING_TO_DO = 1 };

struct pending {
	enum docker_event_kind kind;
	char *id, *name;
};

struct src_docker {
	struct docker_client *client;
	int epfd; /* what the agent's loop watches */
	int timer_fd;
	int events_fd; /* in epfd, -1 while disconnected */
	int op_fd;     /* in epfd, -1 when none */
	enum ds_state state;
	unsigned backoff_ms;
	int64_t retry_at_ms, open_deadline_ms;
	bool ever_connected;
	bool events_seen;	 /* since the stream opened */
	int64_t connected_at_ms; /* when the stream opened */

	struct pending *q; /* a ring of events waiting for their turn */
	size_t q_head, q_len, q_cap;
	bool resync_pending; /* the queue overflowed */
	struct pending cur;  /* the event whose inspect is in flight */
	bool op_is_list;
	struct endpoint_set *op_set;
};

static int ep_add(int epfd, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int src_docker_open(const char *socket_path, struct src_docker **ret)
{
	struct src_docker *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->events_fd = s->op_fd = -1;
	s->backoff_ms = BACKOFF_MIN_MS;
	s->client = docker_client_new(socket_path);
	r = s->client ? 0 : errno ? -errno : -ENOMEM;
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r == 0 && (s->timer_fd < 0 || s->epfd < 0))
		r = -errno;
	if (r == 0)
		r = ep_add(s->epfd, s->timer_fd, EPOLLIN, TAG_TIMER);
	if (r < 0) {
		src_docker_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

static void pending_clear(struct pending *p)
{
	free(p->id);
	free(p->name);
	memset(p, 0, sizeof(*p));
}

static void queue_clear(struct src_docker *s)
{
	for (size_t i = 0; i < s->q_len; i++)
		pending_clear(&s->q[(s->q_head + i) % s->q_cap]);
	s->q_head = s->q_len = 0;
}

static void op_drop(struct src_docker *s);

void src_docker_free(struct src_docker *s)
{
	if (!s)
		return;
	op_drop(s);
	queue_clear(s);
	free(s->q);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	docker_client_free(s->client); /* closes the events fd */
	free(s);
}

int src_docker_fd(const struct src_docker *s)
{
	return s->epfd;
}

static int owner_of(const char *id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "docker:%s", id);

	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static int by_id_then_index(const void *a, const void *b, void *ud)
{
	const struct endpoint_set *all = ud;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(all->items[x].id, all->items[y].id);

	return c ? c : (x > y) - (x < y);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One owner's set: the attachments ORDER[0..n) of ALL, moved out of it. */
static struct endpoint_set *take_owner(struct endpoint_set *all, const size_t *order, size_t n)
{
	struct endpoint_set *one = endpoint_set_new();

	if (!one || !(one->items = calloc(n, sizeof(*one->items)))) {
		endpoint_set_free(one);
		return NULL;
	}
	one->cap = n;
	for (size_t k = 0; k < n; k++) {
		one->items[one->n++] = all->items[order[k]]; /* moved: all no longer owns it */
		memset(&all->items[order[k]], 0, sizeof(all->items[order[k]]));
	}
	return one;
}

#define SKIPS_LOGGED 20 /* per resync; the rest are counted */

/*
 * Containers the list left out: named in the log, and their owners kept as they were (a
 * container we knew keeps its last good state; a new one is simply not added, so its
 * interface stays fail-closed). KEEP gets their owners.
 */
static int note_skipped(struct src_docker *s, char **keep, size_t *nkeep)
{
	const struct docker_skip *sk;
	size_t n = docker_client_skipped(s->client, &sk);
	char owner[128];

	for (size_t i = 0; i < n; i++) {
		if (i < SKIPS_LOGGED)
			log_warn(
			    "docker: container %.12s skipped, its interfaces stay fail-closed: "
			    "%s",
			    sk[i].id, sk[i].reason);
		if (owner_of(sk[i].id, owner, sizeof(owner)) < 0)
			continue;
		if (!(keep[*nkeep] = strdup(owner)))
			return -ENOMEM;
		(*nkeep)++;
	}
	if (n > SKIPS_LOGGED)
		log_warn("docker: %zu more containers skipped", n - SKIPS_LOGGED);
	return 0;
}

/*
 * Replaces every docker owner with the daemon's current list. Sorting, not pairwise
 * comparison, groups the attachments by container and finds the containers that are gone:
 * a resync of thousands of containers stays milliseconds, not seconds.
 */
static int resync_apply(struct src_docker *s, struct agent_ctx *ctx, struct endpoint_set *all)
{
	size_t *order = NULL, nkeep = 0, nowners, ngone = 0, nskip;
	char **keep = NULL, **gone = NULL;
	const struct docker_skip *sk;
	const char **owners;
	int r;

	nskip = docker_client_skipped(s->client, &sk);
	r = -ENOMEM;
	order = calloc(all->n + 1, sizeof(*order));
	keep = calloc(all->n + nskip + 1, sizeof(*keep));
	if (!order || !keep || note_skipped(s, keep, &nkeep) < 0)
		goto out;
	for (size_t i = 0; i < all->n; i++)
		order[i] = i;
	qsort_r(order, all->n, sizeof(*order), by_id_then_index, all);
	r = 0;
	for (size_t i = 0, j; r == 0 && i < all->n; i = j) {
		struct endpoint_set *one;
		char owner[128];

		for (j = i + 1;
		     j < all->n && !strcmp(all->items[order[j]].id, all->items[order[i]].id); j++)
			;
		if (owner_of(all->items[order[i]].id, owner, sizeof(owner)) < 0 ||
		    !(keep[nkeep] = strdup(owner))) {
			r = -ENOMEM;
			break;
		}
		nkeep++;
		if (!(one = take_owner(all, order + i, j - i))) {
			r = -ENOMEM;
			break;
		}
		agent_resolve_bridges(ctx, one);
		r = inventory_set(ctx->inv, owner, one, ctx->rc) < 0 ? -ENOMEM : 0;
	}
	if (r < 0)
		goto out; /* a partial list must not look like containers gone */
	/* Containers that disappeared while we were not listening. */
	qsort(keep, nkeep, sizeof(*keep), str_cmp);
	nowners = inventory_owners(ctx->inv, "docker:", &owners);
	gone = calloc(nowners + 1, sizeof(*gone));
	for (size_t k = 0; gone && k < nowners; k++)
		if (!bsearch(&owners[k], keep, nkeep, sizeof(*keep), str_cmp))
			gone[ngone++] = strdup(owners[k]);
	for (size_t k = 0; k < ngone; k++) {
		if (gone[k])
			(void)inventory_set(ctx->inv, gone[k], NULL, ctx->rc);
		free(gone[k]);
	}
out:
	for (size_t m = 0; m < nkeep; m++)
		free(keep[m]);
	free(gone);
	free(keep);
	free(order);
	endpoint_set_free(all);
	return r;
}

/* ---- the request in flight ---- */

/* Takes the request's fd out of epfd: the client may close it in what follows. */
static void op_unwatch(struct src_docker *s)
{
	if (s->op_fd >= 0)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->op_fd, NULL);
	s->op_fd = -1;
}

static void op_drop(struct src_docker *s)
{
	op_unwatch(s);
	if (s->client)
		docker_op_cancel(s->client);
	endpoint_set_free(s->op_set);
	s->op_set = NULL;
	pending_clear(&s->cur);
}

static void events_unwatch(struct src_docker *s)
{
	if (s->events_fd >= 0)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->events_fd, NULL);
	s->events_fd = -1;
	docker_events_close(s->client);
}

static void schedule_retry(struct src_docker *s)
{
	s->state = DS_IDLE;
	s->retry_at_ms = now_ms() + s->backoff_ms;
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
}

/*
 * Only a stream that proved itself resets the backoff: one the daemon fails right after
 * each list (an /events handler that errors) would otherwise cost a full resync every
 * BACKOFF_MIN_MS.
 */
static void disconnect(struct src_docker *s, const char *why)
{
	bool live = s->state == DS_LIVE;

	if (live && (s->events_seen || now_ms() - s->connected_at_ms >= STREAM_STABLE_MS))
		s->backoff_ms = BACKOFF_MIN_MS;
	op_drop(s);
	queue_clear(s);
	s->resync_pending = false;
	events_unwatch(s);
	if (live)
		log_warn("docker: %s; enforcement continues, reconnecting in %u ms", why,
			 s->backoff_ms);
	else
		log_warn("docker: cannot connect: %s; retrying in %u ms", why, s->backoff_ms);
	schedule_retry(s);
}

static const char *why(struct src_docker *s, int r)
{
	const char *e = docker_client_last_error(s->client);

	return e && *e ? e : strerror(-r);
}

static void open_stream(struct src_docker *s)
{
	int fd, r = docker_events_open(s->client, &fd);

	if (r == 0)
		r = ep_add(s->epfd, fd, EPOLLIN, TAG_EVENTS);
	if (r < 0) {
		docker_events_close(s->client);
		disconnect(s, why(s, r));
		return;
	}
	s->events_fd = fd;
	s->state = DS_OPENING;
	s->open_deadline_ms = now_ms() + DOCKER_TIMEOUT_MS;
	s->events_seen = false;
	s->connected_at_ms = now_ms();
}

/* Starts the next request: the resync first if one is owed, else the next queued event. */
static int start_next(struct src_docker *s, struct agent_ctx *ctx)
{
	char owner[128];
	int r;

	if (s->state == DS_SYNCING || s->resync_pending) {
		s->resync_pending = false;
		queue_clear(s); /* the list supersedes them */
		s->op_is_list = true;
		return docker_list_begin(s->client);
	}
	while (s->q_len) {
		struct pending p = s->q[s->q_head];

		s->q_head = (s->q_head + 1) % s->q_cap;
		s->q_len--;
		if (p.kind != DOCKER_EVENT_DIE && p.kind != DOCKER_EVENT_DESTROY) {
			s->cur = p;
			s->op_is_list = false;
			r = docker_inspect_begin(s->client, p.id);
			if (r < 0) {
				log_warn("docker: cannot inspect container %.12s: %s, ignoring",
					 p.id, why(s, r));
				pending_clear(&s->cur);
				continue;
			}
			return 0;
		}
		if (owner_of(p.id, owner, sizeof(owner)) == 0 &&
		    inventory_set(ctx->inv, owner, NULL, ctx->rc) > 0)
			log_info("docker: container %.12s%s%s: released", p.id, p.name ? " " : "",
				 p.name ? p.name : "");
		pending_clear(&p);
	}
	return NOTHING_TO_DO;
}

static void inspect_done(struct src_docker *s, struct agent_ctx *ctx, int r)
{
	struct endpoint_set *eps = s->op_set;
	const struct pending *p = &s->cur;
	char owner[128];

	if (r == -ENOENT) {
		endpoint_set_free(eps);
		eps = NULL;
	} else if (r < 0) {
		log_warn("docker: cannot inspect container %.12s: %s, ignoring", p->id, why(s, r));
		return;
	}
	s->op_set = NULL;
	if (eps)
		agent_resolve_bridges(ctx, eps);
	if (owner_of(p->id, owner, sizeof(owner)) < 0) {
		endpoint_set_free(eps);
		return;
	}
	r = inventory_set(ctx->inv, owner, eps, ctx->rc);
	if (r > 0)
		log_info("docker: container %.12s%s%s: %s", p->id, p->name ? " " : "",
			 p->name ? p->name : "", eps && eps->n ? "managed" : "released");
	else if (r < 0)
		log_warn("docker: container %.12s: %s, ignoring", p->id, strerror(-r));
}

static void list_done(struct src_docker *s, struct agent_ctx *ctx, int r)
{
	struct endpoint_set *all = s->op_set;

	if (r == 0) {
		s->op_set = NULL;
		r = resync_apply(s, ctx, all);
	}
	if (r < 0) {
		if (r == -EMSGSIZE)
			log_error("docker: %s (the limit is %u MiB): the container list cannot be "
				  "read, the last one stays enforced",
				  why(s, r), DOCKER_MAX_RESPONSE >> 20);
		disconnect(s, why(s, r));
		return;
	}
	if (s->state == DS_SYNCING) {
		s->state = DS_LIVE;
		s->ever_connected = true;
		log_info("docker: connected, %zu endpoints managed", inventory_count(ctx->inv));
	}
}

/* Runs requests until one has to wait, or none is left. */
static void run_ops(struct src_docker *s, struct agent_ctx *ctx)
{
	while (s->state == DS_SYNCING || s->state == DS_LIVE) {
		int r;

		op_unwatch(s);
		if (!docker_op_busy(s->client)) {
			if (!s->op_set && !(s->op_set = endpoint_set_new()))
				return;
			r = start_next(s, ctx);
			if (r == NOTHING_TO_DO)
				return;
			if (r < 0) { /* the list could not even start */
				list_done(s, ctx, r);
				continue;
			}
		}
		r = docker_op_run(s->client, s->op_set);
		if (r == -EAGAIN) {
			uint32_t events = 0;
			int64_t deadline;
			int fd = docker_op_fd(s->client, &events, &deadline);

			if (fd >= 0 && ep_add(s->epfd, fd, events, TAG_OP) == 0)
				s->op_fd = fd;
			return;
		}
		if (s->op_is_list)
			list_done(s, ctx, r);
		else
			inspect_done(s, ctx, r);
		endpoint_set_free(s->op_set);
		s->op_set = NULL;
		pending_clear(&s->cur);
	}
}

/* ---- the event stream ---- */

static void on_event(const struct docker_event *ev, void *userdata)
{
	struct src_docker *s = userdata;
	struct pending *p;

	s->events_seen = true;
	if (s->resync_pending)
		return;
	if (s->q_len == s->q_cap) {
		size_t cap = s->q_cap ? s->q_cap * 2 : 64;
		struct pending *q = cap <= QUEUE_MAX ? calloc(cap, sizeof(*q)) : NULL;

		if (!q) {
			log_warn("docker: over %u events waiting; resynchronising", QUEUE_MAX);
			queue_clear(s);
			s->resync_pending = true;
			return;
		}
		for (size_t i = 0; i < s->q_len; i++)
			q[i] = s->q[(s->q_head + i) % s->q_cap];
		free(s->q);
		s->q = q;
		s->q_cap = cap;
		s->q_head = 0;
	}
	p = &s->q[(s->q_head + s->q_len) % s->q_cap];
	p->kind = ev->kind;
	p->id = strdup(ev->container_id);
	p->name = ev->name ? strdup(ev->name) : NULL;
	if (!p->id) {
		pending_clear(p);
		return;
	}
	s->q_len++;
}

static void read_stream(struct src_docker *s)
{
	int r = docker_events_read(s->client, on_event, s);

	if (r == -EAGAIN || r == 0)
		return;
	/* The client's error carries the daemon's own message and the HTTP status. */
	disconnect(s, why(s, r));
}

/* ---- the loop's side ---- */

static void rearm(struct src_docker *s)
{
	uint32_t events;
	int64_t at = 0, op_deadline;
	struct itimerspec its = {0};

	if (s->state == DS_IDLE)
		at = s->retry_at_ms;
	else if (s->state == DS_OPENING)
		at = s->open_deadline_ms;
	if (docker_op_fd(s->client, &events, &op_deadline) >= 0 && (!at || op_deadline < at))
		at = op_deadline;
	if (at) {
		if (at <= now_ms())
			at = now_ms() + 1;
		its.it_value.tv_sec = at / 1000;
		its.it_value.tv_nsec = (long)(at % 1000) * 1000000;
	}
	timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

int src_docker_dispatch(struct src_docker *s, struct agent_ctx *ctx)
{
	struct epoll_event evs[4];
	bool stream = false;
	uint64_t ticks;
	int n = epoll_wait(s->epfd, evs, 4, 0);

	for (int i = 0; i < n; i++) {
		if (evs[i].data.u64 == TAG_TIMER)
			(void)!read(s->timer_fd, &ticks, sizeof(ticks));
		else if (evs[i].data.u64 == TAG_EVENTS)
			stream = true;
	}
	if (stream && s->events_fd >= 0)
		read_stream(s);
	if (s->state == DS_IDLE && now_ms() >= s->retry_at_ms)
		open_stream(s);
	if (s->state == DS_OPENING && !docker_events_ready(s->client) &&
	    now_ms() >= s->open_deadline_ms)
		disconnect(s, "GET /events: no answer from the daemon");
	/* List only once the daemon accepted the stream: a failing /events costs one GET. */
	if (s->state == DS_OPENING && docker_events_ready(s->client))
		s->state = DS_SYNCING;
	run_ops(s, ctx);
	rearm(s);
	return 0;
}

int src_docker_start(struct src_docker *s, struct agent_ctx *ctx, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	s->retry_at_ms = 0;
	do {
		struct epoll_event ev;

		(void)src_docker_dispatch(s, ctx);
		if (s->state == DS_LIVE || (s->state == DS_IDLE && s->retry_at_ms > now_ms()))
			break;
		(void)epoll_wait(s->epfd, &ev, 1, (int)(end - now_ms() > 0 ? end - now_ms() : 0));
	} while (now_ms() < end);
	return s->state == DS_LIVE ? 0 : -EAGAIN;
}
