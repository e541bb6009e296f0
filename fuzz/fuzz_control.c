/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the request side of the agent's one-request servers (agent/control.c):
 * a real listening unix socket served by control_process(), a client that connects, sends the
 * input and shuts its side down, and reads whatever comes back. Byte 0 picks the server: even,
 * the control socket's framing ("\n", 256 bytes, peer check); odd, the metrics endpoint's
 * ("\r\n\r\n", 8 KiB) answered by metrics_http_respond() as the agent does.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "control.h"
#include "metrics.h"

/* The control socket's answer: whatever the agent says, the request reaches it whole. */
static char *respond_line(const char *request, size_t *ret_len, void *ud)
{
	char *out = NULL;
	int n;

	(void)ud;
	if (strchr(request, '\n'))
		abort(); /* the terminator is not part of the request */
	n = asprintf(&out, "{\"request\": %zu}\n", strlen(request));
	if (n < 0)
		return NULL;
	*ret_len = (size_t)n;
	return out;
}

static json_t *build_status(void *ud)
{
	(void)ud;
	return json_pack("{s:s, s:{s:i}}", "version", "fuzz", "counts", "endpoints", 1);
}

static char *respond_http(const char *request, size_t *ret_len, void *ud)
{
	return metrics_http_respond(request, build_status, ud, ret_len);
}

static struct control *server(bool metrics, struct sockaddr_un *ret_sa)
{
	static struct control *srv[2];
	static struct sockaddr_un sa[2];
	struct control_ops ops = metrics ? (struct control_ops){.terminator = "\r\n\r\n",
								.max_request = 8192,
								.respond = respond_http}
					 : (struct control_ops){.terminator = "\n",
								.max_request = 256,
								.check_peer = true,
								.respond = respond_line};
	int i = metrics, fd;

	if (!srv[i]) {
		/* An abstract name: nothing in the file system to clean up. */
		sa[i].sun_family = AF_UNIX;
		snprintf(sa[i].sun_path + 1, sizeof(sa[i].sun_path) - 1, "netseg-fuzz-%d-%d",
			 (int)getpid(), i);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa[i], sizeof(sa[i])) < 0 ||
		    listen(fd, CONTROL_BACKLOG) < 0 || control_open_fd(fd, &ops, &srv[i]) < 0)
			abort();
	}
	*ret_sa = sa[i];
	return srv[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sa;
	struct control *c;
	char buf[4096];
	bool eof = false;
	int fd;

	if (size < 1 || size > 16384)
		return 0;
	c = server(data[0] & 1, &sa);
	data++;
	size--;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	(void)control_process(c); /* accepts */
	while (size > 0) {
		ssize_t n = send(fd, data, size, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		data += n;
		size -= (size_t)n;
		(void)control_process(c);
	}
	shutdown(fd, SHUT_WR);
	/* Until the server has closed its side: a request, an answer, or an early hang-up. */
	for (int round = 0; round < 64 && !eof; round++) {
		ssize_t n;

		(void)control_process(c);
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
			;
		eof = n == 0 || (n < 0 && errno != EAGAIN);
	}
	if (!eof)
		abort(); /* the server kept a client that had said all it would */
	close(fd);
	return 0;
}
