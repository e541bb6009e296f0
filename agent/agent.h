/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_AGENT_H
#define NETSEG_AGENT_H

/*
 * `netseg agent`: one epoll loop over signals, the policy path (inotify), endpoint files
 * (inotify), Docker's event stream, rtnetlink and nftables notifications. Every handler
 * changes the inventory or asks for a re-apply; after each wakeup the pending element
 * changes go to the kernel in one transaction, so a burst of events becomes one commit.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "inventory.h"
#include "reconcile.h"

struct rtnl_watch;

/* What the sources share. */
struct agent_ctx {
	struct inventory *inv;
	struct reconcile *rc;
	struct rtnl_watch *rtnl; /* may be NULL before it is open */
	bool need_reapply;	 /* replace our tables with the current desired state */
	/* Interface facts from the kernel for this wakeup: one route socket and one dump of the
	 * default routes for every endpoint of a batch, not one per endpoint (agent_links). */
	struct link_query *links;
};

/* ctx->links, made on first use; NULL if it cannot be. Dropped after every wakeup and when
 * links change (agent_links_drop): it answers for the kernel as it was when made. */
struct link_query *agent_links(struct agent_ctx *ctx);
void agent_links_drop(struct agent_ctx *ctx);

/* Fills in endpoints' bridges from the kernel where their source did not say. */
void agent_resolve_bridges(struct agent_ctx *ctx, struct endpoint_set *eps);

/* --- endpoint files (src_files.c) --- */
struct src_files;
int src_files_open(const char *dir, struct src_files **ret);
void src_files_free(struct src_files *s);
int src_files_fd(const struct src_files *s);
/* Re-reads the directory: changed files replace their endpoints, bad ones keep the old. */
int src_files_scan(struct src_files *s, struct agent_ctx *ctx);
/* Re-arms the watch (the directory may have been removed and re-created) and rescans it;
 * WHY goes into the log line. */
int src_files_rescan(struct src_files *s, struct agent_ctx *ctx, const char *why);
/*
 * Files read per event-loop wakeup, and for how long at least (the agent gives a batch more
 * time when the rest of the loop took more): 10,000 files renamed in at once are read over
 * many wakeups, so `netseg status`, signals and the other sources are served in between
 * (each wakeup's changes commit as one transaction; files not read yet are simply not
 * managed yet, their interfaces stay fail-closed). The time bound matters: a status answer
 * of 10,000 endpoints takes eight wakeups to write (its socket buffer fills), with a batch in
 * each, and a file costs 0.1 ms, or fifty times that under ASan on a loaded machine.
 */
#define SRC_FILES_BATCH	   256
#define SRC_FILES_BATCH_MS 20
/* Reads inotify and the files it names: at most SRC_FILES_BATCH files and BUDGET_MS per
 * call, at least one file (a rescan, when events were lost or the directory came back, goes
 * on in later calls too). */
int src_files_read(struct src_files *s, struct agent_ctx *ctx, int64_t budget_ms);
/* Work is left for the next src_files_read() that no fd will announce: call it at once. */
bool src_files_busy(const struct src_files *s);

/* --- Docker (src_docker.c) --- */
struct src_docker;
int src_docker_open(const char *socket_path, struct src_docker **ret);
void src_docker_free(struct src_docker *s);
/* One fd for the agent's epoll set: readable when the source has work (its stream, its
 * request in flight, its timer). */
int src_docker_fd(const struct src_docker *s);
/* Does what is due without waiting: reads events, advances requests, reconnects. */
int src_docker_dispatch(struct src_docker *s, struct agent_ctx *ctx);
/* Connects and waits up to TIMEOUT_MS for the first full list, so the first install has the
 * containers; 0 if it came, -EAGAIN if the source goes on from the loop. */
int src_docker_start(struct src_docker *s, struct agent_ctx *ctx, int timeout_ms);

int cmd_agent(int argc, char **argv);

#endif
