/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * This node's endpoints out to etcd: the keys that changed are written under the node's
 * lease and the stale ones deleted, in one transaction (etcd allows CLUSTER_TXN_OPS
 * operations in one; more go in consecutive transactions). A restarted agent's first publish
 * rewrites its earlier keys on the new lease in the same transaction that deletes the stale
 * ones, so other nodes never see its containers vanish.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_int.h"
#include "log.h"

#define CLUSTER_TXN_OPS 120 /* etcd's --max-txn-ops defaults to 128 */

int cluster_pub_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cluster_pub *)a)->name, ((const struct cluster_pub *)b)->name);
}

/* This node's enforced local endpoints, encoded, sorted by name, one per name. */
static int local_set(struct src_cluster *s, struct cluster_pub **ret, size_t *ret_n)
{
	struct endpoint_set view;
	struct cluster_pub *p;
	size_t n = 0;
	int r = inventory_view(s->ctx->inv, &view);

	if (r < 0)
		return r;
	if (!(p = calloc(view.n + 1, sizeof(*p)))) {
		inventory_view_free(&view);
		return -ENOMEM;
	}
	for (size_t i = 0; i < view.n; i++) {
		const struct endpoint *e = &view.items[i];

		if (e->node || !e->name || strchr(e->name, '/'))
			continue;
		p[n].name = strdup(e->name);
		p[n].value = cluster_ep_encode(e);
		if (!p[n].name || !p[n++].value)
			r = -ENOMEM;
	}
	inventory_view_free(&view);
	if (r < 0) {
		cluster_pubs_free(p, n);
		return r;
	}
	qsort(p, n, sizeof(*p), cluster_pub_cmp);
	/* Two sources naming a container alike: the first in name order is published. */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && !strcmp(p[k - 1].name, p[i].name)) {
			free(p[i].name);
			free(p[i].value);
			continue;
		}
		p[k++] = p[i];
	}
	*ret = p;
	*ret_n = k;
	return 0;
}

static json_t *key_b64(const char *fmt, const char *a, const char *b)
{
	char key[600], *t;
	json_t *j;

	snprintf(key, sizeof(key), fmt, a, b);
	t = etcd_b64_encode(key, strlen(key));
	j = t ? json_string(t) : NULL;
	free(t);
	return j;
}

static void put_op(json_t *ops, struct src_cluster *s, const char *name, const char *value)
{
	char key[600];

	snprintf(key, sizeof(key), CLUSTER_KEY_ENDPOINTS "%s/%s", s->node, name);
	json_array_append_new(ops, json_pack("{s:o}", "request_put",
					     etcd_req_put(key, value, strlen(value), s->lease)));
}

/* The operations taking etcd from PUBS to CUR (both sorted by name). */
static json_t *diff_ops(struct src_cluster *s, const struct cluster_pub *cur, size_t ncur)
{
	json_t *ops = json_array();
	size_t i = 0, k = 0;

	while (ops && (i < ncur || k < s->npubs)) {
		int c = i == ncur ? 1 : k == s->npubs ? -1 : strcmp(cur[i].name, s->pubs[k].name);

		if (c < 0) {
			put_op(ops, s, cur[i].name, cur[i].value);
			i++;
		} else if (c > 0) {
			json_array_append_new(ops,
					      json_pack("{s:{s:o}}", "request_delete_range", "key",
							key_b64(CLUSTER_KEY_ENDPOINTS "%s/%s",
								s->node, s->pubs[k].name)));
			k++;
		} else {
			if (s->republish_all || !s->pubs[k].value ||
			    strcmp(s->pubs[k].value, cur[i].value))
				put_op(ops, s, cur[i].name, cur[i].value);
			i++;
			k++;
		}
	}
	return ops;
}

static void send_next(struct src_cluster *s);

static void pub_done(int result, long status, const char *body, size_t len, const char *err,
		     void *ud)
{
	struct src_cluster *s = ud;
	struct etcd_header h;
	bool ok = false;
	char why[300], msg[400];

	s->pub = NULL;
	if (result == 0 && status != 200 && strstr(body, "lease not found")) {
		/* Expired before etcd saw this write: start over on a new lease. */
		json_decref(s->pending_ops);
		s->pending_ops = NULL;
		cluster_pubs_free(s->sending, s->nsending);
		s->sending = NULL;
		s->nsending = 0;
		cluster_lease_lost(s);
		return;
	}
	if (result < 0 || status != 200 ||
	    etcd_decode_txn(body, len, &ok, &h, why, sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "publishing our endpoints failed (%.300s)",
			 result < 0	 ? err
			 : status != 200 ? body
					 : why);
		cluster_lost(s, msg);
		return;
	}
	if (json_array_size(s->pending_ops)) {
		send_next(s);
		return;
	}
	json_decref(s->pending_ops);
	s->pending_ops = NULL;
	cluster_pubs_free(s->pubs, s->npubs);
	s->pubs = s->sending;
	s->npubs = s->nsending;
	s->sending = NULL;
	s->nsending = 0;
	s->republish_all = false;
	log_debug("cluster: published %zu endpoints (revision %" PRId64 ")", s->npubs, h.revision);
	/* Changes that came while this was in flight. */
	cluster_publish(s);
	cluster_publish_status(s);
}

static void send_next(struct src_cluster *s)
{
	json_t *chunk = json_array();
	size_t n = json_array_size(s->pending_ops);

	for (size_t i = 0; i < n && i < CLUSTER_TXN_OPS; i++)
		json_array_append(chunk, json_array_get(s->pending_ops, i));
	for (size_t i = 0; i < n && i < CLUSTER_TXN_OPS; i++)
		json_array_remove(s->pending_ops, 0);
	if (cluster_post(s, "/v3/kv/txn", json_pack("{s:o}", "success", chunk), 1u << 20, pub_done,
			 &s->pub) < 0)
		cluster_lost(s, "cannot publish our endpoints");
}

void cluster_publish(struct src_cluster *s)
{
	struct cluster_pub *cur = NULL;
	size_t ncur = 0;
	json_t *ops;

	if (!s->connected || !s->lease || s->pub || !s->ctx ||
	    (!s->local_dirty && !s->republish_all))
		return;
	s->local_dirty = false;
	if (local_set(s, &cur, &ncur) < 0 || !(ops = diff_ops(s, cur, ncur))) {
		cluster_pubs_free(cur, ncur);
		log_error("cluster: out of memory publishing our endpoints");
		return;
	}
	if (s->republish_all) {
		char key[256];
		json_t *v = json_pack("{s:I}", "lease", (json_int_t)s->lease);
		char *t = json_dumps(v, JSON_COMPACT);

		snprintf(key, sizeof(key), CLUSTER_KEY_LIVE "%s", s->node);
		json_array_append_new(ops, json_pack("{s:o}", "request_put",
						     etcd_req_put(key, t, strlen(t), s->lease)));
		free(t);
		json_decref(v);
	}
	if (!json_array_size(ops)) {
		json_decref(ops);
		cluster_pubs_free(s->pubs, s->npubs);
		s->pubs = cur;
		s->npubs = ncur;
		return;
	}
	if (json_array_size(ops) > CLUSTER_TXN_OPS)
		log_warn("cluster: %zu changes exceed etcd's %d operations per transaction; "
			 "writing them in several",
			 json_array_size(ops), CLUSTER_TXN_OPS);
	s->sending = cur;
	s->nsending = ncur;
	s->pending_ops = ops;
	send_next(s);
}

static void st_done(int result, long status, const char *body, size_t len, const char *err,
		    void *ud)
{
	struct src_cluster *s = ud;

	(void)body;
	(void)len;
	s->st = NULL;
	if (result < 0 || status != 200)
		log_warn("cluster: writing our status failed (%s), ignoring",
			 result < 0 ? err : "HTTP error");
	else
		cluster_publish_status(s);
}

void cluster_publish_status(struct src_cluster *s)
{
	char key[256], when[32], *t;
	time_t now = time(NULL);
	struct tm tm;
	json_t *v;

	if (!s->connected || s->st || !s->status_dirty)
		return;
	s->status_dirty = false;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	v = json_pack("{s:I, s:s, s:I}", "policy_revision", (json_int_t)s->applied_rev, "applied",
		      when, "endpoints", (json_int_t)s->npubs);
	t = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	snprintf(key, sizeof(key), CLUSTER_KEY_STATUS "%s", s->node);
	if (!t || cluster_post(s, "/v3/kv/txn",
			       json_pack("{s:[{s:o}]}", "success", "request_put",
					 etcd_req_put(key, t, strlen(t), 0)),
			       1u << 20, st_done, &s->st) < 0)
		log_warn("cluster: cannot write our status, ignoring");
	free(t);
}
