/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "docker_http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void docker_http_init(struct docker_http *h, size_t max_body)
{
	memset(h, 0, sizeof(*h));
	h->state = DOCKER_HTTP_STATUS;
	h->max_body = max_body;
}

void docker_http_release(struct docker_http *h)
{
	if (!h)
		return;
	free(h->body);
	h->body = NULL;
	h->body_len = h->body_cap = 0;
}

bool docker_http_done(const struct docker_http *h)
{
	return h->state == DOCKER_HTTP_DONE;
}

bool docker_http_have_headers(const struct docker_http *h)
{
	return h->state != DOCKER_HTTP_STATUS && h->state != DOCKER_HTTP_HEADERS;
}

void docker_http_consume(struct docker_http *h, size_t n)
{
	if (n >= h->body_len) {
		h->body_len = 0;
	} else {
		memmove(h->body, h->body + n, h->body_len - n);
		h->body_len -= n;
	}
	if (h->body)
		h->body[h->body_len] = '\0';
}

static int body_append(struct docker_http *h, const char *data, size_t n)
{
	if (n > h->max_body || h->body_len > h->max_body - n)
		return -EMSGSIZE;
	if (h->body_len + n + 1 > h->body_cap) {
		size_t cap = h->body_cap ? h->body_cap : 4096;
		char *p;

		while (cap < h->body_len + n + 1)
			cap *= 2;
		p = realloc(h->body, cap);
		if (!p)
			return -ENOMEM;
		h->body = p;
		h->body_cap = cap;
	}
	memcpy(h->body + h->body_len, data, n);
	h->body_len += n;
	h->body[h->body_len] = '\0';
	return 0;
}

/* Strict decimal: digits only, no sign, no overflow (a lenient parse invites smuggling). */
static int parse_u64_dec(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return -EBADMSG;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return 0;
}

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static void trim_ows_end(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

static int on_status_line(struct docker_http *h, char *line)
{
	/* "HTTP/1.x SP 3DIGIT [SP reason]" */
	if (strncmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ')
		return -EBADMSG;
	for (int i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return -EBADMSG;
	if (line[12] != '\0' && line[12] != ' ')
		return -EBADMSG;
	h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	if (h->status < 100)
		return -EBADMSG;
	h->chunked = false;
	h->length_seen = false;
	h->remaining = 0;
	h->state = DOCKER_HTTP_HEADERS;
	return 0;
}

static int end_of_headers(struct docker_http *h)
{
	if (h->status >= 100 && h->status < 200) {
		/* Interim response: the real one follows. */
		h->state = DOCKER_HTTP_STATUS;
		return 0;
	}
	/* Refuse an announced body over the cap before buffering any of it. */
	if (h->length_seen && !h->chunked && h->remaining > h->max_body)
		return -EMSGSIZE;
	if (h->status == 204 || h->status == 304)
		h->state = DOCKER_HTTP_DONE;
	else if (h->chunked)
		h->state = DOCKER_HTTP_CHUNK_SIZE;
	else if (h->length_seen)
		h->state = h->remaining ? DOCKER_HTTP_BODY_LENGTH : DOCKER_HTTP_DONE;
	else
		h->state = DOCKER_HTTP_BODY_EOF;
	return 0;
}

static int on_header_line(struct docker_http *h, char *line)
{
	char *colon, *value;

	if (!*line) {
		return end_of_headers(h);
	}
	/* Obsolete line folding and nameless headers have no business in Docker's replies. */
	if (line[0] == ' ' || line[0] == '\t')
		return -EBADMSG;
	colon = strchr(line, ':');
	if (!colon || colon == line)
		return -EBADMSG;
	*colon = '\0';
	value = (char *)skip_ows(colon + 1);
	trim_ows_end(value);

	if (strcasecmp(line, "Content-Length") == 0) {
		uint64_t v;
		int r = parse_u64_dec(value, &v);

		if (r < 0)
			return r;
		/* Two different lengths: which one frames the body is ambiguous. */
		if (h->length_seen && v != h->remaining)
			return -EBADMSG;
		h->remaining = v;
		h->length_seen = true;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		/* We send no TE header, so only "chunked" (possibly as a list "identity, chunked")
		 * can legitimately arrive; anything else we could not decode. */
		const char *last = strrchr(value, ',');

		last = last ? skip_ows(last + 1) : value;
		if (strcasecmp(last, "chunked") != 0)
			return -EBADMSG;
		h->chunked = true;
	}
	return 0;
}

static int parse_chunk_size(const char *line, uint64_t *ret)
{
	uint64_t v = 0;
	const char *s = line;

	if (!*s)
		return -EBADMSG;
	for (; *s && *s != ';' && *s != ' ' && *s != '\t'; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EBADMSG;
		if (v >> 60)
			return -EBADMSG;
		v = (v << 4) | (uint64_t)d;
	}
	if (s == line)
		return -EBADMSG;
	/* Chunk extensions (";name=value") carry nothing we use. */
	*ret = v;
	return 0;
}

static int on_line(struct docker_http *h, char *line)
{
	int r;

	switch (h->state) {
	case DOCKER_HTTP_STATUS:
		return on_status_line(h, line);
	case DOCKER_HTTP_HEADERS:
		return on_header_line(h, line);
	case DOCKER_HTTP_CHUNK_SIZE:
		r = parse_chunk_size(line, &h->remaining);
		if (r < 0)
			return r;
		h->state = h->remaining ? DOCKER_HTTP_CHUNK_DATA : DOCKER_HTTP_TRAILERS;
		return 0;
	case DOCKER_HTTP_CHUNK_CRLF:
		if (*line)
			return -EBADMSG;
		h->state = DOCKER_HTTP_CHUNK_SIZE;
		return 0;
	case DOCKER_HTTP_TRAILERS:
		if (!*line)
			h->state = DOCKER_HTTP_DONE;
		return 0;
	default:
		return -EBADMSG;
	}
}

static bool state_is_line(enum docker_http_state s)
{
	return s == DOCKER_HTTP_STATUS || s == DOCKER_HTTP_HEADERS || s == DOCKER_HTTP_CHUNK_SIZE ||
	       s == DOCKER_HTTP_CHUNK_CRLF || s == DOCKER_HTTP_TRAILERS;
}

int docker_http_feed(struct docker_http *h, const char *data, size_t len)
{
	while (len > 0 && h->state != DOCKER_HTTP_DONE) {
		if (state_is_line(h->state)) {
			const char *nl = memchr(data, '\n', len);
			size_t take = nl ? (size_t)(nl - data) + 1 : len;
			bool header = h->state == DOCKER_HTTP_STATUS ||
				      h->state == DOCKER_HTTP_HEADERS ||
				      h->state == DOCKER_HTTP_TRAILERS;
			int r;

			if (h->line_len + take >= sizeof(h->line))
				return -EMSGSIZE;
			if (header) {
				h->header_bytes += take;
				if (h->header_bytes > DOCKER_HTTP_HEADERS_MAX)
					return -EMSGSIZE;
			}
			memcpy(h->line + h->line_len, data, take);
			h->line_len += take;
			data += take;
			len -= take;
			if (!nl)
				return 0;
			/* Strip "\n" and an optional "\r" before it. */
			h->line_len--;
			if (h->line_len > 0 && h->line[h->line_len - 1] == '\r')
				h->line_len--;
			h->line[h->line_len] = '\0';
			if (memchr(h->line, '\0', h->line_len))
				return -EBADMSG;
			h->line_len = 0;
			r = on_line(h, h->line);
			if (r < 0)
				return r;
		} else {
			size_t take = len;
			int r;

			if (h->state != DOCKER_HTTP_BODY_EOF && take > h->remaining)
				take = (size_t)h->remaining;
			r = body_append(h, data, take);
			if (r < 0)
				return r;
			data += take;
			len -= take;
			if (h->state == DOCKER_HTTP_BODY_EOF)
				continue;
			h->remaining -= take;
			if (h->remaining == 0)
				h->state = h->state == DOCKER_HTTP_CHUNK_DATA
					       ? DOCKER_HTTP_CHUNK_CRLF
					       : DOCKER_HTTP_DONE;
		}
	}
	return 0;
}

int docker_http_eof(struct docker_http *h)
{
	if (h->state == DOCKER_HTTP_BODY_EOF) {
		h->state = DOCKER_HTTP_DONE;
		return 0;
	}
	return h->state == DOCKER_HTTP_DONE ? 0 : -ECONNRESET;
}
