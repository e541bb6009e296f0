/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cluster_ep.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define MAX_LIST  64  /* labels, networks, addresses of one endpoint */
#define MAX_FILES 256 /* files of a stored policy */
#define MAX_STR	  253 /* a name, label, image or network */

bool cluster_node_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CLUSTER_NODE_MAX || name[0] == '.' || name[0] == '-')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       n;
}

char *cluster_ep_encode(const struct endpoint *e)
{
	json_t *labels = json_object(), *nets = json_array(), *addrs = json_array(), *o;
	char text[INET6_ADDRSTRLEN], *out;

	for (size_t i = 0; i < e->nlabels; i++)
		json_object_set_new(labels, e->labels[i].key, json_string(e->labels[i].value));
	for (size_t i = 0; i < e->nnetworks; i++)
		json_array_append_new(nets, json_string(e->networks[i]));
	for (size_t i = 0; i < e->naddrs; i++)
		if (inet_ntop(e->addrs[i].family, e->addrs[i].addr, text, sizeof(text)))
			json_array_append_new(addrs, json_string(text));
	o = json_pack("{s:s, s:o, s:s*, s:o, s:o}", "name", e->name, "labels", labels, "image",
		      e->image, "networks", nets, "addresses", addrs);
	out = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return out;
}

bool cluster_ep_key_split(const char *key, char *node, size_t nodelen)
{
	size_t plen = strlen(CLUSTER_KEY_ENDPOINTS);
	const char *rest = key + plen, *slash;

	if (strncmp(key, CLUSTER_KEY_ENDPOINTS, plen) || !(slash = strchr(rest, '/')) ||
	    slash == rest || !slash[1] || strchr(slash + 1, '/') ||
	    (size_t)(slash - rest) >= nodelen)
		return false;
	memcpy(node, rest, (size_t)(slash - rest));
	node[slash - rest] = '\0';
	return cluster_node_name_valid(node);
}

static bool str_ok(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= MAX_STR &&
	       strlen(json_string_value(v)) == json_string_length(v);
}

static int decode_lists(const json_t *o, struct endpoint *e, const char **what)
{
	const json_t *labels = json_object_get(o, "labels"), *nets = json_object_get(o, "networks"),
		     *addrs = json_object_get(o, "addresses"), *v;
	const char *k;
	size_t i;

	*what = "labels";
	if (labels && (!json_is_object(labels) || json_object_size(labels) > MAX_LIST))
		return -EINVAL;
	if (labels && !(e->labels = calloc(json_object_size(labels) + 1, sizeof(*e->labels))))
		return -ENOMEM;
	json_object_foreach ((json_t *)labels, k, v) {
		if (!*k || strlen(k) > MAX_STR || !str_ok(v))
			return -EINVAL;
		e->labels[e->nlabels].key = strdup(k);
		e->labels[e->nlabels++].value = strdup(json_string_value(v));
	}
	*what = "networks";
	if (nets && (!json_is_array(nets) || json_array_size(nets) > MAX_LIST))
		return -EINVAL;
	if (nets && !(e->networks = calloc(json_array_size(nets) + 1, sizeof(char *))))
		return -ENOMEM;
	json_array_foreach (nets, i, v) {
		if (!str_ok(v))
			return -EINVAL;
		e->networks[e->nnetworks++] = strdup(json_string_value(v));
	}
	*what = "addresses";
	if (!json_is_array(addrs) || json_array_size(addrs) > MAX_LIST)
		return -EINVAL;
	if (!(e->addrs = calloc(json_array_size(addrs) + 1, sizeof(*e->addrs))))
		return -ENOMEM;
	json_array_foreach (addrs, i, v) {
		struct endpoint_addr *a = &e->addrs[e->naddrs];

		if (!str_ok(v))
			return -EINVAL;
		if (inet_pton(AF_INET, json_string_value(v), a->addr) == 1)
			a->family = AF_INET;
		else if (inet_pton(AF_INET6, json_string_value(v), a->addr) == 1)
			a->family = AF_INET6;
		else
			return -EINVAL;
		e->naddrs++;
	}
	return 0;
}

int cluster_ep_decode(const char *key, const char *buf, size_t len, struct endpoint *ret, char *err,
		      size_t errlen)
{
	struct endpoint e = {0};
	char node[CLUSTER_NODE_MAX + 1];
	const char *what = "value";
	json_error_t je;
	json_t *o = NULL;
	int r = -EINVAL;

	if (!cluster_ep_key_split(key, node, sizeof(node))) {
		snprintf(err, errlen, "not an endpoint key");
		return -EINVAL;
	}
	if (len > CLUSTER_MAX_VALUE || !(o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je)) ||
	    !json_is_object(o))
		goto out;
	what = "name";
	if (!str_ok(json_object_get(o, "name")))
		goto out;
	what = "image";
	if (json_is_null(json_object_get(o, "image")))
		json_object_del(o, "image");
	if (json_object_get(o, "image") && !str_ok(json_object_get(o, "image")))
		goto out;
	if (!(e.name = strdup(json_string_value(json_object_get(o, "name")))) ||
	    !(e.node = strdup(node)) ||
	    (json_object_get(o, "image") &&
	     !(e.image = strdup(json_string_value(json_object_get(o, "image")))))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = decode_lists(o, &e, &what)) < 0)
		goto out;
	for (size_t i = 0; i < e.nlabels; i++)
		if (!e.labels[i].key || !e.labels[i].value)
			r = -ENOMEM;
	for (size_t i = 0; i < e.nnetworks; i++)
		if (!e.networks[i])
			r = -ENOMEM;
	if (r == 0) {
		*ret = e;
		e = (struct endpoint){0};
	}
out:
	if (r == -EINVAL)
		snprintf(err, errlen, "%s: bad %s%s%s", key, what, o ? "" : ": ",
			 o ? "" : (len > CLUSTER_MAX_VALUE ? "too large" : je.text));
	else if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	endpoint_clear(&e);
	json_decref(o);
	return r;
}

void cluster_cidrs_clear(struct cluster_cidrs *c)
{
	if (c) {
		free(c->c);
		*c = (struct cluster_cidrs){0};
	}
}

static int cidrs_add(struct cluster_cidrs *c, const char *text, char *err, size_t errlen)
{
	struct policy_cidr pc;

	if (c->n == CLUSTER_MAX_CIDRS) {
		snprintf(err, errlen, "more than %d cidrs", CLUSTER_MAX_CIDRS);
		return -EINVAL;
	}
	if (!strchr(text, '/') || policy_cidr_parse(text, &pc) < 0) {
		snprintf(err, errlen, "'%s' is not a cidr (ADDRESS/PREFIX)", text);
		return -EINVAL;
	}
	policy_cidr_mask(&pc);
	struct policy_cidr *n = realloc(c->c, (c->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->c = n;
	c->c[c->n++] = pc;
	return 0;
}

int cluster_cidrs_parse(const char *list, struct cluster_cidrs *ret, char *err, size_t errlen)
{
	struct cluster_cidrs c = {0};
	char *copy = strdup(list), *save = NULL;
	int r = copy ? 0 : -ENOMEM;

	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && r == 0;
	     t = strtok_r(NULL, ",", &save))
		r = cidrs_add(&c, t, err, errlen);
	free(copy);
	if (r == 0 && c.n == 0) {
		snprintf(err, errlen, "no cidr given");
		r = -EINVAL;
	}
	if (r < 0) {
		cluster_cidrs_clear(&c);
		return r;
	}
	*ret = c;
	return 0;
}

char *cluster_node_encode(const struct cluster_cidrs *cidrs)
{
	json_t *a = json_array(), *o;
	char text[POLICY_CIDR_STRLEN], *out;

	for (size_t i = 0; i < cidrs->n; i++)
		json_array_append_new(
		    a, json_string(policy_cidr_format(&cidrs->c[i], text, sizeof(text))));
	o = json_pack("{s:o}", "cidrs", a);
	out = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return out;
}

int cluster_node_decode(const char *buf, size_t len, struct cluster_cidrs *ret, char *err,
			size_t errlen)
{
	struct cluster_cidrs c = {0};
	json_t *o = len <= CLUSTER_MAX_VALUE ? json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL)
					     : NULL,
	       *a = json_object_get(o, "cidrs"), *v;
	size_t i;
	int r = json_is_array(a) ? 0 : -EINVAL;

	if (r < 0)
		snprintf(err, errlen, "not a node record ({\"cidrs\": [...]})");
	json_array_foreach (a, i, v) {
		if (r < 0)
			break;
		if (!json_is_string(v)) {
			snprintf(err, errlen, "cidr %zu is not a string", i);
			r = -EINVAL;
		} else {
			r = cidrs_add(&c, json_string_value(v), err, errlen);
		}
	}
	json_decref(o);
	if (r < 0) {
		cluster_cidrs_clear(&c);
		return r;
	}
	*ret = c;
	return 0;
}

bool cluster_cidrs_cover(const struct cluster_cidrs *cidrs, const struct endpoint *e, char *why,
			 size_t len)
{
	for (size_t i = 0; i < e->naddrs; i++) {
		struct policy_cidr a = {.family = e->addrs[i].family,
					.prefix = e->addrs[i].family == AF_INET6 ? 128 : 32};
		bool in = false;
		char text[INET6_ADDRSTRLEN];

		memcpy(a.addr, e->addrs[i].addr, sizeof(a.addr));
		for (size_t k = 0; cidrs && k < cidrs->n && !in; k++)
			in = policy_cidr_contains(&cidrs->c[k], &a);
		if (!in) {
			inet_ntop(a.family, a.addr, text, sizeof(text));
			snprintf(why, len, "address %s is outside the cidrs declared for node %s",
				 text, e->node ? e->node : "?");
			return false;
		}
	}
	return true;
}

char *cluster_policy_encode(const struct cluster_policy_file *files, size_t n)
{
	json_t *a = json_array(), *o;
	char *out;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s%}", "name", files[i].name, "text",
						   files[i].text, files[i].len));
	o = json_pack("{s:o}", "files", a);
	out = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return out;
}

int cluster_policy_decode(const char *buf, size_t len, struct diag_list *diags, struct policy **ret)
{
	json_t *o = len <= CLUSTER_MAX_POLICY ? json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL)
					      : NULL,
	       *a = json_object_get(o, "files"), *f;
	struct node **roots = NULL;
	size_t n = 0, i;
	int r = json_is_array(a) && json_array_size(a) <= MAX_FILES ? 0 : -EINVAL;
	struct loc none = {.file = diag_intern_file(diags, "etcd:" CLUSTER_KEY_POLICY)};

	if (r < 0)
		diag_error(diags, none, NULL, "%s: not a stored policy", CLUSTER_KEY_POLICY);
	if (r == 0 && !(roots = calloc(json_array_size(a) + 1, sizeof(*roots))))
		r = -ENOMEM;
	json_array_foreach (a, i, f) {
		const json_t *name = json_object_get(f, "name"), *text = json_object_get(f, "text");
		enum parse_format fmt;
		char fname[512];
		int q;

		if (r == -ENOMEM)
			break;
		if (!json_is_string(name) || !json_is_string(text) ||
		    parse_format_from_name(json_string_value(name), &fmt) < 0) {
			diag_error(diags, none, NULL, "%s: file %zu: bad name or text",
				   CLUSTER_KEY_POLICY, i);
			r = -EINVAL;
			continue;
		}
		snprintf(fname, sizeof(fname), "etcd:%s", json_string_value(name));
		q = parse_buffer(json_string_value(text), json_string_length(text), fname, fmt,
				 diags, &roots[n]);
		if (q == 0)
			n++;
		else if (r == 0 || q == -ENOMEM)
			r = q;
	}
	if (r == 0)
		r = policy_from_nodes(roots, n, diags, ret);
	for (i = 0; i < n; i++)
		node_free(roots[i]);
	free(roots);
	json_decref(o);
	return r;
}
