/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cluster source's connection to etcd: lease, full read, watch from the read's revision,
 * keepalives, reconnects with backoff. Nothing here blocks: every request goes through
 * http.c on the source's own epoll set, whose fd is in the agent's loop. While etcd is away
 * nothing in the inventory changes: the agent keeps enforcing the last state it knew.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cluster_int.h"
#include "log.h"
#include "util.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 2000
#define REQ_TIMEOUT_MS 5000
#define READ_PAGE      5000 /* keys per range request: each answer stays small and quick */

static void read_start(struct src_cluster *s);
static void grant_start(struct src_cluster *s);

/* The timer fires at the nearest of the retry and the keepalive. */
void cluster_arm(struct src_cluster *s)
{
	uint64_t due = s->retry_at;
	struct itimerspec its = {0};

	if (s->keepalive_at && (!due || s->keepalive_at < due))
		due = s->keepalive_at;
	if (due) {
		uint64_t now = (uint64_t)now_usec(), d = due > now ? due - now : 1;

		its.it_value.tv_sec = (time_t)(d / 1000000);
		its.it_value.tv_nsec = (long)(d % 1000000) * 1000;
	}
	(void)timerfd_settime(s->timerfd, 0, &its, NULL);
}

int cluster_post(struct src_cluster *s, const char *path, json_t *body, size_t max,
		 http_done_fn done, struct http_req **ret)
{
	char url[1024], *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct http_opts o = {.url = url,
			      .body = text,
			      .max_body = max,
			      .timeout_ms = REQ_TIMEOUT_MS,
			      .done = done,
			      .ud = s};
	int r;

	json_decref(body);
	if (!text)
		return -ENOMEM;
	snprintf(url, sizeof(url), "%s%s", s->urls[s->cur], path);
	r = http_start(s->http, &o, ret);
	free(text);
	return r;
}

/* etcd went away (or answered nonsense): drop every request, keep the inventory as it is,
 * try again (the next URL) after a backoff. */
void cluster_lost(struct src_cluster *s, const char *why)
{
	struct http_req **reqs[] = {&s->req, &s->watch, &s->ka, &s->pub, &s->st};

	for (size_t i = 0; i < ARRAY_SIZE(reqs); i++) {
		http_cancel(s->http, *reqs[i]);
		*reqs[i] = NULL;
	}
	cluster_pubs_free(s->sending, s->nsending);
	s->sending = NULL;
	s->nsending = 0;
	json_decref(s->pending_ops);
	s->pending_ops = NULL;
	etcd_stream_clear(&s->stream);
	etcd_range_clear(&s->reading);
	if (s->connected || s->backoff_ms == BACKOFF_MIN_MS)
		log_warn("cluster: %s: %s; keeping the last known state, reconnecting",
			 s->urls[s->cur], why);
	s->connected = false;
	s->cur = (s->cur + 1) % s->nurls;
	s->retry_at = (uint64_t)now_usec() + (uint64_t)s->backoff_ms * 1000;
	s->keepalive_at = 0;
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
	cluster_arm(s);
}

/* --- the watch ------------------------------------------------------------------------- */

static int watch_msg(const char *msg, size_t len, void *ud)
{
	struct src_cluster *s = ud;
	struct etcd_watch_msg m;
	char err[256];
	int r = etcd_decode_watch(msg, len, &m, err, sizeof(err));

	if (r < 0) {
		log_warn("cluster: watch: %s, ignoring", err);
		return r == -ENOMEM ? r : 0;
	}
	if (m.canceled) {
		if (m.compact_revision > 0)
			log_warn("cluster: the watch from revision %" PRId64
				 " was compacted (at %" PRId64 "); reading everything again",
				 s->rev + 1, m.compact_revision);
		else
			log_warn("cluster: etcd canceled the watch; reading everything again");
		s->resync = true;
	} else if (m.hdr.cluster_id && m.hdr.cluster_id != s->cluster_id) {
		log_warn("cluster: etcd's cluster id changed; reading everything again");
		s->resync = true;
	}
	for (size_t i = 0; !s->resync && i < m.n; i++)
		if (cluster_apply_event(s, &m.events[i]) > 0)
			s->resync = true;
	if (!s->resync && m.hdr.revision > s->rev)
		s->rev = m.hdr.revision;
	etcd_watch_msg_clear(&m);
	/* Ending the stream from here: its done callback reads everything again. */
	return s->resync ? -ECANCELED : 0;
}

static int watch_data(const char *data, size_t len, void *ud)
{
	struct src_cluster *s = ud;
	int r = etcd_stream_feed(&s->stream, data, len, watch_msg, s);

	return r == -ECANCELED ? r
	       : r < 0	       ? (log_warn("cluster: watch stream: %s", strerror(-r)), r)
			       : 0;
}

static void watch_done(int result, long status, const char *body, size_t len, const char *err,
		       void *ud)
{
	struct src_cluster *s = ud;
	char why[300];

	(void)body;
	(void)len;
	s->watch = NULL;
	etcd_stream_clear(&s->stream);
	if (s->resync) {
		s->resync = false;
		read_start(s);
		return;
	}
	snprintf(why, sizeof(why), "watch ended (%s)",
		 result < 0	 ? err
		 : status != 200 ? "HTTP error"
				 : "stream closed");
	cluster_lost(s, why);
}

static void watch_start(struct src_cluster *s)
{
	json_t *cr = etcd_req_range_prefix(CLUSTER_KEY_ROOT, 0);
	char url[1024], *text;
	struct http_opts o = {
	    .url = url, .data = watch_data, .done = watch_done, .ud = s, .max_body = 0};

	json_t *req;

	json_object_set_new(cr, "start_revision", json_integer(s->rev + 1));
	req = json_pack("{s:o}", "create_request", cr);
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	o.body = text;
	snprintf(url, sizeof(url), "%s/v3/watch", s->urls[s->cur]);
	if (!text || http_start(s->http, &o, &s->watch) < 0)
		cluster_lost(s, "cannot start the watch");
	free(text);
}

/* --- lease and full read ---------------------------------------------------------------- */

static void read_page(struct src_cluster *s, const char *from);

/* Appends the page RG's key-values to the read being gathered (taken over). */
static int read_gather(struct src_cluster *s, struct etcd_range *rg)
{
	struct etcd_range *acc = &s->reading;
	size_t cap = acc->n;

	if (!rg->n)
		return 0;
	if (GROW(acc->kvs, cap, acc->n + rg->n, 1024) < 0)
		return -ENOMEM;
	memcpy(acc->kvs + acc->n, rg->kvs, rg->n * sizeof(*rg->kvs));
	acc->n += rg->n;
	free(rg->kvs);
	rg->kvs = NULL;
	rg->n = 0;
	return 0;
}

static void read_done(int result, long status, const char *body, size_t len, const char *err,
		      void *ud)
{
	struct src_cluster *s = ud;
	struct etcd_range rg;
	char why[300];
	int r;

	s->req = NULL;
	if (result < 0 || status != 200) {
		snprintf(why, sizeof(why), "read failed (%s)", result < 0 ? err : "HTTP error");
		cluster_lost(s, why);
		return;
	}
	if ((r = etcd_decode_range(body, len, &rg, why, sizeof(why))) < 0) {
		cluster_lost(s, why);
		return;
	}
	if (!s->reading.hdr.revision)
		s->reading.hdr = rg.hdr;
	if ((r = read_gather(s, &rg)) == 0 && rg.more && s->reading.n) {
		/* The next page, at the first page's revision: one consistent snapshot. */
		etcd_range_clear(&rg);
		read_page(s, s->reading.kvs[s->reading.n - 1].key);
		return;
	}
	etcd_range_clear(&rg);
	if (s->cluster_id && s->reading.hdr.cluster_id != s->cluster_id)
		log_warn("cluster: etcd's cluster id changed; everything re-read");
	s->cluster_id = s->reading.hdr.cluster_id;
	s->rev = s->reading.hdr.revision;
	if (r == 0)
		r = cluster_apply_range(s, &s->reading);
	etcd_range_clear(&s->reading);
	if (r < 0) {
		cluster_lost(s, strerror(-r));
		return;
	}
	if (!s->connected)
		log_info("cluster: connected to %s as node %s (revision %" PRId64 ")",
			 s->urls[s->cur], s->node, s->rev);
	s->connected = s->synced = true;
	s->backoff_ms = BACKOFF_MIN_MS;
	s->keepalive_at = (uint64_t)now_usec() + (uint64_t)s->ttl * 1000000 / 3;
	cluster_arm(s);
	watch_start(s);
	cluster_publish(s);
	cluster_publish_status(s);
}

/* One page of the prefix, from just after key FROM (NULL: the start). */
static void read_page(struct src_cluster *s, const char *from)
{
	json_t *req = etcd_req_range_prefix(CLUSTER_KEY_ROOT, s->reading.hdr.revision);

	if (req && from) {
		size_t n = strlen(from);
		char *next = malloc(n + 1), *b64;

		/* The smallest key after FROM: FROM followed by a NUL byte. */
		if (next)
			memcpy(next, from, n + 1);
		b64 = next ? etcd_b64_encode(next, n + 1) : NULL;
		json_object_set_new(req, "key", b64 ? json_string(b64) : NULL);
		free(next);
		free(b64);
	}
	json_object_set_new(req, "limit", json_integer(READ_PAGE));
	if (!req || cluster_post(s, "/v3/kv/range", req, ETCD_MAX_ANSWER, read_done, &s->req) < 0)
		cluster_lost(s, "cannot start the read");
}

static void read_start(struct src_cluster *s)
{
	etcd_range_clear(&s->reading);
	read_page(s, NULL);
}

static void lease_answer(struct src_cluster *s, bool grant, int result, long status,
			 const char *body, size_t len, const char *err)
{
	int64_t id = 0, ttl = 0;
	char why[300];

	if (result < 0 || status != 200 ||
	    etcd_decode_lease(body, len, &id, &ttl, why, sizeof(why)) < 0) {
		snprintf(why, sizeof(why), "lease %s failed (%s)", grant ? "grant" : "keepalive",
			 result < 0 ? err : "bad answer");
		cluster_lost(s, why);
		return;
	}
	if (!grant && id != s->lease)
		return; /* about a lease we already replaced */
	if (!grant && ttl <= 0) {
		/* Expired while we could not reach etcd: our keys are gone, write them again on
		 * a new lease. */
		cluster_lease_lost(s);
		return;
	}
	if (grant) {
		s->lease = id;
		s->republish_all = true;
		log_debug("cluster: lease %" PRId64 " granted (%" PRId64 " s)", id, ttl);
		if (s->connected) {
			cluster_publish(s);
			return;
		}
	}
	if (!s->connected && !s->req)
		read_start(s);
}

static void grant_done(int result, long status, const char *body, size_t len, const char *err,
		       void *ud)
{
	struct src_cluster *s = ud;

	s->req = NULL;
	lease_answer(s, true, result, status, body, len, err);
}

static void keepalive_done(int result, long status, const char *body, size_t len, const char *err,
			   void *ud)
{
	struct src_cluster *s = ud;

	s->ka = NULL;
	lease_answer(s, false, result, status, body, len, err);
}

void cluster_lease_lost(struct src_cluster *s)
{
	log_warn("cluster: lease %" PRId64 " expired; publishing again", s->lease);
	s->lease = 0;
	if (!s->req)
		grant_start(s);
}

static void grant_start(struct src_cluster *s)
{
	if (cluster_post(s, "/v3/lease/grant", json_pack("{s:i}", "TTL", s->ttl), 4096, grant_done,
			 &s->req) < 0)
		cluster_lost(s, "cannot start the lease grant");
}

static void keepalive_start(struct src_cluster *s)
{
	if (s->ka)
		return;
	if (cluster_post(s, "/v3/lease/keepalive", json_pack("{s:I}", "ID", (json_int_t)s->lease),
			 4096, keepalive_done, &s->ka) < 0)
		cluster_lost(s, "cannot start the keepalive");
}

/* (Re)connects on a new lease: the first publish after the read moves every key of ours to
 * it in one transaction, so whether the old lease lapsed meanwhile does not matter (it
 * expires holding nothing). */
static void connect_start(struct src_cluster *s)
{
	s->retry_at = 0;
	s->lease = 0;
	grant_start(s);
}

/* --- the source ------------------------------------------------------------------------- */

int src_cluster_open(const char *urls, const char *node, int ttl_s,
		     const struct src_cluster_hooks *hooks, struct src_cluster **ret)
{
	struct src_cluster *s = calloc(1, sizeof(*s));
	struct epoll_event ev = {.events = EPOLLIN};
	char *list = strdup(urls), *save = NULL;
	int r = -ENOMEM;

	if (!s || !list)
		goto fail;
	s->epfd = s->timerfd = -1;
	s->ttl = ttl_s;
	s->hooks = *hooks;
	s->backoff_ms = BACKOFF_MIN_MS;
	for (char *u = strtok_r(list, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
		char **n = realloc(s->urls, (s->nurls + 1) * sizeof(*n));

		if (!n)
			goto fail;
		s->urls = n;
		/* "host:port" is an http:// URL; a trailing slash is dropped. */
		if (asprintf(&s->urls[s->nurls], "%s%s", strstr(u, "://") ? "" : "http://", u) < 0)
			goto fail;
		size_t l = strlen(s->urls[s->nurls]);
		if (l && s->urls[s->nurls][l - 1] == '/')
			s->urls[s->nurls][l - 1] = '\0';
		s->nurls++;
	}
	r = -EINVAL;
	if (!s->nurls || !(s->node = strdup(node)))
		goto fail;
	if ((r = http_new(&s->http)) < 0)
		goto fail;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ev.data.u32 = 1;
	if (s->epfd < 0 || s->timerfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->timerfd, &ev) < 0)
		goto errno_fail;
	ev.data.u32 = 2;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, http_fd(s->http), &ev) < 0)
		goto errno_fail;
	free(list);
	*ret = s;
	return 0;
errno_fail:
	r = -errno;
fail:
	free(list);
	src_cluster_free(s);
	return r;
}

void src_cluster_free(struct src_cluster *s)
{
	if (!s)
		return;
	http_free(s->http); /* cancels what is in flight, without callbacks */
	etcd_range_clear(&s->reading);
	etcd_stream_clear(&s->stream);
	cluster_nodes_clear(s);
	cluster_pubs_free(s->pubs, s->npubs);
	cluster_pubs_free(s->sending, s->nsending);
	for (size_t i = 0; i < s->nurls; i++)
		free(s->urls[i]);
	free(s->urls);
	free(s->node);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->timerfd >= 0)
		close(s->timerfd);
	free(s);
}

int src_cluster_fd(const struct src_cluster *s)
{
	return s->epfd;
}

static void on_timer(struct src_cluster *s)
{
	uint64_t now = (uint64_t)now_usec(), x;

	(void)!read(s->timerfd, &x, sizeof(x));
	if (s->retry_at && s->retry_at <= now)
		connect_start(s);
	if (s->keepalive_at && s->keepalive_at <= now) {
		s->keepalive_at = now + (uint64_t)s->ttl * 1000000 / 3;
		if (s->connected && s->lease)
			keepalive_start(s);
	}
	cluster_arm(s);
}

int src_cluster_dispatch(struct src_cluster *s, struct agent_ctx *ctx)
{
	struct epoll_event evs[4];
	int n;

	s->ctx = ctx;
	n = epoll_wait(s->epfd, evs, 4, 0);
	for (int i = 0; i < n; i++)
		if (evs[i].data.u32 == 1)
			on_timer(s);
	/* Always: curl may have work even when only our timer woke us. */
	return http_dispatch(s->http);
}

int src_cluster_start(struct src_cluster *s, struct agent_ctx *ctx, int timeout_ms)
{
	uint64_t end = (uint64_t)now_usec() + (uint64_t)timeout_ms * 1000;
	size_t seen = 0;

	s->ctx = ctx;
	connect_start(s);
	while (!s->synced && (uint64_t)now_usec() < end) {
		struct epoll_event ev;
		int left = (int)((end - (uint64_t)now_usec()) / 1000);

		if (epoll_wait(s->epfd, &ev, 1, left > 0 ? left : 1) < 0 && errno != EINTR)
			return -errno;
		(void)src_cluster_dispatch(s, ctx);
		/* A large cluster's read is still coming in: the first install waits for it
		 * rather than enforce without the other nodes' containers (they would count as
		 * world until then). */
		if (s->reading.n > seen) {
			seen = s->reading.n;
			end = (uint64_t)now_usec() + (uint64_t)timeout_ms * 1000;
		}
	}
	return s->synced ? 0 : -EAGAIN;
}

void src_cluster_local_changed(struct src_cluster *s)
{
	if (s->ctx && inventory_generation(s->ctx->inv) != s->local_gen) {
		s->local_gen = inventory_generation(s->ctx->inv);
		s->local_dirty = true;
		cluster_publish(s);
	}
}

void src_cluster_applied(struct src_cluster *s, int64_t revision)
{
	s->applied_rev = revision;
	s->status_dirty = true;
	cluster_publish_status(s);
}
