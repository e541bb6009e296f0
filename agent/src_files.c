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
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "parse.h"
#include "util.h"

/* The directory's entries; a file is read once its writer closed it or renamed it into place
 * (not IN_CREATE). The SELF events say the watch is lost. */
#define DIR_MASK                                                                                   \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF |               \
	 IN_MOVE_SELF | IN_ONLYDIR)
/* While the directory is missing: its nearest existing ancestor, for it to come back. */
#define UP_MASK (IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct src_files {
	char *dir;
	int fd;
	int wd;			     /* the directory's watch; -1 while it is gone */
	int up_wd;		     /* while it is gone, the nearest existing ancestor's */
	char up_child[NAME_MAX + 1]; /* the entry of that ancestor on the way to the directory */
	/* The events of the last read() not handled yet, and what those handled so far asked
	 * for once the queue is drained. */
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t buf_len, buf_pos;
	bool rescan, lost, rearm;
	/* A scan under way: the listing it reads, and how far. */
	struct dirent **names;
	size_t nnames, scan_pos, scan_before;
};

static int arm(struct src_files *s);

int src_files_open(const char *dir, struct src_files **ret)
{
	struct src_files *s = calloc(1, sizeof(*s));
	size_t len;
	int r;

	if (!s)
		return -ENOMEM;
	s->wd = s->up_wd = -1;
	s->dir = strdup(dir);
	s->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (!s->dir || s->fd < 0) {
		r = s->dir ? -errno : -ENOMEM;
		goto fail;
	}
	/* Owners are "file:DIR/NAME": one spelling of DIR. */
	for (len = strlen(s->dir); len > 1 && s->dir[len - 1] == '/'; len--)
		s->dir[len - 1] = '\0';
	/* At start the directory must be there: a typo should not wait silently. */
	s->wd = inotify_add_watch(s->fd, s->dir, DIR_MASK);
	if (s->wd < 0) {
		r = -errno;
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	src_files_free(s);
	return r;
}

static void scan_cancel(struct src_files *s)
{
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	s->names = NULL;
	s->nnames = s->scan_pos = 0;
}

void src_files_free(struct src_files *s)
{
	if (!s)
		return;
	scan_cancel(s);
	if (s->fd >= 0)
		close(s->fd);
	free(s->dir);
	free(s);
}

bool src_files_busy(const struct src_files *s)
{
	return s->names || s->buf_pos < s->buf_len || s->rescan || s->lost || s->rearm;
}

int src_files_fd(const struct src_files *s)
{
	return s->fd;
}

static int forget_owner(struct agent_ctx *ctx, const char *owner)
{
	int r = inventory_set(ctx->inv, owner, NULL, ctx->rc);

	if (r > 0)
		log_info("endpoint file %s removed", owner + 5);
	return r < 0 ? r : 0;
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
	r = endpoint_set_load_listed(eps, path, d);
	if (r == PARSE_SKIPPED) {
		/* Not a file we read (a FIFO, a directory...): as if it were not there. */
		log_diag(d, LOG_LEVEL_WARNING);
		endpoint_set_free(eps);
		diag_list_free(d);
		return forget_owner(ctx, owner);
	}
	if (r < 0) {
		log_diag(d, LOG_LEVEL_WARNING);
		log_warn("endpoint file %s rejected; keeping its previous endpoints", path);
		endpoint_set_free(eps);
		diag_list_free(d);
		return r == -ENOMEM ? r : 0;
	}
	diag_list_free(d);
	agent_resolve_bridges(ctx, eps);
	r = inventory_set(ctx->inv, owner, eps, ctx->rc);
	if (r > 0)
		log_info("endpoint file %s loaded", path);
	return r < 0 ? r : 0;
}

static bool is_endpoint_file(const char *name)
{
	enum parse_format fmt;

	return name[0] != '.' && parse_format_from_name(name, &fmt) == 0;
}

static int only_endpoint_files(const struct dirent *de)
{
	return is_endpoint_file(de->d_name);
}

/* strcmp, not alphasort's strcoll: the gone-files lookup below bsearches with strcmp. */
static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int dirent_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, (*(const struct dirent *const *)elem)->d_name);
}

/* Owners of this directory whose file is not among NAMES lose their endpoints. */
static int forget_missing(struct src_files *s, struct dirent **names, size_t n,
			  struct agent_ctx *ctx)
{
	char prefix[PATH_MAX + 16];
	const char **owners;
	char **gone;
	size_t nowners, ngone = 0;
	int r = 0;

	snprintf(prefix, sizeof(prefix), "file:%s/", s->dir);
	nowners = inventory_owners(ctx->inv, prefix, &owners);
	gone = calloc(nowners + 1, sizeof(*gone));
	if (!gone)
		return -ENOMEM;
	for (size_t k = 0; k < nowners; k++) {
		const char *base = owners[k] + strlen(prefix);

		if (n && bsearch(base, names, n, sizeof(*names), dirent_key_cmp))
			continue;
		if (!(gone[ngone++] = strdup(owners[k]))) {
			r = -ENOMEM;
			break;
		}
	}
	/* inventory_set() invalidates OWNERS: remove only after the walk. */
	for (size_t k = 0; k < ngone; k++) {
		if (r == 0 && gone[k])
			r = forget_owner(ctx, gone[k]);
		free(gone[k]);
	}
	free(gone);
	return r;
}

/*
 * Starts reading every file: there is no cap on their number, only memory (a file is read
 * and dropped; what stays are its endpoints). Owners whose file is not listed go at once;
 * the listed files are read by scan_step, a batch per wakeup. A file that appears meanwhile
 * comes with its own event, so what is gone is judged now, against this listing.
 */
static int scan_begin(struct src_files *s, struct agent_ctx *ctx)
{
	struct dirent **names = NULL;
	int n, r;

	scan_cancel(s);
	if (s->wd < 0)
		return forget_missing(s, NULL, 0, ctx);
	s->scan_before = inventory_count(ctx->inv);
	n = scandir(s->dir, &names, only_endpoint_files, name_cmp);
	if (n < 0) {
		r = -errno;
		log_error("endpoint files: cannot list %s: %s; keeping its endpoints", s->dir,
			  strerror(-r));
		return r;
	}
	s->names = names;
	s->nnames = (size_t)n;
	r = forget_missing(s, names, s->nnames, ctx);
	if (r < 0) {
		log_error("endpoint files: scan of %s stopped: %s", s->dir, strerror(-r));
		scan_cancel(s);
	}
	return r;
}

static bool file_gone(const struct src_files *s, const char *name)
{
	char path[PATH_MAX + 8];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	return lstat(path, &st) < 0 && errno == ENOENT;
}

/* Reads up to MAX more files of the scan under way, at least one, none after DEADLINE
 * (now_ms); the last batch logs the summary. */
static int scan_step(struct src_files *s, struct agent_ctx *ctx, size_t max, int64_t deadline)
{
	char owner[PATH_MAX + 16];
	int r = 0;

	for (size_t done = 0;
	     r == 0 && done < max && s->scan_pos < s->nnames && (done == 0 || now_ms() < deadline);
	     done++) {
		const char *name = s->names[s->scan_pos++]->d_name;

		/* Removed since the listing: its event forgets it, or already did. */
		if (file_gone(s, name)) {
			snprintf(owner, sizeof(owner), "file:%s/%s", s->dir, name);
			r = forget_owner(ctx, owner);
		} else {
			r = load_file(s, name, ctx);
		}
	}
	if (r < 0)
		log_error("endpoint files: scan of %s stopped: %s", s->dir, strerror(-r));
	else if (s->scan_pos == s->nnames)
		log_info("endpoint files: %zu in %s read; %zu endpoints managed (were %zu)",
			 s->nnames, s->dir, inventory_count(ctx->inv), s->scan_before);
	if (r < 0 || s->scan_pos == s->nnames)
		scan_cancel(s);
	return r;
}

int src_files_scan(struct src_files *s, struct agent_ctx *ctx)
{
	int r = scan_begin(s, ctx);

	while (r == 0 && s->names)
		r = scan_step(s, ctx, SIZE_MAX, INT64_MAX);
	return r;
}

/* The parent of PATH (in place): "a/b" -> "a", "/a" -> "/", "a" -> "."; the last component's
 * name into CHILD. */
static void split_parent(char *path, char child[NAME_MAX + 1])
{
	char *slash = strrchr(path, '/');

	const char *name = slash ? slash + 1 : path;
	size_t len = strnlen(name, NAME_MAX);

	memcpy(child, name, len);
	child[len] = '\0';
	if (!slash)
		strcpy(path, ".");
	else if (slash == path)
		path[1] = '\0';
	else
		*slash = '\0';
}

static void drop_watch(struct src_files *s, int *wd)
{
	if (*wd >= 0)
		(void)inotify_rm_watch(s->fd, *wd);
	*wd = -1;
}

/*
 * Watches the directory, or while it is missing its nearest existing ancestor, so that its
 * coming back is an event. Returns 1 when the directory is (newly or still) watched, 0 when
 * waiting for it, -errno when not even an ancestor can be watched.
 */
static int arm(struct src_files *s)
{
	char up[PATH_MAX], child[NAME_MAX + 1], probe[PATH_MAX + NAME_MAX + 2];
	struct stat st;
	int wd;

	for (int tries = 0; tries < 64; tries++) {
		wd = inotify_add_watch(s->fd, s->dir, DIR_MASK);
		if (wd >= 0) {
			if (s->wd >= 0 && s->wd != wd)
				drop_watch(s, &s->wd);
			s->wd = wd;
			drop_watch(s, &s->up_wd);
			return 1;
		}
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		snprintf(up, sizeof(up), "%s", s->dir);
		do {
			split_parent(up, child);
			wd = inotify_add_watch(s->fd, up, UP_MASK);
		} while (wd < 0 && (errno == ENOENT || errno == ENOTDIR) && strcmp(up, "/") &&
			 strcmp(up, "."));
		if (wd < 0)
			return -errno;
		if (s->up_wd >= 0 && s->up_wd != wd)
			drop_watch(s, &s->up_wd);
		s->up_wd = wd;
		snprintf(s->up_child, sizeof(s->up_child), "%s", child);
		/* Made between our look and the watch? Then no event will say so: look again. */
		snprintf(probe, sizeof(probe), "%s/%s", up, child);
		if (stat(probe, &st) < 0)
			return 0;
	}
	return 0;
}

static void dir_lost(struct src_files *s, struct agent_ctx *ctx)
{
	size_t before = inventory_count(ctx->inv);

	scan_cancel(s);
	drop_watch(s, &s->wd);
	(void)forget_missing(s, NULL, 0, ctx);
	log_warn("endpoints directory %s is gone (removed or moved away): the endpoints of its "
		 "files are removed (%zu -> %zu managed); watching for it to come back",
		 s->dir, before, inventory_count(ctx->inv));
}

int src_files_rescan(struct src_files *s, struct agent_ctx *ctx, const char *why)
{
	bool was = s->wd >= 0;
	int r = arm(s);

	if (r < 0) {
		log_error("endpoint files: cannot watch %s or any parent: %s; send SIGHUP once "
			  "it is back",
			  s->dir, strerror(-r));
		return r;
	}
	if (r == 0 && was)
		dir_lost(s, ctx);
	if (r == 0)
		return 0;
	log_info("endpoint files: %s; rescanning %s", why, s->dir);
	return scan_begin(s, ctx);
}

static int max_queued_events(void)
{
	FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* One event: what it asks for is noted or done; *LOADED counts the files read or forgotten. */
static int handle_event(struct src_files *s, const struct inotify_event *ev, struct agent_ctx *ctx,
			size_t *loaded)
{
	char owner[PATH_MAX + 16];

	if (ev->mask & IN_Q_OVERFLOW) {
		s->rescan = true;
		return 0;
	}
	if (s->up_wd >= 0 && ev->wd == s->up_wd) {
		if ((ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) ||
		    (ev->len && !strcmp(ev->name, s->up_child)))
			s->rearm = true;
		return 0;
	}
	/* Events of a watch dropped earlier (IN_IGNORED among them). */
	if (s->wd < 0 || ev->wd != s->wd || s->lost)
		return 0;
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)) {
		s->lost = true;
		return 0;
	}
	if (!ev->len || !is_endpoint_file(ev->name) || s->rescan)
		return 0;
	(*loaded)++; /* a removal counts too: 10,000 files moved out are 10,000 updates */
	if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
		snprintf(owner, sizeof(owner), "file:%s/%s", s->dir, ev->name);
		return forget_owner(ctx, owner);
	}
	return load_file(s, ev->name, ctx);
}

/* The queue is drained: what the events asked for beyond single files. */
static int drained(struct src_files *s, struct agent_ctx *ctx)
{
	bool rescan = s->rescan, lost = s->lost, rearm = s->rearm;

	s->rescan = s->lost = s->rearm = false;
	if (lost)
		dir_lost(s, ctx);
	if (rescan) {
		log_warn("endpoint files: inotify queue overflowed (fs.inotify.max_queued_events = "
			 "%d): events were lost",
			 max_queued_events());
		return src_files_rescan(s, ctx, "after the overflow");
	}
	if (lost || rearm)
		return src_files_rescan(s, ctx, "it is back");
	return 0;
}

/* Only the files named in the events are read again: the cost of an event does not grow
 * with the number of files. A queue overflow loses names, so then the whole directory. At
 * most a batch of files per call; the events not handled yet wait in buf or in the kernel. */
int src_files_read(struct src_files *s, struct agent_ctx *ctx, int64_t budget_ms)
{
	const size_t batch = SRC_FILES_BATCH;
	int64_t deadline = now_ms() + budget_ms;
	size_t loaded = 0;
	ssize_t n;
	int r = 0;

	while (loaded < batch && (loaded == 0 || now_ms() < deadline)) {
		if (s->buf_pos == s->buf_len) {
			s->buf_pos = s->buf_len = 0;
			n = read(s->fd, s->buf, sizeof(s->buf));
			if (n < 0 && errno != EAGAIN)
				return -errno;
			if (n <= 0) {
				r = drained(s, ctx);
				break;
			}
			s->buf_len = (size_t)n;
		}
		const struct inotify_event *ev = (const void *)(s->buf + s->buf_pos);

		s->buf_pos += sizeof(*ev) + ev->len;
		r = handle_event(s, ev, ctx, &loaded);
		if (r < 0)
			return r;
	}
	/* What is left of the batch goes to the scan under way, if any; never nothing, so a
	 * steady stream of events cannot starve it. */
	if (r == 0 && s->names)
		r = scan_step(s, ctx, loaded < batch / 2 ? batch - loaded : (batch + 1) / 2,
			      deadline);
	return r;
}
