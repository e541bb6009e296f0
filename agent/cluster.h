/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_CLUSTER_H
#define NETSEG_CLUSTER_H

/*
 * Cluster mode over etcd v3 (docs/cluster.md): the CLI's `netseg cluster ...` and the agent's
 * cluster source, which takes the policy from etcd, publishes this node's endpoints under a
 * lease and feeds every other node's endpoints into the inventory as remote endpoints.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

struct agent_ctx;

int cmd_cluster(int argc, char **argv);
int cluster_status_cmd(const char *urls, bool json);
/* Blocking POST of BODY (reference taken) to the first of URLS that answers 200. */
int cluster_call(const char *urls, const char *path, json_t *body, json_t **ret, char *err,
		 size_t errlen);

/* --- the agent's source (src_cluster.c) --- */
struct src_cluster;
struct src_cluster_hooks {
	/* A policy came (the first, or a newer one): take it over or free it. */
	void (*policy)(struct policy *p, int64_t revision, void *ud);
	void *ud;
};
int src_cluster_open(const char *urls, const char *node, int ttl_s,
		     const struct src_cluster_hooks *hooks, struct src_cluster **ret);
void src_cluster_free(struct src_cluster *s);
int src_cluster_fd(const struct src_cluster *s);
int src_cluster_dispatch(struct src_cluster *s, struct agent_ctx *ctx);
/* Waits for the first full read (policy and endpoints), as long as it makes progress within
 * TIMEOUT_MS; 0 when it came. */
int src_cluster_start(struct src_cluster *s, struct agent_ctx *ctx, int timeout_ms);
/* The local endpoints changed: publish them again (from the next dispatch). */
void src_cluster_local_changed(struct src_cluster *s);
/* The policy revision now enforced, for /netseg/v1/status/NODE. */
void src_cluster_applied(struct src_cluster *s, int64_t revision);

#endif
