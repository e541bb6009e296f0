/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_CLUSTER_INT_H
#define NETSEG_CLUSTER_INT_H

/* The cluster source's state, shared by src_cluster.c (the connection: lease, read, watch,
 * reconnects) and cluster_sync.c (what flows: remote endpoints in, local endpoints out). */

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "cluster.h"
#include "cluster_ep.h"
#include "etcd_json.h"
#include "http.h"

struct cluster_node {
	char *name;
	struct cluster_cidrs cidrs;
};

/* One published endpoint key: NAME under our node, and the value last written. */
struct cluster_pub {
	char *name, *value;
};

struct src_cluster {
	char **urls;
	size_t nurls, cur;
	char *node;
	int ttl;
	struct src_cluster_hooks hooks;
	struct agent_ctx *ctx;
	struct http *http;
	int epfd, timerfd;

	bool connected; /* read done and watching */
	bool synced;	/* at least one full read since the start */
	bool resync;	/* the watch ended on purpose: read everything again */
	struct http_req *req, *watch, *ka, *pub, *st;
	struct etcd_stream stream;
	struct etcd_range reading; /* the pages of a full read so far */
	int64_t lease;
	uint64_t cluster_id;
	int64_t rev, policy_rev, applied_rev;
	bool warned_no_policy;
	int backoff_ms;
	uint64_t retry_at, keepalive_at; /* now_usec(); 0: not due */

	struct cluster_node *nodes;
	size_t nnodes;

	uint64_t local_gen;
	bool local_dirty, republish_all, status_dirty;
	struct cluster_pub *pubs; /* sorted by name */
	size_t npubs;
	struct cluster_pub *sending; /* the set the publish in flight writes */
	size_t nsending;
	json_t *pending_ops; /* txn operations still to send for it */
};

void cluster_arm(struct src_cluster *s);
void cluster_lost(struct src_cluster *s, const char *why);
/* Our lease is gone (etcd says so): a new one, and every key written again. */
void cluster_lease_lost(struct src_cluster *s);
/* The etcd call PATH with BODY (consumed) on the current URL. */
int cluster_post(struct src_cluster *s, const char *path, json_t *body, size_t max,
		 http_done_fn done, struct http_req **ret);

/* cluster_sync.c */
void cluster_nodes_clear(struct src_cluster *s);
int cluster_apply_range(struct src_cluster *s, const struct etcd_range *rg);
/* One watch event; 1 when it asks for a full re-read (a node's cidrs changed). */
int cluster_apply_event(struct src_cluster *s, const struct etcd_event *ev);
void cluster_publish(struct src_cluster *s);
void cluster_publish_status(struct src_cluster *s);
void cluster_pubs_free(struct cluster_pub *p, size_t n);
int cluster_pub_cmp(const void *a, const void *b);

#endif
