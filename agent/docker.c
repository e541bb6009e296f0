/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Docker client itself: its lifecycle, errors, skipped containers, URL escaping. */
#include "docker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "docker_int.h"
#include "util.h"
#include "veth_peer.h"

void dk_set_error(struct docker_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

const char *docker_client_last_error(const struct docker_client *c)
{
	return c ? c->error : "";
}

struct docker_client *docker_client_new(const char *socket_path)
{
	struct docker_client *c = calloc(1, sizeof(*c));
	int e;

	if (!c)
		return NULL;
	c->ev_fd = -1;
	c->host_ns_fd = -1;
	c->veth_peer = veth_host_peer;
	dk_req_init(&c->op.req);
	if (socket_path && strncmp(socket_path, "unix://", 7) == 0)
		socket_path += 7; /* DOCKER_HOST's spelling */
	c->socket_path = strdup(socket_path ? socket_path : DOCKER_DEFAULT_SOCKET);
	if (!c->socket_path) {
		e = ENOMEM;
		goto fail;
	}
	if (strlen(c->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		e = ENAMETOOLONG;
		goto fail;
	}
	/* Our namespace, held from the start: the way back from each container's namespace. */
	c->host_ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (c->host_ns_fd < 0) {
		e = errno;
		goto fail;
	}
	return c;
fail:
	docker_client_free(c);
	errno = e;
	return NULL;
}

void dk_skipped_clear(struct docker_client *c)
{
	for (size_t i = 0; i < c->nskipped; i++) {
		free(c->skipped[i].id);
		free(c->skipped[i].reason);
	}
	free(c->skipped);
	c->skipped = NULL;
	c->nskipped = 0;
}

/* Remembers why container ID was left out (the client's last error says it). */
int dk_skipped_add(struct docker_client *c, const char *id)
{
	struct docker_skip *v = realloc(c->skipped, (c->nskipped + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->skipped = v;
	v[c->nskipped].id = strdup(id);
	v[c->nskipped].reason = strdup(c->error[0] ? c->error : "unknown error");
	if (!v[c->nskipped].id || !v[c->nskipped].reason) {
		free(v[c->nskipped].id);
		free(v[c->nskipped].reason);
		return -ENOMEM;
	}
	c->nskipped++;
	return 0;
}

size_t docker_client_skipped(const struct docker_client *c, const struct docker_skip **ret)
{
	*ret = c->skipped;
	return c->nskipped;
}

void docker_client_free(struct docker_client *c)
{
	if (!c)
		return;
	c->ev_in_cb = false;
	docker_events_close(c);
	docker_op_cancel(c);
	dk_nets_clear(&c->nets);
	dk_skipped_clear(c);
	if (c->host_ns_fd >= 0)
		close(c->host_ns_fd);
	free(c->socket_path);
	free(c);
}

/* Path characters passed as they are; the rest is percent-encoded. */
static bool url_plain(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

char *dk_url_escape(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(len * 3 + 1), *p = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (url_plain(ch)) {
			*p++ = (char)ch;
		} else {
			sprintf(p, "%%%02X", ch);
			p += 3;
		}
	}
	*p = '\0';
	return out;
}

/* The "message" of Docker's error body, else the body itself, shortened to one line. */
void dk_describe_failure(struct docker_client *c, const char *path, int status, const char *body,
			 size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *msg =
	    json_is_object(j) ? json_string_value(json_object_get(j, "message")) : NULL;
	const char *src = msg ? msg : body;
	size_t srclen = msg ? strlen(msg) : len;
	char line[256];
	size_t i;

	if (srclen >= sizeof(line))
		srclen = sizeof(line) - 1;
	for (i = 0; i < srclen && src[i]; i++)
		line[i] = src[i] == '\n' || src[i] == '\r' || src[i] == '\t' ? ' ' : src[i];
	while (i > 0 && line[i - 1] == ' ')
		i--;
	line[i] = '\0';
	dk_set_error(c, "GET %s: HTTP %d%s%s", path, status, *line ? ": " : "", line);
	json_decref(j);
}

/* ---- JSON helpers: every field may be missing or of the wrong type ---- */

const char *dk_jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}
