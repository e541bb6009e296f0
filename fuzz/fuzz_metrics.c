/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the metrics endpoint's request handling (agent/metrics.c): the input
 * is the request head as the server hands it over (everything before "\r\n\r\n", NUL-
 * terminated), answered by metrics_http_respond(). The answer must be a complete HTTP/1.0
 * response whose Content-Length matches its body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "metrics.h"

static json_t *build_status(void *ud)
{
	(void)ud;
	return json_pack("{s:s, s:{s:i, s:i}}", "version", "fuzz", "counts", "endpoints", 2,
			 "groups", 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *req, *reply, *body;
	size_t len = 0, clen;

	if (size > 8192)
		return 0;
	req = malloc(size + 1);
	if (!req)
		return 0;
	memcpy(req, data, size);
	req[size] = '\0';
	reply = metrics_http_respond(req, build_status, NULL, &len);
	if (reply) {
		body = strstr(reply, "\r\n\r\n");
		if (strncmp(reply, "HTTP/1.0 ", 9) != 0 || !body ||
		    !strstr(reply, "Content-Length: ") ||
		    sscanf(strstr(reply, "Content-Length: "), "Content-Length: %zu", &clen) != 1 ||
		    clen != len - (size_t)(body + 4 - reply))
			abort();
	}
	free(reply);
	free(req);
	return 0;
}
