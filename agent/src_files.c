/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Endpoint files in a directory (--endpoints-dir), for runtimes other than Docker: a CNI
 * plugin writes one file per pod or container and removes it when it goes. Each file is an
 * inventory owner "file:PATH"; a file that fails to validate keeps its previous endpoints.
 */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "log.h"
#include "parse.h"

#define SRC_FILES_MAX 4096

struct src_files {
	char *dir;
	int fd;
};

int src_files_open(const char *dir, struct src_files **ret)
{
	struct src_files *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->dir = strdup(dir);
	s->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (!s->dir || s->fd < 0) {
		r = s->dir ? -errno : -ENOMEM;
		goto fail;
	}
	/* Not IN_CREATE: a file is read once its writer closed it or renamed it into place. */
	if (inotify_add_watch(s->fd, dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
				  IN_ONLYDIR) < 0) {
		r = -errno;
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	src_files_free(s);
	return r;
}

void src_files_free(struct src_files *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->dir);
	free(s);
}

int src_files_fd(const struct src_files *s)
{
	return s->fd;
}

static int load_file(struct src_files *s, const char *name, struct agent_ctx *ctx)
{
	char path[PATH_MAX + 8], owner[PATH_MAX + 16];
	struct diag_list *d = diag_list_new();
	struct endpoint_set *eps = endpoint_set_new();
	int r;

	if (!d || !eps) {
		diag_list_free(d);
		endpoint_set_free(eps);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	snprintf(owner, sizeof(owner), "file:%s", path);
	r = endpoint_set_load(eps, path, d);
	if (r < 0) {
		log_diag(d, LOG_LEVEL_WARNING);
		log_warn("endpoint file %s rejected; keeping its previous endpoints", path);
		endpoint_set_free(eps);
		diag_list_free(d);
		return 0;
	}
	diag_list_free(d);
	agent_resolve_bridges(ctx, eps);
	r = inventory_set(ctx->inv, owner, eps, ctx->rc);
	if (r > 0)
		log_info("endpoint file %s loaded (%zu endpoints managed)", path,
			 inventory_count(ctx->inv));
	return r < 0 ? r : 0;
}

static bool is_endpoint_file(const char *name)
{
	enum parse_format fmt;

	return name[0] != '.' && parse_format_from_name(name, &fmt) == 0;
}

int src_files_scan(struct src_files *s, struct agent_ctx *ctx)
{
	struct dirent **names = NULL;
	const char **owners;
	char prefix[PATH_MAX + 16];
	int n = scandir(s->dir, &names, NULL, alphasort), r = 0;
	size_t nowners;

	if (n < 0)
		return -errno;
	for (int i = 0; i < n && i < SRC_FILES_MAX; i++)
		if (r == 0 && is_endpoint_file(names[i]->d_name))
			r = load_file(s, names[i]->d_name, ctx);
	/* Files that are gone take their endpoints with them. */
	snprintf(prefix, sizeof(prefix), "file:%s/", s->dir);
	nowners = inventory_owners(ctx->inv, prefix, &owners);
	char **gone = calloc(nowners + 1, sizeof(*gone));
	size_t ngone = 0;

	if (!gone)
		r = -ENOMEM;
	for (size_t k = 0; r == 0 && k < nowners; k++) {
		const char *base = owners[k] + strlen(prefix);
		bool present = false;

		for (int i = 0; i < n && !present; i++)
			present = !strcmp(names[i]->d_name, base);
		if (!present && !(gone[ngone++] = strdup(owners[k])))
			r = -ENOMEM;
	}
	for (size_t k = 0; k < ngone; k++) {
		if (r == 0 && gone[k] && inventory_set(ctx->inv, gone[k], NULL, ctx->rc) > 0)
			log_info("endpoint file %s removed", gone[k] + 5);
		free(gone[k]);
	}
	free(gone);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int forget_file(struct src_files *s, const char *name, struct agent_ctx *ctx)
{
	char owner[PATH_MAX + 16];
	int r;

	snprintf(owner, sizeof(owner), "file:%s/%s", s->dir, name);
	r = inventory_set(ctx->inv, owner, NULL, ctx->rc);
	if (r > 0)
		log_info("endpoint file %s removed", owner + 5);
	return r < 0 ? r : 0;
}

/* Only the files named in the events are read again: the cost of an event does not grow
 * with the number of files. A queue overflow loses names, so then the whole directory. */
int src_files_read(struct src_files *s, struct agent_ctx *ctx)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool rescan = false;
	ssize_t n;
	int r = 0;

	while ((n = read(s->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				rescan = true;
				continue;
			}
			if (!ev->len || !is_endpoint_file(ev->name) || rescan)
				continue;
			if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
				r = forget_file(s, ev->name, ctx);
			else
				r = load_file(s, ev->name, ctx);
			if (r < 0)
				return r;
		}
	}
	if (n < 0 && errno != EAGAIN)
		return -errno;
	if (rescan)
		log_warn("endpoint files: inotify queue overflowed; rescanning %s", s->dir);
	return rescan ? src_files_scan(s, ctx) : 0;
}
