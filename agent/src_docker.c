/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Docker as an inventory source: owner "docker:<container id>" holds that container's
 * endpoints (one per network attachment). The event stream drives updates; when it ends
 * (daemon restart, socket gone) we reconnect with backoff and resync from a full list.
 * Nothing is flushed meanwhile: what is installed keeps being enforced, and containers that
 * start while we are blind stay isolated by the fail-closed rules until we see them.
 */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "docker.h"
#include "log.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* A stream that stayed up this long (or carried an event) was a success: back off anew. */
#define STREAM_STABLE_MS 10000

struct src_docker {
	struct docker_client *client;
	int events_fd; /* -1 while disconnected */
	int timer_fd;
	unsigned backoff_ms;
	bool fd_changed;
	bool ever_connected;
	bool events_seen;	 /* since the stream opened */
	int64_t connected_at_ms; /* when the stream opened */
	struct agent_ctx *ctx;	 /* during a read */
};

int src_docker_open(const char *socket_path, struct src_docker **ret)
{
	struct src_docker *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->events_fd = -1;
	s->backoff_ms = BACKOFF_MIN_MS;
	s->client = docker_client_new(socket_path);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (!s->client || s->timer_fd < 0) {
		int r = s->client ? -errno : -ENOMEM;

		src_docker_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void src_docker_free(struct src_docker *s)
{
	if (!s)
		return;
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	docker_client_free(s->client); /* closes the events fd */
	free(s);
}

int src_docker_events_fd(const struct src_docker *s)
{
	return s->events_fd;
}

int src_docker_timer_fd(const struct src_docker *s)
{
	return s->timer_fd;
}

bool src_docker_fd_changed(struct src_docker *s)
{
	bool c = s->fd_changed;

	s->fd_changed = false;
	return c;
}

static void schedule_retry(struct src_docker *s)
{
	struct itimerspec its = {
	    .it_value = {.tv_sec = s->backoff_ms / 1000,
			 .tv_nsec = (long)(s->backoff_ms % 1000) * 1000000},
	};

	timerfd_settime(s->timer_fd, 0, &its, NULL);
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Only a stream that proved itself resets the backoff: one the daemon fails right after
 * each list (an /events handler that errors) would otherwise cost a full resync every
 * BACKOFF_MIN_MS.
 */
static void disconnect(struct src_docker *s, const char *why)
{
	if (s->events_seen || now_ms() - s->connected_at_ms >= STREAM_STABLE_MS)
		s->backoff_ms = BACKOFF_MIN_MS;
	docker_events_close(s->client);
	s->events_fd = -1;
	s->fd_changed = true;
	log_warn("docker: %s; enforcement continues, reconnecting in %u ms", why, s->backoff_ms);
	schedule_retry(s);
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
static int resync(struct src_docker *s, struct agent_ctx *ctx)
{
	struct endpoint_set *all = endpoint_set_new();
	size_t *order = NULL, nkeep = 0, nowners, ngone = 0, nskip;
	char **keep = NULL, **gone = NULL;
	const struct docker_skip *sk;
	const char **owners;
	int r;

	if (!all)
		return -ENOMEM;
	r = docker_list_endpoints(s->client, all);
	if (r < 0)
		goto out;
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

int src_docker_connect(struct src_docker *s, struct agent_ctx *ctx)
{
	uint64_t expirations;
	int fd, r;

	(void)!read(s->timer_fd, &expirations, sizeof(expirations));
	if (s->events_fd >= 0)
		return 0;
	/* Stream first, list second: an event between the two is then seen, not lost. */
	r = docker_events_open(s->client, &fd);
	if (r == 0)
		r = resync(s, ctx);
	if (r < 0) {
		const char *why = docker_client_last_error(s->client);

		docker_events_close(s->client);
		if (r == -EMSGSIZE)
			log_error("docker: %s (the limit is %u MiB): the container list cannot be "
				  "read, the last one stays enforced",
				  why, DOCKER_MAX_RESPONSE >> 20);
		else if (!s->ever_connected || s->backoff_ms >= BACKOFF_MAX_MS)
			log_warn("docker: cannot connect: %s; retrying",
				 why && *why ? why : strerror(-r));
		schedule_retry(s);
		return 0;
	}
	s->events_fd = fd;
	s->fd_changed = true;
	s->events_seen = false;
	s->connected_at_ms = now_ms();
	log_info("docker: connected, %zu endpoints managed", inventory_count(ctx->inv));
	s->ever_connected = true;
	return 0;
}

static void on_event(const struct docker_event *ev, void *userdata)
{
	struct src_docker *s = userdata;
	struct agent_ctx *ctx = s->ctx;
	struct endpoint_set *eps = NULL;
	char owner[128];
	int r;

	s->events_seen = true;
	if (owner_of(ev->container_id, owner, sizeof(owner)) < 0)
		return;
	if (ev->kind != DOCKER_EVENT_DIE && ev->kind != DOCKER_EVENT_DESTROY) {
		eps = endpoint_set_new();
		if (!eps)
			return;
		r = docker_inspect_endpoints(s->client, ev->container_id, eps);
		if (r == -ENOENT) {
			endpoint_set_free(eps);
			eps = NULL;
		} else if (r < 0) {
			log_warn("docker: cannot inspect container %.12s: %s, ignoring",
				 ev->container_id, docker_client_last_error(s->client));
			endpoint_set_free(eps);
			return;
		}
		agent_resolve_bridges(ctx, eps);
	}
	r = inventory_set(ctx->inv, owner, eps, ctx->rc);
	if (r > 0)
		log_info("docker: container %.12s%s%s: %s", ev->container_id, ev->name ? " " : "",
			 ev->name ? ev->name : "", eps && eps->n ? "managed" : "released");
	else if (r < 0)
		log_warn("docker: container %.12s: %s, ignoring", ev->container_id, strerror(-r));
}

int src_docker_read(struct src_docker *s, struct agent_ctx *ctx)
{
	int r;

	s->ctx = ctx;
	r = docker_events_read(s->client, on_event, s);
	s->ctx = NULL;
	if (r == -EAGAIN || r == 0)
		return 0;
	/* The client's error carries the daemon's own message and the HTTP status. */
	disconnect(s, *docker_client_last_error(s->client) ? docker_client_last_error(s->client)
							   : strerror(-r));
	return 0;
}
