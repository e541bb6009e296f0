/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the Docker client's HTTP/1.1 response framing (agent/docker_http.c):
 * status line, headers, Content-Length, chunked coding, trailers, a body to the end of the
 * connection. Byte 0 seeds how the rest is cut into the pieces a socket would deliver, and
 * whether the decoded body is consumed as it arrives (as the event stream does) or kept
 * whole (as a GET does, against a small cap so -EMSGSIZE is reachable).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "docker_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct docker_http *h;
	uint32_t rnd;
	bool stream;
	int r = 0;

	if (size < 1)
		return 0;
	rnd = data[0] * 2654435761u;
	stream = data[0] & 1;
	data++;
	size--;
	/* The struct holds an 8 KiB line buffer: from the heap, so overruns are reported. */
	h = malloc(sizeof(*h));
	if (!h)
		return 0;
	docker_http_init(h, stream ? 4096 : 65536);
	while (size > 0 && r == 0) {
		size_t n;

		rnd = rnd * 1103515245u + 12345u;
		n = 1 + (rnd >> 16) % 97;
		if (n > size)
			n = size;
		r = docker_http_feed(h, (const char *)data, n);
		data += n;
		size -= n;
		if (h->body_len > 0 && (!h->body || h->body[h->body_len] != '\0'))
			__builtin_trap(); /* the body is NUL-terminated for its readers */
		if (stream && h->body_len > 0)
			docker_http_consume(h, (rnd >> 8) % (h->body_len + 1));
		if (docker_http_done(h))
			break;
	}
	if (r == 0)
		(void)docker_http_eof(h);
	(void)docker_http_have_headers(h);
	docker_http_release(h);
	free(h);
	return 0;
}
