/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The client side of the control socket: `netseg status`, `netseg why --agent`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

#define CONTROL_MAX_REPLY (64u << 20) /* a status of 100k endpoints is well below */

int control_ask(const char *path, const char *request, char **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 5};
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, request, strlen(request), MSG_NOSIGNAL) != (ssize_t)strlen(request)) {
		r = -errno;
		goto out;
	}
	for (;;) {
		char *nb = realloc(buf, len + 65536 + 1);
		ssize_t n;

		if (!nb) {
			r = -ENOMEM;
			goto out;
		}
		buf = nb;
		n = read(fd, buf + len, 65536);
		if (n < 0) {
			r = errno == EAGAIN ? -ETIMEDOUT : -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONTROL_MAX_REPLY) {
			r = -EMSGSIZE;
			goto out;
		}
	}
	buf[len] = '\0';
	*ret = buf;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}
