/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_AGENT_INTERNAL_H
#define NETSEG_AGENT_INTERNAL_H

/*
 * Shared by the agent's files: agent.c (options, setup, the event loop) and agent_observe.c
 * (decision log, control socket, metrics). Not part of the module's interface.
 */

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "caps.h"
#include "endpoints.h"
#include "metrics.h"

struct nflog_record;

/* What each epoll event is from (its data.u64). */
enum tag {
	T_SIGNAL,
	T_POLICY,
	T_RELOAD,
	T_FILES,
	T_DOCKER,
	T_RTNL,
	T_MONITOR,
	T_NFLOG,
	T_CONTROL,
	T_METRICS,
	T_CLUSTER, /* not counted by source in the metrics */
	T_FQDN
};

struct agent_opts {
	struct cli_opts cli;
	const char *docker_socket;
	bool docker_explicit;
	const char *endpoints_dir;
	const char *control_socket; /* NULL: off ("--control none") */
	const char *metrics_addr;   /* NULL: off */
	bool metrics_allow_remote;
	const char *user;
	const char *cluster; /* etcd URLs: the policy and remote endpoints come from there */
	const char *node;
	int cluster_ttl;
};

struct agent {
	struct agent_opts o;
	struct agent_ctx ctx;
	int epfd, sigfd;
	struct policy_watch *policy_watch;
	struct src_files *files;
	struct src_docker *docker;
	struct nft_monitor *monitor;
	bool stop;
	/* observability */
	struct agent_stats stats;
	struct decisions *decisions;
	struct endpoint_set dview; /* what the decision index borrows; valid while dview_ok */
	bool dview_ok;
	uint64_t dview_generation; /* the inventory generation dview was taken at */
	struct nflog *nflog;
	struct control *control, *metrics;
	bool files_ready;      /* the endpoint directory's inotify fd was readable */
	int64_t files_end_ms;  /* when the last batch of files ended (now_ms) */
	struct caps_user user; /* whom the agent becomes after setup (when started as root) */
	struct src_cluster *cluster;
	struct policy *cluster_first; /* the cluster's policy, before the first install */
	int64_t cluster_first_rev;
	bool started;
	char node[64];
	struct fqdn *fqdn; /* held DNS replies of fqdn rules; NULL when the queue is not ours */
};

int agent_epoll_add(struct agent *a, int fd, enum tag tag);
/* Logs an error and keeps it for `netseg status`. */
__attribute__((format(printf, 2, 3))) void agent_error(struct agent *a, const char *fmt, ...);

/* --- observability (agent_observe.c) --- */
/* The inventory changed: what the decision index borrows may be gone. */
void agent_endpoints_changed(struct agent *a);
/* The endpoint view decisions and fqdn borrow; NULL when it cannot be made. */
const struct endpoint_set *agent_current_view(struct agent *a);
/* nflog_read's callback: one decision record to stdout. */
void agent_on_decision(const struct nflog_record *rec, void *ud);
/* The decision log, the DNS queue and the control socket; failures are reported, not fatal. */
void agent_open_observers(struct agent *a);
/* --metrics, when asked for: 0 or -errno, reported. */
int agent_open_metrics(struct agent *a);

#endif
