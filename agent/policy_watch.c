/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "policy_watch.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "util.h"

struct policy_watch {
	int inotify_fd, timer_fd;
	char dir[PATH_MAX];
	char name[NAME_MAX + 1]; /* "" when the whole directory is the policy */
	bool pending;		 /* a burst of changes is waiting for its reload */
	uint64_t burst_start_ms; /* its first change, while pending */
	bool retry_soon;	 /* the last reload failed: read the next change at once */
	bool lost;		 /* the directory's watch is gone */
};

void policy_watch_free(struct policy_watch *w)
{
	if (!w)
		return;
	if (w->inotify_fd >= 0)
		close(w->inotify_fd);
	if (w->timer_fd >= 0)
		close(w->timer_fd);
	free(w);
}

/* Watch the policy's directory: editors replace files by rename, which a watch on the file
 * itself would lose. */
int policy_watch_open(const char *path, struct policy_watch **ret)
{
	struct policy_watch *w = calloc(1, sizeof(*w));
	char tmp[PATH_MAX];
	struct stat st;
	int r;

	if (!w)
		return -ENOMEM;
	w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->timer_fd < 0 || w->inotify_fd < 0) {
		r = -errno;
		cli_error("agent", "cannot watch the policy for changes: %s", strerror(-r));
		goto fail;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(w->dir, sizeof(w->dir), "%s", path);
	} else {
		/* dirname() and basename() may modify their argument: give each its own copy. */
		snprintf(tmp, sizeof(tmp), "%s", path);
		snprintf(w->dir, sizeof(w->dir), "%s", dirname(tmp));
		snprintf(tmp, sizeof(tmp), "%s", path);
		snprintf(w->name, sizeof(w->name), "%s", basename(tmp));
	}
	if (inotify_add_watch(w->inotify_fd, w->dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0) {
		r = -errno;
		cli_error("agent", "cannot watch %s for policy changes: %s", w->dir, strerror(-r));
		goto fail;
	}
	*ret = w;
	return 0;
fail:
	policy_watch_free(w);
	return r;
}

int policy_watch_inotify_fd(const struct policy_watch *w)
{
	return w->inotify_fd;
}

int policy_watch_timer_fd(const struct policy_watch *w)
{
	return w->timer_fd;
}

/* Each change pushes the reload back by the quiet period, but never past the burst's cap: a
 * trailing-only debounce would wait forever under a writer that never pauses. */
static void policy_watch_arm(struct policy_watch *w)
{
	uint64_t now = now_ms(), due;
	/* After a failed read, the next completed write (close or rename) is read at once: a
	 * fixed delay from that event could keep landing on the writer's bad versions (a writer
	 * alternating on an 18 ms grid and a 100 ms delay stay in step for ever). */
	uint64_t cap = w->retry_soon ? 0 : POLICY_WATCH_MAX_DELAY_MS;
	struct itimerspec its = {0};

	if (!w->pending) {
		w->pending = true;
		w->burst_start_ms = now;
	}
	due = now + POLICY_WATCH_QUIET_MS;
	if (due > w->burst_start_ms + cap)
		due = w->burst_start_ms + cap;
	/* A deadline already past fires at once; 0 would disarm the timer instead. */
	if (due == 0)
		due = 1;
	its.it_value.tv_sec = (time_t)(due / 1000u);
	its.it_value.tv_nsec = (long)(due % 1000u) * 1000000L;
	if (timerfd_settime(w->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_warn("policy watch: cannot arm the reload timer: %s, ignoring",
			 strerror(errno));
}

static bool policy_watch_relevant(struct policy_watch *w, const struct inotify_event *ev)
{
	/* Events were dropped: one of them may have been the policy's. */
	if (ev->mask & IN_Q_OVERFLOW)
		return true;
	if (ev->mask & IN_IGNORED) {
		if (!w->lost)
			log_error(
			    "policy directory %s is gone: changes to the policy are no longer "
			    "seen (restart the agent); still enforcing the last good policy",
			    w->dir);
		w->lost = true;
		return false;
	}
	return !w->name[0] || (ev->len && !strcmp(ev->name, w->name));
}

void policy_watch_read(struct policy_watch *w)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool relevant = false;
	ssize_t n;

	while ((n = read(w->inotify_fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			relevant |= policy_watch_relevant(w, ev);
			p += sizeof(*ev) + ev->len;
		}
	if (relevant)
		policy_watch_arm(w);
}

bool policy_watch_due(struct policy_watch *w)
{
	uint64_t ticks;

	/* timerfd_settime() resets the expiry count: nothing to read means a change re-armed
	 * the timer after it fired, and the new deadline (capped by the burst's start) rules. */
	if (read(w->timer_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return false;
	w->pending = false;
	return true;
}

void policy_watch_result(struct policy_watch *w, bool loaded)
{
	if (w)
		w->retry_soon = !loaded;
}
