/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_POLICY_WATCH_H
#define NETSEG_POLICY_WATCH_H

/*
 * The policy path on disk: inotify on its directory, and a debounce timer that turns a burst
 * of changes into reloads. A reload is due once the policy has been quiet for
 * POLICY_WATCH_QUIET_MS, and never later than POLICY_WATCH_MAX_DELAY_MS after the first
 * change of a burst, so a file rewritten without pause is still reloaded about once a second
 * and its final content always gets a reload of its own after the last change.
 */

#include <stdbool.h>

#define POLICY_WATCH_QUIET_MS	  100
#define POLICY_WATCH_MAX_DELAY_MS 1000

struct policy_watch;

/* Watches PATH (a file or a directory). 0, or -errno with the reason logged. */
int policy_watch_open(const char *path, struct policy_watch **ret);
void policy_watch_free(struct policy_watch *w);

int policy_watch_inotify_fd(const struct policy_watch *w);
int policy_watch_timer_fd(const struct policy_watch *w);

/* Drains inotify and (re)arms the timer when an event concerns the policy. */
void policy_watch_read(struct policy_watch *w);

/*
 * The timer fd is readable: true when a reload is due now. False for a wakeup the timer no
 * longer stands behind (a change re-armed it after it fired: its new deadline decides).
 */
bool policy_watch_due(struct policy_watch *w);

/*
 * How the reload went. After a failure the next change is retried within the quiet period,
 * not a whole cap later: a policy caught half-written (or one bad version among good ones)
 * is not what the writer is heading for, and a writer that never pauses must not keep the
 * agent reading its bad versions in lockstep.
 */
void policy_watch_result(struct policy_watch *w, bool loaded);

#endif
