/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_DOCKER_HTTP_H
#define NETSEG_DOCKER_HTTP_H

/*
 * Incremental HTTP/1.1 response framing for the Docker client: status line, headers, and a
 * body delimited by Content-Length, chunked transfer coding, or the end of the connection.
 * Bytes go in as they arrive from a (possibly non-blocking) socket, in pieces of any size;
 * the decoded body accumulates in a buffer the caller reads and trims. No I/O here, so tests
 * and fuzzers can feed it any byte sequence.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOCKER_HTTP_LINE_MAX	8192	    /* one status, header or chunk-size line */
#define DOCKER_HTTP_HEADERS_MAX (64 * 1024) /* all header lines together */

enum docker_http_state {
	DOCKER_HTTP_STATUS,
	DOCKER_HTTP_HEADERS,
	DOCKER_HTTP_BODY_LENGTH, /* Content-Length */
	DOCKER_HTTP_BODY_EOF,	 /* neither: the body ends with the connection */
	DOCKER_HTTP_CHUNK_SIZE,
	DOCKER_HTTP_CHUNK_DATA,
	DOCKER_HTTP_CHUNK_CRLF,
	DOCKER_HTTP_TRAILERS,
	DOCKER_HTTP_DONE,
};

struct docker_http {
	enum docker_http_state state;
	int status; /* valid once the status line is in */
	bool chunked;
	bool length_seen;   /* a Content-Length header was seen */
	uint64_t remaining; /* body bytes (Content-Length) or bytes of the current chunk */
	size_t max_body;    /* cap on buffered, not yet consumed body bytes */
	size_t header_bytes;
	char line[DOCKER_HTTP_LINE_MAX];
	size_t line_len;
	char *body; /* decoded body; NUL-terminated for convenience */
	size_t body_len, body_cap;
};

/* MAX_BODY caps the body bytes buffered at any time (the caller trims with _consume). */
void docker_http_init(struct docker_http *h, size_t max_body);
/* Frees the body buffer; the struct can be initialised again. Accepts NULL. */
void docker_http_release(struct docker_http *h);

/*
 * Feeds LEN received bytes. 0 on success (more may be needed, see docker_http_done()),
 * -EBADMSG on malformed framing, -EMSGSIZE when a limit would be exceeded, -ENOMEM.
 * Bytes after the end of the response are ignored (we never pipeline requests).
 */
int docker_http_feed(struct docker_http *h, const char *data, size_t len);
/*
 * The peer closed the connection. 0 if that completes the response (a body delimited by
 * the end of the connection), -ECONNRESET if the response was cut short.
 */
int docker_http_eof(struct docker_http *h);

bool docker_http_done(const struct docker_http *h);
/* Whether the status line and headers are complete, i.e. status and framing are known. */
bool docker_http_have_headers(const struct docker_http *h);
/* Drops the first N bytes of the decoded body (N <= body_len). */
void docker_http_consume(struct docker_http *h, size_t n);

#endif
