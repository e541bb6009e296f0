/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `netseg cluster status`: nodes, whether they are live, their endpoints and applied policy. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cluster.h"
#include "cluster_ep.h"
#include "etcd_json.h"

/* The node named by KEY under PREFIX (its first path element), or NULL. */
static json_t *node_of(json_t *nodes, const char *key, const char *prefix)
{
	size_t n = strlen(prefix);
	char name[CLUSTER_NODE_MAX + 1];
	const char *rest = key + n, *end;
	json_t *o;

	if (strncmp(key, prefix, n))
		return NULL;
	end = strchr(rest, '/') ? strchr(rest, '/') : rest + strlen(rest);
	if (end == rest || (size_t)(end - rest) > CLUSTER_NODE_MAX)
		return NULL;
	memcpy(name, rest, (size_t)(end - rest));
	name[end - rest] = '\0';
	if (!(o = json_object_get(nodes, name))) {
		o = json_pack("{s:s, s:b, s:i, s:i}", "name", name, "live", 0, "ttl", -1,
			      "endpoints", 0);
		json_object_set_new(nodes, name, o);
	}
	return o;
}

static void lease_ttl(const char *urls, json_t *node, const char *value)
{
	json_t *v = json_loads(value, 0, NULL), *ans = NULL;
	json_t *id = json_object_get(v, "lease");
	char err[256];

	if (json_is_integer(id) &&
	    cluster_call(urls, "/v3/lease/timetolive", json_pack("{s:O}", "ID", id), &ans, err,
			 sizeof(err)) == 0) {
		const char *t = json_string_value(json_object_get(ans, "TTL"));

		json_object_set_new(node, "ttl", json_integer(t ? strtoll(t, NULL, 10) : -1));
		json_object_set_new(node, "live", json_boolean(t && strtoll(t, NULL, 10) > 0));
	}
	json_decref(ans);
	json_decref(v);
}

static void add_kv(const char *urls, json_t *root, json_t *nodes, const struct etcd_kv *kv)
{
	json_t *n;

	if (!strcmp(kv->key, CLUSTER_KEY_POLICY)) {
		json_object_set_new(root, "policy_revision", json_integer(kv->mod_revision));
	} else if ((n = node_of(nodes, kv->key, CLUSTER_KEY_ENDPOINTS))) {
		json_object_set_new(
		    n, "endpoints",
		    json_integer(json_integer_value(json_object_get(n, "endpoints")) + 1));
	} else if ((n = node_of(nodes, kv->key, CLUSTER_KEY_NODES))) {
		json_t *v = json_loads(kv->value, 0, NULL);

		json_object_set(n, "cidrs", json_object_get(v, "cidrs"));
		json_decref(v);
	} else if ((n = node_of(nodes, kv->key, CLUSTER_KEY_LIVE))) {
		lease_ttl(urls, n, kv->value);
	} else if ((n = node_of(nodes, kv->key, CLUSTER_KEY_STATUS))) {
		json_t *v = json_loads(kv->value, 0, NULL);

		json_object_set(n, "applied_revision", json_object_get(v, "policy_revision"));
		json_object_set(n, "applied_at", json_object_get(v, "applied"));
		json_decref(v);
	}
}

static void print_text(json_t *root)
{
	json_t *nodes = json_object_get(root, "nodes"), *n;
	size_t i;

	if (json_object_get(root, "policy_revision"))
		printf("policy: revision %" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(root, "policy_revision")));
	else
		printf("policy: none pushed (agents enforce fail-closed)\n");
	printf("%-20s %-5s %5s %9s %8s  %-20s %s\n", "NODE", "LIVE", "TTL", "ENDPOINTS", "APPLIED",
	       "AT", "CIDRS");
	json_array_foreach (nodes, i, n) {
		char *cidrs =
		    json_dumps(json_object_get(n, "cidrs"), JSON_COMPACT | JSON_ENCODE_ANY);

		printf("%-20s %-5s %5" JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT
		       " %8" JSON_INTEGER_FORMAT "  %-20s %s\n",
		       json_string_value(json_object_get(n, "name")),
		       json_is_true(json_object_get(n, "live")) ? "yes" : "no",
		       json_integer_value(json_object_get(n, "ttl")),
		       json_integer_value(json_object_get(n, "endpoints")),
		       json_integer_value(json_object_get(n, "applied_revision")),
		       json_string_value(json_object_get(n, "applied_at"))
			   ? json_string_value(json_object_get(n, "applied_at"))
			   : "-",
		       cidrs && strcmp(cidrs, "null") ? cidrs : "(not declared)");
		free(cidrs);
	}
}

int cluster_status_cmd(const char *urls, bool json)
{
	struct etcd_range rg = {0};
	json_t *ans = NULL, *root = json_object(), *nodes = json_object(), *list = json_array();
	char err[512], *text = NULL;
	const char *k;
	json_t *v;
	int r;

	r = cluster_call(urls, "/v3/kv/range", etcd_req_range_prefix(CLUSTER_KEY_ROOT, 0), &ans,
			 err, sizeof(err));
	if (r == 0 && !(text = json_dumps(ans, JSON_COMPACT)))
		r = -ENOMEM;
	if (r == 0)
		r = etcd_decode_range(text, strlen(text), &rg, err, sizeof(err));
	if (r < 0) {
		cli_error("cluster status", "%s", err);
		goto out;
	}
	for (size_t i = 0; i < rg.n; i++)
		add_kv(urls, root, nodes, &rg.kvs[i]);
	json_object_foreach (nodes, k, v)
		json_array_append(list, v);
	json_object_set_new(root, "revision", json_integer(rg.hdr.revision));
	json_object_set(root, "nodes", list);
	if (json) {
		char *o = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);

		puts(o ? o : "{}");
		free(o);
	} else {
		print_text(root);
	}
out:
	etcd_range_clear(&rg);
	free(text);
	json_decref(ans);
	json_decref(nodes);
	json_decref(list);
	json_decref(root);
	return r == 0 ? CLI_OK : CLI_FAIL;
}
