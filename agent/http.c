/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct http_req {
	struct http *h;
	CURL *easy;
	struct curl_slist *headers;
	char *body; /* our copy of what is POSTed */
	struct http_opts o;
	char *buf;
	size_t len, cap;
	bool overflow, aborted;
	bool deferred; /* started from a data callback: added to the multi handle after it */
	char errbuf[CURL_ERROR_SIZE];
	struct http_req *prev, *next;
};

struct http {
	CURLM *multi;
	int epfd, timerfd;
	struct http_req *reqs;
	bool in_cb; /* in a data callback, where libcurl refuses curl_multi_add_handle() */
};

static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http *h = userp;
	struct epoll_event ev = {.data.fd = s};

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		/* The socket may be closed already; either way it is gone from the set. */
		(void)epoll_ctl(h->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, s, &ev) < 0 && errno == ENOENT)
		(void)epoll_ctl(h->epfd, EPOLL_CTL_ADD, s, &ev);
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;
	struct itimerspec its = {0};

	(void)multi;
	if (timeout_ms >= 0) {
		/* 0 means "now": the smallest non-zero expiry, since zero disarms. */
		its.it_value.tv_sec = timeout_ms / 1000;
		its.it_value.tv_nsec = (timeout_ms % 1000) * 1000000L + (timeout_ms ? 0 : 1);
	}
	return timerfd_settime(h->timerfd, 0, &its, NULL) < 0 ? -1 : 0;
}

int http_new(struct http **ret)
{
	static bool global_done;
	struct http *h = calloc(1, sizeof(*h));
	struct epoll_event ev = {.events = EPOLLIN};
	int r = -ENOMEM;

	if (!h)
		return -ENOMEM;
	h->epfd = h->timerfd = -1;
	if (!global_done && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto fail;
	global_done = true;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	h->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ev.data.fd = h->timerfd;
	if (h->epfd < 0 || h->timerfd < 0 ||
	    epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->timerfd, &ev) < 0) {
		r = -errno;
		goto fail;
	}
	if (!(h->multi = curl_multi_init()))
		goto fail;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	*ret = h;
	return 0;
fail:
	http_free(h);
	return r;
}

static void req_free(struct http_req *q)
{
	struct http *h = q->h;

	if (q->prev)
		q->prev->next = q->next;
	else
		h->reqs = q->next;
	if (q->next)
		q->next->prev = q->prev;
	curl_multi_remove_handle(h->multi, q->easy);
	curl_easy_cleanup(q->easy);
	curl_slist_free_all(q->headers);
	free(q->body);
	free(q->buf);
	free(q);
}

void http_free(struct http *h)
{
	if (!h)
		return;
	while (h->reqs)
		req_free(h->reqs);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	if (h->epfd >= 0)
		close(h->epfd);
	if (h->timerfd >= 0)
		close(h->timerfd);
	free(h);
}

int http_fd(const struct http *h)
{
	return h->epfd;
}

static size_t write_cb(char *data, size_t size, size_t n, void *ud)
{
	struct http_req *q = ud;
	size_t len = size * n;

	if (q->o.data) {
		int r;

		q->h->in_cb = true;
		r = q->o.data(data, len, q->o.ud);
		q->h->in_cb = false;
		if (r < 0) {
			q->aborted = true;
			return 0;
		}
		return len;
	}
	if (!len)
		return 0;
	if (q->len + len > q->o.max_body) {
		q->overflow = true;
		return 0;
	}
	if (q->len + len + 1 > q->cap) {
		size_t cap = (q->len + len + 1) * 2;
		char *b = realloc(q->buf, cap < q->o.max_body + 1 ? cap : q->o.max_body + 1);

		if (!b)
			return 0;
		q->buf = b;
		q->cap = cap < q->o.max_body + 1 ? cap : q->o.max_body + 1;
	}
	memcpy(q->buf + q->len, data, len);
	q->len += len;
	q->buf[q->len] = '\0';
	return len;
}

/* Options both the loop's and the CLI's requests share. */
static struct curl_slist *easy_setup(CURL *e, const char *url, const char *body, long timeout_ms,
				     char *errbuf)
{
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 2L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hd);
	if (body)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	return hd;
}

int http_start(struct http *h, const struct http_opts *o, struct http_req **ret)
{
	struct http_req *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->h = h;
	q->o = *o;
	if (!(q->easy = curl_easy_init()) || (o->body && !(q->body = strdup(o->body)))) {
		curl_easy_cleanup(q->easy);
		free(q);
		return -ENOMEM;
	}
	q->headers = easy_setup(q->easy, o->url, q->body, o->timeout_ms, q->errbuf);
	curl_easy_setopt(q->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(q->easy, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(q->easy, CURLOPT_PRIVATE, q);
	q->next = h->reqs;
	if (h->reqs)
		h->reqs->prev = q;
	h->reqs = q;
	if (h->in_cb) {
		q->deferred = true;
	} else if (curl_multi_add_handle(h->multi, q->easy) != CURLM_OK) {
		req_free(q);
		return -ENOMEM;
	}
	if (ret)
		*ret = q;
	return 0;
}

void http_cancel(struct http *h, struct http_req *req)
{
	(void)h;
	if (req)
		req_free(req);
}

static int curl_errno(CURLcode c, bool overflow)
{
	switch (c) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_WRITE_ERROR:
		return overflow ? -EMSGSIZE : -ECANCELED;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static void finish(struct http *h, CURL *easy, CURLcode code)
{
	struct http_req *q = NULL;
	long status = 0;
	char err[CURL_ERROR_SIZE + 64];
	int r;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&q);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	r = curl_errno(code, q->overflow);
	if (q->overflow)
		snprintf(err, sizeof(err), "response larger than %zu bytes", q->o.max_body);
	else
		snprintf(err, sizeof(err), "%s",
			 q->errbuf[0] ? q->errbuf : curl_easy_strerror(code));
	(void)h;
	if (q->o.done)
		q->o.done(r, status, q->buf ? q->buf : "", q->len, err, q->o.ud);
	req_free(q);
}

int http_dispatch(struct http *h)
{
	struct epoll_event evs[32];
	int n = epoll_wait(h->epfd, evs, 32, 0), running, left;
	CURLMsg *m;

	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd, flags = 0;

		if (fd == h->timerfd) {
			uint64_t x;

			(void)!read(h->timerfd, &x, sizeof(x));
			curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
			continue;
		}
		flags |= evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0;
		flags |= evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0;
		flags |= evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0;
		curl_multi_socket_action(h->multi, fd, flags, &running);
	}
	for (struct http_req *q = h->reqs, *next; q; q = next) {
		next = q->next;
		if (q->deferred && curl_multi_add_handle(h->multi, q->easy) == CURLM_OK)
			q->deferred = false;
	}
	/* A done callback may start or cancel requests: read one message at a time. */
	while ((m = curl_multi_info_read(h->multi, &left)))
		if (m->msg == CURLMSG_DONE)
			finish(h, m->easy_handle, m->data.result);
	return n < 0 ? -errno : 0;
}

int http_post_blocking(const char *url, const char *body, size_t max_body, long timeout_ms,
		       long *ret_status, char **ret_body, char *err, size_t errlen)
{
	struct http_req q = {.o = {.max_body = max_body}};
	struct curl_slist *hd;
	CURLcode c;
	int r;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(q.easy = curl_easy_init()))
		return -ENOMEM;
	hd = easy_setup(q.easy, url, body, timeout_ms, q.errbuf);
	curl_easy_setopt(q.easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(q.easy, CURLOPT_WRITEDATA, &q);
	c = curl_easy_perform(q.easy);
	r = curl_errno(c, q.overflow);
	if (r == 0) {
		curl_easy_getinfo(q.easy, CURLINFO_RESPONSE_CODE, ret_status);
		*ret_body = q.buf ? q.buf : strdup("");
		q.buf = NULL;
		if (!*ret_body)
			r = -ENOMEM;
	} else {
		snprintf(err, errlen, "%s",
			 q.overflow    ? "response too large"
			 : q.errbuf[0] ? q.errbuf
				       : curl_easy_strerror(c));
	}
	free(q.buf);
	curl_slist_free_all(hd);
	curl_easy_cleanup(q.easy);
	return r;
}
