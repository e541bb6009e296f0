/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_HTTP_H
#define NETSEG_HTTP_H

/*
 * Non-blocking HTTP on libcurl's multi interface, driven from the agent's epoll loop: curl's
 * sockets and its timer live in one private epoll set whose fd the agent watches, so a
 * request never blocks the loop. Bodies are bounded; a streaming request hands its bytes to a
 * callback as they come instead of collecting them.
 */

#include <stddef.h>

struct http;
struct http_req;

/* The request ended: RESULT 0 with the HTTP STATUS and the collected BODY (NUL-terminated,
 * empty for a streaming request), or -errno (-ETIMEDOUT, -ECONNREFUSED, -EMSGSIZE when the body
 * exceeded its bound, -EIO otherwise) with ERR saying why in one line. The request is freed
 * after this returns. */
typedef void (*http_done_fn)(int result, long status, const char *body, size_t len, const char *err,
			     void *ud);
/* Bytes of a streaming response; a negative return aborts the request (done gets it). */
typedef int (*http_data_fn)(const char *data, size_t len, void *ud);

struct http_opts {
	const char *url;
	const char *body; /* POSTed as application/json; NULL: GET */
	size_t max_body;  /* bound on the collected response */
	long timeout_ms;  /* whole request; 0: none (streams) */
	http_data_fn data;
	http_done_fn done;
	void *ud;
};

int http_new(struct http **ret);
/* Cancels every request in flight without calling their done callbacks. NULL ok. */
void http_free(struct http *h);
int http_fd(const struct http *h);
/* Does what is due: socket readiness, timers, finished requests (their callbacks run here). */
int http_dispatch(struct http *h);
int http_start(struct http *h, const struct http_opts *o, struct http_req **ret);
/* Ends REQ without calling its done callback. NULL ok. */
void http_cancel(struct http *h, struct http_req *req);

/* The one-shot CLI commands' blocking POST (never used by the agent's loop). */
int http_post_blocking(const char *url, const char *body, size_t max_body, long timeout_ms,
		       long *ret_status, char **ret_body, char *err, size_t errlen);

#endif
