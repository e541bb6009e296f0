/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What flows between etcd and the inventory. In: other nodes' endpoints become remote
 * endpoints (owner "cluster:NODE/NAME", one per key, so a watch event is one inventory_set()
 * and its element deltas), checked against the cidrs declared for their node; the policy.
 * Out: this node's local endpoints, written under its lease, only the keys that changed, and
 * stale ones deleted, in one transaction.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_int.h"
#include "log.h"

#define OWNER_PREFIX "cluster:"

void cluster_nodes_clear(struct src_cluster *s)
{
	for (size_t i = 0; i < s->nnodes; i++) {
		free(s->nodes[i].name);
		cluster_cidrs_clear(&s->nodes[i].cidrs);
	}
	free(s->nodes);
	s->nodes = NULL;
	s->nnodes = 0;
}

void cluster_pubs_free(struct cluster_pub *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

static const struct cluster_cidrs *node_cidrs(const struct src_cluster *s, const char *node)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (!strcmp(s->nodes[i].name, node))
			return &s->nodes[i].cidrs;
	return NULL;
}

static int node_add(struct src_cluster *s, const struct etcd_kv *kv)
{
	const char *name = kv->key + strlen(CLUSTER_KEY_NODES);
	struct cluster_node *n;
	struct cluster_cidrs c;
	char err[256];

	if (!cluster_node_name_valid(name)) {
		log_warn("cluster: %s: not a node name, ignoring", kv->key);
		return 0;
	}
	if (cluster_node_decode(kv->value, kv->value_len, &c, err, sizeof(err)) < 0) {
		log_warn("cluster: %s: %s; the node's endpoints are refused", kv->key, err);
		return 0;
	}
	if (!(n = realloc(s->nodes, (s->nnodes + 1) * sizeof(*n))) ||
	    !(n[s->nnodes].name = strdup(name))) {
		if (n)
			s->nodes = n;
		cluster_cidrs_clear(&c);
		return -ENOMEM;
	}
	s->nodes = n;
	n[s->nnodes++].cidrs = c;
	return 0;
}

static int remote_forget(struct src_cluster *s, const char *key)
{
	char owner[512];
	int r;

	snprintf(owner, sizeof(owner), OWNER_PREFIX "%s", key + strlen(CLUSTER_KEY_ENDPOINTS));
	r = inventory_set(s->ctx->inv, owner, NULL, s->ctx->rc);
	if (r > 0)
		log_debug("cluster: %s left", owner + strlen(OWNER_PREFIX));
	return r < 0 ? r : 0;
}

/* A PUT of another node's endpoint: into the inventory, or refused (and logged). */
static int remote_put(struct src_cluster *s, const struct etcd_kv *kv)
{
	struct endpoint_set *eps;
	struct endpoint e;
	const struct cluster_cidrs *c;
	char owner[512], err[300];
	int r;

	if (cluster_ep_decode(kv->key, kv->value, kv->value_len, &e, err, sizeof(err)) < 0) {
		log_warn("cluster: %s, ignoring", err);
		return remote_forget(s, kv->key);
	}
	c = node_cidrs(s, e.node);
	if (!cluster_cidrs_cover(c, &e, err, sizeof(err))) {
		log_warn("cluster: endpoint %s of node %s refused: %s%s", e.name, e.node,
			 c ? err : "the node has no declared cidrs",
			 c ? "" : " (netseg cluster add-node)");
		endpoint_clear(&e);
		return remote_forget(s, kv->key);
	}
	if (!(eps = endpoint_set_new()) || !(eps->items = calloc(1, sizeof(e)))) {
		endpoint_set_free(eps);
		endpoint_clear(&e);
		return -ENOMEM;
	}
	eps->items[0] = e;
	eps->n = eps->cap = 1;
	snprintf(owner, sizeof(owner), OWNER_PREFIX "%s", kv->key + strlen(CLUSTER_KEY_ENDPOINTS));
	r = inventory_set(s->ctx->inv, owner, eps, s->ctx->rc);
	if (r > 0)
		log_debug("cluster: %s came", owner + strlen(OWNER_PREFIX));
	return r < 0 ? r : 0;
}

static void policy_put(struct src_cluster *s, const struct etcd_kv *kv)
{
	struct diag_list *d = diag_list_new();
	struct policy *p = NULL;

	if (kv->mod_revision == s->policy_rev || !d) {
		diag_list_free(d);
		return;
	}
	if (cluster_policy_decode(kv->value, kv->value_len, d, &p) < 0) {
		log_diag(d, LOG_LEVEL_ERROR);
		log_error("cluster: policy revision %" PRId64
			  " is not valid; still enforcing the last good policy",
			  kv->mod_revision);
	} else {
		log_diag(d, LOG_LEVEL_WARNING);
		log_info("cluster: policy revision %" PRId64 " (%zu rules)", kv->mod_revision,
			 p->nrules);
		s->hooks.policy(p, kv->mod_revision, s->hooks.ud);
	}
	s->policy_rev = kv->mod_revision;
	diag_list_free(d);
}

/* Our own key from an earlier run of this node: kept in the published list with no value, so
 * the next publish rewrites it (on the new lease) or deletes it. */
static int own_seen(struct src_cluster *s, const char *name)
{
	struct cluster_pub *p = realloc(s->pubs, (s->npubs + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	s->pubs = p;
	if (!(p[s->npubs].name = strdup(name)))
		return -ENOMEM;
	p[s->npubs++].value = NULL;
	return 0;
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct etcd_kv *)a)->key, ((const struct etcd_kv *)b)->key);
}

static bool is_own(const struct src_cluster *s, const char *key, const char **ret_name)
{
	char node[CLUSTER_NODE_MAX + 1];

	if (!cluster_ep_key_split(key, node, sizeof(node)) || strcmp(node, s->node))
		return false;
	*ret_name = strrchr(key, '/') + 1;
	return true;
}

int cluster_apply_range(struct src_cluster *s, const struct etcd_range *rg)
{
	const char **owners;
	size_t n;
	int r = 0;

	cluster_nodes_clear(s);
	for (size_t i = 0; r == 0 && i < rg->n; i++)
		if (!strncmp(rg->kvs[i].key, CLUSTER_KEY_NODES, strlen(CLUSTER_KEY_NODES)))
			r = node_add(s, &rg->kvs[i]);
	/* Everything of ours etcd still has is stale until we write it again. */
	cluster_pubs_free(s->pubs, s->npubs);
	s->pubs = NULL;
	s->npubs = 0;
	bool policy = false;
	for (size_t i = 0; r == 0 && i < rg->n; i++) {
		const struct etcd_kv *kv = &rg->kvs[i];
		const char *name;

		if (!strcmp(kv->key, CLUSTER_KEY_POLICY)) {
			policy = true;
			policy_put(s, kv);
		} else if (is_own(s, kv->key, &name)) {
			r = own_seen(s, name);
		} else if (!strncmp(kv->key, CLUSTER_KEY_ENDPOINTS,
				    strlen(CLUSTER_KEY_ENDPOINTS))) {
			r = remote_put(s, kv);
		}
	}
	if (r < 0)
		return r;
	if (s->npubs) /* qsort() wants a non-NULL array even for none */
		qsort(s->pubs, s->npubs, sizeof(*s->pubs), cluster_pub_cmp);
	if (!policy && !s->warned_no_policy) {
		log_warn("cluster: no policy pushed yet ('netseg cluster push'); enforcing "
			 "fail-closed");
		s->warned_no_policy = true;
	}
	/* Remote endpoints etcd no longer has (they left while we were away); the range is
	 * sorted by key, so each owner costs one binary search. */
	n = inventory_owners(s->ctx->inv, OWNER_PREFIX, &owners);
	char **gone = calloc(n + 1, sizeof(*gone));
	size_t ngone = 0;
	for (size_t i = 0; gone && i < n; i++) {
		struct etcd_kv probe = {0};
		char key[512];

		snprintf(key, sizeof(key), CLUSTER_KEY_ENDPOINTS "%s",
			 owners[i] + strlen(OWNER_PREFIX));
		probe.key = key;
		if (!rg->n || !bsearch(&probe, rg->kvs, rg->n, sizeof(*rg->kvs), cmp_kv))
			gone[ngone++] = strdup(owners[i]);
	}
	/* inventory_set() invalidates OWNERS: remove only after the walk. */
	for (size_t i = 0; i < ngone; i++) {
		if (gone[i] && inventory_set(s->ctx->inv, gone[i], NULL, s->ctx->rc) < 0)
			r = -ENOMEM;
		free(gone[i]);
	}
	free(gone);
	s->local_dirty = true;
	return gone ? r : -ENOMEM;
}

int cluster_apply_event(struct src_cluster *s, const struct etcd_event *ev)
{
	const struct etcd_kv *kv = &ev->kv;
	const char *name;

	if (!strcmp(kv->key, CLUSTER_KEY_POLICY)) {
		if (ev->type == ETCD_PUT)
			policy_put(s, kv);
		else
			log_warn("cluster: the policy was deleted from etcd; still enforcing the "
				 "last one");
		return 0;
	}
	if (!strncmp(kv->key, CLUSTER_KEY_NODES, strlen(CLUSTER_KEY_NODES))) {
		log_info("cluster: %s changed; re-checking every endpoint", kv->key);
		return 1;
	}
	if (is_own(s, kv->key, &name)) {
		/* Deleted behind our back (or our lease expired): write it again. */
		if (ev->type == ETCD_DELETE) {
			for (size_t i = 0; i < s->npubs; i++)
				if (!strcmp(s->pubs[i].name, name)) {
					free(s->pubs[i].value);
					s->pubs[i].value = NULL;
					s->local_dirty = true;
				}
		}
		return 0;
	}
	if (strncmp(kv->key, CLUSTER_KEY_ENDPOINTS, strlen(CLUSTER_KEY_ENDPOINTS)))
		return 0;
	return (ev->type == ETCD_PUT ? remote_put(s, kv) : remote_forget(s, kv->key)) < 0 ? -ENOMEM
											  : 0;
}
